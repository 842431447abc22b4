//! The shell model through its public API: what a deny rule sees (restrictive readings), what an
//! allow rule must cover (grant components), and the §12 "Command evasion" checklist of the
//! upstream reference, one case per item.

use rampart_runtime::shell::{read_argv, read_command, Reader};

/// Asserts that `reading` is among the restrictive readings of `cmd`.
#[track_caller]
fn assert_reads(cmd: &str, reading: &str) {
    let r = read_command(cmd);
    assert!(
        r.restrictive.iter().any(|x| x == reading),
        "{cmd:?} should read as {reading:?}; readings: {:#?}",
        r.restrictive
    );
    assert!(!r.overflow, "{cmd:?} overflowed");
}

#[track_caller]
fn assert_not_reads(cmd: &str, reading: &str) {
    let r = read_command(cmd);
    assert!(
        !r.restrictive.iter().any(|x| x == reading),
        "{cmd:?} should not read as {reading:?}; readings: {:#?}",
        r.restrictive
    );
}

#[test]
fn raw_is_the_first_reading() {
    let r = read_command("git status && rm -rf /tmp/x");
    assert_eq!(r.restrictive.first(), Some("git status && rm -rf /tmp/x"));
    let mut seen = std::collections::HashSet::new();
    assert!(
        r.restrictive.iter().all(|x| seen.insert(x)),
        "duplicates: {:?}",
        r.restrictive
    );
}

#[test]
fn checklist_quotes_and_backslashes_in_the_binary_name() {
    for cmd in ["'r'm -rf /", "\"rm\" -rf /", "r\\m -rf /", "r\\m -r\\f /"] {
        assert_reads(cmd, "rm -rf /");
    }
}

#[test]
fn checklist_env_prefixes_and_launchers() {
    for cmd in [
        "FOO=bar rm -rf /",
        "env -i FOO=1 rm -rf /",
        "env -S 'rm -rf /'",
        "env -uVAR rm -rf /",
        "command rm -rf /",
        "exec -a x rm -rf /",
        "nohup rm -rf / &",
        "nice -n 10 rm -rf /",
        "timeout 5 rm -rf /",
        "setsid rm -rf /",
        "stdbuf -oL rm -rf /",
        "FOO=1 env A=2 nohup nice -n 1 timeout -s KILL 5 setsid stdbuf -o0 command exec rm -rf /",
    ] {
        assert_reads(cmd, "rm -rf /");
    }
}

#[test]
fn checklist_shell_wrappers() {
    for cmd in [
        "bash -c 'rm -rf /'",
        "bash -lc 'rm -rf /'",
        "bash -ic 'rm -rf /'",
        "sh -c 'rm -rf /'",
        "zsh -c 'rm -rf /'",
        "dash -c 'rm -rf /'",
        "ash -c 'rm -rf /'",
        "ksh -c 'rm -rf /'",
        "/bin/bash -c 'rm -rf /'",
        "bash -lc \"FOO=1 sh -c 'rm -rf /'\"",
        "sh -c \"bash -c \\\"zsh -c 'rm -rf /'\\\"\"",
    ] {
        assert_reads(cmd, "rm -rf /");
    }
    assert_reads("cmd /c del /f x", "del /f x");
    assert_reads("cmd /k del /f x", "del /f x");
    assert_reads("cmd /cdel /f x", "del /f x");
    assert_reads("cmd /c d^e^l /f x", "del /f x");
    assert_reads("powershell -Command Remove-Item x", "Remove-Item x");
    assert_reads("pwsh -c \"R`emove-Item x\"", "Remove-Item x");
}

#[test]
fn checklist_compound_commands() {
    for cmd in [
        "ls; rm -rf /",
        "ls && rm -rf /",
        "false || rm -rf /",
        "ls | rm -rf /",
        "sleep 1 & rm -rf /",
        "ls\nrm -rf /",
    ] {
        assert_reads(cmd, "rm -rf /");
        let r = read_command(cmd);
        assert!(r.composite, "{cmd:?}");
        assert!(
            r.components.iter().any(|c| c == "rm -rf /"),
            "{cmd:?}: {:?}",
            r.components
        );
    }
}

