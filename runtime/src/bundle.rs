//! The `policy.bin` container: one file that every decider maps and reads in place.
//!
//! Why a hand-written container rather than one serialized struct: the dense DFAs must be read
//! zero-copy from the mapping (they need 4-byte alignment, so every section starts at a 64-byte
//! boundary), and the rule tables are read in place too, as fixed-width little-endian records
//! ([`crate::program::flat`]); only the metadata, which deciding never reads, is decoded
//! (postcard). A fixed little-endian header says what the file is before anything else is
//! trusted.
//!
//! Opening must cost next to nothing (the preload opens a bundle in every process), so the file
//! has a handful of sections whatever the policy: the hundreds of small sparse DFAs share one
//! section and an index, the program's long lists (atom numbers, confirm triples) lie in a
//! section of words, and its policies and rules are records: all read in place, none decoded.
//!
//! Layout:
//!
//! ```text
//! [header: 80 bytes][section table: 24 bytes x count][pad][section 0][pad][section 1]...
//! ```
//!
//! The header's sha256 covers every byte after the header. [`Bundle::open`] checks it, the section
//! bounds and every DFA; [`Bundle::open_unchecked`] (for the preload, where validation per process
//! would cost more than the spawn budget) checks only the header and the bounds.

use alloc::vec::Vec;
use core::fmt;

use regex_automata::dfa::{dense, sparse};
use sha2::{Digest, Sha256};

use crate::invariant::or_closed;

/// The first eight bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"RAMPART\0";
/// Bumped whenever the container or the program encoding changes incompatibly.
pub const FORMAT_VERSION: u32 = 13;
/// The serialized DFA wire format belongs to regex-automata 0.4; a bundle built by another major
/// version must be recompiled, not misread.
pub const AUTOMATA_VERSION: [u8; 16] = *b"regex-automata/4";
/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 80;
/// Size of one section table entry in bytes.
pub const SECTION_ENTRY_LEN: usize = 24;
/// Every section starts at a multiple of this (dense DFAs need 4; a cache line is friendlier).
pub const SECTION_ALIGN: usize = 64;
/// A sanity cap on the section count, so a corrupt header cannot make us allocate wildly.
const MAX_SECTIONS: u32 = 1 << 16;

/// Flag: exec decisions under this bundle need the server (the preload must not decide alone).
pub const FLAG_EXEC_NEEDS_SERVER: u32 = 1;
/// Every flag this version understands; others make the header corrupt.
const KNOWN_FLAGS: u32 = FLAG_EXEC_NEEDS_SERVER;

/// What a section holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum SectionKind {
    /// Every dense DFA, serialized little-endian with its padding stripped, each at an 8-byte
    /// aligned offset (dense DFAs are read in place as u32s). Located through
    /// [`SectionKind::DenseIndex`].
    DenseDfas = 1,
    /// The rule tables and atom layout as fixed-width records ([`crate::program::flat`]), read in
    /// place through [`crate::program::ProgramView`].
    Program = 2,
    /// Names, pattern texts and the source map for explain ([`crate::program::Metadata`], postcard).
    Metadata = 3,
    /// Every sparse DFA, serialized little-endian and back to back: 10-40x smaller than dense for
    /// big literal-like and anchored pattern sets, and any byte offset will do. Located through
    /// [`SectionKind::SparseIndex`].
    SparseDfas = 4,
    /// Where each dense DFA lies in [`SectionKind::DenseDfas`]: (offset, length) pairs of
    /// little-endian u32s, by DFA number.
    DenseIndex = 5,
    /// The same for [`SectionKind::SparseDfas`].
    SparseIndex = 6,
    /// Little-endian u32 words the program refers to by span ([`crate::program::Words`]).
    Words = 7,
}

impl SectionKind {
    fn from_u32(v: u32) -> Option<SectionKind> {
        use SectionKind::*;
        [
            DenseDfas,
            Program,
            Metadata,
            SparseDfas,
            DenseIndex,
            SparseIndex,
            Words,
        ]
        .into_iter()
        .find(|k| *k as u32 == v)
    }
}

