//! `GET /metrics` (with `--metrics`): Prometheus text of the server's decisions (reference §3.7:
//! `rampart_decisions_total{action,policy}`, `rampart_eval_duration_seconds`,
//! `rampart_pending_approvals`, `rampart_policy_count`, `rampart_uptime_seconds`) plus request
//! and worker counts.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::engine::Outcome;
use crate::http::Reply;
use crate::State;

/// Upper bounds of the evaluation time histogram, in seconds.
const BUCKETS: [f64; 8] = [
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.1,
];

#[derive(Default)]
pub struct Metrics {
    requests: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    decisions: BTreeMap<(String, String), u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_us: u64,
    tools: std::collections::BTreeSet<String>,
}

impl Metrics {
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a decision the server answered with.
    pub fn decided(&self, outcome: &Outcome) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let d = &outcome.decision;
        let policy = d.matched_policies.first().cloned().unwrap_or_default();
        *inner
            .decisions
            .entry((d.action.as_str().to_string(), policy))
            .or_default() += 1;
        let secs = outcome.eval_us as f64 / 1e6;
        for (b, bound) in inner.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *b += 1;
            }
        }
        inner.count += 1;
        inner.sum_us = inner.sum_us.saturating_add(outcome.eval_us);
        drop(inner);
    }

    /// Notes a tool the server decided a call of (for `/v1/status`'s call counts).
    pub fn tool(&self, tool: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.tools.len() < 1024 && !inner.tools.contains(tool) {
            inner.tools.insert(tool.to_string());
        }
    }

    pub fn tools(&self) -> Vec<String> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.tools.iter().cloned().collect()
    }

    /// The text exposition.
    pub fn render(&self, state: &State) -> Reply {
        let mut out = String::new();
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writeln!(out, "# HELP rampart_decisions_total Decisions answered, by action and first matched policy.");
        let _ = writeln!(out, "# TYPE rampart_decisions_total counter");
        for ((action, policy), n) in &inner.decisions {
            let _ = writeln!(
                out,
                "rampart_decisions_total{{action=\"{}\",policy=\"{}\"}} {n}",
                escape(action),
                escape(policy)
            );
        }
        let _ = writeln!(
            out,
            "# HELP rampart_eval_duration_seconds Time to decide a call."
        );
        let _ = writeln!(out, "# TYPE rampart_eval_duration_seconds histogram");
        for (n, bound) in inner.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "rampart_eval_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "rampart_eval_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            inner.count
        );
        let _ = writeln!(
            out,
            "rampart_eval_duration_seconds_sum {}",
            inner.sum_us as f64 / 1e6
        );
        let _ = writeln!(out, "rampart_eval_duration_seconds_count {}", inner.count);
        drop(inner);
        let policies = state
            .engine
            .policy()
            .map_or(0, |p| p.program().policy_count());
        let gauges = [
            (
                "rampart_pending_approvals",
                "Approvals waiting for a person.",
                state.approvals.pending().len() as u64,
            ),
            (
                "rampart_policy_count",
                "Policies in force.",
                policies as u64,
            ),
            (
                "rampart_uptime_seconds",
                "Seconds since the server started.",
                state.started.elapsed().as_secs(),
            ),
            (
                "rampart_http_requests_total",
                "HTTP requests received.",
                self.requests.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        Reply::text(200, "text/plain; version=0.0.4; charset=utf-8", out)
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
