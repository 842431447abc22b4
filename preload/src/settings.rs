//! The RAMPART_* settings (upstream §4.4): their values are copied by the constructor
//! (`Snapshot` in lib.rs) and turned into [`Settings`] by the first hook that runs.
//!
//! Why a snapshot: a hook may run in a vfork child, where getenv on a changing environ is unsafe,
//! and the values must survive the program's own `unsetenv`/`clearenv` so that they can be put back
//! into every child environment. The settings also pre-render those child entries
//! (`NAME=value\0`), so a hook only copies pointers.

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::text::lossy;

/// What the library does with a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deny what the policy denies.
    Enforce,
    /// Decide and record, but allow everything.
    Monitor,
    /// Do nothing at all.
    Disabled,
}

impl Mode {
    /// Upstream: any value other than `monitor` or `disabled` behaves like enforce.
    pub fn parse(value: Option<&[u8]>) -> Mode {
        match value {
            Some(b"monitor") => Mode::Monitor,
            Some(b"disabled") => Mode::Disabled,
            _ => Mode::Enforce,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Monitor => "monitor",
            Mode::Disabled => "disabled",
        }
    }
}

/// Every variable the library owns in a child environment. Caller entries with these names are
/// dropped and replaced by the snapshot.
pub const MANAGED: [&[u8]; 9] = [
    b"LD_PRELOAD",
    b"RAMPART_URL",
    b"RAMPART_TOKEN",
    b"RAMPART_MODE",
    b"RAMPART_FAIL_OPEN",
    b"RAMPART_AGENT",
    b"RAMPART_SESSION",
    b"RAMPART_DEBUG",
    b"RAMPART_POLICY",
];

pub const DEFAULT_URL: &[u8] = b"http://127.0.0.1:9090";

#[derive(Debug)]
pub struct Settings {
    pub mode: Mode,
    /// Upstream: fail open when RAMPART_FAIL_OPEN is unset or exactly "1".
    pub fail_open: bool,
    pub debug: bool,
    pub url: Vec<u8>,
    pub token: Vec<u8>,
    pub agent: String,
    pub session: String,
    /// The bundle's path, NUL-terminated for stat/open.
    pub policy_path: Vec<u8>,
    /// `$HOME` (or the password entry's directory), where `.rampart/` lives.
    pub home: Vec<u8>,
    /// The child entries (`NAME=value\0`), or `None` when this library's own path is unknown, in
    /// which case no child environment can be made safe and enforce mode denies.
    pub child_env: Option<Vec<Vec<u8>>>,
}

impl Settings {
    /// Builds the settings from a variable lookup, this process's id, `$HOME` and the library's path.
    pub fn from_lookup<'a>(
        get: impl Fn(&str) -> Option<&'a [u8]>,
        pid: u32,
        home: &[u8],
        library: Option<&[u8]>,
    ) -> Settings {
        let non_empty = |name| get(name).filter(|v| !v.is_empty());
        let mode = Mode::parse(get("RAMPART_MODE"));
        let fail_open = matches!(get("RAMPART_FAIL_OPEN"), None | Some(b"1"));
        let debug = get("RAMPART_DEBUG") == Some(b"1");
        let url = non_empty("RAMPART_URL").unwrap_or(DEFAULT_URL).to_vec();
        let token = get("RAMPART_TOKEN").unwrap_or(b"").to_vec();
        let agent = non_empty("RAMPART_AGENT").map_or_else(|| String::from("preload"), lossy);
        let session = non_empty("RAMPART_SESSION").map_or_else(|| default_session(pid), lossy);
        let mut policy_path = match non_empty("RAMPART_POLICY") {
            Some(p) => p.to_vec(),
            None => [home, b"/.rampart/policy.bin"].concat(),
        };
        let child_env = library.map(|lib| {
            let preload = with_library(get("LD_PRELOAD").unwrap_or(b""), lib);
            let mut entries = Vec::new();
            let mut add = |name: &[u8], value: &[u8]| {
                entries.push([name, b"=", value, b"\0"].concat());
            };
            add(b"LD_PRELOAD", &preload);
            add(b"RAMPART_URL", &url);
            if !token.is_empty() {
                add(b"RAMPART_TOKEN", &token);
            }
            add(b"RAMPART_MODE", mode.name().as_bytes());
            add(b"RAMPART_FAIL_OPEN", if fail_open { b"1" } else { b"0" });
            add(b"RAMPART_AGENT", agent.as_bytes());
            add(b"RAMPART_SESSION", session.as_bytes());
            add(b"RAMPART_DEBUG", if debug { b"1" } else { b"0" });
            add(b"RAMPART_POLICY", &policy_path);
            entries
        });
        policy_path.push(0);
        Settings {
            mode,
            fail_open,
            debug,
            url,
            token,
            agent,
            session,
            policy_path,
            home: home.to_vec(),
            child_env,
        }
    }

    /// The bundle path without its NUL.
    #[cfg(test)]
    pub fn policy_path_bytes(&self) -> &[u8] {
        self.policy_path
            .strip_suffix(b"\0")
            .unwrap_or(&self.policy_path)
    }
}

