//! `POST /v1/hooks/{host}`: an agent host's `http` hook, answered exactly as `rampart hook
//! --format {host}` would print it (same adapters, same audit), without a process per call.

use crate::http::{Exchange, Reply};
use crate::tokens::Scope;
use crate::State;

pub fn hook(state: &State, ex: &mut Exchange, host: &str) -> Reply {
    if let Err(reply) = state.auth.check(ex, Scope::Eval, false) {
        return reply;
    }
    Reply::error(
        503,
        format!("http hooks for {host:?} are not available in this build; failing closed"),
    )
}
