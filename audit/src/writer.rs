//! The writer: one record appended to the chain, by any of several processes, without forking it,
//! losing it or half-writing it.
//!
//! Every append runs under the directory lock ([`crate::lock`]) and starts from the head the log
//! files themselves give: the last line of the newest file, whose hash must recompute from its
//! content. What a writer remembers from its previous append (a long-lived one) is reused only
//! after cheap checks that no other process appended or rotated since (the file's size, and no
//! newer file name); what the state file says is reused only when it agrees with that head
//! ([`crate::state`]). So a hook pays for reading one line, not for re-verifying the chain, and a
//! stale or forged side file cannot make any writer link a record to the wrong parent.
//!
//! An append is all or nothing. The records of a call (and a spool drain) are encoded and hashed
//! first, then written with as few `write(2)` calls as there are files; if a write fails (a full
//! disk, a file size limit), every file touched is truncated back and a file created for it is
//! removed, and the caller gets the error, which it turns into a deny. A writer killed in the
//! middle of a write leaves at most a torn last line: the next writer cuts it off (keeping every
//! complete line before it) and reports it ([`Notice::TornTail`]).
//!
//! Durability is a setting ([`Durability`]): `Never` returns once `write(2)` is done (the record
//! survives the process, not a power cut; hooks), `EveryRecord` fdatasyncs each record, `Group`
//! fdatasyncs once per batch, which [`crate::GroupCommit`] fills with every record that arrived
//! while the previous batch was being written.

use std::fmt;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::chain::{self, Line};
use crate::checkpoint::{self, Key};
use crate::error::AuditError;
use crate::event::{Event, Host, SCHEMA_VERSION};
use crate::export::{Exporter, Exports};
use crate::layout::{self, LogFile};
use crate::lock::{self, LockFile};
use crate::merkle::{self, Frontier};
use crate::secure::{self, Access};
use crate::state::{self, Extra, State, StateFile};
use crate::time::Timestamp;
use crate::verify::{self, Walk};
use crate::{compact, ids, redact, spool};

/// When records reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// After `write(2)`: the record survives the process dying, not the machine.
    Never,
    /// One `fdatasync` per record.
    EveryRecord,
    /// One `fdatasync` per batch of records.
    Group,
}

/// How much of the log a writer checks when it opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The head only (the last record, self-checked), plus the state file where it agrees:
    /// one-shot processes.
    Tail,
    /// Every record, link and header, before the first append: long-lived services.
    Full,
}

/// When the writer signs a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// The Ed25519 note key (`~/.rampart/audit.key`), created 0600 if missing.
    pub key: PathBuf,
    pub every_records: u64,
    pub every: Duration,
}

/// How a writer behaves.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    pub dir: PathBuf,
    pub durability: Durability,
    pub recovery: Recovery,
    /// Size rotation (upstream: 100 MiB).
    pub rotate_bytes: u64,
    /// Records above this are compacted (upstream: 2 MiB).
    pub max_record_bytes: usize,
    /// How long to wait for another writer's lock before failing.
    pub lock_timeout: Duration,
    /// The preload spool directory to drain (`~/.rampart/spool`).
    pub spool: Option<PathBuf>,
    pub checkpoints: Option<CheckpointPolicy>,
    pub exports: Exports,
}

impl WriterOptions {
    /// A writer of the log in `dir`: no spool, no checkpoints, no sync, head-only recovery.
    pub fn new(dir: impl Into<PathBuf>) -> WriterOptions {
        WriterOptions {
            dir: dir.into(),
            durability: Durability::Never,
            recovery: Recovery::Tail,
            rotate_bytes: layout::ROTATE_BYTES,
            max_record_bytes: compact::MAX_RECORD_BYTES,
            lock_timeout: Duration::from_secs(10),
            spool: None,
            checkpoints: None,
            exports: Exports::default(),
        }
    }

    /// Drains `home`'s preload spool and signs checkpoints with `home`'s key (every 1,000 records
    /// or 5 minutes).
    pub fn with_home(mut self, home: &Path) -> WriterOptions {
        self.spool = Some(home.join(".rampart").join("spool"));
        self.checkpoints = Some(CheckpointPolicy {
            key: checkpoint::default_key_path(home),
            every_records: 1000,
            every: Duration::from_secs(300),
        });
        self
    }

    /// What a one-shot hook process uses: `~/.rampart/audit`, answered after `write(2)`.
    pub fn hook(home: &Path) -> WriterOptions {
        WriterOptions::new(home.join(".rampart").join("audit")).with_home(home)
    }

    /// What a long-lived service uses: full verification at start, group commit.
    pub fn service(home: &Path) -> WriterOptions {
        let mut opts = WriterOptions::hook(home);
        opts.durability = Durability::Group;
        opts.recovery = Recovery::Full;
        opts
    }

