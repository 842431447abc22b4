//! The rule tables of a bundle: what the evaluator runs once the automata have answered.
//!
//! Every pattern of a policy is an *atom*: a bit that a field's automata set for one input string.
//! Atoms are numbered per [`Field`], and the atoms one rule owns in one field are contiguous, so
//! "some pattern of this rule matched" is a range test on a bitset. A rule is then a conjunction
//! of field tests over those bits, never string matching.
//!
//! The [`Program`] is what deciding needs, as the compiler builds it; the bundle holds it in its
//! own [`flat`] encoding of fixed-width records, which the evaluator reads in place through a
//! [`ProgramView`] (nothing is decoded when a bundle is opened). The [`Metadata`] is what only
//! explanations need (pattern texts and `file:line:column`, postcard), so a process that only
//! decides never decodes it.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::bundle::DfaForm;
use crate::invariant::or_closed;

pub mod flat;

pub use flat::{CommandView, CountView, PolicyView, ProgramView, RuleView};

/// A decision or rule action (upstream's `log` is [`Action::Watch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    Allow,
    Deny,
    Ask,
    Watch,
    Webhook,
}

impl Action {
    /// Parses an action the way upstream does: case-insensitive, `log` is watch. `require_approval`
    /// and unknown words are `None` (the loader words the message).
    pub fn parse(text: &str) -> Option<Action> {
        let word = text.trim();
        let is = |name: &str| word.eq_ignore_ascii_case(name);
        if is("allow") {
            Some(Action::Allow)
        } else if is("deny") {
            Some(Action::Deny)
        } else if is("ask") {
            Some(Action::Ask)
        } else if is("watch") || is("log") {
            Some(Action::Watch)
        } else if is("webhook") {
            Some(Action::Webhook)
        } else {
            None
        }
    }

    /// Restrictive actions look for any dangerous reading; granting ones need the call covered.
    pub fn is_restrictive(self) -> bool {
        matches!(self, Action::Deny | Action::Ask)
    }

    /// Upstream's combination rank: deny > webhook > ask > watch > allow.
    pub fn rank(self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::Watch => 1,
            Action::Ask => 2,
            Action::Webhook => 3,
            Action::Deny => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
            Action::Ask => "ask",
            Action::Watch => "watch",
            Action::Webhook => "webhook",
        }
    }
}

impl core::fmt::Display for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The input a family of atoms is matched against. One set of automata per field: mixing
/// fields in one DFA multiplies their state spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    /// command_matches and command_not_matches (MatchGlob) over every command reading.
    Command,
    /// command_contains of restrictive rules, one alternation per rule, case-insensitive: the
    /// literals are lowercased and matched against the ASCII-lowercased reading.
    ContainsCi,
    /// command_contains of granting rules, one alternation per rule, case-sensitive.
    ContainsCs,
    /// command_env_assignments (MatchGlob on assigned variable names).
    EnvName,
    /// path_matches and path_not_matches (path globs) over every path candidate.
    Path,
    /// url_matches (MatchGlob on the raw URL).
    Url,
    /// domain_matches (domain globs on the derived hostname).
    Domain,
    /// match.agent (MatchGlob).
    Agent,
    /// match.session, session_matches and session_not_matches (MatchGlob).
    Session,
    /// match.tool (MatchGlob).
    Tool,
    /// tool_param_matches (MatchGlob on lowercased values).
    ToolParam,
    /// response_matches and response_not_matches (regexes over the response text).
    Response,
    /// The relative path patterns joined with the workdir ([`JoinedPath`]): `/` and the pattern
    /// as joined below the workdir, matched against the part of a path candidate below it.
    JoinedPath,
}

