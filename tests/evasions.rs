//! Issue 19 §3: the evasions a name-based rule cannot see, through the real preload library and
//! the real `rampart` binary.
//!
//! Each case runs a denied command (`touch` of an `evasion-marker` file, which the policy names
//! by its program, `touch`) in a disguise, and checks the file system: the marker must not exist.
//! The limits of an LD_PRELOAD library (a static binary, a direct system call, a setuid program)
//! are demonstrated the same way, with the opposite assertion: there the marker is created, as
//! docs/protection.md says. Nothing destructive runs: the denied command only creates a file.

use crate::preload_programs::{have, run, Sandbox};
use std::path::Path;
use std::process::Command;

/// A policy that names the program: only a reading of the command as `touch …` denies it.
const NAMED_POLICY: &str = r#"
version: "1"
default_action: allow
policies:
  - name: named
    match:
      tool: exec
    rules:
      - action: deny
        when:
          command_matches: ["touch **evasion-marker**"]
        message: "touch of an evasion marker"
"#;

/// A sandbox with the named policy installed.
fn sandbox(name: &str) -> Sandbox {
    let sb = Sandbox::new(&format!("evasion-{name}"));
    sb.install(NAMED_POLICY);
    sb
}

/// Runs `script` under `bash -c` with the library preloaded, MARK set to the marker's path.
fn bash(sb: &Sandbox, script: &str) -> std::process::Output {
    let mut c = sb.command("bash");
    c.args(["-c", script])
        .env("MARK", sb.marker("evasion-marker"));
    run(c)
}

fn assert_blocked(sb: &Sandbox, what: &str, out: &std::process::Output) {
    assert!(
        !sb.exists("evasion-marker"),
        "{what}: the disguised touch ran"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rampart: blocked"),
        "{what}: no block message"
    );
}

#[test]
fn a_symlink_with_another_name_is_decided_as_its_target() {
    let sb = sandbox("symlink");
    let out = bash(&sb, "ln -s /usr/bin/touch ./t && ./t \"$MARK\"");
    assert_blocked(&sb, "symlink", &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(runs /usr/bin/touch)"), "{stderr}");
    // A link found through PATH (execvp) is resolved too.
    let out = bash(
        &sb,
        "mkdir -p bin && ln -sf /usr/bin/touch bin/t && PATH=$PWD/bin:$PATH t \"$MARK\"",
    );
    assert_blocked(&sb, "symlink on PATH", &out);
}

#[test]
fn a_symlink_is_resolved_by_the_binary_where_the_file_exists() {
    let sb = sandbox("symlink-cli");
    std::os::unix::fs::symlink("/usr/bin/touch", sb.root.join("t")).unwrap();
    let policy = sb.root.join("named.yaml");
    std::fs::write(&policy, NAMED_POLICY).unwrap();
    let call = serde_json::json!({
        "tool": "exec",
        "params": {"command": "./t evasion-marker"},
        "workdir": sb.root.to_str().unwrap(),
    });
    let out = Command::new(crate::rampart_bin())
        .arg("--config")
        .arg(&policy)
        .arg("check")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "{call}")?;
            drop(stdin);
            child.wait_with_output()
        })
        .expect("rampart check runs");
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON decision");
    assert_eq!(reply["decision"], "deny", "{reply}");
}

#[test]
fn launchers_are_read_through() {
    let loader = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let mut cases = vec![
        ("env -S", "env -S \"touch $MARK\""),
        ("exec -a", "exec -a innocent /usr/bin/touch \"$MARK\""),
        ("ionice", "ionice -c3 touch \"$MARK\""),
        ("taskset", "taskset -c 0 touch \"$MARK\""),
        ("xargs", "echo \"$MARK\" | xargs touch"),
    ];
    let loader_script;
    if let Some(loader) = loader {
        loader_script = format!("{loader} /usr/bin/touch \"$MARK\"");
        cases.push(("the dynamic loader", &loader_script));
    }
    if have("busybox") {
        cases.push(("busybox", "busybox touch \"$MARK\""));
    }
    for (what, script) in cases {
        let sb = sandbox(&what.replace(' ', "-"));
        let out = bash(&sb, script);
        assert_blocked(&sb, what, &out);
    }
}

