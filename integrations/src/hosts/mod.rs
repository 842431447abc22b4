//! The agent hosts: each host's hook payload in, the host's own answer out, over the shared
//! decide-and-record path ([`crate::surface`]).
//!
//! The threat: for an agent host, a hook that crashes, exits oddly or prints what the host does
//! not accept is a hook that allowed the call (`agent-protocols.md` §1). So [`respond`] never
//! fails: whatever it cannot read or decide becomes that host's deny, with a reason that says
//! what was wrong, and is recorded like any other decision. Each host module does two things
//! only: read the payload into a [`Hook`] (the tool calls to decide, who made them, the event)
//! and render a [`Verdict`] in the host's exact output form; everything between is here.
//!
//! A host that cannot ask the user itself hands an `ask` to the server's approval queue
//! ([`Approvals`]) and denies when no answer comes; Cline, which has no place to wait, denies.

mod antigravity;
mod claude_code;
mod cline;
mod codex;
mod copilot;
mod cursor;
mod gemini;
mod payload;
pub mod response;
mod tools;

use std::time::Duration;

use rampart_runtime::eval::{Action, Decision};
use rampart_runtime::shell::Reader;
use rampart_runtime::Call;
use serde_json::{json, Map, Value};

pub use crate::host::Host;
use crate::identity::HookEnv;
use crate::serve::{ApprovalRequest, Server, Wait};
use crate::surface::{Identity, Intent, Outcome, Phase, Request, Surface};

/// The largest payload a hook reads (upstream's limit).
pub const MAX_INPUT: usize = 4 << 20;

impl Host {
    /// Where this host's `ask` goes.
    fn asks(self) -> AskRoute {
        match self {
            Host::ClaudeCode | Host::Copilot | Host::Antigravity => AskRoute::Native,
            Host::Codex | Host::Cursor | Host::Gemini => AskRoute::Queue,
            Host::Cline => AskRoute::Deny,
        }
    }

    fn read(self, payload: &Map<String, Value>, env: &HookEnv) -> Result<Hook, Refusal> {
        match self {
            Host::ClaudeCode => claude_code::read(payload, env),
            Host::Codex => codex::read(payload, env),
            Host::Cline => cline::read(payload, env),
            Host::Cursor => cursor::read(payload, env),
            Host::Gemini => gemini::read(payload, env),
            Host::Copilot => copilot::read(payload, env),
            Host::Antigravity => antigravity::read(payload, env),
        }
    }

    fn render(self, reply: &Reply, claude_allow: ClaudeAllow) -> Answer {
        match self {
            Host::ClaudeCode => claude_code::render(reply, claude_allow),
            Host::Codex => codex::render(reply),
            Host::Cline => cline::render(reply),
            Host::Cursor => cursor::render(reply),
            Host::Gemini => gemini::render(reply),
            Host::Copilot => copilot::render(reply),
            Host::Antigravity => antigravity::render(reply),
        }
    }
}

enum AskRoute {
    /// The host asks the user itself.
    Native,
    /// The server's approval queue, else deny.
    Queue,
    /// The host cannot wait for anyone: deny.
    Deny,
}

/// How Claude Code is told about an allowed call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClaudeAllow {
    /// `permissionDecision: "allow"`, upstream's answer: the user is not asked again.
    #[default]
    Explicit,
    /// `{}`: Claude Code's own permission settings and prompts stay in charge of allowed calls.
    Host,
}

impl ClaudeAllow {
    /// `RAMPART_CLAUDE_ALLOW`, the variable that sets it.
    pub const ENV: &'static str = "RAMPART_CLAUDE_ALLOW";

    pub fn parse(word: &str) -> Option<ClaudeAllow> {
        match word {
            "explicit" => Some(ClaudeAllow::Explicit),
            "host" => Some(ClaudeAllow::Host),
            _ => None,
        }
    }
}

/// The hook event a payload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookEvent {
    /// Before the tool runs.
    Pre,
    /// After it ran, with its output.
    Post,
    /// After it failed (Claude Code's `PostToolUseFailure`).
    PostFailure,
}

/// One tool call of a payload, ready to decide.
#[derive(Clone, Debug)]
pub(crate) struct HookCall {
    pub call: Call,
    /// What is recorded as the call's `request`.
    pub params: Map<String, Value>,
}

