//! rampart-integrations' tests against real components (a real HTTP server on loopback), as one
//! binary with a module per concern.

mod notify;
mod support;
