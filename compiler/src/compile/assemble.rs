//! Assembly: the program, the metadata, the words and the automata put into one bundle.
//!
//! The program is what deciding needs and the metadata what only explanations need (names,
//! pattern texts, the source map), so they are separate sections: a process that only decides
//! never decodes the metadata.

use std::time::Instant;

use rampart_runtime::bundle::{BundleWriter, SectionKind, FLAG_EXEC_NEEDS_SERVER};
use rampart_runtime::program::{
    self, Confirm, DfaRef, Field, Metadata, NotifyMeta, PolicyMeta, PolicyProgram, Program,
    RuleMeta, WebhookMeta, WordsWriter,
};

use super::automata::{build_field, Sections};
use super::program::Lowering;
use crate::error::Error;
use crate::lower::{lower_parts, Flavour, Parts};
use crate::model::{Policy, PolicySet, Rule};

/// A compiled bundle and what it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// The bundle, as `policy.bin` holds it.
    pub bytes: Vec<u8>,
    pub stats: CompileStats,
}

/// What a compile produced, for `rampart compile` to report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompileStats {
    pub policies: usize,
    pub rules: usize,
    pub patterns: usize,
    pub automata: usize,
    pub bytes: usize,
    pub millis: u128,
}

/// Compiles `set` into the bytes of a bundle.
pub fn compile(set: &PolicySet) -> Result<Compiled, Error> {
    let started = Instant::now();
    let mut lowering = Lowering::default();
    let mut enabled: Vec<&Policy> = set.policies.iter().filter(|p| p.enabled).collect();
    // Stable: equal priorities keep file order, then document order (upstream's observed order).
    enabled.sort_by_key(|p| p.priority);
    let mut program = Program {
        default_action: set.default_action.as_ref().map(|a| a.value),
        ..Program::default()
    };
    let mut meta = Metadata {
        files: set.files.clone(),
        notify: set.notify.as_ref().map(|n| NotifyMeta {
            url: n.url.clone(),
            platform: n.platform.clone(),
            on: n.on.clone(),
        }),
        ..Metadata::default()
    };
    let mut stats = CompileStats::default();
    for policy in &enabled {
        let lowered = lowering.policy(policy, &mut program)?;
        program.policies.push(lowered);
        meta.policies.push(policy_meta(policy));
        stats.rules += policy.rules.len();
    }
    meta.disabled = set
        .policies
        .iter()
        .filter(|p| !p.enabled)
        .map(policy_meta)
        .collect();
    // The evaluator reads them a level at a time (one ancestor of the workdir per level).
    program.joined_paths.sort_by_key(|j| j.up);
    program.tool_scopes = tool_scopes(&enabled, &program.policies);
    stats.policies = enabled.len();
    stats.patterns = lowering.patterns;

    let mut writer = Sections {
        bundle: BundleWriter::new(flags(&enabled)),
        words: WordsWriter::default(),
    };
    for field in Field::ALL {
        let atoms = lowering.take(field);
        let table = build_field(field, &atoms, &mut writer)?;
        stats.automata +=
            ((table.dfas.len / DfaRef::WORDS) + (table.confirms.len / Confirm::WORDS)) as usize;
        program.fields.push(table);
        meta.atoms.push(atoms.into_iter().map(|a| a.meta).collect());
    }
    program.triggers = triggers(&program);
    let metadata = postcard::to_allocvec(&meta)
        .map_err(|e| Error::new(format!("cannot encode the metadata: {e}")))?;
    let Sections { mut bundle, words } = writer;
    bundle.add(SectionKind::Program, program::flat::encode(&program));
    bundle.add(SectionKind::Metadata, metadata);
    bundle.add(SectionKind::Words, words.into_bytes());
    let bytes = bundle.finish();
    stats.bytes = bytes.len();
    stats.millis = started.elapsed().as_millis();
    Ok(Compiled { bytes, stats })
}

/// Exec decisions need the server when an exec-scoped rule counts calls (the count lives there).
fn flags(policies: &[&Policy]) -> u32 {
    let counts = policies
        .iter()
        .any(|p| admits_tool(p, "exec") && p.rules.iter().any(|r| r.when.call_count.is_some()));
    if counts {
        FLAG_EXEC_NEEDS_SERVER
    } else {
        0
    }
}

