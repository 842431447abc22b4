//! A JSON file of hooks keyed by event: what setup adds to it, removes from it, and finds in it.
//!
//! Every JSON host keeps hooks under a top-level `hooks` object, one array per event, in one of
//! two layouts: grouped (`"PreToolUse": [{"matcher": "*", "hooks": [handler]}]`: Claude Code,
//! Codex, Gemini) or flat (`"preToolUse": [handler]`: Cursor, Copilot). Setup adds its handler in
//! a group (or slot) of its own at the end of each event's array, after removing any earlier
//! rampart handler; `--remove` takes out every rampart handler and then only the containers it
//! left empty (the group, the event's array, the `hooks` object), never one that was empty
//! before. Other hooks in the same arrays stay exactly as they were.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::command::rampart_hook;
use super::document::{Document, Node, Snippet, Step};
use super::SetupError;

/// How a host lays out its hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `hooks.<Event>: [{"matcher": M, "hooks": [handler]}]`; no `matcher` key when `None`.
    Grouped { matcher: Option<&'static str> },
    /// `hooks.<event>: [handler]`.
    Flat,
}

/// A host's hook file and what setup writes into it.
#[derive(Clone, Debug)]
pub struct HookFile {
    pub path: PathBuf,
    pub layout: Layout,
    /// Members a file setup creates starts with (Cursor's and Copilot's `"version": 1`).
    pub preamble: Vec<(&'static str, Snippet)>,
    /// Each event and the handler setup writes for it.
    pub events: Vec<(&'static str, Snippet)>,
    /// The handler key that holds a command (`command`; Copilot's `bash`).
    pub command_key: &'static str,
}

/// One rampart handler found in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub event: String,
    pub handler: serde_json::Value,
    /// The group's matcher (grouped layout).
    pub matcher: Option<String>,
    /// Whether it is exactly what setup writes now, in a group of its own with setup's matcher.
    pub current: bool,
}

impl HookFile {
    /// Adds setup's handlers, replacing earlier rampart handlers. The document is unchanged when
    /// everything is already in place.
    pub fn install(&self, doc: Document) -> Result<Document, SetupError> {
        let mut doc = doc;
        if !doc.root().is_object() {
            return Err(self.error("its top level is not an object"));
        }
        let found = self.find(&doc);
        for (event, handler) in &self.events {
            let mine: Vec<&Found> = found.iter().filter(|f| f.event == *event).collect();
            if let [only] = mine.as_slice() {
                if only.current {
                    continue;
                }
            }
            doc = self.remove_event(doc, event)?;
            doc = self.add(doc, event, handler)?;
        }
        Ok(doc)
    }

    /// Removes every rampart handler in the file, and the containers that held nothing else.
    pub fn remove(&self, doc: Document) -> Result<Document, SetupError> {
        let events: Vec<String> = doc
            .get(&[Step::Key("hooks")])
            .map(|hooks| {
                hooks
                    .entries()
                    .iter()
                    .filter_map(|e| e.key.clone())
                    .collect()
            })
            .unwrap_or_default();
        let mut doc = doc;
        for event in events {
            doc = self.remove_event(doc, &event)?;
        }
        Ok(doc)
    }

    /// Whether a document holds nothing but what a file created by setup starts with.
    pub fn only_preamble(&self, doc: &Document) -> bool {
        let members = doc.root().entries();
        members.len() == self.preamble.len()
            && members.iter().all(|m| {
                self.preamble.iter().any(|(key, value)| {
                    m.key.as_deref() == Some(*key) && doc.value(&m.value) == value.to_value()
                })
            })
    }

    /// Every rampart handler in the file, event by event.
    pub fn find(&self, doc: &Document) -> Vec<Found> {
        let mut out = Vec::new();
        let Some(hooks) = doc.get(&[Step::Key("hooks")]) else {
            return out;
        };
        let wanted: BTreeMap<&str, serde_json::Value> = self
            .events
            .iter()
            .map(|(e, h)| (*e, h.to_value()))
            .collect();
        for event in hooks.entries() {
            let Some(name) = event.key.as_deref() else {
                continue;
            };
            for (matcher, handler) in self.handlers(&event.value) {
                let value = doc.value(handler);
                if !self.is_rampart(&value) {
                    continue;
                }
                let current = wanted.get(name) == Some(&value) && self.matcher_fits(&matcher);
                out.push(Found {
                    event: name.to_string(),
                    handler: value,
                    matcher: matcher.flatten(),
                    current,
                });
            }
        }
        self.mark_shared_groups(doc, &mut out);
        out
    }

