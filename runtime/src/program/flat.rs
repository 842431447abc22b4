//! The program section: fixed-width little-endian records, read in place.
//!
//! The threat this layout answers is cost, paid in every process that decides: the preload
//! builds an evaluator on the first exec of every fresh process, and a hook is a process per
//! call. Decoding the program into `Vec`s of policies and rules (allocations, a bounds check and a
//! copy per field, and a drop at the end) was most of opening a bundle. Here nothing is decoded:
//! [`ProgramView::new`] checks that the section's length is exactly what its header's counts
//! say (a handful of instructions), and every read after that is of a record that lies inside
//! the section, at a fixed offset.
//!
//! What the length check cannot see (a span or a text past its block, an unknown action, a rule
//! number past the rules) is checked record by record by [`ProgramView::check`], which
//! `Bundle::open` runs ([`crate::eval`]'s `check_program`): a validated bundle never meets one.
//! Behind `Bundle::open_unchecked`, whose caller vouches for the bytes, such a value still never
//! reads out of bounds (every read is a checked one, in safe code): a text reads empty, a list
//! reads short, an action that is none reads as deny.
//!
//! Layout (every number a little-endian `u32` unless said otherwise):
//!
//! ```text
//! header   [default action (rank, or u32::MAX for none), fields, policies, rules, tool params,
//!           joined paths, tool scopes, list words, text bytes]
//! fields   FIELD_WORDS each   (FieldTable)
//! policies POLICY_WORDS each  (PolicyProgram; its rules a span of rule numbers)
//! rules    RULE_WORDS each    (RuleProgram; presence as flag bits, lists as spans of list words)
//! params   PARAM_WORDS each   (the tool params' names: texts)
//! joined   JOINED_WORDS each  (JoinedPath)
//! scopes   SCOPE_WORDS each   (ToolScope: a tool name, the policies in scope for it: a list,
//!                              whether they admit any agent and session: 0 or 1)
//! triggers TRIGGER_WORDS      (Triggers: present (0 or 1), then per command atom and per
//!                              contains atom a list of rule numbers as offsets into the list
//!                              words, each a span of the offsets; the untriggered rules a list)
//! lists    words              (composite atoms, (param, atom) pairs)
//! text     bytes, UTF-8       (names, messages, tool names: [`Text`] ranges)
//! ```
//!
//! Records have no alignment: each word is read with `u32::from_le_bytes` from its four bytes.

use alloc::vec::Vec;

use super::{
    Action, AtomRange, DepthCond, Field, FieldTable, JoinedPath, ListedScope, PathCond, Program,
    ResponseCond, SessionCond, Span, Text,
};
use crate::invariant::or_closed;

/// Words of the header.
const HEAD_WORDS: usize = 9;
/// Words of one [`FieldTable`] record.
const FIELD_WORDS: usize = 10;
/// Words of one policy record.
const POLICY_WORDS: usize = 9;
/// Words of one rule record.
const RULE_WORDS: usize = 46;
/// Words of one tool param record (a [`Text`]).
const PARAM_WORDS: usize = 2;
/// Words of one [`JoinedPath`] record.
const JOINED_WORDS: usize = 6;
/// Words of one [`ToolScope`] record.
const SCOPE_WORDS: usize = 5;
/// Words of the [`Triggers`] record.
const TRIGGER_WORDS: usize = 7;

/// "None" for an optional action or u32.
const NONE: u32 = u32::MAX;

// Policy flag bits.
const P_DURABLE: u32 = 1;
const P_PROJECT: u32 = 1 << 1;
const P_KNOWN: u32 = P_DURABLE | P_PROJECT;

// Rule flag bits.
const R_ONCE: u32 = 1;
const R_GRANT: u32 = 1 << 1;
const R_ALWAYS: u32 = 1 << 2;
const R_EXPIRES: u32 = 1 << 3;
const R_COMMAND: u32 = 1 << 4;
const R_CONTAINS: u32 = 1 << 5;
const R_PATH: u32 = 1 << 6;
const R_SESSION: u32 = 1 << 7;
const R_DEPTH: u32 = 1 << 8;
const R_DEPTH_GTE: u32 = 1 << 9;
const R_DEPTH_LTE: u32 = 1 << 10;
const R_DEPTH_EQ: u32 = 1 << 11;
const R_COUNT: u32 = 1 << 12;
const R_COUNT_TOOL: u32 = 1 << 13;
const R_RESPONSE: u32 = 1 << 14;
const R_KNOWN: u32 = (1 << 15) - 1;

// Rule record word offsets.
const W_ACTION: usize = 0;
const W_FLAGS: usize = 1;
const W_MESSAGE: usize = 2;
const W_EXPIRES: usize = 4;
const W_CMD_MATCHES: usize = 6;
const W_CMD_FREE: usize = 8;
const W_CMD_CONTAINS: usize = 10;
const W_CMD_NOT: usize = 11;
const W_CMD_COMPOSITE: usize = 13;
const W_ENV: usize = 15;
const W_PATH: usize = 17;
const W_URL: usize = 21;
const W_DOMAIN: usize = 23;
const W_SESSION: usize = 25;
const W_DEPTH: usize = 29;
const W_TOOL_PARAMS: usize = 35;
const W_COUNT_TOOL: usize = 37;
const W_COUNT_GTE: usize = 39;
const W_COUNT_WINDOW: usize = 40;
const W_RESPONSE: usize = 42;
const _: () = assert!(W_RESPONSE + 4 == RULE_WORDS);

