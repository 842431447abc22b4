//! Verification (§5.4): every hash, every link, every header, no duplicate id; then the anchor and
//! the stored checkpoints.
//!
//! What it defends against is someone with write access to the log changing history: editing a
//! record (its hash no longer matches), deleting, inserting or reordering records (a `prev_hash` no
//! longer names the record before it), removing a file (the next file's continuation header names
//! a file that is not there). A break is reported at the first event where the chain stops
//! holding, with the file, the line and, where the neighbours tell, what most likely happened. A
//! log rewritten whole with a fresh chain passes here; only a checkpoint kept elsewhere catches
//! that ([`crate::against`]).
//!
//! [`Walk`] is the chain walk itself, shared with the writer, which uses it to rebuild its counts
//! and Merkle frontier when its state file cannot be trusted.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::path::Path;

use crate::chain::{self, Line};
use crate::checkpoint::{Checkpoint, VerifierKey};
use crate::error::AuditError;
use crate::layout::{self, LogFile};
use crate::merkle::{self, Frontier, Hash};
use crate::scan::FileContent;
use crate::time::Date;

/// What to verify.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Only files of this date and later; the first event may then link to an earlier one.
    pub since: Option<Date>,
    /// The key the stored checkpoints must be signed with; without it their signatures are not
    /// checked, only their roots.
    pub key: Option<VerifierKey>,
    /// Keep every leaf hash (for consistency proofs).
    pub keep_leaves: bool,
}

/// A verified log.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub events: u64,
    pub files: usize,
    /// Legacy per-process hook files, checked record by record.
    pub legacy_files: usize,
    pub last_hash: String,
    /// The Merkle tree over every event verified (from genesis, unless `since` was set).
    pub frontier: Frontier,
    pub leaves: Vec<Hash>,
    /// Files ending in a torn append (a crashed writer; the next append repairs it).
    pub torn: Vec<String>,
    pub anchor_checked: bool,
    pub checkpoints_checked: usize,
    /// Each file verified: its name, the index of its first event, its event count.
    pub file_spans: Vec<(String, u64, u64)>,
}

/// Where and how the chain stops holding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    pub file: String,
    /// 1-based; 0 when the problem is not one line's (an anchor, a checkpoint).
    pub line: u64,
    pub id: Option<String>,
    pub what: String,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.id, self.line) {
            (Some(id), line) => write!(
                f,
                "CHAIN BROKEN at event {id} in file {} line {line}: {}",
                self.file, self.what
            ),
            (None, 0) => write!(f, "CHAIN BROKEN in {}: {}", self.file, self.what),
            (None, line) => write!(
                f,
                "CHAIN BROKEN in file {} line {line}: {}",
                self.file, self.what
            ),
        }
    }
}

/// A failed verification: the log is broken, or could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    Broken(Break),
    Unreadable(AuditError),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Broken(b) => write!(f, "audit: {b}"),
            VerifyError::Unreadable(e) => write!(f, "{e}"),
        }
    }
}

impl From<AuditError> for VerifyError {
    fn from(e: AuditError) -> Self {
        VerifyError::Unreadable(e)
    }
}

impl From<Break> for VerifyError {
    fn from(b: Break) -> Self {
        VerifyError::Broken(b)
    }
}

/// A recently seen event, for naming what a broken link most likely means.
struct Seen {
    hash: String,
    id: String,
    file: String,
    line: u64,
}

/// Where an event was seen: its hash, its number (1-based) and its file.
type Sighting = (String, u64, String);

/// The running state of a chain walk.
pub struct Walk {
    pub last_hash: String,
    /// The file holding the last event (for the next file's header).
    pub last_file: Option<LogFile>,
    /// The last event's position: file, start offset, length (newline included).
    pub last_event: Option<(LogFile, u64, u64)>,
    pub count: u64,
    pub frontier: Frontier,
    leaves: Option<Vec<Hash>>,
    ids: HashSet<u128>,
    other_ids: HashSet<String>,
    check_ids: bool,
    recent: VecDeque<Seen>,
    /// Whether the first event may link to something before the walk (`--since`, catch-up).
    open_start: bool,
    /// Every file in the directory, to tell a removed file from a misnamed one.
    present: HashSet<String>,
    /// Tree sizes whose roots are wanted (stored checkpoints), and the roots once reached.
    pub roots_at: BTreeMap<u64, Option<Hash>>,
    /// An event id to look out for (the anchor), and where it was seen.
    anchor: Option<(String, Option<Sighting>)>,
}