/// Whether `p`'s tool globs admit calls of `tool` (a policy without any admits every tool).
fn admits_tool(p: &Policy, tool: &str) -> bool {
    p.tools.is_empty()
        || p.tools
            .iter()
            .any(|t| rampart_runtime::glob::match_glob(&t.value, tool))
}

/// The tools every host adapter maps its calls to (`rampart_runtime::call`'s canonical names).
const CANONICAL_TOOLS: [&str; 5] = ["exec", "read", "write", "edit", "fetch"];

/// The policies in scope per tool name, for the canonical tools and every tool a policy names
/// without a wildcard (`rampart_runtime::glob::match_glob` is what the tool field's DFAs mean).
/// `lowered` are the same policies lowered, whose rules say whether they read the session.
fn tool_scopes(policies: &[&Policy], lowered: &[PolicyProgram]) -> Vec<program::ToolScope> {
    let mut names: Vec<&str> = CANONICAL_TOOLS.to_vec();
    for tool in policies.iter().flat_map(|p| &p.tools) {
        let literal = !tool.value.contains(['*', '?', '[', '\\']);
        if literal && !names.contains(&tool.value.as_str()) {
            names.push(&tool.value);
        }
    }
    names
        .into_iter()
        .map(|tool| {
            let listed: Vec<(u32, &&Policy)> = (0..policies.len() as u32)
                .zip(policies)
                .filter(|(_, p)| admits_tool(p, tool))
                .collect();
            let reads_session = |i: u32| {
                lowered
                    .get(i as usize)
                    .is_none_or(|p| p.rules.iter().any(|r| r.session.is_some()))
            };
            program::ToolScope {
                tool: tool.to_string(),
                anyone: listed
                    .iter()
                    .all(|&(i, p)| admits_anyone(p) && !reads_session(i)),
                policies: listed.into_iter().map(|(i, _)| i).collect(),
            }
        })
        .collect()
}

/// The rules each atom can make fire (see [`program::Triggers`]), by rule number.
fn triggers(program: &Program) -> program::Triggers {
    let atoms = |f: Field| {
        program
            .fields
            .get(f.index())
            .map_or(0, |t| t.atoms as usize)
    };
    let mut t = program::Triggers {
        present: true,
        command: vec![Vec::new(); atoms(Field::Command)],
        contains: vec![Vec::new(); atoms(Field::ContainsCi)],
        untriggered: Vec::new(),
    };
    let rules = program.policies.iter().flat_map(|p| &p.rules);
    for (number, rule) in (0u32..).zip(rules) {
        let restrictive = rule
            .command
            .as_ref()
            .filter(|c| !rule.always && !rule.grant && c.has_positive());
        let in_range = |c: &&program::CommandCond| {
            c.matches.end as usize <= t.command.len()
                && c.contains.is_none_or(|a| (a as usize) < t.contains.len())
        };
        let Some(c) = restrictive.filter(in_range) else {
            t.untriggered.push(number);
            continue;
        };
        for atom in c.matches.iter() {
            if let Some(row) = t.command.get_mut(atom as usize) {
                row.push(number);
            }
        }
        if let Some(row) = c.contains.and_then(|a| t.contains.get_mut(a as usize)) {
            row.push(number);
        }
    }
    t
}

/// Whether `p`'s agent and session globs match any input (as their atoms do: always).
fn admits_anyone(p: &Policy) -> bool {
    let always = |glob: &str| lower_parts(glob, Flavour::Command) == Parts::Always;
    always(&p.agent.value) && always(&p.session.value)
}

fn policy_meta(p: &Policy) -> PolicyMeta {
    PolicyMeta {
        name: p.name.value.clone(),
        source: p.source.clone(),
        file: p.pos.file.clone(),
        pos: p.pos.to_string(),
        priority: p.priority,
        description: p.description.clone(),
        rules: p.rules.iter().map(rule_meta).collect(),
    }
}

fn rule_meta(r: &Rule) -> RuleMeta {
    RuleMeta {
        pos: r.pos.to_string(),
        once: r.once,
        expires_at: r.expires_at,
        webhook: r.webhook.as_ref().map(|w| WebhookMeta {
            url: w.url.clone(),
            timeout_ms: w.timeout_ms,
            fail_open: w.fail_open,
        }),
        ask_audit: r.ask.audit,
        ask_headless_only: r.ask.headless_only,
        fingerprint: r.fingerprint(),
    }
}
