//! Lowering policies and rules to the rule program ([`PolicyProgram`], [`RuleProgram`]) and the
//! atoms its conditions test.
//!
//! A rule's conditions become bit tests over atoms, never string matching, so every pattern is
//! given an atom id here and its glob lowered to the regex that means exactly what upstream's
//! matcher means ([`crate::lower`]). Atoms are allocated field by field, rule by rule: the atoms
//! one rule owns in one field are contiguous, and "any of this rule's patterns" is a range.

use std::collections::HashMap;

use rampart_runtime::program::{
    AtomMeta, AtomRange, CommandCond, CountCond, DepthCond, Field, JoinedPath, PathCond,
    PatternMeta, PolicyProgram, Program, ResponseCond, RuleProgram, SessionCond,
};

use super::relax::{relax_counts, response_regex};
use crate::error::Error;
use crate::lower::{lower_contains, lower_parts, Flavour, Key, Part, Parts, Shape};
use crate::model::{Condition, Located, Policy, Rule, SourcePos};

/// Policy files whose allows beat ask/watch/webhook (upstream's durable allows).
const DURABLE_SOURCES: [&str; 2] = ["user-overrides.yaml", "auto-allowed.yaml"];
/// The `source` of policies loaded from a project's `.rampart/policy.yaml`.
pub const PROJECT_SOURCE: &str = "project";

/// One atom before its field's automata are built.
#[derive(Clone, Debug)]
pub(super) struct Atom {
    pub lowered: Parts,
    pub meta: AtomMeta,
    /// Where its (first) pattern was written, for errors.
    pub pos: SourcePos,
}

impl Atom {
    /// The text of its first pattern, for errors.
    pub fn text(&self) -> &str {
        self.meta.patterns.first().map_or("", |p| p.text.as_str())
    }
}

/// Allocates atoms field by field, rule by rule.
#[derive(Default)]
pub(super) struct Lowering {
    fields: HashMap<Field, Vec<Atom>>,
    /// Patterns lowered so far (a command_contains list is one atom of many patterns).
    pub patterns: usize,
}

impl Lowering {
    /// The atoms of `field`, taken out of the lowering once every policy is lowered.
    pub fn take(&mut self, field: Field) -> Vec<Atom> {
        self.fields.remove(&field).unwrap_or_default()
    }

    /// The id the next atom of `field` gets.
    fn next_id(&self, field: Field) -> u32 {
        self.fields
            .get(&field)
            .map_or(0, |atoms| atoms.len() as u32)
    }

    fn push(&mut self, field: Field, lowered: Parts, patterns: &[&Located<String>]) -> u32 {
        self.patterns += patterns.len();
        self.atom(field, lowered, patterns)
    }

    /// A new atom of `field`, not counted as a pattern of the policy (a derived form).
    fn atom(&mut self, field: Field, lowered: Parts, patterns: &[&Located<String>]) -> u32 {
        let id = self.next_id(field);
        self.fields.entry(field).or_default().push(Atom {
            lowered,
            meta: AtomMeta {
                patterns: patterns
                    .iter()
                    .map(|p| PatternMeta {
                        text: p.value.clone(),
                        pos: p.pos.to_string(),
                    })
                    .collect(),
            },
            pos: patterns.first().map(|p| p.pos.clone()).unwrap_or_default(),
        });
        id
    }

    /// One atom per glob, contiguous.
    fn globs(&mut self, field: Field, flavour: Flavour, globs: &[Located<String>]) -> AtomRange {
        let start = self.next_id(field);
        for g in globs {
            let text = if field == Field::ToolParam {
                g.value.to_lowercase()
            } else {
                g.value.clone()
            };
            self.push(field, lower_parts(&text, flavour), &[g]);
        }
        AtomRange::new(start, self.next_id(field))
    }

    /// One [`Field::Path`] atom per glob, contiguous; each relative glob also gets its form
    /// joined with the workdir (a [`JoinedPath`] and its [`Field::JoinedPath`] atom).
    fn path_globs(&mut self, globs: &[Located<String>], program: &mut Program) -> AtomRange {
        let range = self.globs(Field::Path, Flavour::Path, globs);
        for (atom, glob) in range.iter().zip(globs) {
            let Some(join) = joined_form(&glob.value) else {
                continue;
            };
            let joined = join.rest.as_ref().map(|rest| {
                let pattern = format!("/{rest}");
                self.atom(
                    Field::JoinedPath,
                    lower_parts(&pattern, Flavour::Path),
                    &[glob],
                )
            });
            program.joined_paths.push(JoinedPath {
                up: join.up,
                atom,
                joined,
                tail: join.rest.as_ref().map_or(0, |r| r.len() as u32 + 1),
                limit: join.limit,
            });
        }
        range
    }

