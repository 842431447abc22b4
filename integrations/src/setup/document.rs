//! A JSON settings file, edited as text.
//!
//! The threat: setup writes into files that belong to the user and to the agent host. Parsing a
//! settings file into a map and serialising it again reorders its keys, drops its comments
//! (Gemini's and VS Code's settings are JSONC), reformats its numbers and whitespace, and turns
//! a careful hand-edited file into a diff nobody wants to review. A user who sees that once does
//! not let a security tool near their settings again.
//!
//! So a settings file is parsed into a tree of byte spans ([`Node`]) over its text, and every
//! edit is a splice of that text: a new entry is rendered in the file's own indentation and
//! inserted after the last entry of its container, an entry is removed together with exactly the
//! separator that insertion added, a value is replaced in place. Nothing else in the file moves,
//! so `setup` followed by `setup --remove` gives back the original bytes. The parser is lenient
//! in what hosts accept beyond JSON: `//` and `/* */` comments and trailing commas.

use std::fmt;

/// Deeper nesting than this is refused: a hostile or broken file must not overflow the stack.
const MAX_DEPTH: usize = 256;

/// A parsed document: its text and the span tree over it.
#[derive(Clone, Debug)]
pub struct Document {
    text: String,
    root: Node,
}

/// A value and where it is in the text (`start..end`, bytes).
#[derive(Clone, Debug)]
pub struct Node {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
pub enum Kind {
    /// An object's members or an array's items, in text order.
    Object(Vec<Entry>),
    Array(Vec<Entry>),
    /// A string's decoded value.
    String(String),
    /// A number, `true`, `false` or `null`.
    Other,
}

/// A member of an object (with its key) or an item of an array.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: Option<String>,
    /// Where the entry starts: its key for a member, its value for an item.
    pub start: usize,
    pub value: Node,
    /// The comma that follows the entry, if any.
    pub comma: Option<usize>,
}

/// One step of a path into a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// A value to write, with its keys in the order they are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Snippet {
    Str(String),
    Int(i64),
    Bool(bool),
    Array(Vec<Snippet>),
    Object(Vec<(String, Snippet)>),
}

/// A file that is not JSON, or an edit that does not fit the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentError {
    pub message: String,
    /// 1-based line and column of a syntax error, when there is one.
    pub at: Option<(usize, usize)>,
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "{}:{}: {}", line, column, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DocumentError {}

fn edit_error(message: impl Into<String>) -> DocumentError {
    DocumentError {
        message: message.into(),
        at: None,
    }
}

