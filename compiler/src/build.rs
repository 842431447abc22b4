//! Lowering a checked [`PolicySet`] into `policy.bin` (the bundle format is
//! [`rampart_runtime::bundle`], the rule tables [`rampart_runtime::program`]).
//!
//! Every pattern becomes an atom of one [`Field`]. Atoms are allocated rule by rule, so the atoms
//! one rule owns in one field are contiguous and the evaluator tests "any of this rule's patterns"
//! as a bit range. Each field's regexes then become dense DFAs, one set per field (mixing fields
//! in one DFA multiplies their state spaces), split in halves whenever a DFA would exceed
//! [`DFA_SIZE_LIMIT`]: the subset construction over many unanchored patterns can blow up, and a
//! bounded build that splits is both faster and smaller than an unbounded one.
//! command_contains literals of one rule become ONE alternation (one atom): a DFA with one
//! pattern per literal takes seconds to build, an alternation milliseconds.

use std::time::Instant;

use regex_automata::dfa::{dense, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::MatchKind;

use rampart_runtime::bundle::{BundleWriter, DfaForm, SectionKind, FLAG_EXEC_NEEDS_SERVER};
use rampart_runtime::program::{
    self, AtomMeta, AtomRange, CommandCond, Confirm, CountCond, DepthCond, DfaRef, Field,
    FieldTable, Metadata, PathCond, PatternMeta, PolicyMeta, PolicyProgram, Program, ResponseCond,
    RuleProgram, SessionCond, Span, WordsWriter,
};

use crate::error::Error;
use crate::lower::{dfa_builder, lower_contains, lower_parts, Flavour, Part, Parts, Shape};
use crate::model::{Condition, Located, Policy, PolicySet, Rule, SourcePos};

/// Largest DFA built in one piece; larger groups are split.
pub const DFA_SIZE_LIMIT: usize = 4 << 20;

/// Policy files whose allows beat ask/watch/webhook (upstream's durable allows).
const DURABLE_SOURCES: [&str; 2] = ["user-overrides.yaml", "auto-allowed.yaml"];
/// The `source` of policies loaded from a project's `.rampart/policy.yaml`.
pub const PROJECT_SOURCE: &str = "project";

/// What a compile produced, for `rampart compile` to report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompileStats {
    pub policies: usize,
    pub rules: usize,
    pub patterns: usize,
    pub automata: usize,
    pub bytes: usize,
    pub millis: u128,
}

/// Compiles `set` into the bytes of a bundle.
pub fn compile(set: &PolicySet) -> Result<(Vec<u8>, CompileStats), Error> {
    let started = Instant::now();
    let mut lowering = Lowering::default();
    let mut enabled: Vec<&Policy> = set.policies.iter().filter(|p| p.enabled).collect();
    // Stable: equal priorities keep file order, then document order (upstream's observed order).
    enabled.sort_by_key(|p| p.priority);
    let mut program = Program {
        default_action: set.default_action.as_ref().map(|a| a.value),
        ..Program::default()
    };
    let mut meta = Metadata {
        files: set.files.clone(),
        ..Metadata::default()
    };
    let mut stats = CompileStats::default();
    for policy in &enabled {
        let lowered = lowering.policy(policy, &mut program)?;
        program.policies.push(lowered);
        meta.policies.push(policy_meta(policy));
        stats.rules += policy.rules.len();
    }
    meta.disabled = set
        .policies
        .iter()
        .filter(|p| !p.enabled)
        .map(policy_meta)
        .collect();
    stats.policies = enabled.len();
    stats.patterns = lowering.patterns;

    let mut writer = Sections {
        bundle: BundleWriter::new(flags(&enabled)),
        words: WordsWriter::default(),
    };
    for field in Field::ALL {
        let atoms = std::mem::take(&mut lowering.fields[field.index()]);
        let table = build_field(field, &atoms, &mut writer)?;
        stats.automata +=
            ((table.dfas.len / DfaRef::WORDS) + (table.confirms.len / Confirm::WORDS)) as usize;
        program.fields.push(table);
        meta.atoms.push(atoms.into_iter().map(|a| a.meta).collect());
    }
    let metadata = postcard::to_allocvec(&meta).map_err(|e| Error {
        pos: None,
        message: format!("cannot encode the metadata: {e}"),
    })?;
    let Sections { mut bundle, words } = writer;
    bundle.add(SectionKind::Program, program::flat::encode(&program));
    bundle.add(SectionKind::Metadata, metadata);
    bundle.add(SectionKind::Words, words.into_bytes());
    let bytes = bundle.finish();
    stats.bytes = bytes.len();
    stats.millis = started.elapsed().as_millis();
    Ok((bytes, stats))
}

