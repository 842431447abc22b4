//! `rampart preload -- CMD...` and `rampart setup codex`: running a program under librampart.so.
//!
//! The library does the work (it decides every exec in the process tree); these commands only find
//! it, set the environment it reads at load time (LD_PRELOAD, RAMPART_*), and exec. `setup codex`
//! installs a small wrapper so that plain `codex` runs that way.

use rampart_runtime::settings::{Mode, ENV_AGENT, ENV_DEBUG, ENV_MODE, ENV_POLICY, ENV_SESSION};
use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The library's file name.
pub const LIBRARY: &str = "librampart.so";
/// The line that marks a wrapper written by `rampart setup codex`; `--remove` removes nothing else.
pub const CODEX_MARKER: &str = "# rampart-codex-wrapper: written by `rampart setup codex`";

/// What `rampart preload` runs and how.
#[derive(Clone, Debug, Default)]
pub struct PreloadOptions {
    /// enforce (default), monitor or disabled.
    pub mode: Option<String>,
    pub agent: Option<String>,
    pub session: Option<String>,
    pub debug: bool,
    /// The compiled bundle; default `~/.rampart/policy.bin`.
    pub policy: Option<PathBuf>,
    /// The library; default: found next to the binary, in ~/.rampart/lib, then /usr/local/lib.
    pub library: Option<PathBuf>,
    /// The program and its arguments.
    pub command: Vec<OsString>,
}

/// Execs `opts.command` under the library. Returns only on failure, with the reason.
pub fn run_preload(opts: PreloadOptions) -> io::Error {
    match prepare(&opts) {
        Ok(mut command) => command.exec(),
        Err(e) => e,
    }
}

/// The command `run_preload` would exec, with its environment set.
pub fn prepare(opts: &PreloadOptions) -> io::Result<Command> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
    let (program, args) = opts.command.split_first().ok_or_else(|| {
        invalid("rampart preload: no command given (usage: rampart preload -- CMD...)".into())
    })?;
    if let Some(mode) = &opts.mode {
        if Mode::parse(mode.as_bytes(), &Mode::PRELOAD).is_none() {
            return Err(invalid(format!(
                "rampart preload: --mode must be enforce, monitor or disabled, not {mode:?}"
            )));
        }
    }
    let library = match &opts.library {
        Some(path) => path.clone(),
        None => find_library().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "rampart preload: {LIBRARY} not found next to the rampart binary, in ~/.rampart/lib or /usr/local/lib"
                ),
            )
        })?,
    };
    let library = library.canonicalize().unwrap_or(library);
    let policy = match &opts.policy {
        Some(p) => p.clone(),
        None => home()?.join(".rampart/policy.bin"),
    };
    let policy = std::path::absolute(&policy).unwrap_or(policy);
    if !policy.exists() {
        eprintln!(
            "rampart preload: warning: no policy bundle at {}; the library will follow RAMPART_FAIL_OPEN",
            policy.display()
        );
    }
    let mut preload = library.into_os_string();
    if let Some(existing) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
        preload.push(":");
        preload.push(existing);
    }
    let mut command = Command::new(program);
    command
        .args(args)
        .env("LD_PRELOAD", preload)
        .env(ENV_POLICY, &policy);
    let settings = [
        (ENV_MODE, opts.mode.as_deref()),
        (ENV_AGENT, opts.agent.as_deref()),
        (ENV_SESSION, opts.session.as_deref()),
        (ENV_DEBUG, opts.debug.then_some("1")),
    ];
    for (name, value) in settings {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    Ok(command)
}

/// Where the library is: next to the running binary, in ~/.rampart/lib, then /usr/local/lib.
pub fn find_library() -> Option<PathBuf> {
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(LIBRARY)));
    let in_home = home().ok().map(|h| h.join(".rampart/lib").join(LIBRARY));
    let system = Some(Path::new("/usr/local/lib").join(LIBRARY));
    [beside_binary, in_home, system]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

fn home() -> io::Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "HOME is not set"))
}