impl Document {
    /// Parses `text`; an empty or blank text is an empty object (a settings file not yet written).
    pub fn parse(text: String) -> Result<Document, DocumentError> {
        let root = if text.trim().is_empty() {
            Node {
                start: 0,
                end: 0,
                kind: Kind::Object(Vec::new()),
            }
        } else {
            Parser::new(&text).document()?
        };
        Ok(Document { text, root })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn into_text(self) -> String {
        self.text
    }

    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The node at `path`, if there is one.
    pub fn get(&self, path: &[Step]) -> Option<&Node> {
        path.iter()
            .try_fold(&self.root, |node, step| node.child(*step))
    }

    /// The raw text of a node.
    pub fn raw(&self, node: &Node) -> &str {
        self.text.get(node.start..node.end).unwrap_or_default()
    }

    /// The value at `path` as JSON (for comparing what is there with what setup would write).
    pub fn value(&self, node: &Node) -> serde_json::Value {
        node.to_value(&self.text)
    }

    /// Appends `value` (under `key` in an object) as the last entry of the container at `path`.
    pub fn append(
        &self,
        path: &[Step],
        key: Option<&str>,
        value: &Snippet,
    ) -> Result<Document, DocumentError> {
        let container = self.container(path)?;
        match container.entries().last() {
            Some(last) => self.insert_after_entry(last, key, value),
            None => self.fill_empty(container, key, value),
        }
    }

    /// Inserts `value` (under `key` in an object) right after entry `index` of the container at
    /// `path`.
    pub fn insert_after(
        &self,
        path: &[Step],
        index: usize,
        key: Option<&str>,
        value: &Snippet,
    ) -> Result<Document, DocumentError> {
        let container = self.container(path)?;
        let entry = container
            .entries()
            .get(index)
            .ok_or_else(|| edit_error(format!("no entry {index} to insert after")))?;
        self.insert_after_entry(entry, key, value)
    }

    /// Removes entry `index` of the container at `path`, with the separator that belongs to it.
    pub fn remove(&self, path: &[Step], index: usize) -> Result<Document, DocumentError> {
        let container = self.container(path)?;
        let entries = container.entries();
        let entry = entries
            .get(index)
            .ok_or_else(|| edit_error(format!("no entry {index} to remove")))?;
        let cuts = if entries.len() == 1 {
            self.cuts_only_entry(container, entry)
        } else if index + 1 == entries.len() {
            let previous = entries.get(index - 1).map_or(entry, |p| p);
            self.cuts_last_entry(previous, entry)
        } else {
            let next = entries.get(index + 1).map_or(entry, |n| n);
            self.cuts_inner_entry(entry, next)
        };
        self.splice(cuts)
    }

    /// Replaces the node at `path` with `value`, rendered in the node's own style (on one line if
    /// it was on one line).
    pub fn replace(&self, path: &[Step], value: &Snippet) -> Result<Document, DocumentError> {
        let node = self
            .get(path)
            .ok_or_else(|| edit_error("nothing to replace at that path"))?;
        let multiline = self.raw(node).contains('\n');
        let indent = self.line_indent(node.start);
        let text = value.render(&indent, &self.indent_unit(), multiline);
        self.replace_raw(path, &text)
    }

    /// Replaces the node at `path` with exactly `raw`, which must be a JSON value.
    pub fn replace_raw(&self, path: &[Step], raw: &str) -> Result<Document, DocumentError> {
        let node = self
            .get(path)
            .ok_or_else(|| edit_error("nothing to replace at that path"))?;
        self.splice(vec![(node.start, node.end, raw.to_string())])
    }

    fn container(&self, path: &[Step]) -> Result<&Node, DocumentError> {
        self.get(path)
            .filter(|n| matches!(n.kind, Kind::Object(_) | Kind::Array(_)))
            .ok_or_else(|| edit_error("no object or array at that path"))
    }

    fn insert_after_entry(
        &self,
        entry: &Entry,
        key: Option<&str>,
        value: &Snippet,
    ) -> Result<Document, DocumentError> {
        let at = entry.value.end;
        let text = if self.starts_line(entry.start) {
            let indent = self.line_indent(entry.start);
            let rendered = render_entry(key, value, &indent, &self.indent_unit(), true);
            format!(",\n{indent}{rendered}")
        } else {
            format!(", {}", render_entry(key, value, "", "", false))
        };
        self.splice(vec![(at, at, text)])
    }

    fn fill_empty(
        &self,
        container: &Node,
        key: Option<&str>,
        value: &Snippet,
    ) -> Result<Document, DocumentError> {
        if self.text.trim().is_empty() {
            let unit = self.indent_unit();
            let rendered = render_entry(key, value, &unit, &unit, true);
            return Document::parse(format!("{{\n{unit}{rendered}\n}}\n"));
        }
        let open = container.start + 1;
        let close = container.end.saturating_sub(1);
        let inner = self.text.get(open..close).unwrap_or_default();
        let multiline = self.text.trim_end().contains('\n');
        let text = if multiline {
            let outer = self.line_indent(container.start);
            let indent = format!("{outer}{}", self.indent_unit());
            let rendered = render_entry(key, value, &indent, &self.indent_unit(), true);
            format!("\n{indent}{rendered}\n{outer}")
        } else {
            render_entry(key, value, "", "", false)
        };
        if inner.trim().is_empty() {
            self.splice(vec![(open, close, text)])
        } else {
            // Only comments inside: keep them, after the new entry.
            self.splice(vec![(open, open, text)])
        }
    }

    /// The only entry of a container: the container becomes empty (`[]`, `{}`), keeping any
    /// comment that was inside it.
    fn cuts_only_entry(&self, container: &Node, entry: &Entry) -> Vec<(usize, usize, String)> {
        let open = container.start + 1;
        let close = container.end.saturating_sub(1);
        let end = entry.comma.map_or(entry.value.end, |c| c + 1);
        let rest_blank = self
            .text
            .get(open..entry.start)
            .zip(self.text.get(end..close))
            .is_some_and(|(before, after)| before.trim().is_empty() && after.trim().is_empty());
        if rest_blank {
            vec![(open, close, String::new())]
        } else {
            vec![(entry.start, end, String::new())]
        }
    }

    /// The last of several entries: the comma after the previous one goes with it, which is
    /// exactly what [`Document::append`] added.
    fn cuts_last_entry(&self, previous: &Entry, entry: &Entry) -> Vec<(usize, usize, String)> {
        let gap = self
            .text
            .get(previous.value.end..entry.start)
            .unwrap_or_default();
        if !has_comment(gap) {
            return vec![(previous.value.end, entry.value.end, String::new())];
        }
        // A comment between them belongs to the previous line: keep it, drop only the comma and
        // the entry's own line.
        let mut cuts = Vec::new();
        if let Some(comma) = previous.comma {
            cuts.push((comma, comma + 1, String::new()));
        }
        cuts.push((
            self.own_line_start(entry.start),
            entry.value.end,
            String::new(),
        ));
        cuts
    }

    /// An entry followed by another: it goes with its comma and the space up to the next entry.
    fn cuts_inner_entry(&self, entry: &Entry, next: &Entry) -> Vec<(usize, usize, String)> {
        let gap = self
            .text
            .get(entry.value.end..next.start)
            .unwrap_or_default();
        if has_comment(gap) {
            let end = entry.comma.map_or(entry.value.end, |c| c + 1);
            return vec![(entry.start, end, String::new())];
        }
        vec![(entry.start, next.start, String::new())]
    }

    /// Applies non-overlapping cuts (start, end, replacement) and parses the result.
    fn splice(&self, mut cuts: Vec<(usize, usize, String)>) -> Result<Document, DocumentError> {
        cuts.sort_by_key(|c| std::cmp::Reverse(c.0));
        let mut text = self.text.clone();
        for (start, end, with) in cuts {
            if start > end || end > text.len() || !text.is_char_boundary(start) {
                return Err(edit_error("an edit fell outside the document"));
            }
            text.replace_range(start..end, &with);
        }
        Document::parse(text).map_err(|e| edit_error(format!("an edit broke the document: {e}")))
    }

    /// Whether only whitespace precedes `pos` on its line.
    fn starts_line(&self, pos: usize) -> bool {
        let line = self.text.get(..pos).unwrap_or_default();
        let since_newline = line.rsplit('\n').next().unwrap_or_default();
        line.contains('\n') && since_newline.trim().is_empty()
    }

    /// Where `pos`'s line starts, when only whitespace precedes `pos` on it; else `pos`.
    fn own_line_start(&self, pos: usize) -> usize {
        if self.starts_line(pos) {
            self.text
                .get(..pos)
                .and_then(|t| t.rfind('\n'))
                .map_or(pos, |newline| newline)
        } else {
            pos
        }
    }

    /// The leading whitespace of the line that holds `pos`.
    fn line_indent(&self, pos: usize) -> String {
        let before = self.text.get(..pos).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        let line = self.text.get(line_start..).unwrap_or_default();
        line.chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect()
    }

    /// One level of indentation, as the file uses it: the indentation of its first indented line
    /// (two spaces when nothing is indented yet).
    fn indent_unit(&self) -> String {
        self.text
            .lines()
            .skip(1)
            .map(|line| {
                line.chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect::<String>()
            })
            .find(|indent| !indent.is_empty())
            .unwrap_or_else(|| "  ".to_string())
    }
}

fn has_comment(gap: &str) -> bool {
    gap.contains("//") || gap.contains("/*")
}

fn render_entry(
    key: Option<&str>,
    value: &Snippet,
    indent: &str,
    unit: &str,
    multiline: bool,
) -> String {
    let value = value.render(indent, unit, multiline);
    match key {
        Some(key) => format!("{}: {value}", json_string(key)),
        None => value,
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

impl Node {
    /// The child at `step`.
    pub fn child(&self, step: Step) -> Option<&Node> {
        match (step, &self.kind) {
            (Step::Key(key), Kind::Object(members)) => members
                .iter()
                .rev()
                .find(|m| m.key.as_deref() == Some(key))
                .map(|m| &m.value),
            (Step::Index(i), Kind::Array(items)) => items.get(i).map(|item| &item.value),
            _ => None,
        }
    }

    /// An object's members or an array's items; nothing for a scalar.
    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            Kind::Object(entries) | Kind::Array(entries) => entries,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.kind, Kind::Object(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self.kind, Kind::Array(_))
    }

    /// The index of the last member named `key` (the one a JSON reader keeps).
    pub fn member_index(&self, key: &str) -> Option<usize> {
        match &self.kind {
            Kind::Object(members) => members.iter().rposition(|m| m.key.as_deref() == Some(key)),
            _ => None,
        }
    }

    fn to_value(&self, text: &str) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone().unwrap_or_default(), m.value.to_value(text)))
                    .collect(),
            ),
            Kind::Array(items) => {
                Value::Array(items.iter().map(|i| i.value.to_value(text)).collect())
            }
            Kind::String(s) => Value::String(s.clone()),
            Kind::Other => text
                .get(self.start..self.end)
                .and_then(|raw| serde_json::from_str(raw).ok())
                .unwrap_or(Value::Null),
        }
    }
}

