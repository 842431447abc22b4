//! The evaluator: readings x automata -> atom bits -> rules -> decision (reference §2.2-§2.4).
//!
//! Deciding is split in three so each step is cheap and testable on its own:
//!
//! 1. canonicalise the call ([`crate::call`]) and read the command ([`crate::shell`]) and path
//!    ([`crate::paths`]) into the distinct strings rules look at;
//! 2. search each string once per field with that field's DFAs ([`facts`]), giving atom bits;
//! 3. walk the policies in evaluation order, first matching rule per policy ([`rules`]), and
//!    combine exactly as upstream does (deny short-circuits with the "deny tail" of remaining
//!    in-scope policies; webhook > ask > watch > allow; durable allows; default-action messages).
//!
//! The core is `no_std` + `alloc`. Every surface decides a [`Call`] with [`Evaluator::evaluate`],
//! whose documentation is the contract they share (what it reads, what it never does, how it
//! fails closed); the preload calls [`Evaluator::evaluate_exec`] with readings it computed from
//! argv, which decides an exec the same way.

mod automata;
mod bits;
mod facts;
pub mod in_order;
pub mod rules;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use regex_automata::dfa::{Automaton, OverlappingState};
use regex_automata::{Anchored, Input, MatchError};

use crate::bundle::{Bundle, BundleError, DfaForm, SectionKind};
use crate::call::{canonicalize_named, Call, InputError, MAX_MATCH_INPUT};
use crate::counter::CallCounter;
use crate::invariant::or_closed;
use crate::paths::PathResolver;
use crate::program::{
    AtomRange, Check, Confirm, DfaKind, DfaRef, Field, FieldTable, PolicyView, ProgramView,
    RuleView, Words,
};
use crate::shell::{CommandReadings, Reader};
use automata::Automata;

pub use crate::program::Action;
pub use bits::Bits;
use facts::Inputs;
pub use facts::{CommandFacts, Facts, Reading, ToolFacts};
use rules::Undecidable;

/// Upstream's messages, word for word.
pub const MSG_NO_POLICY: &str = "no matching policy; using default action";
pub const MSG_NO_RULE: &str = "no matching rule; using default action";
pub const MSG_PROJECT_DENY: &str = "project policy cannot weaken global default deny";
pub const MSG_PROJECT_ASK: &str = "project policy cannot weaken global default ask";
pub const MSG_NO_RESPONSE_RULE: &str = "no matching response rule; response allowed";
pub const MSG_RESPONSE_TOO_LARGE: &str =
    "response exceeds the 1048576-byte policy matching limit; failing closed";
pub const MSG_COUNTER_FAILED: &str = "call_count unavailable; failing closed";
pub const MSG_BROKEN_AUTOMATON: &str =
    "policy bundle has an automaton that does not load; failing closed";
pub const MSG_BROKEN_PROGRAM: &str =
    "policy bundle's program contradicts itself (a tool scope that reads no session has a rule that does); failing closed";
/// Prefix of deny messages from the project policy.
pub const PROJECT_PREFIX: &str = "[Project Policy] ";
/// Responses larger than this are denied when a response rule applies.
pub const MAX_RESPONSE: usize = 1 << 20;

/// The outcome of evaluating a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    pub message: String,
    /// Upstream's `matched_policies`: fired policies in evaluation order (plus the deny tail).
    pub matched_policies: Vec<String>,
    /// The (policy index in evaluation order, rule index) that supplied the action, if a rule did.
    pub winner: Option<(u32, u32)>,
}

impl Decision {
    fn plain(action: Action, message: &str) -> Decision {
        Decision {
            action,
            message: message.to_string(),
            matched_policies: Vec::new(),
            winner: None,
        }
    }

    /// `allow` and `watch` let the call through (upstream's `allowed`).
    pub fn allowed(&self) -> bool {
        matches!(self.action, Action::Allow | Action::Watch)
    }
}

/// The decision of a call whose programs also go by other names (links): `real`, the decision
/// under the real names, holds when a rule there stops the call (deny or ask) and `invoked` is
/// less strict. The real names' default action does not count: an allowlist would otherwise stop
/// every program installed as a link (`npm` is `npm-cli.js`, `cargo` is `rustup`), and a copy
/// under an allowed name defeats an allowlist anyway (docs/protection.md).
pub fn stricter_by_rule(invoked: Decision, real: Decision) -> Decision {
    let stops = real.winner.is_some() && !real.allowed();
    if stops && real.action.rank() > invoked.action.rank() {
        real
    } else {
        invoked
    }
}

