//! The rampart policy compiler.
pub mod model;
