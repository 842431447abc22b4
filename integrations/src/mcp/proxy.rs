//! The stdio proxy: the client on our stdin/stdout, the server as our child.
//!
//! The threat, both ways: a proxy that forwards a call it never judged (a batch, a repeated key,
//! a message it could not read, a call that arrives while another waits), or a proxy that
//! breaks the traffic it does not judge (reorders it, rewrites it, stalls it behind a call that
//! waits for a person). So:
//!
//! - every line is read whole ([`super::frame`]) and classified from its top level
//!   ([`super::message::peek`]); what the proxy does not judge is written on unchanged, byte for
//!   byte, by the thread that read it, so unjudged traffic keeps its order in each direction;
//! - a `tools/call` is judged on a thread of its own, so a call held for approval (or waiting
//!   for its audit record to be synced) stalls nothing else; it is forwarded only once it was
//!   allowed, and answered by the proxy otherwise;
//! - the response to a judged call is scanned before the client sees it;
//! - in enforce mode, whatever cannot be read the way every peer would read it is refused
//!   (client side) or dropped (server side), never passed on.
//!
//! The child's stderr is the proxy's own; its exit status becomes the proxy's, and the signals a
//! terminal or supervisor sends the proxy are passed on to it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::io::{self, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rampart_runtime::eval::Action;
use rampart_runtime::settings::Mode;
use rampart_runtime::shell::Reader;
use serde_json::{json, Value};

use super::frame::{self, Line, MAX_LINE};
use super::judge::{identity, Judge, ToolCall};
use super::message::{peek, strict, Id, Kind};
use super::protocol::{self, ErrorStyle, Peer};
use crate::serve::{ApprovalRequest, Server, Wait};
use crate::surface::{Identity, Outcome};

/// How long an `ask` waits for a person (upstream's approval timeout).
pub const ASK_WAIT: Duration = Duration::from_secs(120);
/// How often a call waiting for a person looks whether it was cancelled.
const CANCEL_CHECK: Duration = Duration::from_millis(100);
/// How many answered call ids are remembered, so that a late or repeated response to one is
/// dropped rather than passed on unscanned.
const REMEMBERED: usize = 4096;
/// The key of the proxy's own input request in a 2026-07-28 `input_required` result.
const INPUT_KEY: &str = "rampart_approval";

/// How the proxy runs.
#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    pub error_style: ErrorStyle,
    /// How long an `ask` waits for a person.
    pub ask_wait: Duration,
    /// The server's approval queue, when one is configured.
    pub queue: Option<Server>,
}

/// Runs `command` under the proxy until it exits; returns its exit code.
pub fn run(options: Options, judge: Judge, command: &[OsString]) -> Result<i32, String> {
    let (program, args) = command
        .split_first()
        .ok_or("no server command given (usage: rampart mcp -- SERVER CMD...)")?;
    let signals = crate::signals::block()?;
    let mut child = spawn(program, args).map_err(|e| {
        format!(
            "cannot start the MCP server {}: {e}",
            program.to_string_lossy()
        )
    })?;
    let _forwarding = crate::signals::forward(signals, child.id());
    let (stdin, stdout) = match (child.stdin.take(), child.stdout.take()) {
        (Some(stdin), Some(stdout)) => (stdin, stdout),
        _ => return Err("the MCP server's pipes were not set up".into()),
    };
    let proxy = Arc::new(Proxy::new(options, judge, stdin, Box::new(io::stdout())));
    let (done, drained) = mpsc::channel();
    let from_server = Arc::clone(&proxy);
    std::thread::spawn(move || {
        from_server.pump_server(BufReader::with_capacity(1 << 16, stdout));
        let _ = done.send(());
    });
    let from_client = Arc::clone(&proxy);
    std::thread::spawn(move || {
        from_client.pump_client(BufReader::with_capacity(1 << 16, io::stdin()));
    });
    let code = crate::signals::wait(&mut child)?;
    // What the server wrote before it exited still reaches the client (a grandchild holding
    // the pipe open does not keep the proxy alive for long).
    let _ = drained.recv_timeout(Duration::from_secs(2));
    proxy.flush_client();
    Ok(code)
}

