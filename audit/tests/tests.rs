//! rampart-audit's integration tests: real files, real processes, temporary directories.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod support;

mod checkpoints;
mod faults;
mod interop;
mod permissions;
mod readers;
mod spool;
mod tamper;
mod writer;
