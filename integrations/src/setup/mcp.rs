//! `setup <host> --mcp`: every stdio MCP server of the host runs under `rampart mcp --`.
//!
//! The threat: an agent's MCP servers act with the user's rights, and a hook sees only the call,
//! not what the server answers. Wrapping a server puts the proxy between them (response
//! scanning, tool pinning, `--filter-tools`). Where the servers are configured:
//!
//! * Claude Code: `~/.claude.json` (`$CLAUDE_CONFIG_DIR/.claude.json`), top-level `mcpServers`
//!   (user scope) and `projects.<dir>.mcpServers` (local scope). Not `settings.json`, which
//!   holds no servers. A project's `.mcp.json` is shared through its repository, where an
//!   absolute path in the user's home would break every other checkout: setup leaves it alone.
//! * Cursor: `~/.cursor/mcp.json`, `mcpServers`.
//!
//! A stdio entry `{"command": C, "args": [A...]}` becomes `{"command": "<stable path>", "args":
//! ["mcp", "--", C, A...]}`; `url` (http, sse) servers are left alone. Only the `command` and
//! `args` values are replaced in the text, and their original text is kept in the setup record,
//! so `--remove` restores them byte for byte. When the record is gone or the wrapped entry was
//! edited since, `--remove` still restores the entry from the wrapped arguments themselves
//! (everything after `--`), which is why no marker field is added to the host's entry: a host
//! that validates or rewrites its file might drop or reject one.

use std::path::{Path, PathBuf};

use super::command::rampart_mcp;
use super::document::{Document, Snippet, Step};
use super::file::Settings;
use super::record::{McpRecord, Record};
use super::{Change, Context, SetupError};

/// One server entry, by the keys leading to it.
type ServerPath = Vec<String>;

/// What a server entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Server {
    /// A stdio server: its command and arguments.
    Stdio { command: String, args: Vec<String> },
    /// Already running under `rampart mcp --` (through `program`).
    Wrapped { program: String },
    /// A remote server (`url`), or an entry setup does not understand.
    Other,
}

/// What `--mcp` found in a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Census {
    pub wrapped: usize,
    pub unwrapped: usize,
    /// Programs the wrapped entries run (for doctor).
    pub programs: Vec<String>,
}

/// Wraps every stdio server in `path`.
pub fn wrap(ctx: &Context, path: &Path, record: &mut Record) -> Result<Option<Change>, SetupError> {
    let settings = Settings::read(path)?;
    if settings.original.is_none() {
        return Ok(None);
    }
    let mut doc = parse(&settings)?;
    let stable = ctx.stable_binary().to_string_lossy().into_owned();
    let mut count = 0;
    for server in servers(&doc) {
        let steps: Vec<Step> = server.iter().map(|k| Step::Key(k)).collect();
        match classify(&doc, &steps) {
            Server::Stdio { command, args } => {
                let (next, entry) = wrap_one(&doc, &steps, &stable, command, args)?;
                record.mcp.retain(|r| r.file != path || r.path != server);
                record.mcp.push(McpRecord {
                    file: path.to_path_buf(),
                    path: server.clone(),
                    ..entry
                });
                doc = next;
                count += 1;
            }
            Server::Wrapped { program } if program != stable => {
                doc = edit(doc.replace(&with(&steps, "command"), &Snippet::str(stable.as_str())))?;
                refresh_record(record, path, &server, &doc);
                count += 1;
            }
            _ => {}
        }
    }
    save(
        &settings,
        doc,
        &format!("wrapped {count} MCP server(s) in `rampart mcp --`"),
    )
}

/// Restores every server setup wrapped in `path`.
pub fn unwrap(path: &Path, record: &mut Record) -> Result<Option<Change>, SetupError> {
    let settings = Settings::read(path)?;
    if settings.original.is_none() {
        return Ok(None);
    }
    let mut doc = parse(&settings)?;
    let mut count = 0;
    for server in servers(&doc) {
        let steps: Vec<Step> = server.iter().map(|k| Step::Key(k)).collect();
        if !matches!(classify(&doc, &steps), Server::Wrapped { .. }) {
            continue;
        }
        let kept = record
            .mcp
            .iter()
            .position(|r| r.file == path && r.path == server);
        let kept = kept.map(|i| record.mcp.remove(i));
        doc = unwrap_one(&doc, &steps, kept.as_ref())?;
        count += 1;
    }
    record.mcp.retain(|r| r.file != path);
    save(&settings, doc, &format!("restored {count} MCP server(s)"))
}

/// How many servers in `path` are wrapped, and how many stdio servers are not.
pub fn census(path: &Path) -> Census {
    let mut census = Census::default();
    let Ok(Some(text)) = super::file::read_optional(path) else {
        return census;
    };
    let Ok(doc) = Document::parse(text) else {
        return census;
    };
    for server in servers(&doc) {
        let steps: Vec<Step> = server.iter().map(|k| Step::Key(k)).collect();
        match classify(&doc, &steps) {
            Server::Wrapped { program } => {
                census.wrapped += 1;
                census.programs.push(program);
            }
            Server::Stdio { .. } => census.unwrapped += 1,
            Server::Other => {}
        }
    }
    census
}

fn parse(settings: &Settings) -> Result<Document, SetupError> {
    Document::parse(settings.text().to_string())
        .map_err(|e| SetupError::new(format!("{}:{e}", settings.path.display())))
}

fn edit(result: Result<Document, super::document::DocumentError>) -> Result<Document, SetupError> {
    result.map_err(|e| SetupError::new(e.to_string()))
}

fn save(settings: &Settings, doc: Document, what: &str) -> Result<Option<Change>, SetupError> {
    if doc.text() == settings.text() {
        return Ok(None);
    }
    let backup = settings.replace(doc.text())?;
    Ok(Some(Change::new(&settings.path, what, backup)))
}

