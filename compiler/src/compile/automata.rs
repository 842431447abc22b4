//! Building a field's DFAs from its routing, and storing each in the form it is best kept in.
//!
//! Every build is bounded ([`DFA_SIZE_LIMIT`]): a group that would exceed it is halved until the
//! culprit stands alone, and a single pattern still too big as an unanchored DFA becomes an
//! anchored one that the evaluator runs from every start position. A DFA searched for every
//! reading is stored dense unless that costs [`DENSE_GROWTH`] times its sparse size: dense is
//! several times faster per byte, but a big trie of literals pays its whole alphabet per state.
//! A confirming DFA runs only on the readings where its prefilter found its key, and a profile
//! has one per wild pattern that is not in-order pieces, so all of them dense would be most of a
//! bundle: one is stored dense only when that at most doubles its size ([`CONFIRM_GROWTH`]),
//! which the small, hot ones (`^su .* -c `) do and the big case-folded ones do not.

use regex_automata::dfa::{dense, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::MatchKind;

use rampart_runtime::bundle::{BundleWriter, DfaForm};
use rampart_runtime::invariant::or_closed;
use rampart_runtime::program::{
    Check, Confirm, DfaKind, DfaRef, Field, FieldTable, Span, WordsWriter,
};

use super::program::Atom;
use super::relax::needs_anchored;
use super::routing::{alternation, Confirming, Pattern, Piece, Routing, PIECES_PER_SCAN};
use crate::error::Error;
use crate::lower::{dfa_builder, Parts};

/// Largest DFA built in one piece; larger groups are split.
pub const DFA_SIZE_LIMIT: usize = 4 << 20;

/// Most patterns in one shared anchored DFA. Every search has a fixed cost (start state, match
/// bookkeeping) however soon the trie dies, and the field is searched once per reading, so a
/// field's anchored patterns share one DFA: the standard profile's command field (four groups
/// of 128 before) builds as fast as one. The bound keeps a build from first
/// failing against the size limit on a profile far larger.
const GROUP_PATTERNS: usize = 1024;

/// How many times its sparse size a DFA may take to be stored dense.
const DENSE_GROWTH: usize = 4;
/// The same for a confirming DFA (see the module docs; benches/RESULTS.md has the trade-off).
const CONFIRM_GROWTH: usize = 2;

/// Where the automata and the program's word lists go while a bundle is built.
pub(super) struct Sections {
    pub bundle: BundleWriter,
    pub words: WordsWriter,
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
    /// Dense unless that is over [`CONFIRM_GROWTH`] times the sparse size (a confirming DFA: one
    /// per wild pattern, searched only behind a hit of its prefilter).
    Confirming,
}

/// A DFA written to the bundle: its form and its number among the DFAs of that form.
#[derive(Clone, Copy, Debug)]
struct Stored {
    form: DfaForm,
    number: u32,
}

/// Why a DFA could not be built (boxed: the error is large).
type BuildError = Box<dense::BuildError>;

/// The confirms of a field in the order the evaluator reads them, and their index.
struct ConfirmTable {
    records: Vec<Confirm>,
    index: Vec<u32>,
}

/// Builds the DFAs of one field: a shared DFA per group of anchored alternatives, the piece scan
/// (see [`build_pieces`]), and one small confirming DFA per unanchored alternative that is more
/// than its piece.
pub(super) fn build_field(
    field: Field,
    atoms: &[Atom],
    writer: &mut Sections,
) -> Result<FieldTable, Error> {
    let mut table = FieldTable {
        atoms: atoms.len() as u32,
        ..FieldTable::default()
    };
    if field == Field::Response {
        return build_response(atoms, writer, table);
    }
    let routing = Routing::of(atoms);
    table.prefilters = routing.bits - table.atoms;
    let mut dfas = Vec::new();
    for chunk in routing.anchored.chunks(GROUP_PATTERNS) {
        build_group(field, atoms, chunk, Form::Chosen, writer, &mut dfas)?;
    }
    let mut always = routing.always.clone();
    for chunk in routing.pieces.chunks(PIECES_PER_SCAN) {
        build_pieces(chunk, writer, &mut dfas, &mut always);
    }
    table.always = writer.words.push(always);
    table.dfas = push_dfa_refs(writer, &dfas);
    let mut confirms = Vec::with_capacity(routing.confirms.len());
    for pending in &routing.confirms {
        confirms.push(build_confirm(field, atoms, pending, writer)?);
    }
    let confirms = index_confirms(confirms, table.atoms, table.prefilters)?;
    table.confirm_index = writer.words.push(confirms.index);
    table.confirms = writer
        .words
        .push(confirms.records.into_iter().flat_map(Confirm::to_words));
    Ok(table)
}

/// The piece scan over `pieces`: a forward DFA for their alternation, which finds where pieces
/// end, and a reversed anchored DFA with one pattern per piece, which names those that end there.
/// A group that does not build is halved; a piece that does not build alone has its bit set
/// for every input (its confirms then always run: slower, never a miss).
fn build_pieces(
    pieces: &[Piece<'_>],
    writer: &mut Sections,
    out: &mut Vec<DfaRef>,
    always: &mut Vec<u32>,
) {
    let ends = dfa_builder(DFA_SIZE_LIMIT)
        .build(&alternation(pieces))
        .map_err(Box::new);
    let names = piece_names_builder()
        .build_many(&pieces.iter().map(|p| p.regex).collect::<Vec<_>>())
        .map_err(Box::new);
    let stored = ends.and_then(|ends| {
        let names = names?;
        Ok((
            add_dfa(writer, &ends, Form::Chosen)?,
            add_dfa(writer, &names, Form::Chosen)?,
        ))
    });
    match stored {
        Ok((ends, names)) => {
            out.push(DfaRef {
                number: ends.number,
                atoms: Span::default(),
                kind: DfaKind::PieceEnds,
                form: ends.form,
            });
            out.push(DfaRef {
                number: names.number,
                atoms: writer.words.push(pieces.iter().map(|p| p.bit)),
                kind: DfaKind::PieceNames,
                form: names.form,
            });
        }
        Err(_) if pieces.len() > 1 => {
            let (a, b) = pieces.split_at(pieces.len() / 2);
            build_pieces(a, writer, out, always);
            build_pieces(b, writer, out, always);
        }
        Err(_) => always.extend(pieces.iter().map(|p| p.bit)),
    }
}

/// The builder of a piece scan's naming DFA: the field's syntax, reversed, anchored at the end
/// the scan found, reporting every piece that ends there.
fn piece_names_builder() -> dense::Builder {
    let mut builder = dfa_builder(DFA_SIZE_LIMIT);
    builder
        .configure(dense::Config::new().start_kind(StartKind::Anchored))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .reverse(true)
                .nfa_size_limit(Some(DFA_SIZE_LIMIT)),
        );
    builder
}

/// Writes a field's DFA records to the words section (see [`FieldTable::dfas`]).
fn push_dfa_refs(writer: &mut Sections, dfas: &[DfaRef]) -> Span {
    writer.words.push(dfas.iter().flat_map(|d| d.to_words()))
}

/// Orders `confirms` by prefilter bit (none first) and gives the index of each bit's records
/// (see [`FieldTable::confirm_index`]). A confirm sets an atom, never a prefilter bit, so the
/// order in which a query visits bits cannot hide a match; this checks it.
fn index_confirms(
    mut confirms: Vec<Confirm>,
    atoms: u32,
    prefilters: u32,
) -> Result<ConfirmTable, Error> {
    // Slot 0: no prefilter; slot k + 1: prefilter bit atoms + k.
    let slot = |c: &Confirm| match c.prefilter {
        None => Some(0),
        Some(p) => p
            .checked_sub(atoms)
            .filter(|&k| k < prefilters)
            .map(|k| k as usize + 1),
    };
    if !confirms.iter().all(|c| slot(c).is_some() && c.atom < atoms) {
        return Err(Error::new(
            "internal: a confirm's prefilter bit or atom is out of range",
        ));
    }
    confirms.sort_by_key(|c| slot(c).unwrap_or(0));
    // Counts per slot, one place up, then summed: index[s] is where slot s's records start.
    let mut index = vec![0u32; prefilters as usize + 2];
    for c in &confirms {
        if let Some(n) = slot(c).and_then(|s| index.get_mut(s + 1)) {
            *n += 1;
        }
    }
    let mut sum = 0;
    for n in &mut index {
        sum += *n;
        *n = sum;
    }
    Ok(ConfirmTable {
        records: confirms,
        index,
    })
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
            let one = [Pattern {
                bit: id as u32,
                regex: &part.regex,
            }];
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

/// A pattern's check alone: in-order pieces stored as text, any other shape as a DFA of its own
/// (one pattern has no other pattern's subsets to remember).
fn build_confirm(
    field: Field,
    atoms: &[Atom],
    pending: &Confirming,
    writer: &mut Sections,
) -> Result<Confirm, Error> {
    let check = match (pending.exact, &pending.in_order) {
        (true, _) => Check::Exact,
        (false, Some(order)) => Check::InOrder {
            start: writer.words.push_bytes(&order.encode()),
        },
        (false, None) => {
            let mut builder = dfa_builder(DFA_SIZE_LIMIT);
            // One pattern's DFA is small, so minimizing it costs little and makes its dense form
            // smaller.
            builder.configure(dense::Config::new().minimize(true));
            let stored = match builder.build(&pending.regex) {
                Ok(dfa) => add_dfa(writer, &dfa, Form::Confirming),
                Err(e) => Err(Box::new(e)),
            }
            .map_err(|e| pattern_error(field, atoms, pending.atom, &e))?;
            Check::Dfa {
                number: stored.number,
                form: stored.form,
            }
        }
    };
    Ok(Confirm {
        prefilter: pending.prefilter,
        atom: pending.atom,
        check,
    })
}

/// A DFA's bytes from `to_bytes_little_endian`, without the padding in front (the pack aligns
/// them). Were `pad` past the end, no bytes: a DFA that does not load, which a validated open
/// refuses and an unchecked one answers with a deny for every call that needs it.
fn serialized(bytes: &[u8], pad: usize) -> &[u8] {
    or_closed(bytes.get(pad..), &[])
}

/// Adds `dfa` in the form `form` picks.
fn add_dfa(
    writer: &mut Sections,
    dfa: &dense::DFA<Vec<u32>>,
    form: Form,
) -> Result<Stored, BuildError> {
    let (bytes, pad) = dfa.to_bytes_little_endian();
    let dense = serialized(&bytes, pad);
    let growth = match form {
        Form::Dense => None,
        Form::Chosen => Some(DENSE_GROWTH),
        Form::Confirming => Some(CONFIRM_GROWTH),
    };
    if let Some(growth) = growth {
        let sparse = dfa.to_sparse().map_err(Box::new)?.to_bytes_little_endian();
        if dense.len() > growth * sparse.len() {
            return Ok(Stored {
                form: DfaForm::Sparse,
                number: writer.bundle.add_dfa(DfaForm::Sparse, &sparse),
            });
        }
    }
    Ok(Stored {
        form: DfaForm::Dense,
        number: writer.bundle.add_dfa(DfaForm::Dense, dense),
    })
}

/// The error for the pattern behind `atom`, at the place it was written.
fn pattern_error(field: Field, atoms: &[Atom], atom: u32, e: &dense::BuildError) -> Error {
    let atom = atoms.get(atom as usize);
    let text = atom.map_or("", Atom::text);
    let message = if e.is_size_limit_exceeded() {
        format!(
            "{} pattern {text:?} needs an automaton over the {} MiB limit",
            field.name(),
            DFA_SIZE_LIMIT >> 20
        )
    } else {
        format!("{} pattern {text:?} cannot be compiled: {e}", field.name())
    };
    match atom {
        Some(a) => Error::at(a.pos.clone(), message),
        None => Error::new(message),
    }
}

/// The builder of a field's unanchored DFAs.
fn builder_for(field: Field) -> dense::Builder {
    if field == Field::Response {
        response_builder()
    } else {
        dfa_builder(DFA_SIZE_LIMIT)
    }
}

/// The glob builder with the response regexes' own syntax: RE2 on bytes, ASCII classes, `.` not
/// matching a newline (the syntax is replaced whole, not merged).
fn response_builder() -> dense::Builder {
    let mut b = dfa_builder(DFA_SIZE_LIMIT);
    b.syntax(syntax::Config::new().unicode(false).utf8(false));
    b
}

/// One shared unanchored DFA for `group`, halved until each part builds.
fn build_group(
    field: Field,
    atoms: &[Atom],
    group: &[Pattern<'_>],
    form: Form,
    writer: &mut Sections,
    out: &mut Vec<DfaRef>,
) -> Result<(), Error> {
    let regexes: Vec<&str> = group.iter().map(|p| p.regex).collect();
    let built = match builder_for(field).build_many(&regexes) {
        Ok(dfa) => add_dfa(writer, &dfa, form),
        Err(e) => Err(Box::new(e)),
    };
    match built {
        Ok(stored) => {
            out.push(dfa_ref(writer, stored, group, DfaKind::Overlapping));
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
            let atom = group.first().map_or(u32::MAX, |p| p.bit);
            Err(pattern_error(field, atoms, atom, &e))
        }
    }
}

/// The fallback for one pattern too big as an unanchored DFA: an anchored DFA the evaluator runs
/// from every start position.
fn build_anchored(
    field: Field,
    atoms: &[Atom],
    group: &[Pattern<'_>],
    writer: &mut Sections,
    out: &mut Vec<DfaRef>,
) -> Result<(), Error> {
    let mut builder = builder_for(field);
    builder.configure(
        dense::Config::new()
            .start_kind(StartKind::Anchored)
            .match_kind(MatchKind::LeftmostFirst),
    );
    let regexes: Vec<&str> = group.iter().map(|p| p.regex).collect();
    match builder.build_many(&regexes) {
        Ok(dfa) => {
            let (bytes, pad) = dfa.to_bytes_little_endian();
            let number = writer
                .bundle
                .add_dfa(DfaForm::Dense, serialized(&bytes, pad));
            let stored = Stored {
                form: DfaForm::Dense,
                number,
            };
            out.push(dfa_ref(writer, stored, group, DfaKind::AnchoredEverywhere));
            Ok(())
        }
        Err(e) => {
            let atom = group.first().map_or(u32::MAX, |p| p.bit);
            Err(pattern_error(field, atoms, atom, &e))
        }
    }
}

/// The record of a stored DFA, with the bits its patterns set written to the words.
fn dfa_ref(writer: &mut Sections, stored: Stored, group: &[Pattern<'_>], kind: DfaKind) -> DfaRef {
    DfaRef {
        number: stored.number,
        atoms: writer.words.push(group.iter().map(|p| p.bit)),
        kind,
        form: stored.form,
    }
}
