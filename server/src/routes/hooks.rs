//! `POST /v1/hooks/{host}`: an agent host's `http` hook, answered exactly as `rampart hook
//! --format {host}` would print it, without a process per call.
//!
//! The threat: an http hook that answers anything but the host's own JSON with a 2xx status is a
//! non-blocking error to the host, which then runs the call. So everything here goes through the
//! hook's own code ([`rampart_integrations::hook::respond_guarded`] over the same adapters and
//! the server's [`Surface`](rampart_integrations::surface::Surface), which records into the same
//! chain, answering once the record is written, as the hook process does): a payload that cannot be read, or a panic, is the host's deny with status 200. Only
//! what is not a hook at all (an unknown host, a missing or wrong token) gets a 4xx. A host that
//! cannot ask its user hands an `ask` to this server's own queue and waits on it in-process: the
//! answer comes the moment a person resolves it.

use std::time::Duration;

use rampart_integrations::hook::respond_guarded;
use rampart_integrations::hosts::{self, Approvals, ClaudeAllow, HookOptions, Host};
use rampart_integrations::identity::HookEnv;
use rampart_integrations::serve::{ApprovalRequest, Wait, DEFAULT_WAIT};
use rampart_runtime::shell::Reader;
use serde_json::Value;

use super::approvals::{enqueue, Queued};
use crate::approvals::{NewApproval, Status};
use crate::http::{Exchange, Reply};
use crate::tokens::Scope;
use crate::State;

thread_local! {
    static READER: std::cell::RefCell<Reader> = std::cell::RefCell::new(Reader::new());
}

pub fn hook(state: &State, ex: &mut Exchange, host: &str) -> Reply {
    let principal = match state.auth.check(ex, Scope::Eval, false) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let Some(host) = Host::parse(host) else {
        let known: Vec<&str> = Host::ALL.iter().map(|h| h.name()).collect();
        return Reply::error(
            404,
            format!("unknown hook host {host:?} (one of: {})", known.join(", ")),
        );
    };
    let claude_allow = match ex.query("claude_allow") {
        None => std::env::var(ClaudeAllow::ENV)
            .ok()
            .and_then(|w| ClaudeAllow::parse(&w))
            .unwrap_or_default(),
        Some(word) => match ClaudeAllow::parse(word) {
            Some(allow) => allow,
            None => {
                return Reply::error(
                    400,
                    format!("invalid claude_allow {word:?}: use explicit or host"),
                )
            }
        },
    };
    let queue = Queue {
        state,
        owner: principal.owner(),
    };
    let options = HookOptions {
        host,
        env: HookEnv::from_env(),
        claude_allow,
        approvals: &queue,
        approval_wait: DEFAULT_WAIT.min(state.approvals.timeout()),
        // As the hook process: answered once the record is written, synced with the next batch
        // (a process killed after the answer loses nothing; a machine that loses power may lose
        // the last batch, as with `rampart hook`).
        wait_for_sync: false,
        inject_panic: false,
    };
    let surface = state.engine.surface();
    let answer = match ex.body_within(hosts::MAX_INPUT) {
        Ok(input) => READER.with(|r| match r.try_borrow_mut() {
            Ok(mut reader) => respond_guarded(&input, surface, &mut reader, &options),
            Err(_) => respond_guarded(&input, surface, &mut Reader::new(), &options),
        }),
        Err(reply) => {
            let why = serde_json::from_slice::<Value>(&reply.body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(String::from))
                .unwrap_or_else(|| format!("HTTP {}", reply.status));
            hosts::refuse_input(
                &format!("cannot read the hook input ({why})"),
                surface,
                &options,
            )
        }
    };
    super::tool::publish_audit(state);
    Reply {
        status: 200,
        content_type: "application/json",
        headers: vec![("X-Rampart-Hook-Exit", answer.code.to_string())],
        body: answer.stdout.into_bytes(),
    }
}

/// The `ask` of a host that cannot ask its user: this server's queue, waited on in-process.
struct Queue<'a> {
    state: &'a State,
    owner: String,
}

impl Approvals for Queue<'_> {
    fn ask(&self, request: &ApprovalRequest, wait: Duration) -> Wait {
        let new = NewApproval {
            tool: request.tool.clone(),
            command: request.command.clone(),
            path: request.path.clone(),
            agent: request.agent.clone(),
            session: "hook".into(),
            run_id: request.run_id.clone(),
            credential_owner: self.owner.clone(),
            message: request.message.clone(),
            ..NewApproval::default()
        };
        let approval = match enqueue(self.state, new) {
            Ok(Queued::Granted { id }) => return Wait::Approved { id },
            Ok(Queued::Pending(a)) => a,
            Err(reply) => {
                return Wait::Unavailable(String::from_utf8_lossy(&reply.body).trim().to_string())
            }
        };
        let id = approval.id;
        match self.state.approvals.wait(&id, wait).map(|a| a.status) {
            Some(Status::Approved) => Wait::Approved { id },
            Some(Status::Denied) => Wait::Denied { id },
            Some(Status::Expired | Status::Pending) => Wait::TimedOut { id: Some(id) },
            None => Wait::Unavailable(format!("approval {id} is gone")),
        }
    }
}
