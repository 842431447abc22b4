//! The built-in profiles (upstream's: standard, paranoid, yolo, block-prompt-injection,
//! research-agent, mcp-server, ci, guard): their YAML, for `rampart init` and for
//! explanations, and their bundles, compiled by `build.rs` with this build's compiler so that the
//! common case (no policy of one's own) pays no compile time at all.
//!
//! Why a crate of its own: every surface that opens the policy in force (the CLI, the hooks, the
//! server) needs the embedded standard profile as upstream's fallback, and none of them may
//! depend on the binary package. The compiler cannot hold the profiles itself, because compiling
//! them at build time makes this crate build-depend on the compiler.
#![forbid(unsafe_code)]

use rampart_compiler::sources::{Discovery, Embedded};
use std::path::PathBuf;

/// Dense DFAs need 4-byte alignment; `include_bytes!` guarantees none, so the bytes are wrapped.
#[repr(C, align(64))]
struct Aligned<T: ?Sized>(T);

macro_rules! profile {
    ($name:literal) => {{
        static BYTES: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(
            env!("OUT_DIR"),
            "/",
            $name,
            ".bin"
        )));
        Embedded {
            name: $name,
            yaml: include_str!(concat!("../", $name, ".yaml")),
            bundle: &BYTES.0,
        }
    }};
}

/// Every built-in profile.
pub fn profiles() -> [Embedded; 8] {
    [
        standard(),
        profile!("paranoid"),
        profile!("yolo"),
        profile!("block-prompt-injection"),
        profile!("research-agent"),
        profile!("mcp-server"),
        profile!("ci"),
        profile!("guard"),
    ]
}

/// The profiles that are a whole policy on their own when `rampart init` wrote one into
/// `~/.rampart/policies/` in earlier versions: such a file there replaces the embedded fallback.
/// The others (ci, guard, ...) are written to `./rampart.yaml` by `init`, so one found in the
/// user directory is an addition, as upstream merges it.
fn whole_profiles() -> [Embedded; 3] {
    [standard(), profile!("paranoid"), profile!("yolo")]
}

/// The profile called `name`.
pub fn profile(name: &str) -> Option<Embedded> {
    profiles().into_iter().find(|p| p.name == name)
}

/// The standard profile: the policy of a user who has none of their own (upstream's
/// `embedded:standard`).
pub fn standard() -> Embedded {
    profile!("standard")
}

/// Where this process's policy comes from: `config` (`--config`), the current directory, `$HOME`
/// and `RAMPART_NO_PROJECT_POLICY`, with the standard profile as the fallback. Every surface
/// opens the policy in force with `discovery(config).sources().open()`.
pub fn discovery(config: Option<PathBuf>) -> Discovery {
    Discovery::from_env(config, standard(), &whole_profiles())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_runtime::bundle::OwnedBundle;

    #[test]
    fn every_profile_is_a_valid_bundle_aligned_for_its_automata() {
        for p in profiles() {
            assert_eq!(p.bundle.as_ptr() as usize % 64, 0, "{}", p.name);
            assert!(
                p.yaml.contains(&format!("profile: {}", p.name)),
                "{}",
                p.name
            );
            OwnedBundle::open(p.bundle).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
        assert_eq!(standard().name, "standard");
        assert!(profile("nonesuch").is_none());
    }
}
