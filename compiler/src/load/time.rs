//! The two time formats policies use, parsed by hand: Go durations (`window: 1h30m`, `timeout: 5s`)
//! and RFC 3339 timestamps (`expires_at`).
//!
//! Both are small, fully specified grammars; a date crate would be a dependency for forty lines.

use rampart_runtime::calendar::{civil_from_days, days_from_civil};

/// Parses a Go duration (`time.ParseDuration`): an optional sign, then one or more decimal numbers
/// each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), like `1h30m` or `1.5s`. A lone `0` is
/// zero. Returns nanoseconds.
pub fn go_duration(text: &str) -> Result<i128, String> {
    const INVALID: &str =
        "not a duration (use a number and a unit: ns, us, ms, s, m, h; like \"1h30m\")";
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(INVALID.to_string());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let (value, after) = number(rest).ok_or(INVALID)?;
        let (unit, after) = unit(after).ok_or(INVALID)?;
        total = total
            .checked_add(value.scale(unit))
            .filter(|t| *t <= i128::from(i64::MAX))
            .ok_or("duration is too large")?;
        rest = after;
    }
    Ok(if negative { -total } else { total })
}

/// A decimal number split into its integer part and fraction digits.
struct Decimal<'a> {
    whole: i128,
    fraction: &'a str,
}

impl Decimal<'_> {
    fn scale(&self, unit: i128) -> i128 {
        let mut result = self.whole.saturating_mul(unit);
        let mut place = unit;
        for digit in self.fraction.bytes() {
            place /= 10;
            result = result.saturating_add(i128::from(digit - b'0') * place);
        }
        result
    }
}

fn number(text: &str) -> Option<(Decimal<'_>, &str)> {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let whole_len = digits(text);
    let whole_text = text.get(..whole_len)?;
    let mut rest = text.get(whole_len..)?;
    let mut fraction = "";
    if let Some(after_dot) = rest.strip_prefix('.') {
        let n = digits(after_dot);
        fraction = after_dot.get(..n)?;
        rest = after_dot.get(n..)?;
    }
    if whole_text.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole = if whole_text.is_empty() {
        0
    } else {
        whole_text
            .parse::<i128>()
            .ok()
            .filter(|w| *w <= i128::from(i64::MAX))?
    };
    Some((Decimal { whole, fraction }, rest))
}

fn unit(text: &str) -> Option<(i128, &str)> {
    const UNITS: [(&str, i128); 8] = [
        ("ns", 1),
        ("us", 1_000),
        ("µs", 1_000),
        ("μs", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ];
    UNITS
        .iter()
        .find_map(|&(name, nanos)| text.strip_prefix(name).map(|rest| (nanos, rest)))
}

/// Parses an RFC 3339 timestamp (`2026-03-01T00:00:00Z`, `2026-03-01T09:30:00.5+02:00`) to seconds
/// since the Unix epoch. Fractions of a second are dropped.
pub fn rfc3339(text: &str) -> Result<i64, String> {
    let invalid = || format!("{text:?} is not an RFC 3339 timestamp like \"2026-03-01T00:00:00Z\"");
    let b = text.trim().as_bytes();
    let field = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().all(u8::is_ascii_digit).then_some(())?;
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    let shape = sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":");
    let parts = (
        field(0, 4),
        field(5, 2),
        field(8, 2),
        field(11, 2),
        field(14, 2),
        field(17, 2),
    );
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = parts else {
        return Err(invalid());
    };
    if !shape || !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return Err(invalid());
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(invalid());
    }
    let mut rest = b.get(19..).unwrap_or_default();
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(invalid());
        }
        rest = frac.get(n..).unwrap_or_default();
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digit = |c: &u8| c.is_ascii_digit().then(|| i64::from(c - b'0'));
            let (Some(h1), Some(h2), Some(m1), Some(m2)) =
                (digit(h1), digit(h2), digit(m1), digit(m2))
            else {
                return Err(invalid());
            };
            let (h, m) = (h1 * 10 + h2, m1 * 10 + m2);
            if h > 23 || m > 59 {
                return Err(invalid());
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return Err(invalid()),
    };
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats seconds since the Unix epoch as RFC 3339 in UTC (`2026-03-01T00:00:00Z`).
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formatted_timestamps_read_back() {
        for t in [0, 951_782_400, 1_772_323_200, 1_772_356_199, 4_102_444_799] {
            assert_eq!(super::rfc3339(&super::format_rfc3339(t)), Ok(t), "{t}");
        }
        assert_eq!(super::format_rfc3339(1_772_323_200), "2026-03-01T00:00:00Z");
    }

    use super::*;

    #[test]
    fn go_durations() {
        let s = 1_000_000_000i128;
        for (text, nanos) in [
            ("1h", 3600 * s),
            ("30m", 1800 * s),
            ("1h30m", 5400 * s),
            ("500ms", s / 2),
            ("1.5s", 3 * s / 2),
            (".5s", s / 2),
            ("2us", 2000),
            ("2µs", 2000),
            ("7ns", 7),
            ("0", 0),
            ("-1m", -60 * s),
            ("+1m", 60 * s),
        ] {
            assert_eq!(go_duration(text), Ok(nanos), "{text}");
        }
        for bad in ["", "1", "h", "1d", "1 h", "1h 30m", ".s", "-", "1hh"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
        assert!(go_duration("3000000h").is_err());
    }

    #[test]
    fn rfc3339_timestamps() {
        for (text, secs) in [
            ("1970-01-01T00:00:00Z", 0),
            ("2026-03-01T00:00:00Z", 1_772_323_200),
            ("2024-02-29T12:00:00Z", 1_709_208_000),
            ("2026-03-01T02:00:00+02:00", 1_772_323_200),
            ("2026-02-28T22:00:00.123-02:00", 1_772_323_200),
            ("2026-03-01t00:00:00z", 1_772_323_200),
            ("1969-12-31T23:59:59Z", -1),
        ] {
            assert_eq!(rfc3339(text), Ok(secs), "{text}");
        }
        for bad in [
            "2026-03-01",
            "2026-03-01 00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-03-01T24:00:00Z",
            "2026-03-01T00:00:00",
            "2026-03-01T00:00:00+0200",
            "2026-03-01T00:00:00.Z",
            "tomorrow",
        ] {
            assert!(rfc3339(bad).is_err(), "{bad}");
        }
    }
}
