//! `rampart status [--json]`: what protects this machine right now. The hosts that are set up
//! (and how), the policy in force (its sources, the bundle on disk, whether that bundle is the
//! one the sources compile to), whether the server runs, and today's decisions by outcome.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use rampart_audit::read;
use rampart_audit::Timestamp;
use rampart_integrations::http::{self, Route};
use rampart_integrations::setup::{self, Context, HostState, Status, DEFAULT_SERVE_URL};
use serde::Serialize;
use serde_json::{json, Value};

use super::setup::{describe, state_json};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub json: bool,
    /// The server to look for.
    #[arg(long, default_value = DEFAULT_SERVE_URL, value_name = "URL")]
    pub serve_url: String,
    /// The audit directory (default: ~/.rampart/audit).
    #[arg(long, value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
}

/// How long a status probe waits for the server on loopback.
const PROBE: Duration = Duration::from_millis(300);

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let ctx = Context::from_env().map_err(|e| e.to_string())?;
    let hosts: Vec<HostState> = setup::inspect_all(&ctx)
        .into_iter()
        .filter(|s| s.status != Status::NotInstalled)
        .collect();
    let policy = policy_in_force(config);
    let server = server(&args.serve_url, ctx.token().as_deref());
    let audit_dir = super::audit::audit_dir(args.audit_dir.clone())?;
    let today = today(&audit_dir);
    if args.json {
        let report = json!({
            "hosts": hosts.iter().map(state_json).collect::<Vec<_>>(),
            "policy": policy,
            "server": server,
            "today": today,
        });
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    print_hosts(&hosts);
    print_policy(&policy);
    print_server(&server);
    print_today(&today);
    Ok(ExitCode::SUCCESS)
}

fn print_hosts(hosts: &[HostState]) {
    if hosts.is_empty() {
        println!("hosts:   none set up (`rampart setup` lists the agents found here)");
        return;
    }
    println!("hosts:");
    for state in hosts {
        println!("  {:<12} {}", state.host.name(), describe(state));
    }
}

fn print_policy(policy: &PolicyStatus) {
    match &policy.error {
        Some(error) => println!("policy:  {}: DOES NOT COMPILE: {error}", policy.sources),
        None => println!(
            "policy:  {} ({} policies, {} rules)",
            policy.sources,
            policy.policies.unwrap_or_default(),
            policy.rules.unwrap_or_default()
        ),
    }
    let Some(bundle) = &policy.bundle else {
        println!(
            "bundle:  none on disk (the preload library maps one; `rampart preload` writes it)"
        );
        return;
    };
    let age = policy.bundle_age_seconds.map_or("?".to_string(), age);
    let fresh = match policy.fresh {
        Some(true) => "fresh",
        Some(false) => "STALE: the sources changed since (`rampart doctor --fix` rewrites it)",
        None => "freshness unknown",
    };
    println!("bundle:  {}, written {age} ago, {fresh}", bundle.display());
}

fn print_server(server: &ServerStatus) {
    match (server.running, &server.mode) {
        (true, Some(mode)) => println!("server:  running at {} (mode {mode})", server.url),
        (true, None) => println!("server:  running at {}", server.url),
        (false, _) => println!("server:  not running at {}", server.url),
    }
}

fn print_today(today: &Today) {
    let by: Vec<String> = today
        .by_action
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    match (&today.error, today.total) {
        (Some(error), _) => println!("today:   cannot read the audit trail: {error}"),
        (None, 0) => println!("today:   no decisions yet ({})", today.date),
        (None, total) => println!("today:   {total} decisions: {}", by.join(", ")),
    }
}

/// `3m`, `2h`, `5d`.
fn age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// The policy in force, as `status` reports it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PolicyStatus {
    pub sources: String,
    pub policies: Option<usize>,
    pub rules: Option<usize>,
    /// Why the sources do not compile.
    pub error: Option<String>,
    /// The cached bundle of the sources (`~/.rampart/cache/<key>.bin`), when there is one.
    pub bundle: Option<PathBuf>,
    pub bundle_age_seconds: Option<u64>,
    /// Whether the cached bundle still describes its sources (the next call maps it as it is).
    pub fresh: Option<bool>,
}

/// The policy in force: its sources, whether they compile, and the cached bundle.
pub fn policy_in_force(config: Option<PathBuf>) -> PolicyStatus {
    let sources = crate::source::discover(config);
    let mut out = PolicyStatus {
        sources: sources.describe(),
        ..PolicyStatus::default()
    };
    match sources.load() {
        Ok(set) => {
            out.policies = Some(set.policies.len());
            out.rules = Some(set.policies.iter().map(|p| p.rules.len()).sum());
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    if let Some(cache) = sources.cache_state() {
        if let Some(built) = cache.built {
            let age = SystemTime::now().duration_since(built).unwrap_or_default();
            out.bundle_age_seconds = Some(age.as_secs());
            out.fresh = Some(cache.fresh);
            out.bundle = Some(cache.file);
        }
    }
    out
}

/// Whether the server runs.
#[derive(Clone, Debug, Serialize)]
pub struct ServerStatus {
    pub url: String,
    pub running: bool,
    /// Its mode, when the token lets us ask (`GET /v1/status`).
    pub mode: Option<String>,
}

/// Whether the server answers on `url`, and its mode when the token lets us ask.
pub fn server(url: &str, token: Option<&str>) -> ServerStatus {
    let base = url.trim_end_matches('/').to_string();
    let running = http::server_runs(&base, PROBE);
    let mode = match (running, token) {
        (true, Some(token)) => server_mode(&base, token),
        _ => None,
    };
    ServerStatus {
        url: base,
        running,
        mode,
    }
}

fn server_mode(base: &str, token: &str) -> Option<String> {
    let auth = format!("Bearer {token}");
    let answer = http::get(
        &format!("{base}/v1/status"),
        &[("Authorization", &auth)],
        PROBE,
        Route::Direct,
    )
    .ok()
    .filter(|a| a.is_success())?;
    let status: Value = serde_json::from_slice(&answer.body).ok()?;
    status.get("mode")?.as_str().map(str::to_string)
}

/// Today's decisions.
#[derive(Clone, Debug, Serialize)]
pub struct Today {
    /// UTC, `YYYY-MM-DD`.
    pub date: String,
    pub total: u64,
    pub by_action: BTreeMap<String, u64>,
    pub error: Option<String>,
}

/// Today's (UTC) decisions by outcome.
fn today(dir: &Path) -> Today {
    let date = Timestamp::now().date();
    let mut day = String::new();
    date.push_iso(&mut day);
    match read::stats_between(dir, date, date) {
        Ok(stats) => Today {
            date: day,
            total: stats.total_events,
            by_action: stats.by_action,
            error: None,
        },
        Err(e) => Today {
            date: day,
            total: 0,
            by_action: BTreeMap::new(),
            error: Some(e.to_string()),
        },
    }
}
