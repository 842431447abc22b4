//! Commands written as self-contained modules (each a clap type and a `run`).

pub mod audit;
pub mod log;
