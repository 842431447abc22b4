//! Who is asking: the admin token, per-agent tokens and signed approval links (reference §3.2).
//!
//! The threat: an agent that approves its own asks, or reads the audit trail, or changes the
//! policy. The admin token can do everything; an agent's token only what its scopes say, as its
//! agent, until it expires or is revoked; a signed link only resolves the one approval it names,
//! until its `exp`, and cannot make a rule of it. Tokens travel in `Authorization: Bearer`, never
//! in a URL (except for the event stream, which browsers cannot give headers: upstream's one
//! exception). Every comparison with a secret is constant-time.

use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};
use std::time::SystemTime;

use crate::http::{Exchange, Reply};
use crate::secrets;
use crate::tokens::{self, Scope, StoredToken};

/// Upstream's messages.
pub const MSG_MISSING: &str = "missing authorization token";
pub const MSG_INVALID: &str = "invalid authorization token";
pub const MSG_REVOKED: &str = "authorization token has been revoked";
pub const MSG_EXPIRED: &str = "authorization token has expired";

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Admin,
    Agent(Box<StoredToken>),
}

impl Principal {
    pub fn has(&self, scope: Scope) -> bool {
        match self {
            Principal::Admin => true,
            Principal::Agent(t) => t.has(scope),
        }
    }

    /// Upstream's `credential_owner`.
    pub fn owner(&self) -> String {
        match self {
            Principal::Admin => "admin".into(),
            Principal::Agent(t) => format!("token:{}", t.id),
        }
    }
}

/// The server's view of the credentials, refreshed when their files change.
pub struct Auth {
    home: PathBuf,
    /// Set from `RAMPART_TOKEN`: the file is not consulted.
    pinned: bool,
    admin: RwLock<String>,
    tokens: RwLock<(Option<SystemTime>, Vec<StoredToken>)>,
    admin_mtime: RwLock<Option<SystemTime>>,
    signing_key: Vec<u8>,
}

impl Auth {
    /// Resolves the admin token (creating `~/.rampart/token` if needed), the per-agent tokens and
    /// the signing key; any file with loose permissions is an error.
    pub fn load(home: &Path) -> Result<Auth, String> {
        let pinned = std::env::var(secrets::ENV_TOKEN).is_ok_and(|t| !t.trim().is_empty());
        let admin = secrets::admin_token(home)?;
        if pinned {
            // Upstream persists the resolved token before reporting ready.
            if secrets::read_secret(&secrets::token_path(home))?.is_none() {
                secrets::write_secret(&secrets::token_path(home), &admin)?;
            }
        }
        let list = tokens::load(home)?;
        let signing_key = secrets::signing_key(home)?;
        Ok(Auth {
            home: home.to_path_buf(),
            pinned,
            admin: RwLock::new(admin),
            tokens: RwLock::new((mtime(&tokens::store_path(home)), list)),
            admin_mtime: RwLock::new(mtime(&secrets::token_path(home))),
            signing_key,
        })
    }

    /// Re-reads the token files that changed (`rampart token rotate|create|revoke` take effect
    /// without a restart). A file that became unreadable or loose keeps the previous view; the
    /// error is returned for the log.
    pub fn refresh(&self) -> Result<(), String> {
        let store = tokens::store_path(&self.home);
        let now = mtime(&store);
        let stale = self.tokens.read().unwrap_or_else(PoisonError::into_inner).0 != now;
        if stale {
            let list = tokens::load(&self.home)?;
            *self.tokens.write().unwrap_or_else(PoisonError::into_inner) = (now, list);
        }
        if !self.pinned {
            let path = secrets::token_path(&self.home);
            let now = mtime(&path);
            let stale = *self
                .admin_mtime
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                != now;
            if stale {
                if let Some(token) = secrets::read_secret(&path)? {
                    *self.admin.write().unwrap_or_else(PoisonError::into_inner) = token;
                }
                *self
                    .admin_mtime
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = now;
            }
        }
        Ok(())
    }

    /// The principal of `ex`, which must hold `scope`: 401 without a valid token, 403 without
    /// the scope. `query_token` accepts `?token=` (the event stream only).
    pub fn check(
        &self,
        ex: &Exchange,
        scope: Scope,
        query_token: bool,
    ) -> Result<Principal, Reply> {
        let presented = bearer(ex).or_else(|| {
            query_token
                .then(|| ex.query("token").map(str::to_string))
                .flatten()
        });
        let Some(presented) = presented.filter(|t| !t.is_empty()) else {
            return Err(Reply::error(401, MSG_MISSING));
        };
        let principal = self.identify(&presented)?;
        if !principal.has(scope) {
            return Err(Reply::error(
                403,
                format!("this endpoint requires {} scope", scope.as_str()),
            ));
        }
        Ok(principal)
    }

    fn identify(&self, presented: &str) -> Result<Principal, Reply> {
        let admin = self.admin.read().unwrap_or_else(PoisonError::into_inner);
        if secrets::constant_time_eq(presented.as_bytes(), admin.as_bytes()) {
            return Ok(Principal::Admin);
        }
        drop(admin);
        let mut tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        if tokens::lookup(&tokens.1, presented).is_none() && presented.starts_with(tokens::PREFIX) {
            // A token made a moment ago (`rampart token create`) works at once.
            drop(tokens);
            let _ = self.refresh();
            tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        }
        let Some(token) = tokens::lookup(&tokens.1, presented) else {
            return Err(Reply::error(401, MSG_INVALID));
        };
        if token.revoked {
            return Err(Reply::error(401, MSG_REVOKED));
        }
        if token.expired(crate::engine::now_ms()) {
            return Err(Reply::error(401, MSG_EXPIRED));
        }
        Ok(Principal::Agent(Box::new(token.clone())))
    }

    /// The signature of a link that resolves approval `id` until `exp` (Unix seconds).
    pub fn sign(&self, id: &str, exp: i64) -> String {
        secrets::hex(&secrets::hmac_sha256(
            &self.signing_key,
            format!("{id}:{exp}").as_bytes(),
        ))
    }

    /// Whether `?sig=&exp=` sign a link for approval `id` that has not expired.
    pub fn signed_link(&self, id: &str, sig: &str, exp: &str) -> bool {
        let Ok(exp) = exp.parse::<i64>() else {
            return false;
        };
        exp > crate::engine::now_unix()
            && secrets::constant_time_eq(self.sign(id, exp).as_bytes(), sig.as_bytes())
    }
}

fn bearer(ex: &Exchange) -> Option<String> {
    let value = ex.header("Authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