#[test]
fn interpreters_exec_functions_are_read_through() {
    if !have("python3") {
        eprintln!("python3 not installed; skipping");
        return;
    }
    // Through the preload: the interpreter's exec call is an exec the library decides.
    let sb = sandbox("python-exec");
    let mut c = sb.command("python3");
    c.args([
        "-c",
        "import os, sys; os.execv('/usr/bin/touch', ['innocent', os.environ['MARK']])",
    ])
    .env("MARK", sb.marker("evasion-marker"));
    let out = run(c);
    assert_blocked(&sb, "python os.execv", &out);
    // Through the binary (an agent's command string, no preload): the literal the exec function
    // is handed is read as a command.
    let policy = sb.root.join("named.yaml");
    std::fs::write(&policy, NAMED_POLICY).unwrap();
    for command in [
        "python3 -c 'import os; os.system(\"touch evasion-marker\")'",
        "perl -e 'system(\"touch evasion-marker\")'",
        "node -e \"require('child_process').execSync('touch evasion-marker')\"",
        "vim -c ':!touch evasion-marker' -c ':q!'",
        "tar -cf /dev/null /dev/null --checkpoint=1 --checkpoint-action=exec='touch evasion-marker'",
    ] {
        let out = Command::new(crate::rampart_bin())
            .arg("--config")
            .arg(&policy)
            .args(["policy", "explain", command])
            .output()
            .expect("rampart runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("decision: deny"), "{command}: {text}");
    }
}

/// Compiles a C helper that execs `/usr/bin/touch $MARK` its own way.
fn helper(sb: &Sandbox, name: &str, source: &str, static_link: bool) -> Option<std::path::PathBuf> {
    if !have("cc") {
        eprintln!("no C compiler; skipping {name}");
        return None;
    }
    let src = sb.root.join(format!("{name}.c"));
    let bin = sb.root.join(name);
    std::fs::write(&src, source).unwrap();
    let mut cc = Command::new("cc");
    if static_link {
        cc.arg("-static");
    }
    let status = cc.arg("-o").arg(&bin).arg(&src).status().ok()?;
    if !status.success() {
        eprintln!("could not build {name} (static libc missing?); skipping");
        return None;
    }
    Some(bin)
}

const EXEC_TOUCH: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void) {
    char *argv[] = {"touch", getenv("MARK"), 0};
    printf("euid=%d\n", (int)geteuid());
    fflush(stdout);
    execv("/usr/bin/touch", argv);
    return 111;
}
"#;

const SYSCALL_TOUCH: &str = r#"
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
extern char **environ;
int main(void) {
    char *argv[] = {"touch", getenv("MARK"), 0};
    syscall(SYS_execve, "/usr/bin/touch", argv, environ);
    return 111;
}
"#;

