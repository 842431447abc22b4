//! The bundle's DFAs, each loaded the first time a search needs it and kept.
//!
//! Why lazily: a bundle holds hundreds of DFAs (one small sparse DFA per confirmed pattern), a
//! call searches a few dozen, and loading one (`from_bytes_unchecked`: header, byte classes, start
//! table) costs a few thousand instructions. Loading all of them per open would cost the preload
//! its per-process budget; loading the needed ones per search, as before, cost half of every
//! evaluation.
//!
//! Why [`Slots`] rather than a `OnceCell` per DFA: an evaluator is shared between threads (the
//! server, the preload), its memory must be reserved in one allocation when it is built (the
//! preload resets every allocation made during a hook when the hook returns, so nothing may be
//! allocated during a search), and that allocation must not be touched until a slot is filled (a
//! loaded DFA is several hundred bytes; writing an empty marker in each of hundreds would fault
//! in pages a process never uses).

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};

use regex_automata::dfa::{dense, sparse};

use crate::bundle::{pack_entry, Bundle, DfaForm};

/// The dense and sparse DFAs of one bundle.
pub struct Automata<'a> {
    dense: Pack<'a>,
    sparse: Pack<'a>,
    /// Every DFA loaded so far, dense ones numbered first: one set of slots for both forms, so
    /// that the first DFAs a process loads, of either form, share their pages.
    loaded: Slots<Loaded<'a>>,
    /// Set when a DFA the program names failed to load: its answers are missing, so decisions
    /// made with them must fail closed (see [`Automata::broken`]).
    broken: AtomicBool,
}

/// A loaded DFA of either form.
enum Loaded<'a> {
    Dense(dense::DFA<&'a [u32]>),
    Sparse(sparse::DFA<&'a [u8]>),
}

/// One form's pack of serialized DFAs and its index.
struct Pack<'a> {
    bytes: &'a [u8],
    index: &'a [u8],
}

impl<'a> Pack<'a> {
    fn new(bundle: &Bundle<'a>, form: DfaForm) -> Pack<'a> {
        // An entry is checked when its DFA is first loaded, not here: `Bundle::open` already
        // validated every one, and behind `open_unchecked` a bad entry makes the searches that
        // need it fail closed (see [`Automata::broken`]) at no cost to the opens that don't.
        let (bytes, index) = bundle.dfa_pack(form);
        Pack { bytes, index }
    }

    fn count(&self) -> u32 {
        (self.index.len() / 8) as u32
    }

    fn entry(&self, number: u32) -> Option<&'a [u8]> {
        pack_entry(self.bytes, self.index, number)
    }
}

