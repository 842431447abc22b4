//! Measurement (not a check): where the bytes of the standard profile's bundle go, per section
//! and per field. Run with
//! `cargo test -p rampart-compiler --test compile_shapes -- --ignored --nocapture`.

use rampart_compiler::load::load_str;

#[test]
#[ignore = "a measurement"]
fn bundle_sections() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/standard.yaml");
    let set = load_str("standard.yaml", &std::fs::read_to_string(path).unwrap()).unwrap();
    let rampart_compiler::Compiled { bytes, stats } = rampart_compiler::compile(&set).unwrap();
    println!("{stats:?}");
    let buf = rampart_runtime::bundle::AlignedBuf::from_bytes(&bytes);
    let b = rampart_runtime::bundle::Bundle::open(buf.as_bytes()).unwrap();
    let mut secs: Vec<_> = b
        .sections()
        .iter()
        .map(|s| (s.len, s.kind, s.index))
        .collect();
    println!("{} sections", secs.len());
    secs.sort_by_key(|s| std::cmp::Reverse(s.0));
    for s in secs.iter().take(15) {
        println!("{s:?}");
    }
    let ev = rampart_runtime::eval::Evaluator::new(&b).unwrap();
    for (i, f) in ev.program().fields.iter().enumerate() {
        println!(
            "field {i}: {} atoms, {} prefilters, dfas {:?}, {} confirms",
            f.atoms,
            f.prefilters,
            ev.words()
                .dfa_refs(f.dfas)
                .map(|d| (d.number, d.form, d.atoms.len))
                .collect::<Vec<_>>(),
            f.confirms.len / rampart_runtime::program::Confirm::WORDS
        );
    }
}