    pub fn durability(mut self, durability: Durability) -> WriterOptions {
        self.durability = durability;
        self
    }

    pub fn recovery(mut self, recovery: Recovery) -> WriterOptions {
        self.recovery = recovery;
        self
    }
}

/// A record in the chain.
#[derive(Clone, Debug)]
pub struct Appended {
    pub id: String,
    pub hash: String,
    /// The log file it is in.
    pub file: String,
    /// The event as written: redacted, compacted, with id and hashes.
    pub event: Event,
}

/// Something a writer repaired or could not do, which did not stop the append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A torn last line (a writer that crashed mid-append) was cut off.
    TornTail { file: String, bytes: u64 },
    /// An empty log file (a writer that crashed before its first line) was removed.
    EmptyFileRemoved { file: String },
    /// The counts and Merkle frontier were rebuilt by reading `events` records.
    Rebuilt { how: &'static str, events: u64 },
    /// Preload records were taken into the chain.
    SpoolIngested { batch: String, records: u64 },
    /// The spool could not be drained this time (it stays for the next writer).
    SpoolSkipped(AuditError),
    /// A side effect that never fails an append: state file, anchor, checkpoint, export.
    SideEffectFailed(AuditError),
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::TornTail { file, bytes } => write!(
                f,
                "audit: repaired {file}: removed a torn last line of {bytes} bytes left by a writer that crashed"
            ),
            Notice::EmptyFileRemoved { file } => {
                write!(f, "audit: removed the empty log file {file}")
            }
            Notice::Rebuilt { how, events } => {
                write!(f, "audit: rebuilt the chain state by {how} ({events} events)")
            }
            Notice::SpoolIngested { batch, records } => write!(
                f,
                "audit: took {records} preload records into the chain (spool batch {batch})"
            ),
            Notice::SpoolSkipped(e) => write!(f, "{e} (the preload spool waits for the next writer)"),
            Notice::SideEffectFailed(e) => write!(f, "{e}"),
        }
    }
}

/// The last line of the chain.
#[derive(Clone, Debug, Default)]
struct Head {
    /// `""` before the first record.
    hash: String,
    /// The file holding it.
    file: Option<LogFile>,
    start: u64,
    /// With the newline.
    len: u64,
}

/// The newest log file, open for appending.
struct Current {
    file: LogFile,
    handle: File,
    size: u64,
}

/// One file's share of a batch.
struct Segment {
    file: LogFile,
    new: bool,
    bytes: Vec<u8>,
}

/// The audit writer. See the module doc; [`crate::GroupCommit`] shares one between threads.
pub struct Writer {
    opts: WriterOptions,
    lock: LockFile,
    state: StateFile,
    /// Whether `head`, `current` and the counts were recovered under a lock at least once.
    known: bool,
    head: Head,
    current: Option<Current>,
    count: u64,
    frontier: Frontier,
    last_id: String,
    last_tool_call_id: String,
    checkpoint_at: (u64, i64),
    key: Option<Key>,
    exporter: Option<Exporter>,
    notices: Vec<Notice>,
    /// Set while a [`crate::GroupCommit`] batch collects its syncs to run after the writer is
    /// released (so the next batch can be written meanwhile).
    deferred: Option<PendingSync>,
    /// The frontier's nodes and their hex, for the state file.
    tree_cache: Vec<(merkle::Hash, String)>,
}

/// The syncs a batch still owes before its callers may be answered.
#[derive(Default)]
pub struct PendingSync {
    files: Vec<(File, PathBuf)>,
    /// Whether a file was created (its directory entry must reach the disk too).
    dir: bool,
    dir_path: PathBuf,
}

impl PendingSync {
    /// Adds what `other` owes; a file owed twice is synced once.
    pub fn absorb(&mut self, other: PendingSync) {
        for (file, path) in other.files {
            match self.files.iter_mut().find(|(_, p)| *p == path) {
                Some(slot) => *slot = (file, path),
                None => self.files.push((file, path)),
            }
        }
        self.dir |= other.dir;
        if self.dir_path.as_os_str().is_empty() {
            self.dir_path = other.dir_path;
        }
    }

    /// Runs the owed `fdatasync`s (and the directory's `fsync`).
    pub fn sync(self) -> Result<(), AuditError> {
        for (file, path) in &self.files {
            lock::data_sync(file, path)?;
        }
        if self.dir {
            lock::sync_dir(&self.dir_path)?;
        }
        Ok(())
    }
}

fn missing(path: &Path) -> AuditError {
    AuditError::Io {
        op: "open",
        path: path.to_path_buf(),
        kind: std::io::ErrorKind::NotFound,
        message: "the file vanished".into(),
    }
}