/// Where the automata and the program's word lists go while a bundle is built.
struct Sections {
    bundle: BundleWriter,
    words: WordsWriter,
}

/// Exec decisions need the server when an exec-scoped rule counts calls (the count lives there).
fn flags(policies: &[&Policy]) -> u32 {
    let may_see_exec = |p: &Policy| {
        p.tools.is_empty()
            || p.tools
                .iter()
                .any(|t| rampart_runtime::glob::match_glob(&t.value, "exec"))
    };
    let counts = policies
        .iter()
        .any(|p| may_see_exec(p) && p.rules.iter().any(|r| r.when.call_count.is_some()));
    if counts {
        FLAG_EXEC_NEEDS_SERVER
    } else {
        0
    }
}

fn policy_meta(p: &Policy) -> PolicyMeta {
    PolicyMeta {
        name: p.name.value.clone(),
        source: p.source.clone(),
        pos: p.pos.to_string(),
        priority: p.priority,
        description: p.description.clone(),
        rules: p.rules.iter().map(|r| r.pos.to_string()).collect(),
    }
}

/// One atom before its field's automata are built.
#[derive(Clone, Debug)]
struct Atom {
    lowered: Parts,
    meta: AtomMeta,
    pos: SourcePos,
}

/// Allocates atoms field by field, rule by rule.
#[derive(Default)]
struct Lowering {
    fields: [Vec<Atom>; 12],
    patterns: usize,
}

impl Lowering {
    fn push(&mut self, field: Field, lowered: Parts, patterns: &[&Located<String>]) -> u32 {
        let atoms = &mut self.fields[field.index()];
        let id = atoms.len() as u32;
        self.patterns += patterns.len();
        atoms.push(Atom {
            lowered,
            meta: AtomMeta {
                patterns: patterns
                    .iter()
                    .map(|p| PatternMeta {
                        text: p.value.clone(),
                        pos: p.pos.to_string(),
                    })
                    .collect(),
            },
            pos: patterns.first().map(|p| p.pos.clone()).unwrap_or_default(),
        });
        id
    }

    /// One atom per glob, contiguous.
    fn globs(&mut self, field: Field, flavour: Flavour, globs: &[Located<String>]) -> AtomRange {
        let start = self.fields[field.index()].len() as u32;
        for g in globs {
            let text = if field == Field::ToolParam {
                g.value.to_lowercase()
            } else {
                g.value.clone()
            };
            self.push(field, lower_parts(&text, flavour), &[g]);
        }
        AtomRange::new(start, self.fields[field.index()].len() as u32)
    }

    /// Lowers `p`; its strings go to `program`'s text and its tool params to its list.
    fn policy(&mut self, p: &Policy, program: &mut Program) -> Result<PolicyProgram, Error> {
        let basename = p.source.rsplit(['/', '\\']).next().unwrap_or(&p.source);
        let durable = DURABLE_SOURCES.contains(&basename);
        let agent = self.push(
            Field::Agent,
            lower_parts(&p.agent.value, Flavour::Command),
            &[&p.agent],
        );
        let session = self.push(
            Field::Session,
            lower_parts(&p.session.value, Flavour::Command),
            &[&p.session],
        );
        let tools = self.globs(Field::Tool, Flavour::Command, &p.tools);
        let mut rules = Vec::with_capacity(p.rules.len());
        for r in &p.rules {
            rules.push(self.rule(r, durable, program)?);
        }
        Ok(PolicyProgram {
            name: program.add_text(&p.name.value),
            agent,
            session,
            tools,
            durable,
            project: p.source == PROJECT_SOURCE,
            rules,
        })
    }

