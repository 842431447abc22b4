//! `policy explain`: why a call got its decision, rule by rule, pattern by pattern.
//!
//! An explanation must never tell a story the evaluator did not follow, so it reuses the
//! evaluator's own pieces: the same facts (atom bits per reading), the same per-field results
//! ([`crate::eval::rules::each_field`]) and, for the final answer, the evaluator's decision itself.
//! What it adds is the metadata: pattern texts and `file:line:column` from the bundle's source map.

use std::fmt;

use serde::Serialize;

use crate::bundle::{Bundle, BundleError, SectionKind};
use crate::call::{canonicalize_named, Call};
use crate::eval::rules::{each_field, FieldResult};
use crate::eval::{Decision, EvalContext, Evaluator};
use crate::program::{AtomMeta, Field, Metadata};

/// The whole story of one call.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub tool: String,
    pub command_readings: Vec<String>,
    pub path_candidates: Vec<String>,
    pub policies: Vec<PolicyTrace>,
    pub out_of_scope: Vec<OutOfScope>,
    pub action: String,
    pub message: String,
    pub matched_policies: Vec<String>,
    /// `policy[rule]` that decided, if a rule did.
    pub winner: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OutOfScope {
    pub policy: String,
    pub why: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PolicyTrace {
    pub policy: String,
    pub pos: String,
    pub rules: Vec<RuleTrace>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleTrace {
    pub index: usize,
    pub action: String,
    pub pos: String,
    pub expired: bool,
    pub always: bool,
    pub fields: Vec<FieldTrace>,
    pub matched: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct FieldTrace {
    pub field: String,
    /// `positive`, `pass` or `fail`.
    pub result: String,
    /// Which input matched which pattern (`reading  =~  pattern @ file:line:column`).
    pub hits: Vec<String>,
}

impl<'a> Evaluator<'a> {
    /// Explains `call`; `bundle` supplies the metadata (source map).
    pub fn explain(
        &self,
        bundle: &Bundle<'_>,
        call: &Call,
        ctx: &EvalContext<'_>,
    ) -> Result<Explanation, BundleError> {
        let meta: Metadata = bundle
            .section(SectionKind::Metadata)
            .and_then(|b| postcard::from_bytes(b).ok())
            .ok_or(BundleError::MetadataUndecodable)?;
        let decision = self.evaluate(call, ctx);
        let mut out = Explanation {
            tool: call.tool.clone(),
            command_readings: Vec::new(),
            path_candidates: Vec::new(),
            policies: Vec::new(),
            out_of_scope: Vec::new(),
            action: decision.action.to_string(),
            message: decision.message.clone(),
            matched_policies: decision.matched_policies.clone(),
            winner: None,
        };
        let Ok(canon) = canonicalize_named(call, self.program().tool_params()) else {
            return Ok(out);
        };
        let readings = canon.command.map(crate::shell::read_command);
        let facts = self.facts(crate::eval::facts_inputs(
            call,
            self.program(),
            &canon,
            readings.as_ref(),
            ctx,
        ));
        if let Some(c) = &facts.command {
            out.command_readings = c.readings.iter().map(|r| r.text.to_string()).collect();
        }
        if let Some(p) = &facts.paths {
            out.path_candidates = p.iter().map(|(c, _)| c.clone()).collect();
        }
        let scope = self.in_scope(&facts);
        for (pi, policy) in self.program().policies().enumerate() {
            let pmeta = meta.policies.get(pi);
            let name = self.program().text(policy.name()).to_string();
            if !scope.contains(&pi) {
                out.out_of_scope.push(OutOfScope {
                    policy: name,
                    why: scope_reason(self, call, &facts, &policy),
                });
                continue;
            }
            let mut trace = PolicyTrace {
                policy: name,
                pos: pmeta.map_or_else(String::new, |m| m.pos.clone()),
                rules: Vec::new(),
            };
            for (ri, rule) in policy.rules().enumerate() {
                let expired = rule.expires_at().is_some_and(|t| ctx.now_unix > t);
                let mut fields = Vec::new();
                let _ = each_field(&rule, &facts, ctx, |key, result| {
                    fields.push(FieldTrace {
                        field: key.name().to_string(),
                        result: match result {
                            FieldResult::Positive => "positive",
                            FieldResult::Pass => "pass",
                            FieldResult::Fail => "fail",
                        }
                        .to_string(),
                        hits: hits(&meta, &facts, &rule, key),
                    });
                    true
                });
                let matched = !expired
                    && crate::eval::rules::rule_matches(&rule, &facts, ctx).unwrap_or(false);
                trace.rules.push(RuleTrace {
                    index: ri,
                    action: rule.action().to_string(),
                    pos: pmeta
                        .and_then(|m| m.rules.get(ri))
                        .map(|r| r.pos.clone())
                        .unwrap_or_default(),
                    expired,
                    always: rule.always(),
                    fields,
                    matched,
                });
                if matched {
                    break;
                }
            }
            out.policies.push(trace);
        }
        out.winner = winner_text(self, &decision);
        Ok(out)
    }
}

fn winner_text(ev: &Evaluator<'_>, d: &Decision) -> Option<String> {
    let (pi, ri) = d.winner?;
    let policy = ev.program().policy(pi as usize)?;
    Some(format!("{}[{}]", ev.program().text(policy.name()), ri))
}

fn scope_reason(
    ev: &Evaluator<'_>,
    call: &Call,
    facts: &crate::eval::Facts<'_>,
    policy: &crate::program::PolicyView<'_>,
) -> String {
    // Deciding may leave them unsearched (see `Facts::agent`); explaining searches them.
    let searched = |bits: &Option<crate::eval::Bits>, field, input: &str| {
        bits.clone().unwrap_or_else(|| ev.query(field, input))
    };
    let agent = searched(&facts.agent, Field::Agent, &call.agent);
    let session = searched(&facts.session, Field::Session, &call.session);
    if !agent.get(policy.agent()) {
        "agent does not match match.agent".into()
    } else if !session.get(policy.session()) {
        "session does not match match.session".into()
    } else {
        format!("tool {:?} does not match match.tool", facts.tool)
    }
}

fn pattern_list(meta: &Metadata, field: Field, atom: u32) -> Vec<String> {
    let atom_meta: Option<&AtomMeta> = meta
        .atoms
        .get(field.index())
        .and_then(|a| a.get(atom as usize));
    atom_meta.map_or_else(Vec::new, |m| {
        m.patterns
            .iter()
            .map(|p| format!("{:?} @ {}", p.text, p.pos))
            .collect()
    })
}

/// The (input, pattern) pairs behind a field's result, for the command and path fields.
fn hits(
    meta: &Metadata,
    facts: &crate::eval::Facts<'_>,
    rule: &crate::program::RuleView<'_>,
    key: crate::eval::rules::CondKey,
) -> Vec<String> {
    use crate::eval::rules::CondKey;
    let mut out = Vec::new();
    match key {
        CondKey::Command => {
            let (Some(cond), Some(cmd)) = (rule.command(), &facts.command) else {
                return out;
            };
            for r in &cmd.readings {
                for atom in r.cmd.iter_in(cond.matches) {
                    for p in pattern_list(meta, Field::Command, atom) {
                        out.push(format!("{:?} matches {p}", r.text));
                    }
                }
                for atom in r.cmd.iter_in(cond.not_matches) {
                    for p in pattern_list(meta, Field::Command, atom) {
                        out.push(format!("{:?} is excluded by {p}", r.text));
                    }
                }
                if let Some(a) = cond.contains {
                    let (bits, field) = if rule.grant() {
                        (&r.cs, Field::ContainsCs)
                    } else {
                        (&r.ci, Field::ContainsCi)
                    };
                    if bits.get(a) {
                        out.push(format!(
                            "{:?} contains one of {}",
                            r.text,
                            pattern_list(meta, field, a).join(", ")
                        ));
                    }
                }
            }
        }
        CondKey::Path => {
            let (Some(cond), Some(paths)) = (rule.path(), &facts.paths) else {
                return out;
            };
            for (cand, bits) in paths {
                for atom in bits.iter_in(cond.matches) {
                    for p in pattern_list(meta, Field::Path, atom) {
                        out.push(format!("{cand:?} matches {p}"));
                    }
                }
                for atom in bits.iter_in(cond.not_matches) {
                    for p in pattern_list(meta, Field::Path, atom) {
                        out.push(format!("{cand:?} is excluded by {p}"));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "decision: {} ({})", self.action, self.message)?;
        if let Some(w) = &self.winner {
            writeln!(f, "decided by: {w}")?;
        }
        writeln!(f, "matched policies: {}", self.matched_policies.join(", "))?;
        if !self.command_readings.is_empty() {
            writeln!(f, "command readings:")?;
            for r in &self.command_readings {
                writeln!(f, "  {r:?}")?;
            }
        }
        for c in &self.path_candidates {
            writeln!(f, "path candidate: {c:?}")?;
        }
        for p in &self.policies {
            writeln!(f, "policy {} ({})", p.policy, p.pos)?;
            for r in &p.rules {
                let mark = if r.matched {
                    "FIRED"
                } else if r.expired {
                    "expired"
                } else {
                    "no match"
                };
                writeln!(f, "  rule {} {} at {}: {mark}", r.index, r.action, r.pos)?;
                for field in &r.fields {
                    writeln!(f, "    {}: {}", field.field, field.result)?;
                    for h in &field.hits {
                        writeln!(f, "      {h}")?;
                    }
                }
            }
        }
        for o in &self.out_of_scope {
            writeln!(f, "out of scope: {} ({})", o.policy, o.why)?;
        }
        Ok(())
    }
}