/// Encodes `program` for the program section. Its vectors and strings become spans of the list
/// words and texts of the text block (appended after `program.text`).
pub fn encode(program: &Program) -> Vec<u8> {
    let mut text = program.text.clone();
    let mut lists: Vec<u32> = Vec::new();
    let mut add_list = |items: &mut dyn Iterator<Item = u32>| {
        let start = lists.len() as u32;
        lists.extend(items);
        Span {
            start,
            len: lists.len() as u32 - start,
        }
    };
    let mut words: Vec<u32> = Vec::new();
    let rule_count: usize = program.policies.iter().map(|p| p.rules.len()).sum();
    words.extend([
        program.default_action.map_or(NONE, |a| u32::from(a.rank())),
        program.fields.len() as u32,
        program.policies.len() as u32,
        rule_count as u32,
        program.tool_params.len() as u32,
        program.joined_paths.len() as u32,
        program.tool_scopes.len() as u32,
        0, // list words, filled in below
        0, // text bytes, filled in below
    ]);
    for t in &program.fields {
        words.extend([
            t.atoms,
            t.always.start,
            t.always.len,
            t.dfas.start,
            t.dfas.len,
            t.prefilters,
            t.confirms.start,
            t.confirms.len,
            t.confirm_index.start,
            t.confirm_index.len,
        ]);
    }
    let mut first_rule = 0u32;
    for p in &program.policies {
        let flags = (u32::from(p.durable) * P_DURABLE) | (u32::from(p.project) * P_PROJECT);
        words.extend([
            p.name.start,
            p.name.len,
            p.agent,
            p.session,
            p.tools.start,
            p.tools.end,
            flags,
            first_rule,
            p.rules.len() as u32,
        ]);
        first_rule += p.rules.len() as u32;
    }
    for r in program.policies.iter().flat_map(|p| &p.rules) {
        let mut rec = [0u32; RULE_WORDS];
        let mut flags = 0;
        let mut set = |flag: u32, on: bool| {
            if on {
                flags |= flag;
            }
        };
        set(R_ONCE, r.once);
        set(R_GRANT, r.grant);
        set(R_ALWAYS, r.always);
        set(R_EXPIRES, r.expires_at.is_some());
        set(R_COMMAND, r.command.is_some());
        set(
            R_CONTAINS,
            r.command.as_ref().is_some_and(|c| c.contains.is_some()),
        );
        set(R_PATH, r.path.is_some());
        set(R_SESSION, r.session.is_some());
        set(R_DEPTH, r.agent_depth.is_some());
        set(R_DEPTH_GTE, r.agent_depth.is_some_and(|d| d.gte.is_some()));
        set(R_DEPTH_LTE, r.agent_depth.is_some_and(|d| d.lte.is_some()));
        set(R_DEPTH_EQ, r.agent_depth.is_some_and(|d| d.eq.is_some()));
        set(R_COUNT, r.call_count.is_some());
        set(
            R_COUNT_TOOL,
            r.call_count.as_ref().is_some_and(|c| c.tool.is_some()),
        );
        set(R_RESPONSE, r.response.is_some());
        let mut put = |at: usize, values: &[u32]| {
            for (i, v) in values.iter().enumerate() {
                if let Some(slot) = rec.get_mut(at + i) {
                    *slot = *v;
                }
            }
        };
        put(W_ACTION, &[u32::from(r.action.rank()), flags]);
        put(W_MESSAGE, &[r.message.start, r.message.len]);
        put(W_EXPIRES, &split(r.expires_at.unwrap_or(0) as u64));
        if let Some(c) = &r.command {
            let composite = add_list(&mut c.composite.iter().copied());
            put(
                W_CMD_MATCHES,
                &[
                    c.matches.start,
                    c.matches.end,
                    c.free.start,
                    c.free.end,
                    c.contains.unwrap_or(0),
                    c.not_matches.start,
                    c.not_matches.end,
                    composite.start,
                    composite.len,
                ],
            );
        }
        put(W_ENV, &[r.env.start, r.env.end]);
        if let Some(c) = &r.path {
            put(W_PATH, &ranges(c.matches, c.not_matches));
        }
        put(W_URL, &[r.url.start, r.url.end]);
        put(W_DOMAIN, &[r.domain.start, r.domain.end]);
        if let Some(c) = &r.session {
            put(W_SESSION, &ranges(c.matches, c.not_matches));
        }
        if let Some(d) = &r.agent_depth {
            for (i, v) in [d.gte, d.lte, d.eq].into_iter().enumerate() {
                put(W_DEPTH + 2 * i, &split(v.unwrap_or(0) as u64));
            }
        }
        let pairs = add_list(&mut r.tool_params.iter().flat_map(|&(p, a)| [p, a]));
        put(W_TOOL_PARAMS, &[pairs.start, pairs.len]);
        if let Some(c) = &r.call_count {
            let tool = c
                .tool
                .as_deref()
                .map_or(Text::default(), |t| add_text(&mut text, t));
            put(W_COUNT_TOOL, &[tool.start, tool.len, c.gte]);
            put(W_COUNT_WINDOW, &split(c.window_secs));
        }
        if let Some(c) = &r.response {
            put(W_RESPONSE, &ranges(c.matches, c.not_matches));
        }
        words.extend(rec);
    }
    for name in &program.tool_params {
        let t = add_text(&mut text, name);
        words.extend([t.start, t.len]);
    }
    for j in &program.joined_paths {
        words.extend([
            j.up,
            j.atom,
            u32::from(j.joined.is_some()),
            j.joined.unwrap_or(0),
            j.tail,
            j.limit,
        ]);
    }
    for scope in &program.tool_scopes {
        let name = add_text(&mut text, &scope.tool);
        let policies = add_list(&mut scope.policies.iter().copied());
        words.extend([
            name.start,
            name.len,
            policies.start,
            policies.len,
            u32::from(scope.anyone),
        ]);
    }
    let t = &program.triggers;
    let mut by_atom = |rows: &[Vec<u32>]| {
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        let mut end = None;
        for row in rows {
            let span = add_list(&mut row.iter().copied());
            offsets.push(span.start);
            end = Some(span.start + span.len);
        }
        offsets.extend(end);
        add_list(&mut offsets.into_iter())
    };
    let command = by_atom(&t.command);
    let contains = by_atom(&t.contains);
    let untriggered = add_list(&mut t.untriggered.iter().copied());
    words.extend([
        u32::from(t.present),
        command.start,
        command.len,
        contains.start,
        contains.len,
        untriggered.start,
        untriggered.len,
    ]);
    if let Some(w) = words.get_mut(7) {
        *w = lists.len() as u32;
    }
    if let Some(w) = words.get_mut(8) {
        *w = text.len() as u32;
    }
    words.extend(lists);
    let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    out.extend_from_slice(text.as_bytes());
    out
}

/// Appends `s` to the text block.
fn add_text(text: &mut alloc::string::String, s: &str) -> Text {
    let start = text.len() as u32;
    text.push_str(s);
    Text {
        start,
        len: s.len() as u32,
    }
}

