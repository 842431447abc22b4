//! `rampart setup`: putting rampart's hooks into each agent host's settings, checking them, and
//! taking them out again.
//!
//! The threat: a hook that is not there, or that runs a binary that is not there, protects
//! nothing, and says nothing about it. Hosts do not warn when a hook disappears (Gemini's
//! settings UI has been seen to drop hooks it did not write), most treat a hook that cannot run
//! as "no objection" (agent-protocols §1), and a setup that mangles a user's settings file is
//! one nobody runs twice. So setup:
//!
//! * writes the absolute, stable path `~/.rampart/bin/rampart` ([`binary`]) and each host's
//!   fail-closed switch where it has one (Claude Code `onFailure`, Cursor `failClosed`);
//! * edits the host's file as text ([`document`]): key order, comments, formatting and every
//!   other hook stay as they were; a backup is kept; a second run changes nothing; `--remove`
//!   takes out exactly what setup added ([`hook_file`]);
//! * can say, for each host, whether it is set up, and what is wrong when it is stale
//!   ([`inspect`]), which `rampart setup`, `status` and `doctor` print.
//!
//! One module per host says where its settings are and what setup writes there; the shared
//! pieces are the text editor, the hook-file logic, the stable binary, the setup record and the
//! MCP wrapping.

// Setup edits files the user owns: a panic halfway would leave them to a backup. No unwrap, no
// indexing, no panics outside tests.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod antigravity;
pub mod binary;
pub mod claude_code;
pub mod cline;
pub mod codex;
pub mod command;
pub mod copilot;
pub mod cursor;
pub mod document;
pub mod file;
pub mod gemini;
pub mod hook_file;
pub mod mcp;
pub mod record;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use document::{Document, Snippet};
use file::Settings;
use hook_file::{Found, HookFile};
use record::{HostRecord, Record};

/// An agent host setup knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Host {
    ClaudeCode,
    Codex,
    Cline,
    Cursor,
    Gemini,
    Copilot,
    Antigravity,
}

impl Host {
    pub const ALL: [Host; 7] = [
        Host::ClaudeCode,
        Host::Codex,
        Host::Cline,
        Host::Cursor,
        Host::Gemini,
        Host::Copilot,
        Host::Antigravity,
    ];

