//! Loading policies: YAML files and directories to a checked, merged [`PolicySet`].
//!
//! A policy written for upstream Rampart must load here unchanged, and a policy upstream rejects must
//! be rejected here too, because a rule that silently does not load is a hole in the firewall. So the
//! loader is as strict as upstream's (`KnownFields(true)`, one document per file, 1 MiB per file, the
//! validation of reference §1.6), and every error says `file:line:column: key.path: what is wrong`.
//!
//! The pipeline per file: [`yaml`] parses text into a tree of positioned nodes; [`schema`] reads
//! the tree strictly into the model, calling the value checks in [`check`] (and the time formats in
//! [`time`]) as it goes. Then files are merged by upstream's directory rules (reference §2.9).
//! Lint ([`crate::lint`]) reads the same tree leniently and reuses the same checks.

pub(crate) mod check;
pub(crate) mod decode;
pub(crate) mod schema;
pub mod time;
pub(crate) mod yaml;

use crate::error::Error;
use crate::model::{PolicySet, SourcePos, TestCase};
use decode::Reader;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Loads files and/or directories (a directory: its `*.yaml` and `*.yml` files in sorted order) and
/// merges them by upstream's rules: the first file that sets `default_action` (or `notify`) wins, and
/// a policy name defined in two files is an error, except `block-self-modification` in both
/// `standard.yaml` and `openclaw.yaml` (both are kept). Positions name files as the paths given.
pub fn load_paths(paths: &[PathBuf]) -> Result<PolicySet, Error> {
    if paths.is_empty() {
        return Err(Error::new("no policy files given"));
    }
    let mut set = PolicySet::default();
    for path in paths {
        for file in policy_files(path)? {
            let text = read_policy_file(&file)?;
            let label = file.display().to_string();
            let one = load_text(&label, &basename(&file), &text)?;
            merge_file(&mut set, one)?;
        }
    }
    Ok(set)
}

/// Loads one document from memory; `name` is used in positions and as [`crate::model::Policy::source`]
/// (e.g. `embedded:standard`, `policies/x.yaml`).
pub fn load_str(name: &str, text: &str) -> Result<PolicySet, Error> {
    load_text(name, name, text)
}

/// Puts `overlay` (user policies) over `base` (an embedded profile): an overlay policy with the same
/// name replaces the base one (the overlay's policies follow the remaining base ones), and the
/// overlay's `default_action` and `notify` win when set.
pub fn merge_over(base: PolicySet, overlay: PolicySet) -> PolicySet {
    let replaced: std::collections::HashSet<&str> = overlay
        .policies
        .iter()
        .map(|p| p.name.value.as_str())
        .collect();
    let mut policies: Vec<_> = base
        .policies
        .into_iter()
        .filter(|p| !replaced.contains(p.name.value.as_str()))
        .collect();
    policies.extend(overlay.policies);
    PolicySet {
        default_action: overlay.default_action.or(base.default_action),
        notify: overlay.notify.or(base.notify),
        policies,
        tests: base.tests.into_iter().chain(overlay.tests).collect(),
        files: base.files.into_iter().chain(overlay.files).collect(),
    }
}

/// A test suite file (reference §10): the policy it tests and its cases.
#[derive(Clone, Debug)]
pub struct TestSuite {
    /// `policy:` resolved against the suite file's directory, with `~` expanded. `None` when absent.
    pub policy: Option<PathBuf>,
    pub tests: Vec<TestCase>,
    /// The suite file, as given.
    pub file: String,
}

/// Loads a test suite with the same strict decoding as policies.
pub fn load_suite(path: &Path) -> Result<TestSuite, Error> {
    let text = read_policy_file(path)?;
    let file = path.display().to_string();
    let reader = Reader { file: &file };
    let mut suite = TestSuite {
        policy: None,
        tests: Vec::new(),
        file: file.clone(),
    };
    let Some(root) = yaml::parse_document(&file, &text)? else {
        return Ok(suite);
    };
    let fields = reader.fields(&root, "", &["policy", "tests"])?;
    if let Some(node) = fields.get("policy") {
        let policy = reader.string(node, "policy")?;
        if !policy.trim().is_empty() {
            let base = path.parent().unwrap_or(Path::new(""));
            suite.policy = Some(base.join(expand_home(policy.trim())));
        }
    }
    if let Some(node) = fields.get("tests") {
        suite.tests = schema::tests(&reader, node, "tests")?;
    }
    Ok(suite)
}

