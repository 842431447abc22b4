//! The rampart policy compiler.
pub mod build;
pub mod error;
pub mod lint;
pub mod load;
pub mod lower;
pub mod model;
pub mod write;

pub use error::Error;
