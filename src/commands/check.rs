//! `rampart check`: JSON calls on stdin, one per line; one JSON decision per line on stdout.
//!
//! Made for scripts and benchmarks: the bundle is opened once and every line is decided against
//! it, as a preview (nothing counted or claimed). With `--enforce`, each line is decided as an
//! enforcing surface decides it: against the policy in force at that moment (a `rampart allow`
//! between two lines applies to the second), its call counted first when the policy counts
//! calls, and a single-use rule that wins claimed (or the call decided again when another
//! process claimed it first). A `response` field decides the call's response phase.
//! Each line stands on its own: a line that is not UTF-8, not JSON, not a valid call, or
//! longer than [`MAX_LINE`] gets a fail-closed `deny` with the reason, and reading goes on, so
//! one bad call never costs the calls after it their decisions. Blank lines are skipped.

use crate::bundle;
use crate::decide::{context, decide_value, decision_json, Decider};
use crate::source::{user_home, PolicySource};
use rampart_compiler::sources::counts::{counts_path, record_call};
use rampart_compiler::sources::decide_enforced;
use rampart_compiler::sources::user_rules::suggestions;
use rampart_runtime::counter::{CallCounter, CounterError};
use rampart_runtime::eval::{Action, Decision, EvalContext, MSG_COUNTER_FAILED};
use rampart_runtime::json::call_from_json;
use serde_json::{json, Value};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The longest line decided: the policy server's limit on a request body (upstream's 1 MiB).
pub const MAX_LINE: usize = 1 << 20;

#[derive(clap::Args)]
pub struct Args {
    /// Decide as an enforcing surface: count calls, claim single-use rules.
    #[arg(long)]
    pub enforce: bool,
}

/// How lines are decided.
enum Mode<'a> {
    /// Boxed: an evaluator keeps its field tables inline (most of a kilobyte).
    Preview(Box<Decider<'a>>),
    Enforce(PolicySource),
}

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let source = crate::source::discover(config);
    let loaded = bundle::load(&source)?;
    let decider = if args.enforce {
        Mode::Enforce(source)
    } else {
        Mode::Preview(Box::new(Decider::new(&loaded)?))
    };
    let mut input = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        let read = read_line(&mut input, &mut line).map_err(|e| format!("reading stdin: {e}"))?;
        number += 1;
        let reply = match read {
            Line::End => break,
            Line::TooLong => fail_closed(number, &format!("longer than {MAX_LINE} bytes")),
            Line::Whole => match reply(&decider, &line, number) {
                Some(reply) => reply,
                None => continue,
            },
        };
        serde_json::to_writer(&mut out, &reply).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A line (without its `\n` or `\r\n`) is in the buffer.
    Whole,
    /// A line over [`MAX_LINE`] bytes was read to its end and dropped.
    TooLong,
    /// No more input.
    End,
}

/// Reads the next line into `line`, never holding more than [`MAX_LINE`] bytes of it.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Line> {
    line.clear();
    let mut too_long = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Whole,
            });
        }
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (chunk.get(..at).unwrap_or(chunk), Some(at + 1)),
            None => (chunk, None),
        };
        if !too_long && line.len() + part.len() <= MAX_LINE {
            line.extend_from_slice(part);
        } else {
            too_long = true;
            line.clear();
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(if too_long { Line::TooLong } else { Line::Whole });
        }
    }
}

/// The reply to line `number`, or `None` for a blank line.
fn reply(decider: &Mode<'_>, line: &[u8], number: usize) -> Option<Value> {
    let text = match std::str::from_utf8(line) {
        Ok(text) if text.trim().is_empty() => return None,
        Ok(text) => text,
        Err(e) => {
            let column = e.valid_up_to() + 1;
            let reason = format!("not valid UTF-8 (invalid byte at column {column})");
            return Some(fail_closed(number, &reason));
        }
    };
    Some(decide(decider, text).unwrap_or_else(|e| fail_closed(number, &e)))
}

