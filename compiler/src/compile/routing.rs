//! Prefilter routing: each field's lowered alternatives sorted by shape before any DFA is built.
//!
//! Under `MatchKind::All` a shared DFA must remember every subset of the unanchored patterns it
//! has seen so far, so only patterns that cannot blow up share one: `^`-anchored alternatives
//! (a trie) and literal-like pieces. An alternative with a run (`*curl*| sh*`) gets a small DFA
//! of its own, searched only when a *prefilter* bit says its key occurs in the input (the rarest
//! of its required pieces, see [`rarest_key`]): a `^`-anchored head in the shared anchored DFA, or
//! a piece, which the field's piece scan names exactly (see [`PIECES_PER_SCAN`]). Bits after the field's atoms are prefilter
//! bits: one per head, one per distinct piece.

use std::collections::HashMap;

use crate::lower::{InOrder, Key, Part, Parts, Shape};

use super::program::Atom;

/// Most pieces in one scan. An unanchored `MatchKind::All` DFA with one pattern per literal grows
/// superlinearly (255 pieces: 7.7 MB dense), the same literals as one alternation do not (1 MB):
/// so the scan is one alternation that only says where a piece ends, and an anchored reverse DFA
/// with one pattern per piece (small: it starts at a known end) names the pieces there.
pub(super) const PIECES_PER_SCAN: usize = 512;

/// A regex of a shared DFA and the bit its match sets: an atom of the field, or a prefilter bit.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pattern<'a> {
    pub bit: u32,
    pub regex: &'a str,
}

/// A required piece and the prefilter bit its presence sets.
#[derive(Clone, Copy, Debug)]
pub(super) struct Piece<'a> {
    pub bit: u32,
    pub regex: &'a str,
}

/// A check run only when its prefilter bit is set (or always, without one), and the atom it sets
/// when it holds. An exact one is its prefilter's piece itself: the bit alone sets the atom. One
/// with in-order pieces is decided by substring searches; any other by a DFA of its own.
#[derive(Debug)]
pub(super) struct Confirming {
    pub prefilter: Option<u32>,
    pub atom: u32,
    pub regex: String,
    pub exact: bool,
    pub in_order: Option<InOrder>,
}

/// An unanchored alternative with a required piece, before the pieces get their bits.
struct Unanchored<'a> {
    piece: &'a str,
    atom: u32,
    regex: &'a str,
    in_order: Option<&'a InOrder>,
}

/// One field's alternatives sorted by shape.
#[derive(Default)]
pub(super) struct Routing<'a> {
    /// Atoms that match every input: no automaton is run for them.
    pub always: Vec<u32>,
    /// `^`-anchored alternatives and wild alternatives' anchored heads, sorted by regex.
    pub anchored: Vec<Pattern<'a>>,
    /// The unanchored alternatives' required pieces, distinct and sorted, each with its bit.
    pub pieces: Vec<Piece<'a>>,
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
        let sharing = key_sharing(atoms);
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
                match (part.shape, rarest_key(part, &sharing)) {
                    (Shape::Anchored, _) => routing.anchored.push(Pattern { bit: id, regex }),
                    (_, Some(head)) if head.starts_with('^') => {
                        let next = routing.bits;
                        let bit = *heads.entry(head).or_insert(next);
                        if bit == next {
                            routing.bits += 1;
                            routing.anchored.push(Pattern { bit, regex: head });
                        }
                        routing.confirm(Some(bit), id, part);
                    }
                    (_, Some(piece)) => unanchored.push(Unanchored {
                        piece,
                        atom: id,
                        regex,
                        in_order: part.in_order.as_ref(),
                    }),
                    (_, None) => routing.confirm(None, id, part),
                }
            }
        }
        routing.add_pieces(unanchored);
        // Neighbours share prefixes, so a group's trie (and each DFA) stays small.
        routing.anchored.sort_by_key(|p| p.regex);
        routing
    }

    fn confirm(&mut self, prefilter: Option<u32>, atom: u32, part: &Part) {
        self.confirms.push(Confirming {
            prefilter,
            atom,
            regex: part.regex.clone(),
            exact: false,
            in_order: part.in_order.clone(),
        });
    }

    /// Gives each distinct piece a bit, and each alternative a confirm behind its piece's bit:
    /// exact when the alternative is the piece itself (`*.env` is `\.env`), so the scan that
    /// names the piece decides it and no DFA of its own is stored or searched.
    fn add_pieces(&mut self, mut unanchored: Vec<Unanchored<'a>>) {
        unanchored.sort_by_key(|u| u.piece);
        let mut bit_of: HashMap<&str, u32> = HashMap::new();
        for u in &unanchored {
            if !bit_of.contains_key(u.piece) {
                let bit = self.next_bit();
                bit_of.insert(u.piece, bit);
                self.pieces.push(Piece {
                    bit,
                    regex: u.piece,
                });
            }
        }
        for u in unanchored {
            let bit = bit_of.get(u.piece).copied();
            self.confirms.push(Confirming {
                prefilter: bit,
                atom: u.atom,
                regex: u.regex.to_string(),
                exact: bit.is_some() && u.regex == u.piece,
                in_order: u.in_order.cloned(),
            });
        }
    }

    fn next_bit(&mut self) -> u32 {
        self.bits += 1;
        self.bits - 1
    }
}

/// Keys shorter than this occur in most inputs (`-`, `sh`): one is chosen only when an
/// alternative has no longer one.
const MIN_RARE_WEIGHT: usize = 4;

/// For each key, how many of the field's alternatives could be keyed by it.
fn key_sharing(atoms: &[Atom]) -> HashMap<&str, usize> {
    let mut sharing: HashMap<&str, usize> = HashMap::new();
    for atom in atoms {
        let Parts::Alts(parts) = &atom.lowered else {
            continue;
        };
        for part in parts {
            let mut keys: Vec<&str> = part.keys.iter().map(|k| k.regex.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                *sharing.entry(key).or_insert(0) += 1;
            }
        }
    }
    sharing
}

/// The key of `part` by rarity, not length: every hit of a key runs the confirms of all the
/// alternatives behind it, so of the keys long enough to be rare in inputs, the one the fewest
/// other alternatives share (`pkill` rather than `rampart` for `*pkill*rampart*`, a piece of
/// its own rather than the `^find ` head of two dozen patterns). Ties go to the preferred order
/// (the head, then the longest piece).
fn rarest_key<'a>(part: &'a Part, sharing: &HashMap<&str, usize>) -> Option<&'a str> {
    let preferred = part.keys.first()?;
    let shared = |k: &Key| sharing.get(k.regex.as_str()).copied().unwrap_or(0);
    let rarest = part
        .keys
        .iter()
        .filter(|k| k.weight >= MIN_RARE_WEIGHT)
        .min_by_key(|k| shared(k))
        .unwrap_or(preferred);
    Some(&rarest.regex)
}

/// One regex matching where any of `pieces` matches.
pub(super) fn alternation(pieces: &[Piece<'_>]) -> String {
    let alts: Vec<String> = pieces.iter().map(|p| format!("(?:{})", p.regex)).collect();
    alts.join("|")
}