/// A 64-bit value as (low, high) words.
fn split(v: u64) -> [u32; 2] {
    [v as u32, (v >> 32) as u32]
}

fn ranges(a: AtomRange, b: AtomRange) -> [u32; 4] {
    [a.start, a.end, b.start, b.end]
}

/// Word `i` of a byte slice, if it holds it.
#[inline]
fn word_at(bytes: &[u8], i: usize) -> Option<u32> {
    let at = i.checked_mul(4)?;
    let b = bytes.get(at..at.checked_add(4)?)?;
    b.try_into().ok().map(u32::from_le_bytes)
}

/// One field table record.
type FieldRec = [u8; FIELD_WORDS * 4];
/// One policy record.
type PolicyRec = [u8; POLICY_WORDS * 4];
/// One rule record.
type RuleRec = [u8; RULE_WORDS * 4];
/// One tool param record.
type ParamRec = [u8; PARAM_WORDS * 4];
/// One joined path record.
type JoinedRec = [u8; JOINED_WORDS * 4];
/// One tool scope record.
type ScopeRec = [u8; SCOPE_WORDS * 4];
/// The triggers record.
type TriggerRec = [u8; TRIGGER_WORDS * 4];

/// Word `i` of a record. A record is an array of its exact length and every `i` below is a
/// constant smaller than its word count, so this cannot miss (and compiles to a plain load);
/// were it to, 0 reads as "absent" and the debug build stops (see [`crate::invariant`]).
#[inline(always)]
fn rec_word<const N: usize>(rec: &[u8; N], i: usize) -> u32 {
    or_closed(word_at(rec, i), 0)
}

#[inline(always)]
fn rec_range<const N: usize>(rec: &[u8; N], i: usize) -> AtomRange {
    AtomRange::new(rec_word(rec, i), rec_word(rec, i + 1))
}

#[inline(always)]
fn rec_span<const N: usize>(rec: &[u8; N], i: usize) -> Span {
    Span {
        start: rec_word(rec, i),
        len: rec_word(rec, i + 1),
    }
}

#[inline(always)]
fn rec_text<const N: usize>(rec: &[u8; N], i: usize) -> Text {
    Text {
        start: rec_word(rec, i),
        len: rec_word(rec, i + 1),
    }
}

#[inline(always)]
fn rec_i64<const N: usize>(rec: &[u8; N], i: usize) -> u64 {
    u64::from(rec_word(rec, i)) | u64::from(rec_word(rec, i + 1)) << 32
}

/// `bytes` as records of `N` bytes (a trailing partial record is left out; `ProgramView::new`
/// cuts every block at a whole number of records).
fn records<const N: usize>(bytes: &[u8]) -> &[[u8; N]] {
    bytes.as_chunks::<N>().0
}

fn action_of(rank: u32) -> Option<Action> {
    [
        Action::Allow,
        Action::Watch,
        Action::Ask,
        Action::Webhook,
        Action::Deny,
    ]
    .into_iter()
    .find(|a| u32::from(a.rank()) == rank)
}

/// The program section, read in place: what deciding needs, in fixed-width records.
#[derive(Clone, Copy, Debug)]
pub struct ProgramView<'a> {
    default_action: u32,
    fields: &'a [FieldRec],
    policies: &'a [PolicyRec],
    rules: &'a [RuleRec],
    params: &'a [ParamRec],
    joined: &'a [JoinedRec],
    scopes: &'a [ScopeRec],
    triggers: &'a TriggerRec,
    blocks: Blocks<'a>,
}

/// The list words and the text block, which records refer to by span (kept together and small:
/// every policy and rule view carries them).
#[derive(Clone, Copy, Debug)]
struct Blocks<'a> {
    lists: &'a [[u8; 4]],
    text: &'a [u8],
}

