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

pub use rampart_runtime::settings::Mode;
use rampart_runtime::settings::{
    ENV_AGENT, ENV_ALL, ENV_DEBUG, ENV_FAIL_OPEN, ENV_MODE, ENV_POLICY, ENV_SESSION, ENV_TOKEN,
    ENV_URL,
};

use crate::text::lossy;

/// Every variable the library owns in a child environment: LD_PRELOAD and the RAMPART_* settings
/// ([`ENV_ALL`]). Caller entries with these names are dropped and replaced by the snapshot.
pub const MANAGED: [&[u8]; 1 + ENV_ALL.len()] = name_table(&[b"LD_PRELOAD"], &ENV_ALL);

/// `first` then `rest`, as the byte strings an environment is searched for, in an array of `M`
/// (built at compile time: a wrong `M` fails the build).
pub const fn name_table<const M: usize>(
    first: &[&'static [u8]],
    rest: &[&'static str],
) -> [&'static [u8]; M] {
    let mut out: [&'static [u8]; M] = [b""; M];
    let (mut first, mut rest) = (first, rest);
    let mut filled = 0;
    // Slice patterns, not indexing: `get` is not a const fn.
    let mut slots: &mut [&'static [u8]] = &mut out;
    while let [slot, more @ ..] = slots {
        *slot = match (first, rest) {
            ([name, tail @ ..], _) => {
                first = tail;
                name
            }
            ([], [name, tail @ ..]) => {
                rest = tail;
                name.as_bytes()
            }
            ([], []) => break,
        };
        filled += 1;
        slots = more;
    }
    assert!(
        filled == M && first.is_empty() && rest.is_empty(),
        "M must be the number of names"
    );
    out
}

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
        let mode = Mode::from_env(get(ENV_MODE), &Mode::PRELOAD);
        let fail_open = matches!(get(ENV_FAIL_OPEN), None | Some(b"1"));
        let debug = get(ENV_DEBUG) == Some(b"1");
        let url = non_empty(ENV_URL).unwrap_or(DEFAULT_URL).to_vec();
        let token = get(ENV_TOKEN).unwrap_or(b"").to_vec();
        let agent = non_empty(ENV_AGENT).map_or_else(|| String::from("preload"), lossy);
        let session = non_empty(ENV_SESSION).map_or_else(|| default_session(pid), lossy);
        let mut policy_path = match non_empty(ENV_POLICY) {
            Some(p) => p.to_vec(),
            None => [home, b"/.rampart/policy.bin"].concat(),
        };
        let child_env = library.map(|lib| {
            let preload = with_library(get("LD_PRELOAD").unwrap_or(b""), lib);
            let mut entries = Vec::new();
            let mut add = |name: &str, value: &[u8]| {
                entries.push([name.as_bytes(), b"=", value, b"\0"].concat());
            };
            add("LD_PRELOAD", &preload);
            add(ENV_URL, &url);
            if !token.is_empty() {
                add(ENV_TOKEN, &token);
            }
            add(ENV_MODE, mode.as_str().as_bytes());
            add(ENV_FAIL_OPEN, if fail_open { b"1" } else { b"0" });
            add(ENV_AGENT, agent.as_bytes());
            add(ENV_SESSION, session.as_bytes());
            add(ENV_DEBUG, if debug { b"1" } else { b"0" });
            add(ENV_POLICY, &policy_path);
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
            (Some("enforce"), Mode::Enforce),
            (Some("monitor"), Mode::Monitor),
            (Some("disabled"), Mode::Disabled),
            (Some("MONITOR"), Mode::Enforce),
            (Some(""), Mode::Enforce),
            // The hook's word is not the library's: like any unknown value, it enforces.
            (Some("audit"), Mode::Enforce),
        ] {
            let vars: Vec<(&str, &str)> = value.map(|v| ("RAMPART_MODE", v)).into_iter().collect();
            assert_eq!(settings(&vars, None).mode, mode, "{value:?}");
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
