//! The mapped policy bundle: mapped on first use, re-mapped when the file changes.
//!
//! Why a stat per hooked call: `rampart compile` replaces policy.bin by renaming a new file over
//! it, so a long-running agent must notice. One `stat` (well under a microsecond) compared with
//! the identity of the current mapping (device, inode, size, mtime) is the cheapest test that
//! catches a rename, and it never blocks.
//!
//! Why on first use rather than in the constructor: most processes never exec, and the
//! per-process budget (60 us over a bare spawn) is the tighter one. Mapping in the constructor
//! (open, fstat, mmap, close, and the teardown at exit) cost ~10 us of every spawn here
//! (`/bin/true`, p50 of 2,000 interleaved spawns: +94 us with it, +84 us without). The first
//! decision, or the first fork (see `before_fork` in lib.rs, so that children inherit a built
//! evaluator), maps the file instead. Mapping is a syscall and publishing is a compare-and-swap,
//! so this is as safe in a vfork child as the arena's own mmap: the child shares the parent's
//! memory, and the parent finds the record published.
//!
//! Checking the header and section table, and building the evaluator (the decoded rule program
//! plus zero-copy DFA views), also wait for the first decision against a mapping. A corrupt
//! bundle is therefore found on the first decision, which is also the first moment it matters
//! (and when [`announce`] says so). The evaluator is built in the persistent arena (mmap and
//! compare-and-swap only, so vfork-safe) and cached in the mapping's record.
//!
//! Mappings are published through an atomic pointer to an immutable record and are never unmapped:
//! another thread (or the parent of a vfork child) may still be reading the old one, and a
//! lock-free reader cannot say when it is done. A process leaks one mapping per recompile, which is
//! a few hundred KiB at most for a rare event.

use core::ffi::c_char;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use rampart_runtime::bundle::{Bundle, BundleError};
use rampart_runtime::eval::Evaluator;
use rampart_runtime::settings::ENV_FAIL_OPEN;

use crate::{arena, sys};

/// What identifies the file a mapping was made from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Identity {
    dev: u64,
    ino: u64,
    size: i64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Identity {
    fn of(st: &libc::stat) -> Identity {
        Identity {
            dev: st.st_dev,
            ino: st.st_ino,
            size: st.st_size,
            mtime: st.st_mtime,
            mtime_nsec: st.st_mtime_nsec,
        }
    }
}

/// The state of the bundle as last seen.
#[derive(Debug)]
pub enum State {
    /// Mapped; the header and section table are checked when the evaluator is built.
    Mapped { addr: usize, len: usize },
    /// No file at the path (or it cannot be opened or mapped).
    Missing,
    /// The file exists but cannot be a bundle (it is empty).
    Corrupt(Unusable),
}

/// Why there is no evaluator for a bundle file that exists.
#[derive(Debug)]
pub enum Unusable {
    /// The bundle itself: its header, section table, program or automata do not load.
    Bundle(BundleError),
    /// The library's persistent arena had no room left for the evaluator (or for the error).
    ArenaExhausted,
    /// Asked of a record with no mapping (no file at the path).
    NotMapped,
}

impl core::fmt::Display for Unusable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Unusable::Bundle(e) => e.fmt(f),
            Unusable::ArenaExhausted => {
                f.write_str("the library's memory arena is exhausted; no room for the evaluator")
            }
            Unusable::NotMapped => f.write_str("no policy bundle is mapped"),
        }
    }
}

/// An evaluator over a mapping, and whether its bundle sends every exec to the server.
pub struct Loaded {
    pub evaluator: Evaluator<'static>,
    pub needs_server: bool,
}

/// One mapping's state and, once built, its evaluator (or why it could not be built).
pub struct Record {
    identity: Option<Identity>,
    pub state: State,
    loaded: AtomicPtr<Loaded>,
    failed: AtomicPtr<Unusable>,
}

impl Record {
    /// The evaluator, built on first use. `Err` when the bundle's header, section table, program
    /// or DFAs do not load, or when the arena has no room for the evaluator.
    pub fn loaded(&'static self) -> Result<&'static Loaded, &'static Unusable> {
        // SAFETY: both pointers are null or persistent values published once.
        if let Some(l) = unsafe { self.loaded.load(Ordering::Acquire).as_ref() } {
            return Ok(l);
        }
        // SAFETY: as for `loaded`.
        if let Some(e) = unsafe { self.failed.load(Ordering::Acquire).as_ref() } {
            return Err(e);
        }
        static EXHAUSTED: Unusable = Unusable::ArenaExhausted;
        static NOT_MAPPED: Unusable = Unusable::NotMapped;
        let bytes = match &self.state {
            State::Mapped { .. } => self.state.bytes().ok_or(&NOT_MAPPED)?,
            State::Corrupt(e) => return Err(e),
            State::Missing => return Err(&NOT_MAPPED),
        };
        let built = arena::persistently(|| {
            // SAFETY: policy.bin is written atomically by `rampart compile` (see
            // Bundle::open_unchecked); this checks the header, the section table and the bounds.
            let bundle = unsafe { Bundle::open_unchecked(bytes) }?;
            let needs_server = bundle.exec_needs_server();
            Evaluator::new(&bundle).map(|evaluator| Loaded {
                evaluator,
                needs_server,
            })
        });
        match built {
            Ok(loaded) => {
                let loaded = arena::persist(loaded).ok_or(&EXHAUSTED)?;
                let p = loaded as *const Loaded as *mut Loaded;
                // A racing thread may have published first; either evaluator is equivalent.
                let _ = self.loaded.compare_exchange(
                    ptr::null_mut(),
                    p,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
                // SAFETY: as above.
                Ok(unsafe { self.loaded.load(Ordering::Acquire).as_ref() }.unwrap_or(loaded))
            }
            Err(e) => {
                let e = arena::persist(Unusable::Bundle(e)).ok_or(&EXHAUSTED)?;
                self.failed
                    .store(e as *const Unusable as *mut Unusable, Ordering::Release);
                Err(e)
            }
        }
    }
}

hot_static! {
    static CURRENT: AtomicPtr<Record> = AtomicPtr::new(ptr::null_mut());
}

impl State {
    /// The bundle's bytes when ready.
    pub fn bytes(&self) -> Option<&'static [u8]> {
        match *self {
            State::Mapped { addr, len } => {
                // SAFETY: mappings are never unmapped and never written.
                Some(unsafe { core::slice::from_raw_parts(addr as *const u8, len) })
            }
            _ => None,
        }
    }
}

