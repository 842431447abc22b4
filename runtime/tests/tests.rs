//! The runtime's integration tests, in one binary (ripgrep's layout: one link step for all of
//! them, not one per file, which counts on a two-core machine). A module per concern; the
//! modules live in directories, which cargo does not take for test binaries of their own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod bundle;
mod shell;