impl<'a> Automata<'a> {
    /// The DFA packs of `bundle` (their bytes stay where they are; nothing is read yet).
    pub fn new(bundle: &Bundle<'a>) -> Automata<'a> {
        let dense = Pack::new(bundle, DfaForm::Dense);
        let sparse = Pack::new(bundle, DfaForm::Sparse);
        let count = dense.count() as usize + sparse.count() as usize;
        Automata {
            dense,
            sparse,
            loaded: Slots::new(count),
            broken: AtomicBool::new(false),
        }
    }

    /// Whether some DFA failed to load or was referenced wrongly (corrupt bytes behind
    /// `Bundle::open_unchecked`): DFAs load on first use, so this is found during a search
    /// rather than at open.
    pub fn broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Records a reference that leads nowhere (a DFA's atom list shorter than its patterns),
    /// found during a search like a DFA that does not load.
    pub fn mark_broken(&self) {
        self.broken.store(true, Ordering::Relaxed);
    }

    /// Runs `f` on dense DFA `number`; `None` if there is no such DFA or it does not load.
    pub fn with_dense<R>(
        &self,
        number: u32,
        f: impl FnOnce(&dense::DFA<&'a [u32]>) -> R,
    ) -> Option<R> {
        // SAFETY: a `Bundle` exists only after `Bundle::open` validated every DFA with
        // `from_bytes`, or through `Bundle::open_unchecked`, whose caller vouches for the bytes.
        let load = |data| unsafe { dense::DFA::from_bytes_unchecked(data) }.ok();
        let slot = (number < self.dense.count()).then_some(number);
        let value = || Some(Loaded::Dense(load(self.dense.entry(number)?)?.0));
        self.with(slot, value, |loaded| match loaded {
            Loaded::Dense(dfa) => Some(f(dfa)),
            Loaded::Sparse(_) => None,
        })
    }

    /// Runs `f` on sparse DFA `number`; `None` if there is no such DFA or it does not load.
    pub fn with_sparse<R>(
        &self,
        number: u32,
        f: impl FnOnce(&sparse::DFA<&'a [u8]>) -> R,
    ) -> Option<R> {
        // SAFETY: as for the dense DFAs of `with_dense`: validated by `Bundle::open`, or vouched
        // for by the caller of `Bundle::open_unchecked`.
        let load = |data| unsafe { sparse::DFA::from_bytes_unchecked(data) }.ok();
        let slot = (number < self.sparse.count()).then(|| number + self.dense.count());
        let value = || Some(Loaded::Sparse(load(self.sparse.entry(number)?)?.0));
        self.with(slot, value, |loaded| match loaded {
            Loaded::Sparse(dfa) => Some(f(dfa)),
            Loaded::Dense(_) => None,
        })
    }

    /// Runs `f` on the DFA in `slot`, loading it with `load` the first time; a missing slot or
    /// a DFA that does not load is remembered as [`Automata::broken`].
    fn with<R>(
        &self,
        slot: Option<u32>,
        load: impl FnOnce() -> Option<Loaded<'a>>,
        f: impl FnOnce(&Loaded<'a>) -> Option<R>,
    ) -> Option<R> {
        let result = slot.and_then(|slot| self.loaded.with(slot as usize, load, f).flatten());
        if result.is_none() {
            self.mark_broken();
        }
        result
    }
}

/// Write-once slots filled on first use, safe to share between threads.
///
/// Values are stored in first-use order in one reserved array, not at their slot's index: a
/// loaded DFA is several hundred bytes, and a call that loads a handful of DFAs numbered far
/// apart would otherwise dirty a page per DFA. A fresh anonymous page costs 1.3-2.8 us to fault
/// in on the machine the budgets are measured on, and in the preload every exec is the first
/// decision of a fresh process; in first-use order the handful share a page or two.
///
/// A slot's place moves 0 (empty) -> [`CLAIMED`] -> position + 1 (published) once. The thread
/// that claims a slot takes the next position, writes the value there and publishes it; a
/// thread that finds a slot claimed by another loads its own copy for the moment instead of
/// waiting (loading is pure, so both copies are the same). A slot left claimed forever (a vfork
/// child that exec'd mid-fill) only costs later callers that reload.
///
/// The places themselves are zeroed a chunk of [`CHUNK`] at a time, when a slot of the chunk is
/// first used, not when the slots are made: one place per DFA of the bundle (thousands) would
/// otherwise be written, and their pages faulted in, by every process that opens a bundle. A
/// chunk moves [`UNTOUCHED`] -> [`ZEROING`] -> [`READY`] once; the thread that moves it to
/// `ZEROING` zeroes it, and a thread that finds a chunk being zeroed by another loads its own
/// copy of the value, as for a claimed slot.
struct Slots<T> {
    /// The state of each chunk of places.
    chunks: Box<[AtomicU8]>,
    /// Written only in chunks that are [`READY`] (see above).
    places: Box<[UnsafeCell<MaybeUninit<AtomicU32>>]>,
    /// Positions handed out so far.
    next: AtomicU32,
    storage: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

const CLAIMED: u32 = u32::MAX;

/// Places zeroed at once (256 bytes).
const CHUNK: usize = 64;
/// A chunk's places are uninitialised.
const UNTOUCHED: u8 = 0;
/// One thread is zeroing the chunk's places.
const ZEROING: u8 = 1;
/// The chunk's places are initialised.
const READY: u8 = 2;

/// Where a slot's place stands.
enum Place<'s> {
    /// No such slot.
    Missing,
    /// Its chunk is being zeroed by another thread: use a value without storing it.
    Busy,
    Ready(&'s AtomicU32),
}

// SAFETY: a position is written once, by the one thread that claimed the slot it belongs to,
// and read only after that slot's place was published (Release store / Acquire load);
// afterwards it is shared immutably, which `T: Sync` allows. Values move between threads only
// as `T: Send` would. A chunk of places is written (zeroed) by the one thread that moved it to
// `ZEROING`, and read only after its state was seen `READY` (Release store / Acquire load);
// after that the places are only accessed atomically.
unsafe impl<T: Send + Sync> Sync for Slots<T> {}

impl<T> Slots<T> {
    fn new(len: usize) -> Slots<T> {
        // The chunk states first: with a bump allocator they then follow what was allocated
        // before, on pages already touched, and the first stored values follow them.
        let chunks = (0..len.div_ceil(CHUNK))
            .map(|_| AtomicU8::new(UNTOUCHED))
            .collect();
        // SAFETY: `UnsafeCell<MaybeUninit<_>>` is valid uninitialised, so the uninitialised
        // slices may be assumed initialised; their memory is left untouched until written.
        let places = unsafe { Box::new_uninit_slice(len).assume_init() };
        // SAFETY: as for `places`.
        let storage = unsafe { Box::new_uninit_slice(len).assume_init() };
        Slots {
            chunks,
            places,
            next: AtomicU32::new(0),
            storage,
        }
    }

    /// The place of slot `index`, zeroing its chunk first if no thread has.
    fn place(&self, index: usize) -> Place<'_> {
        let (Some(cell), Some(chunk)) = (self.places.get(index), self.chunks.get(index / CHUNK))
        else {
            return Place::Missing;
        };
        let mut state = chunk.load(Ordering::Acquire);
        if state == UNTOUCHED {
            state = self.zero_chunk(chunk, index / CHUNK * CHUNK);
        }
        if state != READY {
            return Place::Busy;
        }
        // SAFETY: the chunk is `READY` (Acquire): its places were all written, and are only
        // accessed atomically from now on.
        Place::Ready(unsafe { (*cell.get()).assume_init_ref() })
    }

    /// Zeroes the chunk of places from `first`, unless another thread has begun to; returns
    /// the chunk's state. Out of line: it runs once per chunk, and the searches that call
    /// [`Slots::with`] stay small enough to be inlined.
    #[cold]
    #[inline(never)]
    fn zero_chunk(&self, chunk: &AtomicU8, first: usize) -> u8 {
        match chunk.compare_exchange(UNTOUCHED, ZEROING, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                let end = first.saturating_add(CHUNK).min(self.places.len());
                // The chunk of a slot that exists is in the places; were it not, the chunk stays
                // `ZEROING` and its slots are only slower (see above), never read uninitialised.
                let Some(cells) = crate::invariant::checked(self.places.get(first..end)) else {
                    return ZEROING;
                };
                for cell in cells {
                    // SAFETY: this thread alone moved the chunk to `ZEROING`; nobody reads its
                    // places before the `READY` store below.
                    unsafe { (*cell.get()).write(AtomicU32::new(0)) };
                }
                chunk.store(READY, Ordering::Release);
                READY
            }
            Err(now) => now,
        }
    }

    /// The stored value of a published place.
    fn published(&self, place: u32) -> Option<&T> {
        let position = place.checked_sub(1).filter(|_| place != CLAIMED)?;
        let cell = self.storage.get(position as usize)?;
        // SAFETY: a published place names a fully written value (see `Sync`).
        Some(unsafe { (*cell.get()).assume_init_ref() })
    }

    /// Runs `f` on slot `index`, loading it first if needed. `f` is called from one place, so
    /// that the search it runs is inlined into the caller.
    fn with<R>(
        &self,
        index: usize,
        load: impl FnOnce() -> Option<T>,
        f: impl FnOnce(&T) -> R,
    ) -> Option<R> {
        let mut own = None;
        let value = self.get(index, load, &mut own)?;
        Some(f(value))
    }

    /// The value of slot `index`: stored, or loaded with `load` and stored if the slot is free,
    /// or loaded into `own` and not stored (a slot claimed by another thread, a chunk being
    /// zeroed).
    #[inline]
    fn get<'s>(
        &'s self,
        index: usize,
        load: impl FnOnce() -> Option<T>,
        own: &'s mut Option<T>,
    ) -> Option<&'s T> {
        let place = match self.place(index) {
            Place::Missing => return None,
            Place::Busy => return Some(own.insert(load()?)),
            Place::Ready(place) => place,
        };
        if let Some(value) = self.published(place.load(Ordering::Acquire)) {
            return Some(value);
        }
        let value = load()?;
        if place
            .compare_exchange(0, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Some(own.insert(value));
        }
        // Each slot is claimed once, so positions never run out.
        let position = self.next.fetch_add(1, Ordering::Relaxed);
        let Some(cell) = self.storage.get(position as usize) else {
            return Some(own.insert(value));
        };
        // SAFETY: `fetch_add` gave this position to this thread alone; nobody reads it before
        // the place is published below, after it was written.
        let stored: &T = unsafe { (*cell.get()).write(value) };
        place.store(position + 1, Ordering::Release);
        Some(stored)
    }
}

impl<T> Drop for Slots<T> {
    fn drop(&mut self) {
        // At most `next` values were stored, each published in a `READY` chunk: the walk over
        // those chunks' places stops once that many were dropped, and is skipped by an evaluator
        // that never searched. A position handed out but never published (see above) only
        // makes the walk run to the end.
        let mut left = *self.next.get_mut();
        let ready = self.chunks.iter_mut().map(|c| *c.get_mut() == READY);
        for (ready, places) in ready.zip(self.places.chunks_mut(CHUNK)) {
            if left == 0 {
                break;
            }
            if !ready {
                continue;
            }
            for place in places {
                // SAFETY: the places of a `READY` chunk are initialised.
                let place = unsafe { place.get_mut().assume_init_mut() };
                let position = place.get_mut().wrapping_sub(1);
                if let Some(cell) = self.storage.get_mut(position as usize) {
                    // SAFETY: published places name initialised values, each dropped once here.
                    unsafe { cell.get_mut().assume_init_drop() };
                    left -= 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use core::cell::Cell;

    #[test]
    fn a_slot_loads_once_and_drops_what_it_holds() {
        let loads = Cell::new(0);
        let token = Rc::new(());
        let slots: Slots<Rc<()>> = Slots::new(3);
        for _ in 0..4 {
            let seen = slots.with(
                1,
                || {
                    loads.set(loads.get() + 1);
                    Some(token.clone())
                },
                Rc::strong_count,
            );
            assert_eq!(seen, Some(2));
        }
        assert_eq!(loads.get(), 1);
        assert_eq!(slots.with(7, || Some(token.clone()), |_| ()), None);
        assert_eq!(slots.with(0, || None, |_| ()), None);
        drop(slots);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn values_are_stored_in_first_use_order() {
        let slots: Slots<u64> = Slots::new(1000);
        for index in [900, 5, 900, 512, 999] {
            assert_eq!(
                slots.with(index, || Some(index as u64), |v| *v),
                Some(index as u64)
            );
        }
        let place = |i: usize| match slots.place(i) {
            Place::Ready(place) => place.load(Ordering::Relaxed),
            _ => panic!("slot {i}"),
        };
        assert_eq!(
            [place(900), place(5), place(512), place(999), place(6)],
            [1, 2, 3, 4, 0]
        );
        // Only the chunks of the slots used were zeroed.
        let ready = |i: usize| slots.chunks[i / CHUNK].load(Ordering::Relaxed) == READY;
        assert_eq!(
            [ready(900), ready(5), ready(512), ready(700)],
            [true, true, true, false]
        );
        assert_eq!(slots.next.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn a_chunk_left_being_zeroed_is_only_slower() {
        // As a vfork child that exec'd while zeroing a chunk leaves it: the slots of that chunk
        // load a value each time and store none; the other chunks work as ever.
        let slots: Slots<Rc<()>> = Slots::new(2 * CHUNK);
        slots.chunks[0].store(ZEROING, Ordering::Relaxed);
        let token = Rc::new(());
        let loads = Cell::new(0);
        let load = || {
            loads.set(loads.get() + 1);
            Some(token.clone())
        };
        for _ in 0..3 {
            assert_eq!(slots.with(3, load, |_| 7), Some(7));
        }
        assert_eq!(loads.get(), 3);
        assert_eq!(Rc::strong_count(&token), 1);
        for _ in 0..3 {
            assert_eq!(slots.with(CHUNK + 3, load, |_| 8), Some(8));
        }
        assert_eq!(loads.get(), 4);
        assert_eq!(slots.with(2 * CHUNK, load, |_| 9), None);
        drop(slots);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn threads_share_the_loaded_value() {
        let slots: Slots<u64> = Slots::new(64);
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let slots = &slots;
                s.spawn(move || {
                    for i in 0..64 {
                        let got = slots.with(i, || Some(i as u64 * 7), |v| *v);
                        assert_eq!(got, Some(i as u64 * 7), "thread {t}");
                    }
                });
            }
        });
    }
}
