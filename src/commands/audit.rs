//! `rampart audit verify | tail | search | stats | replay | checkpoint`: the audit trail for people.
//!
//! Every subcommand reads the log in `--audit-dir` (default `~/.rampart/audit`) through
//! rampart-audit; nothing here parses or hashes records itself. Human output is aligned columns,
//! with deny in red and ask in yellow when stdout is a terminal and NO_COLOR is unset; `--json`
//! prints data (the stored lines for events, objects for reports).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use rampart_audit::checkpoint::{Key, VerifierKey};
use rampart_audit::read::{self, Filter, Stored};
use rampart_audit::verify::{verify, VerifyError, VerifyOptions};
use rampart_audit::{Date, Timestamp, Writer, WriterOptions};

#[derive(Args)]
pub struct AuditArgs {
    /// The audit directory (default: ~/.rampart/audit).
    #[arg(long, global = true, value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check every hash, link, header and id; with --against, that the log extends a kept
    /// checkpoint.
    Verify {
        /// Only files from this date (YYYY-MM-DD) on.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// A checkpoint printed by `rampart audit checkpoint` and kept elsewhere.
        #[arg(long, value_name = "FILE")]
        against: Option<PathBuf>,
        /// The verifier key (or a file holding it); default: the one of ~/.rampart/audit.key.
        #[arg(long, value_name = "VKEY")]
        key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The latest events; --follow keeps printing new ones.
    Tail {
        #[arg(short = 'n', long = "lines", default_value_t = 20)]
        lines: usize,
        #[arg(short, long)]
        follow: bool,
        #[arg(long)]
        json: bool,
    },
    /// Events matching a text and filters.
    Search {
        /// Text to look for in the request, tool, agent, session and message.
        query: Option<String>,
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long)]
        json: bool,
    },
    /// Counts by decision, tool and agent.
    Stats {
        /// How far back: 24h, 30m, 7d, or a date or RFC 3339 time.
        #[arg(long, default_value = "24h")]
        since: String,
        #[arg(long)]
        json: bool,
    },
    /// Prints the events again at their original pace (divided by --speed; 0 means at once).
    Replay {
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        #[arg(long)]
        since: Option<String>,
    },
    /// Signs a checkpoint of the log as it is now and prints it, to keep outside the agent's reach.
    Checkpoint,
}

#[derive(Args, Default)]
pub struct FilterArgs {
    #[arg(long)]
    pub tool: Option<String>,
    #[arg(long)]
    pub agent: Option<String>,
    /// allow, deny, ask or watch.
    #[arg(long)]
    pub decision: Option<String>,
    /// 24h, 7d, a date or an RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long)]
    pub until: Option<String>,
}

fn home() -> Result<PathBuf, String> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| "HOME is not set".to_owned())
}

/// `--audit-dir`, or `~/.rampart/audit`.
pub fn audit_dir(flag: Option<PathBuf>) -> Result<PathBuf, String> {
    match flag {
        Some(dir) => Ok(dir),
        None => Ok(home()?.join(".rampart").join("audit")),
    }
}

pub fn run(args: AuditArgs) -> Result<ExitCode, String> {
    let dir = audit_dir(args.audit_dir)?;
    match args.command {
        AuditCommand::Verify {
            since,
            against,
            key,
            json,
        } => verify_cmd(
            &dir,
            since.as_deref(),
            against.as_deref(),
            key.as_deref(),
            json,
        ),
        AuditCommand::Tail {
            lines,
            follow,
            json,
        } => tail(&dir, lines, follow, json),
        AuditCommand::Search {
            query,
            filter,
            json,
        } => {
            let mut filter = filter.to_filter()?;
            filter.query = query;
            let found = read::events(&dir, &filter).map_err(|e| e.to_string())?;
            print_events(&found, json);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Stats { since, json } => stats(&dir, &since, json),
        AuditCommand::Replay { speed, since } => replay(&dir, speed, since.as_deref()),
        AuditCommand::Checkpoint => checkpoint(&dir),
    }
}

impl FilterArgs {
    pub fn to_filter(&self) -> Result<Filter, String> {
        Ok(Filter {
            tool: self.tool.clone(),
            agent: self.agent.clone(),
            action: self.decision.clone(),
            since: self.since.as_deref().map(parse_since).transpose()?,
            until: self.until.as_deref().map(parse_since).transpose()?,
            ..Filter::default()
        })
    }
}

/// `24h`, `30m`, `7d`, `90s` back from now; a date (its midnight, UTC); or an RFC 3339 time.
pub fn parse_since(text: &str) -> Result<Timestamp, String> {
    if let Some(t) = Timestamp::parse_rfc3339(text) {
        return Ok(t);
    }
    if let Some(d) = Date::parse(text) {
        return Ok(d.start());
    }
    let (num, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (24h, 7d), a date or a time"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?}: use s, m, h or d")),
    };
    let now = Timestamp::now();
    Ok(Timestamp {
        secs: now.secs - secs,
        nanos: now.nanos,
    })
}