    /// The name used on the command line and in `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Host::ClaudeCode => "claude-code",
            Host::Codex => "codex",
            Host::Cline => "cline",
            Host::Cursor => "cursor",
            Host::Gemini => "gemini",
            Host::Copilot => "copilot",
            Host::Antigravity => "antigravity",
        }
    }

    pub fn parse(name: &str) -> Option<Host> {
        Host::ALL.into_iter().find(|h| h.name() == name)
    }

    /// Whether the host can post to the server instead of starting a process (`--http`).
    pub fn supports_http(self) -> bool {
        matches!(self, Host::ClaudeCode | Host::Copilot)
    }

    /// Whether `--mcp` can wrap the host's MCP servers.
    pub fn supports_mcp(self) -> bool {
        matches!(self, Host::ClaudeCode | Host::Cursor)
    }

    /// The host's configuration directory (its existence is one sign the host is used).
    pub fn config_dir(self, ctx: &Context) -> PathBuf {
        match self {
            Host::ClaudeCode => claude_code::config_dir(ctx),
            Host::Codex => codex::config_dir(ctx),
            Host::Cline => cline::config_dir(ctx),
            Host::Cursor => cursor::config_dir(ctx),
            Host::Gemini => gemini::config_dir(ctx).join("settings.json"),
            Host::Copilot => copilot::config_dir(ctx),
            Host::Antigravity => antigravity::config_dir(ctx),
        }
    }

    /// The programs whose presence on PATH is the other sign.
    fn programs(self) -> &'static [&'static str] {
        match self {
            Host::ClaudeCode => &["claude"],
            Host::Codex => &["codex"],
            Host::Cline => &["cline"],
            Host::Cursor => &["cursor", "cursor-agent"],
            Host::Gemini => &["gemini"],
            Host::Copilot => &["copilot"],
            Host::Antigravity => &["antigravity"],
        }
    }

    /// The JSON hook file setup edits (every host but Cline, whose hooks are scripts).
    pub fn hook_file(self, ctx: &Context, transport: &Transport) -> Option<HookFile> {
        match self {
            Host::ClaudeCode => Some(claude_code::hook_file(ctx, transport)),
            Host::Codex => Some(codex::hook_file(ctx)),
            Host::Cline => None,
            Host::Cursor => Some(cursor::hook_file(ctx)),
            Host::Gemini => Some(gemini::hook_file(ctx)),
            Host::Copilot => Some(copilot::hook_file(ctx, transport)),
            Host::Antigravity => Some(antigravity::hook_file(ctx)),
        }
    }

    /// The files holding the host's MCP servers (`--mcp`).
    pub fn mcp_files(self, ctx: &Context) -> Vec<PathBuf> {
        match self {
            Host::ClaudeCode => vec![claude_code::mcp_file(ctx)],
            Host::Cursor => vec![cursor::mcp_file(ctx)],
            _ => Vec::new(),
        }
    }

    /// The host's fail-closed switch as it appears in a handler, when it has one.
    fn fail_closed_switch(self) -> Option<(&'static str, serde_json::Value)> {
        match self {
            Host::ClaudeCode => Some(("onFailure", serde_json::json!("block"))),
            Host::Cursor => Some(("failClosed", serde_json::json!(true))),
            _ => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where this user's things are.
#[derive(Clone, Debug)]
pub struct Context {
    pub home: PathBuf,
    /// `~/.rampart`.
    pub rampart_home: PathBuf,
    /// `$CLAUDE_CONFIG_DIR`.
    pub claude_config_dir: Option<PathBuf>,
    /// `$CODEX_HOME`.
    pub codex_home: Option<PathBuf>,
    /// `$PATH`, for finding hosts and the installed rampart.
    pub path_var: Option<OsString>,
    /// The running rampart binary.
    pub current_exe: PathBuf,
}

impl Context {
    /// This process's user: `$HOME`, the hosts' environment variables, the running binary.
    pub fn from_env() -> Result<Context, SetupError> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| SetupError::new("HOME is not set"))?;
        let dir = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let current_exe = std::env::current_exe()
            .map_err(|e| SetupError::new(format!("cannot locate the rampart binary: {e}")))?;
        Ok(Context {
            rampart_home: home.join(".rampart"),
            home,
            claude_config_dir: dir("CLAUDE_CONFIG_DIR"),
            codex_home: dir("CODEX_HOME"),
            path_var: std::env::var_os("PATH"),
            current_exe,
        })
    }

    /// `~/.rampart/bin/rampart`, the path every hook runs.
    pub fn stable_binary(&self) -> PathBuf {
        binary::stable_path(&self.rampart_home)
    }

    /// `<stable path> hook [--format F]`.
    pub fn hook_command(&self, format: Option<&str>) -> String {
        command::hook_command(&self.stable_binary(), format)
    }

    /// The server's admin token (`~/.rampart/token`), when there is one.
    pub fn token(&self) -> Option<String> {
        std::fs::read_to_string(self.rampart_home.join("token"))
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// Whether `program` is an executable on PATH.
    pub fn on_path(&self, program: &str) -> bool {
        self.path_var.as_ref().is_some_and(|paths| {
            std::env::split_paths(paths).any(|dir| binary::is_executable(&dir.join(program)))
        })
    }
}

/// How a host reaches rampart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A process per call: the stable binary's `hook`.
    Command,
    /// An `http` hook posting to the server at `base` (`http://127.0.0.1:9090`).
    Http { base: String, token: String },
}

