//! `rampart hook`: one process per tool call, reading the host's payload on stdin and printing the
//! host's answer, whatever happens in between.
//!
//! The threat: for Claude Code, Codex and Gemini CLI, a hook that exits with anything but 0 or 2
//! is a hook that let the call through; a Rust panic exits 101. So [`run`] catches every panic
//! (and silences the panic message, which would land on stderr, where Claude Code reads a hook
//! error) and answers it with the host's deny; only if even that cannot be rendered does it exit
//! 2 with the reason on stderr, which those hosts read as "block". The release profile must keep
//! unwinding (`panic = "abort"` would turn every panic into an allow).
//!
//! Everything that can wait is lazy: the policy is opened and the audit writer created only when
//! the payload holds a call, and the server's address and token are read only for an `ask` that
//! goes to its queue.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use rampart_compiler::sources::user_home;
use rampart_runtime::settings::{Mode, ENV_MODE};
use rampart_runtime::shell::Reader;
use serde_json::Value;

use crate::hosts::{
    self, Answer, Approvals, ClaudeAllow, HookEvent, HookOptions, Host, Refusal, Reply, Verdict,
};
use crate::identity::HookEnv;
use crate::serve::{self, ApprovalRequest, Server, Wait};
use crate::surface::{AuditTarget, Surface, SurfaceConfig};

/// Test-only switch: `1` makes the hook panic once the payload is read. It can only ever turn a
/// call into a deny, so it is harmless in a release build.
pub const ENV_TEST_PANIC: &str = "RAMPART_HOOK_TEST_PANIC";

/// The modes a hook accepts (upstream's `--mode`).
pub const MODES: [Mode; 3] = [Mode::Enforce, Mode::Monitor, Mode::Audit];

/// How `rampart hook` was invoked; what is `None` comes from the environment.
#[derive(Clone, Debug, Default)]
pub struct HookArgs {
    pub host: Option<Host>,
    /// `--mode`; else `RAMPART_MODE`; else enforce.
    pub mode: Option<Mode>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--audit-dir`; else `~/.rampart/audit`.
    pub audit_dir: Option<PathBuf>,
    /// `--serve-url`; else `RAMPART_URL`; else `http://127.0.0.1:9090`.
    pub serve_url: Option<String>,
    /// `--claude-allow`; else `RAMPART_CLAUDE_ALLOW`; else explicit.
    pub claude_allow: Option<ClaudeAllow>,
    /// `--approval-timeout`; else [`serve::DEFAULT_WAIT`].
    pub approval_wait: Option<Duration>,
}

/// Answers the payload on `stdin`. Never panics and never returns without the host's answer.
pub fn run(args: &HookArgs, stdin: &mut dyn Read) -> Answer {
    std::panic::set_hook(Box::new(|_| {}));
    let host = args.host.unwrap_or(Host::ClaudeCode);
    let mut input = Vec::new();
    let read = catch_unwind(AssertUnwindSafe(|| {
        stdin
            .take(hosts::MAX_INPUT as u64 + 1)
            .read_to_end(&mut input)
    }));
    let answered = catch_unwind(AssertUnwindSafe(|| match read {
        Ok(Ok(_)) => answer(args, host, &input),
        Ok(Err(e)) => refuse_unread(args, host, &format!("cannot read the hook input ({e})")),
        Err(_) => refuse_unread(args, host, "cannot read the hook input"),
    }));
    answered.unwrap_or_else(|_| panicked(host, &input))
}

fn answer(args: &HookArgs, host: Host, input: &[u8]) -> Answer {
    let surface = surface(args);
    let approvals = LazyServer::new(args.serve_url.clone());
    let options = options(args, host, &approvals);
    let answer = hosts::respond(input, &surface, &mut Reader::new(), &options);
    // The process exits once the answer is printed (the record is already written): taking the
    // evaluator and the writer apart first would only cost time.
    std::mem::forget(surface);
    answer
}