impl Field {
    pub const ALL: [Field; 13] = [
        Field::Command,
        Field::ContainsCi,
        Field::ContainsCs,
        Field::EnvName,
        Field::Path,
        Field::Url,
        Field::Domain,
        Field::Agent,
        Field::Session,
        Field::Tool,
        Field::ToolParam,
        Field::Response,
        Field::JoinedPath,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Command => "command",
            Field::ContainsCi => "command_contains (case-insensitive)",
            Field::ContainsCs => "command_contains (case-sensitive)",
            Field::EnvName => "command_env_assignments",
            Field::Path => "path",
            Field::Url => "url",
            Field::Domain => "domain",
            Field::Agent => "agent",
            Field::Session => "session",
            Field::Tool => "tool",
            Field::ToolParam => "tool_param",
            Field::Response => "response",
            Field::JoinedPath => "path (joined with the workdir)",
        }
    }
}

/// A half-open range of atom ids local to one field. Empty means "this rule has no such patterns".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomRange {
    pub start: u32,
    pub end: u32,
}

impl AtomRange {
    pub fn new(start: u32, end: u32) -> AtomRange {
        AtomRange { start, end }
    }

    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    pub fn iter(&self) -> core::ops::Range<u32> {
        self.start..self.end
    }
}

/// How one field's atoms are computed for an input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldTable {
    /// Number of atoms in this field.
    pub atoms: u32,
    /// Atoms that match every input (patterns like `*`); no automaton is run for them. A span
    /// of atom numbers in [`Words`].
    pub always: Span,
    /// The automata; each maps its pattern ids to atoms of this field (or to prefilter bits,
    /// numbered from `atoms` on). A span of [`DfaRef::WORDS`]-word records in [`Words`], read in
    /// place like the confirms: the standard profile has 851, and decoding them into a `Vec`
    /// cost every open ~4,500 instructions.
    pub dfas: Span,
    /// Number of prefilter bits after the atoms: the `^`-anchored heads and the distinct
    /// required pieces of the [`Confirm`]ed patterns, each its own bit.
    pub prefilters: u32,
    /// Patterns with an unanchored run (`*curl*| sh*`), each its own DFA run only when its
    /// prefilter bit is set: in a shared DFA each would double the state count. A span of
    /// [`Confirm::WORDS`]-word records in [`Words`], those without a prefilter first, then by
    /// prefilter bit.
    pub confirms: Span,
    /// `prefilters + 2` record numbers in [`Words`]: the confirms without a prefilter are
    /// records `[0] .. [1]`, those of prefilter bit `atoms + k` records `[k + 1] .. [k + 2]`. A
    /// query visits only the confirms of the prefilter bits its input set.
    pub confirm_index: Span,
}

impl FieldTable {
    /// Bits a query of this field sets: the atoms, then the prefilters.
    pub fn bits(&self) -> u32 {
        self.atoms.saturating_add(self.prefilters)
    }
}

/// One pattern alternative, checked only where its prefilter matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confirm {
    /// The prefilter bit that must be set first; `None` means the pattern has no required piece
    /// and is always checked.
    pub prefilter: Option<u32>,
    /// The atom set when the check holds.
    pub atom: u32,
    pub check: Check,
}

/// How a [`Confirm`] decides its alternative once its prefilter bit is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The pattern is its prefilter's piece and nothing more: the bit alone sets the atom.
    Exact,
    /// Its own DFA (unanchored, one pattern), by number among the bundle's DFAs of its form.
    Dfa { number: u32, form: DfaForm },
    /// `MatchGlob`'s in-order substrings (`*curl*|*sh*`): literal pieces found in order by a
    /// substring search, no DFA. `start` is the word of [`Words`] where the pieces are stored
    /// (see [`Words::in_order`]).
    InOrder { start: u32 },
    /// A code this build does not know: a damaged record, which fails the call closed.
    Unknown,
}

impl Confirm {
    /// Words of one record: prefilter (`u32::MAX` for none), atom, a number (the DFA's, or the
    /// in-order pieces' word), and the check (0 dense DFA, 1 sparse DFA, 2 exact, 3 in order).
    pub const WORDS: u32 = 4;

    pub fn to_words(self) -> [u32; 4] {
        let (number, code) = match self.check {
            Check::Dfa {
                number,
                form: DfaForm::Dense,
            } => (number, 0),
            Check::Dfa {
                number,
                form: DfaForm::Sparse,
            } => (number, 1),
            Check::Exact => (0, 2),
            Check::InOrder { start } => (start, 3),
            Check::Unknown => (0, u32::MAX),
        };
        [self.prefilter.unwrap_or(u32::MAX), self.atom, number, code]
    }