impl Transport {
    /// The server's hook route for `host`.
    pub fn url(&self, host: &str) -> String {
        match self {
            Transport::Command => String::new(),
            Transport::Http { base, .. } => {
                format!("{}/v1/hooks/{host}", base.trim_end_matches('/'))
            }
        }
    }

    /// `{"Authorization": "Bearer <token>"}`.
    pub fn headers(&self) -> Snippet {
        let token = match self {
            Transport::Command => "",
            Transport::Http { token, .. } => token,
        };
        Snippet::object([("Authorization", Snippet::str(format!("Bearer {token}")))])
    }

    fn name(&self) -> &'static str {
        match self {
            Transport::Command => "command",
            Transport::Http { .. } => "http",
        }
    }
}

/// What `rampart setup <host>` is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub transport: Transport,
    /// Replace a file at the stable path that is not setup's link, or a Cline hook that is not
    /// rampart's.
    pub force: bool,
    /// Also wrap the host's MCP servers.
    pub mcp: bool,
}

/// A failure to set up, with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupError(String);

impl SetupError {
    pub fn new(message: impl Into<String>) -> SetupError {
        SetupError(message.into())
    }

    pub fn io(op: &str, path: &Path, err: &std::io::Error) -> SetupError {
        SetupError(format!("{op} {}: {err}", path.display()))
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

/// One file setup changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub path: PathBuf,
    pub what: String,
    /// Where the file's previous content was copied.
    pub backup: Option<PathBuf>,
}

impl Change {
    pub fn new(path: &Path, what: &str, backup: Option<PathBuf>) -> Change {
        Change {
            path: path.to_path_buf(),
            what: what.to_string(),
            backup,
        }
    }
}

/// What one `setup` run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub changes: Vec<Change>,
    /// Things the user should know (an unverified host, a project file left alone).
    pub notes: Vec<String>,
}

/// Sets `host` up: the stable binary link, the host's hooks, and with `mcp` its MCP servers.
pub fn install(host: Host, ctx: &Context, opts: &Options) -> Result<Report, SetupError> {
    if matches!(opts.transport, Transport::Http { .. }) && !host.supports_http() {
        return Err(SetupError::new(format!(
            "{host} has no http hooks; --http works for claude-code and copilot"
        )));
    }
    if opts.mcp && !host.supports_mcp() {
        return Err(SetupError::new(format!(
            "--mcp wraps the MCP servers of claude-code and cursor, not {host}'s"
        )));
    }
    let mut record = Record::load(&ctx.rampart_home)?;
    // The record is saved whatever happens, so that a file created before a later step failed
    // is still known as setup's.
    let result = install_steps(host, ctx, opts, &mut record);
    if result.is_ok() {
        record.hosts.insert(
            host.name().to_string(),
            HostRecord {
                installed_at: rampart_audit::Timestamp::now().rfc3339_nano(),
                transport: opts.transport.name().to_string(),
            },
        );
    }
    record.save(&ctx.rampart_home)?;
    result
}

fn install_steps(
    host: Host,
    ctx: &Context,
    opts: &Options,
    record: &mut Record,
) -> Result<Report, SetupError> {
    let mut report = Report::default();
    let stable = ctx.stable_binary();
    let target = binary::link_target(&stable, &ctx.current_exe, ctx.path_var.as_deref());
    if binary::install(&stable, &target, opts.force)? {
        let what = format!("now links to {}", target.display());
        report.changes.push(Change::new(&stable, &what, None));
    }
    match host.hook_file(ctx, &opts.transport) {
        Some(file) => {
            report.changes.extend(install_file(&file, record)?);
            if matches!(opts.transport, Transport::Http { .. }) && file::make_private(&file.path)? {
                let what = "made private (0600): it holds the server's token";
                report.changes.push(Change::new(&file.path, what, None));
            }
        }
        None => report
            .changes
            .extend(cline::install(ctx, opts.force, record)?),
    }
    if host == Host::Codex && codex::remove_wrapper(ctx)? {
        let path = codex::wrapper_path(ctx);
        report.changes.push(Change::new(&path, "removed the earlier `rampart preload` wrapper (the hooks replace it; `rampart preload -- codex` remains the stronger opt-in)", None));
    }
    if opts.mcp {
        for path in host.mcp_files(ctx) {
            report.changes.extend(mcp::wrap(ctx, &path, record)?);
        }
    }
    report.notes.extend(notes(host, ctx, opts));
    Ok(report)
}

