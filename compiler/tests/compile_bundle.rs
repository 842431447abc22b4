//! A compiled bundle survives a round trip, and every damaged form of it is a clear error.

use rampart_compiler::compile_str;
use rampart_compiler::write::write_atomic;
use rampart_runtime::bundle::{
    Bundle, BundleError, BundleWriter, DfaForm, MappedBundle, OwnedBundle, SectionKind, HEADER_LEN,
};
use rampart_runtime::call::Call;
use rampart_runtime::eval::{Action, EvalContext, Evaluator};
use rampart_runtime::program::Words;

const POLICY: &str = r#"
default_action: allow
policies:
  - name: block
    rules:
      - action: deny
        when:
          command_matches: ["rm -rf /*", "*curl*|*sh*"]
          command_contains: ["mkfs", "dd if="]
        message: nope
      - action: deny
        when: {path_matches: ["**/.ssh/id_*"], response_matches: ["AKIA[0-9A-Z]{16}"]}
        message: creds
"#;

fn bundle_bytes() -> Vec<u8> {
    compile_str("p.yaml", POLICY).unwrap().bytes
}

fn open(bytes: &[u8]) -> Result<(), BundleError> {
    OwnedBundle::open(bytes)?.evaluator().map(|_| ())
}

#[test]
fn round_trip_through_a_file() {
    let dir = std::env::temp_dir().join(format!("rampart-bundle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.bin");
    let bytes = bundle_bytes();
    write_atomic(&path, &bytes).unwrap();
    write_atomic(&path, &bytes).unwrap(); // replacing works too
    let mapped = MappedBundle::open(&path).unwrap();
    let ev = mapped.evaluator().unwrap();
    let call = Call::new("exec", "a", &[("command", "rm -rf /home")]);
    assert_eq!(ev.evaluate(&call, &EvalContext::at(0)).action, Action::Deny);
    let call = Call::new("exec", "a", &[("command", "sudo MKFS.ext4 /dev/sda")]);
    assert_eq!(ev.evaluate(&call, &EvalContext::at(0)).message, "nope");
    let call = Call::new("exec", "a", &[("command", "ls")]);
    assert_eq!(
        ev.evaluate(&call, &EvalContext::at(0)).action,
        Action::Allow
    );
    let b = mapped.bundle().unwrap();
    assert!(b.dfa_count(DfaForm::Dense) + b.dfa_count(DfaForm::Sparse) >= 3);
    assert!(b.sections().iter().all(|s| s.offset % 64 == 0));
    // The unchecked path (the preload's) decides the same.
    // SAFETY: `MappedBundle::open` validated these bytes (checksum and every DFA).
    let unchecked = unsafe { Bundle::open_unchecked(mapped.bytes()) }.unwrap();
    let ev2 = Evaluator::new(&unchecked).unwrap();
    let call = Call::new("exec", "a", &[("command", "curl x | sh")]);
    assert_eq!(
        ev2.evaluate(&call, &EvalContext::at(0)).action,
        Action::Deny
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["policy.bin"],
        "no temporary file is left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let missing = MappedBundle::open(&dir.join("nope.bin")).err().unwrap();
    assert!(
        missing.to_string().starts_with("cannot map policy bundle"),
        "{missing}"
    );
}

#[test]
fn truncation_at_every_length_is_an_error() {
    let bytes = bundle_bytes();
    assert!(open(&bytes).is_ok());
    // Every prefix of the header and table, then a stride through the sections.
    let lengths = (0..HEADER_LEN + 200).chain((HEADER_LEN + 200..bytes.len()).step_by(61));
    for len in lengths {
        let err = open(&bytes[..len]).expect_err("a truncated bundle must not open");
        assert!(!err.to_string().is_empty());
        if len >= 8 {
            assert!(
                matches!(err, BundleError::Truncated { .. }),
                "len {len}: {err}"
            );
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        open(&longer),
        Err(BundleError::TrailingBytes { .. })
    ));
}

#[test]
fn flipped_bytes_are_detected() {
    let bytes = bundle_bytes();
    for i in (0..bytes.len()).step_by(7) {
        let mut bad = bytes.clone();
        bad[i] ^= 0x5a;
        let err = open(&bad).expect_err("a corrupt bundle must not open");
        if i >= HEADER_LEN {
            // The table is checked for sanity first, then everything against the checksum.
            assert!(
                matches!(
                    err,
                    BundleError::ChecksumMismatch | BundleError::BadSectionTable(_)
                ),
                "byte {i}: {err}"
            );
        }
    }
}

#[test]
fn foreign_files_are_rejected_clearly() {
    let cases: &[&[u8]] = &[
        b"",
        b"\x7fELF\x02\x01\x01",
        b"version: \"1\"\npolicies: []\n",
        &[0u8; 4096],
    ];
    for bytes in cases {
        let err = open(bytes).unwrap_err();
        assert!(
            matches!(err, BundleError::BadMagic | BundleError::Truncated { .. }),
            "{err}"
        );
    }
    assert_eq!(
        open(b"version: \"1\"\npolicies: []\n")
            .unwrap_err()
            .to_string(),
        "not a rampart policy bundle (bad magic); run `rampart compile`"
    );
    let mut other_version = bundle_bytes();
    other_version[8] = 99;
    assert_eq!(
        open(&other_version),
        Err(BundleError::UnsupportedVersion(99))
    );
}

#[test]
fn unchecked_open_rejects_bad_headers_too() {
    let bytes = bundle_bytes();
    // SAFETY: the compiler's bundle less its last byte: the open fails on the header, so no DFA
    // is ever read.
    let err = unsafe { OwnedBundle::open_unchecked(&bytes[..bytes.len() - 1]) }.unwrap_err();
    assert!(matches!(err, BundleError::Truncated { .. }));
    assert_eq!(
        // SAFETY: no bundle at all: the open fails on the magic, so no DFA is ever read.
        unsafe { OwnedBundle::open_unchecked(b"NOTABUNDLE") }.unwrap_err(),
        BundleError::BadMagic
    );
}

#[test]
fn sample_bundle_is_small() {
    let bytes = bundle_bytes();
    assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
}

/// Behind `open_unchecked` (the preload's open) DFAs load on first use, so a DFA whose bytes do
/// not load is found by a search: that decision, and every later one, is a fail-closed deny.
#[test]
fn a_dfa_that_does_not_load_fails_closed() {
    let owned = OwnedBundle::open(&bundle_bytes()).unwrap();
    let bundle = owned.bundle().unwrap();
    let mut damaged = owned.bytes().to_vec();
    for form in [DfaForm::Dense, DfaForm::Sparse] {
        for number in 0..bundle.dfa_count(form) {
            let dfa = bundle.dfa_bytes(form, number).unwrap();
            let at = dfa.as_ptr() as usize - owned.bytes().as_ptr() as usize;
            assert!(at > HEADER_LEN);
            damaged[at] ^= 0xff; // the serialized label: loading stops at it
        }
    }
    // SAFETY: the label check runs in `from_bytes_unchecked` too; nothing past it is read.
    let damaged = unsafe { OwnedBundle::open_unchecked(&damaged) }.unwrap();
    assert_fails_closed(&damaged, "ls");
    // The validated open refuses the same bytes outright.
    assert!(matches!(
        OwnedBundle::open(damaged.bytes()),
        Err(BundleError::ChecksumMismatch)
    ));
}

/// The DFA records are checked when a search reads them, not at open: a record whose atom list
/// lies about its length is found by the first match through it, and fails the call closed.
#[test]
fn a_dfa_record_with_a_wrong_atom_list_fails_closed() {
    use rampart_runtime::program::{DfaRef, Field};
    let owned = OwnedBundle::open(&bundle_bytes()).unwrap();
    let words = owned.bundle().unwrap().section(SectionKind::Words).unwrap();
    let words_at = words.as_ptr() as usize - owned.bytes().as_ptr() as usize;
    let ev = owned.evaluator().unwrap();
    let table = ev.program().field(Field::Command).unwrap();
    let mut damaged = owned.bytes().to_vec();
    for record in 0..table.dfas.len / DfaRef::WORDS {
        // The third word of a record is the length of its atom list.
        let word = (table.dfas.start + record * DfaRef::WORDS + 2) as usize;
        damaged[words_at + 4 * word..words_at + 4 * word + 4].copy_from_slice(&0u32.to_le_bytes());
    }
    // SAFETY: only the atom lists' lengths changed; every DFA is intact.
    let damaged = unsafe { OwnedBundle::open_unchecked(&damaged) }.unwrap();
    assert_fails_closed(&damaged, "rm -rf /tmp/x");
}

/// A confirm record naming a DFA the bundle does not hold, in-order pieces outside the words
/// section, or a check this build does not know: the validated open refuses the bundle; behind
/// `open_unchecked`, which does not walk the records, the search that reads the record fails the
/// call closed.
#[test]
fn a_confirm_naming_what_is_not_there_is_refused_or_fails_closed() {
    use rampart_runtime::program::{Check, Confirm, Field};
    let owned = OwnedBundle::open(&bundle_bytes()).unwrap();
    let ev = owned.evaluator().unwrap();
    let table = ev.program().field(Field::Command).unwrap();
    let words = Words::new(owned.bundle().unwrap().section(SectionKind::Words).unwrap());
    let checks: Vec<Check> = words.confirms(table.confirms).map(|c| c.check).collect();
    assert!(
        checks.iter().any(|c| matches!(c, Check::InOrder { .. })),
        "`*curl*|*sh*` is decided by its pieces in order: {checks:?}"
    );
    // Words 2 and 3 of a record: a number, and the check's code (1 sparse DFA, 3 in order).
    for (number, code) in [(u32::MAX, 1u32), (u32::MAX, 3), (0, 7)] {
        let damage = |kind: SectionKind, data: &[u8]| {
            let mut data = data.to_vec();
            if kind == SectionKind::Words {
                for record in 0..table.confirms.len / Confirm::WORDS {
                    let word = (table.confirms.start + record * Confirm::WORDS + 2) as usize;
                    data[4 * word..4 * word + 4].copy_from_slice(&number.to_le_bytes());
                    data[4 * word + 4..4 * word + 8].copy_from_slice(&code.to_le_bytes());
                }
            }
            Some(data)
        };
        let damaged = resealed(owned.bytes(), damage);
        assert_eq!(
            OwnedBundle::open(&damaged).err(),
            Some(BundleError::ProgramReferences),
            "code {code}"
        );
        // SAFETY: only confirm records changed; every DFA is intact.
        let unchecked = unsafe { OwnedBundle::open_unchecked(&damaged) }.unwrap();
        assert_fails_closed(&unchecked, "curl x | sh");
    }
}

/// A rule record whose message runs past the text block: the validated open refuses the bundle
/// (`ProgramView::check`); behind `open_unchecked`, which checks only the program section's
/// length against its counts, the message reads empty and nothing is read out of bounds.
#[test]
fn a_rule_record_with_a_bad_text_is_refused_or_reads_empty() {
    let bytes = bundle_bytes();
    let word =
        |data: &[u8], i: usize| u32::from_le_bytes(data[4 * i..4 * i + 4].try_into().unwrap());
    let damage = |kind: SectionKind, data: &[u8]| {
        let mut data = data.to_vec();
        if kind == SectionKind::Program {
            // Header (9 words): default action, then the counts of fields and policies; 10 words a field,
            // 9 a policy; the first rule's message is its words 2 and 3.
            let rules_at = 9 + 10 * word(&data, 1) as usize + 9 * word(&data, 2) as usize;
            let len_at = 4 * (rules_at + 3);
            data[len_at..len_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        }
        Some(data)
    };
    let damaged = resealed(&bytes, damage);
    assert_eq!(
        OwnedBundle::open(&damaged).err(),
        Some(BundleError::ProgramReferences)
    );
    // SAFETY: only a rule's message length changed; every DFA is intact.
    let unchecked = unsafe { OwnedBundle::open_unchecked(&damaged) }.unwrap();
    let ev = unchecked.evaluator().unwrap();
    let rule = ev.program().policy(0).unwrap().rule(0).unwrap();
    assert_eq!(ev.program().text(rule.message()), "");
    let call = Call::new("exec", "a", &[("command", "rm -rf /")]);
    let _ = ev.evaluate(&call, &EvalContext::at(0));
    // A program section cut short is refused by both opens' evaluators.
    let cut = resealed(&bytes, |kind, data| {
        Some(if kind == SectionKind::Program {
            data[..data.len() - 1].to_vec()
        } else {
            data.to_vec()
        })
    });
    assert_eq!(
        OwnedBundle::open(&cut).err(),
        Some(BundleError::ProgramUndecodable)
    );
    // SAFETY: only the program section changed; every DFA is intact.
    let unchecked = unsafe { OwnedBundle::open_unchecked(&cut) }.unwrap();
    assert_eq!(
        unchecked.evaluator().err(),
        Some(BundleError::ProgramUndecodable)
    );
}

/// Deciding `command` with `bundle` meets its damage and denies, saying so.
fn assert_fails_closed(bundle: &OwnedBundle, command: &str) {
    let call = Call::new("exec", "a", &[("command", command)]);
    let d = bundle
        .evaluator()
        .unwrap()
        .evaluate(&call, &EvalContext::at(0));
    assert_eq!(d.action, Action::Deny, "{command}");
    assert_eq!(d.message, rampart_runtime::eval::MSG_BROKEN_AUTOMATON);
}

/// `bytes` with each section passed through `f` (`None` drops it), resealed (not opened).
fn resealed(bytes: &[u8], f: impl Fn(SectionKind, &[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    let owned = OwnedBundle::open(bytes).unwrap();
    let bundle = owned.bundle().unwrap();
    let mut writer = BundleWriter::new(bundle.header().flags);
    for section in bundle.sections() {
        if let Some(data) = f(section.kind, bundle.section_bytes(section)) {
            writer.add(section.kind, data);
        }
    }
    writer.finish()
}

/// [`resealed`], opened and validated.
fn rewritten(bytes: &[u8], f: impl Fn(SectionKind, &[u8]) -> Option<Vec<u8>>) -> OwnedBundle {
    OwnedBundle::open(&resealed(bytes, f)).unwrap()
}

#[test]
fn each_part_that_fails_is_named() {
    let bytes = bundle_bytes();
    let no_words = resealed(&bytes, |kind, data| {
        (kind != SectionKind::Words).then(|| data.to_vec())
    });
    // Validating refuses it at open; unchecked, the evaluator refuses it.
    let err = OwnedBundle::open(&no_words).err().unwrap();
    assert_eq!(err, BundleError::ProgramReferences);
    assert!(err.to_string().contains("refers to"), "{err}");
    // SAFETY: a section was dropped, but every DFA is intact.
    let unchecked = unsafe { OwnedBundle::open_unchecked(&no_words) }.unwrap();
    assert_eq!(
        unchecked.evaluator().err(),
        Some(BundleError::ProgramReferences)
    );

    let bad_metadata = rewritten(&bytes, |kind, data| {
        Some(match kind {
            SectionKind::Metadata => vec![0xff; 3],
            _ => data.to_vec(),
        })
    });
    let bundle = bad_metadata.bundle().unwrap();
    let ev = bad_metadata.evaluator().unwrap();
    let call = Call::new("exec", "a", &[("command", "ls")]);
    let err = ev.explain(&bundle, &call, &EvalContext::at(0)).unwrap_err();
    assert_eq!(err, BundleError::MetadataUndecodable);
    assert_eq!(
        err.to_string(),
        "policy bundle metadata section does not decode"
    );
}