    fn from_words(w: [u32; 4]) -> Confirm {
        let [prefilter, atom, number, code] = w;
        let check = match code {
            0 => Check::Dfa {
                number,
                form: DfaForm::Dense,
            },
            1 => Check::Dfa {
                number,
                form: DfaForm::Sparse,
            },
            2 => Check::Exact,
            3 => Check::InOrder { start: number },
            _ => Check::Unknown,
        };
        Confirm {
            prefilter: (prefilter != u32::MAX).then_some(prefilter),
            atom,
            check,
        }
    }
}

/// How the evaluator runs one of a field's DFAs over an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DfaKind {
    /// Unanchored, overlapping: every pattern that matches sets its bit.
    Overlapping,
    /// Built anchored and run from every start position: the fallback for a single pattern whose
    /// unanchored DFA would blow up (e.g. `sk-[A-Za-z0-9_-]{32,}`, where every `sk-` inside a run
    /// restarts a counter). Quadratic in the worst case, linear for selective patterns.
    AnchoredEverywhere,
    /// One pattern, the alternation of the field's required pieces: the scan records where a
    /// piece ends and sets no bit. The [`DfaKind::PieceNames`] record after it says which.
    PieceEnds,
    /// Built reversed and anchored, one pattern per piece: run back from each end the
    /// [`DfaKind::PieceEnds`] record before it found, it names exactly the pieces that end there.
    PieceNames,
    /// A kind this build does not know: a damaged record, which fails the call closed.
    Unknown,
}

impl DfaKind {
    fn code(self) -> u32 {
        match self {
            DfaKind::Overlapping => 0,
            DfaKind::AnchoredEverywhere => 1,
            DfaKind::PieceEnds => 2,
            DfaKind::PieceNames => 3,
            DfaKind::Unknown => u32::MAX >> 1,
        }
    }

