//! `rampart setup codex`: a small wrapper, so that plain `codex` runs under `rampart preload`.

use crate::source::user_home;
use clap::Subcommand;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The line that marks a wrapper written by `rampart setup codex`; `--remove` removes nothing else.
pub const CODEX_MARKER: &str = "# rampart-codex-wrapper: written by `rampart setup codex`";

#[derive(Subcommand)]
pub enum Command {
    /// Wrap Codex CLI so it runs under `rampart preload`.
    Codex {
        /// Remove a wrapper this command wrote.
        #[arg(long)]
        remove: bool,
    },
}

pub fn run(command: &Command) -> Result<ExitCode, String> {
    match command {
        Command::Codex { remove } => println!("{}", setup_codex(*remove)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes (or with `remove`, deletes) `~/.local/bin/codex`, a wrapper that runs the real Codex
/// under `rampart preload`. Returns what was done, for the user.
pub fn setup_codex(remove: bool) -> Result<String, String> {
    let home = user_home().ok_or("HOME is not set")?;
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
}