#[test]
fn checklist_substitutions() {
    for cmd in [
        "echo $(rm -rf /)",
        "echo $(echo $(rm -rf /))",
        "echo `rm -rf /`",
        "cat <(rm -rf /)",
        "tee >(rm -rf /)",
        "eval 'rm -rf /'",
        "bash <<< 'rm -rf /'",
        "bash <<<'rm -rf /'",
        "echo '$(rm -rf /)'",
    ] {
        assert_reads(cmd, "rm -rf /");
    }
}

#[test]
fn checklist_grouping_and_control_flow() {
    for cmd in [
        "(rm -rf /)",
        "{ rm -rf /; }",
        "if true; then rm -rf /; fi",
        "while rm -rf /; do sleep 1; done",
        "until rm -rf /; do :; done",
        "for x in a; do rm -rf /; done",
        "case x in x) rm -rf /;; esac",
        "! rm -rf /",
        "if ! (rm -rf /); then :; else rm -rf /; fi",
        "if X='a b' rm -rf /; then :; fi",
        "while true; do FOO='x y' sudo rm -rf /; done",
    ] {
        assert_reads(cmd, "rm -rf /");
    }
}

#[test]
fn checklist_rm_and_find_semantics() {
    for cmd in [
        "rm -fr /",
        "rm -r -f /",
        "rm --recursive --force /",
        "rm -vfr -- /",
        "rm -rf /tmp /",
        "rm -rf //",
        "rm -rf /./",
        "rm -rf /tmp/../",
        "busybox rm -rf /",
        "toybox rm -rf /",
        "/bin/rm -rf /",
        "find / -delete",
        "find / -exec /bin/rm -rf {} \\;",
        "find / -execdir rm -rf {} +",
        "sudo rm -fr /",
    ] {
        assert_reads(cmd, "rm -rf /");
    }
    assert_reads("find -delete", "rm -rf .");
    assert_not_reads("rm -f /", "rm -rf /");
    assert_not_reads("find /tmp/cache -delete", "rm -rf /");
}

#[test]
fn checklist_exclusions_do_not_consume_a_sibling() {
    let r = read_command("rm -rf /tmp/x && rm -rf /");
    assert!(r.components.iter().any(|c| c == "rm -rf /tmp/x"));
    assert!(r.components.iter().any(|c| c == "rm -rf /"));
}

#[test]
fn checklist_comments() {
    let r = read_command("pkill rampart # rampart status");
    assert_eq!(
        r.restrictive.first(),
        Some("pkill rampart # rampart status")
    );
    assert_reads(
        "pkill rampart # rampart status",
        "pkill rampart # rampart status",
    );
    // A quoted '#' is an operand, not a comment.
    assert_reads("rm -rf '#x'", "rm -rf #x");
    assert_not_reads("rm -rf x # /", "rm -rf /");
}

#[test]
fn checklist_control_characters_are_stripped() {
    for cmd in [
        "rm\0 -rf /",
        "r\x1b[31mm\x1b[0m -rf /",
        "rm -rf /\x07",
        "rm\r -rf /",
    ] {
        let r = read_command(cmd);
        assert_eq!(r.raw, "rm -rf /", "{cmd:?}");
        assert_reads(cmd, "rm -rf /");
    }
}

#[test]
fn checklist_env_var_injection() {
    let cases: &[(&str, &[&str])] = &[
        ("LD_PRELOAD=/tmp/x.so ls", &["LD_PRELOAD"]),
        ("export LD_PRELOAD=/tmp/x.so", &["LD_PRELOAD"]),
        ("export LD_PRELOAD", &["LD_PRELOAD"]),
        ("env LD_PRELOAD=/tmp/x.so ls", &["LD_PRELOAD"]),
        ("RAMPART_MODE=disabled rampart serve", &["RAMPART_MODE"]),
        ("cmd /c set RAMPART_MODE=disabled", &["RAMPART_MODE"]),
        ("setx RAMPART_MODE disabled", &["RAMPART_MODE"]),
        (
            "powershell -c \"$env:RAMPART_MODE='disabled'\"",
            &["RAMPART_MODE"],
        ),
        ("Set-Item env:LD_PRELOAD x", &["LD_PRELOAD"]),
        (
            "[Environment]::SetEnvironmentVariable(\"LD_PRELOAD\", \"x\")",
            &["LD_PRELOAD"],
        ),
        ("printf 'LD_PRELOAD=%s' /tmp/x.so", &[]),
        ("git log $(LD_PRELOAD=x whoami)", &["LD_PRELOAD"]),
    ];
    for (cmd, want) in cases {
        assert_eq!(read_command(cmd).env_assignments, *want, "{cmd:?}");
    }
}

