//! Everything the automata say about one call, computed once before any rule runs.
//!
//! Each distinct input string (a command reading, a path candidate, the URL...) is searched once
//! per field, giving a bitset of the atoms it matched. Rules then only test bits, so adding rules
//! costs bit tests, not string matching.

use alloc::string::String;
use alloc::vec::Vec;

use super::bits::Bits;
use super::Evaluator;
use crate::call::MAX_MATCH_INPUT;
use crate::program::{AtomRange, Field, ListedScope};
use crate::shell::CommandReadings;

/// One distinct command string and what it is.
#[derive(Clone, Debug)]
pub struct Reading<'r> {
    pub text: &'r str,
    /// Among the restrictive readings (deny/ask rules match their anchored patterns on it).
    pub restrictive: bool,
    /// Deny/ask rules match their free patterns (command_contains, and command_matches that
    /// start with `*`) on it: a restrictive reading of a command that mentions nothing, or a
    /// reading of the command with its mentions masked (see `shell::mention`).
    pub free: bool,
    /// A grant component (every one must be covered by an allow).
    pub component: bool,
    /// The raw or the normalized command (grant exclusions and explicit composites look at it).
    pub whole: bool,
    /// [`Field::Command`] atoms.
    pub cmd: Bits,
    /// [`Field::ContainsCi`] atoms (free readings only).
    pub ci: Bits,
    /// [`Field::ContainsCs`] atoms (components only).
    pub cs: Bits,
}

#[derive(Clone, Debug)]
pub struct CommandFacts<'r> {
    pub readings: Vec<Reading<'r>>,
    pub overflow: bool,
    pub composite: bool,
    /// Union of `cmd` over restrictive and free readings: lets a restrictive rule be skipped in
    /// one test.
    pub restrictive_cmd: Bits,
    pub restrictive_ci: Bits,
    /// Union of `cmd` over every reading.
    pub any_cmd: Bits,
    /// Union of env-assignment name atoms.
    pub env: Bits,
    pub env_names: &'r [String],
}

#[derive(Clone, Debug)]
pub struct Facts<'r> {
    pub tool: &'r str,
    pub agent_depth: i64,
    /// The agent's and the session's atoms; `None` when the call's tool scope says no policy in
    /// it looks at them (see [`crate::program::ToolScope::anyone`]): they are not searched.
    pub agent: Option<Bits>,
    pub session: Option<Bits>,
    pub tools: ToolFacts,
    pub command: Option<CommandFacts<'r>>,
    /// Path candidates and their atoms.
    pub paths: Option<Vec<(String, Bits)>>,
    pub url: Option<Bits>,
    pub domain: Option<Bits>,
    /// Per [`crate::program::Program::tool_params`]: the lowercased value's atoms, if present.
    pub params: Vec<Option<Bits>>,
}

/// What decides which policies' tool globs admit the call's tool.
#[derive(Clone, Debug)]
pub enum ToolFacts {
    /// The program lists the policies in scope for this tool (see
    /// [`crate::program::ToolScope`]): the tool field was not searched.
    Listed(ListedScope),
    /// The tool field's atoms for a tool the program does not list.
    Searched(Bits),
}

