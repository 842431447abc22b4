//! Upstream's MCP tool classifier (reference §7): a tool name to a rampart tool class, and the
//! arguments of an MCP call to the params policies match.
//!
//! Names are judged by keywords, the way upstream does it, because a server can name its tools
//! anything: a destructive word anywhere in the name (`purge_cache`, `DropTable`) makes the tool
//! `mcp-destructive` before any exact name is looked at, so a server cannot launder `delete_all`
//! through a harmless-looking prefix. The keyword test is a case-insensitive substring test, as
//! upstream's (`information` contains `format`); that errs towards the stricter class, which is
//! the side a firewall errs on.

use serde_json::{Map, Value};

/// A rampart tool class for an MCP tool, ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum McpClass {
    /// Any other tool: `mcp`.
    Other,
    Read,
    Fetch,
    Write,
    /// `mcp-dangerous`: executes, sends or modifies.
    Dangerous,
    Exec,
    /// `mcp-destructive`: deletes, drops, wipes.
    Destructive,
}

impl McpClass {
    /// The rampart tool name policies match.
    pub fn tool(self) -> &'static str {
        match self {
            McpClass::Other => "mcp",
            McpClass::Read => "read",
            McpClass::Fetch => "fetch",
            McpClass::Write => "write",
            McpClass::Dangerous => "mcp-dangerous",
            McpClass::Exec => "exec",
            McpClass::Destructive => "mcp-destructive",
        }
    }
}

const DESTRUCTIVE: [&str; 10] = [
    "delete", "destroy", "remove", "drop", "purge", "kill", "format", "wipe", "truncate", "reset",
];

const DANGEROUS: [&str; 15] = [
    "stop",
    "shutdown",
    "reboot",
    "restart",
    "migrate",
    "resize",
    "modify",
    "update",
    "patch",
    "configure",
    "execute",
    "exec",
    "run",
    "send",
    "post",
];

/// The class of an MCP tool called `name` (upstream's `MapToolName` without a custom mapping).
pub fn classify(name: &str) -> McpClass {
    let lower = name.to_ascii_lowercase();
    if DESTRUCTIVE.iter().any(|k| lower.contains(k)) {
        return McpClass::Destructive;
    }
    match lower.as_str() {
        "read_file" | "list_directory" => return McpClass::Read,
        "write_file" | "create_directory" => return McpClass::Write,
        "delete_file" => return McpClass::Destructive,
        "move_file" => return McpClass::Dangerous,
        "execute_command" | "run_command" | "shell" => return McpClass::Exec,
        "fetch" | "http_request" => return McpClass::Fetch,
        _ => {}
    }
    if DANGEROUS.iter().any(|k| lower.contains(k)) {
        return McpClass::Dangerous;
    }
    McpClass::Other
}

/// The class of a host's native MCP tool name (`mcp__server__tool`): the more severe of the whole
/// name's class and the class of the part after its last `__` (upstream's
/// `classifyNativeMCPTool`), so `mcp__fs__read_file` is `read` while `mcp__db__drop_table` and
/// `mcp__purge__list` are both destructive.
pub fn classify_native(name: &str) -> McpClass {
    let whole = classify(name);
    match name.rsplit_once("__") {
        Some((_, tool)) if !tool.is_empty() => whole.max(classify(tool)),
        _ => whole,
    }
}

/// The params of a `tools/call` of `tool` with `arguments` (reference §7): the arguments, plus
/// `mcp_method` and `mcp_tool`, plus `command`, `path` and `url` taken from their usual
/// spellings (the first present of each list), with `domain` and `scheme` derived from the URL.
/// A spelling the arguments already use is not overwritten: where two spellings disagree, the
/// runtime's alias check sees both and fails closed.
pub fn params(method: &str, tool: &str, arguments: &Map<String, Value>) -> Map<String, Value> {
    let mut params = arguments.clone();
    params.insert("mcp_method".into(), Value::String(method.into()));
    params.insert("mcp_tool".into(), Value::String(tool.into()));
    for (canonical, spellings) in [
        ("command", &["command", "cmd", "input"][..]),
        ("path", &["path", "file", "filepath", "target"][..]),
        ("url", &["url", "uri", "href"][..]),
    ] {
        let first = spellings
            .iter()
            .find_map(|k| arguments.get(*k).and_then(Value::as_str));
        if let (Some(value), false) = (first, arguments.contains_key(canonical)) {
            params.insert(canonical.into(), Value::String(value.into()));
        }
    }
    if let Some(url) = params.get("url").and_then(Value::as_str) {
        for (key, value) in url_parts(url) {
            params.entry(key).or_insert(Value::String(value));
        }
    }
    params
}

/// `scheme` and `domain` of a URL (a URL's path is not a file path, so `path` stays the
/// arguments' own).
fn url_parts(url: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    if let Some((scheme, _)) = url.split_once("://") {
        parts.push(("scheme".to_string(), scheme.to_ascii_lowercase()));
    }
    if let Some(domain) = rampart_runtime::url::domain_of(url) {
        parts.push(("domain".to_string(), domain));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keywords_then_exact_names_then_keywords() {
        for (name, class) in [
            ("delete_file", McpClass::Destructive),
            ("DropTable", McpClass::Destructive),
            ("get_information", McpClass::Destructive),
            ("read_file", McpClass::Read),
            ("list_directory", McpClass::Read),
            ("write_file", McpClass::Write),
            ("move_file", McpClass::Dangerous),
            ("run_command", McpClass::Exec),
            ("shell", McpClass::Exec),
            ("fetch", McpClass::Fetch),
            ("update_issue", McpClass::Dangerous),
            ("send_email", McpClass::Dangerous),
            ("search_issues", McpClass::Other),
        ] {
            assert_eq!(classify(name), class, "{name}");
        }
    }

    #[test]
    fn native_names_take_the_more_severe_class() {
        assert_eq!(classify_native("mcp__fs__read_file"), McpClass::Read);
        assert_eq!(
            classify_native("mcp__db__drop_table"),
            McpClass::Destructive
        );
        assert_eq!(classify_native("mcp__purge__list"), McpClass::Destructive);
        assert_eq!(classify_native("mcp__gh__search"), McpClass::Other);
        assert_eq!(classify_native("mcp__sh__run_command"), McpClass::Exec);
        assert_eq!(classify_native("mcp__x__"), McpClass::Other);
    }

    #[test]
    fn params_carry_the_canonical_spellings() {
        let args = json!({"cmd": "ls", "uri": "https://Example.com:8443/a", "file": "/etc/x"});
        let p = params("tools/call", "run", args.as_object().unwrap());
        assert_eq!(p["command"], "ls");
        assert_eq!(p["path"], "/etc/x");
        assert_eq!(p["url"], "https://Example.com:8443/a");
        assert_eq!(p["domain"], "example.com");
        assert_eq!(p["scheme"], "https");
        assert_eq!(p["mcp_method"], "tools/call");
        assert_eq!(p["mcp_tool"], "run");
        // An argument's own spelling is kept; a disagreement stays visible to the alias check.
        let args = json!({"command": "ls", "cmd": "rm -rf /"});
        let p = params("tools/call", "run", args.as_object().unwrap());
        assert_eq!(
            (p["command"].as_str(), p["cmd"].as_str()),
            (Some("ls"), Some("rm -rf /"))
        );
    }
}
