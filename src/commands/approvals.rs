//! `rampart pending`, `rampart approve ID [--persist]`, `rampart deny ID [--reason R]`: the
//! approval queue of a running `rampart serve`, over its API with the admin token.

use std::process::ExitCode;

use rampart_server::client::Client;
use serde_json::{json, Value};

/// Where the server is and how to authenticate.
#[derive(clap::Args)]
pub struct Api {
    /// The server's URL (default RAMPART_URL, else http://127.0.0.1:9090).
    #[arg(long, value_name = "URL")]
    pub api: Option<String>,
    /// The admin token (default RAMPART_TOKEN, else ~/.rampart/token).
    #[arg(long)]
    pub token: Option<String>,
}

#[derive(clap::Args)]
pub struct PendingArgs {
    #[command(flatten)]
    pub api: Api,
    /// Print the server's JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ResolveArgs {
    /// The approval's id (rampart pending lists them).
    pub id: String,
    /// Approve: also allow this exact call from now on (auto-allowed.yaml).
    #[arg(long)]
    pub persist: bool,
    /// Deny: why (recorded in the audit trail).
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub api: Api,
}

fn client(api: &Api) -> Result<Client, String> {
    let home = crate::source::user_home().ok_or("HOME is not set")?;
    Client::new(api.api.as_deref(), api.token.as_deref(), &home)
}

fn error_of(status: u16, body: &Value) -> String {
    let message = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unexpected reply");
    format!("the server answered {status}: {message}")
}

pub fn pending(args: &PendingArgs) -> Result<ExitCode, String> {
    let (status, body) = client(&args.api)?.call("GET", "/v1/approvals", None)?;
    if status != 200 {
        return Err(error_of(status, &body));
    }
    if args.json {
        println!("{body}");
        return Ok(ExitCode::SUCCESS);
    }
    let items = body
        .get("approvals")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if items.is_empty() {
        println!("no pending approvals");
    }
    for a in &items {
        let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let what = if s("command").is_empty() {
            s("message")
        } else {
            s("command")
        };
        println!(
            "{}  {:<8} {:<14} {}  (expires {})",
            s("id"),
            s("tool"),
            s("agent"),
            what,
            s("expires_at")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn resolve(args: &ResolveArgs, approved: bool) -> Result<ExitCode, String> {
    let mut body =
        json!({"approved": approved, "resolved_by": "cli", "persist": args.persist && approved});
    if let (Some(reason), Some(obj)) = (&args.reason, body.as_object_mut()) {
        obj.insert("reason".into(), json!(reason));
    }
    let path = format!("/v1/approvals/{}/resolve", args.id);
    let (status, reply) = client(&args.api)?.call("POST", &path, Some(&body))?;
    if status != 200 {
        return Err(error_of(status, &reply));
    }
    let verb = if approved { "approved" } else { "denied" };
    let persisted = reply
        .get("persisted")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    println!(
        "{} {verb}{}",
        args.id,
        if persisted {
            " (and allowed from now on: auto-allowed.yaml)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}
