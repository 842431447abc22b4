//! The `rampart` command line, as a library: `main.rs` parses the arguments and calls [`run`].
//!
//! Each command is a module of [`commands`] that parses its own arguments (a clap struct in that
//! module), calls into the crates and prints. Policy logic lives in the crates: `rampart-compiler`
//! turns YAML into a bundle, `rampart-runtime` decides calls against it. What the commands share
//! lives beside them: where a command's policy comes from ([`source`]), the built-in profiles
//! ([`profiles`]), a policy made ready to decide with ([`bundle`]), the CLI's way to decide and
//! print decisions ([`decide`]), and the labelled threat corpus ([`corpus`]: ours, built into the
//! binary by [`embedded_corpus`], and upstream's format, [`upstream_corpus`]).

pub mod bundle;
pub mod commands;
pub mod corpus;
pub mod decide;
pub mod embedded_corpus;
pub mod profiles;
pub mod source;
pub mod upstream_corpus;

pub use commands::{run, Cli};
