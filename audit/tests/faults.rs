//! Faults to survive, with real processes: kill -9 mid-burst, four concurrent writers, a full disk,
//! an unwritable directory, a symlinked day file.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rampart_audit::verify::{verify, VerifyOptions};
use rampart_audit::{AuditError, Durability, Writer, WriterOptions};

use crate::support::{self, event, Temp, CHILD};

/// The child side: does nothing in a normal test run; with `RAMPART_AUDIT_TEST_CHILD` set, it is
/// a writer process for the tests below. It prints `ok <n> <id>` after each append returns,
/// which is the moment a surface would answer the decision.
#[test]
fn child() {
    let Ok(role) = std::env::var(CHILD) else {
        return;
    };
    let dir = PathBuf::from(std::env::var("RAMPART_AUDIT_TEST_DIR").unwrap());
    let durability = match std::env::var("DURABILITY").as_deref() {
        Ok("group") => Durability::Group,
        Ok("every") => Durability::EveryRecord,
        _ => Durability::Never,
    };
    let mut w = Writer::open(WriterOptions::new(&dir).durability(durability)).unwrap();
    match role.as_str() {
        "burst" | "timed" => {
            let seconds: u64 = std::env::var("SECONDS_TO_RUN")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(60);
            let tag: u64 = std::env::var("TAG")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < Duration::from_secs(seconds) {
                let a = w.append(event(tag * 1_000_000 + n)).unwrap();
                println!("ok {n} {}", a.id);
                n += 1;
            }
        }
        "fsize" => {
            let limit: u64 = std::env::var("FSIZE").unwrap().parse().unwrap();
            // SAFETY: plain libc calls in a single-threaded child; SIGXFSZ ignored so the write
            // fails with EFBIG instead of killing the process.
            unsafe {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let rl = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                libc::setrlimit(libc::RLIMIT_FSIZE, &rl);
            }
            let big = rampart_audit::Event::new("write", support::request(&"y".repeat(4000)));
            match w.append(big) {
                Ok(a) => println!("appended {}", a.id),
                Err(e) => println!("error full={} {e}", e.is_disk_full()),
            }
        }
        other => panic!("unknown child role {other}"),
    }
}

/// Reads a child's `ok <n> <id>` lines.
fn acknowledged(out: impl std::io::Read) -> Vec<String> {
    BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            l.strip_prefix("ok ")
                .map(|r| r.split(' ').nth(1).unwrap_or("").to_owned())
        })
        .collect()
}

#[test]
fn kill_9_mid_burst_loses_no_answered_record_and_the_chain_verifies() {
    let t = Temp::new("kill9");
    let dir = t.audit();
    let mut answered = Vec::new();
    for (round, durability) in ["never", "group", "never"].into_iter().enumerate() {
        let tag = round.to_string();
        let mut child =
            support::spawn_child("burst", &dir, &[("DURABILITY", durability), ("TAG", &tag)]);
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut seen = 0;
        let mut line = String::new();
        while seen < 150 {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "child ended early");
            if let Some(rest) = line.trim().strip_prefix("ok ") {
                answered.push(rest.split(' ').nth(1).unwrap().to_owned());
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL, mid-burst
        child.wait().unwrap();
        answered.extend(acknowledged(out));
    }
    // The next writer repairs whatever the last kill tore, and appends.
    let mut w = support::writer(&dir);
    w.append(event(9)).unwrap();
    let ids: HashSet<String> = support::all_lines(&dir)
        .iter()
        .filter_map(|l| rampart_audit::chain::event_id(l.as_bytes()))
        .collect();
    for id in &answered {
        assert!(ids.contains(id), "answered record {id} is missing");
    }
    let report = verify(&dir, &VerifyOptions::default()).unwrap();
    assert!(report.events as usize > answered.len());
    assert!(support::python_verify(&dir).unwrap().starts_with("ok "));
}

#[test]
fn four_processes_appending_for_seconds_make_one_chain_and_lose_nothing() {
    let t = Temp::new("four");
    let dir = t.audit();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let tag = (i + 1).to_string();
            let durability = if i % 2 == 0 { "never" } else { "group" };
            support::spawn_child(
                "timed",
                &dir,
                &[
                    ("SECONDS_TO_RUN", "2"),
                    ("TAG", &tag),
                    ("DURABILITY", durability),
                ],
            )
        })
        .collect();
    let mut answered = Vec::new();
    for mut child in children {
        let out = child.stdout.take().unwrap();
        let acks = acknowledged(out);
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "{:?}",
            child.stderr.take().map(|e| {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut BufReader::new(e), &mut s).ok();
                s
            })
        );
        assert!(acks.len() > 10, "each writer got its turns: {}", acks.len());
        answered.extend(acks);
    }
    let report = verify(&dir, &VerifyOptions::default()).unwrap();
    assert_eq!(report.events as usize, answered.len());
    let unique: HashSet<&String> = answered.iter().collect();
    assert_eq!(unique.len(), answered.len());
    assert_eq!(
        support::python_verify(&dir).unwrap(),
        format!("ok {} {}", answered.len(), report.files)
    );
}