    /// A handler is rampart's when its command runs `rampart hook`, or it posts to a rampart
    /// server's hook route.
    pub fn is_rampart(&self, handler: &serde_json::Value) -> bool {
        let command = handler.get(self.command_key).and_then(|c| c.as_str());
        let url = handler.get("url").and_then(|u| u.as_str());
        command.is_some_and(|c| rampart_hook(c).is_some())
            || (handler.get("type").and_then(|t| t.as_str()) == Some("http")
                && url.is_some_and(|u| u.contains("/v1/hooks/")))
    }

    /// The handlers of an event's array, each with its group's matcher (`Some(None)`: a group
    /// without one; `None`: flat layout).
    fn handlers<'d>(&self, event: &'d Node) -> Vec<(Option<Option<String>>, &'d Node)> {
        match self.layout {
            Layout::Flat => event.entries().iter().map(|e| (None, &e.value)).collect(),
            Layout::Grouped { .. } => event
                .entries()
                .iter()
                .flat_map(|group| {
                    let matcher = group
                        .value
                        .child(Step::Key("matcher"))
                        .and_then(|m| m.as_str().map(str::to_string));
                    let inner = group.value.child(Step::Key("hooks"));
                    inner
                        .map(Node::entries)
                        .unwrap_or_default()
                        .iter()
                        .map(move |h| (Some(matcher.clone()), &h.value))
                })
                .collect(),
        }
    }

    fn matcher_fits(&self, matcher: &Option<Option<String>>) -> bool {
        match (self.layout, matcher) {
            (Layout::Flat, _) => true,
            (Layout::Grouped { matcher: want }, Some(have)) => have.as_deref() == want,
            (Layout::Grouped { .. }, None) => false,
        }
    }

    /// A rampart handler that shares its group with other hooks is not "current": setup keeps
    /// its handler in a group of its own, so that removing it never touches another's matcher.
    fn mark_shared_groups(&self, doc: &Document, found: &mut [Found]) {
        if self.layout == Layout::Flat {
            return;
        }
        for f in found.iter_mut().filter(|f| f.current) {
            let groups = doc
                .get(&[Step::Key("hooks"), Step::Key(&f.event)])
                .map(Node::entries)
                .unwrap_or_default();
            let alone = groups.iter().any(|g| {
                let inner = g
                    .value
                    .child(Step::Key("hooks"))
                    .map(Node::entries)
                    .unwrap_or_default();
                inner.len() == 1 && inner.iter().any(|h| doc.value(&h.value) == f.handler)
            });
            f.current = alone;
        }
    }

    /// Appends setup's handler for `event`, creating `hooks` and the event's array as needed.
    fn add(&self, doc: Document, event: &str, handler: &Snippet) -> Result<Document, SetupError> {
        let slot = match self.layout {
            Layout::Flat => handler.clone(),
            Layout::Grouped { matcher } => {
                let mut group = Vec::new();
                if let Some(m) = matcher {
                    group.push(("matcher".to_string(), Snippet::str(m)));
                }
                group.push(("hooks".to_string(), Snippet::Array(vec![handler.clone()])));
                Snippet::Object(group)
            }
        };
        let edit = |r: Result<Document, super::document::DocumentError>| {
            r.map_err(|e| self.error(&e.to_string()))
        };
        let doc = if doc.root().entries().is_empty() && !self.preamble.is_empty() {
            self.preamble
                .iter()
                .try_fold(doc, |d, (k, v)| edit(d.append(&[], Some(k), v)))?
        } else {
            doc
        };
        let Some(hooks) = doc.get(&[Step::Key("hooks")]) else {
            let value = Snippet::Object(vec![(event.to_string(), Snippet::Array(vec![slot]))]);
            return edit(doc.append(&[], Some("hooks"), &value));
        };
        if !hooks.is_object() {
            return Err(self.error("its `hooks` is not an object"));
        }
        match hooks.child(Step::Key(event)) {
            None => edit(doc.append(
                &[Step::Key("hooks")],
                Some(event),
                &Snippet::Array(vec![slot]),
            )),
            Some(list) if list.is_array() => {
                edit(doc.append(&[Step::Key("hooks"), Step::Key(event)], None, &slot))
            }
            Some(_) => Err(self.error(&format!("its `hooks.{event}` is not an array"))),
        }
    }

    /// Removes every rampart handler of `event`, one at a time, pruning what becomes empty.
    fn remove_event(&self, doc: Document, event: &str) -> Result<Document, SetupError> {
        let mut doc = doc;
        while let Some((container, index)) = self.next_removal(&doc, event) {
            let steps: Vec<Step> = container.iter().map(PathStep::step).collect();
            doc = doc
                .remove(&steps, index)
                .map_err(|e| self.error(&e.to_string()))?;
        }
        Ok(doc)
    }

