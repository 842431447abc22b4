//! UTC instants as the log writes them: Go's RFC 3339 with nanoseconds, and the day a file is
//! named after.
//!
//! Why our own: the hash covers the timestamp's exact text (`2026-01-02T03:04:05.000006Z`: UTC,
//! trailing zeros trimmed, no dot for a whole second), a day file's name is its UTC date, and both
//! need only the proleptic Gregorian calendar, which is a few lines of integer arithmetic.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use rampart_runtime::calendar::{civil_from_days, days_from_civil};

/// A UTC instant with nanosecond precision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second, below 1e9.
    pub nanos: u32,
}

/// A UTC calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i64,
    pub month: u32,
    pub day: u32,
}

impl Timestamp {
    /// The current time (a clock before 1970 reads as the epoch).
    pub fn now() -> Timestamp {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            secs: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            nanos: since.subsec_nanos(),
        }
    }

    pub fn from_unix_ms(ms: u64) -> Timestamp {
        Timestamp {
            secs: i64::try_from(ms / 1000).unwrap_or(i64::MAX),
            nanos: u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000,
        }
    }

    /// Milliseconds since the epoch, as a ULID carries them (0 before the epoch).
    pub fn unix_ms(self) -> u64 {
        u64::try_from(self.secs)
            .unwrap_or(0)
            .saturating_mul(1000)
            .saturating_add(u64::from(self.nanos / 1_000_000))
    }

    /// Seconds since the epoch as a float, for durations between events.
    pub fn as_secs_f64(self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }

    pub fn date(self) -> Date {
        Date::from_days(self.secs.div_euclid(86_400))
    }

    /// Go's `time.RFC3339Nano` in UTC: `2006-01-02T15:04:05.999999999Z`.
    pub fn rfc3339_nano(self) -> String {
        let secs_of_day = self.secs.rem_euclid(86_400);
        let mut text = String::with_capacity(30);
        self.date().push_iso(&mut text);
        text.push('T');
        push_digits(&mut text, secs_of_day / 3600, 2);
        text.push(':');
        push_digits(&mut text, (secs_of_day % 3600) / 60, 2);
        text.push(':');
        push_digits(&mut text, secs_of_day % 60, 2);
        if self.nanos > 0 {
            let mut frac = String::with_capacity(9);
            push_digits(&mut frac, i64::from(self.nanos), 9);
            text.push('.');
            text.push_str(frac.trim_end_matches('0'));
        }
        text.push('Z');
        text
    }

    /// Parses RFC 3339 (`Z` or a `±hh:mm` offset, any number of fraction digits up to nine).
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let date = Date::parse(text.get(..10)?)?;
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
            return None;
        }
        let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if b.get(16) != Some(&b':') || h > 23 || m > 59 || s > 60 {
            return None;
        }
        let mut rest = text.get(19..)?;
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            let padded = format!("{:0<9}", frac.get(..digits)?);
            nanos = padded.parse().ok()?;
            rest = frac.get(digits..)?;
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return None,
                };
                if rest.len() != 6 || rest.as_bytes().get(3) != Some(&b':') {
                    return None;
                }
                let oh: i64 = rest.get(1..3)?.parse().ok()?;
                let om: i64 = rest.get(4..6)?.parse().ok()?;
                sign * (oh * 3600 + om * 60)
            }
        };
        let secs = date.days() * 86_400 + h * 3600 + m * 60 + s.min(59) - offset;
        Some(Timestamp { secs, nanos })
    }
}

/// Appends `n` (non-negative) in decimal, zero-padded to `width` digits.
pub fn push_digits(out: &mut String, n: i64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut at = buf.len();
    let mut v = n.unsigned_abs();
    while v > 0 || at + width > buf.len() {
        at -= 1;
        if let Some(slot) = buf.get_mut(at) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if at == 0 {
            break;
        }
    }
    out.extend(buf.iter().skip(at).map(|&d| char::from(d)));
}

impl Date {
    /// Appends `YYYY-MM-DD`.
    pub fn push_iso(&self, out: &mut String) {
        push_digits(out, self.year, 4);
        out.push('-');
        push_digits(out, i64::from(self.month), 2);
        out.push('-');
        push_digits(out, i64::from(self.day), 2);
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let (year, month, day) = civil_from_days(days);
        Date {
            year,
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        days_from_civil(self.year, i64::from(self.month), i64::from(self.day))
    }

    /// Parses `YYYY-MM-DD` (a real calendar date).
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = text.get(r)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let date = Date {
            year: i64::from(digits(0..4)?),
            month: digits(5..7)?,
            day: digits(8..10)?,
        };
        (Date::from_days(date.days()) == date).then_some(date)
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> Timestamp {
        Timestamp {
            secs: self.days() * 86_400,
            nanos: 0,
        }
    }

    pub fn next(self) -> Date {
        Date::from_days(self.days() + 1)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.year < 0 {
            return write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day);
        }
        let mut text = String::with_capacity(10);
        self.push_iso(&mut text);
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_nano_trims_trailing_zeros() {
        let t = Timestamp::parse_rfc3339("2026-01-02T03:04:05.000006Z");
        assert_eq!(
            t.map(Timestamp::rfc3339_nano).as_deref(),
            Some("2026-01-02T03:04:05.000006Z")
        );
        let whole = Timestamp {
            secs: 1_767_323_045,
            nanos: 0,
        };
        assert_eq!(whole.rfc3339_nano(), "2026-01-02T03:04:05Z");
        let half = Timestamp {
            secs: 0,
            nanos: 500_000_000,
        };
        assert_eq!(half.rfc3339_nano(), "1970-01-01T00:00:00.5Z");
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let t = Timestamp::parse_rfc3339("2026-01-02T05:04:05.1+02:00");
        assert_eq!(
            t.map(Timestamp::rfc3339_nano).as_deref(),
            Some("2026-01-02T03:04:05.1Z")
        );
        assert_eq!(Timestamp::parse_rfc3339("2026-13-02T05:04:05Z"), None);
        assert_eq!(Timestamp::parse_rfc3339("2026-01-02T05:04:05"), None);
    }

    #[test]
    fn dates_round_trip_through_days() {
        for days in [-800_000, -1, 0, 59, 60, 365, 11_016, 20_454, 2_932_896] {
            let d = Date::from_days(days);
            assert_eq!(d.days(), days);
            assert_eq!(
                Date::parse(&d.to_string()),
                Some(d).filter(|d| d.year >= 0 && d.year <= 9999)
            );
        }
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(Date::parse("2023-02-29"), None);
    }
}
