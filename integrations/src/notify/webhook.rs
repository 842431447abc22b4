//! `action: webhook`: a rule that hands the decision to an HTTP service (upstream §3.7).
//!
//! The threat: the decision now depends on a service that can be slow, down, wrong or hostile.
//! So the call waits at most the rule's timeout (5 s by default, never more than 30 s), and
//! anything but a 2xx answer whose JSON says `"decision": "allow"` or `"deny"` (a refused
//! connection, a timeout, a redirect, a 500, a page of HTML, an unknown word) falls back to the
//! rule's `fail_open`, which is false (deny) unless the policy says otherwise. The request is
//! upstream's: `{tool, params, agent, session, policy, timestamp}`; the params go unredacted,
//! because the service is the policy author's own decision point and may need to see them.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::http::{post_json, Route};

/// Upstream's default timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Upstream's cap on a rule's timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// A rule's `webhook:` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRule {
    pub url: String,
    pub timeout: Duration,
    /// Allow when the service gives no usable answer (default: deny).
    pub fail_open: bool,
}

impl WebhookRule {
    /// From the checked policy model (timeouts there are already defaulted and capped).
    pub fn from_policy(webhook: &rampart_compiler::model::Webhook) -> WebhookRule {
        WebhookRule {
            url: webhook.url.clone(),
            timeout: Duration::from_millis(webhook.timeout_ms),
            fail_open: webhook.fail_open,
        }
    }
}

/// The call the service is asked about.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WebhookCall {
    pub tool: String,
    pub params: Map<String, Value>,
    pub agent: String,
    pub session: String,
    /// The policy whose rule asked.
    pub policy: String,
    /// RFC 3339.
    pub timestamp: String,
}

/// The service's verdict, or the fallback's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub allow: bool,
    /// The service's reason, or why the fallback was taken.
    pub reason: String,
    /// Whether the service answered (false: `fail_open` decided).
    pub answered: bool,
}

/// Asks the rule's service about `call`.
pub fn decide(rule: &WebhookRule, call: &WebhookCall) -> Verdict {
    let timeout = effective_timeout(rule.timeout);
    let body = json!({
        "tool": call.tool,
        "params": call.params,
        "agent": call.agent,
        "session": call.session,
        "policy": call.policy,
        "timestamp": call.timestamp,
    })
    .to_string();
    let answer = post_json(
        &rule.url,
        body.as_bytes(),
        &[],
        timeout,
        Route::EnvironmentProxy,
    );
    let problem = match answer {
        Err(e) => format!("{e}"),
        Ok(a) if !a.is_success() => format!("answered HTTP {}", a.status),
        Ok(a) => match parse_answer(&a.body) {
            Ok((allow, reason)) => {
                return Verdict {
                    allow,
                    reason,
                    answered: true,
                }
            }
            Err(why) => why,
        },
    };
    let host = super::platform::host_of(&rule.url);
    let outcome = if rule.fail_open {
        "allowed (fail_open)"
    } else {
        "denied (fail_open is false)"
    };
    Verdict {
        allow: rule.fail_open,
        reason: format!("webhook {host} {problem}; {outcome}"),
        answered: false,
    }
}

/// A timeout of zero means the default; more than the cap is the cap.
fn effective_timeout(timeout: Duration) -> Duration {
    if timeout.is_zero() {
        DEFAULT_TIMEOUT
    } else {
        timeout.min(MAX_TIMEOUT)
    }
}

/// `{"decision": "allow"|"deny", "reason": "..."}`.
fn parse_answer(body: &[u8]) -> Result<(bool, String), String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| "answered with something that is not JSON".to_string())?;
    let reason = value
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match value.get("decision").and_then(Value::as_str) {
        Some(d) if d.eq_ignore_ascii_case("allow") => Ok((true, reason)),
        Some(d) if d.eq_ignore_ascii_case("deny") => Ok((false, reason)),
        Some(other) => Err(format!("answered an unknown decision {other:?}")),
        None => Err("answered without a decision".to_string()),
    }
}
