//! librampart.so: the LD_PRELOAD library that decides every exec in-process.
//!
//! Why a preload library: an agent's tool call is usually a shell, and a shell starts programs that
//! start programs. Interposing the exec family, posix_spawn, system and popen in every dynamically
//! linked process of the tree sees each of those starts, including the ones no agent hook reports.
//!
//! Why local decisions: upstream asked a server over HTTP for every exec (+8.6 ms each, and every
//! exec blocked when the server was down). This library maps the compiled `policy.bin` on its
//! first decision and evaluates each call in-process with rampart-runtime's evaluator; it talks to
//! the server only for an `ask` (a human approves through it) or a bundle flagged as needing it.
//!
//! Why `#![no_std]`: std in a preloaded library pulls libgcc_s into every process and costs about
//! 200 us per spawn; the whole budget is 60 us. So: libc only, `panic = "abort"` with an aborting
//! panic handler, no unwrap or indexing that can panic (the lints of `Cargo.toml` deny them; a
//! lookup that can only miss through a bug names its fail-closed answer through
//! `rampart_runtime::invariant`), and an allocator that never calls malloc (hooks run inside vfork
//! children: see [`arena`]).
//!
//! The pieces: [`settings`] (the RAMPART_* snapshot), [`real`] (the functions behind the hooks),
//! [`policy`] (the mapped bundle), [`command`] (what a call runs, as text), [`resolve`] (the
//! program behind a link), [`decide`] (one decision),
//! [`record`] (handing decisions over), [`ask`] (the server, for approvals), [`childenv`] (LD_PRELOAD
//! back into every child) and [`hooks`] (the exported functions, plus `shim.c` for execl*).
//!
//! One exec, in order: a hook ([`hooks`]) takes the call; [`command`] renders what it runs;
//! [`decide`] maps the bundle once per process ([`policy`]: `Bundle::open_unchecked`, then an
//! `Evaluator`), reads the words with a `shell::Reader` and decides with
//! `Evaluator::evaluate_exec`, asks the server for an `ask` ([`ask`]), applies the mode and hands
//! the decision to [`record`]; the hook then calls the real function ([`real`]) with the child
//! environment [`childenv`] repaired, or fails with EPERM.
//!
//! Not covered, by construction: static binaries and Go programs (raw syscalls), setuid programs
//! (the loader ignores LD_PRELOAD), and direct `syscall(SYS_execve)`.
#![cfg_attr(not(test), no_std)]
// Unit tests run on the host's std harness without the hooks (a test binary must not interpose its
// own libc), which leaves the hook-only paths unused there.
#![cfg_attr(test, allow(dead_code))]

extern crate alloc;

