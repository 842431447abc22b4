//! A tool call and its canonical form (reference §2.1).
//!
//! Agents name the same thing in several ways (`command`, `cmd` or `input`; `path` or
//! `file_path`; Params or Input). Canonicalisation picks the one value each field means and
//! refuses, failing closed, when the spellings disagree or a security field is not a string: a
//! decoy under one alias must never be what the policy sees while another alias is what runs.
//! Inputs over 8 KiB are refused rather than truncated, since a truncated prefix can hide the
//! dangerous tail.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Longest agent, session, tool, command, path, url, domain or tool param value that is matched.
pub const MAX_MATCH_INPUT: usize = 8192;

/// A parameter value: a JSON string, or anything else rendered the way Go's `fmt.Sprint` would
/// (`true`, `3`, `map[a:1]`), which is what tool_param_matches compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Other(String),
}

impl Value {
    /// The text tool_param_matches sees.
    pub fn render(&self) -> &str {
        match self {
            Value::Str(s) | Value::Other(s) => s,
        }
    }
}

/// One tool call, as the agent made it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Call {
    pub tool: String,
    pub agent: String,
    pub session: String,
    pub agent_depth: i64,
    /// The host-reported working directory (`call.WorkDir`).
    pub workdir: Option<String>,
    pub params: Vec<(String, Value)>,
    /// The MCP-style arguments.
    pub input: Vec<(String, Value)>,
}

impl Call {
    /// A call of `tool` by `agent` with string params.
    pub fn new(tool: &str, agent: &str, params: &[(&str, &str)]) -> Call {
        Call {
            tool: tool.into(),
            agent: agent.into(),
            params: params
                .iter()
                .map(|(k, v)| (String::from(*k), Value::Str(String::from(*v))))
                .collect(),
            ..Call::default()
        }
    }

    /// The Input value of `name`, if any (tool_param_matches reads Input only).
    pub fn input_value(&self, name: &str) -> Option<&Value> {
        self.input.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Why a call is refused before any rule runs. Each becomes a deny with upstream's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputError {
    /// Aliases disagree, or a security key is not a string.
    Ambiguous,
    /// A matched value is longer than [`MAX_MATCH_INPUT`]; names the value.
    TooLong(String),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Ambiguous => {
                f.write_str("ambiguous tool input (conflicting command aliases); failing closed")
            }
            InputError::TooLong(what) => write!(
                f,
                "{what} exceeds the {MAX_MATCH_INPUT}-byte policy matching limit; failing closed"
            ),
        }
    }
}

/// The fields policies match, picked from a call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Canonical<'c> {
    pub command: Option<&'c str>,
    pub path: Option<&'c str>,
    pub url: Option<&'c str>,
    /// Lowercased, trimmed, one trailing dot removed.
    pub domain: Option<String>,
    pub workdir: Option<&'c str>,
}

pub(crate) fn command_keys(tool: &str) -> &'static [&'static str] {
    match tool {
        "exec" => &["command", "cmd", "input"],
        _ => &["command"],
    }
}

fn path_keys(tool: &str) -> &'static [&'static str] {
    match tool {
        "read" | "write" | "edit" | "mcp-destructive" => {
            &["file_path", "path", "file", "filepath", "target"]
        }
        _ => &["file_path", "path"],
    }
}

pub(crate) fn url_keys(tool: &str) -> &'static [&'static str] {
    match tool {
        "fetch" | "http" | "web_fetch" | "browser" => &["url", "uri", "href"],
        _ => &["url"],
    }
}

/// Canonicalises `call`, checking aliases and sizes. `tool_params` are the Input names some
/// rule's tool_param_matches reads (their values are size-checked too).
pub fn canonicalize<'c>(
    call: &'c Call,
    tool_params: &[String],
) -> Result<Canonical<'c>, InputError> {
    canonicalize_named(call, tool_params.iter().map(String::as_str))
}

/// [`canonicalize`] with the tool params' names as an iterator (the program's, read in place).
pub fn canonicalize_named<'c, 'p>(
    call: &'c Call,
    tool_params: impl Iterator<Item = &'p str>,
) -> Result<Canonical<'c>, InputError> {
    let tool = call.tool.as_str();
    let command = pick(call, command_keys(tool))?;
    let path = pick(call, path_keys(tool))?;
    let url = pick(call, url_keys(tool))?;
    let workdir_param = pick(call, &["workdir", "cwd"])?;
    let domain_param = pick(call, &["domain"])?;
    pick(call, &["scheme"])?;
    let workdir = call
        .workdir
        .as_deref()
        .filter(|w| !w.trim().is_empty())
        .or(workdir_param);
    let url_host = url.and_then(crate::url::domain_of);
    if let (Some(host), Some(given)) = (&url_host, domain_param) {
        // A caller-supplied domain that disagrees with the URL is a decoy: fail closed.
        if crate::url::normalize_domain(given) != *host {
            return Err(InputError::Ambiguous);
        }
    }
    let domain = url_host.or_else(|| domain_param.map(crate::url::normalize_domain));
    let canonical = Canonical {
        command,
        path,
        url,
        domain,
        workdir,
    };
    check_sizes(call, &canonical, tool_params)?;
    Ok(canonical)
}