impl Writer {
    /// Opens (creating, 0700) the audit directory. With [`Recovery::Full`] the whole chain is
    /// verified now and a broken one refuses to open; with [`Recovery::Tail`] nothing is read
    /// until the first append.
    pub fn open(opts: WriterOptions) -> Result<Writer, AuditError> {
        secure::ensure_dir(&opts.dir, true)?;
        let lock = LockFile::open(&opts.dir.join(layout::LOCK))?;
        let state = StateFile::open(&opts.dir)?;
        let exporter = if opts.exports == Exports::default() {
            None
        } else {
            Some(Exporter::open(&opts.dir, &opts.exports)?)
        };
        let mut writer = Writer {
            opts,
            lock,
            state,
            known: false,
            head: Head::default(),
            current: None,
            count: 0,
            frontier: Frontier::default(),
            last_id: String::new(),
            last_tool_call_id: String::new(),
            checkpoint_at: (0, 0),
            key: None,
            exporter,
            notices: Vec::new(),
            deferred: None,
            tree_cache: Vec::new(),
        };
        if writer.opts.recovery == Recovery::Full {
            let _guard = writer.lock.lock(writer.opts.lock_timeout)?;
            writer.recover(true)?;
        }
        Ok(writer)
    }

    pub fn dir(&self) -> &Path {
        &self.opts.dir
    }

    pub fn options(&self) -> &WriterOptions {
        &self.opts
    }

    /// What was repaired or skipped since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Appends one event; returns once it is written (and synced, per [`Durability`]).
    pub fn append(&mut self, event: Event) -> Result<Appended, AuditError> {
        self.append_batch(vec![event])?
            .pop()
            .ok_or_else(|| AuditError::Format {
                what: "an append returned no record".into(),
            })
    }

    /// Appends events in order, all or nothing, under one lock.
    pub fn append_batch(&mut self, events: Vec<Event>) -> Result<Vec<Appended>, AuditError> {
        let _guard = self.lock.lock(self.opts.lock_timeout)?;
        self.refresh()?;
        let before = self.count;
        self.drain_spool()?;
        let appended = if self.opts.durability == Durability::EveryRecord {
            let mut out = Vec::with_capacity(events.len());
            for event in events {
                out.extend(self.write_events(vec![event])?);
            }
            out
        } else {
            self.write_events(events)?
        };
        self.after_write(before);
        Ok(appended)
    }

    /// Appends like [`Writer::append_batch`] but returns the syncs the batch owes instead of
    /// running them, so the caller can release the writer first (group commit). The records are
    /// durable only once [`PendingSync::sync`] succeeded.
    pub fn append_batch_deferred(
        &mut self,
        events: Vec<Event>,
    ) -> Result<(Vec<Appended>, PendingSync), AuditError> {
        self.deferred = Some(PendingSync {
            dir_path: self.opts.dir.clone(),
            ..PendingSync::default()
        });
        let result = self.append_batch(events);
        let pending = self.deferred.take().unwrap_or_default();
        result.map(|appended| (appended, pending))
    }

    /// Signs a checkpoint of the current log now (when it grew since the last one) and returns the
    /// latest. Needs a checkpoint policy (a key).
    pub fn checkpoint_now(&mut self) -> Result<Option<checkpoint::Checkpoint>, AuditError> {
        let _guard = self.lock.lock(self.opts.lock_timeout)?;
        self.refresh()?;
        if self.count > self.checkpoint_at.0 {
            self.sign_checkpoint()?;
        }
        let stored = checkpoint::stored(&self.opts.dir)?;
        Ok(stored
            .last()
            .and_then(|(_, note)| checkpoint::Checkpoint::open_unverified(note).ok()))
    }

    /// The signing key's verifier form, loading (or creating) the key.
    pub fn verifier_key(&mut self) -> Result<Option<checkpoint::VerifierKey>, AuditError> {
        Ok(self.key()?.map(Key::verifier))
    }

    fn key(&mut self) -> Result<Option<&Key>, AuditError> {
        let Some(policy) = &self.opts.checkpoints else {
            return Ok(None);
        };
        if self.key.is_none() {
            let name = checkpoint::key_name_for_host(&Host::this().hostname);
            self.key = Some(Key::load_or_create(&policy.key, &name)?);
        }
        Ok(self.key.as_ref())
    }

    /// Makes `head`, `current` and the counts true for the log as it is now (the lock is held).
    fn refresh(&mut self) -> Result<(), AuditError> {
        if self.known && self.unchanged_since_last_append()? {
            return Ok(());
        }
        self.recover(false)
    }