/// What evaluation may consult besides the call.
#[derive(Clone, Copy, Default)]
pub struct EvalContext<'x> {
    /// Seconds since the Unix epoch (rule expiry, call_count windows).
    pub now_unix: i64,
    /// Call counts for call_count; `None` means call_count never matches.
    pub counter: Option<&'x dyn CallCounter>,
    /// Symlink resolution for path candidates; `None` means lexical candidates only.
    pub resolver: Option<&'x dyn PathResolver>,
}

impl<'x> EvalContext<'x> {
    pub fn at(now_unix: i64) -> EvalContext<'x> {
        EvalContext {
            now_unix,
            counter: None,
            resolver: None,
        }
    }

    /// A context at the system clock's current second (0 if the clock is before 1970), with no
    /// counter and lexical path candidates only.
    #[cfg(feature = "std")]
    pub fn now() -> EvalContext<'x> {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        EvalContext::at(secs)
    }
}

/// Decides calls against one bundle. Borrows the bundle's bytes (the program's records, the DFAs
/// and the word lists are read in place).
pub struct Evaluator<'a> {
    program: ProgramView<'a>,
    /// The program's field tables, one per [`Field`] (read once: every query starts with one).
    fields: [FieldTable; FIELDS],
    words: Words<'a>,
    automata: Automata<'a>,
}

/// Number of [`Field`]s.
const FIELDS: usize = Field::ALL.len();

impl<'a> Evaluator<'a> {
    /// Locates the program's records and the automata, both read in place; checks that the
    /// program section's length is what its counts say, that its policies' rules follow one
    /// another ([`ProgramView::new`]) and that every table the program names lies within the
    /// words section. DFAs are loaded on first use.
    ///
    /// The records themselves (each rule's texts and lists, each confirm's DFA number, the
    /// confirm index's order) are checked by [`Bundle::open`] ([`check_program`]), not here: behind
    /// `Bundle::open_unchecked` the caller vouches for the bytes (the embedded bundle, a cached
    /// one whose digest was checked), and walking the standard profile's confirm records cost
    /// every open ~41,000 instructions, a quarter of it. A search still meets a bad record
    /// safely: a DFA number past the pack, or an index that does not rise, marks the automata
    /// broken and the decision denies ([`MSG_BROKEN_AUTOMATON`]).
    pub fn new(bundle: &Bundle<'a>) -> Result<Evaluator<'a>, BundleError> {
        let (program, words) = program_of(bundle)?;
        if !tables_hold(&program, &words) {
            return Err(BundleError::ProgramReferences);
        }
        // `tables_hold` found one table per field.
        let fields =
            core::array::from_fn(|i| or_closed(program.field_at(i), FieldTable::default()));
        Ok(Evaluator {
            program,
            fields,
            words,
            automata: Automata::new(bundle),
        })
    }

    /// The table of `field`.
    pub(crate) fn field(&self, field: Field) -> Option<&FieldTable> {
        self.fields.get(field.index())
    }

    /// The bundle's words section, which the program's spans point into.
    pub fn words(&self) -> Words<'a> {
        self.words
    }

