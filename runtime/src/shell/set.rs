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
    /// `u32::MAX` is empty; otherwise an index into the list.
    slots: Vec<u32>,
}

const EMPTY: u32 = u32::MAX;

impl Dedup {
    /// Pushes `s` unless it is already in `list`; true when pushed.
    pub(crate) fn insert(&mut self, list: &mut Vec<String>, s: &str) -> bool {
        self.grow_for(list.len() + 1, list);
        let mask = self.slots.len() - 1;
        let mut at = hash(s) as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == EMPTY {
                break;
            }
            if list.get(slot as usize).is_some_and(|x| x == s) {
                return false;
            }
            at = (at + 1) & mask;
        }
        self.slots[at] = list.len() as u32;
        list.push(String::from(s));
        true
    }

    fn place(&mut self, list: &[String], k: usize) {
        let mask = self.slots.len() - 1;
        let mut at = hash(&list[k]) as usize & mask;
        while self.slots[at] != EMPTY {
            at = (at + 1) & mask;
        }
        self.slots[at] = k as u32;
    }

    /// Keeps the load factor at or under one half.
    fn grow_for(&mut self, count: usize, list: &[String]) {
        if count * 2 <= self.slots.len() {
            return;
        }
        let size = (count * 2).next_power_of_two().max(16);
        self.slots.clear();
        self.slots.resize(size, EMPTY);
        for k in 0..count.saturating_sub(1).min(list.len()) {
            self.place(list, k);
        }
    }
}

/// FNV-1a: short strings, no adversary who benefits from collisions beyond the length cap.
fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
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