/// `preload-<pid>`. Written by hand: `format!` would fault in core::fmt's code pages in every
/// process, for one number.
fn default_session(pid: u32) -> String {
    let mut session = alloc::vec::Vec::from(&b"preload-"[..]);
    crate::text::push_u64(&mut session, u64::from(pid));
    lossy(&session)
}

/// The entries of an LD_PRELOAD value (the loader splits on ':' and ' ').
pub fn preload_entries(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b':' || b == b' ')
        .filter(|e| !e.is_empty())
}

/// LD_PRELOAD with `library` appended when no entry is already it.
fn with_library(current: &[u8], library: &[u8]) -> Vec<u8> {
    let present = preload_entries(current).any(|entry| entry == library);
    match (present, current.is_empty()) {
        (true, _) => current.to_vec(),
        (false, true) => library.to_vec(),
        (false, false) => [current, b":", library].concat(),
    }
}

hot_static! {
    static SETTINGS: AtomicPtr<Settings> = AtomicPtr::new(core::ptr::null_mut());
}

/// The settings, once [`install`]ed (`crate::settings` builds them on first use).
pub fn get() -> Option<&'static Settings> {
    // SAFETY: the pointer is either null or a leaked Box published once by `install`.
    unsafe { SETTINGS.load(Ordering::Acquire).as_ref() }
}

/// Publishes the snapshot for the life of the process.
pub fn install(settings: Settings) -> &'static Settings {
    let leaked = alloc::boxed::Box::leak(alloc::boxed::Box::new(settings));
    match SETTINGS.compare_exchange(
        core::ptr::null_mut(),
        leaked,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => leaked,
        // Another thread built them first: theirs stand (ours stay unused in the arena).
        // SAFETY: a non-null value is a leaked Box published here.
        Err(theirs) => unsafe { &*theirs },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)], library: Option<&str>) -> Settings {
        let get = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_bytes())
        };
        Settings::from_lookup(get, 42, b"/home/u", library.map(str::as_bytes))
    }

    fn env_of(s: &Settings) -> Vec<&str> {
        s.child_env
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| core::str::from_utf8(e.strip_suffix(b"\0").unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn defaults_follow_upstream() {
        let s = settings(&[], Some("/lib/librampart.so"));
        assert_eq!(s.mode, Mode::Enforce);
        assert!(s.fail_open);
        assert!(!s.debug);
        assert_eq!(s.url, b"http://127.0.0.1:9090");
        assert_eq!(s.agent, "preload");
        assert_eq!(s.session, "preload-42");
        assert_eq!(s.policy_path_bytes(), b"/home/u/.rampart/policy.bin");
        assert_eq!(
            env_of(&s),
            [
                "LD_PRELOAD=/lib/librampart.so",
                "RAMPART_URL=http://127.0.0.1:9090",
                "RAMPART_MODE=enforce",
                "RAMPART_FAIL_OPEN=1",
                "RAMPART_AGENT=preload",
                "RAMPART_SESSION=preload-42",
                "RAMPART_DEBUG=0",
                "RAMPART_POLICY=/home/u/.rampart/policy.bin",
            ]
        );
    }

    #[test]
    fn values_are_normalised_for_children() {
        let s = settings(
            &[
                ("RAMPART_MODE", "monitor"),
                ("RAMPART_FAIL_OPEN", "true"),
                ("RAMPART_DEBUG", "1"),
                ("RAMPART_TOKEN", "tok"),
                ("RAMPART_SESSION", "s1"),
                ("RAMPART_POLICY", "/p.bin"),
                ("LD_PRELOAD", "/other.so"),
            ],
            Some("/lib/librampart.so"),
        );
        assert_eq!(s.mode, Mode::Monitor);
        assert!(!s.fail_open, "only an unset value or exactly 1 fails open");
        let env = env_of(&s);
        assert!(env.contains(&"LD_PRELOAD=/other.so:/lib/librampart.so"));
        assert!(env.contains(&"RAMPART_FAIL_OPEN=0"));
        assert!(env.contains(&"RAMPART_DEBUG=1"));
        assert!(env.contains(&"RAMPART_TOKEN=tok"));
        assert!(env.contains(&"RAMPART_SESSION=s1"));
        assert!(env.contains(&"RAMPART_POLICY=/p.bin"));
    }

    #[test]
    fn mode_parsing_table() {
        for (value, mode) in [
            (None, Mode::Enforce),
            (Some(&b"enforce"[..]), Mode::Enforce),
            (Some(b"monitor"), Mode::Monitor),
            (Some(b"disabled"), Mode::Disabled),
            (Some(b"MONITOR"), Mode::Enforce),
            (Some(b""), Mode::Enforce),
        ] {
            assert_eq!(Mode::parse(value), mode, "{value:?}");
        }
    }

    #[test]
    fn library_already_in_ld_preload_is_not_added_twice() {
        assert_eq!(with_library(b"/a.so /l.so", b"/l.so"), b"/a.so /l.so");
        assert_eq!(with_library(b"", b"/l.so"), b"/l.so");
    }

    #[test]
    fn unknown_library_path_leaves_no_child_environment() {
        assert!(settings(&[], None).child_env.is_none());
    }
}
