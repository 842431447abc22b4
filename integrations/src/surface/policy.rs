//! The policy a surface decides with: opened once, and for a long-lived surface reopened when the
//! policy in force changes.
//!
//! The threat: deciding with no policy, a damaged one, or yesterday's. A policy that cannot be
//! opened is kept as a [`PolicyError`] that every decision turns into a deny (enforce mode), never
//! as "no rules, so allow". A long-lived surface asks the policy sources again at most twice a
//! second ([`rampart_compiler::sources`] checks its cached bundle against every source file) and
//! decides with the new bundle as soon as it differs. An edit that no longer compiles is the
//! policy the user has now: deciding with the previous one would silently ignore their edit, and
//! a hook process, which opens the sources afresh, would already refuse. So the failure decides
//! until the sources are fixed (upstream's serve keeps the old config on a failed reload; every
//! surface here fails closed alike instead).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rampart_compiler::sources::{Claim, Discovery, PolicyInForce, Sources};
use rampart_runtime::eval::{Action, Decision, EvalContext, Evaluator};
use rampart_runtime::program::{MetadataHead, NotifyMeta};
use rampart_runtime::shell::Reader;
use rampart_runtime::Call;

/// Why there is no policy to decide with. Every decision made meanwhile is a deny (enforce).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no usable policy: {}", self.0)
    }
}

/// An opened policy and its evaluator, ready to decide.
///
/// The evaluator borrows the bundle's bytes, which the [`PolicyInForce`] owns (an embedded
/// profile's static bytes, the cached bundle's mapping, or a compiled bundle in its own heap
/// buffer): both are kept together here so that a long-lived surface can hold the pair, share it
/// between threads and replace it when the policy changes, without decoding the program again
/// for every call.
pub struct OpenPolicy {
    // Declared before `in_force`, so it is dropped first: it borrows `in_force`'s bytes.
    evaluator: Evaluator<'static>,
    in_force: Box<PolicyInForce>,
    digest: [u8; 32],
    counts_calls: bool,
}

impl OpenPolicy {
    /// Opens the policy `discovery` finds.
    pub fn open(discovery: &Discovery) -> Result<OpenPolicy, PolicyError> {
        OpenPolicy::open_sources(&discovery.sources())
    }

    /// Opens the policy of `sources`.
    pub fn open_sources(sources: &Sources) -> Result<OpenPolicy, PolicyError> {
        let in_force = sources.open().map_err(|e| PolicyError(e.to_string()))?;
        OpenPolicy::new(in_force)
    }

    /// Builds the evaluator of `in_force`.
    pub fn new(in_force: PolicyInForce) -> Result<OpenPolicy, PolicyError> {
        let in_force = Box::new(in_force);
        let error = |e: rampart_compiler::error::Error| PolicyError(e.to_string());
        let digest = in_force.bundle().map_err(error)?.header().payload_sha256;
        let evaluator = in_force.evaluator().map_err(error)?;
        // SAFETY: the evaluator borrows the bytes `in_force` owns: `&'static` bytes of an
        // embedded profile, a file mapping, or the heap buffer of a compiled bundle, none of
        // which moves when the box or this struct moves or is written while it lives. The
        // evaluator is dropped before `in_force` (field order) and never leaves this struct:
        // only shorter borrows of it are handed out, through the methods below.
        let evaluator =
            unsafe { std::mem::transmute::<Evaluator<'_>, Evaluator<'static>>(evaluator) };
        let counts_calls = evaluator
            .program()
            .policies()
            .any(|p| p.rules().any(|r| r.call_count().is_some()));
        Ok(OpenPolicy {
            evaluator,
            in_force,
            digest,
            counts_calls,
        })
    }

    /// Decides a call (see [`Evaluator::evaluate_with`]).
    pub fn evaluate(&self, reader: &mut Reader, call: &Call, ctx: &EvalContext<'_>) -> Decision {
        self.evaluator.evaluate_with(reader, call, ctx)
    }

    /// Decides a tool's output (see [`Evaluator::evaluate_response`]).
    pub fn evaluate_response(&self, call: &Call, output: &str, now_unix: i64) -> Decision {
        self.evaluator.evaluate_response(call, output, now_unix)
    }

    /// Whether some rule counts calls (`call_count`): only then is a call counted.
    pub fn counts_calls(&self) -> bool {
        self.counts_calls
    }

    /// Claims the single-use rule behind `decision`, if its winning rule is one (see
    /// [`PolicyInForce::claim_once`]).
    pub fn claim_once(&self, decision: &Decision) -> Result<Claim, PolicyError> {
        self.in_force
            .claim_once(&self.evaluator, decision)
            .map_err(|e| PolicyError(e.to_string()))
    }

    /// Whether `decision` came from an `ask` rule with `headless_only` (a person answers it
    /// through the server's approval queue even where the host could ask).
    pub fn ask_headless_only(&self, decision: &Decision) -> bool {
        let (Action::Ask, Some((pi, ri))) = (decision.action, decision.winner) else {
            return false;
        };
        self.in_force.metadata_head().is_ok_and(|meta| {
            let rule = meta
                .policies
                .get(pi as usize)
                .and_then(|p| p.rules.get(ri as usize));
            rule.is_some_and(|r| r.ask_headless_only)
        })
    }