fn with<'a>(steps: &[Step<'a>], key: &'a str) -> Vec<Step<'a>> {
    let mut out = steps.to_vec();
    out.push(Step::Key(key));
    out
}

/// Every server entry: `mcpServers.<name>` and `projects.<dir>.mcpServers.<name>`.
fn servers(doc: &Document) -> Vec<ServerPath> {
    let mut maps: Vec<Vec<String>> = vec![vec!["mcpServers".into()]];
    if let Some(projects) = doc.get(&[Step::Key("projects")]) {
        for project in projects.entries() {
            if let Some(dir) = &project.key {
                maps.push(vec!["projects".into(), dir.clone(), "mcpServers".into()]);
            }
        }
    }
    let mut out = Vec::new();
    for map in maps {
        let steps: Vec<Step> = map.iter().map(|k| Step::Key(k)).collect();
        let Some(node) = doc.get(&steps).filter(|n| n.is_object()) else {
            continue;
        };
        for name in node.entries().iter().filter_map(|e| e.key.clone()) {
            let mut path = map.clone();
            path.push(name);
            out.push(path);
        }
    }
    out
}

fn classify(doc: &Document, steps: &[Step]) -> Server {
    let Some(entry) = doc.get(steps).filter(|n| n.is_object()) else {
        return Server::Other;
    };
    let value = doc.value(entry);
    let remote = value.get("url").is_some()
        || value
            .get("type")
            .and_then(|t| t.as_str())
            .is_some_and(|t| t != "stdio");
    let Some(command) = value.get("command").and_then(|c| c.as_str()) else {
        return Server::Other;
    };
    let args: Option<Vec<String>> = match value.get("args") {
        None => Some(Vec::new()),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(_) => None,
    };
    match args {
        _ if remote => Server::Other,
        None => Server::Other,
        Some(args) => match rampart_mcp(command, &args) {
            Some(_) => Server::Wrapped {
                program: command.to_string(),
            },
            None => Server::Stdio {
                command: command.to_string(),
                args,
            },
        },
    }
}

fn wrap_one(
    doc: &Document,
    steps: &[Step],
    stable: &str,
    command: String,
    args: Vec<String>,
) -> Result<(Document, McpRecord), SetupError> {
    let entry = doc
        .get(steps)
        .ok_or_else(|| SetupError::new("server entry vanished"))?;
    let command_node = entry.child(Step::Key("command"));
    let args_node = entry.child(Step::Key("args"));
    let original_command = command_node
        .map(|n| doc.raw(n).to_string())
        .unwrap_or_default();
    let original_args = args_node.map(|n| doc.raw(n).to_string());
    let command_index = entry.member_index("command").unwrap_or_default();
    let wrapped_args: Vec<String> = ["mcp".to_string(), "--".to_string(), command]
        .into_iter()
        .chain(args)
        .collect();
    let args_snippet = Snippet::Array(wrapped_args.iter().map(Snippet::str).collect());
    let mut next = edit(doc.replace(&with(steps, "command"), &Snippet::str(stable)))?;
    next = match original_args {
        Some(_) => edit(next.replace(&with(steps, "args"), &args_snippet))?,
        None => edit(next.insert_after(steps, command_index, Some("args"), &args_snippet))?,
    };
    let record = McpRecord {
        file: PathBuf::new(),
        path: Vec::new(),
        command: original_command,
        args: original_args,
        wrapped: serde_json::json!({"command": stable, "args": wrapped_args}),
    };
    Ok((next, record))
}

/// The wrapped entry's `command` and `args`, to compare with what setup wrote.
fn wrapped_value(doc: &Document, steps: &[Step]) -> serde_json::Value {
    let value = doc.get(steps).map(|n| doc.value(n)).unwrap_or_default();
    serde_json::json!({"command": value.get("command"), "args": value.get("args")})
}

fn refresh_record(record: &mut Record, path: &Path, server: &ServerPath, doc: &Document) {
    let steps: Vec<Step> = server.iter().map(|k| Step::Key(k)).collect();
    let now = wrapped_value(doc, &steps);
    for r in record
        .mcp
        .iter_mut()
        .filter(|r| r.file == path && r.path == *server)
    {
        r.wrapped = now.clone();
    }
}

fn unwrap_one(
    doc: &Document,
    steps: &[Step],
    kept: Option<&McpRecord>,
) -> Result<Document, SetupError> {
    if let Some(kept) = kept.filter(|k| k.wrapped == wrapped_value(doc, steps)) {
        let next = edit(doc.replace_raw(&with(steps, "command"), &kept.command))?;
        return match &kept.args {
            Some(raw) => edit(next.replace_raw(&with(steps, "args"), raw)),
            None => {
                let entry = next
                    .get(steps)
                    .ok_or_else(|| SetupError::new("server entry vanished"))?;
                let index = entry.member_index("args").unwrap_or_default();
                edit(next.remove(steps, index))
            }
        };
    }
    // No record, or edited since: what runs after `--` is the original.
    let value = doc.get(steps).map(|n| doc.value(n)).unwrap_or_default();
    let program = value
        .get("command")
        .and_then(|c| c.as_str())
        .unwrap_or_default();
    let args: Vec<String> = value
        .get("args")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let inner = rampart_mcp(program, &args).unwrap_or_default();
    let Some((command, rest)) = inner.split_first() else {
        return Ok(doc.clone());
    };
    let next = edit(doc.replace(&with(steps, "command"), &Snippet::str(command.as_str())))?;
    edit(next.replace(
        &with(steps, "args"),
        &Snippet::Array(rest.iter().map(Snippet::str).collect()),
    ))
}
