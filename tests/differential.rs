//! The evaluator's decisions, pinned: every corpus under three policies, against answers recorded
//! from the evaluator as it was before its search was rebuilt (issue 20).
//!
//! The threat is a faster evaluator that decides differently: a search that misses a piece lets a
//! call through that a rule should stop, and nothing else would notice, since most corpus cases
//! carry only a label (deny or allow) and many rules can give the same label. So each case's whole
//! decision (action, message, matched policies, winning rule) is reduced to a digest and compared
//! with `tests/fixtures/differential/decisions.txt`, recorded from main at 8f1a6c8.
//!
//! Cases: `golden/decisions` (under each group's own policy too), `golden/threats`,
//! `golden/attacks`, `golden/benign`, `benches/corpus/calls.jsonl`, and every distinct reading the
//! shell derives from all of their commands, decided as a command of its own. Policies: our
//! standard and paranoid profiles as they were before the protect branch, our standard profile as
//! protect left it (`standard-8f1a6c8.yaml`: the profile where the evaluator's cost now is), all
//! copies beside the answers so that the profiles can move on without the reference going stale,
//! and the generated upstream-sized standard policy of `benches/support/upstream_sized.rs`.
//!
//! `RAMPART_RECORD_DIFFERENTIAL=1 cargo test --test tests differential` rewrites the answers; do
//! that only with an evaluator whose decisions are the reference.

#[path = "../benches/support/upstream_sized.rs"]
mod upstream_sized;

use rampart::corpus::{self, ThreatCase};
use rampart_compiler::compile_str;
use rampart_runtime::bundle::OwnedBundle;
use rampart_runtime::eval::{Decision, EvalContext, Evaluator};
use rampart_runtime::json::call_from_json;
use rampart_runtime::shell::Reader;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The evaluation time of every case that does not give its own (2027-01-15).
const NOW: i64 = 1_800_000_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn answers_path() -> PathBuf {
    root().join("tests/fixtures/differential/decisions.txt")
}

/// One call to decide: its JSON, the response to decide instead of the request, and its time.
#[derive(Clone)]
struct Case {
    call: Value,
    response: Option<String>,
    now: i64,
}

impl Case {
    fn request(call: Value) -> Case {
        Case {
            call,
            response: None,
            now: NOW,
        }
    }
}

/// A named list of cases.
struct Corpus {
    name: &'static str,
    cases: Vec<Case>,
}

/// A decision reduced to what a caller sees, in a form that hashes stably.
fn describe(decision: Result<Decision, String>) -> String {
    match decision {
        Ok(d) => format!(
            "{}\0{}\0{}\0{:?}",
            d.action.as_str(),
            d.message,
            d.matched_policies.join("\u{1}"),
            d.winner
        ),
        Err(e) => format!("invalid\0{e}"),
    }
}

/// 32 bits of FNV-1a: a stable hash (unlike std's) is all a digest per case needs.
fn digest(text: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 32)) as u32
}

fn decide(eval: &Evaluator<'_>, case: &Case) -> Result<Decision, String> {
    let call = call_from_json(&case.call).map_err(|e| e.to_string())?;
    Ok(match &case.response {
        Some(response) => eval.evaluate_response(&call, response, case.now),
        None => eval.evaluate(&call, &EvalContext::at(case.now)),
    })
}

/// A threat-corpus case as `rampart bench` decides it.
fn threat_case(case: &ThreatCase) -> Case {
    let mut call =
        json!({"tool": case.tool, "agent": case.agent, "session": "", "params": case.params});
    if let (Some(dir), Some(obj)) = (&case.workdir, call.as_object_mut()) {
        obj.insert("workdir".into(), Value::String(dir.clone()));
    }
    Case::request(call)
}

fn threat_corpus(name: &'static str, dir: &str) -> Corpus {
    let cases = corpus::load_corpus(&root().join(dir)).expect("corpus loads");
    Corpus {
        name,
        cases: cases.iter().map(threat_case).collect(),
    }
}

fn bench_corpus() -> Corpus {
    let text = std::fs::read_to_string(root().join("benches/corpus/calls.jsonl")).unwrap();
    let cases = text
        .lines()
        .map(|line| Case::request(serde_json::from_str(line).expect("corpus JSON")))
        .collect();
    Corpus {
        name: "bench",
        cases,
    }
}

/// Replaces every `{"$repeat": text, "times": n}` by the repeated text (golden/decisions).
fn expand(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            if let (Some(text), Some(n)) = (map.get("$repeat"), map.get("times")) {
                let text = text.as_str().expect("$repeat text");
                return Value::String(text.repeat(n.as_u64().expect("times") as usize));
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(expand).collect()),
        other => other.clone(),
    }
}