/// Loads one text: `label` goes into positions, `source` into each policy's `source`.
pub(crate) fn load_text(label: &str, source: &str, text: &str) -> Result<PolicySet, Error> {
    let mut set = PolicySet {
        files: vec![label.to_string()],
        ..PolicySet::default()
    };
    let Some(root) = yaml::parse_document(label, text)? else {
        return Ok(set);
    };
    let config = schema::decode_file(&Reader { file: label }, &root, source)?;
    set.default_action = config.default_action;
    set.notify = config.notify;
    set.policies = config.policies;
    set.tests = config.tests;
    Ok(set)
}

/// Adds one file's set to the merged set (reference §2.9).
pub(crate) fn merge_file(set: &mut PolicySet, file: PolicySet) -> Result<(), Error> {
    let mut seen: HashMap<&str, (&SourcePos, &str)> = HashMap::new();
    for p in &set.policies {
        seen.entry(&p.name.value)
            .or_insert((&p.name.pos, &p.source));
    }
    for p in &file.policies {
        if let Some((first, first_source)) = seen.get(p.name.value.as_str()) {
            if !allowed_duplicate(&p.name.value, first_source, &p.source) {
                return Err(Error::at(
                    p.name.pos.clone(),
                    format!(
                        "duplicate policy name {:?}: already defined at {first}; names must be unique across files",
                        p.name.value
                    ),
                ));
            }
        }
    }
    if set.default_action.is_none() {
        set.default_action = file.default_action;
    }
    if set.notify.is_none() {
        set.notify = file.notify;
    }
    set.policies.extend(file.policies);
    set.tests.extend(file.tests);
    set.files.extend(file.files);
    Ok(())
}

/// Upstream ships `block-self-modification` in both standard.yaml and openclaw.yaml.
fn allowed_duplicate(name: &str, first: &str, second: &str) -> bool {
    let pair = ["standard.yaml", "openclaw.yaml"];
    name == "block-self-modification"
        && first != second
        && pair.contains(&first)
        && pair.contains(&second)
}

/// A file is itself; a directory is its `*.yaml` and `*.yml` files, sorted by name.
fn policy_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let io_error = |e: std::io::Error| Error::new(format!("{}: {e}", path.display()));
    if !path.is_dir() {
        // Let the read report a missing file with its own message.
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io_error)? {
        let file = entry.map_err(io_error)?.path();
        let is_yaml = matches!(
            file.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if is_yaml && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a policy or suite file, refusing files over 1 MiB before reading them.
pub(crate) fn read_policy_file(path: &Path) -> Result<String, Error> {
    let io_error = |e: std::io::Error| Error::new(format!("{}: {e}", path.display()));
    let size = std::fs::metadata(path).map_err(io_error)?.len();
    if size > yaml::MAX_FILE_SIZE as u64 {
        return Err(Error::new(format!(
            "{}: policy file is {size} bytes; the limit is {} bytes (1 MiB)",
            path.display(),
            yaml::MAX_FILE_SIZE
        )));
    }
    let bytes = std::fs::read(path).map_err(io_error)?;
    String::from_utf8(bytes).map_err(|_| {
        Error::new(format!(
            "{}: policy file is not valid UTF-8",
            path.display()
        ))
    })
}

pub(crate) fn basename(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `~` and `~/x` refer to the home directory; anything else is returned unchanged.
fn expand_home(path: &str) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (path, home) {
        ("~", Some(home)) => home,
        (p, Some(home)) => match p.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None => PathBuf::from(p),
        },
        (p, None) => PathBuf::from(p),
    }
}
