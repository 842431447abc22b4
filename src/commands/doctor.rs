//! `rampart doctor [--json] [--fix]`: every check that can fail, each problem with the exact
//! command that fixes it; `--fix` applies the fixes that are safe.
//!
//! The threat: protection that quietly stopped. A hook whose binary moved, hooks a settings UI
//! dropped, a policy that no longer compiles, an audit directory that cannot be written (in
//! enforce mode every call is then denied) or whose chain no longer verifies, a token others can
//! read. None of these announces itself; doctor looks for each.
//!
//! Safe fixes are the ones that only restore what setup or rampart itself wrote: setting a host
//! up again as it was set up, re-pointing the stable link, rewriting the cached bundle, and
//! tightening the permissions of rampart's own token and audit directory. A policy that does
//! not compile or a broken chain needs a person, so doctor only says where to look.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use rampart_audit::verify::{verify, VerifyOptions};
use rampart_integrations::http::server_runs;
use rampart_integrations::setup::{
    self, binary, Context, Host, HostState, Status, DEFAULT_SERVE_URL,
};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub json: bool,
    /// Apply the fixes that are safe, then check again.
    #[arg(long)]
    pub fix: bool,
    /// The audit directory (default: ~/.rampart/audit).
    #[arg(long, value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    fn word(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

/// A fix doctor may apply by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Repair {
    /// Set the host up again as it is set up now.
    Setup(Host),
    /// Point the stable link at this binary.
    Link,
    /// Rebuild the cached bundle from the sources.
    Bundle,
    /// Give a file or directory of rampart's these permissions.
    Mode(PathBuf, u32),
}

#[derive(Clone, Debug)]
struct Check {
    name: String,
    level: Level,
    detail: String,
    /// The command that fixes it.
    fix: Option<String>,
    repair: Option<Repair>,
}

