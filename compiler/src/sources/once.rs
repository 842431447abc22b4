//! Single-use rules (`once: true`): claimed by the first enforced use, atomically across
//! processes, and removed from their file.
//!
//! The threat: a single-use permission that acts twice is a permanent one. So the claim is the
//! only way a once-rule's decision may be acted on: the surface decides, sees that the winning
//! rule is single-use, and claims it. The claim takes the file's lock, finds the rule (by policy
//! name and [`fingerprint`](crate::model::Rule::fingerprint), so an edited rule is not mistaken
//! for it), removes it and rewrites the file, then refreshes the cached bundle so that every
//! surface, the preload included, stops seeing it. A claim that finds the rule gone (another
//! process claimed it first) reports [`Claim::Gone`], and the surface must decide again against
//! the policy now in force ([`decide_enforced`] does both). A preview (`rampart test`,
//! `policy explain`, a preflight without enforce) never claims.

use rampart_runtime::eval::{Action, Decision, Evaluator};

use super::edit::{cut_item, edit_file, load_file_text};
use super::{PolicyInForce, Sources};
use crate::error::Error;

/// What a claim found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The decision did not come from a single-use rule: act on it.
    NotOnce,
    /// This process claimed the rule and removed it: act on the decision, once.
    Claimed,
    /// Someone claimed it first: decide again.
    Gone,
}

/// The deny when single-use rules keep being claimed under this process's feet.
pub const MSG_ONCE_CONTENDED: &str =
    "a single-use rule was claimed by another process while deciding; failing closed";

impl PolicyInForce {
    /// Claims the rule behind `decision` if it is single-use. `evaluator` must be this
    /// bundle's. An error (the rule's file cannot be read, locked or rewritten) means the
    /// decision must not be acted on: deny.
    pub fn claim_once(
        &self,
        evaluator: &Evaluator<'_>,
        decision: &Decision,
    ) -> Result<Claim, Error> {
        let (Some(rule), Some((pi, ri))) = (evaluator.winning_rule(decision), decision.winner)
        else {
            return Ok(Claim::NotOnce);
        };
        if !rule.once() {
            return Ok(Claim::NotOnce);
        }
        let meta = self.metadata_head()?;
        let policy = meta
            .policies
            .get(pi as usize)
            .ok_or_else(|| Error::new("policy bundle metadata lacks the deciding policy"))?;
        let fingerprint = policy
            .rules
            .get(ri as usize)
            .map(|r| r.fingerprint.clone())
            .ok_or_else(|| Error::new("policy bundle metadata lacks the deciding rule"))?;
        if policy.file.starts_with("embedded:") {
            return Err(Error::new(format!(
                "single-use rule of {} cannot be claimed: built-in profiles are read-only",
                policy.name
            )));
        }
        let path = std::path::PathBuf::from(&policy.file);
        let claimed = edit_file(&path, |text| {
            let set = load_file_text(&path, text)?;
            let Some(p) = set.policies.iter().find(|p| p.name.value == policy.name) else {
                return Ok((None, false));
            };
            let Some(k) = p
                .rules
                .iter()
                .position(|r| r.once && r.fingerprint() == fingerprint)
            else {
                return Ok((None, false));
            };
            let mut rest: Vec<String> = p.rules.iter().map(|r| r.fingerprint()).collect();
            rest.remove(k);
            let name = p.name.value.clone();
            let policies = set.policies.len();
            let (pos, last) = match p.rules.get(k) {
                Some(r) if p.rules.len() > 1 => (r.pos.clone(), false),
                _ => (p.pos.clone(), true),
            };
            let new = cut_item(&path, text, &pos, |after| {
                let kept = after.policies.iter().find(|q| q.name.value == name);
                match kept {
                    None => last && after.policies.len() + 1 == policies,
                    Some(q) => {
                        !last && q.rules.iter().map(|r| r.fingerprint()).collect::<Vec<_>>() == rest
                    }
                }
            })?;
            Ok((Some(new), true))
        })?;
        if !claimed {
            return Ok(Claim::Gone);
        }
        // Every surface, the preload included, must stop seeing the rule: rebuild the cache now.
        if self.file().is_some() {
            self.sources().open()?;
        }
        Ok(Claim::Claimed)
    }
}

/// Decides as an enforcing surface must with single-use rules: open the policy in force,
/// decide with `decide`, claim a single-use winner, and decide again when another process
/// claimed it first. Returns the decision to act on (a deny when the claims keep failing).
pub fn decide_enforced(
    sources: &Sources,
    mut decide: impl FnMut(&Evaluator<'_>) -> Decision,
) -> Result<Decision, Error> {
    for _ in 0..4 {
        let in_force = sources.open()?;
        let evaluator = in_force.evaluator()?;
        let decision = decide(&evaluator);
        match in_force.claim_once(&evaluator, &decision)? {
            Claim::NotOnce | Claim::Claimed => return Ok(decision),
            Claim::Gone => continue,
        }
    }
    Ok(Decision {
        action: Action::Deny,
        message: MSG_ONCE_CONTENDED.to_string(),
        matched_policies: Vec::new(),
        winner: None,
    })
}
