//! The container format alone: sections laid out aligned, and malformed tables refused.

use rampart_runtime::bundle::{
    AlignedBuf, Bundle, BundleError, BundleWriter, SectionKind, FLAG_EXEC_NEEDS_SERVER, HEADER_LEN,
    SECTION_ALIGN,
};

fn sample() -> Vec<u8> {
    let mut w = BundleWriter::new(FLAG_EXEC_NEEDS_SERVER);
    w.add(SectionKind::Program, b"program bytes".to_vec());
    w.add(SectionKind::Metadata, vec![7; 100]);
    w.finish()
}

#[test]
fn sections_are_aligned_and_readable() {
    let buf = AlignedBuf::from_bytes(&sample());
    // SAFETY: the sample holds no DFA, so nothing is ever read unchecked. (The validated open
    // refuses it: its program section is not a program.)
    let b = unsafe { Bundle::open_unchecked(buf.as_bytes()) }.unwrap();
    assert!(b.exec_needs_server());
    assert_eq!(b.section(SectionKind::Program), Some(&b"program bytes"[..]));
    assert_eq!(b.section(SectionKind::Metadata).map(<[u8]>::len), Some(100));
    for s in b.sections() {
        assert_eq!(s.offset as usize % SECTION_ALIGN, 0);
    }
    assert_eq!(b.header().section_count, 2);
}

#[test]
fn missing_sections_and_bad_tables_are_errors() {
    let mut w = BundleWriter::new(0);
    w.add(SectionKind::Program, vec![1]);
    let buf = AlignedBuf::from_bytes(&w.finish());
    assert_eq!(
        Bundle::open(buf.as_bytes()).unwrap_err(),
        BundleError::MissingSection("metadata")
    );

    // A section pointing past the end, with a valid checksum, is still refused.
    let mut bytes = sample();
    let len_field = HEADER_LEN + 16;
    bytes[len_field..len_field + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    let reseal = |bytes: &mut Vec<u8>| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&bytes[HEADER_LEN..]);
        bytes[48..80].copy_from_slice(digest.as_slice());
    };
    reseal(&mut bytes);
    let buf = AlignedBuf::from_bytes(&bytes);
    let err = Bundle::open(buf.as_bytes()).unwrap_err();
    assert!(matches!(err, BundleError::BadSectionTable(_)), "{err}");

    let mut bytes = sample();
    bytes[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&77u32.to_le_bytes());
    reseal(&mut bytes);
    let buf = AlignedBuf::from_bytes(&bytes);
    assert_eq!(
        Bundle::open(buf.as_bytes()).unwrap_err(),
        BundleError::BadSectionTable("unknown section kind")
    );
}

#[test]
fn misaligned_buffers_are_refused() {
    let bytes = sample();
    let mut shifted = vec![0u8; bytes.len() + 1];
    shifted[1..].copy_from_slice(&bytes);
    let buf = AlignedBuf::from_bytes(&shifted);
    assert_eq!(
        Bundle::open(&buf.as_bytes()[1..]).unwrap_err(),
        BundleError::Misaligned
    );
}

#[test]
fn a_garbage_program_section_is_a_clear_error() {
    let buf = AlignedBuf::from_bytes(&sample());
    // The validated open refuses it; unchecked, the evaluator does.
    let err = Bundle::open(buf.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy bundle program section does not decode"
    );
    // SAFETY: the sample holds no DFA, so nothing is ever read unchecked.
    let b = unsafe { Bundle::open_unchecked(buf.as_bytes()) }.unwrap();
    let err = rampart_runtime::eval::Evaluator::new(&b).err().unwrap();
    assert_eq!(err, BundleError::ProgramUndecodable);
}