impl<'a> Blocks<'a> {
    /// The list words of `span` (as many as lie in the block).
    fn list(self, span: Span) -> impl Iterator<Item = u32> + 'a {
        let start = span.start as usize;
        let words = self
            .lists
            .get(start..start.saturating_add(span.len as usize));
        // `check` refused a span past the block; behind `open_unchecked` it reads empty.
        crate::invariant::checked(words)
            .unwrap_or(&[])
            .iter()
            .map(|w| u32::from_le_bytes(*w))
    }

    /// The bytes of `text`, if they lie in the block (no character check: for comparing).
    fn bytes(self, text: Text) -> Option<&'a [u8]> {
        let start = text.start as usize;
        self.text
            .get(start..start.saturating_add(text.len as usize))
    }

    /// See [`ProgramView::text`].
    fn text(self, text: Text) -> &'a str {
        let bytes = self.bytes(text);
        // `check` refused a text outside the block or off a character boundary, so only bytes
        // behind `open_unchecked` (the embedded profile, a digest-checked cache) reach this
        // fallback. Not a debug assertion as for lists: the tests read such texts on purpose.
        // Most texts are names and messages; a tool param name or a call_count tool read empty
        // makes that condition miss, which is why `Bundle::open` checks every text.
        bytes
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl<'a> ProgramView<'a> {
    /// The view of a program section; `None` unless its length is exactly what its header's
    /// counts announce and the policies' rules follow one another through the rules (as
    /// [`encode`] lays them): a policy never loses its rules, however damaged the other records
    /// are. The other records are not looked at (see [`ProgramView::check`]).
    pub fn new(bytes: &'a [u8]) -> Option<ProgramView<'a>> {
        let head = |i| word_at(bytes, i);
        let bytes_of =
            |count: Option<u32>, words: usize| (count? as usize).checked_mul(words)?.checked_mul(4);
        let mut rest = bytes.get(HEAD_WORDS * 4..)?;
        let mut take = |len: usize| {
            let (head, tail) = rest.split_at_checked(len)?;
            rest = tail;
            Some(head)
        };
        let view = ProgramView {
            default_action: head(0)?,
            fields: records(take(bytes_of(head(1), FIELD_WORDS)?)?),
            policies: records(take(bytes_of(head(2), POLICY_WORDS)?)?),
            rules: records(take(bytes_of(head(3), RULE_WORDS)?)?),
            params: records(take(bytes_of(head(4), PARAM_WORDS)?)?),
            joined: records(take(bytes_of(head(5), JOINED_WORDS)?)?),
            scopes: records(take(bytes_of(head(6), SCOPE_WORDS)?)?),
            triggers: records(take(TRIGGER_WORDS * 4)?).first()?,
            blocks: Blocks {
                lists: records(take(bytes_of(head(7), 1)?)?),
                text: take(head(8)? as usize)?,
            },
        };
        let tiled = view.policies.iter().try_fold(0u32, |next, rec| {
            (rec_word(rec, 7) == next).then(|| next.checked_add(rec_word(rec, 8)))?
        });
        (rest.is_empty() && tiled == u32::try_from(view.rules.len()).ok()).then_some(view)
    }

    /// The default action as written (`None`: upstream's empty default, which is deny). An
    /// action this build does not know reads as deny.
    pub fn default_action_raw(&self) -> Option<Action> {
        (self.default_action != NONE)
            .then(|| action_of(self.default_action).unwrap_or(Action::Deny))
    }

    /// Upstream: an empty default_action means deny.
    pub fn default_action(&self) -> Action {
        self.default_action_raw().unwrap_or(Action::Deny)
    }

    /// Number of field tables (one per [`Field`] in a well-formed program).
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// The table of field `index`.
    pub fn field_at(&self, index: usize) -> Option<FieldTable> {
        let rec = self.fields.get(index)?;
        Some(FieldTable {
            atoms: rec_word(rec, 0),
            always: rec_span(rec, 1),
            dfas: rec_span(rec, 3),
            prefilters: rec_word(rec, 5),
            confirms: rec_span(rec, 6),
            confirm_index: rec_span(rec, 8),
        })
    }

    pub fn field(&self, field: Field) -> Option<FieldTable> {
        self.field_at(field.index())
    }

    /// Every field table, by [`Field::index`].
    pub fn fields(&self) -> impl Iterator<Item = FieldTable> + 'a {
        let this = *self;
        (0..self.field_count()).filter_map(move |i| this.field_at(i))
    }

    /// Number of policies.
    pub fn policy_count(&self) -> usize {
        self.policies.len()
    }

    /// Policy `index` in evaluation order.
    pub fn policy(&self, index: usize) -> Option<PolicyView<'a>> {
        let rec = self.policies.get(index)?;
        let first = rec_word(rec, 7) as usize;
        let rules = self
            .rules
            .get(first..first.saturating_add(rec_word(rec, 8) as usize));
        Some(PolicyView {
            rec,
            // `new` found the policies' rules lying one after another through the rules.
            rules: crate::invariant::checked(rules).unwrap_or(&[]),
            blocks: self.blocks,
        })
    }

    /// The policies in evaluation order (stable-sorted by effective priority).
    pub fn policies(&self) -> impl Iterator<Item = PolicyView<'a>> + 'a {
        let this = *self;
        (0..self.policy_count()).filter_map(move |i| this.policy(i))
    }

    /// Number of rules of every policy.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The string `text` stands for; empty when a damaged bundle's range does not lie on the
    /// block's character boundaries.
    pub fn text(&self, text: Text) -> &'a str {
        self.blocks.text(text)
    }

    /// Number of tool params ([`super::Program::tool_params`]).
    pub fn tool_param_count(&self) -> usize {
        self.params.len()
    }

    /// Names of the Input params some rule's tool_param_matches reads, by index.
    pub fn tool_params(&self) -> impl Iterator<Item = &'a str> + Clone + 'a {
        let this = *self;
        self.params
            .iter()
            .map(move |rec| this.text(rec_text(rec, 0)))
    }

    /// The relative path patterns, as joined with the workdir, ordered by [`JoinedPath::up`].
    pub fn joined_paths(&self) -> impl Iterator<Item = JoinedPath> + 'a {
        self.joined.iter().map(|rec| JoinedPath {
            up: rec_word(rec, 0),
            atom: rec_word(rec, 1),
            joined: (rec_word(rec, 2) != 0).then(|| rec_word(rec, 3)),
            tail: rec_word(rec, 4),
            limit: rec_word(rec, 5),
        })
    }

    /// The policies in scope for a call of `tool`, as a list of policy indices (read with
    /// [`ProgramView::policies_in`]); `None` when the compiler did not list `tool`, whose scope
    /// is then found by searching the tool field. Their agent and session are still to be tested.
    pub fn tool_scope(&self, tool: &str) -> Option<ListedScope> {
        let blocks = self.blocks;
        let rec = self
            .scopes
            .iter()
            .find(|rec| blocks.bytes(rec_text(rec, 0)) == Some(tool.as_bytes()))?;
        Some(ListedScope {
            policies: rec_span(rec, 2),
            anyone: rec_word(rec, 4) == 1,
        })
    }

    /// The policy indices of a [`ProgramView::tool_scope`], rising.
    pub fn policies_in(&self, scope: Span) -> impl Iterator<Item = u32> + 'a {
        self.blocks.list(scope)
    }

    /// Whether the program indexes its rules by trigger (see [`super::Triggers`]).
    pub fn has_triggers(&self) -> bool {
        rec_word(self.triggers, 0) == 1
    }

    /// The rule numbers that atom `atom` of [`Field::Command`] (`contains` false) or
    /// [`Field::ContainsCi`] (`contains` true) triggers; `None` when its list cannot be read
    /// (only behind `open_unchecked`: `Bundle::open` checks the index), which must test every rule.
    pub fn triggered(&self, contains: bool, atom: u32) -> Option<impl Iterator<Item = u32> + 'a> {
        let offsets = rec_span(self.triggers, if contains { 3 } else { 1 });
        // The compiler writes a row for every atom of the field: one past them is damage.
        if atom.saturating_add(1) >= offsets.len {
            return None;
        }
        let at = Span {
            start: offsets.start.saturating_add(atom),
            len: 2,
        };
        let mut bounds = self.blocks.list(at);
        let (start, end) = (bounds.next()?, bounds.next()?);
        let rules = Span {
            start,
            len: end.checked_sub(start)?,
        };
        self.list_holds(rules).then(|| self.blocks.list(rules))
    }

    /// The rules tested whatever matched, rising; `None` as for [`ProgramView::triggered`].
    pub fn untriggered(&self) -> Option<impl Iterator<Item = u32> + 'a> {
        let span = rec_span(self.triggers, 5);
        self.list_holds(span).then(|| self.blocks.list(span))
    }

    /// Whether the triggers record holds: a flag of 0 or 1, offset lists rising inside the list
    /// words, and rule numbers that exist.
    fn triggers_hold(&self) -> bool {
        let rules = self.rule_count() as u64;
        let lists = self.blocks.lists.len() as u64;
        let rule_ok = |r: u32| u64::from(r) < rules;
        let offsets_ok = |at: usize| {
            let span = rec_span(self.triggers, at);
            let mut prev = 0u32;
            self.list_holds(span)
                && self.blocks.list(span).all(|o| {
                    let rising = o >= prev && u64::from(o) <= lists;
                    prev = o;
                    rising
                })
                && self
                    .blocks
                    .list(span)
                    .zip(self.blocks.list(span).skip(1))
                    .all(|(a, b)| {
                        self.blocks
                            .list(Span {
                                start: a,
                                len: b.saturating_sub(a),
                            })
                            .all(rule_ok)
                    })
        };
        let untriggered = rec_span(self.triggers, 5);
        rec_word(self.triggers, 0) <= 1
            && offsets_ok(1)
            && offsets_ok(3)
            && self.list_holds(untriggered)
            && self.blocks.list(untriggered).all(rule_ok)
    }

    fn list_holds(&self, span: Span) -> bool {
        span.start
            .checked_add(span.len)
            .is_some_and(|end| end as usize <= self.blocks.lists.len())
    }

    /// Whether `text` lies in the block with both ends on character boundaries (a byte
    /// `10xxxxxx` continues a character; the block's end is a boundary).
    fn text_holds(&self, text: Text) -> bool {
        let start = text.start as usize;
        let end = start.saturating_add(text.len as usize);
        let block = self.blocks.text;
        let starts_char = |at: usize| block.get(at).is_none_or(|b| b & 0xc0 != 0x80);
        end <= block.len() && starts_char(start) && starts_char(end)
    }

    /// Checks every record: the codes are known, the flags hold only known bits, and every span
    /// and text lies in its block (texts on character boundaries of a UTF-8 block), every
    /// policy's rules among the rules. What `Bundle::open` runs, record by record; an unchecked
    /// open does not pay for it.
    pub fn check(&self) -> bool {
        let text_ok = core::str::from_utf8(self.blocks.text).is_ok();
        let default_ok = self.default_action == NONE || action_of(self.default_action).is_some();
        let rule_count = self.rule_count() as u64;
        let policies_ok = self.policies.iter().all(|rec| {
            let (first, len) = (rec_word(rec, 7), rec_word(rec, 8));
            rec_word(rec, 6) & !P_KNOWN == 0
                && u64::from(first) + u64::from(len) <= rule_count
                && self.text_holds(rec_text(rec, 0))
        });
        let rules_ok = self.rules.iter().all(|rec| {
            let rule = RuleView {
                rec,
                blocks: self.blocks,
            };
            let flags = rec_word(rec, W_FLAGS);
            let pairs = rec_span(rec, W_TOOL_PARAMS);
            action_of(rec_word(rec, W_ACTION)).is_some()
                && flags & !R_KNOWN == 0
                && self.text_holds(rule.message())
                && self.list_holds(rec_span(rec, W_CMD_COMPOSITE))
                && self.list_holds(pairs)
                && pairs.len.is_multiple_of(2)
                && self.text_holds(Text {
                    start: rec_word(rec, W_COUNT_TOOL),
                    len: rec_word(rec, W_COUNT_TOOL + 1),
                })
        });
        let params_ok = self
            .params
            .iter()
            .all(|rec| self.text_holds(rec_text(rec, 0)));
        let joined_ok = self.joined.iter().all(|rec| rec_word(rec, 2) <= 1);
        let policy_count = self.policy_count() as u64;
        let scopes_ok = self.scopes.iter().all(|rec| {
            let policies = rec_span(rec, 2);
            self.text_holds(rec_text(rec, 0))
                && rec_word(rec, 4) <= 1
                && self.list_holds(policies)
                && self
                    .blocks
                    .list(policies)
                    .all(|pi| u64::from(pi) < policy_count)
        });
        text_ok
            && default_ok
            && policies_ok
            && rules_ok
            && params_ok
            && joined_ok
            && scopes_ok
            && self.triggers_hold()
    }
}