    /// The rule tables, read in place.
    pub fn program(&self) -> ProgramView<'a> {
        self.program
    }

    /// Decides a tool call (reference §2.2): the decide path every surface shares. It reads the
    /// command with a [`Reader`] of its own; [`Evaluator::evaluate_with`] takes a kept one.
    ///
    /// Each surface that receives tool calls (the CLI, the agent hooks, the server, the MCP
    /// proxy, the `$SHELL` wrapper) turns its input into a [`Call`] (with the `json` feature,
    /// `json::call_from_json`) and decides it here; the preload, which holds argv rather
    /// than a call, enters through [`Evaluator::evaluate_exec`], which decides an exec the same
    /// way. The contract:
    ///
    /// - **What it reads**: the call; the bundle this evaluator was built over (its program and
    ///   words, and its automata, each loaded on first use); and what `ctx` hands it: the clock
    ///   (`now_unix`: rule expiry, call_count windows), the counter (only for call_count rules)
    ///   and the resolver (only for a path's resolved candidates).
    /// - **What it never does**: write anything, take a lock, touch the network, the environment
    ///   or (but through `ctx.resolver`) the filesystem, or return without a decision. It does
    ///   not apply a mode (monitor, disabled) and does not record the decision: those belong to
    ///   the surface, which records every decision it answers with. An unknown tool is decided by
    ///   the policy like any other (nothing in scope: the default action); refusing tools a host
    ///   does not know is that host's adapter's job.
    /// - **How it fails closed**: whatever it cannot decide is an [`Action::Deny`] whose message
    ///   says why: a call whose aliases disagree, whose security field is not a string, or whose
    ///   matched value is over [`MAX_MATCH_INPUT`] (the [`InputError`] messages); an automaton or
    ///   a program reference that does not load ([`MSG_BROKEN_AUTOMATON`]); a counter that fails
    ///   ([`MSG_COUNTER_FAILED`]).
    pub fn evaluate(&self, call: &Call, ctx: &EvalContext<'_>) -> Decision {
        self.evaluate_with(&mut Reader::new(), call, ctx)
    }

    /// Decides a tool call, reading its command with `reader`. A caller deciding many calls keeps
    /// one reader per thread, whose buffers then serve every command (see [`Reader`]).
    pub fn evaluate_with(
        &self,
        reader: &mut Reader,
        call: &Call,
        ctx: &EvalContext<'_>,
    ) -> Decision {
        let canon = match canonicalize_named(call, self.program.tool_params()) {
            Ok(canon) => canon,
            Err(e) => return Decision::plain(Action::Deny, &e.to_string()),
        };
        let relinked = match (canon.command, ctx.resolver) {
            (Some(cmd), Some(resolver)) => crate::shell::with_heads_replaced(cmd, |head| {
                resolver.linked_program(head, canon.workdir)
            }),
            _ => None,
        };
        let readings = canon.command.map(|cmd| reader.read_command(cmd));
        let facts = self.facts(facts_inputs(call, self.program, &canon, readings, ctx));
        let decision = self.decide(&facts, ctx);
        // A head that is a link to a program of another name: the command is decided again
        // under the real names, and a rule's deny or ask there holds (as the preload does).
        match relinked {
            Some(cmd) => {
                let readings = Some(reader.read_command(&cmd));
                let facts = self.facts(facts_inputs(call, self.program, &canon, readings, ctx));
                stricter_by_rule(decision, self.decide(&facts, ctx))
            }
            None => decision,
        }
    }

    /// Decides a call of tool `exec` whose command was already read (the preload's entry point:
    /// no std types, no filesystem, no counter).
    pub fn evaluate_exec(
        &self,
        agent: &str,
        session: &str,
        readings: &CommandReadings,
        now_unix: i64,
    ) -> Decision {
        self.evaluate_exec_in(agent, session, readings, &EvalContext::at(now_unix))
    }

    /// [`Evaluator::evaluate_exec`] with a context: the preload passes a counter that notes
    /// whether a call_count rule was consulted (see its `decide`).
    pub fn evaluate_exec_in(
        &self,
        agent: &str,
        session: &str,
        readings: &CommandReadings,
        ctx: &EvalContext<'_>,
    ) -> Decision {
        let named = [
            ("agent", agent),
            ("session", session),
            ("command", readings.raw.as_str()),
        ];
        if let Some(refused) = oversized(&named) {
            return refused;
        }
        let inputs = Inputs {
            tool: "exec",
            agent,
            session,
            agent_depth: 0,
            command: Some(readings),
            paths: None,
            workdir: None,
            url: None,
            domain: None,
            params: alloc::vec![None; self.program.tool_param_count()],
        };
        let facts = self.facts(inputs);
        self.decide(&facts, ctx)
    }

    /// The rule that supplied `decision`'s action, if a rule did: a surface asks it whether the
    /// rule is single-use ([`RuleProgram::once`]) before it acts on the decision.
    pub fn winning_rule(&self, decision: &Decision) -> Option<RuleView<'a>> {
        let (pi, ri) = decision.winner?;
        self.rule(pi as usize, ri as usize)
    }

    /// Decides a tool's response (reference §2.10): response rules only; deny, ask and webhook
    /// all deny (there is no approval after the fact); watch beats allow.
    pub fn evaluate_response(&self, call: &Call, response: &str, now_unix: i64) -> Decision {
        // As at request time: an agent or session past the limit would put no policy in scope
        // (its query sets no bit), which here would wave the response through unscanned.
        if let Some(refused) = oversized(&[("agent", &call.agent), ("session", &call.session)]) {
            return refused;
        }
        let facts = self.scope_facts(&call.tool, &call.agent, &call.session);
        let scope = self.in_scope(&facts);
        let has_rules = |p: PolicyView<'_>| p.rules().any(|r| r.response().is_some());
        if !scope
            .iter()
            .any(|&pi| self.policy(pi).is_some_and(has_rules))
        {
            return Decision::plain(Action::Allow, MSG_NO_RESPONSE_RULE);
        }
        if response.len() > MAX_RESPONSE {
            return Decision::plain(Action::Deny, MSG_RESPONSE_TOO_LARGE);
        }
        let bits = self.query(Field::Response, response);
        if self.automata.broken() {
            return Decision::plain(Action::Deny, MSG_BROKEN_AUTOMATON);
        }
        let mut fired: Vec<(usize, usize)> = Vec::new();
        for &pi in &scope {
            let Some(policy) = self.policy(pi) else {
                continue;
            };
            let hit = policy.rules().position(|r| {
                let Some(cond) = r.response() else {
                    return false;
                };
                !expired(&r, now_unix)
                    && !response.is_empty()
                    && bits.any_in(cond.matches)
                    && !bits.any_in(cond.not_matches)
            });
            let Some(ri) = hit else {
                continue;
            };
            fired.push((pi, ri));
            let Some(rule) = policy.rule(ri) else {
                continue;
            };
            if matches!(rule.action(), Action::Deny | Action::Ask | Action::Webhook) {
                return self.decision(
                    Action::Deny,
                    deny_message(&self.program, &policy, &rule),
                    &fired,
                    (pi, ri),
                );
            }
        }
        let watch = fired
            .iter()
            .find(|&&(p, r)| self.rule(p, r).map(|r| r.action()) == Some(Action::Watch));
        if let Some(&(pi, ri)) = watch.or(fired.first()) {
            let action = self.rule(pi, ri).map_or(Action::Allow, |r| r.action());
            let message = self
                .rule(pi, ri)
                .map_or_else(String::new, |r| self.program.text(r.message()).into());
            return self.decision(action, message, &fired, (pi, ri));
        }
        Decision::plain(Action::Allow, MSG_NO_RESPONSE_RULE)
    }

    /// The atoms of `field` that `input` matches, in order (for tests and tools; deciding uses
    /// the bitsets directly). Case-insensitive contains are matched on the lowercased input, as
    /// deciding does.
    pub fn matched_atoms(&self, field: Field, input: &str) -> Vec<u32> {
        let atoms = self.field(field).map_or(0, |t| t.atoms);
        let bits = if field == Field::ContainsCi {
            self.query(field, &input.to_ascii_lowercase())
        } else {
            self.query(field, input)
        };
        (0..atoms).filter(|&a| bits.get(a)).collect()
    }

    /// Searches `input` with every DFA of `field`, giving the atoms it matched.
    pub(crate) fn query(&self, field: Field, input: &str) -> Bits {
        self.query_with(field, input, &mut Vec::new())
    }

    /// [`Evaluator::query`] with the list of piece ends kept by the caller, who searches many
    /// inputs (one allocation for all of a command's readings, not one per search).
    pub(crate) fn query_with(&self, field: Field, input: &str, ends: &mut Vec<usize>) -> Bits {
        let Some(table) = self.field(field) else {
            return Bits::default();
        };
        let mut bits = Bits::new(table.bits());
        // MatchGlob never matches an input over the limit (the response has its own limit).
        if field != Field::Response && input.len() > MAX_MATCH_INPUT {
            return bits;
        }
        for atom in self.words.span(table.always) {
            bits.set(atom);
        }
        let haystack = Input::new(input);
        // Where the last piece scan found pieces ending, for the piece-naming DFA after it; none
        // before this input's first scan.
        ends.clear();
        for dref in self.words.dfa_refs(table.dfas) {
            // Checked here, not at open: a bad reference fails the call closed (see `broken`).
            let atoms = |pattern: usize| {
                let atom = self.words.at(dref.atoms, pattern as u32);
                if atom.is_none() {
                    self.automata.mark_broken();
                }
                atom
            };
            let searched = match dref.kind {
                DfaKind::Overlapping => {
                    self.with_dfa(dref, |dfa| overlapping(dfa, &haystack, atoms, &mut bits))
                }
                DfaKind::AnchoredEverywhere => self.with_dfa(dref, |dfa| {
                    let hit = anchored_search_anywhere(dfa, input)?;
                    if let (true, Some(atom)) = (hit, atoms(0)) {
                        bits.set(atom);
                    }
                    Ok(())
                }),
                DfaKind::PieceEnds => {
                    ends.clear();
                    self.with_dfa(dref, |dfa| piece_ends(dfa, &haystack, ends))
                }
                DfaKind::PieceNames => self.with_dfa(dref, |dfa| {
                    name_pieces(dfa, &haystack, ends, atoms, &mut bits)
                }),
                DfaKind::Unknown => None,
            };
            // A DFA that did not load, or a search that failed (one it cannot run), is not
            // "no match": the call fails closed.
            if !matches!(searched, Some(Ok(()))) {
                self.automata.mark_broken();
            }
        }
        self.confirm(table, None, &haystack, &mut bits);
        // Confirms may set later prefilter bits, so the bits are read as the loop goes.
        let mut k = 0;
        while k < table.prefilters {
            let bit = table.atoms + k;
            let next = bits.iter_in(AtomRange::new(bit, table.bits())).next();
            match next {
                Some(set) => {
                    self.confirm(table, Some(set - table.atoms), &haystack, &mut bits);
                    k = set - table.atoms + 1;
                }
                None => break,
            }
        }
        bits
    }

    /// Runs `f` on the DFA `dref` names, in its form; `None` if it does not load.
    fn with_dfa<R>(&self, dref: DfaRef, f: impl FnOnce(&dyn Automaton) -> R) -> Option<R> {
        match dref.form {
            DfaForm::Dense => self.automata.with_dense(dref.number, |d| f(d)),
            DfaForm::Sparse => self.automata.with_sparse(dref.number, |d| f(d)),
        }
    }

    /// Runs the confirms of prefilter bit `atoms + k` (`None`: those without a prefilter).
    fn confirm(&self, table: &FieldTable, k: Option<u32>, haystack: &Input<'_>, bits: &mut Bits) {
        let slot = k.map_or(0, |k| k + 1);
        let index = |i| self.words.at(table.confirm_index, i);
        let (Some(start), Some(end)) = (index(slot), index(slot + 1)) else {
            return;
        };
        // `Bundle::open` checked that the index rises within the records; behind
        // `open_unchecked` it was not, and a range that does not would skip confirms silently.
        if start > end || end.saturating_mul(Confirm::WORDS) > table.confirms.len {
            self.automata.mark_broken();
            return;
        }
        for confirm in self.words.confirm_records(table.confirms, start..end) {
            if !bits.get(confirm.atom) && self.confirmed(confirm.check, haystack) {
                bits.set(confirm.atom);
            }
        }
    }

    /// Whether `check` holds somewhere in `haystack`.
    fn confirmed(&self, check: Check, haystack: &Input<'_>) -> bool {
        let earliest = || haystack.clone().earliest(true);
        let found = match check {
            Check::Exact => Some(true),
            Check::Dfa {
                number,
                form: DfaForm::Dense,
            } => self
                .automata
                .with_dense(number, |d| matches_in(d, &earliest()).ok())
                .flatten(),
            Check::Dfa {
                number,
                form: DfaForm::Sparse,
            } => self
                .automata
                .with_sparse(number, |d| matches_in(d, &earliest()).ok())
                .flatten(),
            Check::InOrder { start } => self
                .words
                .in_order(start)
                .map(|pattern| in_order::matches(pattern, haystack.haystack())),
            Check::Unknown => None,
        };
        // A check that cannot be read (only behind an unchecked open) or a DFA search that failed
        // is not "no match": fail the call closed.
        found.unwrap_or_else(|| {
            self.automata.mark_broken();
            false
        })
    }

    pub(crate) fn policy(&self, pi: usize) -> Option<PolicyView<'a>> {
        self.program.policy(pi)
    }

    pub(crate) fn rule(&self, pi: usize, ri: usize) -> Option<RuleView<'a>> {
        self.policy(pi).and_then(|p| p.rule(ri))
    }

    /// Indices of the policies whose agent, session and tool globs match, in evaluation order:
    /// from the program's scope of the tool when it lists one, else by testing every policy.
    pub(crate) fn in_scope(&self, facts: &Facts<'_>) -> Vec<usize> {
        // Unsearched agent and session admit no one: `facts` searches them unless `anyone`
        // holds, when they are not consulted.
        let admits = |p: &PolicyView<'_>| {
            facts.agent.as_ref().is_some_and(|b| b.get(p.agent()))
                && facts.session.as_ref().is_some_and(|b| b.get(p.session()))
        };
        // Sized once: a filtered collect grows a reallocation at a time.
        let mut scope = Vec::with_capacity(self.program.policy_count());
        match &facts.tools {
            ToolFacts::Listed(listed) => {
                // Searched only when an input is past the limit, whose query sets no bit.
                let anyone = listed.anyone && facts.agent.is_none() && facts.session.is_none();
                scope.extend(
                    self.program
                        .policies_in(listed.policies)
                        .map(|pi| pi as usize)
                        .filter(|&pi| anyone || self.policy(pi).is_some_and(|p| admits(&p))),
                );
            }
            ToolFacts::Searched(tools) => {
                scope.extend((0..self.program.policy_count()).filter(|&pi| {
                    self.policy(pi).is_some_and(|p| {
                        let globs = p.tools();
                        admits(&p) && (globs.is_empty() || tools.any_in(globs))
                    })
                }))
            }
        }
        scope
    }

    /// The rules that can fire on this call, by number (`None`: every rule): the untriggered
    /// ones and those an atom that matched a restrictive reading triggers (see
    /// [`crate::program::Triggers`]). Readings that overflowed make every rule a candidate.
    fn candidate_rules(&self, facts: &Facts<'_>) -> Option<Bits> {
        let program = &self.program;
        if !program.has_triggers() || facts.command.as_ref().is_some_and(|c| c.overflow) {
            return None;
        }
        let mut candidates = Bits::new(program.rule_count() as u32);
        for rule in program.untriggered()? {
            candidates.set(rule);
        }
        if let Some(cmd) = &facts.command {
            let atoms = |f: Field| self.field(f).map_or(0, |t| t.atoms);
            let matched = [
                (false, &cmd.restrictive_cmd, atoms(Field::Command)),
                (true, &cmd.restrictive_ci, atoms(Field::ContainsCi)),
            ];
            for (contains, bits, atoms) in matched {
                for atom in bits.iter_in(AtomRange::new(0, atoms)) {
                    // A list that cannot be read: every rule is a candidate.
                    for rule in program.triggered(contains, atom)? {
                        candidates.set(rule);
                    }
                }
            }
        }
        Some(candidates)
    }

    /// The first rule of `policy` that fires, skipping expired rules and those that are not
    /// `candidate`s (by their index in the policy).
    pub(crate) fn first_rule(
        &self,
        policy: &PolicyView<'_>,
        facts: &Facts<'_>,
        ctx: &EvalContext<'_>,
        candidate: impl Fn(usize) -> bool,
    ) -> Result<Option<usize>, Undecidable> {
        for (ri, rule) in policy.rules().enumerate() {
            if candidate(ri)
                && !expired(&rule, ctx.now_unix)
                && rules::rule_matches(&rule, facts, ctx)?
            {
                return Ok(Some(ri));
            }
        }
        Ok(None)
    }

    /// Combines the policies' first matching rules exactly as upstream (§2.2 steps 5-11).
    pub(crate) fn decide(&self, facts: &Facts<'_>, ctx: &EvalContext<'_>) -> Decision {
        if self.automata.broken() {
            return Decision::plain(Action::Deny, MSG_BROKEN_AUTOMATON);
        }
        let default = self.program.default_action();
        let scope = self.in_scope(facts);
        if scope.is_empty() {
            return Decision::plain(default, MSG_NO_POLICY);
        }
        let mut fired: Vec<(usize, usize)> = Vec::with_capacity(scope.len());
        let candidates = self.candidate_rules(facts);
        for (k, &pi) in scope.iter().enumerate() {
            let Some(policy) = self.policy(pi) else {
                continue;
            };
            let first = policy.first_rule_number();
            let candidate = |ri: usize| {
                candidates
                    .as_ref()
                    .is_none_or(|c| c.get(first.saturating_add(ri as u32)))
            };
            let ri = match self.first_rule(&policy, facts, ctx, candidate) {
                Ok(Some(ri)) => ri,
                Ok(None) => continue,
                Err(Undecidable::Counter) => {
                    return Decision::plain(Action::Deny, MSG_COUNTER_FAILED)
                }
                Err(Undecidable::Session) => {
                    return Decision::plain(Action::Deny, MSG_BROKEN_PROGRAM)
                }
            };
            fired.push((pi, ri));
            let Some(rule) = policy.rule(ri) else {
                continue;
            };
            if rule.action() == Action::Deny {
                let mut d = self.decision(
                    Action::Deny,
                    deny_message(&self.program, &policy, &rule),
                    &fired,
                    (pi, ri),
                );
                let tail = scope.iter().skip(k + 1).filter_map(|&p| self.policy(p));
                d.matched_policies
                    .extend(tail.map(|p| self.program.text(p.name()).into()));
                return d;
            }
        }
        self.combine(&fired, default)
    }

    fn combine(&self, fired: &[(usize, usize)], default: Action) -> Decision {
        // The first policy to reach the highest rank supplies the message; for allow, the first
        // allow with a non-empty message does.
        let mut best: Option<(usize, usize, Action)> = None;
        let mut allow_msg: Option<(usize, usize)> = None;
        for &(pi, ri) in fired {
            let Some(rule) = self.rule(pi, ri) else {
                continue;
            };
            let action = rule.action();
            if best.is_none_or(|(_, _, a)| action.rank() > a.rank()) {
                best = Some((pi, ri, action));
            }
            if action == Action::Allow && allow_msg.is_none() && rule.message().len > 0 {
                allow_msg = Some((pi, ri));
            }
        }
        let durable = fired.iter().copied().find(|&(pi, ri)| {
            self.policy(pi).is_some_and(|p| p.durable())
                && self
                    .rule(pi, ri)
                    .is_some_and(|r| r.action() == Action::Allow)
        });
        if let Some((pi, ri)) = durable {
            let message = self
                .rule(pi, ri)
                .map_or_else(String::new, |r| self.program.text(r.message()).into());
            return self.decision(Action::Allow, message, fired, (pi, ri));
        }
        let mut action = best.map_or(Action::Allow, |b| b.2);
        let non_project = fired
            .iter()
            .any(|&(pi, _)| self.policy(pi).is_some_and(|p| !p.project()));
        if !non_project {
            match default {
                Action::Deny => return self.named(Action::Deny, MSG_PROJECT_DENY, fired),
                Action::Ask => return self.named(Action::Ask, MSG_PROJECT_ASK, fired),
                Action::Watch if action == Action::Allow => action = Action::Watch,
                _ => {}
            }
        }
        let Some((bpi, bri, best_action)) = best else {
            return Decision::plain(default, MSG_NO_RULE);
        };
        let source = if best_action == Action::Allow {
            allow_msg.unwrap_or((bpi, bri))
        } else {
            (bpi, bri)
        };
        let message = match (best_action, allow_msg) {
            (Action::Allow, None) => String::new(),
            _ => self
                .rule(source.0, source.1)
                .map_or_else(String::new, |r| self.program.text(r.message()).into()),
        };
        self.decision(action, message, fired, source)
    }

    fn decision(
        &self,
        action: Action,
        message: String,
        fired: &[(usize, usize)],
        winner: (usize, usize),
    ) -> Decision {
        let mut d = self.named(action, "", fired);
        d.message = message;
        d.winner = Some((winner.0 as u32, winner.1 as u32));
        d
    }

    fn named(&self, action: Action, message: &str, fired: &[(usize, usize)]) -> Decision {
        let mut matched_policies = Vec::with_capacity(fired.len());
        matched_policies.extend(
            fired
                .iter()
                .filter_map(|&(pi, _)| self.policy(pi).map(|p| self.program.text(p.name()).into())),
        );
        Decision {
            action,
            message: message.to_string(),
            matched_policies,
            winner: None,
        }
    }
}

