//! Cline: executable hook files named after their event in `~/Documents/Cline/Hooks/`.
//!
//! ```sh
//! #!/bin/sh
//! # rampart-hook: written by `rampart setup cline`; `rampart setup cline --remove` deletes it.
//! rampart='/home/me/.rampart/bin/rampart'
//! if [ ! -x "$rampart" ]; then
//!   printf '%s\n' '{"cancel":true,"errorMessage":"Blocked by Rampart: ..."}'
//!   exit 0
//! fi
//! exec "$rampart" hook --format cline
//! ```
//!
//! Cline runs one file per event, and has no fail-closed switch: a script whose `exec` fails
//! exits 126 or 127, which Cline may read as "no objection". So the script checks the binary
//! first and cancels the call itself when it is gone. A file of the same name that is not
//! rampart's is left alone unless `--force`, which moves it aside (and `--remove` puts it back).

use std::fs;
use std::path::{Path, PathBuf};

use super::command::quote;
use super::record::Record;
use super::{Change, Context, SetupError};

pub const EVENTS: [&str; 2] = ["PreToolUse", "PostToolUse"];

/// The line that marks a script as rampart's.
pub const MARKER: &str = "# rampart-hook: written by `rampart setup cline`";

pub fn config_dir(ctx: &Context) -> PathBuf {
    ctx.home.join("Documents/Cline")
}

pub fn hooks_dir(ctx: &Context) -> PathBuf {
    config_dir(ctx).join("Hooks")
}

/// The script for the stable binary at `binary`.
pub fn script(binary: &Path) -> String {
    let message = format!(
        "Blocked by Rampart: {} is missing; run `rampart setup cline` (or `rampart doctor --fix`)",
        binary.display()
    );
    let cancel = serde_json::json!({"cancel": true, "errorMessage": message}).to_string();
    format!(
        "#!/bin/sh\n\
         {MARKER}; `rampart setup cline --remove` deletes it.\n\
         rampart={}\n\
         if [ ! -x \"$rampart\" ]; then\n  printf '%s\\n' {}\n  exit 0\nfi\n\
         exec \"$rampart\" hook --format cline\n",
        quote(&binary.to_string_lossy()),
        quote(&cancel),
    )
}

/// One event's file as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Script {
    Missing,
    /// Rampart's, exactly what setup writes now.
    Current,
    /// Rampart's, but outdated or not executable.
    Stale(String),
    /// Someone else's.
    Foreign,
}

/// The state of each event's file.
pub fn inspect(ctx: &Context) -> Vec<(&'static str, PathBuf, Script)> {
    let want = script(&ctx.stable_binary());
    EVENTS
        .iter()
        .map(|event| {
            let path = hooks_dir(ctx).join(event);
            let state = match fs::read_to_string(&path) {
                Err(_) if !path.exists() => Script::Missing,
                Err(_) => Script::Foreign,
                Ok(text) if !text.contains(MARKER) => Script::Foreign,
                Ok(text) if text != want => {
                    Script::Stale(format!("{} is not what setup writes now", path.display()))
                }
                Ok(_) if !super::binary::is_executable(&path) => {
                    Script::Stale(format!("{} is not executable", path.display()))
                }
                Ok(_) => Script::Current,
            };
            (*event, path, state)
        })
        .collect()
}

/// The program a rampart script runs (for doctor), from its `rampart=` line.
pub fn program(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix("rampart="))?;
    super::command::words(line)?.into_iter().next()
}

/// Writes the scripts; a foreign file is moved aside only with `force`.
pub fn install(ctx: &Context, force: bool, record: &mut Record) -> Result<Vec<Change>, SetupError> {
    let want = script(&ctx.stable_binary());
    let states = inspect(ctx);
    if let Some((_, path, _)) = states.iter().find(|s| s.2 == Script::Foreign && !force) {
        return Err(SetupError::new(format!(
            "{} is a hook that is not rampart's; move it away or pass --force (it is kept and restored by --remove)",
            path.display()
        )));
    }
    let mut changes = Vec::new();
    for (_, path, state) in states {
        if state == Script::Current {
            continue;
        }
        let mut backup = None;
        if state == Script::Foreign {
            let aside = aside_path(&path);
            fs::rename(&path, &aside).map_err(|e| SetupError::io("cannot move", &path, &e))?;
            record.displaced.insert(path.clone(), aside.clone());
            backup = Some(aside);
        }
        write_executable(&path, &want)?;
        changes.push(Change::new(&path, "wrote the hook script", backup));
    }
    Ok(changes)
}

/// Deletes rampart's scripts and puts back what `--force` moved aside.
pub fn remove(ctx: &Context, record: &mut Record) -> Result<Vec<Change>, SetupError> {
    let mut changes = Vec::new();
    for (_, path, state) in inspect(ctx) {
        if matches!(state, Script::Missing | Script::Foreign) {
            continue;
        }
        fs::remove_file(&path).map_err(|e| SetupError::io("cannot remove", &path, &e))?;
        let mut what = "removed the hook script".to_string();
        if let Some(aside) = record.displaced.remove(&path) {
            if aside.exists() {
                fs::rename(&aside, &path)
                    .map_err(|e| SetupError::io("cannot restore", &aside, &e))?;
                what.push_str(&format!(
                    " and restored the one it replaced from {}",
                    aside.display()
                ));
            }
        }
        changes.push(Change::new(&path, &what, None));
    }
    Ok(changes)
}

fn aside_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = rampart_audit::Timestamp::now().unix_ms();
    path.with_file_name(format!("{name}.rampart-backup-{stamp}"))
}

fn write_executable(path: &Path, text: &str) -> Result<(), SetupError> {
    super::file::write_atomic_mode(path, text.as_bytes(), 0o755)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn the_script_cancels_when_the_binary_is_gone() {
        let dir = std::env::temp_dir().join(format!("rampart-cline-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let path = dir.join("PreToolUse");
        write_executable(&path, &script(&dir.join("it's gone/rampart"))).unwrap();
        let out = Command::new(&path).output().unwrap();
        assert!(out.status.success());
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["cancel"], true);
        assert!(answer["errorMessage"]
            .as_str()
            .unwrap()
            .contains("it's gone/rampart is missing"));
        assert_eq!(
            program(&path).unwrap(),
            dir.join("it's gone/rampart").to_string_lossy()
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