/// One policy of a [`ProgramView`].
#[derive(Clone, Copy, Debug)]
pub struct PolicyView<'a> {
    rec: &'a PolicyRec,
    /// Its rules' records.
    rules: &'a [RuleRec],
    blocks: Blocks<'a>,
}

impl<'a> PolicyView<'a> {
    pub fn name(&self) -> Text {
        rec_text(self.rec, 0)
    }

    /// Atom in [`Field::Agent`].
    pub fn agent(&self) -> u32 {
        rec_word(self.rec, 2)
    }

    /// Atom in [`Field::Session`].
    pub fn session(&self) -> u32 {
        rec_word(self.rec, 3)
    }

    /// Atoms in [`Field::Tool`]; empty means every tool.
    pub fn tools(&self) -> AtomRange {
        rec_range(self.rec, 4)
    }

    /// See [`super::PolicyProgram::durable`].
    pub fn durable(&self) -> bool {
        rec_word(self.rec, 6) & P_DURABLE != 0
    }

    /// See [`super::PolicyProgram::project`].
    pub fn project(&self) -> bool {
        rec_word(self.rec, 6) & P_PROJECT != 0
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The number of this policy's first rule, counted through all policies' rules in order
    /// (what [`super::Triggers`] lists).
    pub fn first_rule_number(&self) -> u32 {
        rec_word(self.rec, 7)
    }

    /// Rule `index` of this policy.
    pub fn rule(&self, index: usize) -> Option<RuleView<'a>> {
        let rec = self.rules.get(index)?;
        Some(RuleView {
            rec,
            blocks: self.blocks,
        })
    }

    /// The rules in order.
    pub fn rules(&self) -> impl Iterator<Item = RuleView<'a>> + 'a {
        let blocks = self.blocks;
        self.rules.iter().map(move |rec| RuleView { rec, blocks })
    }
}

/// One rule of a [`ProgramView`]: each condition read from its record when asked for.
#[derive(Clone, Copy, Debug)]
pub struct RuleView<'a> {
    rec: &'a RuleRec,
    blocks: Blocks<'a>,
}

