//! One decision: the bundle (or the fallback), the server for `ask`, the mode, the record, the
//! message.

use alloc::string::String;
use alloc::vec::Vec;

use rampart_runtime::eval::Evaluator;
use rampart_runtime::shell::{CommandReadings, Reader};

use crate::command::Command;
use crate::policy::{self, State};
use crate::record::{self, Entry};
use crate::settings::{Mode, Settings};
use crate::sys;
use crate::{ask, say};

/// What the policy (or the fallback) said, before the mode is applied.
struct Verdict {
    decision: &'static str,
    allowed: bool,
    message: String,
    matched: Vec<String>,
}

impl Verdict {
    fn new(decision: &'static str, allowed: bool, message: &str) -> Verdict {
        Verdict {
            decision,
            allowed,
            message: String::from(message),
            matched: Vec::new(),
        }
    }
}

/// Decides `command` for `hook`, records the decision, prints the block message, and says whether
/// the call may go ahead. `report` is false for a candidate path that does not exist (a PATH
/// search trying directories): the decision still holds but nothing is recorded or printed.
/// `real`: the same call under the name of the program it really runs (a link resolved, see
/// `resolve`); it is decided too, and the stricter decision holds.
pub fn decide(
    hook: &str,
    command: &Command,
    real: Option<&Command>,
    s: &Settings,
    report: bool,
) -> bool {
    let mut verdict = verdict(command, s);
    if let Some(real) = real {
        let other = self::verdict(real, s);
        if stricter(&other, &verdict) {
            verdict = other;
            verdict.message.push_str(" (runs ");
            let program = real.words.as_ref().and_then(|w| w.first());
            verdict.message.push_str(program.map_or("", String::as_str));
            verdict.message.push(')');
        }
    }
    let allowed = verdict.allowed || s.mode == Mode::Monitor;
    if s.debug {
        let mut len = Vec::new();
        crate::text::push_u64(&mut len, command.text.len() as u64);
        say::line(&[
            b"debug: ",
            hook.as_bytes(),
            b" ",
            verdict.decision.as_bytes(),
            b" (",
            &len,
            b" bytes)",
        ]);
    }
    if report {
        let matched: Vec<&str> = verdict.matched.iter().map(String::as_str).collect();
        let entry = Entry {
            agent: &s.agent,
            session: &s.session,
            command: &command.text,
            decision: verdict.decision,
            allowed,
            message: &verdict.message,
            matched_policies: &matched,
            hook,
            mode: s.mode.as_str(),
        };
        let pid = sys::getpid() as u32;
        record::send(&s.home, &entry.to_json(record::now_ms(), pid));
        if !allowed {
            say::line(&[
                b"blocked ",
                command.text.as_bytes(),
                b": ",
                verdict.message.as_bytes(),
            ]);
        }
    }
    allowed
}

/// Whether `a` stops the call where `b` does not, or is the stronger of two that both stop or
/// both let it go (deny > ask > watch > allow).
fn stricter(a: &Verdict, b: &Verdict) -> bool {
    let rank = |v: &Verdict| match v.decision {
        "deny" => 3,
        "ask" => 2,
        "watch" => 1,
        _ => 0,
    };
    (b.allowed && !a.allowed) || (a.allowed == b.allowed && rank(a) > rank(b))
}

fn verdict(command: &Command, s: &Settings) -> Verdict {
    let Some(record) = policy::current(&s.policy_path) else {
        return Verdict::new("deny", false, "rampart could not record the policy state");
    };
    let loaded = match &record.state {
        State::Mapped { .. } => record.loaded().map_err(Some),
        State::Missing => Err(None),
        State::Corrupt(e) => Err(Some(e)),
    };
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            policy::announce(&s.policy_path, error, s.fail_open);
            return match (error.is_some(), s.fail_open) {
                (true, true) => Verdict::new("allow", true, "unusable policy bundle (fail-open)"),
                (true, false) => {
                    Verdict::new("deny", false, "unusable policy bundle (fail-closed)")
                }
                (false, true) => Verdict::new("allow", true, "no policy bundle (fail-open)"),
                (false, false) => Verdict::new("deny", false, "no policy bundle (fail-closed)"),
            };
        }
    };
    let mut reader = Reader::new();
    let mut v = evaluate(&loaded.evaluator, s, readings(command, &mut reader));
    if loaded.needs_server || v.decision == "ask" {
        v.allowed = ask::approved(&s.url, &s.token, &s.agent, &s.session, &command.text);
        if !v.allowed && v.message.is_empty() {
            v.message = String::from("needs approval and no rampart server approved it");
        }
    }
    v
}

/// The readings of `command`, with a reader made for this decision: its buffers come from the
/// hook's arena, which is reset when the hook returns (see `arena`), so no reader can be kept
/// for the next decision.
fn readings<'r>(command: &Command, reader: &'r mut Reader) -> &'r CommandReadings {
    match &command.words {
        Some(words) => {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            reader.read_argv(&words)
        }
        None => reader.read_command(&command.text),
    }
}

fn evaluate(evaluator: &Evaluator<'_>, s: &Settings, readings: &CommandReadings) -> Verdict {
    let decision = evaluator.evaluate_exec(&s.agent, &s.session, readings, now_unix());
    Verdict {
        decision: decision.action.as_str(),
        allowed: decision.allowed(),
        message: decision.message,
        matched: decision.matched_policies,
    }
}

fn now_unix() -> i64 {
    (record::now_ms() / 1000) as i64
}