const RECENT: usize = 64;

impl Walk {
    /// A walk from genesis.
    pub fn new(check_ids: bool, keep_leaves: bool) -> Walk {
        Walk {
            last_hash: String::new(),
            last_file: None,
            last_event: None,
            count: 0,
            frontier: Frontier::default(),
            leaves: keep_leaves.then(Vec::new),
            ids: HashSet::new(),
            other_ids: HashSet::new(),
            check_ids,
            recent: VecDeque::with_capacity(RECENT),
            open_start: false,
            present: HashSet::new(),
            roots_at: BTreeMap::new(),
            anchor: None,
        }
    }

    /// A walk that continues after an already trusted event (the writer's catch-up).
    pub fn resume(last_hash: &str, last_file: LogFile, count: u64, frontier: Frontier) -> Walk {
        let mut walk = Walk::new(false, false);
        walk.last_hash = last_hash.to_owned();
        walk.last_file = Some(last_file);
        walk.count = count;
        walk.frontier = frontier;
        walk
    }

    /// Lets the first event (or header) link to anything: verification `--since` a date.
    pub fn starting_anywhere(mut self) -> Walk {
        self.open_start = true;
        self
    }

    pub fn take_leaves(&mut self) -> Vec<Hash> {
        self.leaves.take().unwrap_or_default()
    }

    pub fn know_files(&mut self, names: impl IntoIterator<Item = String>) {
        self.present.extend(names);
    }

    /// Feeds every complete line of `content` (`offset` is where the content starts in its file).
    pub fn feed(&mut self, content: &FileContent, offset: u64) -> Result<(), Break> {
        let name = content.file.name();
        let lines: Vec<_> = content.lines().collect();
        for (index, raw) in lines.iter().enumerate() {
            if raw.bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let brk = |id: Option<String>, what: String| Break {
                file: name.clone(),
                line: raw.number,
                id,
                what,
            };
            match chain::classify(raw.bytes) {
                Ok(Line::Continue(header)) => {
                    if offset != 0 || raw.start != 0 {
                        return Err(brk(
                            None,
                            "a continuation header in the middle of a file".into(),
                        ));
                    }
                    self.check_header(&header, content.file, &brk)?;
                }
                Ok(Line::Event(record)) => {
                    let id = chain::event_id(raw.bytes);
                    let Some(id) = id else {
                        return Err(brk(None, "not a JSON audit event (no id)".into()));
                    };
                    if !record.self_consistent(raw.bytes) {
                        return Err(brk(
                            Some(id),
                            "the record's hash does not match its content: the event was edited"
                                .into(),
                        ));
                    }
                    if record.prev_hash != self.last_hash && !(self.open_start && self.count == 0) {
                        let what = self.diagnose_link(&record, &lines, index);
                        return Err(brk(Some(id), what));
                    }
                    if self.check_ids && !self.insert_id(&id) {
                        return Err(brk(Some(id), "duplicate event id".into()));
                    }
                    self.accept(record.hash, &id, content.file, &name, raw, offset);
                }
                Err(_) => return Err(brk(None, "not an audit record".into())),
            }
        }
        Ok(())
    }

    fn accept(
        &mut self,
        hash: &str,
        id: &str,
        file: LogFile,
        name: &str,
        raw: &crate::scan::RawLine<'_>,
        offset: u64,
    ) {
        let leaf = merkle::leaf_hash(&chain::parse_hash(hash).unwrap_or([0; 32]));
        self.frontier.push(leaf);
        if let Some(slot) = self.roots_at.get_mut(&self.frontier.size()) {
            *slot = Some(self.frontier.root());
        }
        if let Some((want, seen)) = &mut self.anchor {
            if want == id {
                *seen = Some((hash.to_owned(), self.count + 1, name.to_owned()));
            }
        }
        if let Some(leaves) = &mut self.leaves {
            leaves.push(leaf);
        }
        self.count += 1;
        self.last_hash = hash.to_owned();
        self.last_file = Some(file);
        self.last_event = Some((file, offset + raw.start, raw.bytes.len() as u64 + 1));
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(Seen {
            hash: hash.to_owned(),
            id: id.to_owned(),
            file: name.to_owned(),
            line: raw.number,
        });
    }

