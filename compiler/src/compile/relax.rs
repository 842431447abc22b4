//! Response regexes: read with RE2's semantics, and made small enough for a DFA.
//!
//! Upstream matches `response_matches` with Go's RE2 over the tool's output. A DFA holds the same
//! language only if the regex means the same here (byte-oriented, ASCII classes) and if it stays
//! buildable: every counted repetition is a counter the DFA unrolls, so `[^\n]{0,200}` alone is
//! hundreds of states, and a few of them in one pattern blow up the subset construction.

use regex_automata::util::syntax;

use crate::error::Error;
use crate::model::Located;

/// The largest upper bound of a counted repetition kept as written in a positive pattern.
const MAX_BOUND: u32 = 16;

/// RE2 semantics on bytes: ASCII `\w \d \s \b` as in Go, `.` not matching newline. A pattern that
/// needs Unicode classes (`\pL`) is compiled in Unicode mode instead.
pub(super) fn response_regex(re: &Located<String>) -> Result<String, Error> {
    let ascii = syntax::Config::new().unicode(false).utf8(false);
    if syntax::parse_with(&re.value, &ascii).is_ok() {
        return Ok(re.value.clone());
    }
    let unicode = syntax::Config::new().utf8(false);
    match syntax::parse_with(&re.value, &unicode) {
        Ok(_) => Ok(format!("(?u:{})", re.value)),
        Err(e) => Err(Error::at(
            re.pos.clone(),
            format!("invalid response regex: {e}"),
        )),
    }
}

/// Widens counted repetitions with a large upper bound (`[^\n]{0,200}` -> `[^\n]{0,}`): a DFA
/// must count every bound, and 200 nested counters blow up. For a positive response pattern the
/// wider language only adds matches (the deny side), so it can be relaxed; exclusions never are.
pub(super) fn relax_counts(re: &str) -> String {
    let mut out = String::with_capacity(re.len());
    let (mut escaped, mut class) = (false, 0usize);
    let mut rest = re;
    loop {
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return out;
        };
        rest = chars.as_str();
        if !escaped && class == 0 && c == '{' {
            if let Some(count) = counted(rest) {
                match count.max {
                    Some(max) if max > MAX_BOUND => out.push_str(&format!("{{{},}}", count.min)),
                    _ => {
                        out.push('{');
                        out.push_str(count.body);
                        out.push('}');
                    }
                }
                rest = count.rest;
                continue;
            }
        }
        match c {
            '\\' if !escaped => escaped = true,
            '[' if !escaped => {
                class += 1;
                escaped = false;
            }
            ']' if !escaped && class > 0 => class -= 1,
            _ => escaped = false,
        }
        out.push(c);
    }
}

/// A counted repetition, read from the text after its `{`.
#[derive(Debug, PartialEq, Eq)]
struct Counted<'a> {
    min: u32,
    /// `None` for `{m,}`.
    max: Option<u32>,
    /// What stands between the braces.
    body: &'a str,
    /// The text after the closing brace.
    rest: &'a str,
}

/// Parses `m,n}`, `m,}` or `m}`; anything else is not a counted repetition (a literal brace).
fn counted(s: &str) -> Option<Counted<'_>> {
    let (body, rest) = s.split_once('}')?;
    let (min, max) = match body.split_once(',') {
        Some((a, "")) => (a.parse().ok()?, None),
        Some((a, b)) => (a.parse().ok()?, Some(b.parse().ok()?)),
        None => {
            let n = body.parse().ok()?;
            (n, Some(n))
        }
    };
    Some(Counted {
        min,
        max,
        body,
        rest,
    })
}

/// A counted repetition with a large minimum (`[A-Za-z0-9]{32,}`) restarts a counter at every
/// position of an unanchored search; such patterns go straight to the anchored fallback.
pub(super) fn needs_anchored(re: &str) -> bool {
    re.match_indices('{')
        .filter_map(|(i, _)| re.get(i + 1..))
        .filter_map(counted)
        .any(|c| c.min >= 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxes_only_large_upper_bounds() {
        let cases = [
            (r"a[^\n]{0,200}b", r"a[^\n]{0,}b"),
            (r"x{2,5}", r"x{2,5}"),
            (r"x{3}", r"x{3}"),
            (r"k{32,}", r"k{32,}"),
            (r"\{0,200}", r"\{0,200}"),
            (r"[{]{1,99}", r"[{]{1,}"),
            (r"é{0,99}ü{x}", r"é{0,}ü{x}"),
        ];
        for (input, want) in cases {
            assert_eq!(relax_counts(input), want, "{input}");
        }
        assert!(needs_anchored(r"sk-[A-Za-z0-9_-]{32,}"));
        assert!(!needs_anchored(r"AKIA[0-9A-Z]{4}"));
    }
}
