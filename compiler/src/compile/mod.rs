//! Compiling a checked [`PolicySet`] into `policy.bin` (the bundle format is
//! [`rampart_runtime::bundle`], the rule tables [`rampart_runtime::program`]).
//!
//! Every pattern becomes an atom of one [`Field`](rampart_runtime::program::Field). Atoms are
//! allocated rule by rule, so the atoms one rule owns in one field are contiguous and the
//! evaluator tests "any of this rule's patterns" as a bit range. Each field's regexes then become
//! DFAs, one set per field (mixing fields in one DFA multiplies their state spaces), split in
//! halves whenever a DFA would exceed [`DFA_SIZE_LIMIT`]: the subset construction over many
//! unanchored patterns can blow up, and a bounded build that splits is both faster and smaller
//! than an unbounded one. command_contains literals of one rule become ONE alternation (one
//! atom): a DFA with one pattern per literal takes seconds to build, an alternation milliseconds.
//!
//! Five jobs, one module each, in the order a policy goes through them:
//!
//! 1. `program`: lowering policies and rules to the rule program and its atoms;
//! 2. `routing`: sorting each field's lowered alternatives by shape, into shared anchored DFAs,
//!    prefilters and the confirming DFAs behind them;
//! 3. `automata`: building those DFAs, in the form (dense or sparse) each is best stored in;
//! 4. `relax`: response regexes read with RE2's semantics, and their large counted repetitions
//!    widened so that a DFA can hold them;
//! 5. `assemble`: the program, the metadata, the words and the automata put into one bundle.

mod assemble;
mod automata;
mod program;
mod relax;
mod routing;

pub use assemble::{compile, CompileStats, Compiled};
pub use automata::DFA_SIZE_LIMIT;
pub use program::PROJECT_SOURCE;

use crate::error::Error;
use crate::load::load_str;
use crate::model::PolicySet;

/// Loads one YAML document from memory and compiles it: the one way from policy text to bundle
/// bytes. `name` goes into error positions and the source map (`embedded:standard`, `p.yaml`).
pub fn compile_str(name: &str, yaml: &str) -> Result<Compiled, Error> {
    let set: PolicySet = load_str(name, yaml)?;
    compile(&set)
}
