//! The shell model through its public API.

mod bash_diff;
mod fuzz;
mod perf;
mod readings;