/// Sets the atom of every pattern of `dfa` that matches in `haystack`.
fn overlapping<A: Automaton + ?Sized>(
    dfa: &A,
    haystack: &Input<'_>,
    atom_of: impl Fn(usize) -> Option<u32>,
    bits: &mut Bits,
) -> Result<(), MatchError> {
    let mut state = OverlappingState::start();
    loop {
        dfa.try_search_overlapping_fwd(haystack, &mut state)?;
        let Some(m) = state.get_match() else {
            return Ok(());
        };
        if let Some(atom) = atom_of(m.pattern().as_usize()) {
            bits.set(atom);
        }
    }
}

/// Records in `ends` every offset where a match of `dfa` (one pattern) ends, in rising order.
fn piece_ends<A: Automaton + ?Sized>(
    dfa: &A,
    haystack: &Input<'_>,
    ends: &mut Vec<usize>,
) -> Result<(), MatchError> {
    let mut state = OverlappingState::start();
    loop {
        dfa.try_search_overlapping_fwd(haystack, &mut state)?;
        let Some(m) = state.get_match() else {
            return Ok(());
        };
        if ends.last() != Some(&m.offset()) {
            ends.push(m.offset());
        }
    }
}

/// Sets the bit of every pattern of the reversed, anchored `dfa` that matches back from one of
/// `ends`: the pieces that end there.
fn name_pieces<A: Automaton + ?Sized>(
    dfa: &A,
    haystack: &Input<'_>,
    ends: &[usize],
    atom_of: impl Fn(usize) -> Option<u32>,
    bits: &mut Bits,
) -> Result<(), MatchError> {
    for &end in ends {
        let back = haystack.clone().range(..end).anchored(Anchored::Yes);
        let mut state = OverlappingState::start();
        loop {
            dfa.try_search_overlapping_rev(&back, &mut state)?;
            let Some(m) = state.get_match() else {
                break;
            };
            if let Some(atom) = atom_of(m.pattern().as_usize()) {
                bits.set(atom);
            }
        }
    }
    Ok(())
}

