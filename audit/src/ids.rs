//! Event ids: ULIDs, as upstream's are.
//!
//! A ULID is 48 bits of milliseconds and 80 random bits, so ids sort by time and never collide in
//! practice. Within one process, ids of the same millisecond count up from one random start
//! (ULID's monotonic mode), so a burst from one writer still sorts in write order. The random
//! start comes from the kernel (`getrandom`), once per process and then once per millisecond from
//! a generator seeded by it: a syscall per record would be a measurable share of a hook.

use std::sync::Mutex;

use ulid::Ulid;

use rampart_runtime::invariant::checked;

/// Fills `buf` from the kernel's CSPRNG.
pub fn random_bytes(buf: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = checked(buf.get_mut(filled..)) else {
            return Err(std::io::Error::other(
                "random bytes: filled past the buffer",
            ));
        };
        // SAFETY: `rest` is writable for its whole length.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        filled += usize::try_from(n).unwrap_or(0);
    }
    Ok(())
}

struct Generator {
    last: Option<Ulid>,
    state: u64,
}

static GENERATOR: Mutex<Generator> = Mutex::new(Generator {
    last: None,
    state: 0,
});

impl Generator {
    /// splitmix64: a fast, well-mixed stream from a kernel-random seed.
    fn next_u64(&mut self) -> u64 {
        if self.state == 0 {
            let mut seed = [0u8; 8];
            // A failed getrandom leaves a time-based seed; ids stay unique through monotonicity.
            if random_bytes(&mut seed).is_err() {
                seed = crate::time::Timestamp::now().unix_ms().to_le_bytes();
            }
            self.state = u64::from_le_bytes(seed) | 1;
        }
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A new id for an event at `ms` milliseconds since the epoch; strictly greater than every id this
/// process made before.
pub fn new_id(ms: u64) -> String {
    let mut g = GENERATOR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let random =
        (u128::from(g.next_u64()) << 16 | u128::from(g.next_u64() & 0xffff)) & ((1 << 80) - 1);
    let candidate = Ulid::from_parts(ms, random);
    let id = match g.last {
        Some(last) if candidate <= last => last.increment().unwrap_or(candidate),
        _ => candidate,
    };
    g.last = Some(id);
    id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ulids_that_increase() {
        let a = new_id(1_700_000_000_000);
        let b = new_id(1_700_000_000_000);
        let c = new_id(1_600_000_000_000);
        assert_eq!(a.len(), 26);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert!(Ulid::from_string(&a).is_ok());
    }
}