fn spawn(program: &OsString, args: &[OsString]) -> io::Result<Child> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    crate::signals::unblock_in_child(&mut command);
    command.spawn()
}

/// A judged call between its arrival and its answer.
enum Pending {
    /// Being decided, or waiting for a person.
    Judging { cancelled: bool },
    /// Forwarded to the server; its response will be scanned.
    Forwarded {
        tool: ToolCall,
        identity: Identity,
        peer: Peer,
        cancelled: bool,
    },
}

/// A person's approval asked through a 2026-07-28 `input_required` result, bound to one call.
struct Grant {
    fingerprint: String,
    root: Id,
    /// The server's own `requestState` the call carried, restored when it is forwarded.
    server_state: Option<Value>,
    expires: Instant,
}

#[derive(Default)]
struct State {
    calls: HashMap<Id, Pending>,
    /// Judged calls already answered, oldest first.
    answered: VecDeque<Id>,
    answered_set: HashSet<Id>,
    lists: HashSet<Id>,
    initializing: HashSet<Id>,
    /// What the client said in `initialize` (handshake era).
    handshake: Peer,
    /// The proxy's own requests to the client, waiting for their responses.
    asks: HashMap<String, mpsc::Sender<Value>>,
    grants: HashMap<String, Grant>,
    /// A server's `requestState` of an `input_required` answer -> the call it belongs to.
    chains: HashMap<String, Id>,
    next: u64,
}

impl State {
    fn remember(&mut self, id: Id) {
        if self.answered_set.insert(id.clone()) {
            self.answered.push_back(id);
        }
        while self.answered.len() > REMEMBERED {
            if let Some(old) = self.answered.pop_front() {
                self.answered_set.remove(&old);
            }
        }
    }

    fn cancelled(&self, id: &Id) -> bool {
        matches!(
            self.calls.get(id),
            Some(Pending::Judging { cancelled: true })
        )
    }
}

/// What became of a judged call.
enum Verdict {
    /// Forward this line to the server.
    Forward(Vec<u8>, ToolCall, Identity, Peer),
    /// Answer the client with this.
    Answer(Value),
}

struct Proxy {
    options: Options,
    judge: Judge,
    client: Mutex<Box<dyn Write + Send>>,
    server: Mutex<Option<ChildStdin>>,
    state: Mutex<State>,
    /// An unguessable prefix of the ids and states the proxy makes, so that no server can
    /// answer, or forge, the proxy's own questions to the client.
    nonce: String,
}

impl Proxy {
    fn new(
        options: Options,
        judge: Judge,
        server: ChildStdin,
        client: Box<dyn Write + Send>,
    ) -> Proxy {
        let mut random = [0u8; 12];
        let _ = rampart_audit::ids::random_bytes(&mut random);
        let nonce: String = random.iter().map(|b| format!("{b:02x}")).collect();
        Proxy {
            options,
            judge,
            client: Mutex::new(client),
            server: Mutex::new(Some(server)),
            state: Mutex::new(State::default()),
            nonce: format!("rampart-{nonce}"),
        }
    }