/// Declares a small static that every process touches, placed in `.data`: the loader has already
/// made that page private when it zeroed the start of `.bss` on it, so writing there is free. In
/// `.bss` these statics were spread over two more pages, and every process paid a page fault for
/// each (1.3-2.8 us on the reference machine).
macro_rules! hot_static {
    ($(#[$meta:meta])* $vis:vis static $name:ident: $ty:ty = $init:expr;) => {
        $(#[$meta])*
        #[cfg_attr(not(test), link_section = ".data.rampart_hot")]
        $vis static $name: $ty = $init;
    };
}

mod arena;
mod ask;
mod childenv;
mod command;
mod decide;
#[cfg(not(test))]
mod hooks;
mod policy;
mod real;
mod record;
mod resolve;
mod say;
mod settings;
mod sys;
mod text;

use alloc::vec::Vec;
use core::ffi::{c_char, CStr};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

#[cfg(not(test))]
#[global_allocator]
static ALLOCATOR: arena::Arena = arena::Arena;

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: abort has no preconditions; unwinding out of a hook is not an option.
    unsafe { libc::abort() }
}

// The precompiled core and alloc are built for unwinding and keep references to the unwinder in
// code that an unoptimised build does not strip. Nothing here ever unwinds (panic = "abort"), so
// these local, hidden definitions only satisfy the references: exporting them, or leaving them
// undefined, would either hijack C++ exceptions in every process or stop the library from loading.
#[cfg(all(not(test), target_arch = "x86_64"))]
core::arch::global_asm!(
    ".pushsection .text.rampart_no_unwind,\"ax\",@progbits",
    ".globl rust_eh_personality",
    ".hidden rust_eh_personality",
    ".globl _Unwind_Resume",
    ".hidden _Unwind_Resume",
    "rust_eh_personality:",
    "_Unwind_Resume:",
    "ud2",
    ".popsection",
);
#[cfg(all(not(test), target_arch = "aarch64"))]
core::arch::global_asm!(
    ".pushsection .text.rampart_no_unwind,\"ax\",@progbits",
    ".globl rust_eh_personality",
    ".hidden rust_eh_personality",
    ".globl _Unwind_Resume",
    ".hidden _Unwind_Resume",
    "rust_eh_personality:",
    "_Unwind_Resume:",
    "brk #0",
    ".popsection",
);

/// The constructor, run by the loader before main (and before any hook can run in this process).
#[cfg(not(test))]
#[used]
#[link_section = ".init_array"]
static CONSTRUCTOR: extern "C" fn() = constructor;

extern "C" fn constructor() {
    init_once();
}

hot_static! {
    static INITIALISED: AtomicBool = AtomicBool::new(false);
}
hot_static! {
    static SNAPSHOT: AtomicPtr<Snapshot> = AtomicPtr::new(ptr::null_mut());
}

/// What the constructor keeps; [`settings`] turns it into the [`settings::Settings`] on first use,
/// because most processes never call a hook and building them cost every process ~5,000
/// instructions.
struct Snapshot {
    /// Copied: a program may reuse `environ`'s memory (setproctitle does) or change the
    /// variables before its first exec, and neither may change what the library enforces.
    env: Environment,
    pid: u32,
    /// `$HOME`, or the password entry's directory: getpwuid must not run in a vfork child.
    home: Vec<u8>,
    library: OwnPath,
}

/// This library's absolute path, which children get in their LD_PRELOAD.
enum OwnPath {
    /// Resolved by the constructor, because LD_PRELOAD does not name the library by an absolute
    /// path and a relative one means nothing once the program changes directory.
    Early(Option<Vec<u8>>),
    /// Looked up on first use (dladdr).
    OnFirstUse,
}

/// Takes the [`Snapshot`], once. Everything else waits for first use: the settings, the real
/// functions (real.rs), the bundle (policy.rs) and the evaluator.
pub(crate) fn init_once() {
    if INITIALISED.swap(true, Ordering::AcqRel) {
        return;
    }
    let env = Environment::read().copied();
    let preload = env.get("LD_PRELOAD").unwrap_or(b"");
    let relative =
        preload.is_empty() || settings::preload_entries(preload).any(|e| !e.starts_with(b"/"));
    let snapshot = Snapshot {
        home: home_dir(env.get("HOME")),
        library: if relative {
            OwnPath::Early(own_path())
        } else {
            OwnPath::OnFirstUse
        },
        pid: sys::getpid() as u32,
        env,
    };
    if let Some(kept) = arena::persist(snapshot) {
        SNAPSHOT.store(ptr::from_ref(kept).cast_mut(), Ordering::Release);
    }
}

/// The settings, built from the constructor's snapshot the first time a hook asks. `None` only
/// when the snapshot could not be kept (no memory).
pub(crate) fn settings() -> Option<&'static settings::Settings> {
    if let Some(s) = settings::get() {
        return Some(s);
    }
    // A hook can run before the constructor (another library's constructor exec'ing).
    init_once();
    // SAFETY: null or a snapshot persisted for the life of the process by `init_once`.
    let snapshot = unsafe { SNAPSHOT.load(Ordering::Acquire).as_ref() }?;
    Some(arena::persistently(|| {
        let library = match &snapshot.library {
            OwnPath::Early(path) => path.clone(),
            OwnPath::OnFirstUse => own_path(),
        };
        settings::install(settings::Settings::from_lookup(
            |name| snapshot.env.get(name),
            snapshot.pid,
            &snapshot.home,
            library.as_deref(),
        ))
    }))
}

/// Runs in the parent before each fork() (the `fork` hook): builds the evaluator and this
/// thread's arena there, so that a shell's fork-then-exec children inherit them instead of each
/// paying the first decision's cost again (~114,000 instructions, the bundle's mapping and a few
/// fresh pages). Processes that never fork pay nothing, not even
/// a registration: `pthread_atfork` in the constructor cost every process ~8 us of page faults in
/// libc's handler list. (vfork and posix_spawn children share the parent's memory, so what they
/// build is the parent's already.)
pub(crate) fn before_fork() {
    let Some(s) = settings() else {
        return;
    };
    if s.mode == settings::Mode::Disabled {
        return;
    }
    let _scope = arena::enter();
    if let Some(record) = policy::current(&s.policy_path) {
        let _ = record.loaded();
    }
}

/// The variables the settings read (`HOME` and the [`settings::MANAGED`] ones), found in one pass
/// over `environ`: each getenv call walks the whole environment again, and ten of them cost every
/// process ~2,700 instructions more than this pass (callgrind, a 38-variable environment).
struct Environment {
    /// By position in [`Environment::NAMES`].
    values: [Option<&'static [u8]>; Environment::NAMES.len()],
}

impl Environment {
    const NAMES: [&'static [u8]; 1 + settings::MANAGED.len()] = settings::name_table(
        &[b"HOME", b"LD_PRELOAD"],
        &rampart_runtime::settings::ENV_ALL,
    );

