//! Walking the log's files line by line: the one reader that verify, the writer's recovery and the
//! readers share.
//!
//! Files are read whole (a day file is at most the rotation size) and split on newlines; a final
//! line without its newline is a torn append from a crashed writer, reported as such and never
//! taken for a record.

use std::io::Read;
use std::path::Path;

use rampart_runtime::invariant::or_closed;

use crate::error::AuditError;
use crate::layout::LogFile;
use crate::secure::{self, Access};

/// One line of a log file.
pub struct RawLine<'a> {
    /// 1-based.
    pub number: u64,
    /// Byte offset of the line's first byte.
    pub start: u64,
    /// Without the newline.
    pub bytes: &'a [u8],
}

/// A log file's content.
pub struct FileContent {
    pub file: LogFile,
    pub bytes: Vec<u8>,
    /// Bytes after the last newline (a torn append), if any.
    pub torn: usize,
}

impl FileContent {
    /// Reads `file` from `dir` (refusing links and foreign files).
    pub fn read(dir: &Path, file: LogFile) -> Result<FileContent, AuditError> {
        FileContent::read_from(dir, file, 0)
    }

    /// Reads `file` from byte `offset` on.
    pub fn read_from(dir: &Path, file: LogFile, offset: u64) -> Result<FileContent, AuditError> {
        use std::io::{Seek, SeekFrom};
        let path = dir.join(file.name());
        let mut handle = secure::open(&path, Access::Read)?.ok_or_else(|| AuditError::Io {
            op: "read",
            path: path.clone(),
            kind: std::io::ErrorKind::NotFound,
            message: "the file vanished".into(),
        })?;
        let mut bytes = Vec::new();
        handle
            .seek(SeekFrom::Start(offset))
            .and_then(|_| handle.read_to_end(&mut bytes))
            .map_err(AuditError::at("read", &path))?;
        let torn = bytes.iter().rev().take_while(|&&b| b != b'\n').count();
        Ok(FileContent { file, bytes, torn })
    }

    /// The bytes of the complete lines: all but the torn tail. (`torn` counts bytes at the end,
    /// so it is never more than all of them; were it, every byte, and the torn tail shows up as
    /// a line that does not parse rather than the file as empty.)
    pub fn complete(&self) -> &[u8] {
        let whole = self.bytes.len().checked_sub(self.torn);
        or_closed(whole.and_then(|n| self.bytes.get(..n)), &self.bytes)
    }

    /// The complete lines, in order. Offsets count from where the read started.
    pub fn lines(&self) -> impl Iterator<Item = RawLine<'_>> {
        let mut start = 0u64;
        self.complete()
            .split_inclusive(|&b| b == b'\n')
            .enumerate()
            .map(move |(i, chunk)| {
                let line = RawLine {
                    number: i as u64 + 1,
                    start,
                    bytes: chunk.strip_suffix(b"\n").unwrap_or(chunk),
                };
                start += chunk.len() as u64;
                line
            })
    }
}