    fn from_code(code: u32) -> DfaKind {
        match code {
            0 => DfaKind::Overlapping,
            1 => DfaKind::AnchoredEverywhere,
            2 => DfaKind::PieceEnds,
            3 => DfaKind::PieceNames,
            _ => DfaKind::Unknown,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DfaRef {
    /// The DFA's number among the bundle's DFAs of its form.
    pub number: u32,
    /// Pattern id -> atom id: a span of atom numbers in [`Words`] (empty for
    /// [`DfaKind::PieceEnds`], which sets no bit).
    pub atoms: Span,
    pub kind: DfaKind,
    pub form: DfaForm,
}

impl DfaRef {
    /// Words of one record: DFA number, atoms start, atoms length, then sparse (bit 0) and the
    /// kind (the bits above).
    pub const WORDS: u32 = 4;

    pub fn to_words(self) -> [u32; 4] {
        let flags = u32::from(self.form == DfaForm::Sparse) | self.kind.code() << 1;
        [self.number, self.atoms.start, self.atoms.len, flags]
    }

    fn from_words(w: [u32; 4]) -> DfaRef {
        DfaRef {
            number: w[0],
            atoms: Span {
                start: w[1],
                len: w[2],
            },
            kind: DfaKind::from_code(w[3] >> 1),
            form: if w[3] & 1 == 0 {
                DfaForm::Dense
            } else {
                DfaForm::Sparse
            },
        }
    }
}

/// A run of [`Words`]: `len` words from word `start`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

/// The bundle's words section, read in place: long lists of numbers cost nothing to open this
/// way, where decoding them would cost an allocation and a varint loop per list per process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Words<'a> {
    bytes: &'a [u8],
}

impl<'a> Words<'a> {
    pub fn new(bytes: &'a [u8]) -> Words<'a> {
        Words { bytes }
    }

    /// Number of words.
    pub fn len(&self) -> u32 {
        (self.bytes.len() / 4) as u32
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `span` lies within the section (checked once per span when a program is opened).
    pub fn holds(&self, span: Span) -> bool {
        span.start
            .checked_add(span.len)
            .is_some_and(|end| end <= self.len())
    }

    /// Word `index` of the section.
    pub fn get(&self, index: u32) -> Option<u32> {
        let at = (index as usize).checked_mul(4)?;
        let bytes = self.bytes.get(at..at + 4)?;
        bytes.try_into().ok().map(u32::from_le_bytes)
    }

    /// Word `i` of `span` (`None` past its end).
    pub fn at(&self, span: Span, i: u32) -> Option<u32> {
        if i < span.len {
            self.get(span.start.checked_add(i)?)
        } else {
            None
        }
    }

    /// The words of `span` (empty if it lies outside the section).
    pub fn span(&self, span: Span) -> impl Iterator<Item = u32> + 'a {
        let start = span.start as usize * 4;
        let bytes = start
            .checked_add(span.len as usize * 4)
            .and_then(|end| self.bytes.get(start..end))
            .unwrap_or(&[]);
        // `chunks_exact` gives four bytes each time, so the conversion cannot miss (u32::MAX
        // stands for a word that could not be read: past every table the checks accept).
        bytes.chunks_exact(4).map(|c| {
            let word = c.try_into().ok().map(u32::from_le_bytes);
            or_closed(word, u32::MAX)
        })
    }

    /// The pieces of a [`Check::InOrder`] stored from word `start`: a byte length, then the
    /// bytes packed four to a word. `None` when they do not lie within the section.
    pub fn in_order(&self, start: u32) -> Option<&'a [u8]> {
        let len = self.get(start)? as usize;
        let from = (start as usize).checked_add(1)?.checked_mul(4)?;
        self.bytes.get(from..from.checked_add(len)?)
    }

    /// Records `records` of the confirm records in `span`.
    pub fn confirm_records(
        &self,
        span: Span,
        records: core::ops::Range<u32>,
    ) -> impl Iterator<Item = Confirm> + 'a {
        let start = records.start.saturating_mul(Confirm::WORDS);
        let end = records.end.saturating_mul(Confirm::WORDS).min(span.len);
        let sub = Span {
            start: span.start.saturating_add(start),
            len: end.saturating_sub(start),
        };
        self.confirms(sub)
    }

    /// The confirm records of `span` (a span of whole records).
    pub fn confirms(&self, span: Span) -> impl Iterator<Item = Confirm> + 'a {
        self.records(span).map(Confirm::from_words)
    }

    /// The DFA records of `span` (a span of whole records).
    pub fn dfa_refs(&self, span: Span) -> impl Iterator<Item = DfaRef> + 'a {
        self.records(span).map(DfaRef::from_words)
    }

    /// The four-word records of `span` (a trailing partial record is left out).
    fn records(&self, span: Span) -> impl Iterator<Item = [u32; 4]> + 'a {
        let mut words = self.span(span);
        core::iter::from_fn(move || {
            Some([words.next()?, words.next()?, words.next()?, words.next()?])
        })
    }
}

/// Builds a words section: the compiler appends lists and keeps the spans.
#[derive(Clone, Debug, Default)]
pub struct WordsWriter {
    words: Vec<u32>,
}

impl WordsWriter {
    /// Appends `items`, returning their span.
    pub fn push(&mut self, items: impl IntoIterator<Item = u32>) -> Span {
        let start = self.words.len() as u32;
        self.words.extend(items);
        Span {
            start,
            len: self.words.len() as u32 - start,
        }
    }

    /// Appends `bytes` as [`Words::in_order`] reads them, returning the first word.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> u32 {
        let start = self.words.len() as u32;
        self.words.push(bytes.len() as u32);
        self.words.extend(bytes.chunks(4).map(|c| {
            let mut word = [0; 4];
            for (to, from) in word.iter_mut().zip(c) {
                *to = *from;
            }
            u32::from_le_bytes(word)
        }));
        start
    }

    /// The section bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

