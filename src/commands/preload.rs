//! `rampart preload -- CMD...`: running a program under librampart.so.
//!
//! The library does the work (it decides every exec in the process tree); this command only
//! makes sure a bundle for the policy exists on disk, finds the library, sets the environment it
//! reads at load time (LD_PRELOAD and the [`rampart_runtime::settings`] variables), and execs.

use crate::bundle;
use crate::source::user_home;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use rampart_runtime::settings::{
    Mode, ENV_AGENT, ENV_DEBUG, ENV_FAIL_OPEN, ENV_MODE, ENV_POLICY, ENV_SESSION,
};
use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The library's file name.
pub const LIBRARY: &str = "librampart.so";

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "enforce", value_parser = mode_parser())]
    pub mode: Mode,
    #[arg(long)]
    pub agent: Option<String>,
    #[arg(long)]
    pub session: Option<String>,
    #[arg(long)]
    pub debug: bool,
    /// A compiled bundle to use instead of compiling the discovered policy.
    #[arg(long, value_name = "POLICY_BIN")]
    pub policy: Option<PathBuf>,
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `--mode`: one of the library's modes, listed in `--help` and in the usage error.
fn mode_parser() -> impl TypedValueParser<Value = Mode> {
    PossibleValuesParser::new(Mode::PRELOAD.map(Mode::as_str)).try_map(|word| {
        Mode::parse(word.as_bytes(), &Mode::PRELOAD).ok_or(format!("unknown mode {word:?}"))
    })
}

/// Makes sure a bundle for the policy is on disk, then execs under the library; returns only on
/// failure.
pub fn run(args: Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let policy = match args.policy {
        Some(path) => path,
        None => bundle::file(&crate::source::discover(config))?,
    };
    let opts = PreloadOptions {
        mode: Some(args.mode),
        agent: args.agent,
        session: args.session,
        debug: args.debug,
        policy: Some(policy),
        library: None,
        command: args.command.into_iter().map(Into::into).collect(),
    };
    Err(run_preload(opts).to_string())
}

/// What `rampart preload` runs and how.
#[derive(Clone, Debug, Default)]
pub struct PreloadOptions {
    /// Default: the library's own (enforce).
    pub mode: Option<Mode>,
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
    let (program, args) = opts.command.split_first().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "rampart preload: no command given (usage: rampart preload -- CMD...)",
        )
    })?;
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
            "rampart preload: warning: no policy bundle at {}; the library will follow {ENV_FAIL_OPEN}",
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
        (ENV_MODE, opts.mode.map(Mode::as_str)),
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
    let in_home = user_home().map(|h| h.join(".rampart/lib").join(LIBRARY));
    let system = Some(Path::new("/usr/local/lib").join(LIBRARY));
    [beside_binary, in_home, system]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

fn home() -> io::Result<PathBuf> {
    user_home().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "HOME is not set"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preload_sets_the_library_and_settings() {
        let dir = std::env::temp_dir().join(format!("rampart-preload-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lib = dir.join(LIBRARY);
        std::fs::write(&lib, b"").unwrap();
        let opts = PreloadOptions {
            mode: Some(Mode::Monitor),
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
        let empty = PreloadOptions {
            command: vec![],
            ..opts
        };
        assert!(prepare(&empty).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
