//! What expanding a reading derived, kept for the rest of the command.
//!
//! A command with mentions is read twice: as it is, and with its data words masked (see
//! `mention`). The two reading lists share most of their entries (every segment and component
//! that holds no mention), and expanding a reading means normalizing, splitting and tokenizing it
//! again: most of what a compound command costs. What an expansion derives depends only on the
//! reading's text and on whether it keeps the command's quoting. So while the restrictive stage
//! expands the first list it records, per reading, the calls the expansion made on the list
//! (and the work it counted against the budget), and for a reading the masked list shares it
//! replays those calls instead of expanding the text again.
//!
//! The calls are replayed, not their results: the list's own checks (duplicates, depth, size,
//! the alias count) run on replay exactly as they would have after a fresh expansion, so the
//! readings are the same either way. An expansion that raised any fail-closed flag is not kept
//! (nothing is read after one anyway).

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use super::set::{Dedup, Texts};
use crate::invariant::or_closed;

/// A call an expansion made on the reading list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    /// `add` of a reading.
    Add,
    /// `add_quoted`: a reading that keeps the command's quoting.
    Quoted,
    /// `add_alias`, with the operand.
    Alias,
    /// A range that did not cut its text (a bug): every restrictive rule matches.
    Fail,
}

/// How a restrictive read uses the derivations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Use {
    /// Neither records nor replays: no other list of this command will share its readings.
    #[default]
    Off,
    /// Records every expansion, for a list read next.
    Record,
    /// Replays the expansions recorded, expanding only the readings that are new.
    Replay,
}

/// The recorded expansions of one command (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Derivations {
    /// Per expansion: its key (`q` or `-` for the quoting, then the reading).
    keys: Texts,
    index: Dedup,
    /// Per key: the calls it made and the work it counted.
    entries: Vec<Entry>,
    calls: Vec<(Call, Range<usize>)>,
    /// The texts of the calls, back to back.
    text: String,
    key: String,
}

#[derive(Debug)]
struct Entry {
    calls: Range<usize>,
    work: usize,
}

/// Where the recording stood before an expansion, to keep or drop what it adds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    calls: usize,
    text: usize,
}

impl Derivations {
    /// Forgets every expansion (a new command).
    pub(crate) fn forget(&mut self) {
        self.index.reset(&mut self.keys);
        self.entries.clear();
        self.calls.clear();
        self.text.clear();
    }

    fn set_key(&mut self, reading: &str, quoted: bool) {
        self.key.clear();
        self.key.push(if quoted { 'q' } else { '-' });
        self.key.push_str(reading);
    }

    /// The recorded calls of `reading` (range for [`Derivations::call`]) and its work.
    pub(crate) fn find(&mut self, reading: &str, quoted: bool) -> Option<(Range<usize>, usize)> {
        self.set_key(reading, quoted);
        let k = self.index.position(&self.keys, &self.key)?;
        let entry = self.entries.get(k)?;
        Some((entry.calls.clone(), entry.work))
    }

    /// Call `k` of the recording and its text. A call whose text is lost (a bug) replays as a
    /// [`Call::Fail`].
    pub(crate) fn call(&self, k: usize) -> (Call, &str) {
        let text = self.calls.get(k).and_then(|(call, text)| {
            let text = self.text.get(text.clone())?;
            Some((*call, text))
        });
        or_closed(text, (Call::Fail, ""))
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            calls: self.calls.len(),
            text: self.text.len(),
        }
    }

    pub(crate) fn record(&mut self, call: Call, s: &str) {
        let start = self.text.len();
        self.text.push_str(s);
        self.calls.push((call, start..self.text.len()));
    }

    /// Keeps the calls recorded since `mark` as the expansion of `reading`.
    pub(crate) fn keep(&mut self, reading: &str, quoted: bool, mark: Mark, work: usize) {
        self.set_key(reading, quoted);
        if self.index.insert(&mut self.keys, &self.key) {
            self.entries.push(Entry {
                calls: mark.calls..self.calls.len(),
                work,
            });
        }
    }

    /// Drops the calls recorded since `mark`.
    pub(crate) fn drop_since(&mut self, mark: Mark) {
        self.calls.truncate(mark.calls);
        self.text.truncate(mark.text);
    }
}