/// command_matches / command_contains / command_not_matches of one rule, as read in place
/// (see [`super::CommandCond`]).
#[derive(Clone, Copy, Debug)]
pub struct CommandView<'a> {
    pub matches: AtomRange,
    pub free: AtomRange,
    pub contains: Option<u32>,
    pub not_matches: AtomRange,
    composite: Span,
    blocks: Blocks<'a>,
}

impl<'a> CommandView<'a> {
    /// The command_matches atoms whose pattern is itself a compound command (grant analysis).
    pub fn composite(&self) -> impl Iterator<Item = u32> + 'a {
        self.blocks.list(self.composite)
    }

    /// See [`super::CommandCond::has_positive`].
    pub fn has_positive(&self) -> bool {
        !self.matches.is_empty() || self.contains.is_some()
    }

    /// See [`super::CommandCond::split_matches`].
    pub fn split_matches(&self) -> (AtomRange, AtomRange) {
        super::split_matches(self.matches, self.free)
    }
}

/// A rule's call_count, as read in place (see [`super::CountCond`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountView<'a> {
    /// The counted tool; `None` is the current call's tool.
    pub tool: Option<&'a str>,
    pub gte: u32,
    pub window_secs: u64,
}

impl<'a> RuleView<'a> {
    fn flags(&self) -> u32 {
        rec_word(self.rec, W_FLAGS)
    }

    fn has(&self, flag: u32) -> bool {
        self.flags() & flag != 0
    }

    /// The rule's action; one this build does not know reads as deny (`Bundle::open` refuses it).
    pub fn action(&self) -> Action {
        action_of(rec_word(self.rec, W_ACTION)).unwrap_or(Action::Deny)
    }

    pub fn message(&self) -> Text {
        rec_text(self.rec, W_MESSAGE)
    }

    /// Seconds since the Unix epoch after which the rule is skipped.
    pub fn expires_at(&self) -> Option<i64> {
        self.has(R_EXPIRES)
            .then(|| rec_i64(self.rec, W_EXPIRES) as i64)
    }

    /// See [`super::RuleProgram::once`].
    pub fn once(&self) -> bool {
        self.has(R_ONCE)
    }

    /// See [`super::RuleProgram::grant`].
    pub fn grant(&self) -> bool {
        self.has(R_GRANT)
    }

    /// See [`super::RuleProgram::always`].
    pub fn always(&self) -> bool {
        self.has(R_ALWAYS)
    }

