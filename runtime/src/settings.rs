//! The `RAMPART_*` environment variables and the mode words, in one place for every surface.
//!
//! Why one list: the CLI writes these variables (`rampart preload` sets them before it execs), the
//! preload library reads them in every process and puts them back into every child environment,
//! and the hooks and the server will read the same ones. A name spelled two ways is a setting that
//! silently does nothing: a `--mode monitor` the library never sees, or a variable the library's
//! child-environment rebuild does not replace, so that a child keeps a caller's hostile value.
//! The names are `&str` constants (`as_bytes` is `const`, so the `no_std` preload builds its byte
//! tables from them at compile time).

/// The compiled bundle the preload library maps (default `~/.rampart/policy.bin`).
pub const ENV_POLICY: &str = "RAMPART_POLICY";
/// The mode ([`Mode`]); upstream: anything but `monitor` or `disabled` enforces.
pub const ENV_MODE: &str = "RAMPART_MODE";
/// The policy server's base URL (approvals, audit records).
pub const ENV_URL: &str = "RAMPART_URL";
/// The bearer token for the server.
pub const ENV_TOKEN: &str = "RAMPART_TOKEN";
/// What happens with no usable bundle: fail open when unset or exactly `1` (upstream).
pub const ENV_FAIL_OPEN: &str = "RAMPART_FAIL_OPEN";
/// The agent name decisions are made for.
pub const ENV_AGENT: &str = "RAMPART_AGENT";
/// The session decisions are recorded under.
pub const ENV_SESSION: &str = "RAMPART_SESSION";
/// `1` turns on the library's debug lines on stderr.
pub const ENV_DEBUG: &str = "RAMPART_DEBUG";

/// `rampart wrap`'s shim directory (the shells it puts first on PATH), so that a shim never
/// runs itself as the real shell.
pub const ENV_WRAP_DIR: &str = "RAMPART_WRAP_DIR";
/// `rampart wrap --config`: the policy the shim decides with.
pub const ENV_WRAP_CONFIG: &str = "RAMPART_WRAP_CONFIG";
/// `rampart wrap --audit-dir`: where the shim records its decisions.
pub const ENV_WRAP_AUDIT_DIR: &str = "RAMPART_WRAP_AUDIT_DIR";

/// Every variable above, in the order the preload library writes them into a child environment.
pub const ENV_ALL: [&str; 8] = [
    ENV_URL,
    ENV_TOKEN,
    ENV_MODE,
    ENV_FAIL_OPEN,
    ENV_AGENT,
    ENV_SESSION,
    ENV_DEBUG,
    ENV_POLICY,
];

/// What a surface does with a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deny what the policy denies.
    Enforce,
    /// Decide and record, but let everything through.
    Monitor,
    /// Do not decide at all.
    Disabled,
    /// Upstream's hook word for monitor: decide and record, let everything through.
    Audit,
}

impl Mode {
    /// Every mode word.
    pub const ALL: [Mode; 4] = [Mode::Enforce, Mode::Monitor, Mode::Disabled, Mode::Audit];

    /// The modes of the preload library and `rampart preload --mode` (upstream §4.4).
    pub const PRELOAD: [Mode; 3] = [Mode::Enforce, Mode::Monitor, Mode::Disabled];

    /// The word for this mode, as flags and variables spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Monitor => "monitor",
            Mode::Disabled => "disabled",
            Mode::Audit => "audit",
        }
    }

    /// The mode among `accepted` that `word` names exactly (case matters, as upstream's does).
    pub fn parse(word: &[u8], accepted: &[Mode]) -> Option<Mode> {
        accepted
            .iter()
            .copied()
            .find(|m| m.as_str().as_bytes() == word)
    }

    /// The mode a variable's value sets: a missing value, or one that names no mode in
    /// `accepted`, enforces. Upstream does the same, and it is the safe reading of a typo.
    pub fn from_env(value: Option<&[u8]>, accepted: &[Mode]) -> Mode {
        value
            .and_then(|v| Mode::parse(v, accepted))
            .unwrap_or(Mode::Enforce)
    }
}

impl core::fmt::Display for Mode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_a_rampart_variable_and_listed_once() {
        for (i, name) in ENV_ALL.iter().enumerate() {
            assert!(name.starts_with("RAMPART_"), "{name}");
            assert!(!ENV_ALL[i + 1..].contains(name), "{name} listed twice");
        }
    }

    #[test]
    fn words_round_trip_and_unknown_values_enforce() {
        for mode in Mode::ALL {
            assert_eq!(
                Mode::parse(mode.as_str().as_bytes(), &Mode::ALL),
                Some(mode)
            );
        }
        let preload = |v: &[u8]| Mode::from_env(Some(v), &Mode::PRELOAD);
        assert_eq!(preload(b"monitor"), Mode::Monitor);
        assert_eq!(preload(b"disabled"), Mode::Disabled);
        // Not a preload mode, a different case, empty: all enforce.
        for value in [&b"audit"[..], b"MONITOR", b"", b"loud"] {
            assert_eq!(preload(value), Mode::Enforce, "{value:?}");
        }
        assert_eq!(Mode::from_env(None, &Mode::PRELOAD), Mode::Enforce);
    }
}
