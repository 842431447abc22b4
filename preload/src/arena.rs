//! The library's allocator: per-thread bump arenas that never touch libc's malloc.
//!
//! Why: a hook can run inside a vfork child (Python's subprocess, glibc's posix_spawn, make). Such a
//! child shares the parent's memory and may have been created while another thread held malloc's
//! lock, so calling malloc there can deadlock or corrupt the parent's heap. A hook also allocates
//! only short-lived things (the command string, readings, a child environment) that all die when it
//! returns or when the exec replaces the process. A bump allocator that is reset when the hook is
//! over fits that exactly and costs a pointer increment.
//!
//! How:
//! * A fixed table of slots. A hook claims a slot for its thread on entry ([`enter`]) by swapping the
//!   slot's owner from 0 to `pthread_self()`, and gives it back on exit ([`Scope`]'s drop). Claiming
//!   is one compare-and-swap; there is no lock anywhere.
//! * Each slot's arena is mmap'd (MAP_NORESERVE, so untouched pages cost nothing) the first time the
//!   slot is used and kept for the life of the process: claiming again only resets the top.
//! * A slot whose owner already equals the current thread is simply reset. This is how the arena of
//!   a vfork child that exec'd successfully comes back: the child ran with the parent's thread
//!   identity and in the parent's memory, so the slot it never released names the parent's thread,
//!   and the parent's next hook takes it over. (A hook never nests within one thread: the library
//!   calls the real functions, never its own hooks.)
//! * `dealloc` does nothing; `realloc` grows the last block in place when it can.
//! * Allocations made outside any hook (the constructor's settings) come from one shared
//!   "persistent" arena bumped with a compare-and-swap and never reset. Its first
//!   [`BOOTSTRAP_BYTES`] are a static buffer in the library's .bss, which holds everything the
//!   constructor allocates: a process that never execs then maps no arena at all (an mmap plus an
//!   madvise, and a mapping to tear down at exit, saved in every process).
//!
//! An exhausted arena returns null, which Rust turns into an abort, so hooks bound their inputs
//! (see `hooks::MAX_COMMAND`) well below [`ARENA_BYTES`].

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::sys;

/// Virtual size of one thread's arena. Reserved, not committed: only touched pages cost memory.
pub const ARENA_BYTES: usize = 64 << 20;
/// Size of the shared arena for allocations made outside hooks (settings, child-environment tables).
const PERSISTENT_BYTES: usize = 16 << 20;
/// Persistent allocations served from .bss before [`PERSISTENT_BYTES`] are mapped: the settings
/// snapshot and a bundle record take 1-2 KiB.
const BOOTSTRAP_BYTES: usize = 16 << 10;
/// How many threads can be inside a hook at once. A thread finding no free slot fails closed.
const SLOTS: usize = 64;