/// [`hosts::respond`] for a process that answers many hooks (the server's `POST /v1/hooks/{host}`):
/// a panic is answered with the host's deny, as `rampart hook` answers it, not with an error the
/// host would read as "go ahead".
pub fn respond_guarded(
    input: &[u8],
    surface: &Surface,
    reader: &mut Reader,
    options: &HookOptions<'_>,
) -> Answer {
    catch_unwind(AssertUnwindSafe(|| {
        hosts::respond(input, surface, reader, options)
    }))
    .unwrap_or_else(|_| panicked(options.host, input))
}

fn refuse_unread(args: &HookArgs, host: Host, reason: &str) -> Answer {
    let surface = surface(args);
    let approvals = LazyServer::new(args.serve_url.clone());
    let options = options(args, host, &approvals);
    hosts::refuse(Refusal::new(None, reason), &surface, &options)
}

fn surface(args: &HookArgs) -> Surface {
    let home = user_home();
    let mode = args.mode.unwrap_or_else(|| {
        let word = std::env::var(ENV_MODE).ok();
        Mode::from_env(word.as_deref().map(str::as_bytes), &MODES)
    });
    Surface::one_shot(SurfaceConfig {
        mode,
        discovery: rampart_policies::discovery(args.config.clone()),
        audit: AuditTarget {
            dir: args.audit_dir.clone(),
            home,
        },
    })
}

fn options<'a>(args: &HookArgs, host: Host, approvals: &'a LazyServer) -> HookOptions<'a> {
    let claude_allow = args.claude_allow.unwrap_or_else(|| {
        std::env::var(ClaudeAllow::ENV)
            .ok()
            .and_then(|w| ClaudeAllow::parse(&w))
            .unwrap_or_default()
    });
    HookOptions {
        host,
        env: HookEnv::from_env(),
        claude_allow,
        approvals,
        approval_wait: args.approval_wait.unwrap_or(serve::DEFAULT_WAIT),
        // A one-shot surface never syncs; this says what a long-lived one would do.
        wait_for_sync: true,
        inject_panic: std::env::var(ENV_TEST_PANIC).is_ok_and(|v| v == "1"),
    }
}

/// The answer after a panic: the host's deny, for the event the payload names when it can still
/// be read; exit 2 with the reason on stderr when not even that can be rendered.
fn panicked(host: Host, input: &[u8]) -> Answer {
    const REASON: &str = "rampart hook failed unexpectedly (a panic); failing closed";
    let rendered = catch_unwind(AssertUnwindSafe(|| {
        let event = sniff_event(input);
        let verdict = match event {
            HookEvent::Pre => Verdict::Deny(REASON.into()),
            _ => Verdict::Block(REASON.into(), None),
        };
        let reply = Reply {
            event,
            verdict,
            mcp: false,
        };
        hosts::render(host, &reply)
    }));
    rendered.unwrap_or_else(|_| Answer {
        stdout: String::new(),
        stderr: format!("Rampart: {REASON}\n"),
        code: 2,
    })
}

/// Whether the payload is an after-event, from its event name alone.
fn sniff_event(input: &[u8]) -> HookEvent {
    let Ok(Value::Object(p)) = serde_json::from_slice::<Value>(input) else {
        return HookEvent::Pre;
    };
    let name = ["hook_event_name", "hookName", "hookEventName"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_str))
        .unwrap_or_default();
    match name {
        "PostToolUse"
        | "postToolUse"
        | "AfterTool"
        | "afterShellExecution"
        | "afterMCPExecution" => HookEvent::Post,
        _ => HookEvent::Pre,
    }
}

/// The server's approval queue, located (`RAMPART_URL`, the token file) only when an `ask`
/// needs it.
struct LazyServer {
    url: Option<String>,
    server: OnceLock<Result<Server, String>>,
}

impl LazyServer {
    fn new(url: Option<String>) -> LazyServer {
        LazyServer {
            url,
            server: OnceLock::new(),
        }
    }
}

impl Approvals for LazyServer {
    fn ask(&self, request: &ApprovalRequest, wait: Duration) -> Wait {
        let server = self.server.get_or_init(|| {
            let home = user_home();
            Server::from_env(self.url.as_deref(), home.as_deref().map(Path::new))
        });
        server.ask(request, wait)
    }
}