/// What a host's payload asks.
#[derive(Clone, Debug)]
pub(crate) struct Hook {
    pub event: HookEvent,
    /// Usually one; a Codex patch is one write per file it touches.
    pub calls: Vec<HookCall>,
    pub identity: Identity,
    /// The tool's output (post events).
    pub output: Option<Value>,
    /// The tool is an MCP tool (some hosts take its replaced output under another key).
    pub mcp: bool,
}

/// Why a payload could not be read: the host's deny, for the event it was (when known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub event: Option<HookEvent>,
    pub reason: String,
    /// The call as far as it was read, for the record.
    pub tool: Option<String>,
}

impl Refusal {
    pub(crate) fn new(event: Option<HookEvent>, reason: impl Into<String>) -> Refusal {
        Refusal {
            event,
            reason: reason.into(),
            tool: None,
        }
    }
}

/// What a host is told, before it is put in the host's words.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Verdict {
    /// The call may run.
    Allow,
    Deny(String),
    /// Ask the user (hosts that can).
    Ask(String),
    /// Nothing to say (an output that passed, a failure that needs no guidance).
    Pass,
    /// The output is withheld: the reason, and the output redacted in its shape (when the
    /// output could be read at all).
    Block(String, Option<Value>),
    /// Guidance for the model after a call failed because rampart denied it.
    Guidance(String),
}

/// A verdict for one event of one host.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reply {
    pub event: HookEvent,
    pub verdict: Verdict,
    pub mcp: bool,
}

/// What the hook process prints and exits with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub stdout: String,
    /// Empty for every host but Cline, whose deny text also goes to stderr (upstream).
    pub stderr: String,
    pub code: u8,
}

impl Answer {
    /// Exit 0 with `json` on stdout.
    pub(crate) fn json(json: &Value) -> Answer {
        Answer {
            stdout: format!("{json}\n"),
            ..Answer::default()
        }
    }
}

/// Who answers an `ask` for hosts that cannot ask the user themselves.
pub trait Approvals {
    fn ask(&self, request: &ApprovalRequest, wait: Duration) -> Wait;
}

impl Approvals for Server {
    fn ask(&self, request: &ApprovalRequest, wait: Duration) -> Wait {
        Server::ask(self, request, wait)
    }
}

impl Approvals for Result<Server, String> {
    fn ask(&self, request: &ApprovalRequest, wait: Duration) -> Wait {
        match self {
            Ok(server) => server.ask(request, wait),
            Err(e) => Wait::Unavailable(e.clone()),
        }
    }
}

/// What a hook needs besides the payload and the surface.
pub struct HookOptions<'a> {
    pub host: Host,
    pub env: HookEnv,
    pub claude_allow: ClaudeAllow,
    pub approvals: &'a dyn Approvals,
    /// How long an `ask` waits in the approval queue.
    pub approval_wait: Duration,
    /// Whether an answer waits for its record's sync ([`Request::wait_for_sync`](crate::surface::Request::wait_for_sync)). The hook
    /// process never syncs (upstream's hook durability); the server's http hooks answer as it
    /// does, once the record is written.
    pub wait_for_sync: bool,
    /// Test-only: panic after the payload was read (the panic must become the host's deny).
    pub inject_panic: bool,
}

/// The host's answer to one hook payload (`input`: the bytes on the hook's stdin). Never fails;
/// see the module documentation. A panic inside is the caller's to catch (the hook process
/// catches it; a server catches it per request).
pub fn respond(
    input: &[u8],
    surface: &Surface,
    reader: &mut Reader,
    options: &HookOptions<'_>,
) -> Answer {
    let host = options.host;
    let payload = match payload::parse(input) {
        Ok(Some(payload)) => payload,
        // A clean end of input: nothing was asked (upstream allows).
        Ok(None) => return Answer::default(),
        Err(reason) => return refuse(Refusal::new(None, reason), surface, options),
    };
    let hook = match host.read(&payload, &options.env) {
        Ok(hook) => hook,
        Err(refusal) => return refuse(refusal, surface, options),
    };
    if options.inject_panic {
        #[allow(clippy::panic)] // the test switch: proves a panic becomes the host's deny
        {
            panic!("RAMPART_HOOK_TEST_PANIC is set");
        }
    }
    let verdict = match hook.event {
        HookEvent::Pre => pre(&hook, surface, reader, options),
        HookEvent::Post => post(&hook, surface, reader, options),
        HookEvent::PostFailure => guidance(&hook, surface, reader),
    };
    let reply = Reply {
        event: hook.event,
        verdict,
        mcp: hook.mcp,
    };
    host.render(&reply, options.claude_allow)
}