    fn rule(
        &mut self,
        r: &Rule,
        durable: bool,
        program: &mut Program,
    ) -> Result<RuleProgram, Error> {
        let act = r.action.value;
        // Durable-allow policies always use the grant logic (reference §2.6).
        let grant = !act.is_restrictive() || durable;
        let w = &r.when;
        Ok(RuleProgram {
            action: act,
            message: program.add_text(&r.message),
            expires_at: r.expires_at,
            grant,
            always: w.default || w.is_empty(),
            command: self.command(w, grant),
            env: self.globs(Field::EnvName, Flavour::Command, &w.command_env_assignments),
            path: (!w.path_matches.is_empty() || !w.path_not_matches.is_empty()).then(|| {
                PathCond {
                    matches: self.globs(Field::Path, Flavour::Path, &w.path_matches),
                    not_matches: self.globs(Field::Path, Flavour::Path, &w.path_not_matches),
                }
            }),
            url: self.globs(Field::Url, Flavour::Command, &w.url_matches),
            domain: self.globs(Field::Domain, Flavour::Domain, &w.domain_matches),
            session: (!w.session_matches.is_empty() || !w.session_not_matches.is_empty()).then(
                || SessionCond {
                    matches: self.globs(Field::Session, Flavour::Command, &w.session_matches),
                    not_matches: self.globs(
                        Field::Session,
                        Flavour::Command,
                        &w.session_not_matches,
                    ),
                },
            ),
            agent_depth: w.agent_depth.map(|d| DepthCond {
                gte: d.gte,
                lte: d.lte,
                eq: d.eq,
            }),
            tool_params: self.tool_params(w, &mut program.tool_params),
            call_count: w.call_count.as_ref().map(|c| CountCond {
                tool: c.tool.clone(),
                gte: c.gte,
                window_secs: c.window_secs,
            }),
            response: self.response(w)?,
        })
    }

    fn command(&mut self, w: &Condition, grant: bool) -> Option<CommandCond> {
        if w.command_matches.is_empty()
            && w.command_contains.is_empty()
            && w.command_not_matches.is_empty()
        {
            return None;
        }
        let matches = self.globs(Field::Command, Flavour::Command, &w.command_matches);
        let composite = matches
            .iter()
            .zip(&w.command_matches)
            .filter(|(_, g)| is_composite(&g.value))
            .map(|(atom, _)| atom)
            .collect();
        let not_matches = self.globs(Field::Command, Flavour::Command, &w.command_not_matches);
        let contains = (!w.command_contains.is_empty()).then(|| {
            let lits: Vec<&str> = w
                .command_contains
                .iter()
                .map(|c| c.value.as_str())
                .collect();
            let pats: Vec<&Located<String>> = w.command_contains.iter().collect();
            // Case-insensitive literals are lowercased here and matched against the ASCII-
            // lowercased reading: `[aA]` classes make the DFA half again as big.
            let lowered: Vec<String> = lits.iter().map(|l| l.to_ascii_lowercase()).collect();
            let (field, lits) = if grant {
                (Field::ContainsCs, lits)
            } else {
                (
                    Field::ContainsCi,
                    lowered.iter().map(String::as_str).collect(),
                )
            };
            self.push(field, fixed(lower_contains(&lits, false)), &pats)
        });
        Some(CommandCond {
            matches,
            contains,
            not_matches,
            composite,
        })
    }

    fn tool_params(&mut self, w: &Condition, params: &mut Vec<String>) -> Vec<(u32, u32)> {
        let mut out = Vec::with_capacity(w.tool_param_matches.len());
        for (name, glob) in &w.tool_param_matches {
            let index = match params.iter().position(|p| p == name) {
                Some(i) => i,
                None => {
                    params.push(name.clone());
                    params.len() - 1
                }
            };
            let range = self.globs(
                Field::ToolParam,
                Flavour::Command,
                std::slice::from_ref(glob),
            );
            out.push((index as u32, range.start));
        }
        out
    }