    /// Lowers `p`; its strings go to `program`'s text and its tool params to its list.
    pub fn policy(&mut self, p: &Policy, program: &mut Program) -> Result<PolicyProgram, Error> {
        let basename = p.source.rsplit(['/', '\\']).next().unwrap_or(&p.source);
        let durable = DURABLE_SOURCES.contains(&basename);
        let agent = self.push(
            Field::Agent,
            lower_parts(&p.agent.value, Flavour::Command),
            &[&p.agent],
        );
        let session = self.push(
            Field::Session,
            lower_parts(&p.session.value, Flavour::Command),
            &[&p.session],
        );
        let tools = self.globs(Field::Tool, Flavour::Command, &p.tools);
        let mut rules = Vec::with_capacity(p.rules.len());
        for r in &p.rules {
            rules.push(self.rule(r, durable, program)?);
        }
        Ok(PolicyProgram {
            name: program.add_text(&p.name.value),
            agent,
            session,
            tools,
            durable,
            project: p.source == PROJECT_SOURCE,
            rules,
        })
    }

    fn rule(
        &mut self,
        r: &Rule,
        durable: bool,
        program: &mut Program,
    ) -> Result<RuleProgram, Error> {
        let act = r.action.value;
        // Durable-allow policies always use the grant logic (reference §2.6).
        let grant = !act.is_restrictive() || durable;
        let w = &r.when;
        Ok(RuleProgram {
            action: act,
            message: program.add_text(&r.message),
            expires_at: r.expires_at,
            once: r.once,
            grant,
            always: w.default || w.is_empty(),
            command: self.command(w, grant),
            env: self.globs(Field::EnvName, Flavour::Command, &w.command_env_assignments),
            path: (!w.path_matches.is_empty() || !w.path_not_matches.is_empty()).then(|| {
                PathCond {
                    matches: self.path_globs(&w.path_matches, program),
                    not_matches: self.path_globs(&w.path_not_matches, program),
                }
            }),
            url: self.globs(Field::Url, Flavour::Command, &w.url_matches),
            domain: self.globs(Field::Domain, Flavour::Domain, &w.domain_matches),
            session: (!w.session_matches.is_empty() || !w.session_not_matches.is_empty()).then(
                || SessionCond {
                    matches: self.globs(Field::Session, Flavour::Command, &w.session_matches),
                    not_matches: self.globs(
                        Field::Session,
                        Flavour::Command,
                        &w.session_not_matches,
                    ),
                },
            ),
            agent_depth: w.agent_depth.map(|d| DepthCond {
                gte: d.gte,
                lte: d.lte,
                eq: d.eq,
            }),
            tool_params: self.tool_params(w, &mut program.tool_params),
            call_count: w.call_count.as_ref().map(|c| CountCond {
                tool: c.tool.clone(),
                gte: c.gte,
                window_secs: c.window_secs,
            }),
            response: self.response(w)?,
        })
    }

    fn command(&mut self, w: &Condition, grant: bool) -> Option<CommandCond> {
        if w.command_matches.is_empty()
            && w.command_contains.is_empty()
            && w.command_not_matches.is_empty()
        {
            return None;
        }
        // Anchored patterns first, free ones last, so that the free ones are a tail range.
        let (anchored, free): (Vec<_>, Vec<_>) = w
            .command_matches
            .iter()
            .cloned()
            .partition(|g| !is_free(&g.value));
        let ordered: Vec<Located<String>> = anchored.into_iter().chain(free).collect();
        let matches = self.globs(Field::Command, Flavour::Command, &ordered);
        let first_free = ordered
            .iter()
            .position(|g| is_free(&g.value))
            .map_or(matches.end, |k| matches.start + k as u32);
        let free = AtomRange::new(first_free, matches.end);
        let composite = matches
            .iter()
            .zip(&ordered)
            .filter(|(_, g)| is_composite(&g.value))
            .map(|(atom, _)| atom)
            .collect();
        let not_matches = self.globs(Field::Command, Flavour::Command, &w.command_not_matches);
        let contains = (!w.command_contains.is_empty()).then(|| self.contains(w, grant));
        Some(CommandCond {
            matches,
            free,
            contains,
            not_matches,
            composite,
        })
    }

    /// A rule's command_contains literals, as one atom.
    fn contains(&mut self, w: &Condition, grant: bool) -> u32 {
        let pats: Vec<&Located<String>> = w.command_contains.iter().collect();
        if grant {
            let lits: Vec<&str> = pats.iter().map(|c| c.value.as_str()).collect();
            return self.push(
                Field::ContainsCs,
                fixed(lower_contains(&lits, false)),
                &pats,
            );
        }
        // Case-insensitive literals are lowercased here and matched against the ASCII-lowercased
        // reading: `[aA]` classes make the DFA half again as big.
        let lowered: Vec<String> = pats.iter().map(|c| c.value.to_ascii_lowercase()).collect();
        let lits: Vec<&str> = lowered.iter().map(String::as_str).collect();
        self.push(
            Field::ContainsCi,
            fixed(lower_contains(&lits, false)),
            &pats,
        )
    }