impl Check {
    fn ok(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            level: Level::Ok,
            detail: detail.into(),
            fix: None,
            repair: None,
        }
    }

    fn problem(
        level: Level,
        name: &str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            name: name.to_string(),
            level,
            detail: detail.into(),
            fix: Some(fix.into()),
            repair: None,
        }
    }

    fn repaired_by(mut self, repair: Repair) -> Check {
        self.repair = Some(repair);
        self
    }
}

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let ctx = Context::from_env().map_err(|e| e.to_string())?;
    let audit_dir = super::audit::audit_dir(args.audit_dir.clone())?;
    let mut checks = gather(&ctx, config.clone(), &audit_dir);
    let mut fixed = Vec::new();
    if args.fix {
        fixed = apply(&ctx, config.clone(), &checks);
        checks = gather(&ctx, config, &audit_dir);
    }
    let failed = checks.iter().any(|c| c.level == Level::Fail);
    if args.json {
        let report = json!({
            "ok": !failed,
            "checks": checks.iter().map(|c| json!({
                "check": c.name, "status": c.level.word(), "detail": c.detail,
                "fix": c.fix, "fixable": c.repair.is_some(),
            })).collect::<Vec<_>>(),
            "fixed": fixed,
        });
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print(&checks, &fixed);
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print(checks: &[Check], fixed: &[String]) {
    for line in fixed {
        println!("fixed: {line}");
    }
    for check in checks {
        let mark = match check.level {
            Level::Ok => "✓",
            Level::Warn => "!",
            Level::Fail => "✗",
        };
        println!("{mark} {}: {}", check.name, check.detail);
        if let (Some(fix), false) = (&check.fix, check.level == Level::Ok) {
            println!("    fix: {fix}");
        }
    }
    let problems: Vec<&Check> = checks.iter().filter(|c| c.level != Level::Ok).collect();
    let fixable = problems.iter().filter(|c| c.repair.is_some()).count();
    match (problems.len(), fixable) {
        (0, _) => println!("no problems found"),
        (n, 0) => println!("{n} problem(s)"),
        (n, f) => println!("{n} problem(s); `rampart doctor --fix` repairs {f} of them"),
    }
}

fn gather(ctx: &Context, config: Option<PathBuf>, audit_dir: &Path) -> Vec<Check> {
    let hosts: Vec<HostState> = setup::inspect_all(ctx)
        .into_iter()
        .filter(|s| s.status != Status::NotInstalled || s.recorded)
        .collect();
    let mut checks = Vec::new();
    if hosts.is_empty() {
        checks.push(Check::problem(
            Level::Warn,
            "hosts",
            "no agent host is set up: no agent's tool calls reach rampart",
            "rampart setup   (lists the hosts found here; then rampart setup <host>)",
        ));
    } else {
        checks.push(link_check(ctx, &hosts));
        checks.extend(linkage_check(ctx));
    }
    checks.extend(hosts.iter().map(host_check));
    checks.extend(hosts.iter().filter_map(server_check));
    checks.push(policy_check(config.clone()));
    checks.extend(bundle_check(config));
    checks.push(audit_dir_check(audit_dir));
    checks.extend(audit_chain_check(audit_dir));
    checks.push(token_check(ctx));
    checks.push(preload_check());
    checks
}

fn link_check(ctx: &Context, hosts: &[HostState]) -> Check {
    let stable = ctx.stable_binary();
    let fix = hosts
        .first()
        .map_or("rampart setup <host>".to_string(), HostState::setup_command);
    let Some(problem) = setup::link_problem(ctx) else {
        let to = std::fs::read_link(&stable).map_or("a file, not setup's link".into(), |t| {
            t.display().to_string()
        });
        return Check::ok("stable binary", format!("{} -> {to}", stable.display()));
    };
    let detail = format!("{problem}: every hook fails to start");
    if binary::state(&stable) == binary::LinkState::NotALink {
        // Not setup's: only the user may replace it.
        return Check::problem(
            Level::Fail,
            "stable binary",
            detail,
            format!("{fix} --force"),
        );
    }
    Check::problem(Level::Fail, "stable binary", detail, fix).repaired_by(Repair::Link)
}

/// Whether the binary the hooks start is the static build: a dynamically linked one works, but
/// every tool call pays for the loader (benches/RESULTS.md, "the build users install").
fn linkage_check(ctx: &Context) -> Option<Check> {
    let binary = std::fs::canonicalize(ctx.stable_binary()).ok()?;
    let check = match binary::linkage(&binary)? {
        binary::Linkage::Static => Check::ok("hook binary", format!("{}: static", binary.display())),
        binary::Linkage::Dynamic => Check::problem(
            Level::Warn,
            "hook binary",
            format!(
                "{} is dynamically linked: each tool call waits about 0.7 ms more for it to start than for the static build",
                binary.display()
            ),
            format!(
                "scripts/dist.sh (in rampart's sources), then install target/dist/rampart in place of {}",
                binary.display()
            ),
        ),
    };
    Some(check)
}

fn host_check(state: &HostState) -> Check {
    let name = state.host.name();
    let fix = state.setup_command();
    let mut problems: Vec<String> = state.status.reasons().to_vec();
    for program in state.programs.iter().chain(&state.mcp.programs) {
        if !Path::new(program).is_absolute() {
            problems.push(format!(
                "a hook runs `{program}` by name; hosts run hooks without your login PATH"
            ));
        } else if !binary::is_executable(Path::new(program)) {
            problems.push(format!(
                "a hook runs {program}, which is missing or not executable"
            ));
        }
    }
    problems.dedup();
    if problems.is_empty() {
        let mut detail = format!("hooks in {}", state.settings.display());
        if state.mcp.wrapped > 0 {
            detail.push_str(&format!(", {} MCP server(s) wrapped", state.mcp.wrapped));
        }
        return Check::ok(name, detail);
    }
    Check::problem(Level::Fail, name, problems.join("; "), fix)
        .repaired_by(Repair::Setup(state.host))
}

/// An http hook needs its server.
fn server_check(state: &HostState) -> Option<Check> {
    let base = state
        .http_base
        .as_deref()
        .filter(|_| state.transport == Some("http"))?;
    let name = format!("{} server", state.host.name());
    if server_runs(base, Duration::from_millis(300)) {
        return Some(Check::ok(&name, format!("{base} answers")));
    }
    let consequence = if state.host == Host::Copilot {
        "Copilot lets every call through unchecked"
    } else {
        "the host blocks every call"
    };
    let unit = systemd_unit();
    let fix = if unit.as_ref().is_some_and(|u| u.exists()) {
        "systemctl --user start rampart-serve.service".to_string()
    } else if base == DEFAULT_SERVE_URL {
        "rampart serve".to_string()
    } else {
        format!("rampart serve   (or point the hooks elsewhere: rampart setup {} --http --serve-url URL)", state.host)
    };
    Some(Check::problem(
        Level::Fail,
        &name,
        format!("its hooks post to {base}, where no server answers: {consequence}"),
        fix,
    ))
}

fn policy_check(config: Option<PathBuf>) -> Check {
    let sources = crate::source::discover(config);
    let compiled = sources
        .load()
        .and_then(|set| rampart_compiler::compile(&set).map(|_| set));
    match compiled {
        Ok(set) => Check::ok(
            "policy",
            format!(
                "{} compiles ({} policies)",
                sources.describe(),
                set.policies.len()
            ),
        ),
        Err(e) => Check::problem(
            Level::Fail,
            "policy",
            format!("{} does not compile: {e}", sources.describe()),
            "rampart policy check   (then fix the file and line it names)",
        ),
    }
}

/// The cached bundle of the sources, when there is one: does it still describe them?
fn bundle_check(config: Option<PathBuf>) -> Option<Check> {
    let cache = crate::source::discover(config).cache_state()?;
    cache.built?;
    let path = cache.file.display();
    Some(if cache.fresh {
        Check::ok("policy bundle", format!("{path} is current"))
    } else {
        Check::problem(
            Level::Warn,
            "policy bundle",
            format!(
                "{path} is older than its sources: it is rebuilt on the next call, and preloaded \
                 programs decide with the old policy until then"
            ),
            "rampart doctor --fix   (rebuilds it)",
        )
        .repaired_by(Repair::Bundle)
    })
}

fn audit_dir_check(dir: &Path) -> Check {
    let name = "audit directory";
    let Ok(meta) = std::fs::metadata(dir) else {
        return Check::ok(
            name,
            format!(
                "{} is not there yet (the first decision creates it)",
                dir.display()
            ),
        );
    };
    let probe = dir.join(format!(".rampart-doctor-{}", std::process::id()));
    let writable = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    let repair = Repair::Mode(dir.to_path_buf(), 0o700);
    if !writable {
        return Check::problem(
            Level::Fail,
            name,
            format!(
                "{} is not writable: in enforce mode every call is denied",
                dir.display()
            ),
            format!("chmod 700 {}", dir.display()),
        )
        .repaired_by(repair);
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Check::problem(
            Level::Warn,
            name,
            format!("{} can be read by other users", dir.display()),
            format!("chmod 700 {}", dir.display()),
        )
        .repaired_by(repair);
    }
    Check::ok(name, format!("{} is writable", dir.display()))
}

fn audit_chain_check(dir: &Path) -> Option<Check> {
    if !dir.exists() {
        return None;
    }
    Some(match verify(dir, &VerifyOptions::default()) {
        Ok(report) => Check::ok(
            "audit chain",
            format!("{} events across {} files verify", report.events, report.files),
        ),
        Err(e) => Check::problem(
            Level::Fail,
            "audit chain",
            e.to_string(),
            format!("rampart audit verify --audit-dir {}   (shows the break; the log is evidence: keep it)", dir.display()),
        ),
    })
}

fn token_check(ctx: &Context) -> Check {
    let path = ctx.rampart_home.join("token");
    let Ok(meta) = std::fs::metadata(&path) else {
        return Check::ok(
            "server token",
            "none (the server creates one when it first starts)",
        );
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Check::problem(
            Level::Fail,
            "server token",
            format!(
                "{} has mode {mode:o}: other users can approve calls with it",
                path.display()
            ),
            format!("chmod 600 {}", path.display()),
        )
        .repaired_by(Repair::Mode(path, 0o600));
    }
    Check::ok("server token", format!("{} is 0600", path.display()))
}

fn preload_check() -> Check {
    match super::preload::find_library() {
        Some(path) => Check::ok("preload library", path.display().to_string()),
        None => Check::problem(
            Level::Warn,
            "preload library",
            format!(
                "{} is not next to the rampart binary, in ~/.rampart/lib or /usr/local/lib: `rampart preload` cannot run",
                super::preload::LIBRARY
            ),
            format!(
                "mkdir -p ~/.rampart/lib && cp <build dir>/{} ~/.rampart/lib/   (cargo build puts it next to the binary)",
                super::preload::LIBRARY
            ),
        ),
    }
}

/// `$XDG_CONFIG_HOME/systemd/user/rampart-serve.service` (default `~/.config/...`).
pub fn systemd_unit() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| crate::source::user_home().map(|h| h.join(".config")))?;
    Some(config.join("systemd/user/rampart-serve.service"))
}