    fn response(&mut self, w: &Condition) -> Result<Option<ResponseCond>, Error> {
        if w.response_matches.is_empty() && w.response_not_matches.is_empty() {
            return Ok(None);
        }
        let range = |this: &mut Self,
                     regexes: &[Located<String>],
                     positive: bool|
         -> Result<AtomRange, Error> {
            let start = this.fields[Field::Response.index()].len() as u32;
            for re in regexes {
                let mut text = response_regex(re)?;
                if positive {
                    text = relax_counts(&text);
                }
                this.push(Field::Response, fixed(text), &[re]);
            }
            Ok(AtomRange::new(
                start,
                this.fields[Field::Response.index()].len() as u32,
            ))
        };
        Ok(Some(ResponseCond {
            matches: range(self, &w.response_matches, true)?,
            not_matches: range(self, &w.response_not_matches, false)?,
        }))
    }
}

/// A regex that is its own single part, placed with the literal-like shapes.
fn fixed(regex: String) -> Parts {
    Parts::Alts(vec![Part {
        required: Some(regex.clone()),
        regex,
        shape: Shape::Fixed,
    }])
}

/// An explicit compound pattern (`git add * && git commit *`) may grant a compound command whole.
fn is_composite(glob: &str) -> bool {
    ["&&", "||", ";", "|", "\n"]
        .iter()
        .any(|op| glob.contains(op))
}

/// RE2 semantics on bytes: ASCII `\w \d \s \b` as in Go, `.` not matching newline. A pattern that
/// needs Unicode classes (`\pL`) is compiled in Unicode mode instead.
fn response_regex(re: &Located<String>) -> Result<String, Error> {
    let ascii = syntax::Config::new().unicode(false).utf8(false);
    if syntax::parse_with(&re.value, &ascii).is_ok() {
        return Ok(re.value.clone());
    }
    let unicode = syntax::Config::new().utf8(false);
    match syntax::parse_with(&re.value, &unicode) {
        Ok(_) => Ok(format!("(?u:{})", re.value)),
        Err(e) => Err(Error {
            pos: Some(re.pos.clone()),
            message: format!("invalid response regex: {e}"),
        }),
    }
}

/// Widens counted repetitions with a large upper bound (`[^\n]{0,200}` -> `[^\n]{0,}`): a DFA
/// must count every bound, and 200 nested counters blow up. For a positive response pattern the
/// wider language only adds matches (the deny side), so it can be relaxed; exclusions never are.
fn relax_counts(re: &str) -> String {
    const MAX_BOUND: u32 = 16;
    let mut out = String::with_capacity(re.len());
    let (mut escaped, mut class) = (false, 0usize);
    let mut rest = re;
    while let Some(c) = rest.chars().next() {
        let len = c.len_utf8();
        if !escaped && class == 0 && c == '{' {
            if let Some((min, max, used)) = counted(&rest[1..]) {
                match max {
                    Some(max) if max > MAX_BOUND => out.push_str(&format!("{{{min},}}")),
                    _ => out.push_str(&rest[..=used]),
                }
                rest = &rest[used + 1..];
                continue;
            }
        }
        match c {
            '\\' if !escaped => escaped = true,
            '[' if !escaped => {
                class += 1;
                escaped = false;
            }
            ']' if !escaped && class > 0 => class -= 1,
            _ => escaped = false,
        }
        out.push(c);
        rest = &rest[len..];
    }
    out
}

/// Parses `m,n}` / `m,}` / `m}` after a `{`: (min, max, index of the closing brace in `{...}`).
fn counted(s: &str) -> Option<(u32, Option<u32>, usize)> {
    let close = s.find('}')?;
    let body = &s[..close];
    let (min, max) = match body.split_once(',') {
        Some((a, "")) => (a.parse().ok()?, None),
        Some((a, b)) => (a.parse().ok()?, Some(b.parse().ok()?)),
        None => {
            let n = body.parse().ok()?;
            (n, Some(n))
        }
    };
    Some((min, max, close + 1))
}

/// A counted repetition with a large minimum (`[A-Za-z0-9]{32,}`) restarts a counter at every
/// position of an unanchored search; such patterns go straight to the anchored fallback.
fn needs_anchored(re: &str) -> bool {
    re.match_indices('{')
        .filter_map(|(i, _)| counted(&re[i + 1..]))
        .any(|(min, _, _)| min >= 8)
}