    /// Whether no other process appended, rotated or removed anything since this writer's last
    /// append: the current file has the size this writer left and nothing newer exists.
    fn unchanged_since_last_append(&self) -> Result<bool, AuditError> {
        let Some(cur) = &self.current else {
            return Ok(false);
        };
        let path = self.opts.dir.join(cur.file.name());
        let meta = cur
            .handle
            .metadata()
            .map_err(AuditError::at("stat", &path))?;
        if meta.len() != cur.size || meta.nlink() == 0 {
            return Ok(false);
        }
        match std::fs::symlink_metadata(&path) {
            Ok(named) if named.ino() == meta.ino() && named.dev() == meta.dev() => {}
            _ => return Ok(false),
        }
        let today = Timestamp::now().date();
        let mut newer = vec![cur.file.next_part()];
        if today > cur.file.date {
            newer.push(LogFile::new(today));
        }
        Ok(newer
            .iter()
            .all(|f| std::fs::symlink_metadata(self.opts.dir.join(f.name())).is_err()))
    }

    /// Finds the head from the files (repairing a torn tail), then the counts.
    fn recover(&mut self, full: bool) -> Result<(), AuditError> {
        self.known = false;
        self.current = None;
        self.head = Head::default();
        self.last_tool_call_id.clear();
        self.last_id.clear();
        let files = layout::log_files(&self.opts.dir)?;
        for file in files.iter().rev() {
            let path = self.opts.dir.join(file.name());
            let handle = secure::open(&path, Access::Append)?.ok_or_else(|| missing(&path))?;
            let size = self.repair_tail(*file, &handle)?;
            if size == 0 {
                std::fs::remove_file(&path).map_err(AuditError::at("remove", &path))?;
                self.notices
                    .push(Notice::EmptyFileRemoved { file: file.name() });
                continue;
            }
            self.read_head(*file, &handle, size)?;
            self.current = Some(Current {
                file: *file,
                handle,
                size,
            });
            break;
        }
        self.reconcile(full)?;
        self.known = true;
        Ok(())
    }

    /// Cuts a torn last line; returns the file's size after.
    fn repair_tail(&mut self, file: LogFile, handle: &File) -> Result<u64, AuditError> {
        let path = self.opts.dir.join(file.name());
        let size = handle
            .metadata()
            .map_err(AuditError::at("stat", &path))?
            .len();
        if size == 0 {
            return Ok(0);
        }
        let mut last = [0u8; 1];
        handle
            .read_exact_at(&mut last, size - 1)
            .map_err(AuditError::at("read", &path))?;
        if last == *b"\n" {
            return Ok(size);
        }
        let keep = match last_newline(handle, &path, size)? {
            Some(pos) => pos + 1,
            None => 0,
        };
        handle
            .set_len(keep)
            .map_err(AuditError::at("repair (truncate)", &path))?;
        self.notices.push(Notice::TornTail {
            file: file.name(),
            bytes: size - keep,
        });
        Ok(keep)
    }

    /// Reads and self-checks the last line of a non-empty file that ends in a newline.
    fn read_head(&mut self, file: LogFile, handle: &File, size: u64) -> Result<(), AuditError> {
        let path = self.opts.dir.join(file.name());
        let start = match last_newline(handle, &path, size - 1)? {
            Some(pos) => pos + 1,
            None => 0,
        };
        let mut line = vec![0u8; usize::try_from(size - 1 - start).unwrap_or(0)];
        handle
            .read_exact_at(&mut line, start)
            .map_err(AuditError::at("read", &path))?;
        let broken = |problem: &str| AuditError::Broken {
            file: path.clone(),
            line: 0,
            problem: problem.to_owned(),
        };
        match chain::classify(&line) {
            Ok(Line::Event(rec)) => {
                if !rec.self_consistent(&line) {
                    return Err(broken("its last record does not match its hash (edited)"));
                }
                self.head = Head {
                    hash: rec.hash.to_owned(),
                    file: Some(file),
                    start,
                    len: size - start,
                };
                let ids: Option<Ids> = serde_json::from_slice(&line).ok();
                if let Some(ids) = ids {
                    self.last_id = ids.id;
                    self.last_tool_call_id = ids.tool_call_id;
                }
                Ok(())
            }
            Ok(Line::Continue(header)) => {
                self.head = Head {
                    hash: header.chain_continue,
                    file: LogFile::parse(&header.prev_file),
                    start: 0,
                    len: 0,
                };
                Ok(())
            }
            Err(_) => Err(broken("its last line is not an audit record")),
        }
    }