/// Everything deciding needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    pub default_action: Option<Action>,
    /// One table per [`Field`], indexed by [`Field::index`].
    pub fields: Vec<FieldTable>,
    /// Enabled policies in evaluation order (stable-sorted by effective priority).
    pub policies: Vec<PolicyProgram>,
    /// Names of the Input params some rule's tool_param_matches reads (size limit and matching).
    pub tool_params: Vec<String>,
    /// The relative path patterns, as joined with the workdir, ordered by [`JoinedPath::up`].
    pub joined_paths: Vec<JoinedPath>,
    /// The policies in scope per tool name, for the names calls commonly have.
    pub tool_scopes: Vec<ToolScope>,
    /// The rules each atom can make fire.
    pub triggers: Triggers,
    /// Every [`Text`] of the program, back to back.
    pub text: String,
}

/// The policies whose tool globs admit `tool` (or that have none), in evaluation order: worked
/// out by the compiler, so a call of a listed tool neither searches the tool field nor tests
/// every policy's tools. Agent and session are not in it: they are tested per call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolScope {
    pub tool: String,
    /// Policy indices into [`Program::policies`], rising.
    pub policies: Vec<u32>,
    /// Every listed policy's agent and session globs match any input (`*`) and none of their
    /// rules has a session condition: within the input limit, the list is the scope as it is,
    /// and a call of this tool needs neither the agent nor the session searched.
    pub anyone: bool,
}

/// Which rules each atom can make fire, worked out by the compiler: deciding then tests only the
/// rules some matched atom names, and the rules no atom names (`untriggered`).
///
/// A restrictive rule with a positive command pattern can only fire on a call where one of its
/// `command_matches` atoms or its `command_contains` atom matched a restrictive reading (or the
/// readings overflowed, when every rule is tested): those atoms are its triggers. Every other
/// rule (granting rules, rules without a command, exclusions only) is untriggered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Triggers {
    /// Whether the program has the index (a program without one tests every rule).
    pub present: bool,
    /// Per [`Field::Command`] atom, the rule numbers (counted through all policies' rules in
    /// order) it triggers.
    pub command: Vec<Vec<u32>>,
    /// Per [`Field::ContainsCi`] atom, the same.
    pub contains: Vec<Vec<u32>>,
    /// The rules tested whatever matched, rising.
    pub untriggered: Vec<u32>,
}

/// A [`ToolScope`] as read in place (see [`ProgramView::tool_scope`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListedScope {
    /// The policy indices, a list read with [`ProgramView::policies_in`].
    pub policies: Span,
    /// See [`ToolScope::anyone`].
    pub anyone: bool,
}

/// A string of the program (a policy name, a rule message): a range of
/// [`Program::text`], read with [`Program::text`].
///
/// Why not a `String` each: the bundle's program is read in place ([`ProgramView`]), and a
/// string there is a range of one text block, checked once by `Bundle::open`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Text {
    pub start: u32,
    pub len: u32,
}

impl Program {
    /// The string `text` stands for; empty when a damaged bundle's range does not lie on the
    /// block's character boundaries.
    pub fn text(&self, text: Text) -> &str {
        let start = text.start as usize;
        self.text
            .get(start..start.saturating_add(text.len as usize))
            .unwrap_or("")
    }

    /// Appends `s` to the text block (the compiler's side of [`Program::text`]).
    pub fn add_text(&mut self, s: &str) -> Text {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Text {
            start,
            len: s.len() as u32,
        }
    }

    pub fn field(&self, field: Field) -> Option<&FieldTable> {
        self.fields.get(field.index())
    }

