//! One decision: the bundle (or the fallback), the server for `ask`, the mode, the record, the
//! message.

use alloc::string::String;
use alloc::vec::Vec;

use core::cell::Cell;

use rampart_runtime::counter::{CallCounter, CounterError};
use rampart_runtime::eval::EvalContext;
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
/// `resolve`); it is decided too, and a rule's deny or ask there holds (the real name's default
/// action does not count, as in `rampart_runtime::eval::stricter_by_rule`).
pub fn decide(
    hook: &str,
    command: &Command,
    real: Option<&Command>,
    s: &Settings,
    report: bool,
) -> bool {
    let mut local = local(command, s);
    let mut decided = command;
    if let Some(real) = real {
        let other = self::local(real, s);
        if other.stops_by_rule && stricter(&other.verdict, &local.verdict) {
            local = other;
            decided = real;
            local.verdict.message.push_str(" (runs ");
            let program = real.words.as_ref().and_then(|w| w.first());
            local
                .verdict
                .message
                .push_str(program.map_or("", String::as_str));
            local.verdict.message.push(')');
        }
    }
    let mut verdict = local.verdict;
    if let Some(why) = local.server {
        settle(&mut verdict, why, s, decided);
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

/// The decision made here, before the server settles what needs it.
struct Local {
    verdict: Verdict,
    /// Why the server must settle it, if it must.
    server: Option<Server>,
    /// A rule (not the default action, not a fallback) denied the call or asked about it.
    stops_by_rule: bool,
}

impl Local {
    fn fallback(verdict: Verdict) -> Local {
        Local {
            verdict,
            server: None,
            stops_by_rule: false,
        }
    }
}

fn local(command: &Command, s: &Settings) -> Local {
    let Some(record) = policy::current(&s.policy_path) else {
        return Local::fallback(Verdict::new(
            "deny",
            false,
            "rampart could not record the policy state",
        ));
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
            return Local::fallback(match (error.is_some(), s.fail_open) {
                (true, true) => Verdict::new("allow", true, "unusable policy bundle (fail-open)"),
                (true, false) => {
                    Verdict::new("deny", false, "unusable policy bundle (fail-closed)")
                }
                (false, true) => Verdict::new("allow", true, "no policy bundle (fail-open)"),
                (false, false) => Verdict::new("deny", false, "no policy bundle (fail-closed)"),
            });
        }
    };
    let mut reader = Reader::new();
    let probe = CountProbe::default();
    // Only a bundle with exec-scoped call_count rules needs the probe (FLAG_EXEC_NEEDS_SERVER).
    let counter = loaded.needs_server.then_some(&probe as &dyn CallCounter);
    let ctx = EvalContext {
        now_unix: now_unix(),
        counter,
        resolver: None,
    };
    let readings = readings(command, &mut reader);
    let decision = loaded
        .evaluator
        .evaluate_exec_in(&s.agent, &s.session, readings, &ctx);
    let once = loaded
        .evaluator
        .winning_rule(&decision)
        .is_some_and(|r| r.once());
    let stops_by_rule = decision.winner.is_some() && !decision.allowed();
    let verdict = Verdict {
        decision: decision.action.as_str(),
        allowed: decision.allowed(),
        message: decision.message,
        matched: decision.matched_policies,
    };
    let server = if verdict.decision == "ask" {
        Some(Server::Approval)
    } else if once {
        Some(Server::ClaimOnce)
    } else if probe.consulted.get() {
        Some(Server::Count)
    } else {
        None
    };
    Local {
        verdict,
        server,
        stops_by_rule,
    }
}

/// Why a decision needs the server: the preload cannot approve, claim a single-use rule (it
/// would have to edit a policy file from inside a vfork child) or count calls across processes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    /// An `ask`: a human approves through the server; with no server it is denied.
    Approval,
    /// The winning rule is single-use: the server claims it (preflight with enforce); with no
    /// server it is denied, so that it can never act twice.
    ClaimOnce,
    /// A call_count rule was consulted: the server counts; with no server, RAMPART_FAIL_OPEN
    /// decides (upstream's recoverable failure): fail-open keeps the local decision, in which no
    /// count rule fired, and says so in the record; fail-closed denies.
    Count,
}

/// Asks the server and makes `v` what is actually done, so the record tells the truth.
fn settle(v: &mut Verdict, why: Server, s: &Settings, command: &Command) {
    let wait = if why == Server::Approval {
        ask::Wait::Approval
    } else {
        ask::Wait::No
    };
    match ask::ask(&s.url, &s.token, &s.agent, &s.session, &command.text, wait) {
        ask::Answer::Allowed => {
            v.allowed = true;
            if why == Server::Approval {
                v.decision = "allow";
                v.message = String::from("approved through the rampart server");
            }
        }
        ask::Answer::Denied => {
            v.allowed = false;
            v.decision = "deny";
            v.message = String::from(match why {
                Server::Approval => "needs approval and no rampart server approved it",
                _ => "denied by the rampart server",
            });
        }
        ask::Answer::Unreachable => match why {
            Server::Count if s.fail_open => {
                v.message.push_str(
                    " (call_count not checked: no rampart server reachable; RAMPART_FAIL_OPEN)",
                );
            }
            _ => {
                v.allowed = false;
                v.decision = "deny";
                v.message = String::from(match why {
                    Server::Approval => "needs approval and no rampart server approved it",
                    Server::ClaimOnce => {
                        "a single-use rule needs the rampart server to claim it; none reachable"
                    }
                    Server::Count => {
                        "call_count needs the rampart server; none reachable (RAMPART_FAIL_OPEN=0)"
                    }
                });
            }
        },
    }
}

/// A counter that answers 0 (so no call_count rule fires locally) and notes that a rule asked.
#[derive(Default)]
struct CountProbe {
    consulted: Cell<bool>,
}

impl CallCounter for CountProbe {
    fn count(&self, _tool: &str, _window: u64, _now: i64) -> Result<u64, CounterError> {
        self.consulted.set(true);
        Ok(0)
    }
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

fn now_unix() -> i64 {
    (record::now_ms() / 1000) as i64
}
