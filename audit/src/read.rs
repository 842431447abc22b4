//! Reading the log for people and dashboards: a day's events page by page, the days there are, a
//! day's export, statistics, the last N, search and follow.
//!
//! Readers are not verifiers: they show what is there (a line that does not parse is skipped, a
//! torn last line is not shown) and leave judging the chain to [`crate::verify`]. They open files
//! the same guarded way the writer does, so a planted symlink is refused here too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::chain::{self, Line};
use crate::error::AuditError;
use crate::event::Event;
use crate::layout::{self, LogFile};
use crate::scan::FileContent;
use crate::time::{Date, Timestamp};

/// An event as stored.
#[derive(Clone, Debug)]
pub struct Stored {
    pub event: Event,
    /// The stored JSON, exactly (what an API returns, unchanged).
    pub line: String,
    pub file: String,
    /// 1-based line number.
    pub number: u64,
}

/// Which events to show. Empty fields match everything; `query` matches (case-insensitively) the
/// tool, agent, session, decision message and any string in the request.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub tool: Option<String>,
    pub action: Option<String>,
    pub agent: Option<String>,
    pub session: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub query: Option<String>,
}

impl Filter {
    pub fn matches(&self, e: &Event) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        eq(&self.tool, &e.tool)
            && eq(&self.action, &e.decision.action)
            && eq(&self.agent, &e.agent)
            && eq(&self.session, &e.session)
            && self.since.is_none_or(|t| e.timestamp >= t)
            && self.until.is_none_or(|t| e.timestamp <= t)
            && self.query.as_deref().is_none_or(|q| mentions(e, q))
    }

    /// Whether a file of this date can hold matching events.
    fn may_hold(&self, date: Date) -> bool {
        self.since.is_none_or(|t| date >= t.date()) && self.until.is_none_or(|t| date <= t.date())
    }
}

fn mentions(e: &Event, query: &str) -> bool {
    let q = query.to_lowercase();
    let has = |s: &str| s.to_lowercase().contains(&q);
    has(&e.tool)
        || has(&e.agent)
        || has(&e.session)
        || has(&e.decision.message)
        || e.request.values().any(|v| value_mentions(v, &has))
}

fn value_mentions(v: &serde_json::Value, has: &dyn Fn(&str) -> bool) -> bool {
    match v {
        serde_json::Value::String(s) => has(s),
        serde_json::Value::Array(items) => items.iter().any(|i| value_mentions(i, has)),
        serde_json::Value::Object(m) => m.values().any(|i| value_mentions(i, has)),
        _ => false,
    }
}

/// The log files; none when the directory does not exist yet (nothing was ever recorded).
fn log_files(dir: &Path) -> Result<Vec<LogFile>, AuditError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    layout::log_files(dir)
}

/// The events of one file, oldest first.
fn file_events(dir: &Path, file: LogFile) -> Result<Vec<Stored>, AuditError> {
    let content = FileContent::read(dir, file)?;
    let name = file.name();
    Ok(content
        .lines()
        .filter(|raw| matches!(chain::classify(raw.bytes), Ok(Line::Event(_))))
        .filter_map(|raw| {
            let event = Event::parse(raw.bytes).ok()?;
            Some(Stored {
                event,
                line: String::from_utf8_lossy(raw.bytes).into_owned(),
                file: name.clone(),
                number: raw.number,
            })
        })
        .collect())
}

/// The dates that have log files, newest first.
pub fn dates(dir: &Path) -> Result<Vec<Date>, AuditError> {
    let mut dates: Vec<Date> = log_files(dir)?.into_iter().map(|f| f.date).collect();
    dates.dedup();
    dates.reverse();
    Ok(dates)
}

/// Every event of `date` (all its parts), oldest first.
pub fn day(dir: &Path, date: Date) -> Result<Vec<Stored>, AuditError> {
    let mut out = Vec::new();
    for file in log_files(dir)?.into_iter().filter(|f| f.date == date) {
        out.extend(file_events(dir, file)?);
    }
    Ok(out)
}

/// One page of a day's events, newest first (the server's `/v1/audit/events`).
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    #[serde(skip)]
    pub events: Vec<Stored>,
    /// Matching events in the day's files.
    pub total_in_file: usize,
    /// The offset of the next page, `None` on the last.
    pub next_offset: Option<usize>,
    pub date: String,
}

pub fn page(
    dir: &Path,
    date: Date,
    filter: &Filter,
    offset: usize,
    limit: usize,
) -> Result<Page, AuditError> {
    let mut matching: Vec<Stored> = day(dir, date)?
        .into_iter()
        .filter(|s| filter.matches(&s.event))
        .collect();
    matching.reverse();
    let total = matching.len();
    let events: Vec<Stored> = matching.into_iter().skip(offset).take(limit).collect();
    let end = offset.saturating_add(events.len());
    Ok(Page {
        events,
        total_in_file: total,
        next_offset: (end < total).then_some(end),
        date: date.to_string(),
    })
}