    /// Upstream: an empty default_action means deny.
    pub fn default_action(&self) -> Action {
        self.default_action.unwrap_or(Action::Deny)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyProgram {
    pub name: Text,
    /// Atom in [`Field::Agent`].
    pub agent: u32,
    /// Atom in [`Field::Session`].
    pub session: u32,
    /// Atoms in [`Field::Tool`]; empty means every tool.
    pub tools: AtomRange,
    /// From `user-overrides.yaml` or `auto-allowed.yaml`: its allow beats ask/watch/webhook.
    pub durable: bool,
    /// From the project policy: cannot weaken the global default; deny messages are prefixed.
    pub project: bool,
    pub rules: Vec<RuleProgram>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleProgram {
    pub action: Action,
    pub message: Text,
    /// Seconds since the Unix epoch after which the rule is skipped.
    pub expires_at: Option<i64>,
    /// Single use (`once: true`): it applies until an enforcing surface claims it
    /// (`rampart_compiler::sources::PolicyInForce::claim_once`), which removes it from its file.
    pub once: bool,
    /// Match with granting logic (every component covered) rather than restrictive logic.
    pub grant: bool,
    /// `default: true` or an empty `when`: matches every call in scope at request time.
    pub always: bool,
    pub command: Option<CommandCond>,
    /// [`Field::EnvName`] atoms.
    pub env: AtomRange,
    pub path: Option<PathCond>,
    /// [`Field::Url`] atoms.
    pub url: AtomRange,
    /// [`Field::Domain`] atoms.
    pub domain: AtomRange,
    pub session: Option<SessionCond>,
    pub agent_depth: Option<DepthCond>,
    /// (index into [`Program::tool_params`], [`Field::ToolParam`] atom).
    pub tool_params: Vec<(u32, u32)>,
    pub call_count: Option<CountCond>,
    pub response: Option<ResponseCond>,
}

/// command_matches / command_contains / command_not_matches of one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandCond {
    /// [`Field::Command`] atoms of command_matches: those anchored at the command's head first,
    /// then the free ones (see [`CommandCond::free`]).
    pub matches: AtomRange,
    /// The tail of `matches` whose patterns start with `*` and so may match anywhere in a
    /// reading; restrictive rules match them on the readings that leave mentions out.
    pub free: AtomRange,
    /// The rule's command_contains alternation: in [`Field::ContainsCi`] for restrictive rules,
    /// [`Field::ContainsCs`] for granting ones.
    pub contains: Option<u32>,
    /// [`Field::Command`] atoms of command_not_matches.
    pub not_matches: AtomRange,
    /// The command_matches atoms whose pattern is itself a compound command (grant analysis).
    pub composite: Vec<u32>,
}

impl CommandCond {
    pub fn has_positive(&self) -> bool {
        !self.matches.is_empty() || self.contains.is_some()
    }

    /// `matches` split into its anchored head and its free tail. A `free` range that is not the
    /// tail of `matches` (a corrupt program) leaves every pattern anchored and free at once, so
    /// it can only over-match (fail closed).
    pub fn split_matches(&self) -> (AtomRange, AtomRange) {
        split_matches(self.matches, self.free)
    }
}

/// [`CommandCond::split_matches`] of `matches` and `free`.
fn split_matches(matches: AtomRange, free: AtomRange) -> (AtomRange, AtomRange) {
    let tail = free.end == matches.end && free.start >= matches.start && free.start <= free.end;
    if tail {
        (AtomRange::new(matches.start, free.start), free)
    } else {
        (matches, matches)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathCond {
    pub matches: AtomRange,
    pub not_matches: AtomRange,
}

/// A relative path pattern as upstream matches it against an absolute path: joined with the
/// workdir (reference §2.7). The workdir is known only when a call is decided, so the compiler
/// cleans the pattern as the join would, splitting it into the levels its leading `..` climb
/// ([`up`](Self::up)) and the rest, and lowers `/` + the rest as an atom of
/// [`Field::JoinedPath`]; the evaluator matches that atom against the part of a candidate below
/// the workdir's ancestor `up` levels up, and sets [`atom`](Self::atom) when it matches (see
/// `eval::facts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JoinedPath {
    /// Leading `..` levels of the cleaned pattern: the pattern is joined with the workdir's
    /// ancestor this many levels up.
    pub up: u32,
    /// The pattern's [`Field::Path`] atom, set when the joined pattern matches.
    pub atom: u32,
    /// The [`Field::JoinedPath`] atom of `/` + the rest; `None` when nothing is left, and the
    /// joined pattern is the base directory itself.
    pub joined: Option<u32>,
    /// Bytes the joined pattern adds to the base directory (`/` + the rest; 0 for the base
    /// itself).
    pub tail: u32,
    /// Upstream's longest matchable pattern for it: 256 bytes with `**`, else 8192. A joined
    /// pattern longer than that never matches.
    pub limit: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionCond {
    pub matches: AtomRange,
    pub not_matches: AtomRange,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DepthCond {
    pub gte: Option<i64>,
    pub lte: Option<i64>,
    pub eq: Option<i64>,
}

impl DepthCond {
    pub fn holds(&self, depth: i64) -> bool {
        self.gte.is_none_or(|g| depth >= g)
            && self.lte.is_none_or(|l| depth <= l)
            && self.eq.is_none_or(|e| depth == e)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountCond {
    /// The counted tool; `None` is the current call's tool.
    pub tool: Option<String>,
    pub gte: u32,
    pub window_secs: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseCond {
    pub matches: AtomRange,
    pub not_matches: AtomRange,
}

/// What only explanations and surfaces need: names, sources, the source map of every pattern,
/// and the settings a surface acts on after deciding (notify, webhooks, ask options, single-use
/// rules).
///
/// The field order is part of the format: what a surface reads after a decision comes first, so
/// that it decodes [`MetadataHead`] (a prefix of the postcard encoding) and not the source map,
/// which costs more to decode than deciding the call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The top-level `notify:` block in force, if any.
    pub notify: Option<NotifyMeta>,
    /// Same order as [`Program::policies`].
    pub policies: Vec<PolicyMeta>,
    /// Policies with `enabled: false` (never evaluated; listed so explain can say why).
    pub disabled: Vec<PolicyMeta>,
    /// The files the policy set was loaded from.
    pub files: Vec<String>,
    /// Per [`Field`] (by index), per atom: the pattern(s) it stands for.
    pub atoms: Vec<Vec<AtomMeta>>,
}

/// The first fields of [`Metadata`]: what a surface needs after deciding, decoded without the
/// source map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct MetadataHead {
    pub notify: Option<NotifyMeta>,
    pub policies: Vec<PolicyMeta>,
}

/// The first field of [`Metadata`] alone: whether and where decisions are posted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct NotifyHead {
    pub notify: Option<NotifyMeta>,
}

/// Where and when decisions are posted (upstream's `notify:`; sending is the surfaces' job).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyMeta {
    pub url: String,
    /// `auto`, `slack`, `discord`, `teams`, `webhook` (empty is auto).
    pub platform: String,
    /// The decisions that notify: deny, ask and watch (upstream's default: deny and ask).
    pub on: Vec<Action>,
}

/// What a surface needs of one rule beyond deciding: where it was written, its webhook, its ask
/// options, and whether it is single-use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    /// `file:line:column`.
    pub pos: String,
    pub once: bool,
    /// Seconds since the Unix epoch after which the rule is skipped.
    pub expires_at: Option<i64>,
    /// `action: webhook`'s settings.
    pub webhook: Option<WebhookMeta>,
    /// `ask.audit`: mirror the native prompt into the server's approval queue.
    pub ask_audit: bool,
    /// `ask.headless_only`: use the server's blocking approval instead of the native prompt.
    pub ask_headless_only: bool,
    /// A digest of the rule as loaded (action, message, conditions), so that a claim of a
    /// single-use rule removes exactly the rule that decided, not one edited since.
    pub fingerprint: String,
}

/// A rule's `webhook:` settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMeta {
    pub url: String,
    /// Milliseconds (default 5 s, capped at 30 s).
    pub timeout_ms: u64,
    /// Allow when the webhook fails or times out (default: deny).
    pub fail_open: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyMeta {
    pub name: String,
    /// The basename of the file it came from, `embedded:<profile>`, or `project`.
    pub source: String,
    /// The file it came from, as loaded (`embedded:<profile>` for a built-in profile).
    pub file: String,
    /// `file:line:column`.
    pub pos: String,
    pub priority: i64,
    pub description: String,
    /// Per rule, in order.
    pub rules: Vec<RuleMeta>,
}

/// One atom's patterns: a single glob, or every literal of a contains alternation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomMeta {
    pub patterns: Vec<PatternMeta>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternMeta {
    pub text: String,
    /// `file:line:column`.
    pub pos: String,
}
