//! Measurement (not a check): where the bytes of the standard profile's bundle go, per section
//! and per field. Run with
//! `cargo test -p rampart-compiler --test tests compile_shapes -- --ignored --nocapture`.

use rampart_compiler::compile_str;
use rampart_runtime::bundle::OwnedBundle;

#[test]
#[ignore = "a measurement"]
fn bundle_sections() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/standard.yaml");
    let compiled = compile_str("standard.yaml", &std::fs::read_to_string(path).unwrap()).unwrap();
    println!("{:?}", compiled.stats);
    let owned = OwnedBundle::open(&compiled.bytes).unwrap();
    let b = owned.bundle().unwrap();
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
    let ev = owned.evaluator().unwrap();
    for (i, f) in ev.program().fields().enumerate() {
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
