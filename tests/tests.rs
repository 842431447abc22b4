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
