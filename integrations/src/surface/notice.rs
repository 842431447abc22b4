//! Notifications of decisions, as the policy's `notify:` block asks (upstream's Slack, Discord,
//! Teams or plain webhook posts).
//!
//! The threat: a notification path that slows or fails a decision, or one that quietly never
//! fires. So notifying happens after the decision is made and recorded, never changes it, and
//! never blocks the caller on the network: a one-shot process sends from a detached grandchild
//! ([`Notifier::send_detached`]), a long-lived one from a thread of its own, with one rate limit
//! for the whole process. Which decisions notify is the policy's (`notify.on`); what the policy
//! said counts, not the mode's answer, so monitor mode still tells people what it observed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use rampart_runtime::call::canonicalize;
use rampart_runtime::eval::{Action, Decision};
use rampart_runtime::program::NotifyMeta;

use super::policy::OpenPolicy;
use super::Request;
use crate::notify::{Notice, Notifier, NotifyConfig};

/// How a surface sends its notices.
pub(crate) enum Notices {
    /// A one-shot process: detached sends, the rate limit kept in `<home>/notify-state.json`.
    Detached { rampart_home: Option<PathBuf> },
    /// A long-lived process: a thread per notice, the rate limit kept in the notifier, which is
    /// kept while the policy's `notify:` block stays the same.
    Threads {
        current: Mutex<Option<(NotifyConfig, Arc<Notifier>)>>,
    },
}

impl Notices {
    pub(crate) fn detached(rampart_home: Option<PathBuf>) -> Notices {
        Notices::Detached { rampart_home }
    }

    pub(crate) fn threads() -> Notices {
        Notices::Threads {
            current: Mutex::new(None),
        }
    }

    /// Sends the notice of `decision` if the policy's `notify:` block wants its action. The
    /// policy's metadata is read only for an action that can notify, and its policy names only
    /// when a block exists.
    pub(crate) fn after(&self, request: &Request<'_>, decision: &Decision, policy: &OpenPolicy) {
        if !matches!(decision.action, Action::Deny | Action::Ask | Action::Watch) {
            return;
        }
        let Some(config) = policy.notify().as_ref().map(config) else {
            return;
        };
        let name = decision.winner.and_then(|(pi, _)| {
            let head = policy.metadata_head()?;
            head.policies.get(pi as usize).map(|p| p.name.clone())
        });
        let notice = notice(request, decision, name.unwrap_or_default());
        match self {
            Notices::Detached { rampart_home } => {
                let Some(home) = rampart_home else {
                    return;
                };
                if let Some(notifier) = Notifier::for_hook(&config, home) {
                    if notifier.wants(decision.action) {
                        let _ = notifier.send_detached(notice);
                    }
                }
            }
            Notices::Threads { current } => {
                let Some(notifier) = shared(current, config) else {
                    return;
                };
                if notifier.wants(decision.action) {
                    std::thread::spawn(move || notifier.send(notice));
                }
            }
        }
    }
}

/// The service's notifier for `config`: the same one (and so the same rate limit) while the
/// policy's `notify:` block is unchanged.
fn shared(
    current: &Mutex<Option<(NotifyConfig, Arc<Notifier>)>>,
    config: NotifyConfig,
) -> Option<Arc<Notifier>> {
    let mut current = current.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((kept, notifier)) = current.as_ref() {
        if *kept == config {
            return Some(Arc::clone(notifier));
        }
    }
    let notifier = Arc::new(Notifier::for_server(&config)?);
    *current = Some((config, Arc::clone(&notifier)));
    Some(notifier)
}

fn config(notify: &NotifyMeta) -> NotifyConfig {
    NotifyConfig {
        url: notify.url.clone(),
        platform: notify.platform.clone(),
        on: notify.on.clone(),
    }
}

fn notice(request: &Request<'_>, decision: &Decision, policy: String) -> Notice {
    let call = request.call;
    let subject = canonicalize(call, &[]).ok().and_then(|c| {
        c.command
            .or(c.path)
            .or(c.url)
            .map(str::to_string)
            .or(c.domain)
    });
    Notice {
        action: decision.action.to_string(),
        tool: call.tool.clone(),
        command: subject.unwrap_or_default(),
        policy,
        message: decision.message.clone(),
        agent: call.agent.clone(),
        session: call.session.clone(),
        timestamp: rampart_audit::Timestamp::now().rfc3339_nano(),
    }
}