/// The current bundle record for the NUL-terminated `path`, re-mapping if the file changed.
/// `None` only when no record can be stored (persistent arena exhausted).
pub fn current(path: &[u8]) -> Option<&'static Record> {
    let seen = CURRENT.load(Ordering::Acquire);
    // SAFETY: published records are persistent and immutable.
    if let Some(record) = unsafe { seen.as_ref() } {
        if record.identity == stat(path) {
            return Some(record);
        }
    }
    // The first load needs no stat: `load` identifies the file by fstat.
    let fresh = load(path);
    let fresh = arena::persist(fresh)?;
    let fresh_ptr = fresh as *const Record as *mut Record;
    match CURRENT.compare_exchange(seen, fresh_ptr, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Some(fresh),
        // Another thread re-mapped first; use its record (ours leaks, harmlessly).
        // SAFETY: as above.
        Err(other) => unsafe { other.as_ref() },
    }
}

impl Record {
    fn new(identity: Option<Identity>, state: State) -> Record {
        Record {
            identity,
            state,
            loaded: AtomicPtr::new(ptr::null_mut()),
            failed: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

fn stat(path: &[u8]) -> Option<Identity> {
    let mut st = core::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `path` is NUL-terminated (Settings guarantees it); `st` is written on success.
    let rc = unsafe { sys::stat(path.as_ptr() as *const c_char, st.as_mut_ptr()) };
    // SAFETY: stat succeeded, so `st` is initialised.
    (rc == 0).then(|| Identity::of(unsafe { &st.assume_init() }))
}

/// Opens and maps the file, identifying it by the open descriptor so that the record describes
/// exactly the bytes mapped even if the path is replaced meanwhile.
fn load(path: &[u8]) -> Record {
    let missing = Record::new(None, State::Missing);
    // SAFETY: NUL-terminated path; the descriptor is closed below on every path.
    let fd = unsafe {
        sys::open(
            path.as_ptr() as *const c_char,
            libc::O_RDONLY | libc::O_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return missing;
    }
    let mut st = core::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: valid descriptor and buffer.
    let record = if unsafe { sys::fstat(fd, st.as_mut_ptr()) } != 0 {
        missing
    } else {
        // SAFETY: fstat succeeded.
        let st = unsafe { st.assume_init() };
        Record::new(Some(Identity::of(&st)), map_fd(fd, st.st_size))
    };
    // SAFETY: our descriptor.
    unsafe { sys::close(fd) };
    record
}

fn map_fd(fd: i32, size: i64) -> State {
    let Ok(len) = usize::try_from(size) else {
        return State::Missing;
    };
    if len == 0 {
        return State::Corrupt(Unusable::Bundle(BundleError::Truncated {
            needed: rampart_runtime::bundle::HEADER_LEN as u64,
            got: 0,
        }));
    }
    // SAFETY: a private read-only mapping of an open regular file.
    let addr = unsafe {
        sys::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            fd,
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return State::Missing;
    }
    State::Mapped {
        addr: addr as usize,
        len,
    }
}

hot_static! {
    static SAID_MISSING: AtomicBool = AtomicBool::new(false);
}
hot_static! {
    static SAID_CORRUPT: AtomicBool = AtomicBool::new(false);
}

/// Says once per process that there is no usable bundle, why, and what follows from it. Called
/// when a hook has to decide without a bundle, not from the constructor, so that processes which
/// never exec stay quiet.
pub fn announce(path: &[u8], error: Option<&Unusable>, fail_open: bool) {
    let path = path.strip_suffix(b"\0").unwrap_or(path);
    // `; allowing (RAMPART_FAIL_OPEN)` or `; denying (RAMPART_FAIL_OPEN=0)`.
    let (verdict, setting): (&[u8], &[u8]) = if fail_open {
        (b"; allowing (", b")")
    } else {
        (b"; denying (", b"=0)")
    };
    let fail_open_name = ENV_FAIL_OPEN.as_bytes();
    match error {
        None => {
            if !SAID_MISSING.swap(true, Ordering::Relaxed) {
                crate::say::line(&[
                    b"no policy bundle at ",
                    path,
                    verdict,
                    fail_open_name,
                    setting,
                ]);
            }
        }
        Some(e) => {
            if !SAID_CORRUPT.swap(true, Ordering::Relaxed) {
                let mut why = alloc::string::String::new();
                let _ = core::fmt::write(&mut why, format_args!("{e}"));
                crate::say::line(&[
                    b"unusable policy bundle ",
                    path,
                    b": ",
                    why.as_bytes(),
                    verdict,
                    fail_open_name,
                    setting,
                ]);
            }
        }
    }
}
