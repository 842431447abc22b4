//! `rampart serve`: the policy server, upstream's HTTP API (reference §3) on tiny_http.
//!
//! The threat it answers: hosts that cannot ask a person themselves (Codex, Cursor, Gemini, the
//! preload, the MCP proxy) and programs in other languages need somewhere to ask, and that place
//! must not become the weak point. So the server decides through the same decide-and-record path
//! as every surface ([`engine`]), answers only on loopback unless told otherwise, authenticates
//! every route but the health check ([`auth`]), refuses hostile bodies with upstream's 4xx
//! ([`http`], [`body`]), keeps one slow client from holding another ([`net`]), and never lets an
//! approval outlive its timeout or answer a call it was not given for ([`approvals`]).
//!
//! Modules: [`net`] (sockets and workers) → [`http`] and [`body`] (requests, replies, strict
//! JSON) → [`routes`] (the API) over [`State`]: [`engine`] (deciding and recording),
//! [`approvals`], [`auth`] with [`secrets`] and [`tokens`], [`events`] (the event stream),
//! [`metrics`]; [`preload_socket`] takes the preload library's records; [`service`] is the
//! process around it all (pid file, background start, systemd unit); [`client`] is the CLI's
//! side of the API.

pub mod approvals;
pub mod auth;
pub mod body;
pub mod client;
pub mod engine;
pub mod events;
pub mod http;
pub mod metrics;
pub mod net;
pub mod preload_socket;
pub mod request;
pub mod routes;
pub mod secrets;
pub mod service;
pub mod tokens;
mod watch;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rampart_runtime::settings::Mode;

/// How `rampart serve` was asked to run.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: String,
    /// 0: no TCP listener (the Unix socket only).
    pub port: u16,
    pub socket: Option<PathBuf>,
    pub mode: Mode,
    /// `--config`: the primary policy file or directory.
    pub config: Option<PathBuf>,
    /// `--config-dir`: the user policy directory (default `~/.rampart/policies`).
    pub config_dir: Option<PathBuf>,
    pub audit_dir: Option<PathBuf>,
    pub approval_timeout: Duration,
    pub metrics: bool,
    /// Serve on a non-loopback address.
    pub allow_remote: bool,
    pub home: PathBuf,
    /// Where `./rampart.yaml` is looked up.
    pub cwd: PathBuf,
}

impl Config {
    /// The user policy directory in force: where persisted approvals and learned rules go.
    pub fn policy_dir(&self) -> PathBuf {
        self.config_dir
            .clone()
            .unwrap_or_else(|| self.home.join(".rampart").join("policies"))
    }

    pub fn audit_dir(&self) -> PathBuf {
        self.audit_dir
            .clone()
            .unwrap_or_else(|| self.home.join(".rampart").join("audit"))
    }
}

/// Everything the routes share.
pub struct State {
    pub config: Config,
    pub engine: engine::Engine,
    pub approvals: approvals::Store,
    pub auth: auth::Auth,
    pub events: events::Hub,
    pub metrics: metrics::Metrics,
    pub started: Instant,
    /// When the policy was last reloaded through the API (rate limit).
    pub last_reload: Mutex<Option<Instant>>,
    /// When a rule was last learned through the API (rate limit).
    pub last_learn: Mutex<Option<Instant>>,
}

/// A running server.
pub struct Running {
    pub state: Arc<State>,
    /// The TCP address it listens on, when it does.
    pub addr: Option<std::net::SocketAddr>,
    servers: Vec<Arc<tiny_http::Server>>,
}

impl Running {
    /// The tiny_http servers (one per listener).
    pub fn servers(&self) -> &[Arc<tiny_http::Server>] {
        &self.servers
    }
}

/// Starts the server: opens the policy and the audit chain, binds the listeners, starts the
/// workers, the expiry sweeper, the policy watcher and the preload socket.
pub fn start(config: Config) -> Result<Running, String> {
    let loopback = config.addr == "localhost"
        || config
            .addr
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback && !config.allow_remote {
        return Err(format!(
            "refusing to listen on {} (not a loopback address): the API decides and approves calls; pass --allow-remote to expose it",
            config.addr
        ));
    }
    let auth = auth::Auth::load(&config.home)?;
    let sources = routes::policy::sources_of(&config);
    let audit = rampart_integrations::surface::AuditTarget {
        dir: Some(config.audit_dir()),
        home: Some(config.home.clone()),
    };
    let engine = engine::Engine::new(config.mode, sources, &audit);
    if let Err(e) = engine.policy() {
        eprintln!("rampart serve: no usable policy ({e}); every call is denied until it loads");
    }
    if let Some(e) = engine.audit_error() {
        eprintln!(
            "rampart serve: the audit trail cannot be written ({e}); enforcing calls get 503"
        );
    }
    let pending = config.home.join(".rampart").join("pending-approvals.jsonl");
    let approvals = approvals::Store::open(Some(pending), config.approval_timeout);
    let state = Arc::new(State {
        engine,
        approvals,
        auth,
        events: events::Hub::default(),
        metrics: metrics::Metrics::default(),
        started: Instant::now(),
        last_reload: Mutex::new(None),
        last_learn: Mutex::new(None),
        config,
    });
    let mut servers = Vec::new();
    let mut addr = None;
    if state.config.port != 0 {
        let bind = format!("{}:{}", state.config.addr, state.config.port);
        let listener = net::bind_tcp(&bind).map_err(|e| format!("listening on {bind}: {e}"))?;
        addr = listener.local_addr().ok();
        if let Some(a) = addr {
            net::unstick(net::Endpoint::Tcp(a));
        }
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| format!("listening on {bind}: {e}"))?;
        servers.push(Arc::new(server));
    }
    if let Some(path) = &state.config.socket {
        let _ = std::fs::remove_file(path);
        let listener = std::os::unix::net::UnixListener::bind(path)
            .map_err(|e| format!("listening on {}: {e}", path.display()))?;
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| format!("listening on {}: {e}", path.display()))?;
        servers.push(Arc::new(server));
        net::unstick(net::Endpoint::Unix(path.clone()));
    }
    if servers.is_empty() {
        return Err("nothing to listen on: --port 0 needs --socket PATH".into());
    }
    for server in &servers {
        let state = Arc::clone(&state);
        net::Workers::start(
            Arc::clone(server),
            Arc::new(move |request| routes::handle(&state, request)),
        );
    }
    watch::start(&state);
    preload_socket::start(&state);
    Ok(Running {
        state,
        addr,
        servers,
    })
}
