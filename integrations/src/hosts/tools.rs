//! Host tools as rampart tool classes: one table per host, and the params a policy sees.
//!
//! The threat: a tool the policy does not recognise is a tool the policy does not govern. Every
//! host names its tools its own way (`Bash`, `run_shell_command`, `execute_command`,
//! `run_command`), and spells the parameter that matters its own way (`file_path`, `path`,
//! `filePath`, `AbsolutePath`). A row of a table here says which rampart tool a host's tool is,
//! which of its parameters is the command, path or URL the policy matches, and whether the call
//! is unreadable without it. A tool no table knows is refused in enforce mode, and a required
//! parameter that is missing or not a string refuses the call: a guess would be a bypass.

use serde_json::{Map, Value};

/// The parameter of a tool that the policy matches, under the keys a host may spell it with
/// (the first present wins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Main {
    /// Nothing beyond the tool class itself.
    None,
    /// The command (`command` in the params).
    Command(&'static [&'static str]),
    /// The file or directory (`file_path` in the params).
    Path(&'static [&'static str]),
    /// The URL (`url` in the params).
    Url(&'static [&'static str]),
    /// A parameter without which the call means nothing (a search pattern), kept as it is.
    Param(&'static [&'static str]),
}

/// One host tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ToolSpec {
    /// The host's name for it.
    pub name: &'static str,
    /// The rampart tool class.
    pub tool: &'static str,
    pub main: Main,
    /// Whether a call without its main parameter is refused.
    pub required: bool,
}

/// A required row.
pub(crate) const fn req(name: &'static str, tool: &'static str, main: Main) -> ToolSpec {
    ToolSpec {
        name,
        tool,
        main,
        required: true,
    }
}

/// A row whose main parameter may be missing.
pub(crate) const fn opt(name: &'static str, tool: &'static str, main: Main) -> ToolSpec {
    ToolSpec {
        name,
        tool,
        main,
        required: false,
    }
}

/// The row of `table` for the host tool `name` (exact, case-sensitive: hosts spell their tools
/// one way).
pub(crate) fn find(table: &'static [ToolSpec], name: &str) -> Option<&'static ToolSpec> {
    table.iter().find(|spec| spec.name == name)
}

/// The params a policy sees for a call of `spec` with `input`: the input as the host sent it,
/// plus the main parameter under rampart's own key when the host spelled it otherwise. An
/// input that already carries rampart's key keeps it, so two spellings that disagree both reach
/// the runtime's alias check, which fails the call closed.
pub(crate) fn params(
    spec: &ToolSpec,
    input: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let mut params = input.clone();
    // The key rampart's own spelling goes under, and the keys the runtime reads for every tool.
    let (keys, canonical, read): (&[&str], &str, &[&str]) = match spec.main {
        Main::None => return Ok(params),
        Main::Command(keys) => (keys, "command", &["command"]),
        Main::Path(keys) => (keys, "file_path", &["file_path", "path"]),
        Main::Url(keys) => (keys, "url", &["url"]),
        Main::Param(keys) => (keys, "", keys),
    };
    let Some((key, value)) = main_value(keys, input)? else {
        if spec.required {
            let first = keys.first().copied().unwrap_or("its main parameter");
            return Err(format!("{} needs a non-empty \"{first}\"", spec.name));
        }
        return Ok(params);
    };
    if !read.contains(&key) && !input.contains_key(canonical) {
        params.insert(canonical.into(), Value::String(value.into()));
    }
    Ok(params)
}

/// The first of `keys` present in `input` with a non-blank string; a present value that is not a
/// string is an error (a command given as a number or a list must not be read as "no command").
fn main_value<'i>(
    keys: &[&'static str],
    input: &'i Map<String, Value>,
) -> Result<Option<(&'static str, &'i str)>, String> {
    for key in keys {
        match input.get(*key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) if s.trim().is_empty() => continue,
            Some(Value::String(s)) => return Ok(Some((key, s))),
            Some(_) => return Err(format!("\"{key}\" must be a string")),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn main_parameters_are_copied_under_rampart_keys() {
        let spec = req("readFile", "read", Main::Path(&["filePath"]));
        let p = params(&spec, &input(json!({"filePath": "/etc/passwd"}))).unwrap();
        assert_eq!(p["file_path"], "/etc/passwd");
        assert_eq!(p["filePath"], "/etc/passwd");
        let spec = req(
            "run_command",
            "exec",
            Main::Command(&["CommandLine", "command"]),
        );
        let p = params(&spec, &input(json!({"CommandLine": "ls"}))).unwrap();
        assert_eq!(p["command"], "ls");
        // A host that already uses a key the runtime reads gets no second key.
        let spec = req("read_file", "read", Main::Path(&["path"]));
        let p = params(&spec, &input(json!({"path": "/x"}))).unwrap();
        assert!(!p.contains_key("file_path"));
        // Two spellings that disagree are both kept for the alias check.
        let spec = req("Bash", "exec", Main::Command(&["cmd"]));
        let p = params(&spec, &input(json!({"cmd": "ls", "command": "rm -rf /"}))).unwrap();
        assert_eq!(
            (p["cmd"].as_str(), p["command"].as_str()),
            (Some("ls"), Some("rm -rf /"))
        );
    }

    #[test]
    fn required_parameters_refuse_the_call() {
        let spec = req("Bash", "exec", Main::Command(&["command"]));
        for bad in [
            json!({}),
            json!({"command": "  "}),
            json!({"command": null}),
        ] {
            let err = params(&spec, &input(bad)).unwrap_err();
            assert_eq!(err, "Bash needs a non-empty \"command\"");
        }
        let err = params(&spec, &input(json!({"command": ["rm", "-rf", "/"]}))).unwrap_err();
        assert_eq!(err, "\"command\" must be a string");
        let spec = opt("Task", "agent", Main::Command(&["description", "prompt"]));
        assert!(params(&spec, &input(json!({}))).is_ok());
        let p = params(&spec, &input(json!({"prompt": "do it"}))).unwrap();
        assert_eq!(p["command"], "do it");
    }
}
