//! rampart-integrations' tests against real components (a real HTTP server on loopback, the policy
//! in force, audit files on disk), as one binary with a module per concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod notify;
mod support;
mod surface;
