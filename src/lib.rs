//! The `rampart` command line, as a library: `main.rs` parses the arguments and calls [`run`].
//!
//! Each command is a module of [`commands`] that parses its own arguments (a clap struct in that
//! module), calls into the crates and prints. Policy logic lives in the crates: `rampart-compiler`
//! turns YAML into a bundle and says which policy is in force (`rampart_compiler::sources`),
//! `rampart-runtime` decides calls against it, `rampart-audit` keeps the record. What the
//! commands share lives beside them: where a command's policy comes from ([`source`]), the
//! built-in profiles ([`profiles`]), a policy made ready to decide with ([`bundle`]), the CLI's
//! way to decide and print decisions ([`decide`]), and the labelled threat corpus ([`corpus`]:
//! ours, built into the binary by [`embedded_corpus`], and upstream's format,
//! [`upstream_corpus`]).
//!
//! The main types, in the order a command that decides uses them: [`Cli`] (the parsed
//! arguments) -> [`source::PolicySource`] (the sources in force: `--config`, `./rampart.yaml`,
//! `~/.rampart/policies/`, the project policy, or the embedded profile) -> [`bundle::Loaded`]
//! (the policy in force: its bundle, cached or compiled) -> [`decide::Decider`] (the bundle
//! opened once and its evaluator) -> a decision printed as JSON or text. `rampart check`, for
//! one, reads a JSON call per line and writes a decision per line; ARCHITECTURE.md at the
//! repository's root follows that path file by file.

pub mod bundle;
pub mod commands;
pub mod corpus;
pub mod decide;
pub mod embedded_corpus;
pub mod profiles;
pub mod source;
pub mod upstream_corpus;

pub use commands::{run, Cli};
