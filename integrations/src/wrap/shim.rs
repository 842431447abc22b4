//! The shell shim: the rampart binary started under a shell's name (`bash`, `sh`, `zsh`, ...).
//!
//! It runs once per command an agent hands its shell, so it does the least that decides: read
//! the invocation ([`super::invocation`]), decide the command in-process against the cached
//! policy through the shared surface (a one-shot surface: the policy in force opened from its
//! cache, the decision appended to the audit chain), then `exec` the real shell with the very
//! same arguments, or refuse with the reason on stderr and exit code 126 ("found but not
//! executable", which every host reports as a failed command with its stderr).
//!
//! The real shell is looked up on PATH skipping the shim directory and anything that is this
//! executable, so a shim can never run itself. Interactive use (no `-c`, no script) passes
//! straight through: there is no command to decide until the user types one, and then it is the
//! interactive shell, not an agent, that runs it. So does a script (`bash deploy.sh`, or any
//! `#!/usr/bin/env bash` program): it was started by a command that was decided (or by the
//! user), and the commands it runs through a shell meet the shims in turn; deciding the script's
//! argv as a command would read its arguments as the shell's (`-c` among them).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rampart_runtime::eval::Action;
use rampart_runtime::settings::{
    Mode, ENV_AGENT, ENV_MODE, ENV_WRAP_AUDIT_DIR, ENV_WRAP_CONFIG, ENV_WRAP_DIR,
};
use rampart_runtime::shell::Reader;
use rampart_runtime::Call;
use serde_json::{json, Map};

use super::invocation::{self, Invocation};
use crate::identity::HookEnv;
use crate::serve::{ApprovalRequest, Server, Wait, DEFAULT_WAIT};
use crate::surface::{AuditTarget, Identity, Intent, Phase, Request, Surface, SurfaceConfig};

/// The shells the shim stands in for.
pub const SHELLS: [&str; 5] = ["bash", "sh", "zsh", "dash", "ksh"];

/// The exit code of a refused command.
pub const DENIED: i32 = 126;
/// The agent name when `RAMPART_AGENT` is not set.
pub const DEFAULT_AGENT: &str = "wrap";

/// The shell `argv0` names, when it is one the shim stands in for (`-bash`, a login shell's
/// spelling, included).
pub fn shell_name(argv0: &std::ffi::OsStr) -> Option<&'static str> {
    let base = Path::new(argv0).file_name()?.to_str()?;
    let base = base.strip_prefix('-').unwrap_or(base);
    SHELLS.iter().copied().find(|s| *s == base)
}

/// Runs the shim for `argv` (argv[0] named shell `name`); returns only with an exit code (a
/// refusal, or a real shell that could not be run).
pub fn run(name: &str, argv: &[OsString]) -> i32 {
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(real) = real_shell(name) else {
        eprintln!("rampart: no real {name} found on PATH (outside the shim directory)");
        return 127;
    };
    let command = match invocation::read(name, &args) {
        Invocation::Command(command) => command,
        // A script runs because a decided command (or the user) started it: its `#!` line
        // brings it here by name, and its own commands meet the shims one by one.
        Invocation::Script(_) | Invocation::Interactive => return exec(&real, argv),
    };
    match decide(&command) {
        Verdict::Run => exec(&real, argv),
        Verdict::Refuse(message) => {
            eprintln!("rampart: blocked by policy: {message}");
            eprintln!("rampart: command: {command}");
            DENIED
        }
    }
}

enum Verdict {
    Run,
    Refuse(String),
}

