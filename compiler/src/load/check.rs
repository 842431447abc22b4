//! The value checks of upstream's `validate` (reference §1.6), as plain functions on one value.
//!
//! They return the message only; the caller knows the key path and position. Both the strict loader
//! (which stops at the first failure) and lint (which reports every failure) call them, so a pattern
//! that fails to load is always also a lint error with the same words.

use rampart_runtime::invariant::{checked, or_closed};

use crate::model::Action;

/// A glob longer than this is rejected.
pub const MAX_GLOB_LEN: usize = 8192;
/// A glob containing `**` longer than this is rejected (matching `**` backtracks).
pub const MAX_DOUBLESTAR_GLOB_LEN: usize = 256;
/// More `**` than this in one glob is rejected.
pub const MAX_DOUBLESTARS: usize = 2;
/// A response regex longer than this is rejected.
pub const MAX_REGEX_LEN: usize = 500;

const ACTIONS: &str = "allow, deny, ask, watch or webhook";

/// Parses a rule action. The flag says it was written `log`, the deprecated alias of watch.
pub fn rule_action(text: &str) -> Result<(Action, bool), String> {
    let word = text.trim().to_ascii_lowercase();
    if word == "require_approval" {
        return Err("`require_approval` was removed in v0.9.9; use `ask`".to_string());
    }
    if word.is_empty() {
        return Err(format!("missing action; expected {ACTIONS}"));
    }
    match Action::parse(&word) {
        Some(action) => Ok((action, word == "log")),
        None => Err(unknown_action(text)),
    }
}

/// Parses `default_action`: empty is `None` (deny); `webhook` and `require_approval` are errors.
/// A `notify.on` word: deny, watch (alias log) or ask (alias require_approval), any case.
/// `None` for any other word, which upstream loads and never matches.
pub fn notify_on(word: &str) -> Option<Action> {
    match word.trim().to_ascii_lowercase().as_str() {
        "deny" => Some(Action::Deny),
        "watch" | "log" => Some(Action::Watch),
        "ask" | "require_approval" => Some(Action::Ask),
        _ => None,
    }
}

pub fn default_action(text: &str) -> Result<Option<Action>, String> {
    let word = text.trim().to_ascii_lowercase();
    if word.is_empty() {
        return Ok(None);
    }
    if word == "require_approval" {
        return Err("`require_approval` was removed in v0.9.9; use `ask`".to_string());
    }
    match Action::parse(&word) {
        Some(Action::Webhook) | None => {
            let hint = action_hint(text)
                .filter(|a| *a != "webhook")
                .map(|a| format!(" (did you mean `{a}`?)"))
                .unwrap_or_default();
            Err(format!(
                "{text:?} is not a default action; expected allow, deny, ask, watch or log{hint}"
            ))
        }
        Some(action) => Ok(Some(action)),
    }
}

fn unknown_action(text: &str) -> String {
    let hint = action_hint(text)
        .map(|a| format!(" (did you mean `{a}`?)"))
        .unwrap_or_default();
    format!("unknown action {text:?}; expected {ACTIONS}{hint}")
}

/// The action a misspelt or foreign action word most likely meant.
pub fn action_hint(text: &str) -> Option<&'static str> {
    let word = text.trim().to_ascii_lowercase();
    let known = match word.as_str() {
        "block" | "blok" | "denyy" | "reject" | "forbid" => Some("deny"),
        "alow" | "allaw" | "permit" | "accept" => Some("allow"),
        "logging" => Some("log"),
        "approve" | "approval" | "confirm" | "prompt" => Some("ask"),
        _ => None,
    };
    known.or_else(|| closest(&word, &["allow", "deny", "ask", "watch", "webhook", "log"]))
}

/// The candidate within a small edit distance of `word`, if exactly one is closest.
pub fn closest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let limit = (word.len() / 4).clamp(1, 3);
    let mut best: Option<(usize, &'static str)> = None;
    let mut tie = false;
    for &c in candidates {
        let d = edit_distance(word, c);
        match best {
            _ if d > limit => {}
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, c));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment), so that
/// `wacth` is one step from `watch`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    // Every index below is inside its table; were one not, "far": no suggestion, not a wrong one.
    let far = usize::MAX / 2;
    let cell = |d: &[usize], i: usize, j: usize| or_closed(d.get(i * width + j).copied(), far);
    let set = |d: &mut [usize], i: usize, j: usize, value: usize| {
        if let Some(cell) = checked(d.get_mut(i * width + j)) {
            *cell = value;
        }
    };
    let char_at = |s: &[char], k: usize| checked(s.get(k)).copied();
    for i in 0..=a.len() {
        set(&mut d, i, 0, i);
    }
    for j in 0..=b.len() {
        set(&mut d, 0, j, j);
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(char_at(&a, i - 1) != char_at(&b, j - 1));
            let mut best = (cell(&d, i - 1, j) + 1)
                .min(cell(&d, i, j - 1) + 1)
                .min(cell(&d, i - 1, j - 1) + cost);
            let swapped = i > 1
                && j > 1
                && char_at(&a, i - 1) == char_at(&b, j - 2)
                && char_at(&a, i - 2) == char_at(&b, j - 1);
            if swapped {
                best = best.min(cell(&d, i - 2, j - 2) + 1);
            }
            set(&mut d, i, j, best);
        }
    }
    cell(&d, a.len(), b.len())
}

