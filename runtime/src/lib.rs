//! The decision core of rampart.
//!
//! Everything that decides a tool call maps the same compiled `policy.bin` and calls into this crate:
//! the CLI, the server and the LD_PRELOAD library. The core is `#![no_std]` + `alloc` so that the
//! preload library can use it without dragging in std (and libgcc_s); the `std` feature adds mmap
//! loading and full validation of a bundle.
//!
//! The main pieces, in the order a call flows through them:
//!
//! * [`call`]: the tool call and its canonicalisation (aliases, fail-closed ambiguity, size limits).
//! * [`shell`]: how a command string is read: the restrictive readings and the grant components.
//! * [`glob`]: the reference matchers for upstream's glob flavours (the compiler lowers them to DFAs;
//!   these direct matchers are the oracle the lowering is tested against).
//! * [`bundle`]: the `policy.bin` container: header, section table, zero-copy views; with `std`,
//!   a bundle mapped from a file ([`bundle::MappedBundle`]) or held in memory
//!   ([`bundle::OwnedBundle`]), each giving its evaluator.
//! * [`eval`]: the evaluator: readings x automata -> atom bits -> rules -> decision.
//!   [`Evaluator::evaluate`] is the one decide path, `Call` -> `Decision`, that every surface
//!   shares; its documentation is the contract.
//! * [`settings`]: the `RAMPART_*` variables and the mode words, for every surface.
//! * `json` (feature `json`): tool calls decoded from JSON.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod bundle;
pub mod call;
pub mod counter;
pub mod eval;
#[cfg(feature = "std")]
pub mod explain;
pub mod glob;
pub mod invariant;
#[cfg(feature = "json")]
pub mod json;
pub mod paths;
pub mod program;
pub mod settings;
pub mod shell;
pub mod url;

pub use call::Call;
pub use eval::{Decision, EvalContext, Evaluator};
