//! Where a command's policy comes from, and turning it into a bundle the runtime can open.
//!
//! Discovery follows upstream's order: `--config`, then `./rampart.yaml`, then `~/.rampart/policies/`,
//! then the embedded standard profile. The embedded profiles are compiled by `build.rs`, so the common
//! case (no policy of one's own) pays no compile time at all.

use rampart_compiler::compile::{compile, CompileStats};
use rampart_compiler::load::{load_paths, load_str, merge_over};
use rampart_compiler::model::PolicySet;
use rampart_runtime::bundle::{Bundle, OwnedBundle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// A built-in profile: its YAML (for `rampart init`) and its bundle, compiled at build time.
pub struct Profile {
    pub name: &'static str,
    pub yaml: &'static str,
    bundle: &'static [u8],
}

/// Dense DFAs need 4-byte alignment; `include_bytes!` guarantees none, so the bytes are wrapped.
#[repr(C, align(64))]
struct Aligned<T: ?Sized>(T);

macro_rules! profile {
    ($name:literal) => {{
        static BYTES: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(
            env!("OUT_DIR"),
            "/",
            $name,
            ".bin"
        )));
        Profile {
            name: $name,
            yaml: include_str!(concat!("../policies/", $name, ".yaml")),
            bundle: &BYTES.0,
        }
    }};
}

pub fn profiles() -> [Profile; 3] {
    [profile!("standard"), profile!("paranoid"), profile!("yolo")]
}

pub fn profile(name: &str) -> Option<Profile> {
    profiles().into_iter().find(|p| p.name == name)
}

/// Profile file names that mean "this directory holds a whole profile", not additions to the default.
const PROFILE_FILES: [&str; 3] = ["standard.yaml", "paranoid.yaml", "yolo.yaml"];

/// The policy a command works on.
#[derive(Clone, Debug)]
pub enum PolicySource {
    /// Files and directories given or discovered on disk.
    Paths(Vec<PathBuf>),
    /// `~/.rampart/policies/` without a profile file of its own: user policies over the embedded standard.
    OverEmbedded(PathBuf),
    /// The embedded standard profile, precompiled.
    Embedded,
}

impl PolicySource {
    pub fn discover(config: Option<PathBuf>) -> PolicySource {
        if let Some(path) = config {
            return PolicySource::Paths(vec![path]);
        }
        let local = PathBuf::from("rampart.yaml");
        if local.is_file() {
            return PolicySource::Paths(vec![local]);
        }
        if let Some(dir) = user_policy_dir().filter(|d| has_yaml(d)) {
            if PROFILE_FILES.iter().any(|f| dir.join(f).is_file()) {
                return PolicySource::Paths(vec![dir]);
            }
            return PolicySource::OverEmbedded(dir);
        }
        PolicySource::Embedded
    }

    pub fn describe(&self) -> String {
        match self {
            PolicySource::Paths(paths) => paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            PolicySource::OverEmbedded(dir) => format!("embedded:standard + {}", dir.display()),
            PolicySource::Embedded => "embedded:standard".to_string(),
        }
    }

    /// The checked policy set (loads YAML; the embedded profile is parsed from its text).
    pub fn load(&self) -> Result<PolicySet, String> {
        let embedded = || {
            let p = profile!("standard");
            load_str("embedded:standard", p.yaml).map_err(|e| e.to_string())
        };
        match self {
            PolicySource::Paths(paths) => load_paths(paths).map_err(|e| e.to_string()),
            PolicySource::OverEmbedded(dir) => {
                let user = load_paths(std::slice::from_ref(dir)).map_err(|e| e.to_string())?;
                Ok(merge_over(embedded()?, user))
            }
            PolicySource::Embedded => embedded(),
        }
    }