/// Upstream's glob limits. Glob syntax itself is not checked: a malformed class never matches.
///
/// A private copy of the limits the runtime's glob module also states; the loader is the place
/// that rejects a policy, so the numbers live here with their messages.
pub fn glob(pattern: &str) -> Result<(), String> {
    if pattern.len() > MAX_GLOB_LEN {
        return Err(format!(
            "pattern is {} bytes; the limit is {MAX_GLOB_LEN}",
            pattern.len()
        ));
    }
    let stars = pattern.matches("**").count();
    if stars > MAX_DOUBLESTARS {
        return Err(format!(
            "pattern has {stars} `**`; at most {MAX_DOUBLESTARS} are allowed"
        ));
    }
    if stars > 0 && pattern.len() > MAX_DOUBLESTAR_GLOB_LEN {
        return Err(format!(
            "pattern with `**` is {} bytes; the limit is {MAX_DOUBLESTAR_GLOB_LEN}",
            pattern.len()
        ));
    }
    Ok(())
}

/// A `command_contains` entry must say something: an empty one would match every command.
pub fn contains(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(
            "command_contains entry is empty or whitespace; it would match every command"
                .to_string(),
        );
    }
    Ok(())
}

/// Response regexes: length, upstream's nested-quantifier scanner, then RE2-style syntax.
pub fn response_regex(pattern: &str) -> Result<(), String> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(format!(
            "regex is {} bytes; the limit is {MAX_REGEX_LEN}",
            pattern.len()
        ));
    }
    if has_nested_quantifier(pattern) {
        return Err(format!(
            "regex {pattern:?} has a nested quantifier (like `(a+)*`), which can be catastrophically slow"
        ));
    }
    regex_syntax(pattern).map_err(|e| {
        format!(
            "invalid regex {pattern:?}: {}",
            regex_error_line(&e.to_string())
        )
    })
}

/// RE2 reads bytes with ASCII classes (`\w`, `\s`, `(?i)`), which is how the compiler lowers
/// response regexes; a pattern that needs Unicode classes (`\pL`) is tried in Unicode mode.
fn regex_syntax(pattern: &str) -> Result<(), String> {
    use regex_automata::util::syntax::{parse_with, Config};
    match parse_with(pattern, &Config::new().unicode(false).utf8(false)) {
        Ok(_) => Ok(()),
        Err(e) => parse_with(pattern, &Config::new().utf8(false))
            .map(|_| ())
            .map_err(|_| e.to_string()),
    }
}

/// regex-syntax renders the pattern with a caret over several lines; keep the `error:` line.
fn regex_error_line(rendered: &str) -> String {
    rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(rendered.lines().last().unwrap_or(rendered))
        .to_string()
}