    fn enforcing(&self) -> bool {
        self.options.mode == Mode::Enforce
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- writing ----

    fn to_client(&self, bytes: &[u8], ended: bool) {
        let mut out = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        let written = out
            .write_all(bytes)
            .and_then(|()| if ended { out.write_all(b"\n") } else { Ok(()) })
            .and_then(|()| out.flush());
        if written.is_err() {
            // The client is gone; the server learns it when our stdin closes.
        }
    }

    fn answer(&self, message: &Value) {
        self.to_client(message.to_string().as_bytes(), true);
    }

    fn flush_client(&self) {
        let _ = self
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush();
    }

    /// Writes a line to the server; false when it is gone.
    fn to_server(&self, bytes: &[u8], ended: bool) -> bool {
        let mut server = self.server.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(stdin) = server.as_mut() else {
            return false;
        };
        stdin
            .write_all(bytes)
            .and_then(|()| {
                if ended {
                    stdin.write_all(b"\n")
                } else {
                    Ok(())
                }
            })
            .and_then(|()| stdin.flush())
            .is_ok()
    }

    fn close_server(&self) {
        self.server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    // ---- client -> server ----

    fn pump_client(self: &Arc<Self>, mut input: impl io::BufRead) {
        let mut line = Vec::new();
        loop {
            match frame::read_line(&mut input, &mut line, MAX_LINE) {
                Ok(Line::Whole { ended }) => self.from_client(&line, ended),
                Ok(Line::TooLong) => self.answer(&protocol::error(
                    None,
                    protocol::INVALID_REQUEST,
                    &format!("message longer than {MAX_LINE} bytes refused"),
                )),
                Ok(Line::End) | Err(_) => break,
            }
        }
        self.close_server();
    }

    fn from_client(self: &Arc<Self>, line: &[u8], ended: bool) {
        let text = frame::text(line);
        if text.iter().all(u8::is_ascii_whitespace) {
            self.to_server(line, ended);
            return;
        }
        match peek(text) {
            Kind::Request { id, method } => self.client_request(line, ended, id, &method),
            Kind::Notification { method } if method == "notifications/cancelled" => {
                self.client_cancel(line, ended)
            }
            Kind::Notification { .. } => {
                self.to_server(line, ended);
            }
            Kind::Response { id } => {
                let waiter = id
                    .as_ref()
                    .and_then(|id| serde_json::from_str::<String>(&id.0).ok())
                    .and_then(|id| self.state().asks.remove(&id));
                match waiter {
                    Some(waiter) => {
                        let _ = waiter.send(serde_json::from_slice(text).unwrap_or(Value::Null));
                    }
                    None => {
                        self.to_server(line, ended);
                    }
                }
            }
            Kind::Batch if self.enforcing() => self.answer(&protocol::error(
                None,
                protocol::INVALID_REQUEST,
                "JSON-RPC batches are not part of MCP; send one message per line",
            )),
            Kind::Invalid(why) if self.enforcing() => {
                let id = lenient_id(text);
                let code = if why.starts_with("not JSON") {
                    protocol::PARSE_ERROR
                } else {
                    protocol::INVALID_REQUEST
                };
                self.answer(&protocol::error(
                    id.as_ref(),
                    code,
                    &format!("refused: {why}"),
                ))
            }
            Kind::Batch | Kind::Invalid(_) => {
                self.to_server(line, ended);
            }
        }
    }

    fn client_request(self: &Arc<Self>, line: &[u8], ended: bool, id: Id, method: &str) {
        {
            let mut state = self.state();
            if state.calls.contains_key(&id) && self.enforcing() {
                drop(state);
                self.answer(&protocol::error(
                    Some(&id),
                    protocol::INVALID_REQUEST,
                    &format!("request id {id} is already in use by a tool call in flight"),
                ));
                return;
            }
            state.answered_set.remove(&id);
            match method {
                "tools/call" => {
                    state
                        .calls
                        .insert(id.clone(), Pending::Judging { cancelled: false });
                    drop(state);
                    let proxy = Arc::clone(self);
                    let line = line.to_vec();
                    std::thread::spawn(move || proxy.judge_call(id, &line, ended));
                    return;
                }
                "tools/list" if self.judge.reads_listings() => {
                    state.lists.insert(id);
                }
                "initialize" => {
                    let params = serde_json::from_slice::<Value>(frame::text(line)).ok();
                    state.handshake =
                        Peer::of_initialize(params.as_ref().and_then(|v| v.get("params")));
                    state.initializing.insert(id);
                }
                _ => {}
            }
        }
        self.to_server(line, ended);
    }

    /// `notifications/cancelled`: a call still being judged is dropped here (the server never
    /// saw it); a forwarded one has its late response suppressed and the server is told.
    fn client_cancel(&self, line: &[u8], ended: bool) {
        let target = serde_json::from_slice::<Value>(frame::text(line))
            .ok()
            .and_then(|v| Id::of(v.get("params")?.get("requestId")?));
        let forward = {
            let mut state = self.state();
            match target.as_ref().and_then(|id| state.calls.get_mut(id)) {
                Some(Pending::Judging { cancelled }) => {
                    *cancelled = true;
                    false
                }
                Some(Pending::Forwarded { cancelled, .. }) => {
                    *cancelled = true;
                    true
                }
                None => true,
            }
        };
        if forward {
            self.to_server(line, ended);
        }
    }

    /// Judges one `tools/call` (on its own thread) and forwards or answers it.
    fn judge_call(self: Arc<Self>, id: Id, line: &[u8], ended: bool) {
        let mut reader = Reader::new();
        let verdict = self.verdict(&mut reader, &id, frame::text(line), line);
        let mut state = self.state();
        let cancelled = state.cancelled(&id);
        match verdict {
            _ if cancelled => {
                state.calls.remove(&id);
                state.remember(id);
            }
            Verdict::Answer(answer) => {
                state.calls.remove(&id);
                state.remember(id);
                drop(state);
                self.answer(&answer);
            }
            Verdict::Forward(bytes, tool, identity, peer) => {
                state.calls.insert(
                    id.clone(),
                    Pending::Forwarded {
                        tool,
                        identity,
                        peer: peer.clone(),
                        cancelled: false,
                    },
                );
                drop(state);
                let ended = ended || bytes.as_slice() != line;
                if !self.to_server(&bytes, ended) {
                    let mut state = self.state();
                    state.calls.remove(&id);
                    state.remember(id.clone());
                    drop(state);
                    self.answer(&protocol::denial(
                        &id,
                        "the MCP server is not running",
                        self.options.error_style,
                        &peer,
                    ));
                }
            }
        }
    }

    fn verdict(&self, reader: &mut Reader, id: &Id, text: &[u8], line: &[u8]) -> Verdict {
        let message = match strict(text) {
            Ok(message) => message,
            Err(why) => return self.malformed(id, "tools/call", &why, line),
        };
        let params = message.get("params");
        let tool = match ToolCall::parse(params) {
            Ok(tool) => tool,
            Err(why) => {
                let name = params
                    .and_then(|p| p.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("tools/call");
                return self.malformed(id, name, &why, line);
            }
        };
        let peer = Peer::of_request(params).unwrap_or_else(|| self.state().handshake.clone());
        let retry = self.retry_of(params, &tool);
        let root = retry.as_ref().map(|r| r.root.clone());
        let identity = identity(id, root.as_ref());
        let mut recorded = vec![("mcp_request_id", id.json())];
        if let Some(root) = &root {
            recorded.push(("mcp_retry_of", root.json()));
        }
        let outcome = self.judge.decide(reader, &tool, &identity, &recorded);
        let action = outcome.decision.action;
        match action {
            Action::Allow | Action::Watch => {
                let bytes = strip_own(&message, retry.as_ref()).unwrap_or_else(|| line.to_vec());
                Verdict::Forward(bytes, tool, identity, peer)
            }
            Action::Ask => self.ask(id, &message, line, tool, identity, peer, &outcome, retry),
            Action::Deny | Action::Webhook => Verdict::Answer(self.deny(id, &outcome, &peer)),
        }
    }

    /// A judged message that could not be read: refused and recorded (passed on in monitor
    /// mode, where the record says what enforce mode would have done).
    fn malformed(&self, id: &Id, name: &str, why: &str, line: &[u8]) -> Verdict {
        let identity = identity(id, None);
        let outcome = self
            .judge
            .refuse(name, &identity, &format!("malformed tools/call: {why}"));
        if outcome.decision.allowed() {
            return Verdict::Forward(
                line.to_vec(),
                ToolCall {
                    name: name.to_string(),
                    arguments: serde_json::Map::new(),
                },
                identity,
                Peer::default(),
            );
        }
        Verdict::Answer(protocol::error(
            Some(id),
            protocol::INVALID_REQUEST,
            &outcome.decision.message,
        ))
    }

    fn deny(&self, id: &Id, outcome: &Outcome, peer: &Peer) -> Value {
        let message = if outcome.decision.message.is_empty() {
            "request denied by policy"
        } else {
            outcome.decision.message.as_str()
        };
        protocol::denial(id, message, self.options.error_style, peer)
    }

    // ---- asking a person ----

    #[allow(clippy::too_many_arguments)]
    fn ask(
        &self,
        id: &Id,
        message: &Value,
        line: &[u8],
        tool: ToolCall,
        identity: Identity,
        peer: Peer,
        outcome: &Outcome,
        retry: Option<Retry>,
    ) -> Verdict {
        let forward = |tool: ToolCall, identity: Identity, peer: Peer, retry: Option<&Retry>| {
            let bytes = strip_own(message, retry).unwrap_or_else(|| line.to_vec());
            Verdict::Forward(bytes, tool, identity, peer)
        };
        // A 2026-07-28 retry that carries the person's answer to the proxy's own question.
        if let Some(answer) = retry.as_ref().and_then(|r| r.answer.as_ref()) {
            let approved = protocol::approves(answer);
            self.judge
                .record_answer(&tool, &identity, approved, "MCP input_required elicitation");
            if approved {
                return forward(tool, identity, peer, retry.as_ref());
            }
            return Verdict::Answer(protocol::denial(
                id,
                &format!("declined by the user: {}", outcome.decision.message),
                self.options.error_style,
                &peer,
            ));
        }
        let question = format!(
            "Rampart: the MCP tool {:?} needs your approval: {}\nArguments: {}",
            tool.name,
            outcome.decision.message,
            Value::Object(tool.arguments.clone())
        );
        if let Some(answer) = self.ask_queue(&tool, &identity, outcome) {
            return match answer {
                Ok(()) => forward(tool, identity, peer, retry.as_ref()),
                Err(why) => {
                    Verdict::Answer(protocol::denial(id, &why, self.options.error_style, &peer))
                }
            };
        }
        // A headless-only ask is for the queue alone, never the client's user.
        let peer = Peer {
            elicitation: peer.elicitation && !outcome.ask_headless_only,
            ..peer
        };
        if peer.elicitation && peer.modern() {
            let state = self.grant(&tool, identity_root(id, retry.as_ref()), message);
            let form = protocol::approval_form(&question, &peer);
            return Verdict::Answer(protocol::input_required(id, INPUT_KEY, form, &state));
        }
        if peer.elicitation {
            return match self.elicit(id, &question, &peer) {
                Some(answer) => {
                    let approved = protocol::approves(&answer);
                    self.judge
                        .record_answer(&tool, &identity, approved, "MCP elicitation");
                    if approved {
                        forward(tool, identity, peer, None)
                    } else {
                        Verdict::Answer(protocol::denial(
                            id,
                            &format!("declined by the user: {}", outcome.decision.message),
                            self.options.error_style,
                            &peer,
                        ))
                    }
                }
                None => Verdict::Answer(protocol::denial(
                    id,
                    &format!(
                        "approval required, but the user did not answer: {}",
                        outcome.decision.message
                    ),
                    self.options.error_style,
                    &peer,
                )),
            };
        }
        Verdict::Answer(protocol::denial(
            id,
            &format!(
                "approval required, but this MCP proxy has no approval resolver (no rampart server, and the client cannot ask its user); refusing request: {}",
                outcome.decision.message
            ),
            self.options.error_style,
            &peer,
        ))
    }

    /// Asks the server's approval queue; `None` when there is no queue to ask.
    fn ask_queue(
        &self,
        tool: &ToolCall,
        identity: &Identity,
        outcome: &Outcome,
    ) -> Option<Result<(), String>> {
        let queue = self.options.queue.as_ref()?;
        let (call, _) = self.judge.call_of(tool).ok()?;
        let text = |k: &str| {
            call.params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.render().to_string())
                .unwrap_or_default()
        };
        let command = match text("command") {
            c if c.is_empty() => format!("{} {}", tool.name, Value::Object(tool.arguments.clone())),
            c => c,
        };
        let request = ApprovalRequest {
            tool: call.tool.clone(),
            command,
            agent: call.agent.clone(),
            path: text("path"),
            message: outcome.decision.message.clone(),
            run_id: identity.run_id.clone(),
        };
        match queue.ask(&request, self.options.ask_wait) {
            Wait::Approved { id } => {
                self.judge
                    .record_answer(tool, identity, true, &format!("approval {id}"));
                Some(Ok(()))
            }
            Wait::Denied { id } => Some(Err(format!(
                "denied by a person (approval {id}): {}",
                outcome.decision.message
            ))),
            Wait::TimedOut { id } => Some(Err(format!(
                "approval {} was not answered in time: {}",
                id.unwrap_or_default(),
                outcome.decision.message
            ))),
            Wait::Unavailable(_) => None,
        }
    }

    /// Asks the client's user with an `elicitation/create` request (handshake era); `None` when
    /// no answer came in time or the call was cancelled meanwhile.
    fn elicit(&self, id: &Id, question: &str, peer: &Peer) -> Option<Value> {
        let (sender, answers) = mpsc::channel();
        let ask_id = {
            let mut state = self.state();
            state.next += 1;
            let ask_id = format!("{}-ask-{}", self.nonce, state.next);
            state.asks.insert(ask_id.clone(), sender);
            ask_id
        };
        let form = protocol::approval_form(question, peer);
        self.answer(&protocol::request(&ask_id, "elicitation/create", form));
        let started = Instant::now();
        let answer = loop {
            match answers.recv_timeout(CANCEL_CHECK) {
                Ok(answer) => break Some(answer),
                Err(mpsc::RecvTimeoutError::Timeout)
                    if started.elapsed() < self.options.ask_wait && !self.state().cancelled(id) => {
                }
                Err(_) => break None,
            }
        };
        if answer.is_none() {
            self.state().asks.remove(&ask_id);
            self.answer(&json!({
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": ask_id, "reason": "no longer needed"},
            }));
        }
        answer.and_then(|a| a.get("result").cloned())
    }

    /// A single-use grant for a 2026-07-28 `input_required` round; returns its `requestState`.
    fn grant(&self, tool: &ToolCall, root: Id, message: &Value) -> String {
        let mut state = self.state();
        state.next += 1;
        let mut random = [0u8; 16];
        let _ = rampart_audit::ids::random_bytes(&mut random);
        let token: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let key = format!("{}-grant-{}-{token}", self.nonce, state.next);
        let now = Instant::now();
        state.grants.retain(|_, g| g.expires > now);
        state.grants.insert(
            key.clone(),
            Grant {
                fingerprint: tool.fingerprint(),
                root,
                server_state: message
                    .get("params")
                    .and_then(|p| p.get("requestState"))
                    .cloned(),
                expires: now + self.options.ask_wait,
            },
        );
        key
    }

    /// What a 2026-07-28 retry of an earlier call carries: the call it retries, and the
    /// person's answer to the proxy's own question when the round was the proxy's.
    fn retry_of(&self, params: Option<&Value>, tool: &ToolCall) -> Option<Retry> {
        let state_value = params?.get("requestState")?.as_str()?.to_string();
        let mut state = self.state();
        if let Some(grant) = state.grants.remove(&state_value) {
            let valid = grant.expires > Instant::now() && grant.fingerprint == tool.fingerprint();
            let answer = params
                .and_then(|p| p.get("inputResponses"))
                .and_then(|r| r.get(INPUT_KEY))
                .cloned()
                .filter(|_| valid)
                // A grant for another call, or an expired one, approves nothing.
                .or(Some(json!({"action": "decline"})));
            return Some(Retry {
                root: grant.root,
                answer,
                own_state: true,
                server_state: grant.server_state,
            });
        }
        let root = state.chains.get(&state_value)?.clone();
        Some(Retry {
            root,
            answer: None,
            own_state: false,
            server_state: None,
        })
    }

    // ---- server -> client ----

    fn pump_server(self: &Arc<Self>, mut input: impl io::BufRead) {
        let mut line = Vec::new();
        loop {
            match frame::read_line(&mut input, &mut line, MAX_LINE) {
                Ok(Line::Whole { ended }) => self.from_server(&line, ended),
                Ok(Line::TooLong) => {
                    eprintln!("rampart mcp: dropped a message from the server longer than {MAX_LINE} bytes")
                }
                Ok(Line::End) | Err(_) => break,
            }
        }
    }

    fn from_server(self: &Arc<Self>, line: &[u8], ended: bool) {
        let text = frame::text(line);
        if text.iter().all(u8::is_ascii_whitespace) {
            self.to_client(line, ended);
            return;
        }
        match peek(text) {
            Kind::Response { id: Some(id) } => self.server_response(line, ended, id),
            Kind::Request { .. } | Kind::Notification { .. } | Kind::Response { id: None } => {
                self.to_client(line, ended)
            }
            Kind::Batch | Kind::Invalid(_) if !self.enforcing() => self.to_client(line, ended),
            Kind::Batch => eprintln!("rampart mcp: dropped a JSON-RPC batch from the server"),
            Kind::Invalid(why) => {
                eprintln!("rampart mcp: dropped a malformed message from the server: {why}")
            }
        }
    }

    fn server_response(self: &Arc<Self>, line: &[u8], ended: bool, id: Id) {
        let mut state = self.state();
        match state.calls.remove(&id) {
            Some(Pending::Forwarded {
                cancelled: true, ..
            }) => {
                state.remember(id);
            }
            Some(Pending::Forwarded {
                tool,
                identity,
                peer,
                ..
            }) => {
                state.remember(id.clone());
                drop(state);
                let proxy = Arc::clone(self);
                let line = line.to_vec();
                std::thread::spawn(move || proxy.scan(id, &line, ended, &tool, &identity, &peer));
            }
            Some(judging @ Pending::Judging { .. }) => {
                // The server answers a call it was never sent: drop it.
                state.calls.insert(id, judging);
                drop(state);
                eprintln!("rampart mcp: dropped a response to a call the server was not sent");
            }
            None if state.answered_set.contains(&id) => {
                drop(state);
                eprintln!("rampart mcp: dropped a late or repeated response to tool call {id}");
            }
            None if state.lists.remove(&id) => {
                drop(state);
                self.listing(line, ended, &id);
            }
            None => {
                if state.initializing.remove(&id) {
                    let result = serde_json::from_slice::<Value>(frame::text(line)).ok();
                    let version = result.as_ref().and_then(|v| {
                        v.get("result")?
                            .get("protocolVersion")?
                            .as_str()
                            .map(String::from)
                    });
                    if version.is_some() {
                        state.handshake.version = version;
                    }
                }
                drop(state);
                self.to_client(line, ended);
            }
        }
    }

    /// Scans the response to a forwarded call; passes it on or replaces it.
    fn scan(
        &self,
        id: Id,
        line: &[u8],
        ended: bool,
        tool: &ToolCall,
        identity: &Identity,
        peer: &Peer,
    ) {
        let style = self.options.error_style;
        let message = match strict(frame::text(line)) {
            Ok(message) => message,
            Err(why) if self.enforcing() => {
                let outcome =
                    self.judge
                        .refuse(&tool.name, identity, &format!("malformed response: {why}"));
                self.answer(&protocol::blocked_response(
                    &id,
                    &outcome.decision.message,
                    style,
                    peer,
                ));
                return;
            }
            Err(_) => {
                self.to_client(line, ended);
                return;
            }
        };
        let text = protocol::response_text(&message);
        let mut reader = Reader::new();
        let outcome = self.judge.scan(&mut reader, tool, identity, &text);
        if !outcome.decision.allowed() {
            let why = format!(
                "the tool's response was blocked: {}",
                outcome.decision.message
            );
            self.answer(&protocol::blocked_response(&id, &why, style, peer));
            return;
        }
        let result = message.get("result");
        if result
            .and_then(|r| r.get("resultType"))
            .and_then(Value::as_str)
            == Some("input_required")
        {
            if let Some(server_state) = result
                .and_then(|r| r.get("requestState"))
                .and_then(Value::as_str)
            {
                // The identity's tool call id is the chain's first call.
                let root = Id(identity.tool_call_id.clone());
                self.state().chains.insert(server_state.to_string(), root);
            }
        }
        self.to_client(line, ended);
    }

    /// A `tools/list` response: pinned, and filtered when tools must be hidden.
    fn listing(&self, line: &[u8], ended: bool, id: &Id) {
        let mut message = match strict(frame::text(line)) {
            Ok(message) => message,
            Err(why) if self.enforcing() => {
                self.answer(&protocol::error(
                    Some(id),
                    protocol::INTERNAL_ERROR,
                    &format!("the server's tools/list response was refused: {why}"),
                ));
                return;
            }
            Err(_) => return self.to_client(line, ended),
        };
        let tools = message
            .get("result")
            .and_then(|r| r.get("tools"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut reader = Reader::new();
        let hidden = match self.judge.listing(&mut reader, &tools) {
            Ok(hidden) => hidden,
            Err(e) if self.enforcing() && self.judge.pins_enforced() => {
                self.answer(&protocol::error(
                    Some(id),
                    protocol::INTERNAL_ERROR,
                    &format!("the tool pins cannot be kept ({e}); failing closed"),
                ));
                return;
            }
            Err(e) => {
                eprintln!("rampart mcp: the tool pins cannot be kept: {e}");
                Vec::new()
            }
        };
        if hidden.is_empty() {
            return self.to_client(line, ended);
        }
        if let Some(list) = message
            .get_mut("result")
            .and_then(|r| r.get_mut("tools"))
            .and_then(Value::as_array_mut)
        {
            list.retain(|t| {
                t.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(|name| !hidden.iter().any(|h| h == name))
            });
        }
        self.answer(&message);
    }
}

/// A 2026-07-28 retry of an earlier call.
struct Retry {
    /// The id of the first call of the chain.
    root: Id,
    /// The person's answer to the proxy's question, when the round was the proxy's.
    answer: Option<Value>,
    /// Whether the `requestState` the call carries is the proxy's own.
    own_state: bool,
    /// The server's `requestState` to restore when the proxy's own is removed.
    server_state: Option<Value>,
}

fn identity_root(id: &Id, retry: Option<&Retry>) -> Id {
    retry.map_or_else(|| id.clone(), |r| r.root.clone())
}

/// The call without what the proxy itself asked for (its input response and its state), with
/// the server's own state restored; `None` when nothing of the proxy's is in it.
fn strip_own(message: &Value, retry: Option<&Retry>) -> Option<Vec<u8>> {
    let retry = retry?;
    let mut message = message.clone();
    let params = message.get_mut("params")?.as_object_mut()?;
    let mut changed = false;
    if let Some(responses) = params
        .get_mut("inputResponses")
        .and_then(Value::as_object_mut)
    {
        changed |= responses.remove(INPUT_KEY).is_some();
        if responses.is_empty() {
            params.remove("inputResponses");
        }
    }
    if retry.own_state {
        changed = true;
        match &retry.server_state {
            Some(state) => {
                params.insert("requestState".into(), state.clone());
            }
            None => {
                params.remove("requestState");
            }
        }
    }
    changed.then(|| message.to_string().into_bytes())
}

/// The id of a message that is not valid enough to classify, when one can be read, so that the
/// refusal reaches the request it refuses.
fn lenient_id(text: &[u8]) -> Option<Id> {
    let value: Value = serde_json::from_slice(text).ok()?;
    Id::of(value.get("id")?)
}
