//! Per-agent tokens (`~/.rampart/tokens.json`, upstream's `internal/token/store.go`): a token per
//! agent, with scopes and an expiry, that the server checks and `rampart token` manages.
//!
//! The threat: one stolen credential that can do everything, forever. So an agent's token can
//! only evaluate (scope `eval`) unless made otherwise, it names its agent (which overrides what
//! the request claims) and may expire or be revoked; and the file keeps only each token's sha256,
//! so reading it does not yield a usable token. The file is a secret file like the admin token
//! (0600, refused when looser): its hashes are enough to tell a guess from a token offline.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::secrets;

/// The prefix of every per-agent token.
pub const PREFIX: &str = "rampart_";

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Evaluate calls: `/v1/tool`, `/v1/preflight`, `/v1/hooks`.
    Eval,
    /// Everything else: approvals, rules, policy, audit, events.
    Admin,
}

impl Scope {
    pub fn parse(word: &str) -> Option<Scope> {
        match word.trim() {
            "eval" => Some(Scope::Eval),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Eval => "eval",
            Scope::Admin => "admin",
        }
    }
}

/// One stored token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    pub id: String,
    /// sha256 of the token, hex.
    pub hash: String,
    /// The token's first characters, for people (`rampart_3f9a…`).
    pub masked_prefix: String,
    pub agent: String,
    /// A built-in profile this token's calls are decided with instead of the policy in force
    /// (empty: the policy in force).
    #[serde(default)]
    pub policy: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    /// RFC 3339; none: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl StoredToken {
    /// Unix milliseconds after which it no longer works.
    pub fn expires_ms(&self) -> Option<u64> {
        self.expires_at
            .as_deref()
            .and_then(rampart_audit::Timestamp::parse_rfc3339)
            .map(rampart_audit::Timestamp::unix_ms)
    }

    pub fn expired(&self, now_ms: u64) -> bool {
        self.expires_ms().is_some_and(|t| now_ms >= t)
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct File {
    tokens: Vec<StoredToken>,
}

/// `~/.rampart/tokens.json`.
pub fn store_path(home: &Path) -> PathBuf {
    home.join(".rampart").join("tokens.json")
}

/// The stored tokens (none when the file does not exist).
pub fn load(home: &Path) -> Result<Vec<StoredToken>, String> {
    let path = store_path(home);
    match secrets::read_secret(&path)? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str::<File>(&text)
            .map(|f| f.tokens)
            .map_err(|e| format!("{}: {e}", path.display())),
    }
}

fn save(home: &Path, tokens: &[StoredToken]) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&File {
        tokens: tokens.to_vec(),
    })
    .map_err(|e| e.to_string())?;
    secrets::write_secret(&store_path(home), &text)
}

/// What `rampart token create` asks for.
#[derive(Clone, Debug, Default)]
pub struct NewToken {
    pub agent: String,
    pub policy: String,
    pub scopes: Vec<Scope>,
    pub expires_at_ms: Option<u64>,
    pub note: String,
}

/// Creates a token; returns it (shown once, never stored) and its record.
pub fn create(home: &Path, new: &NewToken, now_ms: u64) -> Result<(String, StoredToken), String> {
    if new.agent.trim().is_empty() {
        return Err("a token needs an agent (--agent NAME)".into());
    }
    if !new.policy.is_empty() && rampart_policies::profile(&new.policy).is_none() {
        return Err(format!(
            "unknown profile {:?} (built-in profiles: {})",
            new.policy,
            rampart_policies::profiles().map(|p| p.name).join(", ")
        ));
    }
    let mut tokens = load(home)?;
    let token = format!("{PREFIX}{}", secrets::random_hex(24)?);
    let scopes = if new.scopes.is_empty() {
        vec![Scope::Eval]
    } else {
        new.scopes.clone()
    };
    let stored = StoredToken {
        id: format!("tok_{}", secrets::random_hex(6)?),
        hash: secrets::sha256_hex(&token),
        masked_prefix: format!("{}…", token.get(..PREFIX.len() + 6).unwrap_or(PREFIX)),
        agent: new.agent.trim().to_string(),
        policy: new.policy.clone(),
        scopes,
        created_at: rfc3339(now_ms),
        expires_at: new.expires_at_ms.map(rfc3339),
        revoked: false,
        note: new.note.clone(),
    };
    tokens.push(stored.clone());
    save(home, &tokens)?;
    Ok((token, stored))
}

/// Revokes the token whose id, masked prefix or value is `which`; returns its record.
pub fn revoke(home: &Path, which: &str) -> Result<StoredToken, String> {
    let mut tokens = load(home)?;
    let token = tokens
        .iter_mut()
        .find(|t| matches(t, which))
        .ok_or_else(|| format!("no token {which:?} (rampart token list shows them)"))?;
    token.revoked = true;
    let revoked = token.clone();
    save(home, &tokens)?;
    Ok(revoked)
}

/// The record of the token whose id, masked prefix or value is `which`.
pub fn find(home: &Path, which: &str) -> Result<StoredToken, String> {
    load(home)?
        .into_iter()
        .find(|t| matches(t, which))
        .ok_or_else(|| format!("no token {which:?} (rampart token list shows them)"))
}

fn matches(t: &StoredToken, which: &str) -> bool {
    t.id == which
        || t.masked_prefix.trim_end_matches('…') == which.trim_end_matches('…')
        || (which.starts_with(PREFIX)
            && secrets::constant_time_eq(t.hash.as_bytes(), secrets::sha256_hex(which).as_bytes()))
}

/// The record of a presented token, if it is one of the store's (revoked and expired included:
/// the caller words those refusals).
pub fn lookup<'a>(tokens: &'a [StoredToken], presented: &str) -> Option<&'a StoredToken> {
    if !presented.starts_with(PREFIX) {
        return None;
    }
    let hash = secrets::sha256_hex(presented);
    tokens
        .iter()
        .find(|t| secrets::constant_time_eq(t.hash.as_bytes(), hash.as_bytes()))
}

pub fn rfc3339(ms: u64) -> String {
    rampart_audit::Timestamp::from_unix_ms(ms).rfc3339_nano()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_lookup_revoke() {
        let home = std::env::temp_dir().join(format!("rampart-tokens-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let (token, stored) = create(
            &home,
            &NewToken {
                agent: "codex".into(),
                expires_at_ms: Some(2_000),
                ..NewToken::default()
            },
            1_000,
        )
        .unwrap();
        assert!(token.starts_with(PREFIX));
        assert_eq!(stored.scopes, [Scope::Eval]);
        let all = load(&home).unwrap();
        let found = lookup(&all, &token).unwrap();
        assert_eq!(found.id, stored.id);
        assert!(!found.expired(1_999) && found.expired(2_000));
        assert!(lookup(&all, "rampart_nope").is_none());
        assert!(!std::fs::read_to_string(store_path(&home))
            .unwrap()
            .contains(&token));
        assert!(revoke(&home, &stored.id).unwrap().revoked);
        assert!(load(&home).unwrap()[0].revoked);
        assert!(create(&home, &NewToken::default(), 0).is_err());
        let _ = std::fs::remove_dir_all(&home);
    }
}