    /// The bundle for this source: precompiled for the embedded profile, compiled in memory otherwise.
    pub fn bundle(&self) -> Result<LoadedBundle, String> {
        match self {
            PolicySource::Embedded => Ok(LoadedBundle::Static(profile!("standard").bundle)),
            _ => {
                let set = self.load()?;
                let bytes = compile(&set).map_err(|e| e.to_string())?.bytes;
                // SAFETY: the compiler of this very process wrote these bytes just now; checking
                // the checksum and every DFA again would only repeat its work.
                let owned = unsafe { OwnedBundle::open_unchecked(&bytes) }
                    .map_err(|e| format!("policy bundle: {e}"))?;
                Ok(LoadedBundle::Owned(owned))
            }
        }
    }
}

/// A bundle this process can decide with: embedded in the executable, or compiled just now.
pub enum LoadedBundle {
    Static(&'static [u8]),
    Owned(OwnedBundle),
}

impl LoadedBundle {
    pub fn bytes(&self) -> &[u8] {
        match self {
            LoadedBundle::Static(b) => b,
            LoadedBundle::Owned(owned) => owned.bytes(),
        }
    }

    /// Opens the bundle without the full validation (sha256 and every DFA, ~10 ms for the
    /// standard profile, which a one-call `rampart check` paid in every process).
    pub fn open(&self) -> Result<Bundle<'_>, String> {
        let bundle = match self {
            // SAFETY: build.rs compiled these bytes into the executable with this build's
            // compiler; nobody could have modified them since.
            LoadedBundle::Static(bytes) => unsafe { Bundle::open_unchecked(bytes) },
            LoadedBundle::Owned(owned) => owned.bundle(),
        };
        bundle.map_err(|e| format!("policy bundle: {e}"))
    }
}

pub fn user_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

pub fn rampart_home() -> Option<PathBuf> {
    user_home().map(|h| h.join(".rampart"))
}

fn user_policy_dir() -> Option<PathBuf> {
    rampart_home().map(|h| h.join("policies"))
}

fn has_yaml(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let p = e.path();
            p.is_file() && matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
        })
    })
}

fn summary(stats: &CompileStats, millis: f64) -> String {
    format!(
        "{} policies, {} rules, {} patterns, {} automata, {} bytes, {:.0} ms",
        stats.policies, stats.rules, stats.patterns, stats.automata, stats.bytes, millis
    )
}

/// `rampart compile`: the existing output is only replaced once the new bundle is complete.
pub fn compile_to_file(paths: &[PathBuf], output: &Path) -> Result<ExitCode, String> {
    let started = Instant::now();
    let set = load_paths(paths).map_err(|e| e.to_string())?;
    let rampart_compiler::Compiled { bytes, stats } = compile(&set).map_err(|e| e.to_string())?;
    rampart_compiler::write::write_atomic(output, &bytes)
        .map_err(|e| format!("{}: {e}", output.display()))?;
    let millis = started.elapsed().as_secs_f64() * 1e3;
    println!("{}: {}", output.display(), summary(&stats, millis));
    Ok(ExitCode::SUCCESS)
}

/// `rampart policy check`: strict load and compile.
pub fn check(source: &PolicySource) -> Result<ExitCode, String> {
    let started = Instant::now();
    let set = source.load()?;
    let stats = compile(&set).map_err(|e| e.to_string())?.stats;
    let millis = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "✓ Policy valid ({}): {}",
        source.describe(),
        summary(&stats, millis)
    );
    Ok(ExitCode::SUCCESS)
}

/// The bundle of `source` as a file the preload library can map: `~/.rampart/policy.bin`, rewritten
/// (atomically) only when its contents differ, so running processes keep a consistent mapping.
pub fn bundle_file(source: &PolicySource) -> Result<PathBuf, String> {
    let home = rampart_home().ok_or("HOME is not set; pass --policy")?;
    let path = home.join("policy.bin");
    let loaded = source.bundle()?;
    let fresh = loaded.bytes();
    if std::fs::read(&path).ok().as_deref() != Some(fresh) {
        std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
        rampart_compiler::write::write_atomic(&path, fresh)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}
