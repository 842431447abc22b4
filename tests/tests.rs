//! The `rampart` package's integration tests, as one binary with a module per concern (ripgrep's
//! layout): one link step instead of one per file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod audit_cli;
mod cli;
mod differential;
mod evasions;
mod hooks;
mod mcp_clients;
mod mcp_proxy;
mod preload_programs;
mod protection;
mod python_sdk;
mod server;
mod setup_cli;
mod sources;
mod threats;
mod user_commands;
mod wrap_programs;

/// The binary under test: the one cargo built for this run, or `RAMPART_BIN` when set. CI sets it
/// to the build that users install (`scripts/dist.sh`: linked statically, position-dependent), so
/// the same tests prove that build decides, records and fails closed as this one does.
pub fn rampart_bin() -> &'static std::path::Path {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var_os("RAMPART_BIN").map_or_else(
            || env!("CARGO_BIN_EXE_rampart").into(),
            |bin| std::fs::canonicalize(&bin).unwrap_or_else(|e| panic!("RAMPART_BIN: {e}")),
        )
    })
}
