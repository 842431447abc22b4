//! What deciding code does when its own bookkeeping is wrong: it fails closed, and a test sees it.
//!
//! The threat: a range, an index or a table entry that the code itself computed, and that can only
//! be missing through a bug (a segment range applied to the wrong text, a table shorter than its
//! key space). Written `.get(range).unwrap_or("")`, such a bug is silent: a reading of a command
//! goes missing, no deny rule sees it, and the call is allowed. Written `text[range]`, it panics,
//! and an agent host reads a crashed hook as "allow" (the preload cannot even unwind). Neither is
//! acceptable in a firewall, so the workspace denies indexing, `unwrap`, `expect` and `panic!`
//! outside tests, and a lookup that can only miss through a bug goes through this module:
//!
//! * [`or_closed`]`(value, closed)` gives `value`, or else `closed`: the answer the caller names
//!   as failing closed at that point (a reading kept whole rather than cut, a byte that leaves the
//!   fast path, the slow path instead of a cached one). Never a default that allows more than the
//!   right answer would.
//! * [`checked`]`(value)` gives `value` unchanged, for a caller whose `None` branch is itself the
//!   closed answer (`?` to a caller that then takes the full model, a `let ... else` that raises
//!   the `overflow` flag).
//!
//! Both panic at the caller's line in debug builds (every test, proptest and fuzz run), where a
//! miss is a bug to find; in release builds they cost nothing and the closed answer stands.
//!
//! Not for values that may be absent by design (an optional field, the word after the last one, a
//! delimiter a string lacks): those keep the default their documentation gives.

/// `value`, which the caller's own bookkeeping guarantees is `Some`; `closed` if it is not (in
/// release builds; debug builds panic). `closed` must be an answer that fails closed at the
/// call site: see the [module](self) documentation.
#[inline]
#[track_caller]
pub fn or_closed<T>(value: Option<T>, closed: T) -> T {
    match checked(value) {
        Some(value) => value,
        None => closed,
    }
}

/// `value` unchanged, which the caller's own bookkeeping guarantees is `Some`: debug builds panic
/// when it is `None`. For callers whose handling of `None` is the closed answer.
#[inline]
#[track_caller]
pub fn checked<T>(value: Option<T>) -> Option<T> {
    debug_assert!(
        value.is_some(),
        "broken invariant: a lookup the code computed missed (release builds fail closed here)"
    );
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_values_pass_through() {
        assert_eq!(or_closed(Some("seg"), "whole"), "seg");
        assert_eq!(checked(Some(3)), Some(3));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "broken invariant")]
    fn a_miss_panics_in_debug_builds() {
        let text = "abc";
        or_closed(text.get(2..9), text);
    }
}