/// The first non-blank string among `keys` (Params first, then Input), failing on a conflict
/// or on a non-string value.
pub(crate) fn pick<'c>(call: &'c Call, keys: &[&str]) -> Result<Option<&'c str>, InputError> {
    let mut found: Option<&'c str> = None;
    let values = keys.iter().flat_map(|key| {
        let in_params = call.params.iter().filter(move |(k, _)| k == key);
        let in_input = call.input.iter().filter(move |(k, _)| k == key);
        in_params.chain(in_input).map(|(_, v)| v)
    });
    for value in values {
        let Value::Str(s) = value else {
            return Err(InputError::Ambiguous);
        };
        if s.trim().is_empty() {
            continue;
        }
        match found {
            None => found = Some(s),
            Some(prev) if prev != s => return Err(InputError::Ambiguous),
            Some(_) => {}
        }
    }
    Ok(found)
}

fn check_sizes<'p>(
    call: &Call,
    c: &Canonical<'_>,
    tool_params: impl Iterator<Item = &'p str>,
) -> Result<(), InputError> {
    let named = [
        ("agent", Some(call.agent.as_str())),
        ("session", Some(call.session.as_str())),
        ("tool", Some(call.tool.as_str())),
        ("command", c.command),
        ("path", c.path),
        ("url", c.url),
        ("domain", c.domain.as_deref()),
    ];
    for (what, value) in named {
        if value.is_some_and(|v| v.len() > MAX_MATCH_INPUT) {
            return Err(InputError::TooLong(what.into()));
        }
    }
    for name in tool_params {
        if call
            .input_value(name)
            .is_some_and(|v| v.render().len() > MAX_MATCH_INPUT)
        {
            return Err(InputError::TooLong(alloc::format!("tool parameter {name}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(tool: &str, params: &[(&str, &str)]) -> Call {
        Call::new(tool, "a", params)
    }

    #[test]
    fn aliases_pick_the_first_non_blank() {
        let c = call("exec", &[("cmd", "ls"), ("command", "  ")]);
        assert_eq!(canonicalize(&c, &[]).unwrap().command, Some("ls"));
        let c = call("read", &[("target", "/etc/passwd")]);
        assert_eq!(canonicalize(&c, &[]).unwrap().path, Some("/etc/passwd"));
        // Only exec reads `cmd`/`input`; only read-like tools read `target`.
        let c = call("write", &[("cmd", "ls"), ("target", "/x")]);
        let canon = canonicalize(&c, &[]).unwrap();
        assert_eq!((canon.command, canon.path), (None, Some("/x")));
        let c = call("mcp-foo", &[("target", "/x")]);
        assert_eq!(canonicalize(&c, &[]).unwrap().path, None);
    }

    #[test]
    fn conflicts_fail_closed() {
        let bad = [
            call("exec", &[("command", "ls"), ("cmd", "rm -rf /")]),
            call("read", &[("path", "/a"), ("file_path", "/b")]),
            call(
                "fetch",
                &[("url", "https://a.com"), ("uri", "https://b.com")],
            ),
            call("fetch", &[("url", "https://a.com"), ("domain", "b.com")]),
            call(
                "exec",
                &[("command", "ls"), ("workdir", "/a"), ("cwd", "/b")],
            ),
        ];
        for c in &bad {
            assert_eq!(canonicalize(c, &[]), Err(InputError::Ambiguous), "{c:?}");
        }
        let mut c = call("exec", &[("command", "ls")]);
        c.input.push(("cmd".into(), Value::Str("rm -rf /".into())));
        assert_eq!(canonicalize(&c, &[]), Err(InputError::Ambiguous));
        let mut c = call("exec", &[]);
        c.params
            .push(("command".into(), Value::Other("[rm -rf /]".into())));
        assert_eq!(canonicalize(&c, &[]), Err(InputError::Ambiguous));
        // Equal values under two aliases are fine.
        let c = call("exec", &[("command", "ls"), ("cmd", "ls")]);
        assert!(canonicalize(&c, &[]).is_ok());
        let c = call("fetch", &[("url", "https://A.com./x"), ("domain", "a.com")]);
        assert_eq!(
            canonicalize(&c, &[]).unwrap().domain.as_deref(),
            Some("a.com")
        );
    }

    #[test]
    fn oversized_inputs_fail_closed() {
        let long = "x".repeat(MAX_MATCH_INPUT + 1);
        let c = call("exec", &[("command", &long)]);
        let err = canonicalize(&c, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "command exceeds the 8192-byte policy matching limit; failing closed"
        );
        let mut c = call("mcp", &[]);
        c.input.push(("q".into(), Value::Str(long.clone())));
        assert!(canonicalize(&c, &[]).is_ok());
        assert!(canonicalize(&c, &["q".into()]).is_err());
        let exact = "x".repeat(MAX_MATCH_INPUT);
        assert!(canonicalize(&call("exec", &[("command", &exact)]), &[]).is_ok());
    }

    #[test]
    fn workdir_and_domain_sources() {
        let mut c = call(
            "fetch",
            &[
                ("url", "ftp-no-host"),
                ("domain", "Evil.COM."),
                ("cwd", "/w"),
            ],
        );
        let canon = canonicalize(&c, &[]).unwrap();
        assert_eq!(canon.domain.as_deref(), Some("evil.com"));
        assert_eq!(canon.workdir, Some("/w"));
        c.workdir = Some("/top".into());
        assert_eq!(canonicalize(&c, &[]).unwrap().workdir, Some("/top"));
    }
}
