//! `GET /v1/events/stream`: server-sent events (reference §3.7). The route takes the connection:
//! it writes the head itself and then one event per line as they come, flushing each, with a
//! keep-alive comment when nothing happens (tiny_http's responses buffer and would hold events
//! back). A client that stops reading hits the socket's write timeout or its queue's bound and is
//! dropped.

use std::io::Write;
use std::sync::mpsc::RecvTimeoutError;

use crate::events::KEEPALIVE;
use crate::http::{Exchange, Reply};
use crate::State;

/// Streams events to `ex` until the client goes away. Always answers on the connection itself.
pub fn stream(state: &State, ex: Exchange) -> Option<Reply> {
    let events = state.events.subscribe();
    crate::watch::poke();
    // "connected" promises every decision from then on: the watcher must follow the log first.
    let _ = state
        .events
        .wait_following(std::time::Duration::from_secs(2));
    let mut writer = ex.into_writer()?;
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\nX-Accel-Buffering: no\r\n\r\ndata: {\"type\":\"connected\"}\n\n";
    if writer
        .write_all(head.as_bytes())
        .and_then(|()| writer.flush())
        .is_err()
    {
        return None;
    }
    loop {
        let chunk = match events.recv_timeout(KEEPALIVE) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => ": keepalive\n\n".to_string(),
            Err(RecvTimeoutError::Disconnected) => return None,
        };
        if writer
            .write_all(chunk.as_bytes())
            .and_then(|()| writer.flush())
            .is_err()
        {
            return None;
        }
    }
}
