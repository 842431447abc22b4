//! One-line messages on stderr, written with a single write(2): no stdio, no locks, vfork-safe.

use alloc::vec::Vec;

use crate::sys;

/// Writes `rampart: <parts...>\n` to stderr in one write.
pub fn line(parts: &[&[u8]]) {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(b"rampart: ");
    for part in parts {
        buf.extend_from_slice(part);
    }
    buf.push(b'\n');
    // SAFETY: writing our own buffer to fd 2; a failed write has nowhere better to go.
    unsafe { sys::write(2, buf.as_ptr().cast(), buf.len()) };
}