fn assert_nothing_half_written(dir: &Path, before: &[String]) {
    assert_eq!(support::all_lines(dir), before);
    verify(dir, &VerifyOptions::default()).unwrap();
}

#[test]
fn a_file_size_limit_fails_the_append_cleanly() {
    let t = Temp::new("fsize");
    let dir = t.audit();
    let mut w = support::writer(&dir);
    for n in 0..5 {
        w.append(event(n)).unwrap();
    }
    drop(w);
    let before = support::all_lines(&dir);
    let size = std::fs::metadata(dir.join(&support::log_files(&dir)[0]))
        .unwrap()
        .len();
    let limit = (size + 1000).to_string();
    let out = support::spawn_child("fsize", &dir, &[("FSIZE", &limit)])
        .wait_with_output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("error full=true audit: cannot append to"),
        "{stdout}"
    );
    assert!(stdout.contains("File too large"), "{stdout}");
    assert_nothing_half_written(&dir, &before);
}

/// A 64 KiB tmpfs (needs root to mount; CI runs as root).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, opts: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = support::is_root()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
                .arg(at)
                .status()
                .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_append_and_leaves_nothing_half_written() {
    let t = Temp::new("full");
    let Some(fs) = Tmpfs::mount(&t.path.join("mnt"), "size=64k,mode=0700") else {
        eprintln!("not root: the RLIMIT_FSIZE test covers a full disk");
        return;
    };
    let dir = fs.0.join("audit");
    let mut w = support::writer(&dir);
    let mut n = 0;
    let err = loop {
        let big = rampart_audit::Event::new("write", support::request(&"z".repeat(3000)));
        match w.append(big) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
        assert!(n < 1000);
    };
    assert!(err.is_disk_full(), "{err}");
    assert!(err.to_string().contains("No space left on device"), "{err}");
    let before = support::all_lines(&dir);
    assert_eq!(before.len(), n);
    // Still full: a small record may fit, a big one must fail again without a trace.
    let again = w.append(rampart_audit::Event::new(
        "write",
        support::request(&"z".repeat(3000)),
    ));
    assert!(again.is_err());
    assert_nothing_half_written(&dir, &before);
    assert_eq!(support::python_verify(&dir), Ok(format!("ok {n} 1")));
}

#[test]
fn an_unwritable_directory_is_an_error_not_a_silent_loss() {
    let t = Temp::new("rodir");
    let dir = t.audit();
    let mut w = support::writer(&dir);
    w.append(event(0)).unwrap();
    drop(w);
    let _ro = if support::is_root() {
        // Root ignores permission bits: make the filesystem itself read-only.
        let mnt = t.path.join("ro");
        let fs = Tmpfs::mount(&mnt, "size=64k,mode=0700").expect("mount tmpfs");
        let dir2 = mnt.join("audit");
        let mut w = support::writer(&dir2);
        w.append(event(0)).unwrap();
        drop(w);
        assert!(Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&mnt)
            .status()
            .unwrap()
            .success());
        let err = Writer::open(WriterOptions::new(&dir2))
            .and_then(|mut w| w.append(event(1)))
            .unwrap_err();
        assert!(err.to_string().contains("Read-only file system"), "{err}");
        Some(fs)
    } else {
        let fresh = t.path.join("fresh");
        std::fs::create_dir(&fresh).unwrap();
        std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o500)).unwrap();
        let err = Writer::open(WriterOptions::new(&fresh))
            .and_then(|mut w| w.append(event(1)))
            .unwrap_err();
        assert!(err.to_string().contains("Permission denied"), "{err}");
        None
    };
}

#[test]
fn a_symlinked_day_file_is_refused_with_the_fix() {
    let t = Temp::new("symlink");
    let dir = t.audit();
    let mut w = support::writer(&dir);
    w.append(event(0)).unwrap();
    drop(w);
    let name = support::log_files(&dir).remove(0);
    let target = t.path.join("elsewhere.jsonl");
    std::fs::rename(dir.join(&name), &target).unwrap();
    std::os::unix::fs::symlink(&target, dir.join(&name)).unwrap();
    let before = std::fs::read(&target).unwrap();
    let err = support::writer(&dir).append(event(1)).unwrap_err();
    assert!(matches!(err, AuditError::Unsafe { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("symlink")
            && text.contains(&format!("fix it with: rm '{}'", dir.join(&name).display())),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&target).unwrap(),
        before,
        "nothing written through the link"
    );
}
