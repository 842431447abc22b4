//! `rampart wrap -- AGENT CMD...`: every command the agent hands its shell is decided first.
//!
//! The threat: agents (Claude Code, Codex, Aider, scripts of every kind) run commands as
//! `$SHELL -c '...'`, `bash -lc '...'`, `os.system(...)` or `child_process.exec(...)`, all of which
//! end in a shell started by name or through `$SHELL`. The wrapper puts a shim in front of each
//! shell: a directory of links to the rampart binary named `bash`, `sh`, `zsh`, `dash` and `ksh`,
//! first on the agent's PATH, with `SHELL` (and `CLAUDE_CODE_SHELL`) pointing at the one standing
//! for the user's shell. Started under a shell's name, the binary becomes the shim
//! ([`shim::run`]): it decides the command in-process and execs the real shell, or refuses.
//!
//! Python and Node run shell commands with `/bin/sh` by absolute path (`os.system`,
//! `subprocess(..., shell=True)`, `child_process.exec`), which no PATH entry stands in front of;
//! the directory also holds a `sitecustomize.py` (first on `PYTHONPATH`) and a Node module (in
//! `NODE_OPTIONS`) that make those use `$SHELL` while it is a shim.
//!
//! This is a cooperative boundary, as upstream's wrapper is: a program that execs `/bin/rm`
//! directly, or calls a shell by its absolute path, never meets the shim. `rampart preload`
//! decides every exec of a process tree; the wrapper is for hosts where only the shell matters
//! and no preload library may be loaded.

pub mod invocation;
pub mod shim;

use std::ffi::OsString;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rampart_runtime::settings::{
    Mode, ENV_AGENT, ENV_MODE, ENV_SESSION, ENV_WRAP_AUDIT_DIR, ENV_WRAP_CONFIG, ENV_WRAP_DIR,
};

/// The Python hook's file name: Python imports it at startup when its directory is on the path.
const PYTHON_HOOK: &str = "sitecustomize.py";
const PYTHON_HOOK_TEXT: &str = include_str!("hooks/sitecustomize.py");
const NODE_HOOK: &str = "rampart-node.cjs";
const NODE_HOOK_TEXT: &str = include_str!("hooks/rampart-node.cjs");

/// What `rampart wrap` runs and how.
#[derive(Clone, Debug)]
pub struct WrapConfig {
    pub mode: Mode,
    /// The agent name decisions are made for (default: the agent command's name).
    pub agent: Option<String>,
    pub session: Option<String>,
    /// `--config`: the policy the shims decide with.
    pub config: Option<PathBuf>,
    pub audit_dir: Option<PathBuf>,
    pub command: Vec<OsString>,
}

/// Runs the agent with the shims in front of its shells; returns its exit code.
pub fn run(config: WrapConfig) -> Result<i32, String> {
    let (program, args) = config
        .command
        .split_first()
        .ok_or("no agent command given (usage: rampart wrap -- AGENT CMD...)")?;
    let dir = ShimDir::create()?;
    let shell = dir.login_shell();
    let path = prepend_path(&dir.path, "PATH")?;
    let agent = config.agent.unwrap_or_else(|| {
        Path::new(program)
            .file_name()
            .map_or_else(|| "wrap".into(), |n| n.to_string_lossy().into_owned())
    });
    let mut command = Command::new(program);
    command
        .args(args)
        .env("PATH", path)
        .env("PYTHONPATH", prepend_path(&dir.path, "PYTHONPATH")?)
        .env("NODE_OPTIONS", node_options(&dir.path.join(NODE_HOOK)))
        .env("SHELL", &shell)
        .env("CLAUDE_CODE_SHELL", &shell)
        .env(ENV_WRAP_DIR, &dir.path)
        .env(ENV_MODE, config.mode.as_str())
        .env(ENV_AGENT, agent);
    if let Some(session) = &config.session {
        command.env(ENV_SESSION, session);
    }
    for (key, value) in [
        (ENV_WRAP_CONFIG, &config.config),
        (ENV_WRAP_AUDIT_DIR, &config.audit_dir),
    ] {
        if let Some(value) = value {
            command.env(
                key,
                std::path::absolute(value).unwrap_or_else(|_| value.clone()),
            );
        }
    }
    let signals = crate::signals::block()?;
    crate::signals::unblock_in_child(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.to_string_lossy()))?;
    let _forwarding = crate::signals::forward(signals, child.id());
    crate::signals::wait(&mut child)
}

/// The directory of shims, removed when dropped.
struct ShimDir {
    path: PathBuf,
}

impl ShimDir {
    /// A private directory with a link named after each shell this machine has.
    fn create() -> Result<ShimDir, String> {
        let exe =
            std::env::current_exe().map_err(|e| format!("finding the rampart binary: {e}"))?;
        let mut random = [0u8; 8];
        let _ = rampart_audit::ids::random_bytes(&mut random);
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let path =
            std::env::temp_dir().join(format!("rampart-wrap-{}-{suffix}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let dir = ShimDir { path };
        for (name, text) in [(PYTHON_HOOK, PYTHON_HOOK_TEXT), (NODE_HOOK, NODE_HOOK_TEXT)] {
            let file = dir.path.join(name);
            std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
        }
        for shell in shim::SHELLS {
            if on_path(shell).is_some() {
                let link = dir.path.join(shell);
                std::os::unix::fs::symlink(&exe, &link)
                    .map_err(|e| format!("{}: {e}", link.display()))?;
            }
        }
        Ok(dir)
    }

    /// The shim standing for the user's `$SHELL` (bash when that is not a shell we stand in
    /// for, sh when there is no bash).
    fn login_shell(&self) -> PathBuf {
        let user = std::env::var_os("SHELL").and_then(|s| shim::shell_name(&s));
        [user, Some("bash"), Some("sh")]
            .into_iter()
            .flatten()
            .map(|name| self.path.join(name))
            .find(|p| p.exists())
            .unwrap_or_else(|| self.path.join("sh"))
    }
}

impl Drop for ShimDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `dir` before the entries of the path-list variable `var`.
fn prepend_path(dir: &Path, var: &str) -> Result<OsString, String> {
    let old = std::env::var_os(var).unwrap_or_default();
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(&old).filter(|p| !p.as_os_str().is_empty()));
    std::env::join_paths(paths).map_err(|e| format!("{var}: {e}"))
}

/// NODE_OPTIONS with `--require HOOK` added (a path with spaces is quoted, as Node parses it).
fn node_options(hook: &Path) -> OsString {
    let mut options = std::env::var_os("NODE_OPTIONS").unwrap_or_default();
    if !options.is_empty() {
        options.push(" ");
    }
    options.push(format!("--require \"{}\"", hook.display()));
    options
}

/// Where `name` is on PATH, if anywhere.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
