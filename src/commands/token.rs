//! `rampart token show|rotate|create|list|revoke|info`: the admin token (`~/.rampart/token`) and
//! per-agent tokens (`~/.rampart/tokens.json`), as upstream. A running server picks up changes
//! without a restart.

use std::process::ExitCode;

use clap::Subcommand;
use rampart_server::tokens::{self, NewToken, Scope, StoredToken};
use rampart_server::{engine::now_ms, secrets};

#[derive(Subcommand)]
pub enum Command {
    /// Print the admin token (created if missing).
    Show,
    /// Replace the admin token with a new one.
    Rotate,
    /// Create a token for one agent; it is printed once.
    Create {
        #[arg(long)]
        agent: String,
        /// Decide this token's calls with a built-in profile (standard, paranoid, yolo).
        #[arg(long, default_value = "")]
        policy: String,
        /// Scopes, comma-separated: eval, admin.
        #[arg(long, default_value = "eval")]
        scope: String,
        /// Lifetime (e.g. 24h, 30m); default: no expiry.
        #[arg(long)]
        expires: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List per-agent tokens.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token (its id, masked prefix or value).
    Revoke { token: String },
    /// Details of a token (its id, masked prefix or value).
    Info { token: String },
}

pub fn run(command: &Command) -> Result<ExitCode, String> {
    let home = crate::source::user_home().ok_or("HOME is not set")?;
    match command {
        Command::Show => println!("{}", secrets::admin_token(&home)?),
        Command::Rotate => {
            println!("{}", secrets::rotate_admin_token(&home)?);
            eprintln!("the old admin token no longer works; a running server picks the new one up");
        }
        Command::Create {
            agent,
            policy,
            scope,
            expires,
            note,
        } => {
            let scopes = scope
                .split(',')
                .map(|w| Scope::parse(w).ok_or_else(|| format!("unknown scope {w:?}: eval, admin")))
                .collect::<Result<Vec<_>, _>>()?;
            let now = now_ms();
            let expires_at_ms = match expires {
                None => None,
                Some(text) => {
                    let d = rampart_server::routes::tool::parse_duration(text)
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| format!("invalid --expires {text:?}: use e.g. 24h, 30m"))?;
                    Some(now.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
                }
            };
            let new = NewToken {
                agent: agent.clone(),
                policy: policy.clone(),
                scopes,
                expires_at_ms,
                note: note.clone(),
            };
            let (token, stored) = tokens::create(&home, &new, now)?;
            println!("{token}");
            eprintln!(
                "created {} for agent {} (scopes {}); the token is shown only now",
                stored.id,
                stored.agent,
                scopes_text(&stored)
            );
        }
        Command::List { json } => {
            let list = tokens::load(&home)?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string(&list).map_err(|e| e.to_string())?
                );
            } else if list.is_empty() {
                println!(
                    "no per-agent tokens (create one with `rampart token create --agent NAME`)"
                );
            } else {
                for t in &list {
                    println!(
                        "{}  {:<16} {:<12} {:<10} {:<8} {}",
                        t.id,
                        t.masked_prefix,
                        t.agent,
                        scopes_text(t),
                        state(t),
                        t.expires_at.as_deref().unwrap_or("never")
                    );
                }
            }
        }
        Command::Revoke { token } => {
            let t = tokens::revoke(&home, token)?;
            println!("revoked {} ({}, agent {})", t.id, t.masked_prefix, t.agent);
        }
        Command::Info { token } => {
            let t = tokens::find(&home, token)?;
            println!("id:         {}\nprefix:     {}\nagent:      {}\nscopes:     {}\npolicy:     {}\ncreated:    {}\nexpires:    {}\nstate:      {}{}",
                t.id, t.masked_prefix, t.agent, scopes_text(&t),
                if t.policy.is_empty() { "(the policy in force)" } else { &t.policy },
                t.created_at, t.expires_at.as_deref().unwrap_or("never"), state(&t),
                if t.note.is_empty() { String::new() } else { format!("\nnote:       {}", t.note) });
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn scopes_text(t: &StoredToken) -> String {
    t.scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn state(t: &StoredToken) -> &'static str {
    if t.revoked {
        "revoked"
    } else if t.expired(now_ms()) {
        "expired"
    } else {
        "active"
    }
}