    /// Sets the counts and frontier for the recovered head: from the state file when it agrees,
    /// by catching up from the record it names, or by reading the whole log.
    fn reconcile(&mut self, full: bool) -> Result<(), AuditError> {
        let hint = self.state.read();
        let extra = hint.as_ref().and_then(|s| s.rampart.clone());
        let checkpoint_at = extra
            .as_ref()
            .map(|e| (e.checkpoint_size, e.checkpoint_unix))
            .unwrap_or_else(|| last_stored_checkpoint(&self.opts.dir));
        if full {
            self.rebuild_fully()?;
        } else if self.head.hash.is_empty() {
            self.count = 0;
            self.frontier = Frontier::default();
        } else if let Some((count, frontier)) = self.hint_matches(hint.as_ref()) {
            self.count = count;
            self.frontier = frontier;
        } else if let Some(events) = self.catch_up(hint.as_ref())? {
            self.notices.push(Notice::Rebuilt {
                how: "reading the records after the state file's",
                events,
            });
        } else {
            self.rebuild_fully()?;
        }
        self.checkpoint_at = if checkpoint_at.0 <= self.count {
            checkpoint_at
        } else {
            (0, 0)
        };
        Ok(())
    }

    fn hint_matches(&self, hint: Option<&State>) -> Option<(u64, Frontier)> {
        let st = hint?;
        let same = st.last_hash == self.head.hash
            && Some(st.last_event_file.as_str()) == self.head.file.map(|f| f.name()).as_deref()
            && st.last_event_start == self.head.start;
        let frontier = st.frontier()?;
        same.then_some((st.event_count, frontier))
    }

    /// Catches up from the record the state file names, if that record is there and checks out.
    /// Returns how many records were read.
    fn catch_up(&mut self, hint: Option<&State>) -> Result<Option<u64>, AuditError> {
        let Some(st) = hint else { return Ok(None) };
        let (Some(frontier), Some(file)) = (st.frontier(), LogFile::parse(&st.last_event_file))
        else {
            return Ok(None);
        };
        let path = self.opts.dir.join(file.name());
        let Some(handle) = secure::open(&path, Access::Read)? else {
            return Ok(None);
        };
        let mut line = vec![0u8; usize::try_from(st.last_event_size).unwrap_or(0)];
        if handle
            .read_exact_at(&mut line, st.last_event_start)
            .is_err()
        {
            return Ok(None);
        }
        let line = line.strip_suffix(b"\n").unwrap_or_default();
        match chain::classify(line) {
            Ok(Line::Event(rec)) if rec.hash == st.last_hash && rec.self_consistent(line) => {}
            _ => return Ok(None),
        }
        let mut walk = Walk::resume(&st.last_hash, file, st.event_count, frontier);
        let files = layout::log_files(&self.opts.dir)?;
        walk.know_files(files.iter().map(LogFile::name));
        for f in files.into_iter().filter(|f| *f >= file) {
            let offset = if f == file {
                st.last_event_start + st.last_event_size
            } else {
                0
            };
            let content = crate::scan::FileContent::read_from(&self.opts.dir, f, offset)?;
            if walk.feed(&content, offset).is_err() {
                return Ok(None);
            }
        }
        if walk.last_hash != self.head.hash {
            return Ok(None);
        }
        let read = walk.count - st.event_count;
        self.count = walk.count;
        self.frontier = walk.frontier;
        Ok(Some(read))
    }

    /// Verifies the whole log and takes the counts from it; a broken chain is an error.
    fn rebuild_fully(&mut self) -> Result<(), AuditError> {
        let opts = verify::VerifyOptions::default();
        let report = verify::verify(&self.opts.dir, &opts).map_err(|e| match e {
            verify::VerifyError::Broken(b) => AuditError::Broken {
                file: self.opts.dir.join(&b.file),
                line: b.line,
                problem: b.what,
            },
            verify::VerifyError::Unreadable(e) => e,
        })?;
        if report.last_hash != self.head.hash {
            return Err(AuditError::Broken {
                file: self.opts.dir.clone(),
                line: 0,
                problem: "the log's head changed while it was being verified".into(),
            });
        }
        self.count = report.events;
        self.frontier = report.frontier;
        self.notices.push(Notice::Rebuilt {
            how: "verifying the whole log",
            events: report.events,
        });
        Ok(())
    }