fn response_builder() -> dense::Builder {
    let mut b = dense::Builder::new();
    b.configure(
        dense::Config::new()
            .match_kind(MatchKind::All)
            .start_kind(StartKind::Unanchored)
            .dfa_size_limit(Some(DFA_SIZE_LIMIT))
            .determinize_size_limit(Some(DFA_SIZE_LIMIT)),
    )
    .syntax(syntax::Config::new().unicode(false).utf8(false))
    .thompson(thompson::Config::new().utf8(false));
    b
}

/// The fallback for one pattern too big as an unanchored DFA: an anchored DFA the evaluator runs
/// from every start position.
fn build_anchored(
    field: Field,
    atoms: &[Atom],
    group: &[(u32, &str)],
    writer: &mut Sections,
    out: &mut Vec<DfaRef>,
) -> Result<(), Error> {
    let mut builder = if field == Field::Response {
        response_builder()
    } else {
        dfa_builder(DFA_SIZE_LIMIT)
    };
    builder.configure(
        dense::Config::new()
            .start_kind(StartKind::Anchored)
            .match_kind(MatchKind::LeftmostFirst),
    );
    let regexes: Vec<&str> = group.iter().map(|(_, re)| *re).collect();
    let atom = group.first().and_then(|(id, _)| atoms.get(*id as usize));
    match builder.build_many(&regexes) {
        Ok(dfa) => {
            let (bytes, pad) = dfa.to_bytes_little_endian();
            let number = writer
                .bundle
                .add_dfa(DfaForm::Dense, bytes.get(pad..).unwrap_or(&[]));
            out.push(DfaRef {
                number,
                atoms: writer.words.push(group.iter().map(|(id, _)| *id)),
                anchored: true,
                form: DfaForm::Dense,
            });
            Ok(())
        }
        Err(e) => {
            let text = atom
                .and_then(|a| a.meta.patterns.first())
                .map_or("", |p| p.text.as_str());
            Err(Error {
                pos: atom.map(|a| a.pos.clone()),
                message: format!(
                    "{} pattern {text:?} needs an automaton over the {} MiB limit: {e}",
                    field.name(),
                    DFA_SIZE_LIMIT >> 20
                ),
            })
        }
    }
}

/// Most patterns in one shared anchored DFA: fixed-size groups keep every build short without
/// first failing against the size limit.
const GROUP_PATTERNS: usize = 128;

/// Required pieces behind one bit of the second level. An unanchored `MatchKind::All` DFA with one
/// pattern per literal grows superlinearly (238 literals: 5.7 MB sparse, 4.4 s; as 32 patterns of
/// 8: 2.3 MB), the same literals as one alternation do not (0.8 MB, 0.6 s). So pieces are found in
/// three levels: one alternation of up to [`PIECES_PER_TOP`] pieces in the shared DFA; on a hit,
/// one small DFA per group of [`PIECES_PER_BIT`]; on a group hit, each alternative's own DFA.
/// A benign input pays one search; a hit pays a few small ones.
const PIECES_PER_BIT: usize = 8;
/// Pieces behind one bit of the first level (one pattern of the shared DFA).
const PIECES_PER_TOP: usize = 512;

/// One field's alternatives sorted by shape before any DFA is built (see [`Shape`]).
#[derive(Default)]
struct Routing<'a> {
    /// `^`-anchored alternatives and wild alternatives' anchored heads: (atom or prefilter, regex).
    anchored: Vec<(u32, &'a str)>,
    /// Prefilter alternations of the unanchored alternatives' required pieces: (bit, regex).
    prefilters: Vec<(u32, String)>,
    /// DFAs searched only behind a prefilter bit, in order: (bit, bit or atom set, regex).
    confirms: Vec<(Option<u32>, u32, String)>,
    /// Prefilter bits used so far.
    bits: u32,
}