impl Snippet {
    /// A string snippet.
    pub fn str(s: impl Into<String>) -> Snippet {
        Snippet::Str(s.into())
    }

    /// An object snippet from `(key, value)` pairs, in order.
    pub fn object<K: Into<String>>(members: impl IntoIterator<Item = (K, Snippet)>) -> Snippet {
        Snippet::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The snippet as JSON, for comparison with what a file holds.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Snippet::Str(s) => Value::String(s.clone()),
            Snippet::Int(n) => Value::from(*n),
            Snippet::Bool(b) => Value::Bool(*b),
            Snippet::Array(items) => Value::Array(items.iter().map(Snippet::to_value).collect()),
            Snippet::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The snippet as text: on several lines (each nested level one `unit` deeper than
    /// `indent`, the line the value starts on), or on one line.
    pub fn render(&self, indent: &str, unit: &str, multiline: bool) -> String {
        let mut out = String::new();
        self.render_into(&mut out, indent, unit, multiline);
        out
    }

    fn render_into(&self, out: &mut String, indent: &str, unit: &str, multiline: bool) {
        match self {
            Snippet::Str(s) => out.push_str(&json_string(s)),
            Snippet::Int(n) => out.push_str(&n.to_string()),
            Snippet::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Snippet::Array(items) => {
                let items: Vec<(Option<&str>, &Snippet)> =
                    items.iter().map(|i| (None, i)).collect();
                render_container(out, ('[', ']'), &items, indent, unit, multiline);
            }
            Snippet::Object(members) => {
                let members: Vec<(Option<&str>, &Snippet)> =
                    members.iter().map(|(k, v)| (Some(k.as_str()), v)).collect();
                render_container(out, ('{', '}'), &members, indent, unit, multiline);
            }
        }
    }
}

fn render_container(
    out: &mut String,
    (open, close): (char, char),
    entries: &[(Option<&str>, &Snippet)],
    indent: &str,
    unit: &str,
    multiline: bool,
) {
    out.push(open);
    if entries.is_empty() {
        out.push(close);
        return;
    }
    let inner = format!("{indent}{unit}");
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
            if !multiline {
                out.push(' ');
            }
        }
        if multiline {
            out.push('\n');
            out.push_str(&inner);
        }
        out.push_str(&render_entry(*key, value, &inner, unit, multiline));
    }
    if multiline {
        out.push('\n');
        out.push_str(indent);
    }
    out.push(close);
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            text,
            pos: 0,
            depth: 0,
        }
    }

    fn document(mut self) -> Result<Node, DocumentError> {
        // A UTF-8 byte order mark is tolerated (some Windows editors write one).
        if self.text.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        self.skip_trivia()?;
        let root = self.value()?;
        self.skip_trivia()?;
        if self.pos < self.text.len() {
            return Err(self.error("unexpected text after the JSON value"));
        }
        Ok(root)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn error(&self, message: &str) -> DocumentError {
        let before = self.text.get(..self.pos).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        DocumentError {
            message: message.to_string(),
            at: Some((line, column)),
        }
    }

    /// Whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), DocumentError> {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start_matches([' ', '\t', '\n', '\r']);
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(body) = trimmed.strip_prefix("/*") {
                let end = body
                    .find("*/")
                    .ok_or_else(|| self.error("unterminated /* comment"))?;
                self.pos += 2 + end + 2;
            } else {
                return Ok(());
            }
        }
    }

    fn value(&mut self) -> Result<Node, DocumentError> {
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => Kind::Object(self.container(b'}', true)?),
            Some(b'[') => Kind::Array(self.container(b']', false)?),
            Some(b'"') => Kind::String(self.string()?),
            Some(_) => {
                self.scalar()?;
                Kind::Other
            }
            None => return Err(self.error("expected a value, found the end of the file")),
        };
        Ok(Node {
            start,
            end: self.pos,
            kind,
        })
    }

    fn container(&mut self, close: u8, keyed: bool) -> Result<Vec<Entry>, DocumentError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_trivia()?;
            if self.peek() == Some(close) {
                self.pos += 1;
                break;
            }
            let entry = self.entry(keyed)?;
            let done = entry.comma.is_none();
            entries.push(entry);
            if done {
                self.skip_trivia()?;
                if self.peek() != Some(close) {
                    return Err(self.error(if keyed {
                        "expected `,` or `}`"
                    } else {
                        "expected `,` or `]`"
                    }));
                }
                self.pos += 1;
                break;
            }
        }
        self.depth -= 1;
        Ok(entries)
    }

    fn entry(&mut self, keyed: bool) -> Result<Entry, DocumentError> {
        let start = self.pos;
        let key = if keyed {
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name in double quotes"));
            }
            let key = self.string()?;
            self.skip_trivia()?;
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after the member name"));
            }
            self.pos += 1;
            self.skip_trivia()?;
            Some(key)
        } else {
            None
        };
        let value = self.value()?;
        self.skip_trivia()?;
        let comma = (self.peek() == Some(b',')).then_some(self.pos);
        if comma.is_some() {
            self.pos += 1;
        }
        Ok(Entry {
            key,
            start,
            value,
            comma,
        })
    }

    fn string(&mut self) -> Result<String, DocumentError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                Some(b'"') => break,
                Some(b'\\') => i += 2,
                Some(b'\n') | None => return Err(self.error("unterminated string")),
                Some(_) => i += 1,
            }
        }
        let raw = self.text.get(start..=i).unwrap_or_default();
        let decoded = serde_json::from_str::<String>(raw)
            .map_err(|e| self.error(&format!("bad string: {e}")))?;
        self.pos = i + 1;
        Ok(decoded)
    }

    fn scalar(&mut self) -> Result<(), DocumentError> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.')))
            .unwrap_or(rest.len());
        let word = rest.get(..len).unwrap_or_default();
        if !(matches!(word, "true" | "false" | "null") || is_json_number(word)) {
            return Err(self.error("expected a value"));
        }
        self.pos += len;
        Ok(())
    }
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, whatever its
/// magnitude (`1E400` is valid JSON even though no f64 holds it).
fn is_json_number(word: &str) -> bool {
    let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let mut rest = word.strip_prefix('-').unwrap_or(word);
    let int = digits(rest);
    if int == 0 || (int > 1 && rest.starts_with('0')) {
        return false;
    }
    rest = rest.get(int..).unwrap_or_default();
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        rest = fraction.get(n..).unwrap_or_default();
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        let n = digits(exponent);
        if n == 0 {
            return false;
        }
        rest = exponent.get(n..).unwrap_or_default();
    }
    rest.is_empty()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(text.to_string()).unwrap()
    }

    fn hook() -> Snippet {
        Snippet::object([
            ("type", Snippet::str("command")),
            ("command", Snippet::str("/r hook")),
        ])
    }

    #[test]
    fn append_then_remove_gives_back_the_bytes() {
        let cases = [
            "{\n  \"a\": 1,\n  \"list\": [\n    \"x\"\n  ]\n}\n",
            "{\n\t\"list\": [ \"x\", \"y\" ] // same line\n}",
            "{\n    \"list\": [\n        \"x\" // note\n    ],\n}\n",
            "// settings\n{\n  /* c */ \"list\": [\n    \"x\",\n    // trailing\n  ]\n}\n",
            "{\"list\":[\"x\"]}",
        ];
        for text in cases {
            let d = doc(text);
            let added = d.append(&[Step::Key("list")], None, &hook()).unwrap();
            let items = added.get(&[Step::Key("list")]).unwrap().entries().len();
            assert_eq!(
                added.value(
                    added
                        .get(&[Step::Key("list"), Step::Index(items - 1)])
                        .unwrap()
                ),
                hook().to_value()
            );
            let removed = added.remove(&[Step::Key("list")], items - 1).unwrap();
            assert_eq!(removed.text(), text, "from {:?}", added.text());
        }
    }

    #[test]
    fn members_are_added_in_the_files_indentation() {
        let d = doc("{\n    \"model\": \"x\"\n}\n");
        let d = d
            .append(
                &[],
                Some("hooks"),
                &Snippet::object([("A", Snippet::Array(vec![hook()]))]),
            )
            .unwrap();
        assert_eq!(
            d.text(),
            "{\n    \"model\": \"x\",\n    \"hooks\": {\n        \"A\": [\n            {\n                \"type\": \"command\",\n                \"command\": \"/r hook\"\n            }\n        ]\n    }\n}\n"
        );
    }

    #[test]
    fn an_empty_file_becomes_an_object() {
        let d = doc("");
        let d = d.append(&[], Some("k"), &Snippet::Int(1)).unwrap();
        assert_eq!(d.text(), "{\n  \"k\": 1\n}\n");
        let d = doc("{\n  \"hooks\": {}\n}")
            .append(&[Step::Key("hooks")], Some("k"), &Snippet::Bool(true))
            .unwrap();
        assert_eq!(d.text(), "{\n  \"hooks\": {\n    \"k\": true\n  }\n}");
    }

    #[test]
    fn inner_and_only_entries_are_removed_cleanly() {
        let d = doc("{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}");
        assert_eq!(
            d.remove(&[], 1).unwrap().text(),
            "{\n  \"a\": 1,\n  \"c\": 3\n}"
        );
        assert_eq!(
            d.remove(&[], 0).unwrap().text(),
            "{\n  \"b\": 2,\n  \"c\": 3\n}"
        );
        let d = doc("{\n  \"a\": [\n    1\n  ]\n}");
        assert_eq!(
            d.remove(&[Step::Key("a")], 0).unwrap().text(),
            "{\n  \"a\": []\n}"
        );
        let d = doc("[1, /* keep */ 2]");
        assert_eq!(d.remove(&[], 1).unwrap().text(), "[1 /* keep */ ]");
    }

    #[test]
    fn insert_after_and_replace_keep_the_rest() {
        let d = doc("{\n  \"command\": \"npx\",\n  \"env\": {}\n}");
        let d2 = d
            .insert_after(
                &[],
                0,
                Some("args"),
                &Snippet::Array(vec![Snippet::str("x")]),
            )
            .unwrap();
        assert_eq!(
            d2.text(),
            "{\n  \"command\": \"npx\",\n  \"args\": [\n    \"x\"\n  ],\n  \"env\": {}\n}"
        );
        assert_eq!(d2.remove(&[], 1).unwrap().text(), d.text());
        let d3 = doc("{\"args\": [\"-y\", \"pkg\"]}")
            .replace(
                &[Step::Key("args")],
                &Snippet::Array(vec![Snippet::str("a"), Snippet::str("b")]),
            )
            .unwrap();
        assert_eq!(d3.text(), "{\"args\": [\"a\", \"b\"]}");
    }

    #[test]
    fn syntax_errors_name_the_line_and_column() {
        let err = Document::parse("{\n  \"a\": 1,\n  \"b\" 2\n}".into()).unwrap_err();
        assert_eq!(err.at, Some((3, 7)));
        assert!(Document::parse("{\"a\": tru}".into()).is_err());
        for bad in ["01", "1.", ".5", "1e", "+1", "--1", "0x10", "NaN"] {
            assert!(!is_json_number(bad), "{bad}");
        }
        for good in ["0", "-0e0", "1E400", "2.50", "-12.5e-3"] {
            assert!(is_json_number(good), "{good}");
        }
        assert!(Document::parse("[1] x".into()).is_err());
        assert!(Document::parse("[".repeat(1000)).is_err());
        assert!(Document::parse("{\"a\": \"x\n\"}".into()).is_err());
        let d = doc("\u{feff}{\"a\": \"\\u00e9\\\"\", \"b\": -1.5e3, \"c\": [true, null,],}");
        assert_eq!(
            d.value(d.root()),
            serde_json::json!({"a": "é\"", "b": -1500.0, "c": [true, null]})
        );
    }
}
