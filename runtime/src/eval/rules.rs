//! One rule against the facts of one call (reference §2.4, §2.6, §2.7).
//!
//! Each present field gives a [`FieldResult`]; the rule fires when no field failed and at least
//! one *positive* field matched (a rule made only of exclusions never fires). The same per-field
//! functions serve `evaluate` and `explain`, so the two cannot disagree.

use super::facts::{CommandFacts, Facts};
use super::EvalContext;
use crate::program::{AtomRange, CommandView, PathCond, RuleView};

/// The outcome of one condition field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldResult {
    /// The field passed and counts as a positive match.
    Positive,
    /// The field passed as a gate (an exclusion that did not exclude).
    Pass,
    Fail,
}

/// A condition that cannot be decided must deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undecidable {
    /// The call counter failed.
    Counter,
    /// A session condition in a scope whose program record says no rule has one, so the
    /// session was not searched (a damaged bundle behind `open_unchecked`).
    Session,
}

/// Which condition a [`FieldResult`] is about (for explain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CondKey {
    Command,
    EnvAssignments,
    Path,
    Url,
    Domain,
    Session,
    AgentDepth,
    ToolParam,
    CallCount,
}

impl CondKey {
    pub fn name(self) -> &'static str {
        match self {
            CondKey::Command => "command",
            CondKey::EnvAssignments => "command_env_assignments",
            CondKey::Path => "path",
            CondKey::Url => "url_matches",
            CondKey::Domain => "domain_matches",
            CondKey::Session => "session",
            CondKey::AgentDepth => "agent_depth",
            CondKey::ToolParam => "tool_param_matches",
            CondKey::CallCount => "call_count",
        }
    }
}

/// Whether the rule fires at request time. Expiry and scope are the caller's business.
pub fn rule_matches(
    rule: &RuleView<'_>,
    facts: &Facts<'_>,
    ctx: &EvalContext<'_>,
) -> Result<bool, Undecidable> {
    if rule.always() {
        return Ok(true);
    }
    let mut positive = false;
    let mut failed = false;
    each_field(rule, facts, ctx, |_, result| {
        match result {
            FieldResult::Positive => positive = true,
            FieldResult::Pass => {}
            FieldResult::Fail => failed = true,
        }
        !failed
    })?;
    Ok(positive && !failed)
}

/// Calls `visit` with each present field's result, in a fixed order, until it returns false.
pub fn each_field(
    rule: &RuleView<'_>,
    facts: &Facts<'_>,
    ctx: &EvalContext<'_>,
    mut visit: impl FnMut(CondKey, FieldResult) -> bool,
) -> Result<(), Undecidable> {
    // Cheapest and most selective first: a restrictive command rule usually fails here.
    if let Some(cond) = rule.command() {
        if !visit(CondKey::Command, command(&cond, rule.grant(), facts)) {
            return Ok(());
        }
    }
    let env_atoms = rule.env();
    if !env_atoms.is_empty() && !visit(CondKey::EnvAssignments, env(env_atoms, facts)) {
        return Ok(());
    }
    if let Some(cond) = rule.path() {
        if !visit(CondKey::Path, path(&cond, rule.grant(), facts)) {
            return Ok(());
        }
    }
    let url = rule.url();
    if !url.is_empty() && !visit(CondKey::Url, any_of(url, facts.url.as_ref())) {
        return Ok(());
    }
    let domain = rule.domain();
    if !domain.is_empty() && !visit(CondKey::Domain, any_of(domain, facts.domain.as_ref())) {
        return Ok(());
    }
    if let Some(cond) = rule.session() {
        let session = facts.session.as_ref().ok_or(Undecidable::Session)?;
        let excluded = session.any_in(cond.not_matches);
        let result = match (excluded, cond.matches.is_empty()) {
            (true, _) => FieldResult::Fail,
            (false, true) => FieldResult::Pass,
            (false, false) => positive_if(session.any_in(cond.matches)),
        };
        if !visit(CondKey::Session, result) {
            return Ok(());
        }
    }
    if let Some(depth) = rule.agent_depth() {
        if !visit(
            CondKey::AgentDepth,
            positive_if(depth.holds(facts.agent_depth)),
        ) {
            return Ok(());
        }
    }
    if rule.has_tool_params() {
        let hit = rule.tool_params().any(|(param, atom)| {
            facts
                .params
                .get(param as usize)
                .and_then(Option::as_ref)
                .is_some_and(|bits| bits.get(atom))
        });
        if !visit(CondKey::ToolParam, positive_if(hit)) {
            return Ok(());
        }
    }
    if let Some(count) = rule.call_count() {
        let result = match ctx.counter {
            // Like upstream's explain: with no counter, call_count never matches.
            None => FieldResult::Fail,
            Some(counter) => {
                let tool = count.tool.unwrap_or(facts.tool);
                let n = counter
                    .count(tool, count.window_secs, ctx.now_unix)
                    .map_err(|_| Undecidable::Counter)?;
                positive_if(n >= u64::from(count.gte))
            }
        };
        visit(CondKey::CallCount, result);
    }
    Ok(())
}

