//! The policy a surface decides with: opened once, and for a long-lived surface reopened when its
//! sources change.
//!
//! The threat: deciding with no policy, a damaged one, or yesterday's. A policy that cannot be
//! opened is kept as a [`PolicyError`] that every decision turns into a deny (enforce mode), never
//! as "no rules, so allow". A long-lived surface notices edited sources and reopens them. An edit
//! that no longer compiles is the policy the user has now: deciding with the previous one would
//! silently ignore their edit, and a hook process, which opens the sources afresh, would already
//! refuse. So the failure decides until the sources are fixed (upstream's serve keeps the old
//! config on a failed reload; every surface here fails closed alike instead).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use rampart_compiler::sources::{Discovery, PolicyInForce};
use rampart_runtime::eval::{Decision, EvalContext, Evaluator};
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
/// profile's static bytes, or a compiled bundle in its own heap buffer): both are kept together
/// here so that a long-lived surface can hold the pair, share it between threads and replace it
/// when the policy changes, without decoding the program again for every call.
pub struct OpenPolicy {
    // Declared before `in_force`, so it is dropped first: it borrows `in_force`'s bytes.
    evaluator: Evaluator<'static>,
    in_force: Box<PolicyInForce>,
}

impl OpenPolicy {
    /// Opens the policy `discovery` finds.
    pub fn open(discovery: &Discovery) -> Result<OpenPolicy, PolicyError> {
        let in_force = discovery
            .sources()
            .open()
            .map_err(|e| PolicyError(e.to_string()))?;
        OpenPolicy::new(in_force)
    }

    /// Builds the evaluator of `in_force`.
    pub fn new(in_force: PolicyInForce) -> Result<OpenPolicy, PolicyError> {
        let in_force = Box::new(in_force);
        let evaluator = in_force
            .evaluator()
            .map_err(|e| PolicyError(e.to_string()))?;
        // SAFETY: the evaluator borrows the bytes `in_force` owns: `&'static` bytes of an
        // embedded profile, or the heap buffer of a compiled bundle, which does not move when the
        // box or this struct moves and is never written while it lives. The evaluator is
        // dropped before `in_force` (field order) and never leaves this struct: only shorter
        // borrows of it are handed out, through the methods below.
        let evaluator =
            unsafe { std::mem::transmute::<Evaluator<'_>, Evaluator<'static>>(evaluator) };
        Ok(OpenPolicy {
            evaluator,
            in_force,
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

    /// Where the policy came from, for people.
    pub fn describe(&self) -> String {
        self.in_force.sources().describe()
    }
}

/// How often a long-lived surface looks at its sources' files for a change.
const RECHECK: Duration = Duration::from_millis(500);

/// The policy of a surface: opened on first use, reopened when its sources change (long-lived
/// surfaces only).
pub(crate) struct PolicySlot {
    discovery: Discovery,
    watch: bool,
    state: Mutex<Option<Slot>>,
}

struct Slot {
    current: Result<Arc<OpenPolicy>, PolicyError>,
    stamp: Stamp,
    checked: Instant,
}

impl PolicySlot {
    /// A slot that opens the policy once (a one-shot process).
    pub(crate) fn once(discovery: Discovery) -> PolicySlot {
        PolicySlot {
            discovery,
            watch: false,
            state: Mutex::new(None),
        }
    }

    /// A slot that reopens the policy when its sources change (a long-lived process).
    pub(crate) fn watched(discovery: Discovery) -> PolicySlot {
        PolicySlot {
            watch: true,
            ..PolicySlot::once(discovery)
        }
    }

    /// The policy to decide with now.
    pub(crate) fn current(&self) -> Result<Arc<OpenPolicy>, PolicyError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let stale = match state.as_mut() {
            None => true,
            Some(slot) if self.watch && slot.checked.elapsed() >= RECHECK => {
                slot.checked = Instant::now();
                Stamp::of(&self.discovery) != slot.stamp
            }
            Some(_) => false,
        };
        if stale {
            *state = Some(self.open());
        }
        match state.as_ref() {
            Some(slot) => slot.current.clone(),
            None => Err(PolicyError("the policy was never opened".into())),
        }
    }

    /// Reopens the policy now (a reload request), whether or not its sources changed.
    pub(crate) fn reload(&self) -> Result<(), PolicyError> {
        let slot = self.open();
        let result = slot.current.as_ref().map(|_| ()).map_err(Clone::clone);
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = Some(slot);
        result
    }

    fn open(&self) -> Slot {
        let stamp = if self.watch {
            Stamp::of(&self.discovery)
        } else {
            Stamp::default()
        };
        Slot {
            current: OpenPolicy::open(&self.discovery).map(Arc::new),
            stamp,
            checked: Instant::now(),
        }
    }
}

/// What the policy files looked like: every place discovery reads, with each file's size and
/// modification time. A change of any (a file edited, added or removed) reopens the policy.
///
/// This stats what [`Discovery`] may read (`--config`, `./rampart.yaml`,
/// `~/.rampart/policies/`); when the policy-sources work records the exact sources of a cached
/// bundle, its freshness check replaces this.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Stamp(Vec<(PathBuf, Option<(u64, SystemTime)>)>);

impl Stamp {
    fn of(discovery: &Discovery) -> Stamp {
        let mut places: Vec<PathBuf> = Vec::new();
        places.extend(discovery.config.iter().cloned());
        places.push(discovery.cwd.join("rampart.yaml"));
        if let Some(home) = &discovery.home {
            places.push(home.join(".rampart").join("policies"));
        }
        let mut files = Vec::new();
        for place in places {
            files.push((place.clone(), stat(&place)));
            if let Ok(entries) = std::fs::read_dir(&place) {
                let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
                names.sort();
                files.extend(names.into_iter().map(|p| {
                    let s = stat(&p);
                    (p, s)
                }));
            }
        }
        Stamp(files)
    }
}

fn stat(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}
