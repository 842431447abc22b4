//! The rampart policy compiler.
pub mod compile;
pub mod error;
pub mod lint;
pub mod load;
pub mod lower;
pub mod model;
pub mod sources;
pub mod write;

pub use compile::{compile, compile_str, Compiled};
pub use error::Error;