struct Slot {
    /// `pthread_self()` of the thread inside a hook with this slot, or 0 when free.
    owner: AtomicUsize,
    /// Start of the mmap'd arena, or 0 before first use.
    base: AtomicUsize,
    /// Bytes used; only the owner touches it.
    top: AtomicUsize,
    /// While set, the owner's allocations go to the persistent arena (see [`persistently`]).
    persistent: AtomicBool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            owner: AtomicUsize::new(0),
            base: AtomicUsize::new(0),
            top: AtomicUsize::new(0),
            persistent: AtomicBool::new(false),
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
hot_static! {
    static PERSISTENT: Slot = Slot::new();
}
hot_static! {
    /// How many slots are claimed. While it is zero no thread is inside a hook, and an
    /// allocation need not scan [`TABLE`]: the constructor then never touches the table's 2 KiB
    /// (a page fault or two saved in every process). A vfork child that exec'd leaves its claim
    /// counted; the parent's next hook takes the slot back and its drop evens the count.
    static CLAIMED: AtomicUsize = AtomicUsize::new(0);
}

/// The static start of the persistent arena.
#[repr(C, align(64))]
struct Bootstrap(core::cell::UnsafeCell<[u8; BOOTSTRAP_BYTES]>);

// SAFETY: the bytes are only reached through blocks that `bump` hands out once each.
unsafe impl Sync for Bootstrap {}

static BOOTSTRAP: Bootstrap = Bootstrap(core::cell::UnsafeCell::new([0; BOOTSTRAP_BYTES]));

hot_static! {
    /// [`BOOTSTRAP`]'s bump counter, apart from its bytes: a counter read on the bytes' first
    /// page mapped the zero page there, and the first block written faulted the page again.
    static BOOTSTRAP_TOP: AtomicUsize = AtomicUsize::new(0);
}

/// Proof that the current thread owns an arena slot; dropping it resets and frees the slot.
pub struct Scope {
    index: usize,
}

impl Drop for Scope {
    fn drop(&mut self) {
        if let Some(slot) = TABLE.get(self.index) {
            slot.top.store(0, Ordering::Relaxed);
            slot.persistent.store(false, Ordering::Relaxed);
            slot.owner.store(0, Ordering::Release);
            CLAIMED.fetch_sub(1, Ordering::Release);
        }
    }
}

fn this_thread() -> usize {
    // SAFETY: pthread_self only reads the thread pointer; it is async-signal-safe in practice and
    // returns the parent's identity inside a vfork child, which is what the slot recovery needs.
    unsafe { libc::pthread_self() as usize }
}

/// Claims (or takes back) this thread's arena slot for the duration of a hook.
/// `None` when every slot is busy or the arena cannot be mapped.
pub fn enter() -> Option<Scope> {
    let me = this_thread();
    let index = match TABLE
        .iter()
        .position(|s| s.owner.load(Ordering::Acquire) == me)
    {
        Some(i) => i,
        None => {
            let i = TABLE.iter().position(|s| {
                s.owner
                    .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            })?;
            CLAIMED.fetch_add(1, Ordering::AcqRel);
            i
        }
    };
    let slot = TABLE.get(index)?;
    slot.top.store(0, Ordering::Relaxed);
    slot.persistent.store(false, Ordering::Relaxed);
    // The scope exists from here so that a failed mapping still releases the slot.
    let scope = Scope { index };
    if slot.base.load(Ordering::Acquire) == 0 {
        slot.base.store(map(ARENA_BYTES)?, Ordering::Release);
    }
    Some(scope)
}

fn map(len: usize) -> Option<usize> {
    // SAFETY: an anonymous private mapping with no address hint has no preconditions.
    let p = unsafe {
        sys::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    // With transparent huge pages on "always", the first touch of a large anonymous mapping can
    // fault in (and zero) a whole 2 MiB page: tens of microseconds, most of the per-process
    // budget, for an arena that usually holds a few KiB.
    // SAFETY: advice on our own fresh mapping; failure only means the advice is ignored.
    unsafe { sys::madvise(p, len, libc::MADV_NOHUGEPAGE) };
    Some(p as usize)
}

fn align_up(n: usize, align: usize) -> Option<usize> {
    Some(n.checked_add(align - 1)? & !(align - 1))
}

/// Bumps `slot` by `layout` within `cap` bytes. `shared` slots race with other threads and use a
/// compare-and-swap; an owned slot has one writer.
fn bump(slot: &Slot, cap: usize, layout: Layout, shared: bool) -> *mut u8 {
    match slot.base.load(Ordering::Acquire) {
        0 => ptr::null_mut(),
        base => bump_at(base, &slot.top, cap, layout, shared),
    }
}

/// Bumps `top` within the `cap` bytes at `base`.
fn bump_at(base: usize, used: &AtomicUsize, cap: usize, layout: Layout, shared: bool) -> *mut u8 {
    let mut top = used.load(Ordering::Relaxed);
    loop {
        let Some(start) = align_up(base + top, layout.align()) else {
            return ptr::null_mut();
        };
        let end = start - base + layout.size();
        if end > cap {
            return ptr::null_mut();
        }
        if !shared {
            used.store(end, Ordering::Relaxed);
            return start as *mut u8;
        }
        match used.compare_exchange_weak(top, end, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return start as *mut u8,
            Err(seen) => top = seen,
        }
    }
}

/// A block that lives for the life of the process: from the static bootstrap buffer while it
/// lasts, then from the mapped persistent arena. Null when both are exhausted or unmappable.
fn persistent_alloc(layout: Layout) -> *mut u8 {
    let space = BOOTSTRAP.0.get() as usize;
    let p = bump_at(space, &BOOTSTRAP_TOP, BOOTSTRAP_BYTES, layout, true);
    if !p.is_null() || !persistent_base() {
        return p;
    }
    bump(&PERSISTENT, PERSISTENT_BYTES, layout, true)
}

fn persistent_base() -> bool {
    if PERSISTENT.base.load(Ordering::Acquire) != 0 {
        return true;
    }
    let Some(fresh) = map(PERSISTENT_BYTES) else {
        return false;
    };
    if PERSISTENT
        .base
        .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        // Another thread won the race: give ours back.
        // SAFETY: `fresh` is our own unpublished mapping of that length.
        unsafe { sys::munmap(fresh as *mut libc::c_void, PERSISTENT_BYTES) };
    }
    true
}

/// Runs `f` with this thread's allocations going to the persistent arena, for values built inside
/// a hook that must outlive it (the evaluator of a freshly mapped bundle).
pub fn persistently<R>(f: impl FnOnce() -> R) -> R {
    let slot = Arena::owned_slot();
    if let Some(slot) = slot {
        slot.persistent.store(true, Ordering::Relaxed);
    }
    let result = f();
    if let Some(slot) = slot {
        slot.persistent.store(false, Ordering::Relaxed);
    }
    result
}

/// Moves `value` into the persistent arena for the life of the process, whether or not a hook is
/// running (a bundle mapping record made inside a hook must outlive the hook). `None` when the
/// arena is exhausted or cannot be mapped.
pub fn persist<T>(value: T) -> Option<&'static T> {
    let p = persistent_alloc(Layout::new::<T>()) as *mut T;
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is a fresh, aligned block of the right size that nothing else will hand out.
    unsafe {
        p.write(value);
        Some(&*p)
    }
}