fn positive_if(hit: bool) -> FieldResult {
    if hit {
        FieldResult::Positive
    } else {
        FieldResult::Fail
    }
}

fn any_of(range: AtomRange, bits: Option<&super::bits::Bits>) -> FieldResult {
    positive_if(bits.is_some_and(|b| b.any_in(range)))
}

fn env(range: AtomRange, facts: &Facts<'_>) -> FieldResult {
    positive_if(facts.command.as_ref().is_some_and(|c| c.env.any_in(range)))
}

/// The command field: restrictive rules look for any dangerous reading, granting rules need
/// every executed component covered.
pub fn command(cond: &CommandView<'_>, grant: bool, facts: &Facts<'_>) -> FieldResult {
    let Some(cmd) = &facts.command else {
        return FieldResult::Fail;
    };
    if grant {
        grant_command(cond, cmd)
    } else {
        restrictive_command(cond, cmd)
    }
}

/// Fires when some reading matches a positive pattern and no exclusion of the rule on that same
/// reading, or when the reading analysis overflowed (fail closed). Anchored patterns are matched
/// on the restrictive readings, free ones (contains, `*…`) on the free readings, which leave out
/// what the command only mentions (see `shell::mention`).
fn restrictive_command(cond: &CommandView<'_>, cmd: &CommandFacts<'_>) -> FieldResult {
    if !cond.has_positive() {
        // Only exclusions: a gate that holds unless the whole command is excluded.
        let excluded = cmd
            .readings
            .iter()
            .any(|r| (r.whole || r.component) && r.cmd.any_in(cond.not_matches));
        return if excluded {
            FieldResult::Fail
        } else {
            FieldResult::Pass
        };
    }
    if cmd.overflow {
        return FieldResult::Positive;
    }
    if !cmd.restrictive_may_match(cond.matches, cond.contains) {
        return FieldResult::Fail;
    }
    let (anchored, free) = cond.split_matches();
    let hit = cmd.readings.iter().any(|r| {
        let positive = (r.restrictive && r.cmd.any_in(anchored))
            || (r.free && (r.cmd.any_in(free) || cond.contains.is_some_and(|a| r.ci.get(a))));
        positive && !r.cmd.any_in(cond.not_matches)
    });
    positive_if(hit)
}

fn grant_command(cond: &CommandView<'_>, cmd: &CommandFacts<'_>) -> FieldResult {
    let excluded = cmd
        .readings
        .iter()
        .any(|r| (r.whole || r.component) && r.cmd.any_in(cond.not_matches));
    if excluded {
        return FieldResult::Fail;
    }
    if !cond.has_positive() {
        return FieldResult::Pass;
    }
    if cmd.composite {
        let explicit = cmd
            .readings
            .iter()
            .filter(|r| r.whole)
            .any(|r| cond.composite().any(|a| r.cmd.get(a)));
        if explicit {
            return FieldResult::Positive;
        }
    }
    let covered = |r: &super::facts::Reading<'_>| {
        r.cmd.any_in(cond.matches) || cond.contains.is_some_and(|a| r.cs.get(a))
    };
    let mut components = cmd.readings.iter().filter(|r| r.component).peekable();
    let all = if components.peek().is_none() {
        // Nothing executable was read (e.g. only redirections): judge the raw command.
        cmd.readings
            .iter()
            .take(1)
            .all(|r| r.cmd.any_in(cond.matches))
    } else {
        components.all(covered)
    };
    positive_if(all)
}

/// Path rules: restrictive = any candidate matches and not every candidate is excluded;
/// granting = every candidate matches and none is excluded.
pub fn path(cond: &PathCond, grant: bool, facts: &Facts<'_>) -> FieldResult {
    let Some(cands) = facts.paths.as_ref().filter(|c| !c.is_empty()) else {
        return FieldResult::Fail;
    };
    let has_exclusions = !cond.not_matches.is_empty();
    let excluded = |bits: &super::bits::Bits| bits.any_in(cond.not_matches);
    let (is_excluded, matched) = if grant {
        (
            has_exclusions && cands.iter().any(|(_, b)| excluded(b)),
            cands.iter().all(|(_, b)| b.any_in(cond.matches)),
        )
    } else {
        (
            has_exclusions && cands.iter().all(|(_, b)| excluded(b)),
            cands.iter().any(|(_, b)| b.any_in(cond.matches)),
        )
    };
    if is_excluded {
        FieldResult::Fail
    } else if cond.matches.is_empty() {
        FieldResult::Pass
    } else {
        positive_if(matched)
    }
}
