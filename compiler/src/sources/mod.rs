//! The policy in force: where it comes from, how its sources merge, and the bundle every surface
//! decides with.
//!
//! The threat: a surface that decides with a different policy than the one the user wrote, or
//! with a stale one. A user's exception that one surface sees and another does not, a project
//! policy that silently drops out, or a hook that keeps deciding with yesterday's bundle are each
//! a hole (or an outage) that no rule can fix. So there is one way from "this process, this
//! directory, this user" to the bundle in force, and every surface (the CLI, the hooks, the
//! server, the MCP proxy, the preload through `rampart preload`) takes it:
//!
//! 1. [`Discovery`] says where to look (`--config`, the working directory, the home directory,
//!    whether project policies apply) and finds the [`Sources`];
//! 2. [`Sources::load`] reads and merges them into one checked policy set;
//! 3. [`Sources::open`] gives the [`PolicyInForce`]: a bundle ready to decide with.
//!
//! The built-in profiles are compiled at build time by the `rampart-policies` crate, which
//! build-depends on this one, so the embedded fallback is handed in by the caller as an
//! [`Embedded`] profile.

mod cache;
pub mod counts;
mod discover;
pub mod edit;
mod in_force;
mod merge;
mod once;
mod stamp;
pub mod user_rules;

pub use cache::CacheState;
pub use discover::{
    git_root, user_home, Discovery, Sources, ENV_NO_PROJECT_POLICY, PROJECT_POLICY, USER_POLICIES,
};
pub use in_force::PolicyInForce;
pub use once::{decide_enforced, Claim, MSG_ONCE_CONTENDED};
pub use stamp::FileStamp;

/// A built-in profile: its YAML and its bundle, compiled by this build's compiler.
#[derive(Clone, Copy, Debug)]
pub struct Embedded {
    /// `standard`, `paranoid`, `yolo`.
    pub name: &'static str,
    pub yaml: &'static str,
    /// The compiled bundle, aligned for its automata (64 bytes).
    pub bundle: &'static [u8],
}

impl Embedded {
    /// The file name the profile is written to (`standard.yaml`).
    pub fn file_name(&self) -> String {
        format!("{}.yaml", self.name)
    }

    /// The name its policies carry as their source (`embedded:standard`, upstream's spelling).
    pub fn source_name(&self) -> String {
        format!("embedded:{}", self.name)
    }
}
