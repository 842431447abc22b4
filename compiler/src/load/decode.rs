//! Strict typed reads from the YAML tree, with upstream's (yaml.v3's) conversions.
//!
//! yaml.v3 decodes into Go structs with `KnownFields(true)`: an unknown key is an error, null is the
//! zero value, any scalar can fill a string field (`version: 1` is "1"), a bool field also takes the
//! YAML 1.1 words (`yes`, `off`), and nothing else converts. These helpers do the same, and every
//! error names the key path and points at the offending node.

use super::check;
use super::yaml::{Node, Value};
use crate::error::Error;
use crate::model::{Located, SourcePos};

/// Reads the nodes of one file; `file` is the name positions carry.
pub struct Reader<'a> {
    pub file: &'a str,
}

/// The entries of a mapping whose keys were all checked against the allowed list.
pub struct Fields<'n> {
    entries: &'n [(Node, Node)],
}

impl<'n> Fields<'n> {
    /// The value under `key`, if written.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)
    }
}

/// `parent.key`, or `key` at the top level.
pub fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `parent[i]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// `path: message`, or just the message at the top level.
pub fn at_path(path: &str, message: impl std::fmt::Display) -> String {
    if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

impl Reader<'_> {
    pub fn pos(&self, node: &Node) -> SourcePos {
        node.pos(self.file)
    }

    /// An error at `node`, prefixed by its key path.
    pub fn error(&self, node: &Node, path: &str, message: impl std::fmt::Display) -> Error {
        Error::at(self.pos(node), at_path(path, message))
    }

    fn expected(&self, node: &Node, path: &str, what: &str) -> Error {
        self.error(
            node,
            path,
            format!("expected {what}, found {}", node.describe()),
        )
    }

    /// A mapping whose keys must all be in `allowed`.
    pub fn fields<'n>(
        &self,
        node: &'n Node,
        path: &str,
        allowed: &[&'static str],
    ) -> Result<Fields<'n>, Error> {
        let entries = node
            .entries()
            .ok_or_else(|| self.expected(node, path, "a mapping"))?;
        for (key, _) in entries {
            let name = key
                .as_text()
                .filter(|_| matches!(key.value, Value::Str(_)))
                .ok_or_else(|| self.expected(key, path, "a key name"))?;
            if !allowed.contains(&name) {
                return Err(self.error(key, path, unknown_key(name, allowed)));
            }
        }
        Ok(Fields { entries })
    }

    /// Any scalar as text; null is "".
    pub fn string(&self, node: &Node, path: &str) -> Result<String, Error> {
        node.as_text()
            .map(str::to_string)
            .ok_or_else(|| self.expected(node, path, "a string"))
    }

    pub fn located_string(&self, node: &Node, path: &str) -> Result<Located<String>, Error> {
        Ok(Located::new(self.string(node, path)?, self.pos(node)))
    }

    /// An integer; null is 0. Whole floats are accepted (yaml.v3 converts them too).
    pub fn int(&self, node: &Node, path: &str) -> Result<i64, Error> {
        let value = match &node.value {
            Value::Null => Some(0),
            Value::Int(i, _) => i64::try_from(*i).ok(),
            Value::Float(f, _) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            _ => None,
        };
        value.ok_or_else(|| self.expected(node, path, "an integer"))
    }

    /// A boolean; null is `None`. Accepts YAML 1.1 words as yaml.v3 does for bool fields.
    pub fn opt_bool(&self, node: &Node, path: &str) -> Result<Option<bool>, Error> {
        let value = match &node.value {
            Value::Null => return Ok(None),
            Value::Bool(b, _) => Some(*b),
            Value::Str(s) => match s.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
                _ => None,
            },
            _ => None,
        };
        value
            .map(Some)
            .ok_or_else(|| self.expected(node, path, "true or false"))
    }

    pub fn bool(&self, node: &Node, path: &str) -> Result<bool, Error> {
        Ok(self.opt_bool(node, path)?.unwrap_or(false))
    }

    /// The items of a list; null is empty.
    pub fn list<'n>(&self, node: &'n Node, path: &str) -> Result<&'n [Node], Error> {
        node.items()
            .ok_or_else(|| self.expected(node, path, "a list"))
    }

    /// A list of strings, each with its position.
    pub fn strings(&self, node: &Node, path: &str) -> Result<Vec<Located<String>>, Error> {
        self.list(node, path)?
            .iter()
            .enumerate()
            .map(|(i, item)| self.located_string(item, &index(path, i)))
            .collect()
    }

    /// A string or a list of strings (`match.tool`); null and "" are empty.
    pub fn string_or_list(&self, node: &Node, path: &str) -> Result<Vec<Located<String>>, Error> {
        match &node.value {
            Value::Seq(_) => self.strings(node, path),
            Value::Null => Ok(Vec::new()),
            Value::Map(_) => Err(self.expected(node, path, "a string or a list of strings")),
            _ => {
                let text = self.located_string(node, path)?;
                Ok(if text.value.is_empty() {
                    Vec::new()
                } else {
                    vec![text]
                })
            }
        }
    }
}

/// "unknown key `x`", with a hint when the intended key is obvious.
pub fn unknown_key(key: &str, allowed: &[&'static str]) -> String {
    match key_hint(key, allowed) {
        Some(hint) => format!("unknown key `{key}` ({hint})"),
        None => format!("unknown key `{key}`"),
    }
}

/// What a misplaced or misspelt key most likely meant.
pub fn key_hint(key: &str, allowed: &[&'static str]) -> Option<String> {
    if let Some(hint) = special_hint(key, allowed) {
        return Some(hint.to_string());
    }
    let lower = key.to_ascii_lowercase();
    check::closest(&lower, allowed)
        .or_else(|| abbreviation_of(&lower, allowed))
        .map(|k| format!("did you mean `{k}`?"))
}

/// Keys people write from other policy languages, or at the wrong level.
fn special_hint(key: &str, allowed: &[&'static str]) -> Option<&'static str> {
    let has = |k: &str| allowed.contains(&k);
    match key {
        "reason" if has("message") => Some("did you mean `message`?"),
        "match" if has("when") => Some("did you mean `when`? `match` belongs to the policy"),
        "condition" | "conditions" | "if" if has("when") => Some("did you mean `when`?"),
        "unless" | "not" | "except" | "any" | "all" => {
            Some("there is no such operator; use the `*_not_matches` keys to exclude")
        }
        "include" | "includes" | "variables" | "vars" | "extends" => {
            Some("policies have no includes or variables")
        }
        "env" if has("command_env_assignments") => Some("did you mean `command_env_assignments`?"),
        "action" if has("rules") => Some("`action` belongs in a rule under `rules:`"),
        _ => None,
    }
}

/// The one allowed key that `key` abbreviates (`desc` for `description`).
fn abbreviation_of(key: &str, allowed: &[&'static str]) -> Option<&'static str> {
    let mut found = allowed
        .iter()
        .filter(|k| key.len() >= 3 && k.starts_with(key));
    match (found.next(), found.next()) {
        (Some(k), None) => Some(k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHEN: &[&str] = &[
        "command_matches",
        "path_matches",
        "url_matches",
        "domain_matches",
    ];

    #[test]
    fn hints_for_misspelt_keys() {
        for (typo, want) in [
            ("command_match", "command_matches"),
            ("path_match", "path_matches"),
            ("url_match", "url_matches"),
            ("domain_match", "domain_matches"),
            ("command_matchs", "command_matches"),
        ] {
            let hint = key_hint(typo, WHEN).unwrap();
            assert!(hint.contains(want), "{typo}: {hint}");
        }
        assert_eq!(key_hint("zzz", WHEN), None);
        assert!(key_hint("reason", &["message", "when"])
            .unwrap()
            .contains("message"));
    }
}
