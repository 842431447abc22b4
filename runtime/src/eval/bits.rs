//! A fixed-size bitset over one field's atoms.

use alloc::vec::Vec;

use crate::program::AtomRange;

/// A set of one field's atoms.
///
/// Most fields have a few dozen atoms: their sets are kept inline, and only a large field's
/// (the command's thousands) is allocated. A call builds a dozen sets, and the allocator's
/// `calloc` and `free` cost more than all the bit tests on a small one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bits {
    words: Words,
}

/// Sets of up to this many words live inline.
const INLINE_WORDS: usize = 2;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Words {
    Inline { len: u8, words: [u64; INLINE_WORDS] },
    Heap(Vec<u64>),
}

impl Default for Words {
    fn default() -> Words {
        Words::Inline {
            len: 0,
            words: [0; INLINE_WORDS],
        }
    }
}

impl Bits {
    pub fn new(atoms: u32) -> Bits {
        let len = (atoms as usize).div_ceil(64);
        let words = match u8::try_from(len) {
            Ok(small) if len <= INLINE_WORDS => Words::Inline {
                len: small,
                words: [0; INLINE_WORDS],
            },
            _ => Words::Heap(alloc::vec![0; len]),
        };
        Bits { words }
    }

    // An inline set's `len` is at most the array's (`new`); clamped, the slices always exist.
    fn words(&self) -> &[u64] {
        match &self.words {
            Words::Inline { len, words } => {
                let len = (*len as usize).min(INLINE_WORDS);
                words.get(..len).unwrap_or_default()
            }
            Words::Heap(words) => words,
        }
    }

    fn words_mut(&mut self) -> &mut [u64] {
        match &mut self.words {
            Words::Inline { len, words } => {
                let len = (*len as usize).min(INLINE_WORDS);
                words.get_mut(..len).unwrap_or_default()
            }
            Words::Heap(words) => words,
        }
    }

    pub fn set(&mut self, atom: u32) {
        if let Some(w) = self.words_mut().get_mut(atom as usize / 64) {
            *w |= 1 << (atom % 64);
        }
    }

    pub fn get(&self, atom: u32) -> bool {
        self.words()
            .get(atom as usize / 64)
            .is_some_and(|w| w & (1 << (atom % 64)) != 0)
    }

    /// Whether any atom is set.
    pub fn any(&self) -> bool {
        self.words().iter().any(|&w| w != 0)
    }

    /// Whether any atom in `range` is set (word at a time).
    pub fn any_in(&self, range: AtomRange) -> bool {
        let (mut start, end) = (range.start, range.end);
        while start < end {
            let word = start / 64;
            let lo = start % 64;
            let hi = (end - word * 64).min(64);
            let mask = if hi - lo == 64 {
                u64::MAX
            } else {
                ((1u64 << (hi - lo)) - 1) << lo
            };
            if self
                .words()
                .get(word as usize)
                .is_some_and(|w| w & mask != 0)
            {
                return true;
            }
            start = (word + 1) * 64;
        }
        false
    }

    pub fn union_with(&mut self, other: &Bits) {
        for (a, b) in self.words_mut().iter_mut().zip(other.words()) {
            *a |= b;
        }
    }

    /// The set atoms in `range`, in order (a word at a time: ranges of prefilter bits are
    /// long and mostly clear).
    pub fn iter_in(&self, range: AtomRange) -> impl Iterator<Item = u32> + '_ {
        let first_word = range.start / 64;
        let words = self.words().get(first_word as usize..).unwrap_or(&[]);
        words
            .iter()
            .zip(first_word..)
            .take_while(move |&(_, w)| w * 64 < range.end)
            .flat_map(move |(&bits, w)| {
                let base = w * 64;
                let mut rest = bits;
                core::iter::from_fn(move || {
                    if rest == 0 {
                        return None;
                    }
                    let at = rest.trailing_zeros();
                    rest &= rest - 1;
                    Some(base + at)
                })
            })
            .filter(move |&a| range.start <= a && a < range.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_tests_cross_words() {
        let mut b = Bits::new(200);
        b.set(63);
        b.set(130);
        assert!(b.any_in(AtomRange::new(0, 64)));
        assert!(!b.any_in(AtomRange::new(0, 63)));
        assert!(b.any_in(AtomRange::new(63, 64)));
        assert!(!b.any_in(AtomRange::new(64, 130)));
        assert!(b.any_in(AtomRange::new(64, 131)));
        assert!(b.any_in(AtomRange::new(0, 200)));
        assert!(!b.any_in(AtomRange::new(131, 200)));
        assert!(!b.any_in(AtomRange::new(5, 5)));
        assert_eq!(
            b.iter_in(AtomRange::new(0, 200)).collect::<Vec<_>>(),
            [63, 130]
        );
        b.set(1000);
        assert!(!b.get(1000));
    }
}