#[test]
fn checklist_redirect_writes_keep_the_target_visible() {
    // Policies match these with globs on the raw command and components; the reading keeps them.
    let r = read_command("printf bad > ~/.rampart/policies/x.yaml");
    assert!(r
        .components
        .iter()
        .any(|c| c == "printf bad > ~/.rampart/policies/x.yaml"));
}

#[test]
fn checklist_interpreter_one_liners_and_encoded_payloads_stay_readable() {
    // These are policy-level patterns; the readings must keep the text intact for them.
    for (cmd, comp) in [
        (
            "python3 -c \"import os; os.system('rm -rf /')\"",
            "python3 -c import os; os.system('rm -rf /')",
        ),
        ("echo cm0gLXJmIC8= | base64 -d | bash", "bash"),
        (
            "node -e 'require(\"fs\").rmSync(\"/\")'",
            "node -e require(\"fs\").rmSync(\"/\")",
        ),
    ] {
        let r = read_command(cmd);
        assert!(
            r.restrictive.iter().any(|x| x == comp),
            "{cmd:?}: {:#?}",
            r.restrictive
        );
    }
    assert_reads("eval $(echo cm0gLXJmIC8= | base64 -d)", "base64 -d");
}

#[test]
fn improvements_see_through_privilege_and_fan_out() {
    for cmd in [
        "sudo rm -rf /",
        "sudo -u root -E rm -rf /",
        "sudo -- rm -rf /",
        "sudo bash -c 'rm -rf /'",
        "doas rm -rf /",
        "doas -u root rm -rf /",
        "su -c 'rm -rf /'",
        "su root -c 'rm -rf /'",
        "xargs rm -rf /",
        "xargs -0 -n1 rm -rf /",
        "echo / | xargs -I{} rm -rf /",
        "find / -exec sudo rm -rf {} \\;",
        "find / -ok rm -rf {} \\;",
        "sudo xargs rm -fr /",
        "sudo /bin/busybox rm -rf /",
        "FOO=1 nohup sudo -E rm -rf /",
    ] {
        assert_reads(cmd, "rm -rf /");
    }
    assert_reads("find . -name '*.tmp' -exec shred -u {} \\;", "shred -u .");
}

#[test]
fn grant_components_never_see_through_sudo() {
    let cases: &[(&str, &[&str])] = &[
        ("sudo git status", &["sudo git status"]),
        ("xargs rm -rf /", &["xargs rm -rf /"]),
        // Upstream's quirk: the unquoted `;` of the normalized form splits again.
        ("find . -exec rm {} \\;", &["find . -exec rm {}"]),
        ("su -c 'git status'", &["su -c git status"]),
    ];
    for (cmd, want) in cases {
        assert_eq!(read_command(cmd).components, *want, "{cmd:?}");
    }
}

#[test]
fn grant_components_table() {
    let cases: &[(&str, &str, &[&str], bool)] = &[
        ("git status", "git status", &["git status"], false),
        (
            "git status && git log",
            "git status && git log",
            &["git status", "git log"],
            true,
        ),
        (
            "git status && curl x",
            "git status && curl x",
            &["git status", "curl x"],
            true,
        ),
        (
            "git log $(whoami)",
            "git log $(whoami)",
            &["git log $(whoami)", "whoami"],
            true,
        ),
        (
            "npm install express && npm test | tee out.log",
            "npm install express && npm test && tee out.log",
            &["npm install express", "npm test", "tee out.log"],
            true,
        ),
        ("echo 'a && b'", "echo a && b", &["echo a", "b"], true),
        (
            "FOO=1 bash -lc 'git status'",
            "git status",
            &["git status"],
            false,
        ),
        (
            "cd /x && FOO=1 make -j4 2>&1 | tail",
            "cd /x && make -j4 2>&1 && tail",
            &["cd /x", "make -j4 2>&1", "tail"],
            true,
        ),
    ];
    for (cmd, normalized, comps, composite) in cases {
        let r = read_command(cmd);
        assert_eq!(r.normalized, *normalized, "{cmd:?}");
        assert_eq!(r.components, *comps, "{cmd:?}");
        assert_eq!(r.composite, *composite, "{cmd:?}");
    }
}

