//! The command line's side of the API (`rampart pending`, `approve`, `deny`): one HTTP/1.1
//! request per call over loopback (or any IP literal), the admin token as bearer.
//!
//! No name resolution and no proxies: the server's address is an IP literal or `localhost`, and
//! the admin token never goes anywhere a DNS answer or a proxy variable could send it. The
//! request itself is the hooks' client ([`rampart_integrations::serve::Server`]) with a person's
//! limits: longer waits, larger replies.

use std::path::Path;
use std::time::Duration;

use rampart_integrations::serve::{url_in_force, Server};
use serde_json::Value;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REPLY: usize = 16 << 20;

/// A server to talk to, with the admin token.
#[derive(Clone, Debug)]
pub struct Client {
    server: Server,
}

impl Client {
    /// The server at `url` (else `RAMPART_URL`, else [`rampart_integrations::serve::DEFAULT_URL`]) with `token` (else
    /// `RAMPART_TOKEN`, else `~/.rampart/token`).
    pub fn new(url: Option<&str>, token: Option<&str>, home: &Path) -> Result<Client, String> {
        let url = url_in_force(url);
        let token = match token {
            Some(t) => t.to_string(),
            None => crate::secrets::admin_token_for_client(home)?,
        };
        let server =
            Server::new(&url, Some(token))?.with_limits(CONNECT_TIMEOUT, TIMEOUT, MAX_REPLY);
        Ok(Client { server })
    }

    /// One request: the status and the JSON body (`Null` when empty).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        self.server.call(method, path, body).map_err(|e| {
            if e.starts_with("no rampart server") {
                format!("{e}; start one with `rampart serve`")
            } else {
                e
            }
        })
    }
}