/// The host's deny for a payload that could not be read, recorded; in monitor and audit modes
/// the call goes through, recorded as what would have been denied.
pub(crate) fn refuse(refusal: Refusal, surface: &Surface, options: &HookOptions<'_>) -> Answer {
    let event = refusal.event.unwrap_or(HookEvent::Pre);
    let outcome = surface.refuse(
        &refusal_call(&refusal, options),
        &Identity::default(),
        &refusal.reason,
    );
    let verdict = match (event, outcome.decision.allowed()) {
        (HookEvent::Pre, true) => Verdict::Allow,
        (_, true) | (HookEvent::PostFailure, false) => Verdict::Pass,
        (HookEvent::Pre, false) => Verdict::Deny(outcome.decision.message),
        (HookEvent::Post, false) => Verdict::Block(outcome.decision.message, None),
    };
    let reply = Reply {
        event,
        verdict,
        mcp: false,
    };
    options.host.render(&reply, options.claude_allow)
}

/// The host's deny for input that could not be read at all (`reason` says why), recorded as
/// [`respond`] records a payload it cannot parse.
pub fn refuse_input(reason: &str, surface: &Surface, options: &HookOptions<'_>) -> Answer {
    refuse(Refusal::new(None, reason), surface, options)
}

/// `reply` in `host`'s form, outside the normal path (the answer after a panic).
pub(crate) fn render(host: Host, reply: &Reply) -> Answer {
    host.render(reply, ClaudeAllow::default())
}

fn refusal_call(refusal: &Refusal, options: &HookOptions<'_>) -> Call {
    Call {
        tool: refusal.tool.clone().unwrap_or_else(|| "unknown".into()),
        agent: options.host.name().into(),
        session: options.env.session.clone().unwrap_or_default(),
        ..Call::default()
    }
}

/// Decides every call of a pre-event; the most restrictive decision answers (a patch that
/// writes one forbidden file is denied whole).
fn pre(hook: &Hook, surface: &Surface, reader: &mut Reader, options: &HookOptions<'_>) -> Verdict {
    let outcomes: Vec<(Outcome, &HookCall)> = hook
        .calls
        .iter()
        .map(|c| (decide(surface, reader, hook, c, Phase::Request, options), c))
        .collect();
    let Some((outcome, call)) = outcomes
        .iter()
        .max_by_key(|(o, _)| o.decision.action.rank())
    else {
        return Verdict::Deny("the payload holds no tool call to decide".into());
    };
    let decision = &outcome.decision;
    match decision.action {
        Action::Allow | Action::Watch => Verdict::Allow,
        Action::Deny => Verdict::Deny(message(decision)),
        Action::Webhook => Verdict::Deny(format!(
            "{} (webhook rules are not supported in agent hooks)",
            message(decision)
        )),
        Action::Ask => match options.host.asks() {
            AskRoute::Native if outcome.ask_headless_only => queue(hook, call, decision, options),
            AskRoute::Native => Verdict::Ask(message(decision)),
            AskRoute::Queue => queue(hook, call, decision, options),
            AskRoute::Deny => Verdict::Deny(format!("approval required: {}", message(decision))),
        },
    }
}