/// Whether `dfa` matches somewhere in `at` (an earliest search: the first match ends it).
fn matches_in<A: Automaton>(dfa: &A, at: &Input<'_>) -> Result<bool, MatchError> {
    Ok(dfa.try_search_fwd(at)?.is_some())
}

/// The bundle's program, read in place, and its words section.
fn program_of<'a>(bundle: &Bundle<'a>) -> Result<(ProgramView<'a>, Words<'a>), BundleError> {
    let bytes = bundle
        .section(SectionKind::Program)
        .ok_or(BundleError::MissingSection("program"))?;
    let program = ProgramView::new(bytes).ok_or(BundleError::ProgramUndecodable)?;
    let words = Words::new(bundle.section(SectionKind::Words).unwrap_or(&[]));
    Ok((program, words))
}

/// Whether the program has one table per field and every span they name lies within `words`,
/// in whole records, with one confirm index entry per prefilter bit and two more: a check per
/// field, not per record, so every open can afford it.
fn tables_hold(program: &ProgramView<'_>, words: &Words<'_>) -> bool {
    program.field_count() == FIELDS
        && program.fields().all(|table| {
            table.dfas.len.is_multiple_of(DfaRef::WORDS)
                && table.confirms.len.is_multiple_of(Confirm::WORDS)
                && table.confirm_index.len == table.prefilters.saturating_add(2)
                && words.holds(table.dfas)
                && words.holds(table.always)
                && words.holds(table.confirms)
                && words.holds(table.confirm_index)
        })
}