/// Removes what setup added for `host`: its hooks and its MCP wrapping, or with `mcp_only` only
/// the wrapping.
pub fn remove(host: Host, ctx: &Context, mcp_only: bool) -> Result<Report, SetupError> {
    // A damaged record must not keep anything installed: removal finds rampart's entries in the
    // hosts' files, and restores MCP servers from their wrapped arguments.
    let mut record = Record::load(&ctx.rampart_home).unwrap_or_default();
    let result = remove_steps(host, ctx, mcp_only, &mut record);
    record.save(&ctx.rampart_home)?;
    result
}

fn remove_steps(
    host: Host,
    ctx: &Context,
    mcp_only: bool,
    record: &mut Record,
) -> Result<Report, SetupError> {
    let mut report = Report::default();
    if !mcp_only {
        match host.hook_file(ctx, &Transport::Command) {
            Some(file) => report.changes.extend(remove_file(&file, record)?),
            None => report.changes.extend(cline::remove(ctx, record)?),
        }
        if host == Host::Codex && codex::remove_wrapper(ctx)? {
            let path = codex::wrapper_path(ctx);
            let what = "removed the `rampart preload` wrapper";
            report.changes.push(Change::new(&path, what, None));
        }
        record.hosts.remove(host.name());
    }
    for path in host.mcp_files(ctx) {
        report.changes.extend(mcp::unwrap(&path, record)?);
    }
    Ok(report)
}

fn install_file(file: &HookFile, record: &mut Record) -> Result<Option<Change>, SetupError> {
    let settings = Settings::read(&file.path)?;
    let doc = parse(&settings)?;
    let doc = file.install(doc)?;
    if doc.text() == settings.text() {
        return Ok(None);
    }
    let backup = settings.replace(doc.text())?;
    if settings.original.is_none() {
        record.created.insert(file.path.clone());
    }
    let events: Vec<&str> = file.events.iter().map(|(e, _)| *e).collect();
    let what = format!("rampart hooks on {}", events.join(", "));
    Ok(Some(Change::new(&file.path, &what, backup)))
}

fn remove_file(file: &HookFile, record: &mut Record) -> Result<Option<Change>, SetupError> {
    let settings = Settings::read(&file.path)?;
    if settings.original.is_none() {
        return Ok(None);
    }
    let doc = file.remove(parse(&settings)?)?;
    if doc.text() == settings.text() {
        return Ok(None);
    }
    if record.created.contains(&file.path) && file.only_preamble(&doc) {
        record.created.remove(&file.path);
        let backup = settings.delete()?;
        return Ok(Some(Change::new(
            &file.path,
            "removed (setup had created it)",
            backup,
        )));
    }
    let backup = settings.replace(doc.text())?;
    Ok(Some(Change::new(
        &file.path,
        "removed the rampart hooks",
        backup,
    )))
}

fn parse(settings: &Settings) -> Result<Document, SetupError> {
    Document::parse(settings.text().to_string()).map_err(|e| {
        SetupError::new(format!(
            "{}:{e}; fix it (or move it away) and run setup again",
            settings.path.display()
        ))
    })
}