    fn tool_params(&mut self, w: &Condition, params: &mut Vec<String>) -> Vec<(u32, u32)> {
        let mut out = Vec::with_capacity(w.tool_param_matches.len());
        for (name, glob) in &w.tool_param_matches {
            let index = match params.iter().position(|p| p == name) {
                Some(i) => i,
                None => {
                    params.push(name.clone());
                    params.len() - 1
                }
            };
            let range = self.globs(
                Field::ToolParam,
                Flavour::Command,
                std::slice::from_ref(glob),
            );
            out.push((index as u32, range.start));
        }
        out
    }

    fn response(&mut self, w: &Condition) -> Result<Option<ResponseCond>, Error> {
        if w.response_matches.is_empty() && w.response_not_matches.is_empty() {
            return Ok(None);
        }
        Ok(Some(ResponseCond {
            matches: self.responses(&w.response_matches, true)?,
            not_matches: self.responses(&w.response_not_matches, false)?,
        }))
    }

    /// One atom per response regex; `positive` ones may be widened ([`relax_counts`]).
    fn responses(
        &mut self,
        regexes: &[Located<String>],
        positive: bool,
    ) -> Result<AtomRange, Error> {
        let start = self.next_id(Field::Response);
        for re in regexes {
            let mut text = response_regex(re)?;
            if positive {
                text = relax_counts(&text);
            }
            self.push(Field::Response, fixed(text), &[re]);
        }
        Ok(AtomRange::new(start, self.next_id(Field::Response)))
    }
}

/// A relative path pattern as the workdir join sees it (see [`JoinedPath`] and the runtime's
/// `paths` module doc): cleaned as Go's `filepath.Join` cleans it, split into its leading `..`
/// levels and the rest (`None` when nothing is left).
#[derive(Debug, PartialEq, Eq)]
struct Join {
    up: u32,
    rest: Option<String>,
    limit: u32,
}

/// Upstream's longest matchable glob, and the longest one with `**` (reference §2.5).
const MAX_GLOB: u32 = 8192;
const MAX_DOUBLESTAR_GLOB: u32 = 256;

/// How `pattern` joins with a workdir; `None` when joining adds nothing: an absolute pattern, or
/// a clean one that starts with `**` (which already matches whatever its joined form matches).
fn joined_form(pattern: &str) -> Option<Join> {
    if pattern.replace('\\', "/").starts_with('/') {
        return None;
    }
    // Go cleans on `/` only; a backslash is text until matching makes it a separator.
    let cleaned = rampart_runtime::paths::clean(pattern);
    if pattern.starts_with("**") && cleaned == pattern {
        return None;
    }
    let mut up = 0u32;
    let mut rest = cleaned.as_str();
    while rest == ".." || rest.starts_with("../") {
        up += 1;
        rest = rest.get(3..).unwrap_or("");
    }
    let rest = (!rest.is_empty() && rest != ".").then(|| rest.to_string());
    let doublestar = rest.as_deref().is_some_and(|r| r.contains("**"));
    Some(Join {
        up,
        rest,
        limit: if doublestar {
            MAX_DOUBLESTAR_GLOB
        } else {
            MAX_GLOB
        },
    })
}

/// A regex that is its own single part, placed with the literal-like shapes.
fn fixed(regex: String) -> Parts {
    Parts::Alts(vec![Part {
        keys: vec![Key {
            weight: regex.len(),
            regex: regex.clone(),
        }],
        regex,
        shape: Shape::Fixed,
        in_order: None,
    }])
}

/// A pattern that may match anywhere in a reading (MatchGlob's in-order pieces, `*a*b*`, or a
/// `**` run from the start): restrictive rules match it on the readings that leave mentions out.
fn is_free(glob: &str) -> bool {
    glob.starts_with('*')
}

/// An explicit compound pattern (`git add * && git commit *`) may grant a compound command whole.
fn is_composite(glob: &str) -> bool {
    ["&&", "||", ";", "|", "\n"]
        .iter()
        .any(|op| glob.contains(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(pattern: &str) -> Option<(u32, Option<String>, u32)> {
        joined_form(pattern).map(|j| (j.up, j.rest, j.limit))
    }

    #[test]
    fn relative_patterns_join_as_go_cleans_them() {
        assert_eq!(join("/etc/**"), None);
        assert_eq!(join("\\etc\\**"), None);
        assert_eq!(join("**/.env"), None);
        assert_eq!(
            join("secrets/**"),
            Some((0, Some("secrets/**".into()), 256))
        );
        assert_eq!(join("./secrets/"), Some((0, Some("secrets".into()), 8192)));
        assert_eq!(join("*.txt"), Some((0, Some("*.txt".into()), 8192)));
        assert_eq!(
            join("C:/Windows/**"),
            Some((0, Some("C:/Windows/**".into()), 256))
        );
        assert_eq!(
            join("../shared/*.key"),
            Some((1, Some("shared/*.key".into()), 8192))
        );
        assert_eq!(join("a/../../../x"), Some((2, Some("x".into()), 8192)));
        assert_eq!(join("**/a/../b"), Some((0, Some("**/b".into()), 256)));
        assert_eq!(join("."), Some((0, None, 8192)));
        assert_eq!(join("../.."), Some((2, None, 8192)));
    }
}