/// Checks every reference of `bundle`'s program, record by record: what [`Evaluator::new`]
/// checks, that every policy and rule record holds known codes and spans and texts inside their
/// blocks ([`ProgramView::check`]), and that each confirm names a DFA the bundle holds and each
/// confirm index rises from 0 to its last record. [`Bundle::open`] runs it, so a bundle that was validated never meets a
/// dangling reference; behind `open_unchecked` the searches check what they read.
pub(crate) fn check_program(bundle: &Bundle<'_>) -> Result<(), BundleError> {
    let (program, words) = program_of(bundle)?;
    let count = |form| bundle.dfa_count(form);
    let records_hold = |table: &FieldTable| {
        let records = table.confirms.len / Confirm::WORDS;
        let numbers_hold = words.confirms(table.confirms).all(|c| match c.check {
            Check::Exact => true,
            Check::Dfa { number, form } => number < count(form),
            Check::InOrder { start } => words.in_order(start).is_some(),
            Check::Unknown => false,
        });
        let mut index = words.span(table.confirm_index);
        let rising = index.next() == Some(0)
            && index.try_fold(0, |prev, n| (prev <= n).then_some(n)) == Some(records);
        numbers_hold && rising
    };
    if tables_hold(&program, &words)
        && program.check()
        && program.fields().all(|t| records_hold(&t))
    {
        Ok(())
    } else {
        Err(BundleError::ProgramReferences)
    }
}

