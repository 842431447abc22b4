//! The decision core of rampart: a tool call and a compiled policy in, a [`Decision`] out.
//!
//! The threat: an agent's call that does something the policy denies, allowed because the
//! evaluator read it differently from the shell that runs it, or because something broke and the
//! evaluator answered "allow" anyway. So every command is read every way it could run (the
//! [`shell`] model), and whatever cannot be decided is denied with the reason.
//!
//! Everything that decides a tool call maps the same compiled `policy.bin` and calls into this
//! crate: the CLI, the agent hooks, the server and the LD_PRELOAD library. The core is
//! `#![no_std]` + `alloc` so that the preload library can use it without dragging in std (and
//! libgcc_s); the `std` feature adds mmap loading and full validation of a bundle.
//!
//! The main types: a [`Call`] (tool, agent, session, params); a [`bundle::Bundle`] over the bytes
//! of `policy.bin` (with `std`, owned by a [`bundle::MappedBundle`] or [`bundle::OwnedBundle`]);
//! the [`Evaluator`] built over it; an [`EvalContext`] (the clock, the call counter, the path
//! resolver); a [`shell::Reader`] and the [`shell::CommandReadings`] it returns; the [`Decision`].
//!
//! The data flow of [`Evaluator::evaluate`], the one decide path every surface shares (its
//! documentation is the contract), in the order a call goes through the modules:
//!
//! * [`call`]: the call canonicalised: its command, path, URL and domain, aliases that disagree
//!   failing closed, size limits ([`json`], with the `json` feature, decodes a call from JSON).
//! * [`shell`]: how a command string is read: the restrictive readings (deny and ask rules match
//!   any) and the grant components (allow rules must cover every one).
//! * [`paths`] and [`url`]: the path candidates and the domain the rules match.
//! * [`eval`]: each distinct input searched once per field by the bundle's automata (prefilter
//!   and confirming DFAs, loaded on first use) into atom bits; the rules test bits; upstream's
//!   combination of the policies' first matching rules gives the [`Decision`]. [`explain`] (with
//!   `std`) reports every rule and reading behind it from the same functions.
//! * [`bundle`] and [`program`]: the `policy.bin` container (header, section table, zero-copy
//!   views) and the rule tables the evaluator runs; the compiler writes both.
//! * [`glob`]: the reference matchers for upstream's glob flavours (the compiler lowers them to
//!   DFAs; these direct matchers are the oracle the lowering is tested against).
//! * [`settings`]: the `RAMPART_*` variables and the mode words, for every surface; [`counter`]:
//!   call counts for `call_count` rules.
//! * [`invariant`]: what deciding code does when its own bookkeeping is wrong (fails closed, and
//!   a debug build panics so that a test sees it).
//!
//! A policy compiled and a call decided, end to end, is the example of `rampart_compiler` (this
//! crate cannot compile YAML: deciding never leads into the compiler).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod bundle;
pub mod calendar;
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