/// True when a group that contains a repetition is itself repeated: `(a+)*`, `(a*){2}`, `(?:x+)+`.
///
/// A scanner, not a parser: it tracks group nesting, skips escapes and character classes, and asks
/// for each closing `)` whether a `*`, `+` or `{` follows and the group held one of those inside.
pub fn has_nested_quantifier(pattern: &str) -> bool {
    let bytes = pattern.as_bytes();
    // For each open group: whether a quantifier has been seen inside it.
    let mut groups: Vec<bool> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 1,
            b'[' => i = skip_class(bytes, i),
            b'(' => groups.push(false),
            b')' => {
                let inner = groups.pop().unwrap_or(false);
                let repeated = is_repeat(bytes.get(i + 1).copied());
                if inner && repeated {
                    return true;
                }
                if let Some(outer) = groups.last_mut() {
                    *outer |= inner || repeated;
                }
            }
            _ if is_repeat(Some(b)) => {
                if let Some(g) = groups.last_mut() {
                    *g = true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

fn is_repeat(b: Option<u8>) -> bool {
    matches!(b, Some(b'*' | b'+' | b'{'))
}

/// The index of the `]` closing the class that opens at `start` (or the end of the pattern).
fn skip_class(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    if bytes.get(i) == Some(&b'^') {
        i += 1;
    }
    if bytes.get(i) == Some(&b']') {
        i += 1;
    }
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 1,
            b']' => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// `call_count.gte` must be 0..=1000.
pub fn call_count_gte(gte: i64) -> Result<u32, String> {
    u32::try_from(gte)
        .ok()
        .filter(|g| *g <= 1000)
        .ok_or_else(|| format!("must be between 0 and 1000, found {gte}"))
}

/// `call_count.window`: a Go duration, more than zero and at most 720h (30 days). Sub-second
/// windows are rounded up to whole seconds, the unit the runtime counts in.
pub fn call_count_window(text: &str) -> Result<u64, String> {
    const MAX_NANOS: i128 = 720 * 3600 * 1_000_000_000;
    if text.trim().is_empty() {
        return Err("call_count needs a `window` (a duration like \"1h\" or \"30m\")".into());
    }
    let nanos = super::time::go_duration(text).map_err(|e| format!("{text:?}: {e}"))?;
    if nanos <= 0 || nanos > MAX_NANOS {
        return Err(format!(
            "window {text:?} must be more than 0 and at most 720h (30 days)"
        ));
    }
    let secs = (nanos + 999_999_999) / 1_000_000_000;
    u64::try_from(secs).map_err(|_| format!("window {text:?} is out of range"))
}

/// `webhook.timeout` in milliseconds: absent or non-positive is 5 s, anything above 30 s is 30 s.
pub fn webhook_timeout_ms(text: &str) -> Result<u64, String> {
    const DEFAULT_MS: u64 = 5_000;
    const MAX_MS: u64 = 30_000;
    if text.trim().is_empty() {
        return Ok(DEFAULT_MS);
    }
    let nanos = super::time::go_duration(text).map_err(|e| format!("{text:?}: {e}"))?;
    if nanos <= 0 {
        return Ok(DEFAULT_MS);
    }
    let ms = u64::try_from((nanos + 999_999) / 1_000_000).unwrap_or(MAX_MS);
    Ok(ms.min(MAX_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_quantifiers_are_found() {
        for bad in [
            "(a+)*",
            "(a*){2}",
            "(?:x+)+",
            "((ab)+)+",
            "(a|b+)*",
            "x(\\d+)+y",
        ] {
            assert!(has_nested_quantifier(bad), "{bad}");
        }
        for good in [
            "(ab)*",
            "a+b*",
            "(a)+",
            "[(+)]*",
            "\\(a+\\)*",
            "(a+)",
            "(a+)?",
            "[)+]+(a)*",
        ] {
            assert!(!has_nested_quantifier(good), "{good}");
        }
    }

    #[test]
    fn glob_limits() {
        assert!(glob(&"a".repeat(MAX_GLOB_LEN)).is_ok());
        assert!(glob(&"a".repeat(MAX_GLOB_LEN + 1)).is_err());
        assert!(glob("/**/x/**").is_ok());
        assert!(glob("/**/x/**/y/**").is_err());
        assert!(glob(&format!("**{}", "a".repeat(255))).is_err());
        assert!(glob(&format!("**{}", "a".repeat(254))).is_ok());
    }

    #[test]
    fn action_words() {
        assert_eq!(rule_action("DENY"), Ok((Action::Deny, false)));
        assert_eq!(rule_action("log"), Ok((Action::Watch, true)));
        assert!(rule_action("require_approval")
            .unwrap_err()
            .contains("v0.9.9"));
        assert!(rule_action("block").unwrap_err().contains("`deny`"));
        assert!(rule_action("alow").unwrap_err().contains("`allow`"));
        assert!(rule_action("approval").unwrap_err().contains("`ask`"));
        assert!(rule_action("wacth").unwrap_err().contains("`watch`"));
        assert_eq!(default_action(" "), Ok(None));
        assert_eq!(default_action("Allow"), Ok(Some(Action::Allow)));
        assert!(default_action("webhook").is_err());
        assert!(default_action("require_approval").is_err());
    }

    #[test]
    fn windows_and_timeouts() {
        assert_eq!(call_count_window("1h30m"), Ok(5400));
        assert_eq!(call_count_window("500ms"), Ok(1));
        assert_eq!(call_count_window("720h"), Ok(720 * 3600));
        assert!(call_count_window("721h").is_err());
        assert!(call_count_window("0s").is_err());
        assert!(call_count_window("-1m").is_err());
        assert!(call_count_window("1 hour").is_err());
        assert_eq!(webhook_timeout_ms(""), Ok(5000));
        assert_eq!(webhook_timeout_ms("2s"), Ok(2000));
        assert_eq!(webhook_timeout_ms("1m"), Ok(30000));
        assert_eq!(call_count_gte(1000), Ok(1000));
        assert!(call_count_gte(1001).is_err());
        assert!(call_count_gte(-1).is_err());
    }

    #[test]
    fn regexes() {
        assert!(response_regex("AKIA[0-9A-Z]{16}").is_ok());
        assert!(response_regex("(a").unwrap_err().contains("unclosed group"));
        assert!(response_regex(&"a".repeat(501)).is_err());
        // Upstream's standard profile: case-insensitive ASCII classes must be accepted.
        assert!(response_regex("(?i)aws_secret_access_key\\s*[=:]\\s*[A-Za-z0-9/+]{40}").is_ok());
        assert!(response_regex("\\bgh[pousr]_[A-Za-z0-9]{36}\\b").is_ok());
        assert!(
            response_regex("a\\1").is_err(),
            "back-references are not RE2"
        );
    }
}