    fn read() -> Environment {
        let mut values = [None; Self::NAMES.len()];
        // SAFETY: the constructor runs before main can change the environment; `environ` is null
        // or a NULL-terminated array of C strings, and an entry is read no further than its NUL
        // (a name is compared byte by byte, stopping at the first difference).
        unsafe {
            let mut entry = childenv::environ_ptr();
            while !entry.is_null() && !(*entry).is_null() {
                let text = (*entry).cast::<u8>();
                // Every name starts with H, L or R: most entries are rejected on their first byte.
                if matches!(*text, b'H' | b'L' | b'R') {
                    for (value, name) in values.iter_mut().zip(Self::NAMES) {
                        let same = name.iter().enumerate().all(|(i, &b)| *text.add(i) == b);
                        if same && *text.add(name.len()) == b'=' && value.is_none() {
                            // getenv returns the first entry of a name; so does this.
                            *value = text::c_bytes(text.add(name.len() + 1).cast());
                        }
                    }
                }
                entry = entry.add(1);
            }
        }
        Environment { values }
    }

    /// The same values, copied into one block of the persistent arena.
    fn copied(self) -> Environment {
        let total = self.values.iter().flatten().map(|v| v.len()).sum();
        let mut block = Vec::with_capacity(total);
        for value in self.values.iter().flatten() {
            block.extend_from_slice(value);
        }
        let block: &'static [u8] = block.leak();
        let mut values = [None; Self::NAMES.len()];
        let mut at = 0;
        for (copy, value) in values.iter_mut().zip(self.values) {
            if let Some(v) = value {
                *copy = block.get(at..at + v.len());
                at += v.len();
            }
        }
        Environment { values }
    }

    fn get(&self, name: &str) -> Option<&'static [u8]> {
        // One entry per name, by the types.
        let (_, value) = Self::NAMES
            .iter()
            .zip(&self.values)
            .find(|(n, _)| **n == name.as_bytes())?;
        *value
    }
}

fn home_dir(home: Option<&[u8]>) -> alloc::vec::Vec<u8> {
    if let Some(home) = home.filter(|h| !h.is_empty()) {
        return home.to_vec();
    }
    // SAFETY: getpwuid's result is read before any other call that could overwrite it.
    unsafe {
        let pw = libc::getpwuid(sys::getuid());
        match pw.as_ref().and_then(|pw| text::c_bytes(pw.pw_dir)) {
            Some(dir) => dir.to_vec(),
            None => alloc::vec::Vec::from(&b"/"[..]),
        }
    }
}

/// This library's absolute path (dladdr on one of our own symbols, then realpath: the loader keeps
/// the name as given, and `LD_PRELOAD=./librampart.so` must still work after a child changes
/// directory).
fn own_path() -> Option<alloc::vec::Vec<u8>> {
    let mut info = core::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    let here = constructor as *const () as *const libc::c_void;
    // SAFETY: dladdr writes `info` on success; dli_fname points into the loader's link map, which
    // lives as long as the library.
    unsafe {
        if libc::dladdr(here, info.as_mut_ptr()) == 0 {
            return None;
        }
        let name: *const c_char = info.assume_init().dli_fname;
        if name.is_null() {
            return None;
        }
        if name.read() == b'/' as c_char {
            // Already absolute (the usual case): skip realpath's syscalls.
            return Some(CStr::from_ptr(name).to_bytes().to_vec());
        }
        let mut buf = [0 as c_char; libc::PATH_MAX as usize];
        // SAFETY: realpath writes at most PATH_MAX bytes into `buf` and does not allocate.
        let resolved = libc::realpath(name, buf.as_mut_ptr());
        let path = if resolved.is_null() {
            name
        } else {
            resolved as *const c_char
        };
        Some(CStr::from_ptr(path).to_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_pass_covers_every_name_the_settings_read() {
        let asked = core::cell::RefCell::new(alloc::vec::Vec::new());
        settings::Settings::from_lookup(
            |name: &str| {
                asked.borrow_mut().push(String::from(name));
                None
            },
            1,
            b"/home/u",
            Some(b"/lib/librampart.so"),
        );
        let asked = asked.into_inner();
        assert!(asked.len() >= 9, "{asked:?}");
        for name in asked.iter().map(String::as_str).chain(["HOME"]) {
            let read = Environment::NAMES.contains(&name.as_bytes());
            assert!(read, "{name} is not read by Environment");
        }
    }
}