fn notes(host: Host, ctx: &Context, opts: &Options) -> Vec<String> {
    let mut notes = Vec::new();
    if !detect(host, ctx) {
        notes.push(format!(
            "{host} was not found here ({} does not exist, no `{}` on PATH); its hooks take effect once it is installed",
            host.config_dir(ctx).display(),
            host.programs().join("`/`")
        ));
    }
    if host == Host::Antigravity {
        notes.push(format!("Antigravity's hook file is not documented where rampart could check it; setup wrote Gemini-style hooks to {}. Check that a denied call is blocked.", antigravity::settings_path(ctx).display()));
    }
    if host == Host::Copilot && matches!(opts.transport, Transport::Http { .. }) {
        notes.push("Copilot has no fail-closed switch: while the server is stopped, its calls are not checked. `rampart setup copilot` (without --http) runs a process per call instead.".to_string());
    }
    if host == Host::ClaudeCode && opts.mcp {
        notes.push("A project's .mcp.json is shared through its repository and is left alone; wrap its servers there by hand (`\"command\": \"rampart\", \"args\": [\"mcp\", \"--\", ...]`).".to_string());
    }
    notes
}

/// Whether a host is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    NotInstalled,
    Installed,
    /// Set up, but not as setup would write it now: each reason says what is off.
    Stale(Vec<String>),
}

impl Status {
    /// `not installed`, `installed`, `stale`.
    pub fn word(&self) -> &'static str {
        match self {
            Status::NotInstalled => "not installed",
            Status::Installed => "installed",
            Status::Stale(_) => "stale",
        }
    }

    /// What is off, for a stale host.
    pub fn reasons(&self) -> &[String] {
        match self {
            Status::Stale(reasons) => reasons,
            _ => &[],
        }
    }
}

/// What `rampart setup`, `status` and `doctor` know about a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostState {
    pub host: Host,
    /// Its configuration directory exists or its program is on PATH.
    pub detected: bool,
    pub status: Status,
    /// The file (or, for Cline, the directory) holding its hooks.
    pub settings: PathBuf,
    /// `command` or `http`, when rampart hooks are there.
    pub transport: Option<&'static str>,
    /// The server the `http` hooks post to (`http://127.0.0.1:9090`).
    pub http_base: Option<String>,
    /// The `--mode` of its hooks (enforce when none is given).
    pub mode: Option<String>,
    /// The programs its rampart hooks run.
    pub programs: Vec<String>,
    /// Whether the setup record says it was set up.
    pub recorded: bool,
    /// MCP servers under `rampart mcp --`, and stdio servers that are not.
    pub mcp: mcp::Census,
}

/// Whether the host is used on this machine.
pub fn detect(host: Host, ctx: &Context) -> bool {
    host.config_dir(ctx).exists() || host.programs().iter().any(|p| ctx.on_path(p))
}

/// The state of `host`'s hooks.
pub fn inspect(host: Host, ctx: &Context) -> HostState {
    let record = Record::load(&ctx.rampart_home).unwrap_or_default();
    let recorded = record.hosts.contains_key(host.name());
    let mut state = match host.hook_file(ctx, &Transport::Command) {
        Some(file) => inspect_file(host, ctx, &file),
        None => inspect_cline(ctx),
    };
    state.detected = detect(host, ctx);
    state.recorded = recorded;
    state.mcp = host.mcp_files(ctx).iter().map(|p| mcp::census(p)).fold(
        mcp::Census::default(),
        |mut all, c| {
            all.wrapped += c.wrapped;
            all.unwrapped += c.unwrapped;
            all.programs.extend(c.programs);
            all
        },
    );
    let mut reasons = match &state.status {
        Status::Stale(reasons) => reasons.clone(),
        _ => Vec::new(),
    };
    if state.status == Status::NotInstalled && recorded {
        reasons.push(format!(
            "setup installed it, but its hooks are gone from {}",
            state.settings.display()
        ));
    }
    if state.status != Status::NotInstalled {
        reasons.extend(link_problem(ctx));
    }
    if !reasons.is_empty() {
        state.status = Status::Stale(reasons);
    }
    state
}