/// Runs a helper with the library preloaded: whether the marker was created, and what it printed.
fn helper_run(sb: &Sandbox, bin: &Path) -> (bool, String) {
    let mut c = sb.command(bin.to_str().unwrap());
    c.env("MARK", sb.marker("evasion-marker"));
    let out = run(c);
    (
        sb.exists("evasion-marker"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn helper_touched(sb: &Sandbox, bin: &Path) -> bool {
    helper_run(sb, bin).0
}

#[test]
fn limit_a_static_binary_execs_unseen() {
    let sb = sandbox("limit-static");
    let Some(bin) = helper(&sb, "static_exec", EXEC_TOUCH, true) else {
        return;
    };
    // The loader never runs for a static binary, so nothing is preloaded into it: its execv of
    // touch is not decided (the exec of the static binary itself was, and was allowed).
    assert!(
        helper_touched(&sb, &bin),
        "a static binary's exec was intercepted"
    );
    // The same program linked dynamically is decided.
    let sb = sandbox("limit-static-dynamic");
    let bin = helper(&sb, "dynamic_exec", EXEC_TOUCH, false).unwrap();
    assert!(!helper_touched(&sb, &bin), "a dynamic binary's exec ran");
}

#[test]
fn limit_a_direct_system_call_execs_unseen() {
    let sb = sandbox("limit-syscall");
    let Some(bin) = helper(&sb, "syscall_exec", SYSCALL_TOUCH, false) else {
        return;
    };
    // The library interposes libc's functions; syscall(SYS_execve) goes to the kernel directly.
    assert!(
        helper_touched(&sb, &bin),
        "a raw execve system call was intercepted"
    );
}

#[test]
fn limit_a_setuid_program_drops_the_library() {
    // Secure execution (a set-user-ID program whose owner is not the caller) makes the loader
    // ignore LD_PRELOAD. It takes root to create a program owned by another user.
    let uid = Command::new("id").arg("-u").output().expect("id runs");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        eprintln!("not root; skipping the setuid demonstration");
        return;
    }
    let sb = sandbox("limit-setuid");
    let Some(bin) = helper(&sb, "setuid_exec", EXEC_TOUCH, false) else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    let nobody = 65534;
    std::os::unix::fs::chown(&bin, Some(nobody), None).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap();
    // The marker directory must be writable by the program's owner.
    std::fs::set_permissions(sb.root.join("m"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (touched, printed) = helper_run(&sb, &bin);
    if !printed.contains(&format!("euid={nobody}")) {
        // A file system mounted nosuid runs the program as the caller: no secure execution.
        eprintln!("set-user-ID not honoured here ({printed:?}); skipping");
        return;
    }
    assert!(touched, "a setuid program's exec was intercepted");
}

/// A copy has no link to follow: the policy sees the name it was given. docs/protection.md
/// documents this limit with the cost of recognising programs by content (see
/// `content_recognition_cost`).
#[test]
fn limit_a_copy_under_another_name_is_decided_by_its_new_name() {
    let sb = sandbox("limit-copy");
    let out = bash(&sb, "cp /usr/bin/touch ./c && ./c \"$MARK\"");
    assert!(
        sb.exists("evasion-marker"),
        "a renamed copy was recognised: update docs/protection.md ({})",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What recognising copies of the programs the standard profile names would cost: a table of
/// (size, SHA-256 of the first 4 KiB) built from the files those names resolve to on this
/// machine, and per exec a `stat` (the size first: most files match no entry) and, on a size hit,
/// a 4 KiB read and digest. Run with `cargo test --release --test tests content_recognition_cost
/// -- --ignored --nocapture`; the numbers are in docs/protection.md.
#[test]
#[ignore = "a measurement, not a check; run in release"]
fn content_recognition_cost() {
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::io::Read;
    use std::time::Instant;

    let yaml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/standard.yaml"),
    )
    .unwrap();
    // The heads the profile names: the first word of each anchored command pattern.
    let mut names: Vec<String> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- \""))
        .filter_map(|p| p.split([' ', '"', '*']).next())
        .filter(|w| {
            w.len() > 1
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(String::from)
        .collect();
    names.sort();
    names.dedup();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let started = Instant::now();
    let mut table: HashMap<u64, Vec<([u8; 32], String)>> = HashMap::new();
    let mut found = 0;
    for name in &names {
        let Some(file) = std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::canonicalize(p).ok())
        else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mut head = vec![0u8; 4096];
        let n = std::fs::File::open(&file)
            .and_then(|mut f| f.read(&mut head))
            .unwrap_or(0);
        let digest: [u8; 32] = Sha256::digest(&head[..n]).into();
        table
            .entry(meta.len())
            .or_default()
            .push((digest, name.clone()));
        found += 1;
    }
    let build = started.elapsed();
    println!(
        "{} names in the profile, {found} found on PATH; table of {} sizes built in {build:?} \
         ({} bytes as (u64 size, [u8; 32] digest, u16 name) entries)",
        names.len(),
        table.len(),
        found * (8 + 32 + 2)
    );
    // Per exec: every file of /usr/bin, each looked up as the preload would.
    let files: Vec<_> = std::fs::read_dir("/usr/bin")
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    let (mut hits, mut hit_time, mut miss_time) = (0u32, 0u128, 0u128);
    for file in &files {
        let t = Instant::now();
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let hit = table.get(&size).is_some_and(|entries| {
            let mut head = vec![0u8; 4096];
            let n = std::fs::File::open(file)
                .and_then(|mut f| f.read(&mut head))
                .unwrap_or(0);
            let digest: [u8; 32] = Sha256::digest(&head[..n]).into();
            entries.iter().any(|(d, _)| *d == digest)
        });
        let ns = t.elapsed().as_nanos();
        if hit {
            hits += 1;
            hit_time += ns;
        } else {
            miss_time += ns;
        }
    }
    let misses = files.len() as u128 - u128::from(hits);
    println!(
        "{} files of /usr/bin: {hits} recognised, {:.1} us per recognised file, {:.1} us per other",
        files.len(),
        hit_time as f64 / f64::from(hits.max(1)) / 1000.0,
        miss_time as f64 / misses.max(1) as f64 / 1000.0
    );
    // The whole-file alternative, for the largest program named.
    if let Some(bash) = std::env::split_paths(&path)
        .map(|d| d.join("bash"))
        .find(|p| p.is_file())
    {
        let t = Instant::now();
        let bytes = std::fs::read(&bash).unwrap();
        let _ = Sha256::digest(&bytes);
        println!(
            "a whole-file digest of bash ({} bytes) takes {:?}",
            bytes.len(),
            t.elapsed()
        );
    }
}
