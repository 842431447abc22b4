//! The audit directory is the user's alone: created 0700 with 0600 files, and anything looser,
//! foreign or irregular is refused with the command that fixes it.

use std::os::unix::fs::PermissionsExt;

use rampart_audit::{AuditError, Writer, WriterOptions};

use crate::support::{self, event, Temp};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_directory_and_files_are_created_private_whatever_the_umask() {
    let t = Temp::new("perm");
    let dir = t.path.join("a/b/audit");
    // SAFETY: umask is process-wide; this test restores it and only widens the default.
    let old = unsafe { libc::umask(0) };
    let result = Writer::open(WriterOptions::new(&dir)).and_then(|mut w| w.append(event(1)));
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    result.unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&t.path.join("a")), 0o700);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(mode(&entry.path()), 0o600, "{:?}", entry.file_name());
    }
}

fn refused(dir: &std::path::Path) -> AuditError {
    Writer::open(WriterOptions::new(dir))
        .and_then(|mut w| w.append(event(2)))
        .unwrap_err()
}

#[test]
fn a_directory_others_can_enter_is_refused_with_chmod() {
    let t = Temp::new("loosedir");
    let dir = t.audit();
    support::writer(&dir).append(event(1)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = refused(&dir);
    assert_eq!(
        err.to_string(),
        format!(
            "audit: refusing {0}: mode 0755 lets other users in (want 0700); fix it with: chmod 700 '{0}'",
            dir.display()
        )
    );
}

#[test]
fn a_day_file_others_can_read_is_refused_with_chmod() {
    let t = Temp::new("loosefile");
    let dir = t.audit();
    support::writer(&dir).append(event(1)).unwrap();
    let file = dir.join(&support::log_files(&dir)[0]);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = refused(&dir);
    assert!(
        err.to_string()
            .ends_with(&format!("fix it with: chmod 600 '{}'", file.display())),
        "{err}"
    );
}

#[test]
fn a_file_of_another_user_is_refused_with_chown() {
    if !support::is_root() {
        eprintln!("needs root to give a file away");
        return;
    }
    let t = Temp::new("foreign");
    let dir = t.audit();
    support::writer(&dir).append(event(1)).unwrap();
    let file = dir.join(&support::log_files(&dir)[0]);
    std::os::unix::fs::chown(&file, Some(65534), None).unwrap();
    let err = refused(&dir);
    let text = err.to_string();
    assert!(text.contains("owned by uid 65534"), "{text}");
    assert!(
        text.ends_with(&format!("fix it with: sudo chown 0 '{}'", file.display())),
        "{text}"
    );
}

#[test]
fn a_fifo_in_place_of_a_day_file_is_refused() {
    let t = Temp::new("fifo");
    let dir = t.audit();
    support::writer(&dir).append(event(1)).unwrap();
    let file = dir.join(&support::log_files(&dir)[0]);
    std::fs::remove_file(&file).unwrap();
    let c = std::ffi::CString::new(file.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = refused(&dir);
    assert!(err.to_string().contains("not a regular file"), "{err}");
}