/// A golden/decisions group: its policy and its cases.
struct Group {
    policy: String,
    cases: Vec<Case>,
}

fn golden_groups() -> Vec<Group> {
    let dir = root().join("golden/decisions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut groups = Vec::new();
    for file in files {
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let listed = doc["groups"].as_array().cloned();
        for g in listed.unwrap_or_else(|| vec![doc.clone()]) {
            let group_now = g["now"].as_i64().unwrap_or(0);
            let cases = g["calls"].as_array().map_or(&[][..], |a| a.as_slice());
            groups.push(Group {
                policy: g["policy"].as_str().expect("policy text").to_string(),
                cases: cases
                    .iter()
                    .map(|c| Case {
                        call: expand(&c["call"]),
                        response: c["response"].as_str().map(str::to_string),
                        now: c["now"].as_i64().unwrap_or(group_now),
                    })
                    .collect(),
            });
        }
    }
    groups
}

/// Every distinct reading of every command in `corpora`, each as an exec call of its own.
fn readings_corpus(corpora: &[Corpus]) -> Corpus {
    let mut reader = Reader::new();
    let mut texts = BTreeSet::new();
    let commands = corpora
        .iter()
        .flat_map(|c| &c.cases)
        .filter(|c| c.call["tool"] == "exec")
        .filter_map(|c| c.call["params"]["command"].as_str());
    for command in commands {
        let readings = reader.read_command(command);
        texts.insert(readings.normalized.clone());
        texts.extend(readings.restrictive.iter().map(str::to_string));
        texts.extend(readings.components.iter().map(str::to_string));
    }
    let cases = texts
        .into_iter()
        .map(|t| {
            Case::request(
                json!({"tool": "exec", "agent": "claude-code", "session": "s",
                                 "params": {"command": t}}),
            )
        })
        .collect();
    Corpus {
        name: "readings",
        cases,
    }
}

/// Every golden/decisions case, group after group.
fn golden_corpus(groups: &[Group]) -> Corpus {
    Corpus {
        name: "golden",
        cases: groups
            .iter()
            .flat_map(|g| g.cases.iter().cloned())
            .collect(),
    }
}

fn corpora(groups: &[Group]) -> Vec<Corpus> {
    let mut all = vec![
        golden_corpus(groups),
        threat_corpus("threats", "golden/threats"),
        threat_corpus("attacks", "golden/attacks"),
        threat_corpus("benign", "golden/benign"),
        bench_corpus(),
    ];
    let readings = readings_corpus(&all);
    all.push(readings);
    all
}

fn evaluator_of(name: &str, yaml: &str) -> OwnedBundle {
    let compiled = compile_str(name, yaml).unwrap_or_else(|e| panic!("{name}: {e}"));
    OwnedBundle::open(&compiled.bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn policy_file(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures/differential").join(name)).unwrap()
}

/// One answers line: `policy corpus count digests`, the digests as 8 hex digits each, in order.
fn answers_line(policy: &str, corpus: &str, digests: &[u32]) -> String {
    let mut line = format!("{policy} {corpus} {} ", digests.len());
    for d in digests {
        write!(line, "{d:08x}").unwrap();
    }
    line
}

/// Decides `cases`, giving each case's digest and a short description for a report.
fn run(eval: &Evaluator<'_>, cases: &[Case]) -> Vec<(u32, String)> {
    cases
        .iter()
        .map(|c| {
            let described = describe(decide(eval, c));
            (digest(&described), described)
        })
        .collect()
}

#[test]
fn decisions_match_the_recorded_evaluator() {
    let groups = golden_groups();
    let corpora = corpora(&groups);
    let profiles = [
        ("standard", policy_file("standard.yaml")),
        ("upstream", upstream_sized::policy_yaml()),
        ("paranoid", policy_file("paranoid.yaml")),
        ("protect", policy_file("standard-8f1a6c8.yaml")),
    ];
    let mut lines = Vec::new();
    let mut reports = Vec::new();
    for (name, yaml) in &profiles {
        let bundle = evaluator_of(name, yaml);
        let eval = bundle.evaluator().unwrap();
        for corpus in &corpora {
            reports.push((*name, corpus, run(&eval, &corpus.cases)));
        }
    }
    // golden/decisions under each group's own small policy, as one list of cases.
    let mut own = Vec::new();
    for group in &groups {
        let bundle = evaluator_of("golden group", &group.policy);
        own.extend(run(&bundle.evaluator().unwrap(), &group.cases));
    }
    let own_corpus = golden_corpus(&groups);
    reports.push(("own", &own_corpus, own));
    for (policy, corpus, results) in &reports {
        let digests: Vec<u32> = results.iter().map(|r| r.0).collect();
        lines.push(answers_line(policy, corpus.name, &digests));
    }
    let recorded = lines.join("\n") + "\n";
    if std::env::var_os("RAMPART_RECORD_DIFFERENTIAL").is_some() {
        std::fs::write(answers_path(), &recorded).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(answers_path()).expect("recorded answers");
    let mut differences = Vec::new();
    let mut counts = Vec::new();
    for ((policy, corpus, results), want) in reports.iter().zip(expected.lines()) {
        counts.push(format!("{policy}/{}: {}", corpus.name, results.len()));
        differences.extend(compare(policy, corpus, results, want));
    }
    println!("cases per policy and corpus: {}", counts.join(", "));
    assert_eq!(
        expected.lines().count(),
        reports.len(),
        "the recorded answers list other corpora"
    );
    assert!(
        differences.is_empty(),
        "{} decisions differ from the recorded evaluator's:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// The cases of one answers line whose decisions differ, described.
fn compare(policy: &str, corpus: &Corpus, results: &[(u32, String)], want: &str) -> Vec<String> {
    let mut fields = want.splitn(4, ' ');
    let head = (fields.next(), fields.next(), fields.next());
    let digests = fields.next().unwrap_or("");
    let count = results.len().to_string();
    if head != (Some(policy), Some(corpus.name), Some(count.as_str())) {
        return vec![format!(
            "{policy}/{}: {} cases, recorded {:?}",
            corpus.name,
            results.len(),
            head
        )];
    }
    let recorded = digests
        .as_bytes()
        .chunks(8)
        .map(|h| u32::from_str_radix(std::str::from_utf8(h).unwrap(), 16).unwrap());
    results
        .iter()
        .zip(&corpus.cases)
        .zip(recorded)
        .filter(|(((got, _), _), want)| got != want)
        .take(20)
        .map(|(((_, described), case), _)| {
            format!(
                "  {policy}/{}: {} now decides {:?}",
                corpus.name,
                case.call,
                described.replace('\0', " | ")
            )
        })
        .collect()
}

#[test]
fn the_digest_tells_decisions_apart() {
    let deny = "deny\0no\0p\0Some((0, 1))";
    assert_ne!(digest(deny), digest("deny\0no\0p\0Some((0, 2))"));
    assert_eq!(digest(deny), digest(deny));
}

/// Every exec command of the corpora and every reading derived from them, as a command of its own,
/// with the `Debug` of its whole `CommandReadings`, read by a kept reader and by a new one: the
/// shell's rounds of optimisation compare this dump before and after each change (it must not
/// move). `RAMPART_READINGS_DUMP=/tmp/x.txt cargo test --test tests readings_dump -- --ignored`.
#[test]
#[ignore = "writes a dump to compare by hand"]
fn readings_dump() {
    let Ok(path) = std::env::var("RAMPART_READINGS_DUMP") else {
        return;
    };
    let groups = golden_groups();
    let all = [
        golden_corpus(&groups),
        threat_corpus("threats", "golden/threats"),
        threat_corpus("attacks", "golden/attacks"),
        threat_corpus("benign", "golden/benign"),
        bench_corpus(),
    ];
    let mut commands: Vec<String> = all
        .iter()
        .flat_map(|c| &c.cases)
        .filter(|c| c.call["tool"] == "exec")
        .filter_map(|c| c.call["params"]["command"].as_str())
        .map(str::to_string)
        .collect();
    let mut reader = Reader::new();
    let mut derived = BTreeSet::new();
    for command in &commands {
        let readings = reader.read_command(command);
        derived.insert(readings.normalized.clone());
        derived.extend(readings.restrictive.iter().map(str::to_string));
        derived.extend(readings.components.iter().map(str::to_string));
        derived.extend(readings.masked.iter().map(str::to_string));
    }
    commands.extend(derived);
    let mut out = String::new();
    for command in &commands {
        let kept = format!("{:?}", reader.read_command(command));
        writeln!(out, "{command:?}\n{kept}").unwrap();
        let fresh = format!("{:?}", Reader::new().read_command(command));
        if fresh != kept {
            writeln!(out, "FRESH READER DIFFERS: {fresh}").unwrap();
        }
    }
    writeln!(out, "{} commands", commands.len()).unwrap();
    std::fs::write(path, out).unwrap();
}
