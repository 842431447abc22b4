//! Lists of distinct texts: the restrictive readings and the grant components.
//!
//! Readings and components are lists without duplicates, in first-seen order. They are built for
//! every command, so a [`Texts`] keeps its entries back to back in one string: clearing it for
//! the next command keeps its memory, and adding an entry is one copy, not a string of its own.
//! A linear search per insert would make 2,000 distinct segments cost four million comparisons,
//! so [`Dedup`], a small open addressing table of indices, sits beside a long list. `no_std` has
//! no `HashSet`; this needs none.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::invariant::{checked, or_closed};

/// Texts in the order they were added, each once (see [`Dedup`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Texts {
    /// The entries, back to back.
    text: String,
    /// Where each entry ends in `text` (each starts where the one before it ends).
    ends: Vec<usize>,
}

impl Texts {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The entry at `k`.
    pub fn get(&self, k: usize) -> Option<&str> {
        let start = match k {
            0 => 0,
            _ => *self.ends.get(k - 1)?,
        };
        self.text.get(start..*self.ends.get(k)?)
    }

    pub fn first(&self) -> Option<&str> {
        self.get(0)
    }

    /// The entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            text: &self.text,
            start: 0,
            ends: self.ends.iter(),
        }
    }

    pub fn contains(&self, s: &str) -> bool {
        let mut start = 0;
        self.ends.iter().any(|&end| {
            let hit = end - start == s.len()
                && self.text.as_bytes().get(start..end) == Some(s.as_bytes());
            start = end;
            hit
        })
    }

    /// Empties the list, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Appends `s`, which the caller knows is not in the list yet.
    pub(crate) fn push(&mut self, s: &str) {
        if self.ends.capacity() == 0 {
            // A list that gets an entry usually gets several: a new reader's lists would
            // otherwise grow a few bytes at a time, a reallocation each.
            self.text.reserve(FIRST_BYTES);
            self.ends.reserve(FIRST_ENTRIES);
        }
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }
}

/// What a [`Texts`] reserves when it gets its first entry.
const FIRST_BYTES: usize = 256;
const FIRST_ENTRIES: usize = 16;

/// The entries of a [`Texts`], in order.
#[derive(Clone, Debug)]
pub struct Iter<'t> {
    text: &'t str,
    start: usize,
    ends: core::slice::Iter<'t, usize>,
}

impl<'t> Iterator for Iter<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let end = *self.ends.next()?;
        // Ends are those of whole strings pushed; were one not, the whole text holds the entry.
        let entry = or_closed(self.text.get(self.start..end), self.text);
        self.start = end;
        Some(entry)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ends.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'t> IntoIterator for &'t Texts {
    type Item = &'t str;
    type IntoIter = Iter<'t>;

    fn into_iter(self) -> Iter<'t> {
        self.iter()
    }
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Texts {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Texts {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<&[S]> for Texts {
    fn eq(&self, other: &&[S]) -> bool {
        *self == **other
    }
}

/// An index over a [`Texts`] that the caller owns (it is the output).
///
/// Each slot keeps its entry's hash beside the entry's index, so a probe past another entry is
/// told by the hash without reading the list, and growing the table moves slots without hashing
/// any text again: a compound command's list grows a few times, and its entries are its longest
/// texts.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    /// [`EMPTY`], or an entry: the low 32 bits of its hash, then its index in the list (low 32
    /// bits). Valid only while `indexed`.
    slots: Vec<u64>,
    /// The entries before this index are in `slots` (while `indexed`).
    placed: usize,
    /// The list is long enough to be indexed by `slots` (a short one is searched in place).
    indexed: bool,
}

/// Lists shorter than this are searched in place. Most commands have a handful of readings,
/// and comparing lengths (then bytes) is cheaper than hashing, and than clearing a table that
/// an earlier, longer command grew.
const LINEAR: usize = 16;

const EMPTY: u64 = u64::MAX;

/// A slot for entry `k` whose text hashes to `h`.
fn slot(h: u64, k: usize) -> u64 {
    (h << 32) | (k as u64 & 0xffff_ffff)
}

/// The index of the entry in a slot, unless it is [`EMPTY`].
fn entry(slot: u64) -> Option<usize> {
    (slot != EMPTY).then_some((slot & 0xffff_ffff) as usize)
}

/// Whether a slot may hold a text that hashes to `h` (the hashes' low 32 bits agree).
fn same_hash(slot: u64, h: u64) -> bool {
    (slot >> 32) == (h & 0xffff_ffff)
}

impl Dedup {
    /// Empties `list` and forgets every entry, keeping the table's memory unless it is large:
    /// one long command must not make every later command pay for its table.
    pub(crate) fn reset(&mut self, list: &mut Texts) {
        list.clear();
        if self.slots.len() > 1024 {
            self.slots = Vec::new();
        }
        self.indexed = false;
    }

    /// Appends `s` unless it is already in `list`; true when appended.
    pub(crate) fn insert(&mut self, list: &mut Texts, s: &str) -> bool {
        if list.len() < LINEAR && !self.indexed {
            if list.contains(s) {
                return false;
            }
        } else {
            let h = hash(s);
            match self.find(list, s, h) {
                Ok(_) => return false,
                Err(at) => {
                    // An entry left out of the index costs at most a duplicate, never a reading.
                    if let Some(free) = checked(self.slots.get_mut(at)) {
                        *free = slot(h, list.len());
                        if self.placed == list.len() {
                            self.placed += 1;
                        }
                    }
                }
            }
        }
        list.push(s);
        true
    }

    /// Where `s` is in `list`, if it is there (the list is indexed as [`Dedup::insert`] would).
    pub(crate) fn position(&mut self, list: &Texts, s: &str) -> Option<usize> {
        if list.len() < LINEAR && !self.indexed {
            return list.iter().position(|t| t == s);
        }
        self.find(list, s, hash(s)).ok()
    }

    /// `Ok` with its index when `s` (whose hash is `h`) is in the (indexed) list, else the empty
    /// slot where it goes.
    fn find(&mut self, list: &Texts, s: &str, h: u64) -> Result<usize, usize> {
        self.grow_for(list.len() + 1, list);
        let mask = self.slots.len() - 1;
        let mut at = h as usize & mask;
        loop {
            let slot = or_closed(self.slots.get(at).copied(), EMPTY);
            let Some(k) = entry(slot) else {
                return Err(at);
            };
            if same_hash(slot, h) && list.get(k) == Some(s) {
                return Ok(k);
            }
            at = (at + 1) & mask;
        }
    }

    /// Puts `slot` in the first empty slot from where its hash points.
    fn place(&mut self, slot: u64) {
        let mask = self.slots.len() - 1;
        let mut at = (slot >> 32) as usize & mask;
        while checked(self.slots.get(at)).is_some_and(|&s| s != EMPTY) {
            at = (at + 1) & mask;
        }
        if let Some(free) = checked(self.slots.get_mut(at)) {
            *free = slot;
        }
    }

    /// Indexes the list (every entry before `count - 1`, the one about to be inserted), keeping
    /// the load factor at or under one half. The entries already indexed move with their hashes.
    fn grow_for(&mut self, count: usize, list: &Texts) {
        if self.indexed && count * 2 <= self.slots.len() {
            return;
        }
        let size = (count * 2).next_power_of_two().max(2 * LINEAR);
        if self.indexed {
            let old = core::mem::replace(&mut self.slots, alloc::vec![EMPTY; size]);
            for &s in old.iter().filter(|&&s| s != EMPTY) {
                self.place(s);
            }
        } else {
            self.slots.clear();
            self.slots.resize(size, EMPTY);
            self.placed = 0;
        }
        let end = count.saturating_sub(1).min(list.len());
        for k in self.placed..end {
            self.place(slot(hash(or_closed(list.get(k), "")), k));
        }
        self.placed = self.placed.max(end);
        self.indexed = true;
    }
}

/// Texts computed from texts, kept for the texts met again: a function of the text alone, so a
/// hit gives what computing would. Indexed by a [`Dedup`], since a compound command looks up
/// hundreds of texts; bounded, starting over when full, so one long command cannot keep memory.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    keys: Texts,
    index: Dedup,
    /// The value of each key, at the key's index.
    values: Texts,
}