/// A day's files, concatenated as stored (continuation headers included), for download.
pub fn export(dir: &Path, date: Date) -> Result<Vec<u8>, AuditError> {
    let mut out = Vec::new();
    for file in log_files(dir)?.into_iter().filter(|f| f.date == date) {
        out.extend_from_slice(FileContent::read(dir, file)?.complete());
    }
    Ok(out)
}

/// Counts by decision, tool, agent and session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub total_events: u64,
    pub by_action: BTreeMap<String, u64>,
    pub by_tool: BTreeMap<String, u64>,
    pub by_agent: BTreeMap<String, u64>,
    pub by_session: BTreeMap<String, u64>,
}

impl Stats {
    pub fn add(&mut self, e: &Event) {
        self.total_events += 1;
        for (map, key) in [
            (&mut self.by_action, &e.decision.action),
            (&mut self.by_tool, &e.tool),
            (&mut self.by_agent, &e.agent),
            (&mut self.by_session, &e.session),
        ] {
            *map.entry(key.clone()).or_default() += 1;
        }
    }
}

/// Statistics over the matching events.
pub fn stats(dir: &Path, filter: &Filter) -> Result<Stats, AuditError> {
    let mut stats = Stats::default();
    for s in events(dir, filter)? {
        stats.add(&s.event);
    }
    Ok(stats)
}

/// Statistics over the days `from..=to` (the server's `/v1/audit/stats`).
pub fn stats_between(dir: &Path, from: Date, to: Date) -> Result<Stats, AuditError> {
    let filter = Filter {
        since: Some(from.start()),
        until: Some(Timestamp {
            secs: to.next().start().secs - 1,
            nanos: 999_999_999,
        }),
        ..Filter::default()
    };
    stats(dir, &filter)
}

/// Every matching event, oldest first.
pub fn events(dir: &Path, filter: &Filter) -> Result<Vec<Stored>, AuditError> {
    let mut out = Vec::new();
    for file in log_files(dir)? {
        if filter.may_hold(file.date) {
            out.extend(
                file_events(dir, file)?
                    .into_iter()
                    .filter(|s| filter.matches(&s.event)),
            );
        }
    }
    Ok(out)
}

/// The last `n` matching events, oldest first, reading files from the newest back only as far as
/// needed.
pub fn last(dir: &Path, n: usize, filter: &Filter) -> Result<Vec<Stored>, AuditError> {
    let mut out: Vec<Stored> = Vec::new();
    for file in log_files(dir)?.into_iter().rev() {
        if out.len() >= n {
            break;
        }
        if !filter.may_hold(file.date) {
            continue;
        }
        let mut events: Vec<Stored> = file_events(dir, file)?
            .into_iter()
            .filter(|s| filter.matches(&s.event))
            .collect();
        let keep = n - out.len();
        let skip = events.len().saturating_sub(keep);
        events.drain(..skip);
        events.append(&mut out);
        out = events;
    }
    Ok(out)
}

/// Follows the log: each [`Follower::poll`] returns the events appended since the last one,
/// across rotations.
pub struct Follower {
    dir: PathBuf,
    file: Option<LogFile>,
    offset: u64,
    line: u64,
}

impl Follower {
    /// Starts at the current end of the log.
    pub fn at_end(dir: &Path) -> Result<Follower, AuditError> {
        let file = log_files(dir)?.last().copied();
        let (offset, line) = match file {
            Some(f) => {
                let content = FileContent::read(dir, f)?;
                let whole = (content.bytes.len() - content.torn) as u64;
                (whole, content.lines().count() as u64)
            }
            None => (0, 0),
        };
        Ok(Follower {
            dir: dir.to_path_buf(),
            file,
            offset,
            line,
        })
    }

    pub fn poll(&mut self) -> Result<Vec<Stored>, AuditError> {
        let mut out = Vec::new();
        let files = log_files(&self.dir)?;
        let from = self.file;
        for file in files.into_iter().filter(|f| from.is_none_or(|c| *f >= c)) {
            if Some(file) != self.file {
                self.file = Some(file);
                self.offset = 0;
                self.line = 0;
            }
            let content = FileContent::read_from(&self.dir, file, self.offset)?;
            let name = file.name();
            for raw in content.lines() {
                if let (Ok(Line::Event(_)), Ok(event)) =
                    (chain::classify(raw.bytes), Event::parse(raw.bytes))
                {
                    out.push(Stored {
                        event,
                        line: String::from_utf8_lossy(raw.bytes).into_owned(),
                        file: name.clone(),
                        number: self.line + raw.number,
                    });
                }
            }
            self.line += content.lines().count() as u64;
            self.offset += (content.bytes.len() - content.torn) as u64;
        }
        Ok(out)
    }
}