    /// Takes every waiting preload batch into the chain (see [`crate::spool`]). Problems reading
    /// the spool are notices; a failure to write the chain is an error like any other append's.
    fn drain_spool(&mut self) -> Result<(), AuditError> {
        let Some(dir) = self.opts.spool.clone() else {
            return Ok(());
        };
        match spool::check_dir(&dir) {
            Ok(Some(())) => {}
            Ok(None) => return Ok(()),
            Err(e) => {
                self.notices.push(Notice::SpoolSkipped(e));
                return Ok(());
            }
        }
        // Bounded: a storm of preload records cannot keep one writer draining forever.
        for _ in 0..4 {
            let mut batches = match spool::pending(&dir) {
                Ok(b) => b,
                Err(e) => {
                    self.notices.push(Notice::SpoolSkipped(e));
                    return Ok(());
                }
            };
            if batches.is_empty() {
                match spool::claim(&dir) {
                    Ok(Some(name)) => batches.push(name),
                    Ok(None) => return Ok(()),
                    Err(e) => {
                        self.notices.push(Notice::SpoolSkipped(e));
                        return Ok(());
                    }
                }
            }
            for name in batches {
                self.ingest_batch(&dir, &name)?;
            }
        }
        Ok(())
    }

    fn ingest_batch(&mut self, dir: &Path, name: &str) -> Result<(), AuditError> {
        let batch = spool::batch_of(name).to_owned();
        let path = spool::batch_path(dir, name);
        let done = match spool::parse_cursor(&self.last_tool_call_id) {
            Some((b, offset)) if b == batch => Some(offset),
            _ => None,
        };
        let lines = match spool::read_batch(&path, 0) {
            Ok(lines) => lines,
            Err(e) => {
                self.notices.push(Notice::SpoolSkipped(e));
                return Ok(());
            }
        };
        let events: Vec<Event> = lines
            .into_iter()
            .filter(|(offset, _)| done.is_none_or(|d| *offset > d))
            .map(|(offset, line)| {
                spool::event_from_line(&line).tool_call_id(&spool::cursor(&batch, offset))
            })
            .collect();
        let records = events.len() as u64;
        let mut events = events.into_iter().peekable();
        while events.peek().is_some() {
            let chunk: Vec<Event> = events.by_ref().take(512).collect();
            self.write_events(chunk)?;
        }
        if records > 0 && self.opts.durability != Durability::Never {
            self.sync_current()?;
        }
        std::fs::remove_file(&path).map_err(AuditError::at("remove", &path))?;
        self.notices.push(Notice::SpoolIngested { batch, records });
        Ok(())
    }

    fn sync_current(&self) -> Result<(), AuditError> {
        if let Some(cur) = &self.current {
            lock::data_sync(&cur.handle, &self.opts.dir.join(cur.file.name()))?;
        }
        Ok(())
    }

    /// Fills in what the writer owns and redacts.
    fn prepare(&self, event: &mut Event) {
        if event.schema_version.is_empty() {
            event.schema_version = SCHEMA_VERSION.to_owned();
        }
        if event.id.is_empty() {
            event.id = ids::new_id(event.timestamp.unix_ms());
        }
        if event.host == Host::default() {
            event.host = Host::this();
        }
        redact::event(event);
    }

    /// Seals `event` after `prev_hash`, compacting it first when the line would be too long
    /// (rare, so the common path encodes once).
    fn seal(&self, event: &mut Event, prev_hash: &str) -> chain::Sealed {
        let sealed = chain::seal(event, prev_hash);
        if sealed.line.len() <= self.opts.max_record_bytes {
            return sealed;
        }
        compact::compact(event, self.opts.max_record_bytes);
        chain::seal(event, prev_hash)
    }

    /// Seals, plans, writes (all or nothing) and syncs `events`.
    fn write_events(&mut self, events: Vec<Event>) -> Result<Vec<Appended>, AuditError> {
        let mut head = self.head.clone();
        let mut target = self.current.as_ref().map(|c| (c.file, c.size));
        let mut segments: Vec<Segment> = Vec::new();
        let mut appended = Vec::with_capacity(events.len());
        let today = Timestamp::now().date();
        for mut event in events {
            self.prepare(&mut event);
            let sealed = self.seal(&mut event, &head.hash);
            let len = sealed.line.len() as u64;
            let file = self.target_file(target, len, today);
            if target.map(|(f, _)| f) != Some(file) {
                // A new file starts with a continuation header, unless it starts the chain.
                let bytes = if head.hash.is_empty() {
                    Vec::new()
                } else {
                    chain::Continue {
                        chain_continue: head.hash.clone(),
                        prev_file: head.file.map(|f| f.name()).unwrap_or_default(),
                    }
                    .line()
                };
                target = Some((file, bytes.len() as u64));
                segments.push(Segment {
                    file,
                    new: true,
                    bytes,
                });
            } else if segments.is_empty() {
                segments.push(Segment {
                    file,
                    new: false,
                    bytes: Vec::new(),
                });
            }
            let start = target.map_or(0, |(_, size)| size);
            target = Some((file, start + len));
            head = Head {
                hash: sealed.hash.clone(),
                file: Some(file),
                start,
                len,
            };
            if let Some(seg) = segments.last_mut() {
                seg.bytes.extend_from_slice(&sealed.line);
            }
            appended.push(Appended {
                id: event.id.clone(),
                hash: sealed.hash,
                file: file.name(),
                event,
            });
        }
        self.write_segments(segments)?;
        for a in &appended {
            if let Some(leaf) = chain::parse_hash(&a.hash) {
                self.frontier.push(merkle::leaf_hash(&leaf));
            }
            self.count += 1;
        }
        if let Some(last) = appended.last() {
            self.last_id.clone_from(&last.id);
            self.last_tool_call_id.clone_from(&last.event.tool_call_id);
        }
        self.head = head;
        if let Some(exporter) = &mut self.exporter {
            for a in &appended {
                let failures = exporter.send(&a.event);
                self.notices
                    .extend(failures.into_iter().map(Notice::SideEffectFailed));
            }
        }
        Ok(appended)
    }