    /// The container and index to delete for the first rampart handler of `event`: the handler
    /// itself, or the highest container that holds nothing else.
    fn next_removal(&self, doc: &Document, event: &str) -> Option<(Vec<PathStep>, usize)> {
        let list = doc.get(&[Step::Key("hooks"), Step::Key(event)])?;
        let (slot, inner) = self.locate(doc, list)?;
        // Innermost first: (container path, index, entries in that container).
        let mut levels = Vec::new();
        let event_path = vec![PathStep::Key("hooks".into()), PathStep::Key(event.into())];
        if let Some(h) = inner {
            let mut group = event_path.clone();
            group.extend([PathStep::Index(slot), PathStep::Key("hooks".into())]);
            let count = doc
                .get(&group.iter().map(PathStep::step).collect::<Vec<_>>())
                .map_or(0, |n| n.entries().len());
            levels.push((group, h, count));
        }
        levels.push((event_path, slot, list.entries().len()));
        let hooks = doc.get(&[Step::Key("hooks")])?;
        let hooks_index = hooks.member_index(event)?;
        levels.push((
            vec![PathStep::Key("hooks".into())],
            hooks_index,
            hooks.entries().len(),
        ));
        let root_index = doc.root().member_index("hooks")?;
        levels.push((Vec::new(), root_index, doc.root().entries().len()));
        // Climb while the container would be left empty.
        let mut chosen = 0;
        while chosen + 1 < levels.len() && levels.get(chosen).is_some_and(|l| l.2 == 1) {
            chosen += 1;
        }
        levels
            .into_iter()
            .nth(chosen)
            .map(|(path, index, _)| (path, index))
    }

    /// The first rampart handler in an event's array: its slot, and its index inside the group
    /// (grouped layout).
    fn locate(&self, doc: &Document, list: &Node) -> Option<(usize, Option<usize>)> {
        list.entries()
            .iter()
            .enumerate()
            .find_map(|(slot, entry)| match self.layout {
                Layout::Flat => self
                    .is_rampart(&doc.value(&entry.value))
                    .then_some((slot, None)),
                Layout::Grouped { .. } => entry
                    .value
                    .child(Step::Key("hooks"))
                    .map(Node::entries)
                    .unwrap_or_default()
                    .iter()
                    .position(|h| self.is_rampart(&doc.value(&h.value)))
                    .map(|h| (slot, Some(h))),
            })
    }

    fn error(&self, what: &str) -> SetupError {
        SetupError::new(format!("{}: {what}", self.path.display()))
    }
}

/// An owned path step (a document path that outlives the borrow it was found through).
#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

impl PathStep {
    fn step(&self) -> Step<'_> {
        match self {
            PathStep::Key(k) => Step::Key(k),
            PathStep::Index(i) => Step::Index(*i),
        }
    }
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

    fn claude() -> HookFile {
        let handler = Snippet::object([
            ("type", Snippet::str("command")),
            ("command", Snippet::str("/h/.rampart/bin/rampart hook")),
            ("onFailure", Snippet::str("block")),
        ]);
        HookFile {
            path: PathBuf::from("settings.json"),
            layout: Layout::Grouped { matcher: Some("*") },
            preamble: Vec::new(),
            events: vec![("PreToolUse", handler.clone()), ("PostToolUse", handler)],
            command_key: "command",
        }
    }

    const USER: &str = r#"{
  // mine
  "model": "opus",
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          { "type": "command", "command": "~/bin/lint.sh" }
        ]
      }
    ]
  },
  "env": {"A": "1"}
}
"#;

    #[test]
    fn install_and_remove_round_trip_around_other_hooks() {
        let file = claude();
        let doc = Document::parse(USER.into()).unwrap();
        let installed = file.install(doc).unwrap();
        let found = file.find(&installed);
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|f| f.current));
        let again = file.install(installed.clone()).unwrap();
        assert_eq!(again.text(), installed.text());
        let removed = file.remove(installed).unwrap();
        assert_eq!(removed.text(), USER);
    }

    #[test]
    fn an_upstream_handler_is_replaced_and_a_new_file_pruned_back_to_empty() {
        let file = claude();
        let upstream = r#"{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"rampart hook"},{"type":"command","command":"other"}]}]}}"#;
        let doc = file
            .install(Document::parse(upstream.into()).unwrap())
            .unwrap();
        let found = file.find(&doc);
        assert_eq!(found.len(), 2, "{}", doc.text());
        assert!(doc
            .text()
            .contains(r#"{"type":"command","command":"other"}"#));
        assert!(!doc.text().contains(r#""command":"rampart hook""#));
        let fresh = file
            .install(Document::parse(String::new()).unwrap())
            .unwrap();
        assert_eq!(file.remove(fresh).unwrap().text(), "{}\n");
    }
}