#[test]
fn restrictive_readings_cover_alternates() {
    assert_reads("/usr/bin/git push --force", "git push --force");
    assert_reads("busybox wget http://x", "wget http://x");
    assert_reads("echo 'x' & r^m -rf /", "rm -rf /");
    assert_reads("r`m -rf /", "rm -rf /");
    assert_reads("bash -c 'ls && rm -rf /'", "rm -rf /");
}

#[test]
fn overflow_fails_closed() {
    let many: String = (0..300).map(|i| format!("/d{i} ")).collect();
    let r = read_command(&format!("rm -rf {many}"));
    assert!(r.overflow, "more than 256 aliases must overflow");

    let deep = format!("{}rm -rf /{}", "$(".repeat(40), ")".repeat(40));
    assert!(read_command(&deep).overflow);

    // Quoting nested wrappers grows exponentially, so nest launchers instead.
    let wrapped = format!("{}rm -rf /", "env ".repeat(100));
    assert!(read_command(&wrapped).overflow);

    let r = read_command("rm -rf /a /b /c");
    assert!(!r.overflow);
}

#[test]
fn unterminated_input_runs_to_the_end() {
    assert_reads("echo 'x; rm -rf /", "echo x; rm -rf /");
    assert_reads("echo $(rm -rf /", "rm -rf /");
    assert_reads("echo `rm -rf /", "rm -rf /");
    assert_reads("bash -c 'rm -rf /", "rm -rf /");
}

#[test]
fn read_argv_uses_the_words() {
    let r = read_argv(&["git", "commit", "-m", "a && b"]);
    assert_eq!(r.raw, "git commit -m 'a && b'");
    assert_eq!(r.components, ["git commit -m a && b"]);
    assert!(!r.composite);

    let r = read_argv(&["/bin/rm", "-rf", "/"]);
    assert_eq!(r.raw, "/bin/rm -rf /");
    assert!(r.restrictive.iter().any(|x| x == "rm -rf /"));

    let r = read_argv(&["bash", "-c", "git status && rm -fr //"]);
    assert_eq!(r.raw, "bash -c 'git status && rm -fr //'");
    assert_eq!(r.components, ["git status", "rm -fr //"]);
    assert!(r.composite);
    assert!(r.restrictive.iter().any(|x| x == "rm -rf /"));

    let r = read_argv(&["env", "LD_PRELOAD=/x.so", "ls"]);
    assert_eq!(r.env_assignments, ["LD_PRELOAD"]);
    assert_eq!(r.components, ["ls"]);

    let r = read_argv(&["sudo", "rm", "-rf", "/"]);
    assert_eq!(r.components, ["sudo rm -rf /"]);
    assert!(r.restrictive.iter().any(|x| x == "rm -rf /"));

    let r = read_argv(&["rm", "-rf", "a b"]);
    assert!(
        r.restrictive.iter().any(|x| x == "rm -rf a b"),
        "{:?}",
        r.restrictive
    );
}

/// A reader used for one command after another reads each as a fresh one does.
#[test]
fn a_reused_reader_reads_like_a_fresh_one() {
    let mut reader = Reader::new();
    for cmd in ["sudo rm -rf / && LD_PRELOAD=x ls", "git status", ""] {
        assert_eq!(reader.read_command(cmd), &read_command(cmd));
    }
    let argv: &[&[&str]] = &[&["bash", "-c", "rm -rf /"], &["ls"], &[]];
    for a in argv {
        assert_eq!(reader.read_argv(a), &read_argv(a));
    }
}

#[test]
fn empty_command_reads_nothing() {
    let r = read_command("");
    assert!(r.components.is_empty());
    assert!(r.restrictive.is_empty());
    assert!(!r.overflow);
}