/// An `ask` for a host that cannot ask: a person answers through the server's queue.
fn queue(hook: &Hook, call: &HookCall, decision: &Decision, options: &HookOptions<'_>) -> Verdict {
    let text = |key: &str| {
        call.params
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let request = ApprovalRequest {
        tool: call.call.tool.clone(),
        command: text("command"),
        agent: call.call.agent.clone(),
        path: call
            .params
            .get("file_path")
            .and_then(Value::as_str)
            .map_or_else(|| text("path"), String::from),
        message: decision.message.clone(),
        run_id: hook.identity.run_id.clone(),
    };
    let why = message(decision);
    match options.approvals.ask(&request, options.approval_wait) {
        Wait::Approved { .. } => Verdict::Allow,
        Wait::Denied { id } => Verdict::Deny(format!("denied in the approval queue ({id}): {why}")),
        Wait::TimedOut { .. } => Verdict::Deny(format!("approval timed out: {why}")),
        Wait::Unavailable(e) => Verdict::Deny(format!(
            "approval required, but the approval queue is unavailable ({e}): {why}"
        )),
    }
}

/// Scans a post-event's output with the response rules; a deny withholds it.
fn post(hook: &Hook, surface: &Surface, reader: &mut Reader, options: &HookOptions<'_>) -> Verdict {
    let (Some(call), Some(output)) = (hook.calls.first(), hook.output.as_ref()) else {
        return Verdict::Pass;
    };
    let Some(text) = response::text(output) else {
        return Verdict::Pass;
    };
    let outcome = decide(
        surface,
        reader,
        hook,
        call,
        Phase::Response { output: &text },
        options,
    );
    if outcome.decision.allowed() {
        return Verdict::Pass;
    }
    let mut denied = |piece: &str| {
        surface
            .evaluate(reader, &call.call, Phase::Response { output: piece })
            .map_or(true, |d| !d.allowed())
    };
    let redacted = response::redact(output, &mut denied);
    Verdict::Block(message(&outcome.decision), Some(redacted))
}

/// After a failed call: if rampart denies it, tell the model why and not to work around it.
fn guidance(hook: &Hook, surface: &Surface, reader: &mut Reader) -> Verdict {
    let Some(call) = hook.calls.first() else {
        return Verdict::Pass;
    };
    match surface.evaluate(reader, &call.call, Phase::Request) {
        Ok(d) if d.action == Action::Deny => {
            let suggestions = crate::surface::suggestions(&call.call, &d);
            Verdict::Guidance(guidance_text(&d, &suggestions))
        }
        _ => Verdict::Pass,
    }
}

fn decide(
    surface: &Surface,
    reader: &mut Reader,
    hook: &Hook,
    call: &HookCall,
    phase: Phase<'_>,
    options: &HookOptions<'_>,
) -> Outcome {
    surface.decide(
        reader,
        &Request {
            call: &call.call,
            identity: &hook.identity,
            phase,
            intent: Intent::Enforce,
            wait_for_sync: options.wait_for_sync,
            params: &call.params,
        },
    )
}

/// A decision's message, or upstream's default when the rule has none.
fn message(decision: &Decision) -> String {
    if decision.message.is_empty() {
        "request denied by policy".into()
    } else {
        decision.message.clone()
    }
}

/// What the model is told after rampart blocked a call (upstream's guidance).
fn guidance_text(decision: &Decision, suggestions: &[String]) -> String {
    let policy = decision
        .matched_policies
        .first()
        .map_or("policy", String::as_str);
    let mut text = format!(
        "⛔ Blocked [{policy}]: {}\nThis call was blocked by the user's rampart policy. Do not \
         attempt workarounds (another tool, another spelling of the command, a script that does \
         the same); tell the user what you needed and why.",
        message(decision)
    );
    for s in suggestions {
        text.push_str(&format!("\nIf the user wants to allow it: {s}"));
    }
    text
}

/// `Rampart: <reason>`, the prefix every host's deny text carries (upstream's).
pub(crate) fn rampart(reason: &str) -> String {
    format!("Rampart: {reason}")
}

/// A withheld output as Claude Code and Codex take it: the reason for the model, and the output
/// redacted in its own shape (MCP tools take theirs under `updatedMCPToolOutput`).
pub(crate) fn post_block(reason: &str, output: Option<&Value>, mcp: bool) -> Answer {
    let mut answer = json!({"decision": "block", "reason": rampart(reason)});
    if let (Some(output), Some(obj)) = (output, answer.as_object_mut()) {
        let key = if mcp {
            "updatedMCPToolOutput"
        } else {
            "updatedToolOutput"
        };
        obj.insert(
            "hookSpecificOutput".into(),
            json!({"hookEventName": "PostToolUse", key: output}),
        );
    }
    Answer::json(&answer)
}