/// Applies every safe repair among the problems; says what each did.
fn apply(ctx: &Context, config: Option<PathBuf>, checks: &[Check]) -> Vec<String> {
    let mut done = Vec::new();
    let repairs = checks
        .iter()
        .filter(|c| c.level != Level::Ok)
        .filter_map(|c| c.repair.clone().map(|r| (c.name.clone(), r)));
    for (name, repair) in repairs {
        let outcome = match repair {
            Repair::Setup(host) => repair_host(ctx, host),
            Repair::Link => repair_link(ctx),
            Repair::Bundle => crate::source::discover(config.clone())
                .bundle_file()
                .map(|p| format!("rewrote {}", p.display()))
                .map_err(|e| e.to_string()),
            Repair::Mode(path, mode) => {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                    .map(|()| format!("chmod {mode:o} {}", path.display()))
                    .map_err(|e| e.to_string())
            }
        };
        done.push(match outcome {
            Ok(what) => format!("{name}: {what}"),
            Err(why) => format!("{name}: could not fix: {why}"),
        });
    }
    done
}

fn repair_host(ctx: &Context, host: Host) -> Result<String, String> {
    let state = setup::inspect(host, ctx);
    let opts = state.options(ctx).map_err(|e| e.to_string())?;
    setup::install(host, ctx, &opts).map_err(|e| e.to_string())?;
    Ok(format!("ran `{}`", state.setup_command()))
}

fn repair_link(ctx: &Context) -> Result<String, String> {
    let stable = ctx.stable_binary();
    let target = binary::link_target(&stable, &ctx.current_exe, ctx.path_var.as_deref());
    binary::install(&stable, &target, false).map_err(|e| e.to_string())?;
    Ok(format!("{} -> {}", stable.display(), target.display()))
}