/// The inputs facts are computed from (already canonicalised and size-checked).
pub struct Inputs<'r> {
    pub tool: &'r str,
    pub agent: &'r str,
    pub session: &'r str,
    pub agent_depth: i64,
    pub command: Option<&'r CommandReadings>,
    pub paths: Option<Vec<String>>,
    /// The workdir relative path patterns are joined with.
    pub workdir: Option<&'r str>,
    pub url: Option<&'r str>,
    pub domain: Option<String>,
    /// Lowercased rendered values, per program tool param.
    pub params: Vec<Option<String>>,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn facts<'r>(&self, inp: Inputs<'r>) -> Facts<'r> {
        let (tools, agent, session) = self.scope(inp.tool, inp.agent, inp.session);
        Facts {
            tool: inp.tool,
            agent_depth: inp.agent_depth,
            agent,
            session,
            tools,
            command: inp.command.map(|r| self.command_facts(r)),
            paths: inp.paths.map(|cands| {
                let base = inp.workdir.and_then(crate::paths::join_base);
                cands
                    .into_iter()
                    .map(|c| {
                        let mut bits = self.query(Field::Path, &c);
                        if let Some(base) = &base {
                            self.join_relative(&c, base, &mut bits);
                        }
                        (c, bits)
                    })
                    .collect()
            }),
            url: inp.url.map(|u| self.query(Field::Url, u)),
            domain: inp.domain.as_deref().map(|d| self.query(Field::Domain, d)),
            params: inp
                .params
                .iter()
                .map(|v| v.as_deref().map(|v| self.query(Field::ToolParam, v)))
                .collect(),
        }
    }

    /// Sets in `bits` the relative path patterns that match the absolute candidate `cand` once
    /// joined with the workdir `base` (see [`crate::paths`]' module doc for why this is
    /// upstream's join exactly).
    fn join_relative(&self, cand: &str, base: &str, bits: &mut Bits) {
        if !cand.starts_with('/') {
            return;
        }
        // The entries come ordered by `up`: one ancestor and one probe per level.
        let mut level: Option<(u32, &str, bool, Option<Bits>)> = None;
        for entry in self.program.joined_paths() {
            if level.as_ref().is_none_or(|l| l.0 != entry.up) {
                let anc = crate::paths::ancestor(base, entry.up);
                let (is_base, probe) = crate::paths::below(cand, anc);
                let probe_bits = probe.map(|p| self.query(Field::JoinedPath, p));
                level = Some((entry.up, anc, is_base, probe_bits));
            }
            let Some((_, anc, is_base, probe_bits)) = &level else {
                continue;
            };
            let (hit, joined_len) = match entry.joined {
                None => (*is_base, anc.len()),
                Some(atom) => {
                    let base_len = if *anc == "/" { 0 } else { anc.len() };
                    let hit = probe_bits.as_ref().is_some_and(|b| b.get(atom));
                    (hit, base_len.saturating_add(entry.tail as usize))
                }
            };
            if hit && joined_len <= entry.limit as usize {
                bits.set(entry.atom);
            }
        }
    }

    /// Scope-only facts (agent, session, tool), for the response phase.
    pub(crate) fn scope_facts<'r>(&self, tool: &'r str, agent: &str, session: &str) -> Facts<'r> {
        let (tools, agent, session) = self.scope(tool, agent, session);
        Facts {
            tool,
            agent_depth: 0,
            agent,
            session,
            tools,
            command: None,
            paths: None,
            url: None,
            domain: None,
            params: Vec::new(),
        }
    }

    /// The facts scope is decided from: the tool's, and the agent's and session's atoms unless
    /// the tool's listed scope admits anyone and reads no session (two searches saved on most
    /// calls). An input past the limit is searched all the same: its query sets no bit, which
    /// keeps every policy out of scope, as it always did.
    fn scope(
        &self,
        tool: &str,
        agent: &str,
        session: &str,
    ) -> (ToolFacts, Option<Bits>, Option<Bits>) {
        let tools = match self.program.tool_scope(tool) {
            Some(listed) => ToolFacts::Listed(listed),
            None => ToolFacts::Searched(self.query(Field::Tool, tool)),
        };
        let fits = agent.len() <= MAX_MATCH_INPUT && session.len() <= MAX_MATCH_INPUT;
        if fits && matches!(&tools, ToolFacts::Listed(listed) if listed.anyone) {
            return (tools, None, None);
        }
        let agent = self.query(Field::Agent, agent);
        let session = self.query(Field::Session, session);
        (tools, Some(agent), Some(session))
    }

    fn command_facts<'r>(&self, r: &'r CommandReadings) -> CommandFacts<'r> {
        let most = 2 + r.components.len() + r.restrictive.len() + r.masked.len();
        let mut readings: Vec<Reading<'r>> = Vec::with_capacity(most);
        // Without mentions, every restrictive reading is also free.
        let unmasked = r.masked.is_empty();
        let mut add =
            |text: &'r str, restrictive: bool, free: bool, component: bool, whole: bool| {
                if let Some(existing) = readings.iter_mut().find(|x| x.text == text) {
                    existing.restrictive |= restrictive;
                    existing.free |= free;
                    existing.component |= component;
                    existing.whole |= whole;
                } else {
                    readings.push(Reading {
                        text,
                        restrictive,
                        free,
                        component,
                        whole,
                        cmd: Bits::default(),
                        ci: Bits::default(),
                        cs: Bits::default(),
                    });
                }
            };
        add(&r.raw, true, unmasked, false, true);
        add(&r.normalized, false, false, false, true);
        for c in &r.components {
            add(c, false, false, true, false);
        }
        for c in &r.restrictive {
            add(c, true, unmasked, false, false);
        }
        for c in &r.masked {
            add(c, false, true, false, false);
        }
        let atoms = |f: Field| self.field(f).map_or(0, |t| t.atoms);
        let (mut restrictive_cmd, mut restrictive_ci, mut any_cmd) = (
            Bits::new(atoms(Field::Command)),
            Bits::new(atoms(Field::ContainsCi)),
            Bits::new(atoms(Field::Command)),
        );
        // Buffers shared by the readings' searches.
        let (mut ends, mut lowered) = (Vec::new(), String::new());
        for reading in &mut readings {
            reading.cmd = self.query_with(Field::Command, reading.text, &mut ends);
            any_cmd.union_with(&reading.cmd);
            if reading.restrictive || reading.free {
                restrictive_cmd.union_with(&reading.cmd);
            }
            if reading.free {
                // The compiler lowercased the case-insensitive literals (ASCII only, as before).
                lowered.clear();
                lowered.push_str(reading.text);
                lowered.make_ascii_lowercase();
                reading.ci = self.query_with(Field::ContainsCi, &lowered, &mut ends);
                restrictive_ci.union_with(&reading.ci);
            }
            if reading.component {
                reading.cs = self.query_with(Field::ContainsCs, reading.text, &mut ends);
            }
        }
        let mut env = Bits::new(atoms(Field::EnvName));
        for name in &r.env_assignments {
            env.union_with(&self.query(Field::EnvName, name));
        }
        CommandFacts {
            readings,
            overflow: r.overflow,
            composite: r.composite,
            restrictive_cmd,
            restrictive_ci,
            any_cmd,
            env,
            env_names: &r.env_assignments,
        }
    }
}

impl CommandFacts<'_> {
    /// Whether any restrictive reading could fire a rule with these atoms (a cheap pre-test).
    pub fn restrictive_may_match(&self, matches: AtomRange, contains: Option<u32>) -> bool {
        self.restrictive_cmd.any_in(matches) || contains.is_some_and(|a| self.restrictive_ci.get(a))
    }
}
