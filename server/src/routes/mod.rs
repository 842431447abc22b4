//! The API: which path is which route, what it needs, and the answer when something breaks.
//!
//! Routing is a match on the method and the path's segments (percent-decoded), as upstream's
//! `server.go` mux: an unknown path is 404 `{"error":"not found"}`, a known path with another
//! method Go's plain-text 405. A handler that panics is answered 500 and the server goes on.

pub mod approvals;
pub mod audit;
pub mod hooks;
pub mod policy;
pub mod rules;
pub mod stream;
pub mod tool;

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::json;

use crate::auth::Principal;
use crate::http::{self, Exchange, Method, Reply};
use crate::tokens::Scope;
use crate::State;

/// Answers one request.
pub fn handle(state: &State, request: tiny_http::Request) {
    let mut ex = Exchange::new(request);
    state.metrics.request();
    let reply = if ex.head_bytes() > http::MAX_HEAD {
        Reply::error(431, "request header fields too large")
    } else {
        match catch_unwind(AssertUnwindSafe(|| route(state, &mut ex))) {
            Ok(Some(reply)) => reply,
            // The route answered on the connection itself (the event stream).
            Ok(None) => return,
            Err(_) => Reply::error(500, "internal error"),
        }
    };
    ex.send(reply);
}

/// What a path needs besides its method.
fn route(state: &State, ex: &mut Exchange) -> Option<Reply> {
    let segments: Vec<String> = ex
        .path
        .split('/')
        .skip(1)
        .map(|s| http::decode(s, false))
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = ex.method;
    let only = |want: Method, allow: &str, f: &mut dyn FnMut() -> Option<Reply>| {
        if m == want {
            f()
        } else {
            Some(Reply::method_not_allowed(allow))
        }
    };
    match seg.as_slice() {
        ["healthz"] => only(Method::Get, "GET", &mut || Some(health(state))),
        ["metrics"] if state.config.metrics => only(Method::Get, "GET", &mut || {
            Some(admin(state, ex).map_or_else(|e| e, |_| state.metrics.render(state)))
        }),
        ["v1", "tool", name] => only(Method::Post, "POST", &mut || {
            Some(tool::tool(state, ex, name))
        }),
        ["v1", "preflight", name] => only(Method::Post, "POST", &mut || {
            Some(tool::preflight(state, ex, name))
        }),
        ["v1", "hooks", host] => only(Method::Post, "POST", &mut || {
            Some(hooks::hook(state, ex, host))
        }),
        ["v1", "approvals"] => match m {
            Method::Post => Some(with_admin(state, ex, approvals::create)),
            Method::Get => Some(with_admin(state, ex, approvals::list)),
            _ => Some(Reply::method_not_allowed("GET, POST")),
        },
        ["v1", "approvals", "bulk-resolve"] => only(Method::Post, "POST", &mut || {
            Some(with_admin(state, ex, approvals::bulk_resolve))
        }),
        ["v1", "approvals", id] => only(Method::Get, "GET", &mut || {
            Some(with_admin(state, ex, |s, ex, _| approvals::get(s, ex, id)))
        }),
        ["v1", "approvals", id, "resolve"] => only(Method::Post, "POST", &mut || {
            Some(approvals::resolve(state, ex, id))
        }),
        ["v1", "rules", "auto-allowed"] => only(Method::Get, "GET", &mut || {
            Some(with_admin(state, ex, rules::auto_allowed))
        }),
        ["v1", "rules", "auto-allowed", name] => only(Method::Delete, "DELETE", &mut || {
            Some(with_admin(state, ex, |s, ex, _| {
                rules::delete_auto_allowed(s, ex, name)
            }))
        }),
        ["v1", "rules", "learn"] => only(Method::Post, "POST", &mut || {
            Some(with_admin(state, ex, rules::learn))
        }),
        ["v1", "status"] => only(Method::Get, "GET", &mut || {
            Some(with_admin(state, ex, policy::status))
        }),
        ["v1", "policies"] => only(Method::Get, "GET", &mut || {
            Some(with_admin(state, ex, policy::policies))
        }),
        ["v1", "policy", "summary"] => only(Method::Get, "GET", &mut || {
            Some(with_admin(state, ex, policy::summary))
        }),
        ["v1", "policy", "reload"] => only(Method::Post, "POST", &mut || {
            Some(with_admin(state, ex, policy::reload))
        }),
        ["v1", "test"] => only(Method::Post, "POST", &mut || {
            Some(with_admin(state, ex, policy::test))
        }),
        ["v1", "audit", what] if ["events", "dates", "export", "stats"].contains(what) => {
            only(Method::Get, "GET", &mut || {
                Some(with_admin(state, ex, |s, ex, _| audit::route(s, ex, what)))
            })
        }
        ["v1", "events", "stream"] => {
            if m != Method::Get {
                return Some(Reply::method_not_allowed("GET"));
            }
            match state.auth.check(ex, Scope::Admin, true) {
                Ok(_) => stream::stream(state, std::mem::replace(ex, placeholder())),
                Err(reply) => Some(reply),
            }
        }
        _ => Some(Reply::not_found()),
    }
}

/// An exchange with nothing to answer (what is left behind when a route takes the real one).
fn placeholder() -> Exchange {
    Exchange::detached()
}

fn admin(state: &State, ex: &Exchange) -> Result<Principal, Reply> {
    state.auth.check(ex, Scope::Admin, false)
}

fn with_admin(
    state: &State,
    ex: &mut Exchange,
    f: impl FnOnce(&State, &mut Exchange, &Principal) -> Reply,
) -> Reply {
    match admin(state, ex) {
        Ok(principal) => f(state, ex, &principal),
        Err(reply) => reply,
    }
}

/// `GET /healthz`.
fn health(state: &State) -> Reply {
    Reply::json(
        200,
        &json!({
            "service": "rampart",
            "status": "ok",
            "mode": state.config.mode.as_str(),
            "uptime_seconds": state.started.elapsed().as_secs(),
            "version": format!("v{}", env!("CARGO_PKG_VERSION")),
        }),
    )
}

/// A string field of a request body; absent or not a string reads as empty, the zero value
/// upstream's Go struct decoding gives it.
pub fn text_field(body: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    body.get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The request body as a JSON object, or the 4xx that says why not.
pub fn json_body(ex: &mut Exchange) -> Result<serde_json::Map<String, serde_json::Value>, Reply> {
    let bytes = ex.body()?;
    crate::body::object(&bytes).map_err(|e| Reply::error(400, e))
}