/// Decides `command` as an exec by the wrapped agent, and records the decision.
fn decide(command: &str) -> Verdict {
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    // Only enforce and monitor: an environment variable cannot turn the shim off.
    let mode = match env(ENV_MODE).as_deref() {
        Some("monitor") => Mode::Monitor,
        _ => Mode::Enforce,
    };
    let home = env("HOME").map(PathBuf::from);
    let surface = Surface::one_shot(SurfaceConfig {
        mode,
        discovery: rampart_policies::discovery(env(ENV_WRAP_CONFIG).map(PathBuf::from)),
        audit: AuditTarget {
            dir: env(ENV_WRAP_AUDIT_DIR).map(PathBuf::from),
            home: home.clone(),
        },
    });
    let agent = env(ENV_AGENT).unwrap_or_else(|| DEFAULT_AGENT.to_string());
    // Who calls, as a hook derives it, so a rule scoped to a session or an agent depth applies
    // to the shell's commands exactly as to the host's.
    let caller = HookEnv::from_env();
    let cwd = std::env::current_dir().ok();
    let session = caller.session(cwd.as_deref(), None);
    let agent_depth = match caller.agent_depth(false) {
        Ok(depth) => depth,
        Err(why) => return Verdict::Refuse(format!("{why}; failing closed")),
    };
    let workdir = cwd.map(|d| d.to_string_lossy().into_owned());
    let mut params = Map::new();
    params.insert("command".into(), json!(command));
    let call = Call {
        tool: "exec".into(),
        agent,
        session,
        agent_depth,
        workdir,
        params: vec![(
            "command".into(),
            rampart_runtime::call::Value::Str(command.into()),
        )],
        ..Call::default()
    };
    let identity = Identity {
        run_id: caller.run(&[]),
        ..Identity::default()
    };
    let outcome = surface.decide(
        &mut Reader::new(),
        &Request {
            call: &call,
            identity: &identity,
            phase: Phase::Request,
            intent: Intent::Enforce,
            wait_for_sync: true,
            params: &params,
        },
    );
    match outcome.decision.action {
        Action::Allow | Action::Watch => Verdict::Run,
        Action::Ask => ask(&call, command, &outcome.decision.message, home.as_deref()),
        Action::Deny | Action::Webhook => Verdict::Refuse(outcome.decision.message),
    }
}

/// An `ask`: the server's approval queue when one runs; otherwise refused (a shell has no way
/// to ask its user).
fn ask(call: &Call, command: &str, message: &str, home: Option<&Path>) -> Verdict {
    let request = ApprovalRequest {
        tool: call.tool.clone(),
        command: command.to_string(),
        agent: call.agent.clone(),
        message: message.to_string(),
        ..ApprovalRequest::default()
    };
    let queue = Server::from_env(None, home);
    match queue.map(|q| q.ask(&request, DEFAULT_WAIT)) {
        Ok(Wait::Approved { .. }) => Verdict::Run,
        Ok(Wait::Denied { id }) => {
            Verdict::Refuse(format!("{message} (denied by a person, approval {id})"))
        }
        Ok(Wait::TimedOut { .. }) => {
            Verdict::Refuse(format!("{message} (approval not answered in time)"))
        }
        Ok(Wait::Unavailable(why)) | Err(why) => Verdict::Refuse(format!(
            "{message} (needs approval, and no rampart server to ask: {why})"
        )),
    }
}

/// Execs the real shell with the shim's own argv; returns only on failure.
fn exec(real: &Path, argv: &[OsString]) -> i32 {
    let mut command = Command::new(real);
    if let Some(argv0) = argv.first() {
        command.arg0(argv0);
    }
    command.args(argv.iter().skip(1));
    let error = command.exec();
    eprintln!("rampart: cannot run {}: {error}", real.display());
    127
}

/// The real shell `name`: the first on PATH that is neither in the shim directory nor this
/// executable, else the usual system places.
fn real_shell(name: &str) -> Option<PathBuf> {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let shim_dir = std::env::var_os(ENV_WRAP_DIR)
        .map(PathBuf::from)
        .and_then(|d| d.canonicalize().ok());
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut candidates = std::env::split_paths(&path)
        .chain(["/usr/bin", "/bin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name));
    candidates.find(|candidate| {
        let Ok(resolved) = candidate.canonicalize() else {
            return false;
        };
        let in_shim_dir = candidate
            .parent()
            .and_then(|d| d.canonicalize().ok())
            .is_some_and(|d| Some(&d) == shim_dir.as_ref());
        !in_shim_dir && Some(&resolved) != me.as_ref() && is_executable(&resolved)
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