    pub fn command(&self) -> Option<CommandView<'a>> {
        let rec = self.rec;
        self.has(R_COMMAND).then(|| CommandView {
            matches: rec_range(rec, W_CMD_MATCHES),
            free: rec_range(rec, W_CMD_FREE),
            contains: self.has(R_CONTAINS).then(|| rec_word(rec, W_CMD_CONTAINS)),
            not_matches: rec_range(rec, W_CMD_NOT),
            composite: rec_span(rec, W_CMD_COMPOSITE),
            blocks: self.blocks,
        })
    }

    /// [`Field::EnvName`] atoms.
    pub fn env(&self) -> AtomRange {
        rec_range(self.rec, W_ENV)
    }

    pub fn path(&self) -> Option<PathCond> {
        self.has(R_PATH).then(|| PathCond {
            matches: rec_range(self.rec, W_PATH),
            not_matches: rec_range(self.rec, W_PATH + 2),
        })
    }

    /// [`Field::Url`] atoms.
    pub fn url(&self) -> AtomRange {
        rec_range(self.rec, W_URL)
    }

    /// [`Field::Domain`] atoms.
    pub fn domain(&self) -> AtomRange {
        rec_range(self.rec, W_DOMAIN)
    }

    pub fn session(&self) -> Option<SessionCond> {
        self.has(R_SESSION).then(|| SessionCond {
            matches: rec_range(self.rec, W_SESSION),
            not_matches: rec_range(self.rec, W_SESSION + 2),
        })
    }

    pub fn agent_depth(&self) -> Option<DepthCond> {
        let bound = |flag, i: usize| {
            self.has(flag)
                .then(|| rec_i64(self.rec, W_DEPTH + 2 * i) as i64)
        };
        self.has(R_DEPTH).then(|| DepthCond {
            gte: bound(R_DEPTH_GTE, 0),
            lte: bound(R_DEPTH_LTE, 1),
            eq: bound(R_DEPTH_EQ, 2),
        })
    }

    /// Whether the rule has tool_param_matches.
    pub fn has_tool_params(&self) -> bool {
        rec_word(self.rec, W_TOOL_PARAMS + 1) != 0
    }

    /// (index into [`ProgramView::tool_params`], [`Field::ToolParam`] atom).
    pub fn tool_params(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        let mut words = self.blocks.list(rec_span(self.rec, W_TOOL_PARAMS));
        core::iter::from_fn(move || Some((words.next()?, words.next()?)))
    }

    pub fn call_count(&self) -> Option<CountView<'a>> {
        let rec = self.rec;
        self.has(R_COUNT).then(|| CountView {
            tool: self
                .has(R_COUNT_TOOL)
                .then(|| self.blocks.text(rec_text(rec, W_COUNT_TOOL))),
            gte: rec_word(rec, W_COUNT_GTE),
            window_secs: rec_i64(rec, W_COUNT_WINDOW),
        })
    }

    pub fn response(&self) -> Option<ResponseCond> {
        self.has(R_RESPONSE).then(|| ResponseCond {
            matches: rec_range(self.rec, W_RESPONSE),
            not_matches: rec_range(self.rec, W_RESPONSE + 2),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{CommandCond, CountCond, PolicyProgram, RuleProgram, ToolScope, Triggers};
    use alloc::string::String;
    use alloc::vec;

    fn sample() -> Program {
        let mut program = Program::default();
        let message = program.add_text("needs a human: ü");
        let name = program.add_text("p");
        let rule = RuleProgram {
            action: Action::Ask,
            message,
            expires_at: Some(-5),
            once: true,
            grant: true,
            always: false,
            command: Some(CommandCond {
                matches: AtomRange::new(1, 3),
                free: AtomRange::new(2, 3),
                contains: Some(7),
                not_matches: AtomRange::new(3, 4),
                composite: vec![2, 9],
            }),
            env: AtomRange::new(0, 1),
            path: None,
            url: AtomRange::default(),
            domain: AtomRange::new(9, 10),
            session: Some(SessionCond::default()),
            agent_depth: Some(DepthCond {
                gte: Some(1),
                lte: None,
                eq: Some(i64::MAX),
            }),
            tool_params: vec![(0, 4), (1, 5)],
            call_count: Some(CountCond {
                tool: Some(String::from("exec")),
                gte: 3,
                window_secs: u64::MAX,
            }),
            response: Some(ResponseCond::default()),
        };
        let plain = RuleProgram {
            action: Action::Deny,
            message: Text::default(),
            expires_at: None,
            once: false,
            grant: false,
            always: true,
            command: None,
            env: AtomRange::default(),
            path: Some(PathCond {
                matches: AtomRange::new(4, 6),
                not_matches: AtomRange::new(6, 7),
            }),
            url: AtomRange::new(1, 2),
            domain: AtomRange::default(),
            session: None,
            agent_depth: None,
            tool_params: Vec::new(),
            call_count: Some(CountCond {
                tool: None,
                gte: 1,
                window_secs: 60,
            }),
            response: None,
        };
        Program {
            text: program.text,
            default_action: Some(Action::Webhook),
            fields: vec![FieldTable {
                atoms: 4,
                always: Span { start: 1, len: 2 },
                dfas: Span { start: 16, len: 4 },
                prefilters: 1,
                confirms: Span { start: 5, len: 8 },
                confirm_index: Span { start: 13, len: 3 },
            }],
            policies: vec![
                PolicyProgram {
                    name,
                    agent: 1,
                    session: 2,
                    tools: AtomRange::new(0, 2),
                    durable: true,
                    project: false,
                    rules: vec![rule],
                },
                PolicyProgram {
                    name: Text::default(),
                    agent: 0,
                    session: 0,
                    tools: AtomRange::default(),
                    durable: false,
                    project: true,
                    rules: vec![plain.clone(), plain],
                },
            ],
            tool_params: vec![String::from("file_path"), String::from("q")],
            joined_paths: vec![
                JoinedPath {
                    up: 0,
                    atom: 3,
                    joined: Some(0),
                    tail: 10,
                    limit: 256,
                },
                JoinedPath {
                    up: 2,
                    atom: 1,
                    joined: None,
                    tail: 0,
                    limit: 8192,
                },
            ],
            tool_scopes: vec![
                ToolScope {
                    tool: String::from("exec"),
                    policies: vec![0, 1],
                    anyone: false,
                },
                ToolScope {
                    tool: String::from("mcp__ü"),
                    policies: vec![1],
                    anyone: true,
                },
            ],
            triggers: Triggers {
                present: true,
                command: vec![vec![0], Vec::new(), vec![0, 2], Vec::new()],
                contains: vec![Vec::new(), vec![2]],
                untriggered: vec![1],
            },
        }
    }

    /// What the view reads back, as the owned model (the composite, pairs and tool names
    /// through their accessors).
    fn read_back(view: &ProgramView<'_>) -> Program {
        let rule = |r: RuleView<'_>| RuleProgram {
            action: r.action(),
            message: r.message(),
            expires_at: r.expires_at(),
            once: r.once(),
            grant: r.grant(),
            always: r.always(),
            command: r.command().map(|c| CommandCond {
                matches: c.matches,
                free: c.free,
                contains: c.contains,
                not_matches: c.not_matches,
                composite: c.composite().collect(),
            }),
            env: r.env(),
            path: r.path(),
            url: r.url(),
            domain: r.domain(),
            session: r.session(),
            agent_depth: r.agent_depth(),
            tool_params: r.tool_params().collect(),
            call_count: r.call_count().map(|c| CountCond {
                tool: c.tool.map(String::from),
                gte: c.gte,
                window_secs: c.window_secs,
            }),
            response: r.response(),
        };
        Program {
            default_action: view.default_action_raw(),
            fields: view.fields().collect(),
            policies: view
                .policies()
                .map(|p| PolicyProgram {
                    name: p.name(),
                    agent: p.agent(),
                    session: p.session(),
                    tools: p.tools(),
                    durable: p.durable(),
                    project: p.project(),
                    rules: p.rules().map(rule).collect(),
                })
                .collect(),
            tool_params: view.tool_params().map(String::from).collect(),
            joined_paths: view.joined_paths().collect(),
            tool_scopes: view
                .scopes
                .iter()
                .map(|rec| ToolScope {
                    tool: String::from(view.text(rec_text(rec, 0))),
                    policies: view.policies_in(rec_span(rec, 2)).collect(),
                    anyone: rec_word(rec, 4) == 1,
                })
                .collect(),
            triggers: Triggers {
                present: view.has_triggers(),
                command: rows(view, false),
                contains: rows(view, true),
                untriggered: view.untriggered().into_iter().flatten().collect(),
            },
            text: String::new(),
        }
    }

    /// The trigger lists of every command (`contains` false) or contains atom.
    fn rows(view: &ProgramView<'_>, contains: bool) -> Vec<Vec<u32>> {
        let offsets = rec_span(view.triggers, if contains { 3 } else { 1 });
        (0..offsets.len.saturating_sub(1))
            .map(|atom| {
                view.triggered(contains, atom)
                    .into_iter()
                    .flatten()
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_listed_tool_reads_its_scope_and_another_reads_none() {
        let bytes = encode(&sample());
        let view = ProgramView::new(&bytes).unwrap();
        let scope = |tool| {
            view.tool_scope(tool)
                .map(|s| view.policies_in(s.policies).collect::<Vec<_>>())
        };
        assert_eq!(scope("exec"), Some(vec![0, 1]));
        assert_eq!(scope("mcp__ü"), Some(vec![1]));
        assert_eq!(scope("exe"), None);
        assert_eq!(scope("exec "), None);
    }

    #[test]
    fn a_program_reads_back_as_written() {
        for program in [Program::default(), sample()] {
            let bytes = encode(&program);
            let view = ProgramView::new(&bytes).unwrap();
            assert!(view.check());
            let mut expected = program.clone();
            expected.text = String::new();
            assert_eq!(read_back(&view), expected);
            for p in &program.policies {
                assert_eq!(view.text(p.name), program.text(p.name));
            }
            let rules = view.policies().flat_map(|p| p.rules().collect::<Vec<_>>());
            for (r, owned) in rules.zip(program.policies.iter().flat_map(|p| &p.rules)) {
                assert_eq!(view.text(r.message()), program.text(owned.message));
            }
        }
    }

    #[test]
    fn texts_read_back_and_a_damaged_range_reads_empty() {
        let bytes = encode(&sample());
        let view = ProgramView::new(&bytes).unwrap();
        let rule = view.policy(0).unwrap().rule(0).unwrap();
        assert_eq!(view.text(rule.message()), "needs a human: ü");
        assert_eq!(view.text(view.policy(0).unwrap().name()), "p");
        // Past the end, and inside the two bytes of `ü`.
        assert_eq!(view.text(Text { start: 900, len: 2 }), "");
        assert_eq!(view.text(Text { start: 15, len: 1 }), "");
        assert!(!view.text_holds(Text { start: 15, len: 1 }));
        assert!(view.text_holds(Text { start: 0, len: 17 }));
    }

    #[test]
    fn a_length_that_disagrees_with_the_counts_is_refused() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert!(
                ProgramView::new(&bytes[..cut]).is_none(),
                "truncated to {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ProgramView::new(&longer).is_none(), "trailing byte");
        // A count of u32::MAX asks for more than any section holds, without overflowing.
        for at in 0..HEAD_WORDS {
            let mut damaged = bytes.clone();
            damaged[at * 4..at * 4 + 4].copy_from_slice(&u32::MAX.to_le_bytes());
            if at != 0 {
                assert!(ProgramView::new(&damaged).is_none(), "header word {at}");
            }
        }
    }

    #[test]
    fn damaged_records_are_found_by_check_and_read_without_panicking() {
        let bytes = encode(&sample());
        let mut refused = 0;
        // Every byte set to every value that matters: a huge span, a bad code, a bad UTF-8 byte.
        // Reading may give other values, but never panics (release) or reads out of bounds.
        for at in HEAD_WORDS * 4..bytes.len() {
            for value in [0x02, 0x7f, 0x80, 0xc3, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] = value;
                // `new` refuses only a policy's rules moved (the length stays right).
                let Some(view) = ProgramView::new(&damaged) else {
                    refused += 1;
                    continue;
                };
                if !view.check() {
                    refused += 1;
                    continue;
                }
                let _ = read_back(&view);
            }
        }
        assert!(refused > 0);
    }

    #[test]
    fn check_refuses_each_kind_of_bad_reference() {
        let program = sample();
        let bytes = encode(&program);
        let rules_at = (HEAD_WORDS + FIELD_WORDS + 2 * POLICY_WORDS) * 4;
        let policies_at = (HEAD_WORDS + FIELD_WORDS) * 4;
        let with = |at: usize, value: u32| {
            let mut damaged = bytes.clone();
            damaged[at..at + 4].copy_from_slice(&value.to_le_bytes());
            ProgramView::new(&damaged).map(|v| v.check())
        };
        assert_eq!(with(0, 9), Some(false), "default action");
        assert_eq!(with(rules_at + W_ACTION * 4, 5), Some(false), "rule action");
        assert_eq!(with(rules_at + W_FLAGS * 4, 1 << 20), Some(false), "flags");
        assert_eq!(
            with(rules_at + W_MESSAGE * 4 + 4, 500),
            Some(false),
            "message"
        );
        assert_eq!(
            with(rules_at + W_MESSAGE * 4, 16),
            Some(false),
            "inside a character"
        );
        assert_eq!(
            with(rules_at + W_CMD_COMPOSITE * 4 + 4, 50),
            Some(false),
            "list"
        );
        assert_eq!(
            with(rules_at + W_TOOL_PARAMS * 4 + 4, 3),
            Some(false),
            "odd pairs"
        );
        assert_eq!(
            with(policies_at + 8 * 4, 4),
            None,
            "rules of a policy: refused by `new`"
        );
        assert_eq!(with(policies_at + 6 * 4, 4), Some(false), "policy flags");
        // The second policy's rules start where the first's end (rule 1); anywhere else, even
        // inside the rules, is refused by `new`.
        let second = policies_at + POLICY_WORDS * 4 + 7 * 4;
        assert_eq!(with(second, 0), None, "rules that overlap");
        assert_eq!(with(second, 1), Some(true), "as written");
        assert_eq!(with(rules_at + W_ACTION * 4, 4), Some(true), "deny is fine");
        // The sample's 3 rules, 2 params and 2 joined paths come before its 2 tool scopes.
        let scopes_at = rules_at + (3 * RULE_WORDS + 2 * PARAM_WORDS + 2 * JOINED_WORDS) * 4;
        let triggers_at = scopes_at + 2 * SCOPE_WORDS * 4;
        let lists_at = triggers_at + TRIGGER_WORDS * 4;
        assert_eq!(with(scopes_at + 4, 900), Some(false), "scope's tool name");
        assert_eq!(with(scopes_at + 3 * 4, 900), Some(false), "scope's list");
        assert_eq!(with(scopes_at + 4 * 4, 2), Some(false), "scope's flag");
        let first = u32::from_le_bytes(bytes[scopes_at + 8..scopes_at + 12].try_into().unwrap());
        let listed = lists_at + first as usize * 4;
        assert_eq!(with(listed, 1), Some(true), "a policy there is");
        assert_eq!(with(listed, 2), Some(false), "a policy past the policies");
        assert_eq!(with(triggers_at, 2), Some(false), "triggers' flag");
        assert_eq!(
            with(triggers_at + 6 * 4, 900),
            Some(false),
            "untriggered list"
        );
        let untriggered = u32::from_le_bytes(
            bytes[triggers_at + 20..triggers_at + 24]
                .try_into()
                .unwrap(),
        );
        let rule_at = lists_at + untriggered as usize * 4;
        assert_eq!(with(rule_at, 2), Some(true), "a rule there is");
        assert_eq!(with(rule_at, 3), Some(false), "a rule past the rules");
        let offsets =
            u32::from_le_bytes(bytes[triggers_at + 4..triggers_at + 8].try_into().unwrap());
        let first_offset = lists_at + offsets as usize * 4;
        assert_eq!(
            with(first_offset, 900),
            Some(false),
            "an offset past the lists"
        );
    }
}