    /// The `notify:` block in force; `None` also when it cannot be read (nothing that decides
    /// depends on it).
    pub fn notify(&self) -> Option<NotifyMeta> {
        self.in_force.notify().ok().flatten()
    }

    /// The names and rule settings of the policies (not the source map); `None` when they
    /// cannot be read.
    pub fn metadata_head(&self) -> Option<MetadataHead> {
        self.in_force.metadata_head().ok()
    }

    /// Where the policy came from, for people.
    pub fn describe(&self) -> String {
        self.in_force.sources().describe()
    }

    /// The rule tables, read in place (the server's introspection routes).
    pub fn program(&self) -> rampart_runtime::program::ProgramView<'_> {
        self.evaluator.program()
    }

    /// The policy in force behind the evaluator: its sources, files and metadata.
    pub fn in_force(&self) -> &PolicyInForce {
        &self.in_force
    }

    /// How many policies the program holds.
    pub fn policy_count(&self) -> usize {
        self.evaluator.program().policy_count()
    }
}

/// How often a long-lived surface asks the sources whether the policy in force changed.
const RECHECK: Duration = Duration::from_millis(500);

/// The policy of a surface: opened on first use, reopened when it changes (long-lived surfaces
/// only) or when a single-use rule was claimed.
pub(crate) struct PolicySlot {
    origin: Origin,
    refresh: Refresh,
    state: Mutex<Option<Slot>>,
}

/// Where a slot's policy comes from.
enum Origin {
    /// Discovered afresh at each open (a `./rampart.yaml` that appears is picked up).
    Discovered(Discovery),
    /// A fixed set of sources (the server's `--config-dir`).
    Fixed(Sources),
}

/// When a slot reopens its policy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refresh {
    /// Never after the first open, but for a claimed single-use rule.
    Once,
    /// When the sources change (checked at most every [`RECHECK`]); a broken edit decides.
    Watched,
    /// Only when asked ([`PolicySlot::reload`]); a failed reload keeps the policy in force.
    Held,
}

struct Slot {
    current: Result<Arc<OpenPolicy>, PolicyError>,
    checked: Instant,
}

impl PolicySlot {
    /// A slot that opens the policy once (a one-shot process).
    pub(crate) fn once(discovery: Discovery) -> PolicySlot {
        PolicySlot {
            origin: Origin::Discovered(discovery),
            refresh: Refresh::Once,
            state: Mutex::new(None),
        }
    }

    /// A slot that reopens the policy when it changes (a long-lived process).
    pub(crate) fn watched(discovery: Discovery) -> PolicySlot {
        PolicySlot {
            refresh: Refresh::Watched,
            ..PolicySlot::once(discovery)
        }
    }

    /// A slot that reopens the policy of `sources` only when asked, and keeps the last good one
    /// when that fails (a process that watches its sources itself: the server).
    pub(crate) fn held(sources: Sources) -> PolicySlot {
        PolicySlot {
            origin: Origin::Fixed(sources),
            refresh: Refresh::Held,
            state: Mutex::new(None),
        }
    }

    fn open(&self) -> Result<OpenPolicy, PolicyError> {
        match &self.origin {
            Origin::Discovered(discovery) => OpenPolicy::open(discovery),
            Origin::Fixed(sources) => OpenPolicy::open_sources(sources),
        }
    }

    /// The sources the policy is opened from now.
    pub(crate) fn sources(&self) -> Sources {
        match &self.origin {
            Origin::Discovered(discovery) => discovery.sources(),
            Origin::Fixed(sources) => sources.clone(),
        }
    }

    /// The policy to decide with now.
    pub(crate) fn current(&self) -> Result<Arc<OpenPolicy>, PolicyError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let recheck = match state.as_ref() {
            None => true,
            Some(slot) => self.refresh == Refresh::Watched && slot.checked.elapsed() >= RECHECK,
        };
        if recheck {
            let opened = self.open();
            let same = match (&opened, state.as_ref().map(|s| &s.current)) {
                (Ok(new), Some(Ok(old))) => new.digest == old.digest,
                _ => false,
            };
            match state.as_mut() {
                Some(slot) if same => slot.checked = Instant::now(),
                _ => {
                    *state = Some(Slot {
                        current: opened.map(Arc::new),
                        checked: Instant::now(),
                    })
                }
            }
        }
        match state.as_ref() {
            Some(slot) => slot.current.clone(),
            None => Err(PolicyError("the policy was never opened".into())),
        }
    }

    /// Reopens the policy now (a reload request, a claimed single-use rule). A held slot keeps
    /// the policy in force when the new one fails to open or has no policies where it had some.
    pub(crate) fn reload(&self) -> Result<(), PolicyError> {
        let current = self.open().map(Arc::new);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if self.refresh == Refresh::Held {
            if let Some(Slot {
                current: Ok(old), ..
            }) = state.as_ref()
            {
                match &current {
                    Err(e) => return Err(e.clone()),
                    Ok(new) if new.policy_count() == 0 && old.policy_count() > 0 => {
                        return Err(PolicyError(
                            "the new policy set has no policies; keeping the current one".into(),
                        ))
                    }
                    Ok(_) => {}
                }
            }
        }
        let result = current.as_ref().map(|_| ()).map_err(Clone::clone);
        *state = Some(Slot {
            current,
            checked: Instant::now(),
        });
        result
    }
}