fn blank_state(host: Host, settings: PathBuf) -> HostState {
    HostState {
        host,
        detected: false,
        status: Status::NotInstalled,
        settings,
        transport: None,
        http_base: None,
        mode: None,
        programs: Vec::new(),
        recorded: false,
        mcp: mcp::Census::default(),
    }
}

fn inspect_file(host: Host, ctx: &Context, file: &HookFile) -> HostState {
    let mut state = blank_state(host, file.path.clone());
    let text = match file::read_optional(&file.path) {
        Ok(Some(text)) => text,
        Ok(None) => return state,
        Err(e) => {
            state.status = Status::Stale(vec![e.to_string()]);
            return state;
        }
    };
    let doc = match Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            state.status = Status::Stale(vec![format!("{}:{e}", file.path.display())]);
            return state;
        }
    };
    let found = file.find(&doc);
    if found.is_empty() {
        return state;
    }
    let http = found
        .iter()
        .any(|f| f.handler.get("type") == Some(&"http".into()));
    state.transport = Some(if http { "http" } else { "command" });
    let want = if http {
        let base = found
            .iter()
            .find_map(|f| f.handler.get("url").and_then(|u| u.as_str()))
            .and_then(|u| u.split("/v1/hooks/").next())
            .unwrap_or_default()
            .to_string();
        let token = ctx.token().unwrap_or_default();
        state.http_base = Some(base.clone());
        host.hook_file(ctx, &Transport::Http { base, token })
    } else {
        None
    };
    let file = want.as_ref().unwrap_or(file);
    let found = file.find(&doc);
    for f in &found {
        if let Some(hook) = f
            .handler
            .get(file.command_key)
            .and_then(|c| c.as_str())
            .and_then(command::rampart_hook)
        {
            state
                .mode
                .get_or_insert(hook.mode.unwrap_or_else(|| "enforce".into()));
            if !state.programs.contains(&hook.program) {
                state.programs.push(hook.program);
            }
        }
    }
    let reasons = stale_reasons(host, ctx, file, &found);
    state.status = if reasons.is_empty() {
        Status::Installed
    } else {
        Status::Stale(reasons)
    };
    state
}

/// What is off about the rampart handlers found in a file, compared with what setup writes.
fn stale_reasons(host: Host, ctx: &Context, file: &HookFile, found: &[Found]) -> Vec<String> {
    let mut reasons = Vec::new();
    let missing: Vec<&str> = file
        .events
        .iter()
        .map(|(e, _)| *e)
        .filter(|e| !found.iter().any(|f| f.event == *e))
        .collect();
    if !missing.is_empty() {
        reasons.push(format!("no rampart hook on {}", missing.join(", ")));
    }
    let stable = ctx.stable_binary().to_string_lossy().into_owned();
    let mut push = |reason: String| {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    };
    for f in found.iter().filter(|f| !f.current) {
        let want = file
            .events
            .iter()
            .find(|(e, _)| *e == f.event)
            .map(|(_, h)| h.to_value())
            .unwrap_or_default();
        let hook = f
            .handler
            .get(file.command_key)
            .and_then(|c| c.as_str())
            .and_then(command::rampart_hook);
        let switch = host.fail_closed_switch();
        let is_http = f.handler.get("type").and_then(|t| t.as_str()) == Some("http");
        if let Some(hook) = hook.filter(|h| h.program != stable) {
            push(format!(
                "{} runs {}, not the stable path {stable}",
                f.event, hook.program
            ));
        } else if let Some((key, value)) = switch.filter(|(k, v)| f.handler.get(*k) != Some(v)) {
            push(format!(
                "{} has no fail-closed switch (\"{key}\": {value})",
                f.event
            ));
        } else if is_http && f.handler.get("headers") != want.get("headers") {
            push(format!(
                "{} posts with a token that is not ~/.rampart/token's",
                f.event
            ));
        } else {
            push(format!("{} is not what setup writes now", f.event));
        }
    }
    for (event, _) in &file.events {
        let n = found.iter().filter(|f| f.event == *event).count();
        if n > 1 {
            push(format!("{event} has {n} rampart hooks"));
        }
    }
    reasons
}

