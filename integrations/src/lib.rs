//! Rampart's surfaces: every way an agent's tool call reaches a decision, apart from the preload.
//!
//! The threat: an agent host that asks a hook, a proxy or a shim about a tool call treats silence,
//! a crash or an unexpected exit code as "allow". So every surface here does the same four things
//! and fails closed at each: turn the host's input into a [`rampart_runtime::Call`], decide it
//! against the policy in force ([`rampart_compiler::sources`]), record the decision in the audit
//! chain ([`rampart_audit`]), and answer in the host's own form. Only the first and the last
//! differ per host, so each host is one adapter over one shared decide-and-record path.
//!
//! The crate graph points one way: the CLI and the server depend on this crate; this crate depends
//! on the audit trail, the compiler (the policy in force) and the runtime, and talks to a running
//! server only over its HTTP API.

pub mod hook;
pub mod host;
pub mod hosts;
pub mod http;
pub mod identity;
pub mod mcp;
pub mod notify;
pub mod serve;
pub mod setup;
mod signals;
pub mod strict_json;
pub mod surface;
pub mod wrap;
