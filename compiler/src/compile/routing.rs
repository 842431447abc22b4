//! Prefilter routing: each field's lowered alternatives sorted by shape before any DFA is built.
//!
//! Under `MatchKind::All` a shared DFA must remember every subset of the unanchored patterns it
//! has seen so far, so only patterns that cannot blow up share one: `^`-anchored alternatives
//! (a trie) and literal-like pieces. An alternative with a run (`*curl*| sh*`) gets a small DFA
//! of its own, searched only when a *prefilter* bit says its required piece occurs in the input:
//! its `^`-anchored head in the shared anchored DFA, or its most literal piece in a prefilter
//! alternation. Bits after the field's atoms are prefilter bits.

use std::collections::HashMap;

use crate::lower::{Parts, Shape};

use super::program::Atom;

/// Required pieces behind one bit of the second level. An unanchored `MatchKind::All` DFA with one
/// pattern per literal grows superlinearly (238 literals: 5.7 MB sparse, 4.4 s; as 32 patterns of
/// 8: 2.3 MB), the same literals as one alternation do not (0.8 MB, 0.6 s). So pieces are found in
/// three levels: one alternation of up to [`PIECES_PER_TOP`] pieces in the shared DFA; on a hit,
/// one small DFA per group of [`PIECES_PER_BIT`]; on a group hit, each alternative's own DFA.
/// A benign input pays one search; a hit pays a few small ones.
const PIECES_PER_BIT: usize = 8;
/// Pieces behind one bit of the first level (one pattern of the shared DFA).
const PIECES_PER_TOP: usize = 512;

/// A regex of a shared DFA and the bit its match sets: an atom of the field, or a prefilter bit.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pattern<'a> {
    pub bit: u32,
    pub regex: &'a str,
}

/// A prefilter alternation of required pieces and its (first-level) prefilter bit.
#[derive(Debug)]
pub(super) struct Prefilter {
    pub bit: u32,
    pub regex: String,
}

impl Prefilter {
    pub fn pattern(&self) -> Pattern<'_> {
        Pattern {
            bit: self.bit,
            regex: &self.regex,
        }
    }
}

/// A DFA searched only when its prefilter bit is set (or always, without one), and the bit its
/// match sets: an atom, or a second-level prefilter bit.
#[derive(Debug)]
pub(super) struct Confirming {
    pub prefilter: Option<u32>,
    pub atom: u32,
    pub regex: String,
}

/// An unanchored alternative with a required piece, before the pieces are grouped.
struct Unanchored<'a> {
    piece: &'a str,
    atom: u32,
    regex: &'a str,
}

/// One field's alternatives sorted by shape.
#[derive(Default)]
pub(super) struct Routing<'a> {
    /// Atoms that match every input: no automaton is run for them.
    pub always: Vec<u32>,
    /// `^`-anchored alternatives and wild alternatives' anchored heads, sorted by regex.
    pub anchored: Vec<Pattern<'a>>,
    /// Prefilter alternations of the unanchored alternatives' required pieces.
    pub prefilters: Vec<Prefilter>,
    /// DFAs searched only behind a prefilter bit, in order.
    pub confirms: Vec<Confirming>,
    /// Bits used so far: the atoms, then the prefilter bits.
    pub bits: u32,
}

impl<'a> Routing<'a> {
    pub fn of(atoms: &'a [Atom]) -> Routing<'a> {
        let mut routing = Routing {
            bits: atoms.len() as u32,
            ..Routing::default()
        };
        let mut heads: HashMap<&str, u32> = HashMap::new();
        let mut unanchored: Vec<Unanchored<'a>> = Vec::new();
        for (id, atom) in atoms.iter().enumerate() {
            let id = id as u32;
            let parts = match &atom.lowered {
                Parts::Always => {
                    routing.always.push(id);
                    continue;
                }
                Parts::Never => continue,
                Parts::Alts(parts) => parts,
            };
            for part in parts {
                let regex = part.regex.as_str();
                match (part.shape, part.required.as_deref()) {
                    (Shape::Anchored, _) => routing.anchored.push(Pattern { bit: id, regex }),
                    (_, Some(head)) if head.starts_with('^') => {
                        let next = routing.bits;
                        let bit = *heads.entry(head).or_insert(next);
                        if bit == next {
                            routing.bits += 1;
                            routing.anchored.push(Pattern { bit, regex: head });
                        }
                        routing.confirm(Some(bit), id, regex);
                    }
                    (_, Some(piece)) => unanchored.push(Unanchored {
                        piece,
                        atom: id,
                        regex,
                    }),
                    (_, None) => routing.confirm(None, id, regex),
                }
            }
        }
        routing.group_pieces(unanchored);
        // Neighbours share prefixes, so a group's trie (and each DFA) stays small.
        routing.anchored.sort_by_key(|p| p.regex);
        routing
    }

    fn confirm(&mut self, prefilter: Option<u32>, atom: u32, regex: &str) {
        self.confirms.push(Confirming {
            prefilter,
            atom,
            regex: regex.to_string(),
        });
    }

    /// Puts distinct pieces, sorted, behind the two prefilter levels (see [`PIECES_PER_BIT`]).
    fn group_pieces(&mut self, mut unanchored: Vec<Unanchored<'a>>) {
        unanchored.sort_by_key(|u| u.piece);
        let mut pieces: Vec<&str> = unanchored.iter().map(|u| u.piece).collect();
        pieces.dedup();
        let mut bit_of: HashMap<&str, u32> = HashMap::new();
        for top in pieces.chunks(PIECES_PER_TOP) {
            let top_bit = self.next_bit();
            self.prefilters.push(Prefilter {
                bit: top_bit,
                regex: alternation(top),
            });
            if top.len() <= 2 * PIECES_PER_BIT {
                // Few pieces (each a rule's whole contains list, say): a middle level would only
                // copy them.
                bit_of.extend(top.iter().map(|&p| (p, top_bit)));
                continue;
            }
            for chunk in top.chunks(PIECES_PER_BIT) {
                let bit = self.next_bit();
                self.confirms.push(Confirming {
                    prefilter: Some(top_bit),
                    atom: bit,
                    regex: alternation(chunk),
                });
                bit_of.extend(chunk.iter().map(|&p| (p, bit)));
            }
        }
        for u in unanchored {
            self.confirm(bit_of.get(u.piece).copied(), u.atom, u.regex);
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