impl<'a> Routing<'a> {
    fn of(atoms: &'a [Atom], always: &mut Vec<u32>) -> Routing<'a> {
        let first = atoms.len() as u32;
        let mut routing = Routing {
            bits: first,
            ..Routing::default()
        };
        let mut heads: std::collections::HashMap<&str, u32> = Default::default();
        // (required piece, atom, regex) of unanchored alternatives.
        let mut unanchored: Vec<(&str, u32, &str)> = Vec::new();
        for (id, atom) in atoms.iter().enumerate() {
            let id = id as u32;
            let parts = match &atom.lowered {
                Parts::Always => {
                    always.push(id);
                    continue;
                }
                Parts::Never => continue,
                Parts::Alts(parts) => parts,
            };
            for part in parts {
                let regex = part.regex.as_str();
                match (part.shape, part.required.as_deref()) {
                    (Shape::Anchored, _) => routing.anchored.push((id, regex)),
                    (_, Some(head)) if head.starts_with('^') => {
                        let next = routing.bits;
                        let bit = *heads.entry(head).or_insert(next);
                        if bit == next {
                            routing.bits += 1;
                            routing.anchored.push((bit, head));
                        }
                        routing.confirms.push((Some(bit), id, regex.to_string()));
                    }
                    (_, Some(piece)) => unanchored.push((piece, id, regex)),
                    (_, None) => routing.confirms.push((None, id, regex.to_string())),
                }
            }
        }
        routing.group_pieces(unanchored);
        // Neighbours share prefixes, so a group's trie (and each DFA) stays small.
        routing.anchored.sort_by_key(|&(_, regex)| regex);
        routing
    }

    /// Puts distinct pieces, sorted, behind the two prefilter levels (see [`PIECES_PER_BIT`]).
    fn group_pieces(&mut self, mut unanchored: Vec<(&'a str, u32, &'a str)>) {
        unanchored.sort_by_key(|&(piece, _, _)| piece);
        let mut pieces: Vec<&str> = unanchored.iter().map(|&(p, _, _)| p).collect();
        pieces.dedup();
        let mut bit_of: std::collections::HashMap<&str, u32> = Default::default();
        for top in pieces.chunks(PIECES_PER_TOP) {
            let top_bit = self.next_bit();
            self.prefilters.push((top_bit, alternation(top)));
            if top.len() <= 2 * PIECES_PER_BIT {
                // Few pieces (each a rule's whole contains list, say): a middle level would only
                // copy them.
                bit_of.extend(top.iter().map(|&p| (p, top_bit)));
                continue;
            }
            for chunk in top.chunks(PIECES_PER_BIT) {
                let bit = self.next_bit();
                self.confirms.push((Some(top_bit), bit, alternation(chunk)));
                bit_of.extend(chunk.iter().map(|&p| (p, bit)));
            }
        }
        for (piece, atom, regex) in unanchored {
            let bit = bit_of.get(piece).copied();
            self.confirms.push((bit, atom, regex.to_string()));
        }
    }

    fn next_bit(&mut self) -> u32 {
        self.bits += 1;
        self.bits - 1
    }
}

/// One regex matching where any of `pieces` matches.
fn alternation(pieces: &[&str]) -> String {
    let alts: Vec<String> = pieces.iter().map(|p| format!("(?:{p})")).collect();
    alts.join("|")
}

/// Builds the DFAs of one field: a shared DFA per group of anchored alternatives, prefilter
/// alternations, and one small confirming DFA per unanchored alternative.
fn build_field(field: Field, atoms: &[Atom], writer: &mut Sections) -> Result<FieldTable, Error> {
    let mut table = FieldTable {
        atoms: atoms.len() as u32,
        ..FieldTable::default()
    };
    if field == Field::Response {
        return build_response(atoms, writer, table);
    }
    let mut always = Vec::new();
    let routing = Routing::of(atoms, &mut always);
    table.always = writer.words.push(always);
    table.prefilters = routing.bits - table.atoms;
    let mut dfas = Vec::new();
    for chunk in routing.anchored.chunks(GROUP_PATTERNS) {
        build_group(field, atoms, chunk, Form::Chosen, writer, &mut dfas)?;
    }
    let prefilters: Vec<(u32, &str)> = routing
        .prefilters
        .iter()
        .map(|(bit, re)| (*bit, re.as_str()))
        .collect();
    for chunk in prefilters.chunks(GROUP_PATTERNS) {
        build_group(field, atoms, chunk, Form::Chosen, writer, &mut dfas)?;
    }
    table.dfas = push_dfa_refs(writer, &dfas);
    let mut confirms = Vec::with_capacity(routing.confirms.len());
    for (prefilter, atom, regex) in &routing.confirms {
        let (prefilter, atom) = (*prefilter, *atom);
        let (form, number) = build_confirm(field, atoms, atom, regex, writer)?;
        confirms.push(Confirm {
            prefilter,
            atom,
            number,
            form,
        });
    }
    let (confirms, index) = index_confirms(confirms, table.atoms, table.prefilters)?;
    table.confirm_index = writer.words.push(index);
    table.confirms = writer
        .words
        .push(confirms.into_iter().flat_map(Confirm::to_words));
    Ok(table)
}

/// Writes a field's DFA records to the words section (see [`FieldTable::dfas`]).
fn push_dfa_refs(writer: &mut Sections, dfas: &[DfaRef]) -> Span {
    writer.words.push(dfas.iter().flat_map(|d| d.to_words()))
}

/// Orders `confirms` by prefilter bit (none first) and gives the index of each bit's records
/// (see [`FieldTable::confirm_index`]). A query visits bits in rising order, so a confirm that
/// sets a prefilter bit must be keyed by a lower bit: the bit allocation guarantees it (a
/// middle-level bit is allocated after its top-level one), and this checks it.
fn index_confirms(
    mut confirms: Vec<Confirm>,
    atoms: u32,
    prefilters: u32,
) -> Result<(Vec<Confirm>, Vec<u32>), Error> {
    // Slot 0: no prefilter; slot k + 1: prefilter bit atoms + k.
    let slot = |c: &Confirm| match c.prefilter {
        None => Some(0),
        Some(p) => p
            .checked_sub(atoms)
            .filter(|&k| k < prefilters)
            .map(|k| k as usize + 1),
    };
    let ordered = |c: &Confirm| c.atom < atoms || c.prefilter.is_none_or(|p| p < c.atom);
    if !confirms.iter().all(|c| slot(c).is_some() && ordered(c)) {
        return Err(Error {
            pos: None,
            message: "internal: a confirm's prefilter bit is out of order".to_string(),
        });
    }
    confirms.sort_by_key(|c| slot(c).unwrap_or(0));
    let mut index = vec![0u32; prefilters as usize + 2];
    for c in &confirms {
        if let Some(n) = slot(c).and_then(|s| index.get_mut(s + 1)) {
            *n += 1;
        }
    }
    for i in 1..index.len() {
        index[i] += index[i - 1];
    }
    Ok((confirms, index))
}

/// Few, large regexes searched over big texts: one DFA each keeps every build small.
fn build_response(
    atoms: &[Atom],
    writer: &mut Sections,
    mut table: FieldTable,
) -> Result<FieldTable, Error> {
    let field = Field::Response;
    let mut dfas = Vec::new();
    for (id, atom) in atoms.iter().enumerate() {
        let Parts::Alts(parts) = &atom.lowered else {
            continue;
        };
        for part in parts {
            let one = [(id as u32, part.regex.as_str())];
            if needs_anchored(&part.regex) {
                build_anchored(field, atoms, &one, writer, &mut dfas)?;
            } else {
                build_group(field, atoms, &one, Form::Dense, writer, &mut dfas)?;
            }
        }
    }
    table.dfas = push_dfa_refs(writer, &dfas);
    // No prefilters, no confirms: the index is its two bounds.
    table.confirm_index = writer.words.push([0, 0]);
    Ok(table)
}

/// A pattern alone: it has no other pattern's subsets to remember.
fn build_confirm(
    field: Field,
    atoms: &[Atom],
    atom: u32,
    regex: &str,
    writer: &mut Sections,
) -> Result<(DfaForm, u32), Error> {
    let mut builder = dfa_builder(DFA_SIZE_LIMIT);
    // One pattern's DFA is small, so minimizing it costs little and makes its dense form smaller.
    builder.configure(dense::Config::new().minimize(true));
    match builder.build(regex) {
        Ok(dfa) => add_dfa(writer, &dfa, Form::Chosen),
        Err(e) => Err(Box::new(e)),
    }
    .map_err(|e| pattern_error(field, atoms, atom, &e))
}

/// How the form of a DFA is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// Always dense (the response's few DFAs, searched over large texts).
    Dense,
    /// Dense unless that is over [`DENSE_GROWTH`] times the sparse size: a dense search is
    /// several times faster per byte, but for a big trie of literals a dense state costs its
    /// whole alphabet where a sparse one costs its live transitions (10-40x smaller).
    Chosen,
}