    /// The file a record of `len` bytes goes to: today's, or the next part when the current one
    /// would pass the rotation size. A clock that went back keeps the newest file.
    fn target_file(
        &self,
        target: Option<(LogFile, u64)>,
        len: u64,
        today: crate::time::Date,
    ) -> LogFile {
        match target {
            None => LogFile::new(today),
            Some((f, _)) if f.date < today => LogFile::new(today),
            Some((f, size)) if size > 0 && size + len > self.opts.rotate_bytes => f.next_part(),
            Some((f, _)) => f,
        }
    }

    /// Writes each segment to its file; on any failure, undoes every segment of the batch.
    fn write_segments(&mut self, segments: Vec<Segment>) -> Result<(), AuditError> {
        let mut done: Vec<(LogFile, File, u64, bool)> = Vec::new();
        let mut last_len = 0u64;
        for seg in segments {
            let path = self.opts.dir.join(seg.file.name());
            let opened = if seg.new {
                self.open_new(&path).map(|h| (h, 0))
            } else {
                self.current
                    .take()
                    .map(|c| (c.handle, c.size))
                    .ok_or_else(|| missing(&path))
            };
            let (handle, size) = match opened {
                Ok(opened) => opened,
                Err(e) => {
                    self.undo(done);
                    return Err(e);
                }
            };
            let written =
                write_all(&handle, &seg.bytes).map_err(AuditError::at("append to", &path));
            last_len = seg.bytes.len() as u64;
            done.push((seg.file, handle, size, seg.new));
            if let Err(e) = written {
                self.undo(done);
                return Err(e);
            }
            if self.opts.durability != Durability::Never && self.deferred.is_some() {
                let handle = done.last().map(|(_, h, _, _)| h.try_clone());
                if let (Some(Ok(handle)), Some(pending)) = (handle, &mut self.deferred) {
                    pending.files.push((handle, path.clone()));
                    pending.dir |= seg.new;
                }
            } else if self.opts.durability != Durability::Never {
                let synced = done
                    .last()
                    .map_or(Ok(()), |(_, h, _, _)| lock::data_sync(h, &path))
                    .and_then(|()| {
                        if seg.new {
                            lock::sync_dir(&self.opts.dir)
                        } else {
                            Ok(())
                        }
                    });
                if let Err(e) = synced {
                    self.undo(done);
                    return Err(e);
                }
            }
        }
        if let Some((file, handle, size, _)) = done.pop() {
            // Under the lock nobody else appends: the new size is the old one plus what we wrote.
            let size = size + last_len;
            self.current = Some(Current { file, handle, size });
        }
        Ok(())
    }

    /// Opens a file the batch creates; it must not hold anything yet.
    fn open_new(&self, path: &Path) -> Result<File, AuditError> {
        let handle = secure::open(path, Access::Append)?.ok_or_else(|| missing(path))?;
        let len = handle
            .metadata()
            .map_err(AuditError::at("stat", path))?
            .len();
        if len != 0 {
            return Err(AuditError::Broken {
                file: path.to_path_buf(),
                line: 0,
                problem: "a newer log file appeared while this writer held the lock".into(),
            });
        }
        Ok(handle)
    }

    /// Truncates every touched file back and removes the ones the batch created; the writer then
    /// re-reads the log before its next append.
    fn undo(&mut self, done: Vec<(LogFile, File, u64, bool)>) {
        for (file, handle, size, new) in done.into_iter().rev() {
            let path = self.opts.dir.join(file.name());
            let _ = handle.set_len(size);
            if new {
                let _ = std::fs::remove_file(&path);
            }
        }
        self.known = false;
        self.current = None;
    }