/// Copies `items` into the persistent arena for the life of the process (see [`persist`]).
pub fn persist_slice<T: Copy>(items: &[T]) -> Option<&'static [T]> {
    let layout = Layout::array::<T>(items.len()).ok()?;
    let p = persistent_alloc(layout) as *mut T;
    if p.is_null() {
        return None;
    }
    // SAFETY: a fresh block for exactly `items.len()` values of T, which are Copy.
    unsafe {
        ptr::copy_nonoverlapping(items.as_ptr(), p, items.len());
        Some(core::slice::from_raw_parts(p, items.len()))
    }
}

/// The global allocator (installed in lib.rs outside unit tests).
pub struct Arena;

impl Arena {
    fn owned_slot() -> Option<&'static Slot> {
        if CLAIMED.load(Ordering::Acquire) == 0 {
            return None;
        }
        let me = this_thread();
        TABLE.iter().find(|s| s.owner.load(Ordering::Acquire) == me)
    }
}

// SAFETY: every returned block is inside a live mapping, aligned as asked, and never handed out twice
// until the owning hook's scope ends, after which the hook's values are all dead.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match Arena::owned_slot() {
            Some(slot) if !slot.persistent.load(Ordering::Relaxed) => {
                bump(slot, ARENA_BYTES, layout, false)
            }
            _ => persistent_alloc(layout),
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, old: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if let Some(slot) = Arena::owned_slot().filter(|s| !s.persistent.load(Ordering::Relaxed)) {
            let base = slot.base.load(Ordering::Relaxed);
            let top = slot.top.load(Ordering::Relaxed);
            let offset = (old as usize).wrapping_sub(base);
            // The last block grows (or shrinks) in place: the common case of a Vec being pushed to.
            if offset.checked_add(layout.size()) == Some(top) && offset + new_size <= ARENA_BYTES {
                slot.top.store(offset + new_size, Ordering::Relaxed);
                return old;
            }
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        // SAFETY: as for `alloc`; the copy stays within both blocks.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                ptr::copy_nonoverlapping(old, new, layout.size().min(new_size));
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_scope_bumps_resets_and_releases() {
        let scope = enter().expect("a free slot");
        let index = scope.index;
        // SAFETY: non-zero sizes (GlobalAlloc's one precondition), in a hook scope.
        let a = unsafe { Arena.alloc(Layout::from_size_align(24, 8).unwrap()) };
        // SAFETY: as for `a`.
        let b = unsafe { Arena.alloc(Layout::from_size_align(1, 64).unwrap()) };
        assert!(!a.is_null() && !b.is_null());
        assert_eq!(b as usize % 64, 0);
        assert!(b as usize >= a as usize + 24);
        // Growing the last block keeps it in place.
        // SAFETY: `b` came from this allocator with this layout; the new size is not zero.
        let b2 = unsafe { Arena.realloc(b, Layout::from_size_align(1, 64).unwrap(), 4096) };
        assert_eq!(b, b2);
        drop(scope);
        assert!(Arena::owned_slot().is_none());
        // The next scope starts from its slot's base again. (Tests run in parallel threads that
        // share the slot table, so it may be another slot than before.)
        let again = enter().expect("a free slot");
        // SAFETY: a non-zero size, in a hook scope.
        let c = unsafe { Arena.alloc(Layout::from_size_align(24, 8).unwrap()) };
        let base = TABLE[again.index].base.load(Ordering::Relaxed);
        assert_eq!(c as usize, base);
        if again.index == index {
            assert_eq!(a, c);
        }
    }

    #[test]
    fn a_slot_left_claimed_by_this_thread_is_taken_back() {
        // What a vfork child that exec'd leaves behind: a claimed slot naming the parent's thread.
        let leaked = enter().expect("a free slot");
        let index = leaked.index;
        core::mem::forget(leaked);
        let again = enter().expect("the same slot");
        assert_eq!(again.index, index);
    }

    #[test]
    fn an_exhausted_arena_returns_null() {
        let _scope = enter().expect("a free slot");
        let huge = Layout::from_size_align(ARENA_BYTES + 1, 8).unwrap();
        // SAFETY: a non-zero size, in a hook scope.
        assert!(unsafe { Arena.alloc(huge) }.is_null());
    }
}