/// How many times its sparse size a DFA may take to be stored dense.
const DENSE_GROWTH: usize = 4;

/// Adds `dfa` in the form `form` picks; returns the form and the DFA's number in it.
fn add_dfa(writer: &mut Sections, dfa: &dense::DFA<Vec<u32>>, form: Form) -> Built {
    let (bytes, pad) = dfa.to_bytes_little_endian();
    let dense = bytes.get(pad..).unwrap_or(&[]);
    if form == Form::Chosen {
        let sparse = dfa.to_sparse().map_err(Box::new)?.to_bytes_little_endian();
        if dense.len() > DENSE_GROWTH * sparse.len() {
            return Ok((
                DfaForm::Sparse,
                writer.bundle.add_dfa(DfaForm::Sparse, &sparse),
            ));
        }
    }
    Ok((DfaForm::Dense, writer.bundle.add_dfa(DfaForm::Dense, dense)))
}

/// Where a DFA went, or why it could not be built (boxed: the error is large).
type Built = Result<(DfaForm, u32), Box<dense::BuildError>>;

fn pattern_error(
    field: Field,
    atoms: &[Atom],
    atom: u32,
    e: &regex_automata::dfa::dense::BuildError,
) -> Error {
    let atom = atoms.get(atom as usize);
    let text = atom
        .and_then(|a| a.meta.patterns.first())
        .map_or("", |p| p.text.as_str());
    Error {
        pos: atom.map(|a| a.pos.clone()),
        message: if e.is_size_limit_exceeded() {
            format!(
                "{} pattern {text:?} needs an automaton over the {} MiB limit",
                field.name(),
                DFA_SIZE_LIMIT >> 20
            )
        } else {
            format!("{} pattern {text:?} cannot be compiled: {e}", field.name())
        },
    }
}