/// How a DFA is stored; the compiler picks per DFA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DfaForm {
    /// Fastest to search; a state costs its whole alphabet (up to 1 KiB).
    Dense,
    /// A state costs its live transitions only: much smaller for big tries of literals, a few
    /// times slower per byte.
    Sparse,
}

impl DfaForm {
    /// The pack and index sections of this form.
    fn sections(self) -> (SectionKind, SectionKind) {
        match self {
            DfaForm::Dense => (SectionKind::DenseDfas, SectionKind::DenseIndex),
            DfaForm::Sparse => (SectionKind::SparseDfas, SectionKind::SparseIndex),
        }
    }

    /// Alignment of a DFA's offset within its pack (relative to the 64-aligned section).
    fn align(self) -> usize {
        match self {
            DfaForm::Dense => 8,
            DfaForm::Sparse => 1,
        }
    }
}

/// The fixed header, as it lies on disk (all integers little-endian). It is parsed field by
/// field rather than cast, so a misaligned or short buffer is an error, not undefined behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Header {
    pub magic: [u8; 8],
    pub format_version: u32,
    pub flags: u32,
    pub section_count: u32,
    pub reserved: u32,
    pub automata_version: [u8; 16],
    /// Number of bytes after the header (the whole file is `HEADER_LEN + payload_len`).
    pub payload_len: u64,
    /// sha256 of the payload.
    pub payload_sha256: [u8; 32],
}

/// One entry of the section table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Section {
    pub kind: SectionKind,
    /// Index among the sections of the same kind (DFA number).
    pub index: u32,
    /// Offset from the start of the file.
    pub offset: u64,
    pub len: u64,
}

