//! The `rampart` package's integration tests, as one binary with a module per concern (ripgrep's
//! layout): one link step instead of one per file.

mod audit_cli;
mod cli;
mod evasions;
mod preload_programs;
mod protection;
mod sources;
mod threats;
mod user_commands;