    /// The state file, the anchor and a checkpoint when due: hints and extras, which never fail
    /// an append that is already in the chain.
    fn after_write(&mut self, before: u64) {
        let result = self.write_state();
        self.note(result);
        if self.count / 100 > before / 100 {
            let result = self.write_anchor();
            self.note(result);
        }
        if self.checkpoint_due() {
            let result = self.sign_checkpoint();
            self.note(result);
        }
    }

    fn note(&mut self, result: Result<(), AuditError>) {
        if let Err(e) = result {
            self.notices.push(Notice::SideEffectFailed(e));
        }
    }

    fn write_state(&mut self) -> Result<(), AuditError> {
        let (current_file, current_size) = self
            .current
            .as_ref()
            .map(|c| (c.file.name(), c.size))
            .unwrap_or_default();
        let st = State {
            version: 1,
            event_count: self.count,
            last_hash: self.head.hash.clone(),
            current_file,
            current_size,
            last_event_file: self.head.file.map(|f| f.name()).unwrap_or_default(),
            last_event_start: self.head.start,
            last_event_size: self.head.len,
            rampart: Some(Extra {
                tree: self.tree_hex(),
                last_tool_call_id: self.last_tool_call_id.clone(),
                checkpoint_size: self.checkpoint_at.0,
                checkpoint_unix: self.checkpoint_at.1,
            }),
        };
        self.state.write(&st)
    }

    /// The frontier in hex, re-encoding only the nodes that changed since the last call.
    fn tree_hex(&mut self) -> Vec<String> {
        let nodes = self.frontier.nodes();
        self.tree_cache.truncate(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            match self.tree_cache.get_mut(i) {
                Some((hash, _)) if hash == node => {}
                Some(slot) => *slot = (*node, state::hex(node)),
                None => self.tree_cache.push((*node, state::hex(node))),
            }
        }
        self.tree_cache.iter().map(|(_, hex)| hex.clone()).collect()
    }

    fn write_anchor(&self) -> Result<(), AuditError> {
        let anchor = serde_json::json!({
            "event_id": self.last_id,
            "hash": self.head.hash,
            "event_count": self.count,
            "timestamp": Timestamp::now().rfc3339_nano(),
            "file": self.head.file.map(|f| f.name()).unwrap_or_default(),
        });
        secure::replace(
            &self.opts.dir.join(layout::ANCHOR),
            anchor.to_string().as_bytes(),
        )
    }

    fn checkpoint_due(&self) -> bool {
        let Some(policy) = &self.opts.checkpoints else {
            return false;
        };
        let (size, at) = self.checkpoint_at;
        let age = Timestamp::now().secs.saturating_sub(at);
        self.count > size
            && (self.count - size >= policy.every_records
                || age >= i64::try_from(policy.every.as_secs()).unwrap_or(i64::MAX))
    }

    fn sign_checkpoint(&mut self) -> Result<(), AuditError> {
        let (count, root, dir) = (self.count, self.frontier.root(), self.opts.dir.clone());
        let Some(key) = self.key()? else {
            return Ok(());
        };
        let origin = checkpoint::origin(key.name(), &dir);
        let cp = key.sign(&origin, count, &root);
        let now = Timestamp::now();
        checkpoint::append(&dir, &cp, &now.rfc3339_nano())?;
        self.checkpoint_at = (count, now.secs);
        let result = self.write_state();
        self.note(result);
        Ok(())
    }
}

/// The tree size and time of the last stored checkpoint, `(0, 0)` when there is none.
fn last_stored_checkpoint(dir: &Path) -> (u64, i64) {
    let stored = checkpoint::stored(dir).unwrap_or_default();
    stored
        .last()
        .and_then(|(time, note)| {
            let cp = checkpoint::Checkpoint::open_unverified(note).ok()?;
            let at = Timestamp::parse_rfc3339(time).map_or(0, |t| t.secs);
            Some((cp.size, at))
        })
        .unwrap_or((0, 0))
}

#[derive(serde::Deserialize)]
struct Ids {
    #[serde(default)]
    id: String,
    #[serde(default)]
    tool_call_id: String,
}

/// `write(2)` until everything is written (`O_APPEND` puts each chunk at the end).
fn write_all(mut handle: &File, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    handle.write_all(bytes)
}

/// The position of the last newline strictly before `end`.
fn last_newline(handle: &File, path: &Path, end: u64) -> Result<Option<u64>, AuditError> {
    let mut chunk = 4096u64;
    let mut hi = end;
    while hi > 0 {
        let lo = hi.saturating_sub(chunk);
        let mut buf = vec![0u8; usize::try_from(hi - lo).unwrap_or(0)];
        handle
            .read_exact_at(&mut buf, lo)
            .map_err(AuditError::at("read", path))?;
        if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(lo + i as u64));
        }
        hi = lo;
        chunk = (chunk * 2).min(1 << 20);
    }
    Ok(None)
}
