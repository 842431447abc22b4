//! A deduplicating list of strings.
//!
//! Readings and components are lists without duplicates, in first-seen order. A linear search per
//! insert would make 2,000 distinct segments cost four million comparisons, so a small open
//! addressing table of indices sits beside the list. `no_std` has no `HashSet`; this needs none.

use alloc::string::String;
use alloc::vec::Vec;

/// An index over a `Vec<String>` that the caller owns (it is the output).
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    /// `u32::MAX` is empty; otherwise an index into the list. Valid only while `indexed`.
    slots: Vec<u32>,
    /// The list is long enough to be indexed by `slots` (a short one is searched in place).
    indexed: bool,
    /// Strings of an earlier list, whose memory the next inserts reuse.
    spare: Vec<String>,
}

/// Spare strings kept at most (enough for typical commands; the rest are freed).
const MAX_SPARE: usize = 64;

/// Lists shorter than this are searched in place. Most commands have a handful of readings,
/// and comparing lengths (then bytes) is cheaper than hashing, and than clearing a table that
/// an earlier, longer command grew.
const LINEAR: usize = 16;

const EMPTY: u32 = u32::MAX;

impl Dedup {
    /// Forgets every entry (for a new, empty list), keeping the table's memory unless it is
    /// large: one long command must not make every later command pay for its table.
    pub(crate) fn clear(&mut self) {
        if self.slots.len() > 1024 {
            self.slots = Vec::new();
        }
        self.indexed = false;
    }

    /// Empties `list` for a new command, keeping its strings for the next inserts.
    pub(crate) fn recycle(&mut self, list: &mut Vec<String>) {
        self.clear();
        let room = MAX_SPARE.saturating_sub(self.spare.len());
        list.truncate(room);
        // Moves the strings in one copy (a `drain` moves them one by one).
        self.spare.append(list);
    }

    /// Pushes `s` unless it is already in `list`; true when pushed.
    pub(crate) fn insert(&mut self, list: &mut Vec<String>, s: &str) -> bool {
        if list.len() < LINEAR && !self.indexed {
            if list.iter().any(|x| x == s) {
                return false;
            }
        } else {
            match self.find(list, s) {
                Ok(()) => return false,
                Err(at) => self.slots[at] = list.len() as u32,
            }
        }
        let mut owned = self.spare.pop().unwrap_or_default();
        owned.clear();
        owned.push_str(s);
        list.push(owned);
        true
    }

    /// `Ok` when `s` is in the (indexed) list, else the empty slot where it goes.
    fn find(&mut self, list: &[String], s: &str) -> Result<(), usize> {
        self.grow_for(list.len() + 1, list);
        let mask = self.slots.len() - 1;
        let mut at = hash(s) as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == EMPTY {
                return Err(at);
            }
            if list.get(slot as usize).is_some_and(|x| x == s) {
                return Ok(());
            }
            at = (at + 1) & mask;
        }
    }

    fn place(&mut self, list: &[String], k: usize) {
        let mask = self.slots.len() - 1;
        let mut at = hash(&list[k]) as usize & mask;
        while self.slots[at] != EMPTY {
            at = (at + 1) & mask;
        }
        self.slots[at] = k as u32;
    }

    /// Indexes the list (every entry before `count - 1`, the one about to be inserted), keeping
    /// the load factor at or under one half.
    fn grow_for(&mut self, count: usize, list: &[String]) {
        if self.indexed && count * 2 <= self.slots.len() {
            return;
        }
        let size = (count * 2).next_power_of_two().max(2 * LINEAR);
        self.slots.clear();
        self.slots.resize(size, EMPTY);
        for k in 0..count.saturating_sub(1).min(list.len()) {
            self.place(list, k);
        }
        self.indexed = true;
    }
}

/// FNV-1a over 8-byte words (then the tail bytes), with the high bits folded down since the
/// table uses the low ones: short strings, no adversary who benefits from collisions beyond the
/// length cap.
fn hash(s: &str) -> u64 {
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut chunks = s.as_bytes().chunks_exact(8);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(PRIME);
        h ^= h >> 29;
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(PRIME);
    }
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_in_order() {
        let mut list = Vec::new();
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