/// Entries and bytes a [`Memo`] keeps before it starts over.
const MEMO_ENTRIES: usize = 256;
const MEMO_BYTES: usize = 16 * 1024;

impl Memo {
    pub(crate) fn get(&mut self, key: &str) -> Option<&str> {
        let k = self.index.position(&self.keys, key)?;
        self.values.get(k)
    }

    /// Keeps `value` for `key`, which the caller found missing.
    pub(crate) fn put(&mut self, key: &str, value: &str) {
        let bytes = self.keys.text.len() + self.values.text.len();
        if self.keys.len() >= MEMO_ENTRIES || bytes > MEMO_BYTES {
            self.index.reset(&mut self.keys);
            self.values.clear();
        }
        if self.index.insert(&mut self.keys, key) {
            self.values.push(value);
        }
    }
}

/// FNV-1a over 8-byte words, the length mixed in first and the bytes after the last whole word
/// read as the text's last 8 (overlapping the word before) when it has that many, with the high
/// bits folded down since the table uses the low ones: short strings, no adversary who benefits
/// from collisions beyond the length cap.
fn hash(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = mix(h, word(c));
    }
    let rest = chunks.remainder();
    match b.len().checked_sub(8).and_then(|at| b.get(at..)) {
        Some(last) if !rest.is_empty() => h = mix(h, word(last)),
        Some(_) => {}
        None => {
            for &c in rest {
                h = (h ^ u64::from(c)).wrapping_mul(PRIME);
            }
        }
    }
    h ^ (h >> 32)
}

const PRIME: u64 = 0x0100_0000_01b3;

fn mix(h: u64, w: u64) -> u64 {
    let h = (h ^ w).wrapping_mul(PRIME);
    h ^ (h >> 29)
}

/// Eight bytes as a word (`c` has eight).
fn word(c: &[u8]) -> u64 {
    u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_in_order() {
        let mut list = Texts::default();
        let mut d = Dedup::default();
        for (i, w) in ["a", "b", "a", "c", "b"].iter().enumerate() {
            let fresh = d.insert(&mut list, w);
            assert_eq!(fresh, i < 2 || i == 3, "{w}");
        }
        assert_eq!(list, ["a", "b", "c"]);
        for n in 0..1000 {
            d.insert(&mut list, &alloc::format!("x{n}"));
        }
        assert_eq!(list.len(), 1003);
        assert!(!d.insert(&mut list, "x500"));
    }
}