fn inspect_cline(ctx: &Context) -> HostState {
    let mut state = blank_state(Host::Cline, cline::hooks_dir(ctx));
    let scripts = cline::inspect(ctx);
    let ours: Vec<_> = scripts
        .iter()
        .filter(|(_, _, s)| !matches!(s, cline::Script::Missing | cline::Script::Foreign))
        .collect();
    if ours.is_empty() {
        return state;
    }
    state.transport = Some("command");
    state.mode = Some("enforce".into());
    state.programs = ours
        .iter()
        .filter_map(|(_, p, _)| cline::program(p))
        .collect();
    state.programs.dedup();
    let mut reasons: Vec<String> = scripts
        .iter()
        .filter_map(|(event, path, s)| match s {
            cline::Script::Current => None,
            cline::Script::Stale(why) => Some(why.clone()),
            cline::Script::Missing => Some(format!("no rampart hook on {event}")),
            cline::Script::Foreign => Some(format!("{} is not rampart's", path.display())),
        })
        .collect();
    reasons.dedup();
    state.status = if reasons.is_empty() {
        Status::Installed
    } else {
        Status::Stale(reasons)
    };
    state
}

/// What is wrong with the stable link, if anything: every hook fails to start while it is.
pub fn link_problem(ctx: &Context) -> Option<String> {
    let stable = ctx.stable_binary();
    match binary::state(&stable) {
        binary::LinkState::Ok(_) => None,
        binary::LinkState::Missing => Some(format!("{} is missing", stable.display())),
        binary::LinkState::Dangling(to) => Some(format!(
            "{} points at {}, which is gone",
            stable.display(),
            to.display()
        )),
        binary::LinkState::NotExecutable(to) => Some(format!(
            "{} points at {}, which is not executable",
            stable.display(),
            to.display()
        )),
        binary::LinkState::NotALink => {
            if binary::is_executable(&stable) {
                None
            } else {
                Some(format!("{} is not executable", stable.display()))
            }
        }
    }
}

/// Every host's state, in [`Host::ALL`] order.
pub fn inspect_all(ctx: &Context) -> Vec<HostState> {
    Host::ALL.iter().map(|h| inspect(*h, ctx)).collect()
}

impl HostState {
    /// The options that set the host up again the way it is set up now (its transport, its MCP
    /// wrapping).
    pub fn options(&self, ctx: &Context) -> Result<Options, SetupError> {
        let transport = match (&self.transport, &self.http_base) {
            (Some("http"), Some(base)) => Transport::Http {
                base: base.clone(),
                token: ctx.token().ok_or_else(|| {
                    SetupError::new(format!(
                        "no server token at {}; start the server once (`rampart serve`) to create it",
                        ctx.rampart_home.join("token").display()
                    ))
                })?,
            },
            _ => Transport::Command,
        };
        Ok(Options {
            transport,
            force: false,
            mcp: self.mcp.wrapped > 0,
        })
    }

    /// The command that sets the host up again as it is set up now.
    pub fn setup_command(&self) -> String {
        let mut command = format!("rampart setup {}", self.host);
        if let (Some("http"), Some(base)) = (&self.transport, &self.http_base) {
            command.push_str(" --http");
            if base != DEFAULT_SERVE_URL {
                command.push_str(&format!(" --serve-url {base}"));
            }
        }
        if self.mcp.wrapped > 0 {
            command.push_str(" --mcp");
        }
        command
    }
}

/// Where a local server listens unless told otherwise.
pub const DEFAULT_SERVE_URL: &str = "http://127.0.0.1:9090";

/// The Codex wrapper path and whether it is there (for doctor and uninstall).
pub fn codex_wrapper(ctx: &Context) -> Option<PathBuf> {
    let path = codex::wrapper_path(ctx);
    codex::is_wrapper(&path).then_some(path)
}
