//! Telling people about decisions: a policy's `notify:` webhook (Slack, Discord, Teams or a plain
//! JSON endpoint), and the `action: webhook` rules that ask a service to decide ([`webhook`]).
//!
//! The threat is twofold. A notification that never arrives hides an agent that keeps trying
//! something denied; a notification path that can slow down or fail a decision hands the agent
//! (or whoever controls the endpoint) a way to stall or open the firewall. So notifying is never
//! part of deciding: the decision is made, recorded and answered first, and only then is a
//! notice sent, with a short deadline, at most [`rate::DEFAULT_PER_MINUTE`] per URL per minute
//! ([`rate`]), its text redacted of secrets and rendered so that it cannot ping a channel
//! ([`platform`]). A one-shot hook sends from a detached process ([`Notifier::send_detached`]),
//! so the host does not wait for the network; the server sends from a thread of its own.
//!
//! ```no_run
//! # use rampart_integrations::notify::{Notice, Notifier, NotifyConfig};
//! # fn after_answering(config: NotifyConfig, notice: Notice, home: &std::path::Path) {
//! // In `rampart hook`, after the host's answer is written and the audit writer dropped:
//! if let Some(notifier) = Notifier::for_hook(&config, home) {
//!     if notifier.wants(rampart_runtime::program::Action::Deny) {
//!         let _ = notifier.send_detached(notice);
//!     }
//! }
//! # }
//! ```

// Runs after a decision in every surface: no unwrap, no indexing, no panics outside tests.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod detach;
pub mod platform;
pub mod rate;
pub mod webhook;

use std::path::Path;
use std::time::Duration;

use rampart_runtime::program::Action;

use crate::http::{post_json, HttpError, Route};
pub use platform::Platform;
use rate::{Admit, RateLimit};

/// How long a notification may take, from connecting to the answer.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// A policy's `notify:` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyConfig {
    pub url: String,
    /// `auto`, `slack`, `discord`, `teams` or `webhook`.
    pub platform: String,
    /// The actions that notify; empty means upstream's default, deny and ask.
    pub on: Vec<Action>,
}

impl NotifyConfig {
    /// From the checked policy model.
    pub fn from_policy(notify: &rampart_compiler::model::Notify) -> NotifyConfig {
        NotifyConfig {
            url: notify.url.clone(),
            platform: notify.platform.clone(),
            on: notify.on.clone(),
        }
    }
}

/// What happened, as a notification tells it. Built by the surface from its decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notice {
    /// `deny`, `ask` or `watch`.
    pub action: String,
    /// The rampart tool (`exec`, `read`, ...).
    pub tool: String,
    /// What the call was about: the command, the path or the URL.
    pub command: String,
    /// The policy that decided.
    pub policy: String,
    pub message: String,
    pub agent: String,
    pub session: String,
    /// RFC 3339.
    pub timestamp: String,
}

impl Notice {
    /// The notice with credential shapes removed from everything an agent wrote (§5.5).
    fn redacted(mut self) -> Notice {
        for text in [&mut self.command, &mut self.message] {
            if let Some(clean) = rampart_audit::redact::string(text) {
                *text = clean;
            }
        }
        self
    }
}

/// What became of a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The endpoint answered with this status.
    Delivered(u16),
    /// Over the rate limit: counted, and reported with the next one sent.
    HeldBack,
}

/// Why a notification was not delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifyError {
    Http(HttpError),
    /// The endpoint answered, but not with a 2xx.
    Status(u16),
}

impl std::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotifyError::Http(e) => write!(f, "notification failed: {e}"),
            NotifyError::Status(s) => write!(f, "notification answered HTTP {s}"),
        }
    }
}

impl std::error::Error for NotifyError {}

/// Sends notices for one `notify:` block.
#[derive(Debug)]
pub struct Notifier {
    url: String,
    platform: Platform,
    on: Vec<Action>,
    limit: RateLimit,
    timeout: Duration,
}

impl Notifier {
    /// A notifier whose rate-limit state is `limit`; `None` when the block has no URL or names an
    /// unknown platform (the loader rejects those; this is the second line).
    pub fn new(config: &NotifyConfig, limit: RateLimit) -> Option<Notifier> {
        let url = config.url.trim();
        if url.is_empty() {
            return None;
        }
        let platform = Platform::from_policy(&config.platform, url)?;
        let on = if config.on.is_empty() {
            vec![Action::Deny, Action::Ask]
        } else {
            config.on.clone()
        };
        Some(Notifier {
            url: url.to_string(),
            platform,
            on,
            limit,
            timeout: TIMEOUT,
        })
    }

    /// For one-shot processes: the rate-limit state in `<rampart home>/notify-state.json`.
    pub fn for_hook(config: &NotifyConfig, rampart_home: &Path) -> Option<Notifier> {
        let state = rampart_home.join("notify-state.json");
        Notifier::new(config, RateLimit::in_file(state, rate::DEFAULT_PER_MINUTE))
    }

    /// For the server: the rate-limit state in memory.
    pub fn for_server(config: &NotifyConfig) -> Option<Notifier> {
        Notifier::new(config, RateLimit::in_memory(rate::DEFAULT_PER_MINUTE))
    }

    /// Overrides the deadline (tests; a server that wants a longer one).
    pub fn with_timeout(mut self, timeout: Duration) -> Notifier {
        self.timeout = timeout;
        self
    }

    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// Whether decisions with `action` notify (`notify.on`).
    pub fn wants(&self, action: Action) -> bool {
        self.on.contains(&action)
    }

    /// Sends `notice` now, blocking for at most the deadline. Call it only after the decision
    /// has been answered (or from a thread of its own).
    pub fn send(&self, notice: Notice) -> Result<Sent, NotifyError> {
        let now = rampart_audit::Timestamp::now().unix_ms();
        let held_back = match self.limit.admit(&self.url, now) {
            Admit::HoldBack => return Ok(Sent::HeldBack),
            Admit::Send { held_back } => held_back,
        };
        let body = self
            .platform
            .body(&notice.redacted(), held_back)
            .to_string();
        let answer = post_json(
            &self.url,
            body.as_bytes(),
            &[],
            self.timeout,
            Route::EnvironmentProxy,
        )
        .map_err(NotifyError::Http)?;
        if answer.is_success() {
            Ok(Sent::Delivered(answer.status))
        } else {
            Err(NotifyError::Status(answer.status))
        }
    }

    /// Sends `notice` from a detached process and returns at once (a one-shot hook, after it has
    /// answered). In a process with other threads it sends inline instead (see `detach`).
    pub fn send_detached(self, notice: Notice) -> std::io::Result<()> {
        detach::detached(move || {
            let _ = self.send(notice);
        })
    }
}