    fn insert_id(&mut self, id: &str) -> bool {
        match ulid::Ulid::from_string(id) {
            Ok(u) => self.ids.insert(u.0),
            Err(_) => self.other_ids.insert(id.to_owned()),
        }
    }

    fn check_header(
        &mut self,
        header: &chain::Continue,
        file: LogFile,
        brk: &dyn Fn(Option<String>, String) -> Break,
    ) -> Result<(), Break> {
        if self.open_start && self.count == 0 {
            self.last_hash.clone_from(&header.chain_continue);
            return Ok(());
        }
        let previous = self.last_file.map(|f| f.name());
        if previous.as_deref() != Some(header.prev_file.as_str()) {
            let what = if !self.present.contains(&header.prev_file) {
                format!(
                    "file {} is missing: {} continues from it{}",
                    header.prev_file,
                    file.name(),
                    previous.map_or(String::new(), |p| format!(
                        " (the previous file here is {p})"
                    ))
                )
            } else {
                format!(
                    "{} says it continues {}, but the events before it end in {}",
                    file.name(),
                    header.prev_file,
                    previous.unwrap_or_else(|| "no file".into())
                )
            };
            return Err(brk(None, what));
        }
        if header.chain_continue != self.last_hash {
            return Err(brk(
                None,
                format!(
                    "the continuation header does not match the last event of {}: events at its end were removed or changed",
                    header.prev_file
                ),
            ));
        }
        Ok(())
    }

    /// Names the likely cause of a `prev_hash` that is not the previous event's hash.
    fn diagnose_link(
        &self,
        record: &chain::Record<'_>,
        lines: &[crate::scan::RawLine<'_>],
        index: usize,
    ) -> String {
        let prev = record.prev_hash;
        let last = self.recent.back();
        let before_last = self
            .recent
            .len()
            .checked_sub(2)
            .and_then(|i| self.recent.get(i));
        if let (Some(last), Some(two)) = (last, before_last) {
            if two.hash == prev {
                return format!(
                    "it links to event {} ({} line {}), so event {} ({} line {}) between them was inserted",
                    two.id, two.file, two.line, last.id, last.file, last.line
                );
            }
        }
        let later = lines
            .iter()
            .skip(index + 1)
            .find(|l| match chain::classify(l.bytes) {
                Ok(Line::Event(r)) => r.hash == prev,
                _ => false,
            });
        if let Some(later) = later {
            return format!(
                "it links to the event at line {}, which comes after it: events were reordered",
                later.number
            );
        }
        if let Some(older) = self.recent.iter().rev().skip(1).find(|s| s.hash == prev) {
            return format!(
                "it links to event {} ({} line {}): the events after that one were inserted or replaced",
                older.id, older.file, older.line
            );
        }
        let after = last.map_or("the start of the log".to_owned(), |l| {
            format!("event {} ({} line {})", l.id, l.file, l.line)
        });
        if prev.is_empty() {
            return format!(
                "it claims to be the first event, but follows {after}: a new chain was spliced in"
            );
        }
        format!(
            "the event it links to is not in the log: events between {after} and this one were deleted"
        )
    }
}

/// Verifies the log in `dir`.
pub fn verify(dir: &Path, opts: &VerifyOptions) -> Result<Report, VerifyError> {
    let all = layout::log_files(dir)?;
    let files: Vec<LogFile> = all
        .iter()
        .copied()
        .filter(|f| opts.since.is_none_or(|d| f.date >= d))
        .collect();
    let mut walk = Walk::new(true, opts.keep_leaves);
    if opts.since.is_some() {
        walk = walk.starting_anywhere();
    }
    walk.know_files(all.iter().map(LogFile::name));
    // Checkpoints and the anchor count from genesis, so they are checked only on a whole walk.
    let (checkpoints, anchor) = if opts.since.is_none() {
        (
            stored_checkpoints(dir, opts.key.as_ref())?,
            read_anchor(dir)?,
        )
    } else {
        (Vec::new(), None)
    };
    for (_, cp) in &checkpoints {
        walk.roots_at.insert(cp.size, None);
    }
    if let Some(a) = &anchor {
        walk.anchor = Some((a.event_id.clone(), None));
    }
    let mut report = Report::default();
    for file in &files {
        let content = FileContent::read(dir, *file)?;
        if content.torn > 0 {
            report.torn.push(file.name());
        }
        let first = walk.count;
        walk.feed(&content, 0)?;
        report
            .file_spans
            .push((file.name(), first, walk.count - first));
    }
    if let Some(a) = &anchor {
        check_anchor(a, &walk)?;
        report.anchor_checked = true;
    }
    for (time, cp) in &checkpoints {
        check_checkpoint(time, cp, &walk)?;
        report.checkpoints_checked += 1;
    }
    report.legacy_files = verify_legacy(dir)?;
    report.events = walk.count;
    report.files = files.len();
    report.last_hash.clone_from(&walk.last_hash);
    report.leaves = walk.take_leaves();
    report.frontier = walk.frontier;
    Ok(report)
}

fn side_break(file: &str, id: Option<String>, what: String) -> VerifyError {
    VerifyError::Broken(Break {
        file: file.to_owned(),
        line: 0,
        id,
        what,
    })
}

fn check_checkpoint(time: &str, cp: &Checkpoint, walk: &Walk) -> Result<(), VerifyError> {
    match walk.roots_at.get(&cp.size).copied().flatten() {
        Some(root) if root == cp.root => Ok(()),
        Some(_) => Err(side_break(
            layout::CHECKPOINTS,
            None,
            format!(
                "the checkpoint of {time} over the first {} events does not match them: events up to there were changed",
                cp.size
            ),
        )),
        None => Err(side_break(
            layout::CHECKPOINTS,
            None,
            format!(
                "the checkpoint of {time} covers {} events, but the log has only {}: events were removed",
                cp.size, walk.count
            ),
        )),
    }
}

/// The stored checkpoints, opened (with `key`, or without a signature check).
fn stored_checkpoints(
    dir: &Path,
    key: Option<&VerifierKey>,
) -> Result<Vec<(String, Checkpoint)>, VerifyError> {
    let mut out = Vec::new();
    for (time, note) in crate::checkpoint::stored(dir)? {
        let opened = match key {
            Some(key) => Checkpoint::open(&note, key),
            None => Checkpoint::open_unverified(&note),
        };
        match opened {
            Ok(cp) => out.push((time, cp)),
            Err(e) => {
                return Err(side_break(
                    layout::CHECKPOINTS,
                    None,
                    format!("the checkpoint of {time}: {e}"),
                ))
            }
        }
    }
    Ok(out)
}

/// Upstream's `audit-anchor.json`.
#[derive(serde::Deserialize)]
struct Anchor {
    event_id: String,
    hash: String,
    event_count: u64,
    file: String,
}

fn read_anchor(dir: &Path) -> Result<Option<Anchor>, VerifyError> {
    let Some(bytes) = crate::secure::read_small(&dir.join(layout::ANCHOR))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        side_break(
            layout::ANCHOR,
            None,
            format!("the anchor is not valid JSON: {e}"),
        )
    })
}

