//! A YAML document as a tree of nodes that remember where they were written.
//!
//! Why a tree and not `#[derive(Deserialize)]` straight into the policy types: the strict loader and
//! the lenient lint read the same document, and both need things derive cannot give cleanly: the
//! position of every key and list item, the written order of maps (`tool_param_matches`), the path of
//! a bad value (`policies[0].rules[2].when`), hints for misspelt keys, and the original spelling of
//! plain scalars (`version: 1.0` is the string "1.0" to upstream's yaml.v3, not the float 1).
//!
//! serde-saphyr parses; `Spanned<Raw>` captures each node's location and byte span, and the span
//! gives back the spelling. Its budget (nesting depth 64, alias expansion limits) keeps hostile input
//! from exhausting the stack or memory, so the recursive code here is bounded.

use crate::error::Error;
use crate::model::SourcePos;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DefaultMessageFormatter, MessageFormatter, Spanned};
use std::fmt;

/// Policy files larger than this are rejected before parsing (upstream's `maxPolicyFileSize`).
pub const MAX_FILE_SIZE: usize = 1 << 20;

/// One node of a document and the 1-based line and column where it starts.
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    /// A scalar read as a boolean; the string is its spelling.
    Bool(bool, String),
    Int(i128, String),
    Float(f64, String),
    /// A quoted scalar, or a plain one that is not a number, boolean or null.
    Str(String),
    Seq(Vec<Node>),
    /// Entries in the order written. Duplicate keys were already rejected by the parser.
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn pos(&self, file: &str) -> SourcePos {
        SourcePos {
            file: file.to_string(),
            line: self.line,
            column: self.column,
        }
    }

    /// The text of a scalar as yaml.v3 gives it to a string field: any scalar's spelling; null is "".
    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            Value::Null => Some(""),
            Value::Str(s) | Value::Bool(_, s) | Value::Int(_, s) | Value::Float(_, s) => Some(s),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// The entries of a mapping; null (an empty value) is an empty mapping.
    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            Value::Null => Some(&[]),
            _ => None,
        }
    }

    /// The items of a sequence; null is an empty sequence.
    pub fn items(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            Value::Null => Some(&[]),
            _ => None,
        }
    }

    /// The value under `key` in a mapping, if this is a mapping and has it.
    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)
    }

    /// Says what the node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "nothing (null)".to_string(),
            Value::Str(s) => format!("{s:?}"),
            Value::Bool(_, s) | Value::Int(_, s) | Value::Float(_, s) => s.clone(),
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a mapping".to_string(),
        }
    }
}

/// Parses `text` as exactly one YAML document. `None` means the text holds no document at all
/// (empty, or only comments), which upstream loads as an empty configuration.
pub fn parse_document(file: &str, text: &str) -> Result<Option<Node>, Error> {
    if text.len() > MAX_FILE_SIZE {
        return Err(Error::at(
            SourcePos {
                file: file.to_string(),
                line: 1,
                column: 1,
            },
            format!(
                "policy file is {} bytes; the limit is {MAX_FILE_SIZE} bytes (1 MiB)",
                text.len()
            ),
        ));
    }
    let options = serde_saphyr::options! { strict_booleans: true, with_snippet: false };
    let docs = serde_saphyr::from_multiple_with_options::<Spanned<Raw>>(text, options)
        .map_err(|e| syntax_error(file, &e))?;
    let mut docs = docs.into_iter();
    let first = docs.next();
    if let Some(second) = docs.next() {
        let node = convert(second, text);
        return Err(Error::at(
            node.pos(file),
            "policy must contain exactly one YAML document; a second one starts here",
        ));
    }
    Ok(first.map(|doc| convert(doc, text)))
}

/// A parser error as one line: serde-saphyr's message without its own location suffix.
fn syntax_error(file: &str, err: &serde_saphyr::Error) -> Error {
    let err = err.without_snippet();
    let text = match err {
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("key `{key}` appears twice in the same mapping").into()
        }
        serde_saphyr::Error::DuplicateMappingKey { key: None, .. } => {
            "a key appears twice in the same mapping".into()
        }
        other => DefaultMessageFormatter.format_message(other),
    };
    // One line, no control characters: the message ends up in terminals and logs.
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let message = format!("invalid YAML: {text}");
    let pos = err.location().filter(|l| l.line() > 0).map(|l| SourcePos {
        file: file.to_string(),
        line: saturate(l.line()),
        column: saturate(l.column()),
    });
    Error {
        pos: pos.or_else(|| {
            Some(SourcePos {
                file: file.to_string(),
                line: 1,
                column: 1,
            })
        }),
        message,
    }
}

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn convert(raw: Spanned<Raw>, text: &str) -> Node {
    let Spanned {
        value,
        referenced,
        defined,
    } = raw;
    let spelled = |fallback: String| spelling(&defined, text).unwrap_or(fallback);
    let value = match value {
        Raw::Null => Value::Null,
        Raw::Bool(b) => Value::Bool(b, spelled(b.to_string())),
        Raw::Int(i) => Value::Int(i, spelled(i.to_string())),
        Raw::Float(f) => Value::Float(f, spelled(f.to_string())),
        Raw::Str(s) => Value::Str(s),
        Raw::Seq(items) => Value::Seq(items.into_iter().map(|i| convert(i, text)).collect()),
        Raw::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k, text), convert(v, text)))
                .collect(),
        ),
    };
    Node {
        value,
        line: saturate(referenced.line()),
        column: saturate(referenced.column()),
    }
}

/// The source text of a plain scalar, taken from where it was defined (for aliases).
fn spelling(defined: &serde_saphyr::Location, text: &str) -> Option<String> {
    let span = defined.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let end = start.checked_add(usize::try_from(span.byte_len()?).ok()?)?;
    let slice = text.get(start..end)?.trim();
    (!slice.is_empty()).then(|| slice.to_string())
}

/// What serde-saphyr reports for a node, before positions are attached.
enum Raw {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        i128::try_from(v)
            .map(Raw::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Raw::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        parse_document("t.yaml", text).unwrap().unwrap()
    }

    #[test]
    fn plain_scalars_keep_their_spelling() {
        let doc = parse("a: 1.0\nb: 0x1F\nc: \"10\"\nd: yes\ne: true\n");
        let text = |k: &str| doc.get(k).and_then(Node::as_text).map(str::to_string);
        assert_eq!(text("a").as_deref(), Some("1.0"));
        assert_eq!(text("b").as_deref(), Some("0x1F"));
        assert!(matches!(doc.get("c").unwrap().value, Value::Str(_)));
        assert!(matches!(doc.get("d").unwrap().value, Value::Str(_)));
        assert!(matches!(doc.get("e").unwrap().value, Value::Bool(true, _)));
    }

    #[test]
    fn positions_are_one_based_and_point_at_values() {
        let doc = parse("policies:\n  - name: x\n");
        let item = &doc.get("policies").unwrap().items().unwrap()[0];
        let name = item.get("name").unwrap();
        assert_eq!((item.line, item.column), (2, 5));
        assert_eq!((name.line, name.column), (2, 11));
    }

    #[test]
    fn empty_text_is_no_document() {
        assert!(parse_document("t.yaml", "# nothing\n").unwrap().is_none());
    }

    #[test]
    fn two_documents_are_an_error_at_the_second() {
        let err = parse_document("t.yaml", "a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(err.pos.unwrap().line, 3);
    }
}