fn local_key() -> Option<VerifierKey> {
    let path = rampart_audit::checkpoint::default_key_path(&home().ok()?);
    let text = std::fs::read_to_string(path).ok()?;
    Key::parse(&text).map(|k| k.verifier())
}

fn parse_key(text: &str) -> Result<VerifierKey, String> {
    let text = std::fs::read_to_string(text).unwrap_or_else(|_| text.to_owned());
    VerifierKey::parse(&text).ok_or_else(|| "--key: not a <name>+<id>+<base64> verifier key".into())
}

fn verify_cmd(
    dir: &Path,
    since: Option<&str>,
    against: Option<&Path>,
    key: Option<&str>,
    json: bool,
) -> Result<ExitCode, String> {
    let key = match key {
        Some(k) => Some(parse_key(k)?),
        None => local_key(),
    };
    if let Some(file) = against {
        let note = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let key = key.ok_or(
            "--against needs the verifier key (--key), and ~/.rampart/audit.key does not exist",
        )?;
        return Ok(match rampart_audit::against::against(dir, &note, &key) {
            Ok(ok) => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": true, "checkpoint_size": ok.checkpoint.size,
                            "events": ok.log_size, "proof_hashes": ok.proof_len, "same_origin": ok.same_origin})
                    );
                } else {
                    println!(
                        "✓ The log extends the checkpoint: {} events then, {} now; consistency proof of {} hashes verified",
                        ok.checkpoint.size, ok.log_size, ok.proof_len
                    );
                    if !ok.same_origin {
                        println!(
                            "  note: the checkpoint names another origin ({}): was the log moved?",
                            ok.checkpoint.origin
                        );
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": false, "error": e.to_string()})
                    );
                } else {
                    eprintln!("{e}");
                }
                ExitCode::from(1)
            }
        });
    }
    let since = since
        .map(|s| Date::parse(s).ok_or_else(|| format!("--since {s:?}: want YYYY-MM-DD")))
        .transpose()?;
    let opts = VerifyOptions {
        since,
        key,
        keep_leaves: false,
    };
    match verify(dir, &opts) {
        Ok(report) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": true, "events": report.events, "files": report.files,
                        "last_hash": report.last_hash, "torn": report.torn,
                        "checkpoints_checked": report.checkpoints_checked, "anchor_checked": report.anchor_checked})
                );
            } else {
                println!(
                    "✓ Chain verified: {} events across {} files, no tampering detected",
                    report.events, report.files
                );
                if report.checkpoints_checked > 0 {
                    println!(
                        "  {} signed checkpoints match the log",
                        report.checkpoints_checked
                    );
                }
                for file in &report.torn {
                    println!("  note: {file} ends in a torn line from a crashed writer; the next append removes it");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                let (file, line, id) = match &e {
                    VerifyError::Broken(b) => (Some(b.file.clone()), Some(b.line), b.id.clone()),
                    VerifyError::Unreadable(_) => (None, None, None),
                };
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "error": e.to_string(), "file": file, "line": line, "id": id})
                );
            } else {
                eprintln!("{e}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

fn tail(dir: &Path, lines: usize, follow: bool, json: bool) -> Result<ExitCode, String> {
    let last = read::last(dir, lines, &Filter::default()).map_err(|e| e.to_string())?;
    print_events(&last, json);
    if follow {
        let mut follower = read::Follower::at_end(dir).map_err(|e| e.to_string())?;
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let new = follower.poll().map_err(|e| e.to_string())?;
            print_events(&new, json);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn stats(dir: &Path, since: &str, json: bool) -> Result<ExitCode, String> {
    let filter = Filter {
        since: Some(parse_since(since)?),
        ..Filter::default()
    };
    let stats = read::stats(dir, &filter).map_err(|e| e.to_string())?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&stats).map_err(|e| e.to_string())?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let colour = Colour::for_stdout();
    println!("{} events since {since}", stats.total_events);
    for (title, map) in [
        ("DECISION", &stats.by_action),
        ("TOOL", &stats.by_tool),
        ("AGENT", &stats.by_agent),
    ] {
        let mut rows: Vec<(&String, &u64)> = map.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0)
            .max(title.len());
        println!("\n{title:<width$}  COUNT");
        for (name, count) in rows {
            let shown = if title == "DECISION" {
                colour.action(name, width)
            } else {
                format!("{name:<width$}")
            };
            println!("{shown}  {count:>5}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn replay(dir: &Path, speed: f64, since: Option<&str>) -> Result<ExitCode, String> {
    if !(speed >= 0.0 && speed.is_finite()) {
        return Err("--speed must be 0 or more".into());
    }
    let filter = Filter {
        since: since.map(parse_since).transpose()?,
        ..Filter::default()
    };
    let events = read::events(dir, &filter).map_err(|e| e.to_string())?;
    let mut previous: Option<Timestamp> = None;
    for stored in &events {
        if let (Some(prev), true) = (previous, speed > 0.0) {
            // Long idle gaps are cut to two seconds: a replay is for watching, not waiting.
            let gap =
                (stored.event.timestamp.as_secs_f64() - prev.as_secs_f64()).clamp(0.0, 2.0 * speed);
            std::thread::sleep(Duration::from_secs_f64(gap / speed));
        }
        print_events(std::slice::from_ref(stored), false);
        previous = Some(stored.event.timestamp);
    }
    Ok(ExitCode::SUCCESS)
}

fn checkpoint(dir: &Path) -> Result<ExitCode, String> {
    let opts = WriterOptions::new(dir).with_home(&home()?);
    let mut opts = opts;
    opts.spool = None;
    let mut writer = Writer::open(opts).map_err(|e| e.to_string())?;
    let latest = writer.checkpoint_now().map_err(|e| e.to_string())?;
    let vkey = writer.verifier_key().map_err(|e| e.to_string())?;
    match latest {
        Some(cp) => {
            print!("{}", cp.note);
            if let Some(vkey) = vkey {
                eprintln!(
                    "verifier key (keep it with the checkpoint): {}",
                    vkey.encode()
                );
            }
            eprintln!(
                "keep this note outside the agent's reach; later: rampart audit verify --against FILE"
            );
            Ok(ExitCode::SUCCESS)
        }
        None => Err("the log is empty: nothing to checkpoint yet".into()),
    }
}

/// Colour for decisions, when stdout is a terminal and NO_COLOR is unset.
pub struct Colour {
    on: bool,
}

impl Colour {
    pub fn for_stdout() -> Colour {
        Colour {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// `action` padded to `width`, red for deny, yellow for ask.
    pub fn action(&self, action: &str, width: usize) -> String {
        let padded = format!("{action:<width$}");
        let code = match action {
            "deny" => "31",
            "ask" => "33",
            _ => return padded,
        };
        if self.on {
            format!("\x1b[{code}m{padded}\x1b[0m")
        } else {
            padded
        }
    }
}

/// What a call was about: its command, path, URL or MCP tool.
fn subject(e: &rampart_audit::Event) -> String {
    for key in ["command", "path", "file_path", "url", "tool_name", "name"] {
        if let Some(serde_json::Value::String(s)) = e.request.get(key) {
            return s.clone();
        }
    }
    serde_json::Value::Object(e.request.clone()).to_string()
}

/// Prints events: the stored lines with --json, else one aligned row each.
pub fn print_events(events: &[Stored], json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        for s in events {
            let _ = writeln!(out, "{}", s.line);
        }
        return;
    }
    let colour = Colour::for_stdout();
    let tool_w = events
        .iter()
        .map(|s| s.event.tool.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let agent_w = events
        .iter()
        .map(|s| s.event.agent.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 20);
    for s in events {
        let e = &s.event;
        let time = e.timestamp.rfc3339_nano();
        let time = format!(
            "{} {}",
            time.get(..10).unwrap_or(""),
            time.get(11..19).unwrap_or("")
        );
        let mut what: String = subject(e).chars().take(80).collect();
        what = what.replace(['\n', '\r'], " ");
        let message = if e.decision.message.is_empty() {
            String::new()
        } else {
            format!("  ({})", e.decision.message)
        };
        let agent: String = e.agent.chars().take(agent_w).collect();
        let _ = writeln!(
            out,
            "{time}  {}  {:<tool_w$}  {agent:<agent_w$}  {what}{message}",
            colour.action(&e.decision.action, 5),
            e.tool,
        );
    }
}
