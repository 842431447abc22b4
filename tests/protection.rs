//! The built-in profiles against the independent corpora of issue 19, embedded in rampart:
//! `attacks` (written from ATT&CK, GTFOBins and LOLBAS without reading the policies) and `benign`
//! (everyday developer calls, mentions of dangerous commands included).
//!
//! The gate is what a user notices: the standard profile stops (denies or asks about) at least
//! 97% of the calls labelled deny or ask, and blocks none of the everyday calls. Strict coverage
//! (decided exactly as labelled) is printed, not gated: `ask` for a deny-worthy call still stops
//! it. Paranoid must stop at least as much; yolo must never block.

use rampart::corpus::{self, CorpusReport};
use rampart_runtime::bundle::OwnedBundle;

/// The share of the deny/ask-labelled attack calls the standard profile must stop.
const MIN_STOPPED: f64 = 97.0;
/// The corpora must not shrink below the sizes issue 19 asks for.
const MIN_ATTACKS: usize = 1000;
const MIN_BENIGN: usize = 500;

fn report(profile: &str, corpus_name: &str) -> CorpusReport {
    let cases = corpus::load_embedded(corpus_name).expect("the embedded corpus loads");
    let min = if corpus_name == "attacks" {
        MIN_ATTACKS
    } else {
        MIN_BENIGN
    };
    assert!(cases.len() >= min, "{corpus_name}: {} cases", cases.len());
    let embedded = rampart::profiles::profile(profile).expect("a built-in profile");
    let bundle = OwnedBundle::open(embedded.bundle).expect("the embedded bundle opens");
    let eval = bundle.evaluator().expect("an evaluator");
    let report = corpus::run_corpus(&eval, &cases);
    println!("{profile} on {corpus_name}:\n{}", report.table);
    report
}

#[test]
fn standard_stops_the_attacks_and_blocks_no_everyday_call() {
    let attacks = report("standard", "attacks");
    for miss in attacks.outcomes.iter().filter(|o| o.missed()) {
        println!("  not stopped: {miss}");
    }
    assert!(
        attacks.stopped() >= MIN_STOPPED,
        "standard stops {:.1}% of the attacks (< {MIN_STOPPED}%)",
        attacks.stopped()
    );
    let benign = report("standard", "benign");
    let blocked: Vec<String> = benign.false_blocks().map(|o| o.to_string()).collect();
    assert!(
        blocked.is_empty(),
        "standard blocks everyday calls:\n{}",
        blocked.join("\n")
    );
    // The attack corpus's own look-alikes (reconnaissance labelled watch) are not blocked either,
    // but for the one the profile denies on purpose (see docs/protection.md).
    assert!(attacks.table.total.false_blocks <= 1);
}

#[test]
fn paranoid_stops_at_least_what_standard_stops() {
    let paranoid = report("paranoid", "attacks");
    let standard = report("standard", "attacks");
    assert!(
        paranoid.stopped() >= standard.stopped(),
        "paranoid stops {:.1}%, standard {:.1}%",
        paranoid.stopped(),
        standard.stopped()
    );
    // Paranoid allows only what it lists: its everyday blocks are its price, reported not gated.
    let benign = report("paranoid", "benign");
    println!(
        "paranoid blocks {} of {} everyday calls",
        benign.table.total.false_blocks, benign.table.total.total
    );
}

#[test]
fn yolo_never_blocks_and_records_everything() {
    for corpus_name in ["attacks", "benign"] {
        let r = report("yolo", corpus_name);
        assert!(
            r.outcomes
                .iter()
                .all(|o| o.actual == Some(rampart_runtime::eval::Action::Watch)),
            "yolo decided something other than watch on {corpus_name}"
        );
    }
}