/// Writes (or with `remove`, deletes) `~/.local/bin/codex`, a wrapper that runs the real Codex
/// under `rampart preload`. Returns what was done, for the user.
pub fn setup_codex(remove: bool) -> Result<String, String> {
    let home = home().map_err(|e| e.to_string())?;
    let wrapper = home.join(".local/bin/codex");
    let ours = std::fs::read_to_string(&wrapper)
        .map(|text| text.contains(CODEX_MARKER))
        .ok();
    if remove {
        return match ours {
            Some(true) => std::fs::remove_file(&wrapper)
                .map(|()| format!("removed the rampart wrapper {}", wrapper.display()))
                .map_err(|e| format!("cannot remove {}: {e}", wrapper.display())),
            Some(false) => Err(format!(
                "{} was not written by rampart; leaving it alone",
                wrapper.display()
            )),
            None => Ok(format!("no rampart wrapper at {}", wrapper.display())),
        };
    }
    if ours == Some(false) {
        return Err(format!(
            "{} exists and was not written by rampart; move it away first",
            wrapper.display()
        ));
    }
    let real = find_on_path("codex", &wrapper)
        .ok_or_else(|| "codex was not found on PATH (other than the wrapper itself)".to_string())?;
    let rampart =
        std::env::current_exe().map_err(|e| format!("cannot locate rampart itself: {e}"))?;
    let script = codex_wrapper(&rampart, &real);
    let dir = wrapper.parent().unwrap_or(&home);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::write(&wrapper, script)
        .map_err(|e| format!("cannot write {}: {e}", wrapper.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make {} executable: {e}", wrapper.display()))?;
    Ok(format!(
        "wrote {} (runs {} under rampart preload); make sure {} comes first on PATH",
        wrapper.display(),
        real.display(),
        dir.display()
    ))
}

/// The wrapper script's text.
pub fn codex_wrapper(rampart: &Path, real_codex: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         {CODEX_MARKER}; `rampart setup codex --remove` deletes it.\n\
         # Runs Codex under librampart.so, so that every command Codex starts is decided by the\n\
         # compiled rampart policy (~/.rampart/policy.bin) before it runs.\n\
         exec {} preload -- {} \"$@\"\n",
        sh_quote(&rampart.to_string_lossy()),
        sh_quote(&real_codex.to_string_lossy()),
    )
}

/// The first executable `name` on PATH that is not `skip` (compared after resolving symlinks).
fn find_on_path(name: &str, skip: &Path) -> Option<PathBuf> {
    let skip = skip.canonicalize().unwrap_or_else(|_| skip.to_path_buf());
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .filter(|candidate| is_executable(candidate))
        .find(|candidate| candidate.canonicalize().map_or(true, |c| c != skip))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_execs_the_real_codex_through_rampart() {
        let text = codex_wrapper(
            Path::new("/opt/ram part/rampart"),
            Path::new("/usr/bin/codex"),
        );
        assert!(text.starts_with("#!/bin/sh\n"));
        assert!(text.contains(CODEX_MARKER));
        assert!(text.contains("exec '/opt/ram part/rampart' preload -- '/usr/bin/codex' \"$@\"\n"));
    }

    #[test]
    fn preload_sets_the_library_and_settings() {
        let dir = std::env::temp_dir().join(format!("rampart-preload-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lib = dir.join(LIBRARY);
        std::fs::write(&lib, b"").unwrap();
        let opts = PreloadOptions {
            mode: Some("monitor".into()),
            agent: Some("codex".into()),
            debug: true,
            policy: Some(dir.join("p.bin")),
            library: Some(lib.clone()),
            command: vec!["true".into(), "x".into()],
            ..Default::default()
        };
        let command = prepare(&opts).unwrap();
        let env: std::collections::HashMap<_, _> = command
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        let preload = env["LD_PRELOAD"].clone().unwrap();
        assert!(preload.starts_with(lib.canonicalize().unwrap().to_str().unwrap()));
        assert_eq!(env["RAMPART_MODE"].as_deref(), Some("monitor"));
        assert_eq!(env["RAMPART_AGENT"].as_deref(), Some("codex"));
        assert_eq!(env["RAMPART_DEBUG"].as_deref(), Some("1"));
        assert_eq!(env["RAMPART_POLICY"].as_deref(), dir.join("p.bin").to_str());
        assert!(!env.contains_key("RAMPART_SESSION"));
        let bad = PreloadOptions {
            mode: Some("loud".into()),
            ..opts.clone()
        };
        assert!(prepare(&bad).unwrap_err().to_string().contains("--mode"));
        let empty = PreloadOptions {
            command: vec![],
            ..opts
        };
        assert!(prepare(&empty).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
