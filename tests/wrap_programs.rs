//! `rampart wrap` around real programs that run commands through a shell: a bash script using
//! `$SHELL -c`, Python calling `bash -lc` by name, Python's `os.system` and `subprocess(shell=True)`,
//! Node's `child_process.exec` and `execSync`. Each runs an allowed command that leaves a marker
//! file, and a denied one (reading an SSH key that does not exist) followed by a marker that only
//! appears if the denied command line ran at all.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::mcp_proxy::{audit, installed};

const DENIED: &str = "cat ~/.ssh/id_rsa; touch denied-marker";
const ALLOWED: &str = "touch allowed-marker";

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("wrap-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wrap(home: &Path, flags: &[&str], agent: &[&str]) -> Output {
    Command::new(crate::rampart_bin())
        .current_dir(home)
        .env("HOME", home)
        .env("SHELL", "/bin/bash")
        .env("RAMPART_URL", "http://127.0.0.1:9")
        .args(flags)
        .arg("wrap")
        .arg("--")
        .args(agent)
        .output()
        .unwrap()
}

fn require(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    installed(found, tool)
}

/// Runs `agent` (a script in `lang`) under the wrapper and checks what ran and what was recorded.
fn check_agent(name: &str, interpreter: &str, file: &str, script: &str) {
    if !require(interpreter) {
        return;
    }
    let home = scratch(name);
    std::fs::write(home.join(file), script).unwrap();
    let out = wrap(&home, &[], &[interpreter, file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name}: {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        home.join("allowed-marker").exists(),
        "{name}: the allowed command did not run\n{stdout}\n{stderr}"
    );
    assert!(
        !home.join("denied-marker").exists(),
        "{name}: the denied command line ran\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("denied-status=126"),
        "{name}: the agent must see exit code 126\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("rampart: blocked by policy: Reading or copying a private SSH key"),
        "{name}: {stderr}"
    );
    let records = audit(&home);
    let decided: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["decision"]["action"].as_str().unwrap(),
                r["request"]["command"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(decided.contains(&("allow", ALLOWED)), "{name}: {decided:?}");
    assert!(decided.contains(&("deny", DENIED)), "{name}: {decided:?}");
    assert!(
        records
            .iter()
            .all(|r| r["tool"] == "exec" && r["agent"] == interpreter),
        "{records:?}"
    );
}

#[test]
fn a_bash_agent_using_dollar_shell_dash_c() {
    let script = format!(
        "$SHELL -c '{ALLOWED}'\n$SHELL -c '{DENIED}'\necho denied-status=$?\ncase \"$SHELL\" in /bin/bash) exit 9;; esac\n"
    );
    check_agent("shell-c", "bash", "agent.sh", &script);
}

#[test]
fn a_python_agent_calling_bash_lc_by_name() {
    let script = format!(
        "import subprocess\nsubprocess.run(['bash', '-lc', {ALLOWED:?}])\nr = subprocess.run(['bash', '-lc', {DENIED:?}])\nprint('denied-status=%d' % r.returncode)\n"
    );
    check_agent("bash-lc", "python3", "agent.py", &script);
}

#[test]
fn a_python_agent_using_os_system_and_shell_true() {
    let script = format!(
        "import os, subprocess\nos.system({ALLOWED:?})\nstatus = os.system({DENIED:?})\nprint('denied-status=%d' % os.waitstatus_to_exitcode(status))\nassert subprocess.run({DENIED:?}, shell=True).returncode == 126\nassert subprocess.check_output('echo via-popen', shell=True) == b'via-popen\\n'\n"
    );
    check_agent("os-system", "python3", "agent.py", &script);
}

#[test]
fn a_node_agent_using_child_process_exec() {
    let script = format!(
        "const cp = require('child_process');\ncp.execSync({ALLOWED:?});\ncp.exec({DENIED:?}, (error, stdout, stderr) => {{\n  console.log('denied-status=' + (error && error.code));\n  process.stderr.write(stderr);\n}});\n"
    );
    check_agent("node-exec", "node", "agent.js", &script);
}

#[test]
fn interactive_use_passes_through_and_the_agents_exit_code_is_kept() {
    let home = scratch("interactive");
    // Commands on a shell's stdin are the user's (or a script's), not a `-c` command: passed through.
    let script = "echo 'touch stdin-marker' | $SHELL\nexit 3\n";
    std::fs::write(home.join("agent.sh"), script).unwrap();
    let out = wrap(&home, &[], &["bash", "agent.sh"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(home.join("stdin-marker").exists());
}

#[test]
fn monitor_mode_records_the_deny_and_lets_it_run() {
    let home = scratch("monitor");
    let script = format!("$SHELL -c '{DENIED}'\n");
    std::fs::write(home.join("agent.sh"), script).unwrap();
    let out = Command::new(crate::rampart_bin())
        .current_dir(&home)
        .env("HOME", &home)
        .args(["wrap", "--mode", "monitor", "--", "bash", "agent.sh"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(home.join("denied-marker").exists());
    let records = audit(&home);
    assert!(
        records.iter().any(|r| r["decision"]["action"] == "deny"),
        "{records:?}"
    );
}

#[test]
fn commands_are_recorded_with_the_callers_identity_as_a_hook_derives_it() {
    let home = scratch("identity");
    // A work tree of its own: the session is `<repository>/<branch>`, as for the host's hooks.
    let repo = home.join("myrepo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/feature/x\n").unwrap();
    std::fs::write(
        repo.join("agent.sh"),
        format!("$SHELL -c '{ALLOWED}'\nRAMPART_AGENT_DEPTH=deep $SHELL -c 'touch deep-marker'\necho status=$?\n"),
    )
    .unwrap();
    let out = Command::new(crate::rampart_bin())
        .current_dir(&repo)
        .env("HOME", &home)
        .env("RAMPART_URL", "http://127.0.0.1:9")
        .env("RAMPART_RUN", "run-7")
        .env_remove("RAMPART_SESSION")
        .args(["wrap", "--", "bash", "agent.sh"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(repo.join("allowed-marker").exists(), "{stdout}{stderr}");
    let records = audit(&home);
    let record = records
        .iter()
        .find(|r| r["request"]["command"] == ALLOWED)
        .unwrap_or_else(|| panic!("{records:?}"));
    assert_eq!(record["session"], "myrepo/feature/x", "{record}");
    assert_eq!(record["run_id"], "run-7", "{record}");
    // An agent depth that is not a number refuses the command: a depth limit must not read as 0.
    assert!(stdout.contains("status=126"), "{stdout}{stderr}");
    assert!(!repo.join("deep-marker").exists());
    assert!(
        stderr.contains("RAMPART_AGENT_DEPTH=\"deep\" is not a whole number; failing closed"),
        "{stderr}"
    );
}

#[test]
fn the_real_shell_starts_with_sigpipe_at_its_default() {
    // rampart ignores SIGPIPE itself; a shell that inherited that would make `yes | head` print
    // "Broken pipe" errors where the user's shell stays silent.
    let home = scratch("sigpipe");
    std::fs::write(
        home.join("agent.sh"),
        "$SHELL -c 'yes | head -n 1; grep SigIgn /proc/self/status'\n",
    )
    .unwrap();
    let out = wrap(&home, &[], &["bash", "agent.sh"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.starts_with("y\n"), "{stdout}{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    let ignored = stdout
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|mask| u64::from_str_radix(mask.trim(), 16).unwrap())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(ignored & (1 << (libc::SIGPIPE - 1)), 0, "{stdout}");
}

#[test]
fn a_policy_that_does_not_load_denies_every_command() {
    let home = scratch("broken-policy");
    std::fs::write(
        home.join("broken.yaml"),
        "policies: [ {name: x, rules: [ {action: allow, when: {nope: 1}} ] } ]\n",
    )
    .unwrap();
    std::fs::write(
        home.join("agent.sh"),
        format!("$SHELL -c '{ALLOWED}'\necho status=$?\n"),
    )
    .unwrap();
    let out = wrap(&home, &["--config", "broken.yaml"], &["bash", "agent.sh"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("status=126"),
        "{out:?}"
    );
    assert!(!home.join("allowed-marker").exists());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("failing closed"),
        "{out:?}"
    );
}