fn build_group(
    field: Field,
    atoms: &[Atom],
    group: &[(u32, &str)],
    form: Form,
    writer: &mut Sections,
    out: &mut Vec<DfaRef>,
) -> Result<(), Error> {
    let builder = if field == Field::Response {
        response_builder()
    } else {
        dfa_builder(DFA_SIZE_LIMIT)
    };
    let regexes: Vec<&str> = group.iter().map(|(_, re)| *re).collect();
    let built = match builder.build_many(&regexes) {
        Ok(dfa) => add_dfa(writer, &dfa, form),
        Err(e) => Err(Box::new(e)),
    };
    match built {
        Ok((form, number)) => {
            out.push(DfaRef {
                number,
                atoms: writer.words.push(group.iter().map(|(id, _)| *id)),
                anchored: false,
                form,
            });
            Ok(())
        }
        // A group too big (or holding a bad regex) is halved until the culprit stands alone.
        Err(_) if group.len() > 1 => {
            let (a, b) = group.split_at(group.len() / 2);
            build_group(field, atoms, a, form, writer, out)?;
            build_group(field, atoms, b, form, writer, out)
        }
        Err(e) if e.is_size_limit_exceeded() => build_anchored(field, atoms, group, writer, out),
        Err(e) => {
            let atom = group.first().map_or(u32::MAX, |(id, _)| *id);
            Err(pattern_error(field, atoms, atom, &e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxes_only_large_upper_bounds() {
        let cases = [
            (r"a[^\n]{0,200}b", r"a[^\n]{0,}b"),
            (r"x{2,5}", r"x{2,5}"),
            (r"x{3}", r"x{3}"),
            (r"k{32,}", r"k{32,}"),
            (r"\{0,200}", r"\{0,200}"),
            (r"[{]{1,99}", r"[{]{1,}"),
        ];
        for (input, want) in cases {
            assert_eq!(relax_counts(input), want, "{input}");
        }
        assert!(needs_anchored(r"sk-[A-Za-z0-9_-]{32,}"));
        assert!(!needs_anchored(r"AKIA[0-9A-Z]{4}"));
    }
}