/// Why a bundle could not be opened. Every variant is a clear one-line message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// Shorter than the header or than the length the header announces.
    Truncated {
        needed: u64,
        got: u64,
    },
    /// Not a rampart bundle at all.
    BadMagic,
    UnsupportedVersion(u32),
    /// Reserved header fields or unknown flags are set (written by a newer rampart, or corrupt).
    CorruptHeader(&'static str),
    AutomataVersion,
    /// Longer than the header announces (something was appended or the header is corrupt).
    TrailingBytes {
        expected: u64,
        got: u64,
    },
    ChecksumMismatch,
    BadSectionTable(&'static str),
    MissingSection(&'static str),
    /// A DFA section failed validation.
    BadAutomaton {
        index: u32,
    },
    /// The program section's length is not what its counts announce.
    ProgramUndecodable,
    /// The program's records do not match the bundle: a wrong number of fields, a reference to
    /// an automaton, a word list, a list or a text the bundle does not hold, or an unknown code.
    ProgramReferences,
    /// The metadata section (names, pattern texts, source map) did not decode.
    MetadataUndecodable,
    /// The buffer is not 4-byte aligned (read files into [`AlignedBuf`] or map them).
    Misaligned,
    /// Dense DFAs are stored little-endian; this host is not.
    BigEndianHost,
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use BundleError::*;
        match self {
            Truncated { needed, got } => write!(
                f,
                "policy bundle is truncated: needs {needed} bytes, has {got}; recompile it"
            ),
            BadMagic => f.write_str("not a rampart policy bundle (bad magic); run `rampart compile`"),
            UnsupportedVersion(v) => write!(
                f,
                "policy bundle format version {v} is not supported (expected {FORMAT_VERSION}); recompile it"
            ),
            CorruptHeader(why) => write!(f, "policy bundle header is corrupt: {why}; recompile it"),
            AutomataVersion => f.write_str(
                "policy bundle was built by an incompatible regex-automata version; recompile it",
            ),
            TrailingBytes { expected, got } => write!(
                f,
                "policy bundle has {got} bytes but its header announces {expected}; recompile it"
            ),
            ChecksumMismatch => f.write_str("policy bundle checksum mismatch: the file is corrupt"),
            BadSectionTable(why) => write!(f, "policy bundle section table is corrupt: {why}"),
            MissingSection(what) => write!(f, "policy bundle has no {what} section"),
            BadAutomaton { index } => write!(f, "policy bundle automaton {index} is corrupt"),
            ProgramUndecodable => f.write_str("policy bundle program section does not decode"),
            ProgramReferences => f.write_str(
                "policy bundle program refers to automata or word lists the bundle does not hold",
            ),
            MetadataUndecodable => f.write_str("policy bundle metadata section does not decode"),
            Misaligned => f.write_str("policy bundle buffer is not 4-byte aligned"),
            BigEndianHost => f.write_str("policy bundles are little-endian; this host is big-endian"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BundleError {}

/// A view of a bundle in memory (a mapping or an aligned buffer). Cheap to copy around by
/// reference; the evaluator borrows it.
#[derive(Clone, Debug)]
pub struct Bundle<'a> {
    bytes: &'a [u8],
    header: Header,
    sections: Vec<Section>,
}

impl<'a> Bundle<'a> {
    /// Opens and fully validates a bundle: header, lengths, sha256, every DFA and every reference
    /// the program makes.
    pub fn open(bytes: &'a [u8]) -> Result<Bundle<'a>, BundleError> {
        let bundle = Self::parse(bytes)?;
        let payload = bytes.get(HEADER_LEN..).ok_or(BundleError::Truncated {
            needed: HEADER_LEN as u64,
            got: bytes.len() as u64,
        })?;
        let digest = Sha256::digest(payload);
        if digest.as_slice() != bundle.header.payload_sha256.as_slice() {
            return Err(BundleError::ChecksumMismatch);
        }
        for index in 0..bundle.dfa_count(DfaForm::Dense) {
            let bad = BundleError::BadAutomaton { index };
            let data = bundle.dfa_bytes(DfaForm::Dense, index).ok_or(bad.clone())?;
            dense::DFA::from_bytes(data).map_err(|_| bad)?;
        }
        for index in 0..bundle.dfa_count(DfaForm::Sparse) {
            let bad = BundleError::BadAutomaton { index };
            let data = bundle
                .dfa_bytes(DfaForm::Sparse, index)
                .ok_or(bad.clone())?;
            match sparse::DFA::from_bytes(data) {
                Ok((_, read)) if read == data.len() => {}
                _ => return Err(bad),
            }
        }
        // The program's references, record by record: `Evaluator::new` checks only that its
        // tables lie in the words section, so that an unchecked open does not pay for this.
        crate::eval::check_program(&bundle)?;
        Ok(bundle)
    }

    /// Opens a bundle checking only the header, the section table and the bounds.
    ///
    /// # Safety
    ///
    /// The bytes must be a bundle written by [`BundleWriter`] of this crate version and not
    /// modified since (the compiler writes it atomically, owned by the user or root). The DFAs
    /// are later read with `from_bytes_unchecked`; corrupt DFA bytes are undefined behaviour.
    /// The program's records are not: they are read with checked reads only, and what an
    /// unchecked open leaves unchecked in them (a text, a list, a code) reads empty, short or as
    /// deny (see [`crate::program::flat`]), never out of bounds.
    pub unsafe fn open_unchecked(bytes: &'a [u8]) -> Result<Bundle<'a>, BundleError> {
        Self::parse(bytes)
    }

    /// The header fields.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The section table.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Whether exec decisions need the server ([`FLAG_EXEC_NEEDS_SERVER`]).
    pub fn exec_needs_server(&self) -> bool {
        self.header.flags & FLAG_EXEC_NEEDS_SERVER != 0
    }

    /// The bytes of the first section of `kind`.
    pub fn section(&self, kind: SectionKind) -> Option<&'a [u8]> {
        self.sections
            .iter()
            .find(|s| s.kind == kind)
            .map(|s| self.section_bytes(s))
    }

    /// How many DFAs of `form` the bundle holds.
    pub fn dfa_count(&self, form: DfaForm) -> u32 {
        self.section(form.sections().1)
            .map_or(0, |index| (index.len() / 8) as u32)
    }

    /// The bytes of DFA number `index` of `form`, if its index entry lies within the pack.
    pub fn dfa_bytes(&self, form: DfaForm, index: u32) -> Option<&'a [u8]> {
        let (pack, entries) = self.dfa_pack(form);
        pack_entry(pack, entries, index)
    }

    /// The pack and index sections of `form` (empty when the bundle has none of that form).
    pub fn dfa_pack(&self, form: DfaForm) -> (&'a [u8], &'a [u8]) {
        let (pack, index) = form.sections();
        (
            self.section(pack).unwrap_or(&[]),
            self.section(index).unwrap_or(&[]),
        )
    }

    /// The bytes of a section of this bundle's table.
    pub fn section_bytes(&self, s: &Section) -> &'a [u8] {
        // Bounds were checked in parse(). Were they not, an empty section fails closed: the
        // program's view refuses a section shorter than its counts, the words do not hold the
        // program's references, and a DFA that does not load marks the evaluator broken.
        let start = s.offset as usize;
        or_closed(self.bytes.get(start..start + s.len as usize), &[])
    }

    fn parse(bytes: &'a [u8]) -> Result<Bundle<'a>, BundleError> {
        if cfg!(target_endian = "big") {
            return Err(BundleError::BigEndianHost);
        }
        if (bytes.as_ptr() as usize) & 3 != 0 {
            return Err(BundleError::Misaligned);
        }
        let header = parse_header(bytes)?;
        let expected = HEADER_LEN as u64 + header.payload_len;
        let got = bytes.len() as u64;
        if got < expected {
            return Err(BundleError::Truncated {
                needed: expected,
                got,
            });
        }
        if got > expected {
            return Err(BundleError::TrailingBytes { expected, got });
        }
        let sections = parse_sections(bytes, header.section_count)?;
        let bundle = Bundle {
            bytes,
            header,
            sections,
        };
        for (kind, name) in [
            (SectionKind::Program, "program"),
            (SectionKind::Metadata, "metadata"),
        ] {
            if bundle.section(kind).is_none() {
                return Err(BundleError::MissingSection(name));
            }
        }
        Ok(bundle)
    }
}

/// DFA `index` of `pack`, located by the (offset, length) pairs of `entries`.
pub fn pack_entry<'a>(pack: &'a [u8], entries: &[u8], index: u32) -> Option<&'a [u8]> {
    let at = (index as usize).checked_mul(8)?;
    let entry = entries.get(at..at + 8)?;
    let word = |i: usize| entry.get(i..i + 4).and_then(|b| b.try_into().ok());
    let offset = u32::from_le_bytes(word(0)?) as usize;
    let len = u32::from_le_bytes(word(4)?) as usize;
    pack.get(offset..offset.checked_add(len)?)
}

/// A little-endian reader over a byte slice that reports truncation instead of panicking.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], BundleError> {
        let end = self.pos + N;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(BundleError::Truncated {
                needed: end as u64,
                got: self.bytes.len() as u64,
            })?;
        self.pos = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, BundleError> {
        self.take::<4>().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, BundleError> {
        self.take::<8>().map(u64::from_le_bytes)
    }
}

fn parse_header(bytes: &[u8]) -> Result<Header, BundleError> {
    if bytes.len() < HEADER_LEN {
        // A foreign short file should say "not a bundle" when its first bytes already disagree.
        let n = bytes.len().min(MAGIC.len());
        if bytes.get(..n) != MAGIC.get(..n) {
            return Err(BundleError::BadMagic);
        }
        return Err(BundleError::Truncated {
            needed: HEADER_LEN as u64,
            got: bytes.len() as u64,
        });
    }
    let mut r = Reader { bytes, pos: 0 };
    let magic = r.take::<8>()?;
    if magic != MAGIC {
        return Err(BundleError::BadMagic);
    }
    let format_version = r.u32()?;
    if format_version != FORMAT_VERSION {
        return Err(BundleError::UnsupportedVersion(format_version));
    }
    let header = Header {
        magic,
        format_version,
        flags: r.u32()?,
        section_count: r.u32()?,
        reserved: r.u32()?,
        automata_version: r.take::<16>()?,
        payload_len: r.u64()?,
        payload_sha256: r.take::<32>()?,
    };
    if header.flags & !KNOWN_FLAGS != 0 {
        return Err(BundleError::CorruptHeader("unknown flags"));
    }
    if header.reserved != 0 {
        return Err(BundleError::CorruptHeader("reserved field is not zero"));
    }
    if header.automata_version != AUTOMATA_VERSION {
        return Err(BundleError::AutomataVersion);
    }
    Ok(header)
}

fn parse_sections(bytes: &[u8], count: u32) -> Result<Vec<Section>, BundleError> {
    if count > MAX_SECTIONS {
        return Err(BundleError::BadSectionTable("too many sections"));
    }
    let table_end = HEADER_LEN + count as usize * SECTION_ENTRY_LEN;
    if table_end > bytes.len() {
        return Err(BundleError::BadSectionTable("table runs past the end"));
    }
    let mut r = Reader {
        bytes,
        pos: HEADER_LEN,
    };
    let mut sections = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let kind = SectionKind::from_u32(r.u32()?)
            .ok_or(BundleError::BadSectionTable("unknown section kind"))?;
        let section = Section {
            kind,
            index: r.u32()?,
            offset: r.u64()?,
            len: r.u64()?,
        };
        check_section_bounds(&section, table_end as u64, bytes.len() as u64)?;
        sections.push(section);
    }
    Ok(sections)
}

fn check_section_bounds(s: &Section, table_end: u64, file_len: u64) -> Result<(), BundleError> {
    if s.offset & (SECTION_ALIGN as u64 - 1) != 0 {
        return Err(BundleError::BadSectionTable("misaligned section"));
    }
    if s.offset < table_end {
        return Err(BundleError::BadSectionTable("section overlaps the table"));
    }
    match s.offset.checked_add(s.len) {
        Some(end) if end <= file_len => Ok(()),
        _ => Err(BundleError::BadSectionTable("section runs past the end")),
    }
}

/// Assembles a bundle: sections are added in order, then [`BundleWriter::finish`] lays them out
/// aligned and seals the header. The compiler is its only real user; tests use it to craft files.
#[derive(Debug, Default)]
pub struct BundleWriter {
    flags: u32,
    sections: Vec<(SectionKind, u32, Vec<u8>)>,
    /// (pack, index) per [`DfaForm`]: dense, sparse.
    packs: [(Vec<u8>, Vec<u8>); 2],
}

impl BundleWriter {
    pub fn new(flags: u32) -> BundleWriter {
        BundleWriter {
            flags,
            ..BundleWriter::default()
        }
    }

    /// Adds a section.
    pub fn add(&mut self, kind: SectionKind, data: Vec<u8>) -> u32 {
        let index = self.sections.iter().filter(|(k, _, _)| *k == kind).count() as u32;
        self.sections.push((kind, index, data));
        index
    }

    /// Adds a serialized DFA to the pack of its form; returns its number among that form's DFAs.
    pub fn add_dfa(&mut self, form: DfaForm, data: &[u8]) -> u32 {
        let (pack, index) = self.pack(form);
        let number = (index.len() / 8) as u32;
        pack.resize(pack.len().next_multiple_of(form.align()), 0);
        index.extend_from_slice(&(pack.len() as u32).to_le_bytes());
        index.extend_from_slice(&(data.len() as u32).to_le_bytes());
        pack.extend_from_slice(data);
        number
    }

    /// The finished file.
    pub fn finish(mut self) -> Vec<u8> {
        for form in [DfaForm::Dense, DfaForm::Sparse] {
            let (pack, index) = core::mem::take(self.pack(form));
            if !index.is_empty() {
                let (pack_kind, index_kind) = form.sections();
                self.add(pack_kind, pack);
                self.add(index_kind, index);
            }
        }
        let count = self.sections.len();
        let table_end = HEADER_LEN + count * SECTION_ENTRY_LEN;
        // The payload is everything after the header: the section table, then the sections at
        // their aligned offsets (counted from the start of the file).
        let mut payload = Vec::with_capacity(count * SECTION_ENTRY_LEN);
        let mut offset = align_up(table_end);
        for (kind, index, data) in &self.sections {
            payload.extend_from_slice(&(*kind as u32).to_le_bytes());
            payload.extend_from_slice(&index.to_le_bytes());
            payload.extend_from_slice(&(offset as u64).to_le_bytes());
            payload.extend_from_slice(&(data.len() as u64).to_le_bytes());
            offset = align_up(offset + data.len());
        }
        payload.resize(align_up(table_end) - HEADER_LEN, 0);
        for (_, _, data) in &self.sections {
            payload.resize(align_up(HEADER_LEN + payload.len()) - HEADER_LEN, 0);
            payload.extend_from_slice(data);
        }
        let payload_len = payload.len() as u64;
        let digest = Sha256::digest(&payload);
        let mut file = Vec::with_capacity(HEADER_LEN + payload.len());
        file.extend_from_slice(&MAGIC);
        file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        file.extend_from_slice(&self.flags.to_le_bytes());
        file.extend_from_slice(&(count as u32).to_le_bytes());
        file.extend_from_slice(&0u32.to_le_bytes());
        file.extend_from_slice(&AUTOMATA_VERSION);
        file.extend_from_slice(&payload_len.to_le_bytes());
        file.extend_from_slice(digest.as_slice());
        file.extend_from_slice(&payload);
        file
    }

    /// The (pack, index) pair of `form`.
    fn pack(&mut self, form: DfaForm) -> &mut (Vec<u8>, Vec<u8>) {
        let [dense, sparse] = &mut self.packs;
        match form {
            DfaForm::Dense => dense,
            DfaForm::Sparse => sparse,
        }
    }
}

fn align_up(n: usize) -> usize {
    n.div_ceil(SECTION_ALIGN) * SECTION_ALIGN
}

/// A heap copy of a bundle with the 8-byte alignment dense DFAs need (a `Vec<u8>` only promises 1).
#[derive(Clone, Debug, Default)]
pub struct AlignedBuf {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBuf {
    pub fn from_bytes(bytes: &[u8]) -> AlignedBuf {
        let mut words = alloc::vec![0u64; bytes.len().div_ceil(8)];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut b = [0u8; 8];
            b.iter_mut().zip(chunk).for_each(|(to, from)| *to = *from);
            *word = u64::from_ne_bytes(b);
        }
        AlignedBuf {
            words,
            len: bytes.len(),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the u64 buffer holds at least `len` initialised bytes, and u8 has no alignment
        // or validity requirements.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.len) }
    }
}

/// A bundle in memory this process owns: compiled in this process (by `rampart_compiler::compile`)
/// or received as bytes. The owned twin of [`MappedBundle`]: both give the one way from bytes to
/// an [`Evaluator`](crate::eval::Evaluator), [`OwnedBundle::evaluator`].
#[cfg(feature = "std")]
#[derive(Clone, Debug)]
pub struct OwnedBundle {
    buf: AlignedBuf,
}

#[cfg(feature = "std")]
impl OwnedBundle {
    /// Copies `bytes` to memory aligned for the DFAs and validates them fully (see
    /// [`Bundle::open`]).
    pub fn open(bytes: &[u8]) -> Result<OwnedBundle, BundleError> {
        let buf = AlignedBuf::from_bytes(bytes);
        Bundle::open(buf.as_bytes())?;
        Ok(OwnedBundle { buf })
    }

    /// Copies `bytes` to aligned memory, checking only the header, the section table and the
    /// bounds (see [`Bundle::open_unchecked`]): for a bundle this very process just compiled,
    /// where validating the checksum and every DFA would only repeat what the compiler did.
    ///
    /// # Safety
    ///
    /// As for [`Bundle::open_unchecked`]: the bytes were written by [`BundleWriter`] of this crate
    /// version and not modified since.
    pub unsafe fn open_unchecked(bytes: &[u8]) -> Result<OwnedBundle, BundleError> {
        let buf = AlignedBuf::from_bytes(bytes);
        // SAFETY: the caller's promise about `bytes`, which `buf` copies exactly.
        unsafe { Bundle::open_unchecked(buf.as_bytes()) }?;
        Ok(OwnedBundle { buf })
    }

    /// The bundle view (re-parses the header and table only; opening checked the rest).
    pub fn bundle(&self) -> Result<Bundle<'_>, BundleError> {
        // SAFETY: `open` validated exactly these bytes, or the caller of `open_unchecked` vouched
        // for them, and the buffer is never written after.
        unsafe { Bundle::open_unchecked(self.buf.as_bytes()) }
    }

    /// The bundle's bytes, aligned.
    pub fn bytes(&self) -> &[u8] {
        self.buf.as_bytes()
    }

    /// An evaluator over the bundle.
    pub fn evaluator(&self) -> Result<crate::eval::Evaluator<'_>, BundleError> {
        crate::eval::Evaluator::new(&self.bundle()?)
    }
}

