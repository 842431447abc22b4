//! The compiler's integration tests, as one binary with a module per concern (ripgrep's layout):
//! one link step instead of eleven.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod compile_bundle;
mod compile_decisions;
mod compile_golden;
mod compile_shapes;
mod compile_size;
mod compile_standard;
mod explain_golden;
mod glob_lowering;
mod lint_findings;
mod load_errors;
mod load_policy;
