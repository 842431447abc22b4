//! `rampart serve`: the policy server (rampart-server), in the foreground or the background;
//! `serve stop`, `serve install` and `serve uninstall` (a systemd user unit).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Subcommand;
use rampart_runtime::settings::Mode;
use rampart_server::service;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// Address to listen on (loopback only, unless --allow-remote).
    #[arg(long, default_value = "127.0.0.1")]
    pub addr: String,
    /// TCP port (0: no TCP listener, only --socket).
    #[arg(long, default_value_t = 9090)]
    pub port: u16,
    /// Also listen on this Unix socket.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// enforce, monitor (decide and record, allow everything) or disabled (decide nothing).
    #[arg(long, default_value = "enforce")]
    pub mode: String,
    /// The user policy directory (default ~/.rampart/policies).
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// The audit directory (default ~/.rampart/audit).
    #[arg(long, value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
    /// How long an approval waits for a person before it is denied (e.g. 2m, 90s).
    #[arg(long, default_value = "2m")]
    pub approval_timeout: String,
    /// Serve Prometheus metrics on /metrics (admin token).
    #[arg(long)]
    pub metrics: bool,
    /// Start in the background; output goes to ~/.rampart/serve.log.
    #[arg(short = 'b', long)]
    pub background: bool,
    /// Allow a non-loopback --addr.
    #[arg(long)]
    pub allow_remote: bool,
}

#[derive(Subcommand)]
pub enum ServeCommand {
    /// Stop the server started in the background (or by the systemd unit).
    Stop,
    /// Install a systemd user unit that runs the server at login, and start it.
    Install {
        #[arg(long, default_value_t = 9090)]
        port: u16,
        /// Pin this admin token in the unit (default: ~/.rampart/token).
        #[arg(long)]
        token: Option<String>,
        #[arg(long, default_value = "enforce")]
        mode: String,
        #[arg(long, default_value = "5m")]
        approval_timeout: String,
        /// Write the unit without calling systemctl.
        #[arg(long)]
        no_start: bool,
    },
    /// Stop, disable and remove the systemd user unit.
    Uninstall,
}

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let home = crate::source::user_home().ok_or("HOME is not set")?;
    match &args.command {
        Some(ServeCommand::Stop) => {
            println!("{}", service::stop(&home)?);
            return Ok(ExitCode::SUCCESS);
        }
        Some(ServeCommand::Install {
            port,
            token,
            mode,
            approval_timeout,
            no_start,
        }) => {
            return install(
                &home,
                *port,
                token.as_deref(),
                mode,
                approval_timeout,
                *no_start,
            );
        }
        Some(ServeCommand::Uninstall) => return uninstall(&home),
        None => {}
    }
    let mode = parse_mode(&args.mode)?;
    let approval_timeout = rampart_server::routes::tool::parse_duration(&args.approval_timeout)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            format!(
                "invalid --approval-timeout {:?}: use e.g. 2m, 90s",
                args.approval_timeout
            )
        })?;
    if args.background {
        return background(&home, args);
    }
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let absolute = |p: &Option<PathBuf>| p.as_ref().map(|p| cwd.join(p));
    service::block_stop_signals();
    service::write_pid(&home)?;
    let running = rampart_server::start(rampart_server::Config {
        addr: args.addr.clone(),
        port: args.port,
        socket: absolute(&args.socket),
        mode,
        config: absolute(&config),
        config_dir: absolute(&args.config_dir),
        audit_dir: absolute(&args.audit_dir),
        approval_timeout,
        metrics: args.metrics,
        allow_remote: args.allow_remote,
        home: home.clone(),
        cwd,
    });
    let running = match running {
        Ok(r) => r,
        Err(e) => {
            service::remove_pid(&home);
            return Err(e);
        }
    };
    let mut places = Vec::new();
    if let Some(addr) = running.addr {
        places.push(format!("http://{addr}"));
    }
    if let Some(socket) = &args.socket {
        places.push(socket.display().to_string());
    }
    eprintln!(
        "rampart serve: listening on {} (mode {}, policy {}, token {})",
        places.join(" and "),
        mode.as_str(),
        running.state.engine.sources().describe(),
        rampart_server::secrets::token_path(&home).display()
    );
    let signal = service::wait_for_stop();
    service::remove_pid(&home);
    let _ = std::fs::remove_file(rampart_server::preload_socket::socket_path(&home));
    if let Some(socket) = &args.socket {
        let _ = std::fs::remove_file(socket);
    }
    eprintln!("rampart serve: stopped (signal {signal})");
    Ok(ExitCode::SUCCESS)
}

fn parse_mode(word: &str) -> Result<Mode, String> {
    Mode::parse(
        word.as_bytes(),
        &[Mode::Enforce, Mode::Monitor, Mode::Disabled],
    )
    .ok_or_else(|| format!("invalid --mode {word:?}: enforce, monitor or disabled"))
}

/// Starts this command again without `--background`, detached, and waits until it answers.
fn background(home: &Path, args: &Args) -> Result<ExitCode, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let argv: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--background" && a != "-b")
        .collect();
    let log_path = service::log_path(home);
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let mut child = service::spawn_detached(&exe, &argv, &log_path)?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "rampart serve exited ({status}); see {}",
                log_path.display()
            ));
        }
        let up = service::read_pid(home) == Some(child.id() as i32)
            && (args.port == 0
                || std::net::TcpStream::connect((args.addr.as_str(), args.port)).is_ok());
        if up {
            println!(
                "rampart serve started in the background (pid {}), log: {}",
                child.id(),
                log_path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "rampart serve did not start within 15 s; see {}",
        log_path.display()
    ))
}

fn install(
    home: &Path,
    port: u16,
    token: Option<&str>,
    mode: &str,
    approval_timeout: &str,
    no_start: bool,
) -> Result<ExitCode, String> {
    parse_mode(mode)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let unit = service::Unit {
        exe,
        args: vec![
            "--port".into(),
            port.to_string(),
            "--mode".into(),
            mode.into(),
            "--approval-timeout".into(),
            approval_timeout.into(),
        ],
        token: token.map(str::to_string),
    };
    let path = service::unit_path(home);
    let text = service::unit_text(&unit);
    if token.is_some() {
        rampart_server::secrets::write_secret(&path, text.trim_end())?;
    } else {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!("wrote {}", path.display());
    if no_start {
        return Ok(ExitCode::SUCCESS);
    }
    let systemctl = |args: &[&str]| {
        std::process::Command::new("systemctl")
            .arg("--user")
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    };
    if systemctl(&["daemon-reload"]) && systemctl(&["enable", "--now", "rampart-serve.service"]) {
        println!(
            "rampart-serve.service enabled and started (systemctl --user status rampart-serve)"
        );
    } else {
        println!("systemd's user manager is not reachable here; start it later with:\n  systemctl --user daemon-reload && systemctl --user enable --now rampart-serve.service");
    }
    Ok(ExitCode::SUCCESS)
}

fn uninstall(home: &Path) -> Result<ExitCode, String> {
    let path = service::unit_path(home);
    let _ = std::process::Command::new("systemctl")
        .args(["--user", "disable", "--now", "rampart-serve.service"])
        .stderr(std::process::Stdio::null())
        .status();
    match std::fs::remove_file(&path) {
        Ok(()) => println!("removed {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("no unit installed ({} not found)", path.display());
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    }
    let _ = std::process::Command::new("systemctl")
        .args(["--user", "daemon-reload"])
        .stderr(std::process::Stdio::null())
        .status();
    Ok(ExitCode::SUCCESS)
}