fn check_anchor(anchor: &Anchor, walk: &Walk) -> Result<(), VerifyError> {
    let found = walk.anchor.as_ref().and_then(|(_, seen)| seen.as_ref());
    match found {
        Some((hash, count, file)) if *hash == anchor.hash && *count == anchor.event_count && *file == anchor.file => Ok(()),
        Some((hash, count, file)) => Err(side_break(
            layout::ANCHOR,
            Some(anchor.event_id.clone()),
            format!(
                "the anchor says event {} is number {} in {} with hash {}; the log has it as number {count} in {file} with hash {hash}",
                anchor.event_id, anchor.event_count, anchor.file, anchor.hash
            ),
        )),
        None => Err(side_break(
            layout::ANCHOR,
            Some(anchor.event_id.clone()),
            format!(
                "the anchor names event {} ({}), which is not in the log: events were removed",
                anchor.event_id, anchor.file
            ),
        )),
    }
}

/// Legacy hook files: each record must match its own hash (they were never chained).
fn verify_legacy(dir: &Path) -> Result<usize, VerifyError> {
    let names = layout::legacy_files(dir)?;
    for name in &names {
        let path = dir.join(name);
        let bytes = crate::secure::read_small(&path)?.unwrap_or_default();
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let ok = matches!(chain::classify(line), Ok(Line::Event(r)) if r.self_consistent(line));
            if !ok {
                return Err(Break {
                    file: name.clone(),
                    line: i as u64 + 1,
                    id: chain::event_id(line),
                    what: "the record's hash does not match its content".into(),
                }
                .into());
            }
        }
    }
    Ok(names.len())
}
