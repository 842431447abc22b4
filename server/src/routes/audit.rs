//! The audit routes (reference §3.7): a day's events newest first, the days there are, a day's
//! export, statistics over at most 366 days. Read with `rampart_audit::read`, which opens files
//! as guardedly as the writer.

use rampart_audit::read::{self, Filter};
use rampart_audit::{Date, Timestamp};
use serde_json::{json, Value};

use crate::http::{Exchange, Reply};
use crate::State;

/// The most events one page holds.
pub const MAX_LIMIT: usize = 500;
/// The longest statistics range, in days.
pub const MAX_DAYS: i64 = 366;

pub fn route(state: &State, ex: &mut Exchange, what: &str) -> Reply {
    let dir = state.config.audit_dir();
    match what {
        "events" => events(ex, &dir),
        "dates" => match read::dates(&dir) {
            Ok(dates) => Reply::json(
                200,
                &json!({"dates": dates.iter().map(ToString::to_string).collect::<Vec<_>>(), "configured": true}),
            ),
            Err(e) => Reply::error(500, e.to_string()),
        },
        "export" => export(ex, &dir),
        _ => stats(ex, &dir),
    }
}

fn date(ex: &Exchange, key: &str) -> Result<Date, Reply> {
    match ex.query(key) {
        None | Some("") => Ok(Timestamp::now().date()),
        Some(text) => Date::parse(text)
            .ok_or_else(|| Reply::error(400, format!("invalid {key} {text:?}: use YYYY-MM-DD"))),
    }
}

fn number(ex: &Exchange, key: &str, default: usize) -> Result<usize, Reply> {
    match ex.query(key) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| Reply::error(400, format!("invalid {key} {text:?}: not a number"))),
    }
}

fn events(ex: &Exchange, dir: &std::path::Path) -> Reply {
    let parsed = (|| {
        Ok::<_, Reply>((
            date(ex, "date")?,
            number(ex, "limit", 50)?,
            number(ex, "offset", 0)?,
        ))
    })();
    let (date, limit, offset) = match parsed {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let some = |k: &str| ex.query(k).filter(|v| !v.is_empty()).map(str::to_string);
    let filter = Filter {
        tool: some("tool"),
        action: some("action"),
        agent: some("agent"),
        session: some("session"),
        ..Filter::default()
    };
    match read::page(dir, date, &filter, offset, limit.clamp(1, MAX_LIMIT)) {
        Ok(page) => {
            let events: Vec<Value> = page
                .events
                .iter()
                .filter_map(|s| serde_json::from_str(&s.line).ok())
                .collect();
            Reply::json(
                200,
                &json!({"events": events, "total_in_file": page.total_in_file,
                        "next_offset": page.next_offset, "date": page.date}),
            )
        }
        Err(e) => Reply::error(500, e.to_string()),
    }
}

fn export(ex: &Exchange, dir: &std::path::Path) -> Reply {
    let date = match date(ex, "date") {
        Ok(d) => d,
        Err(reply) => return reply,
    };
    match read::export(dir, date) {
        Ok(bytes) => Reply {
            status: 200,
            content_type: "application/jsonl",
            headers: vec![(
                "Content-Disposition",
                format!("attachment; filename=\"rampart-audit-{date}.jsonl\""),
            )],
            body: bytes,
        },
        Err(e) => Reply::error(500, e.to_string()),
    }
}

fn stats(ex: &Exchange, dir: &std::path::Path) -> Reply {
    let range = (|| Ok::<_, Reply>((date(ex, "from")?, date(ex, "to")?)))();
    let (from, to) = match range {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    if to.days() < from.days() {
        return Reply::error(400, "invalid range: from is after to");
    }
    if to.days() - from.days() >= MAX_DAYS {
        return Reply::error(400, format!("invalid range: at most {MAX_DAYS} days"));
    }
    match read::stats_between(dir, from, to) {
        Ok(stats) => Reply::json(200, &json!(stats)),
        Err(e) => Reply::error(500, e.to_string()),
    }
}