/// Whether an anchored single-pattern DFA matches starting at any position of `input`.
fn anchored_search_anywhere<A: Automaton + ?Sized>(
    dfa: &A,
    input: &str,
) -> Result<bool, MatchError> {
    for start in 0..=input.len() {
        let at = Input::new(input)
            .range(start..)
            .anchored(Anchored::Yes)
            .earliest(true);
        if dfa.try_search_fwd(&at)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The inputs of [`Evaluator::facts`] for a canonicalised call.
pub(crate) fn facts_inputs<'c>(
    call: &'c Call,
    program: ProgramView<'_>,
    canon: &crate::call::Canonical<'c>,
    readings: Option<&'c CommandReadings>,
    ctx: &EvalContext<'_>,
) -> Inputs<'c> {
    Inputs {
        tool: &call.tool,
        agent: &call.agent,
        session: &call.session,
        agent_depth: call.agent_depth,
        command: readings,
        paths: canon
            .path
            .map(|p| crate::paths::candidates(p, canon.workdir, ctx.resolver)),
        workdir: canon.workdir,
        url: canon.url,
        domain: canon.domain.clone(),
        params: program
            .tool_params()
            .map(|name| call.input_value(name).map(|v| v.render().to_lowercase()))
            .collect(),
    }
}

/// The deny for the first of the `named` values over [`MAX_MATCH_INPUT`], if one is (for the
/// entry points that do not canonicalise a [`Call`], which checks its own).
fn oversized(named: &[(&str, &str)]) -> Option<Decision> {
    let (what, _) = named.iter().find(|(_, v)| v.len() > MAX_MATCH_INPUT)?;
    let err = InputError::TooLong((*what).to_string());
    Some(Decision::plain(Action::Deny, &err.to_string()))
}

fn expired(rule: &RuleView<'_>, now_unix: i64) -> bool {
    rule.expires_at().is_some_and(|t| now_unix > t)
}

fn deny_message(program: &ProgramView<'_>, policy: &PolicyView<'_>, rule: &RuleView<'_>) -> String {
    let message = program.text(rule.message());
    if policy.project() {
        alloc::format!("{PROJECT_PREFIX}{message}")
    } else {
        message.into()
    }
}
