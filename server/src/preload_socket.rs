//! The preload library's records (`preload/src/record.rs`): datagrams on
//! `~/.rampart/preload.sock`, each one JSON line, recorded in the chain as they arrive
//! (`rampart_audit::spool::event_from_line`).
//!
//! The threat: records lost, or records forged. The socket lives in `~/.rampart` (0700) with mode
//! 0600, so only the user's own processes can send to it (and they could write the spool file
//! just as well). A record that cannot be written to the chain goes to the spool, which the next
//! writer drains, with the library's own hand-over protocol; while the server runs, a preload
//! that finds the socket gone or full uses the spool itself. The socket file is removed when the
//! server stops, so no preload sends into a dead socket for long (a stale one fails at once).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::State;

/// The largest record read (the library falls back to the spool for larger ones).
pub const MAX_DATAGRAM: usize = 512 * 1024;

pub fn socket_path(home: &Path) -> PathBuf {
    home.join(".rampart").join("preload.sock")
}

/// Binds the socket and starts recording; a socket that cannot be bound is reported, and the
/// library keeps using the spool.
pub fn start(state: &Arc<State>) {
    let path = socket_path(&state.config.home);
    let _ = std::fs::remove_file(&path);
    let socket = match UnixDatagram::bind(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "rampart serve: cannot bind {} ({e}); preload records stay in the spool",
                path.display()
            );
            return;
        }
    };
    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    let state = Arc::clone(state);
    let _ = std::thread::Builder::new()
        .name("rampart-preload-records".into())
        .spawn(move || receive(&state, &socket));
}

fn receive(state: &State, socket: &UnixDatagram) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let line = buf.get(..n).unwrap_or_default();
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let event = rampart_audit::spool::event_from_line(line);
        if state.engine.record(event).is_err() {
            let _ = to_spool(&state.config.home, line);
        } else if state.events.subscribers() > 0 {
            crate::watch::poke();
        }
    }
}

/// Appends `line` to the spool as the library does: one O_APPEND write under a shared lock, to
/// the file `preload.jsonl` still names (a drain renames it away).
fn to_spool(home: &Path, line: &[u8]) -> std::io::Result<()> {
    let dir = home.join(".rampart").join("spool");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    let path = dir.join(rampart_audit::spool::SPOOL_FILE);
    let mut record = line.to_vec();
    record.push(b'\n');
    for _ in 0..8 {
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0 {
            continue;
        }
        let open = file.metadata()?;
        let named = std::fs::metadata(&path)?;
        if open.ino() == named.ino() && open.dev() == named.dev() {
            return file.write_all(&record);
        }
    }
    Err(std::io::Error::other("the spool kept being drained"))
}