fn decide(decider: &Mode<'_>, text: &str) -> Result<Value, String> {
    let call: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let decision = match decider {
        Mode::Preview(decider) => decider.decide_json(&call)?,
        Mode::Enforce(source) => enforced(source, &call)?,
    };
    let mut reply = decision_json(&decision);
    let parsed = call_from_json(&call).map_err(|e| e.to_string())?;
    let suggestions = suggestions(&parsed, &decision);
    if let (false, Some(obj)) = (suggestions.is_empty(), reply.as_object_mut()) {
        obj.insert("suggestions".into(), json!(suggestions));
    }
    Ok(reply)
}

/// One call decided as an enforcing surface decides it.
fn enforced(source: &PolicySource, call: &Value) -> Result<Decision, String> {
    let ctx = context();
    let tool = call.get("tool").and_then(Value::as_str).unwrap_or_default();
    let counts = {
        let in_force = source.open().map_err(|e| e.to_string())?;
        let evaluator = in_force.evaluator().map_err(|e| e.to_string())?;
        let counts_calls = evaluator
            .program()
            .policies()
            .any(|p| p.rules().any(|r| r.call_count().is_some()));
        match (counts_calls, user_home()) {
            (false, _) => None,
            (true, Some(home)) => Some(record_call(&counts_path(&home), tool, ctx.now_unix)),
            (true, None) => Some(Err(CounterError)),
        }
    };
    let counts = match counts {
        Some(Ok(counts)) => Some(counts),
        Some(Err(_)) => {
            return Ok(Decision {
                action: Action::Deny,
                message: MSG_COUNTER_FAILED.to_string(),
                matched_policies: Vec::new(),
                winner: None,
            })
        }
        None => None,
    };
    let ctx = EvalContext {
        counter: counts.as_ref().map(|c| c as &dyn CallCounter),
        ..ctx
    };
    let mut failed = None;
    let decision = decide_enforced(source, |evaluator| {
        decide_value(evaluator, call, &ctx).unwrap_or_else(|e| {
            failed = Some(e);
            Decision {
                action: Action::Deny,
                message: String::new(),
                matched_policies: Vec::new(),
                winner: None,
            }
        })
    })
    .map_err(|e| e.to_string())?;
    match failed {
        Some(e) => Err(e),
        None => Ok(decision),
    }
}

/// The deny for line `number`, which could not be decided for `reason`.
fn fail_closed(number: usize, reason: &str) -> Value {
    let reason = format!("line {number}: {reason}");
    json!({
        "decision": "deny",
        "allowed": false,
        "message": format!("invalid call ({reason}); failing closed"),
        "matched_policies": Value::Null,
        "error": reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<(Line, Vec<u8>)> {
        let mut reader = std::io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        let mut line = Vec::new();
        loop {
            match read_line(&mut reader, &mut line).unwrap() {
                Line::End => return out,
                read => out.push((read, line.clone())),
            }
        }
    }

    #[test]
    fn lines_end_at_newlines_and_lose_their_carriage_returns() {
        let got = lines(b"a\r\nbc\n\nlast");
        let want = [
            (Line::Whole, &b"a"[..]),
            (Line::Whole, b"bc"),
            (Line::Whole, b""),
            (Line::Whole, b"last"),
        ];
        assert_eq!(got.len(), want.len());
        for ((read, line), (want_read, want_line)) in got.iter().zip(want) {
            assert_eq!((read, line.as_slice()), (&want_read, want_line));
        }
    }

    #[test]
    fn an_overlong_line_is_dropped_whole_and_the_next_is_read() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\nok\n");
        input.extend(std::iter::repeat_n(b'y', MAX_LINE + 1));
        let got = lines(&input);
        let reads: Vec<&Line> = got.iter().map(|(r, _)| r).collect();
        assert_eq!(reads, [&Line::TooLong, &Line::Whole, &Line::TooLong]);
        assert_eq!(got[1].1, b"ok");
        let exact = vec![b'z'; MAX_LINE];
        assert_eq!(lines(&exact)[0].0, Line::Whole);
    }
}
