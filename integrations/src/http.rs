//! The one HTTP client of the surfaces: a POST or GET with a deadline, for notifications, webhook
//! actions and the loopback probe of a running server.
//!
//! The threat: a decision that waits on the network. A hook or proxy that blocks on a slow
//! webhook stalls the agent; one that follows a redirect posts a tool call's parameters
//! somewhere the policy never named; one that reads an unbounded answer can be made to eat
//! memory. So every request here has one deadline for everything (resolve, connect, TLS, send,
//! answer), follows no redirect, and reads at most [`MAX_ANSWER`] bytes.
//!
//! Why ureq (with rustls and ring, webpki roots, nothing else): Slack, Discord and Teams only
//! take HTTPS, so a TLS stack is needed. ureq is blocking (a one-shot hook has no use for an
//! async runtime, which reqwest would bring: tokio and hyper), honours the usual proxy variables,
//! and its TLS is Rust compiled into the binary: nothing like libssl is loaded when a hook
//! process starts, which would cost the hook's whole time budget. The price in binary size and
//! build time is in benches/RESULTS.md ("The HTTP client"), most of it rustls and ring.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

/// The most of an answer that is read.
pub const MAX_ANSWER: u64 = 1 << 20;

/// An answer: its status and (at most [`MAX_ANSWER`] bytes of) its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// The deadline passed.
    Timeout,
    /// Anything else: a bad URL, no route, a refused connection, a TLS failure, a broken answer.
    Failed(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Timeout => f.write_str("timed out"),
            HttpError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for HttpError {}

/// Whether to use the proxy named in the environment (`HTTPS_PROXY`, ...): yes for the internet,
/// never for a server on loopback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    EnvironmentProxy,
    Direct,
}

fn agent(timeout: Duration, route: Route) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")));
    if route == Route::Direct {
        config = config.proxy(None);
    }
    config.build().into()
}

fn failed(e: ureq::Error) -> HttpError {
    match e {
        ureq::Error::Timeout(_) => HttpError::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => HttpError::Timeout,
        other => HttpError::Failed(other.to_string()),
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Result<Answer, HttpError> {
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_vec()
        .map_err(failed)?;
    Ok(Answer { status, body })
}

/// POSTs `body` as JSON to `url`, with extra `headers`, within `timeout`.
pub fn post_json(
    url: &str,
    body: &[u8],
    headers: &[(&str, &str)],
    timeout: Duration,
    route: Route,
) -> Result<Answer, HttpError> {
    let mut request = agent(timeout, route)
        .post(url)
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send(body).map_err(failed).and_then(read)
}

/// GETs `url` within `timeout`.
pub fn get(
    url: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
    route: Route,
) -> Result<Answer, HttpError> {
    let mut request = agent(timeout, route).get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.call().map_err(failed).and_then(read)
}

/// Whether a rampart server answers `GET <base>/healthz` with a 2xx within `timeout`.
pub fn server_runs(base: &str, timeout: Duration) -> bool {
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    get(&url, &[], timeout, Route::Direct).is_ok_and(|a| a.is_success())
}