/// A bundle mapped from a file, owning the mapping. The server and CLI open bundles this way.
#[cfg(feature = "std")]
pub struct MappedBundle {
    map: memmap2::Mmap,
}

#[cfg(feature = "std")]
impl MappedBundle {
    /// Maps `path` and validates it fully (see [`Bundle::open`]).
    pub fn open(path: &std::path::Path) -> Result<MappedBundle, MappedBundleError> {
        let file = std::fs::File::open(path).map_err(MappedBundleError::Io)?;
        // SAFETY: bundles are replaced by rename, never truncated in place (see compiler::write),
        // so the mapping stays valid for its lifetime.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(MappedBundleError::Io)?;
        Bundle::open(&map).map_err(MappedBundleError::Bundle)?;
        Ok(MappedBundle { map })
    }

    /// Maps `path` checking only the header, the section table and the bounds (see
    /// [`Bundle::open_unchecked`]): for a cached bundle a process of this build wrote, where the
    /// full validation (~10 ms for the standard profile) would cost a hook its whole budget.
    ///
    /// # Safety
    ///
    /// As for [`Bundle::open_unchecked`]: the file was written by [`BundleWriter`] of this crate
    /// version, atomically, and not modified since.
    pub unsafe fn open_unchecked(
        path: &std::path::Path,
    ) -> Result<MappedBundle, MappedBundleError> {
        let file = std::fs::File::open(path).map_err(MappedBundleError::Io)?;
        // SAFETY: as in `open`: bundles are replaced by rename, never truncated in place.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(MappedBundleError::Io)?;
        // SAFETY: the caller's promise about the file's bytes.
        unsafe { Bundle::open_unchecked(&map) }.map_err(MappedBundleError::Bundle)?;
        Ok(MappedBundle { map })
    }

    /// The bundle view (re-parses the header and table only; opening checked the rest).
    pub fn bundle(&self) -> Result<Bundle<'_>, BundleError> {
        // SAFETY: `open` validated exactly these bytes, or the caller of `open_unchecked` vouched
        // for them, and the mapping is read-only.
        unsafe { Bundle::open_unchecked(&self.map) }
    }

    /// The raw bytes of the mapping.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// An evaluator over the mapping.
    pub fn evaluator(&self) -> Result<crate::eval::Evaluator<'_>, BundleError> {
        crate::eval::Evaluator::new(&self.bundle()?)
    }
}

/// Opening a mapped bundle fails either on I/O or on the bundle itself.
#[cfg(feature = "std")]
#[derive(Debug)]
pub enum MappedBundleError {
    Io(std::io::Error),
    Bundle(BundleError),
}

#[cfg(feature = "std")]
impl fmt::Display for MappedBundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappedBundleError::Io(e) => write!(f, "cannot map policy bundle: {e}"),
            MappedBundleError::Bundle(e) => e.fmt(f),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MappedBundleError {}
