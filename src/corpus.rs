//! The labelled corpora (`golden/threats/`, `golden/attacks/`, `golden/benign/`) and how a
//! policy scores on them.
//!
//! Why a corpus: a firewall's policy is only as good as the attacks it has been tried against, and
//! the ordinary work it must not get in the way of. Each corpus file holds one class of threat
//! (destructive, credentials, exfiltration, ...) as tool calls labelled with the decision a good
//! policy makes, including evasions and benign look-alikes that must stay allowed. `rampart bench`
//! and `tests/threats.rs` run a compiled policy over it and report, per class and per shell
//! dialect, how many calls were decided exactly as labelled.
//!
//! Three numbers matter and are kept apart: *strict* coverage (decided exactly as labelled),
//! *stopped* (of the calls labelled deny or ask, those decided deny or ask: a human approving a
//! deny-worthy call still stopped it) and *blocked* (a call labelled allow or watch that was
//! denied or asked). A policy that asks about everything would stop every attack and be useless;
//! blocked says so.
//!
//! The corpora are embedded in the executable (`build.rs` lists their files), so `rampart bench`
//! works outside a checkout of rampart.

use crate::embedded_corpus;
pub use crate::upstream_corpus::Severity;
use rampart_runtime::eval::{Action, EvalContext, Evaluator};
use rampart_runtime::json::call_from_json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

/// The agent a case runs as when it names none (upstream's `rampart test` default).
pub(crate) const DEFAULT_AGENT: &str = "test";

/// One labelled call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThreatCase {
    /// The class of the file it came from (`destructive`, `benign`, ...).
    pub class: String,
    pub id: String,
    pub tool: String,
    /// The call's params, as a JSON object.
    pub params: Json,
    pub agent: String,
    pub workdir: Option<String>,
    /// The shell dialect a command is written in (`posix`, `cmd`, `powershell`, `macos`), if any.
    pub dialect: Option<String>,
    /// The catalogue entry the case draws on (an ATT&CK id such as `T1048.003`, or
    /// `GTFOBins:<binary>:<function>`, `LOLBAS:<binary>:<function>`), if the file names one.
    pub technique: Option<String>,
    #[serde(serialize_with = "action_name")]
    pub expect: Action,
    pub reason: String,
    /// How grave the attack is (upstream's corpus format; ours has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The platforms the case is for (upstream's corpus format; empty: any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    /// An ask also stops it, though it is labelled deny (upstream's bench without `--strict`).
    #[serde(skip)]
    pub ask_suffices: bool,
}

impl ThreatCase {
    /// Whether the case comes from a corpus in upstream's format (only those have a severity).
    pub fn is_upstream(&self) -> bool {
        self.severity.is_some()
    }
}

/// A corpus file as written: strict, so a misspelt key is an error rather than a silent default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    class: String,
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    tool: String,
    params: BTreeMap<String, Json>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    workdir: Option<String>,
    #[serde(default)]
    dialect: Option<String>,
    #[serde(default)]
    technique: Option<String>,
    expect: String,
    reason: String,
}

const DIALECTS: [&str; 4] = ["posix", "cmd", "powershell", "macos"];

/// Loads a corpus file, or every `*.yaml` / `*.yml` file of a directory (sorted by name), in our
/// format or upstream's ([`crate::upstream_corpus`]). Case ids must be unique across the corpus,
/// labels must be deny, ask, watch or allow, and every case needs a reason.
pub fn load_corpus(path: &Path) -> Result<Vec<ThreatCase>, String> {
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return gather([(path.display().to_string(), text)]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no corpus files (*.yaml)", path.display()));
    }
    let mut texts = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        texts.push((file.display().to_string(), text));
    }
    gather(texts)
}

/// Loads the corpus built into the binary under `name` (see [`crate::embedded_corpus`]).
pub fn load_embedded(name: &str) -> Result<Vec<ThreatCase>, String> {
    let files = embedded_corpus::corpus(name).ok_or_else(|| {
        format!(
            "no embedded corpus {name:?} (there are {})",
            embedded_corpus::CORPORA.join(", ")
        )
    })?;
    gather(files.map(|f| (format!("embedded:{name}/{}", f.name), f.text.to_string())))
}

/// The cases of `(label, text)` files, ids unique across them.
fn gather(files: impl IntoIterator<Item = (String, String)>) -> Result<Vec<ThreatCase>, String> {
    let mut cases = Vec::new();
    let mut seen = HashSet::new();
    for (label, text) in files {
        for case in parse_file(&text).map_err(|e| format!("{label}: {e}"))? {
            if !seen.insert(case.id.clone()) {
                return Err(format!("{label}: duplicate case id {}", case.id));
            }
            cases.push(case);
        }
    }
    Ok(cases)
}

/// A file in our format (it names a `class`) or upstream's.
fn parse_file(text: &str) -> Result<Vec<ThreatCase>, String> {
    let top: Json = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    if top.get("class").is_none() {
        return crate::upstream_corpus::parse(text);
    }
    parse_ours(text)
}

fn parse_ours(text: &str) -> Result<Vec<ThreatCase>, String> {
    let file: CorpusFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    if file.class.trim().is_empty() {
        return Err("class must not be empty".into());
    }
    file.cases
        .into_iter()
        .map(|raw| checked_case(&file.class, raw))
        .collect()
}

fn checked_case(class: &str, raw: RawCase) -> Result<ThreatCase, String> {
    let expect = parse_label(&raw.expect).map_err(|e| format!("{}: {e}", raw.id))?;
    if raw.tool.is_empty() {
        return Err(format!("{}: tool must not be empty", raw.id));
    }
    if raw.reason.trim().is_empty() {
        return Err(format!("{}: every case needs a reason", raw.id));
    }
    if let Some(d) = raw.dialect.as_deref().filter(|d| !DIALECTS.contains(d)) {
        return Err(format!(
            "{}: unknown dialect {d:?} (expected one of {})",
            raw.id,
            DIALECTS.join(", ")
        ));
    }
    Ok(ThreatCase {
        class: class.to_string(),
        id: raw.id,
        tool: raw.tool,
        params: Json::Object(raw.params.into_iter().collect()),
        agent: raw.agent.unwrap_or_else(|| DEFAULT_AGENT.to_string()),
        workdir: raw.workdir,
        dialect: raw.dialect,
        technique: raw.technique,
        expect,
        reason: raw.reason,
        severity: None,
        os: Vec::new(),
        ask_suffices: false,
    })
}

/// The four labels a case may carry (webhook and the deprecated `log` are not corpus labels).
fn parse_label(text: &str) -> Result<Action, String> {
    match text {
        "deny" => Ok(Action::Deny),
        "ask" => Ok(Action::Ask),
        "watch" => Ok(Action::Watch),
        "allow" => Ok(Action::Allow),
        other => Err(format!(
            "expect must be deny, ask, watch or allow, not {other:?}"
        )),
    }
}

fn action_name<S: serde::Serializer>(action: &Action, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(action.as_str())
}

fn blocks(action: Action) -> bool {
    matches!(action, Action::Deny | Action::Ask)
}

/// How one case was decided.
#[derive(Clone, Debug, Serialize)]
pub struct CaseOutcome {
    pub id: String,
    pub class: String,
    pub dialect: Option<String>,
    pub technique: Option<String>,
    pub tool: String,
    #[serde(serialize_with = "action_name")]
    pub expected: Action,
    /// `None` when the call could not be built (the error says why).
    #[serde(serialize_with = "opt_action_name")]
    pub actual: Option<Action>,
    pub message: String,
    pub reason: String,
    /// An ask also counts as decided as labelled (see [`ThreatCase::ask_suffices`]).
    #[serde(skip)]
    pub ask_suffices: bool,
}

fn opt_action_name<S: serde::Serializer>(action: &Option<Action>, s: S) -> Result<S::Ok, S::Error> {
    match action {
        Some(a) => s.serialize_str(a.as_str()),
        None => s.serialize_none(),
    }
}

impl CaseOutcome {
    pub fn as_labelled(&self) -> bool {
        let ask_stops = self.ask_suffices && self.expected == Action::Deny;
        self.actual == Some(self.expected) || (ask_stops && self.actual == Some(Action::Ask))
    }

    /// A call labelled allow or watch that the policy denied or asked about.
    pub fn false_block(&self) -> bool {
        !blocks(self.expected) && self.actual.is_some_and(blocks)
    }

    /// A call labelled deny or ask that the policy let through.
    pub fn missed(&self) -> bool {
        blocks(self.expected) && !self.actual.is_some_and(blocks)
    }

    /// A call labelled deny or ask that the policy denied or asked about.
    pub fn stopped(&self) -> bool {
        blocks(self.expected) && self.actual.is_some_and(blocks)
    }
}

/// One row of the coverage table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CoverageRow {
    pub name: String,
    pub total: usize,
    pub as_labelled: usize,
    /// Labelled deny/ask.
    pub to_stop: usize,
    /// Labelled deny/ask, decided deny/ask.
    pub stopped: usize,
    /// Labelled allow/watch.
    pub to_allow: usize,
    /// Labelled allow/watch, decided deny/ask.
    pub false_blocks: usize,
    /// Labelled deny/ask, decided allow/watch (or not decidable).
    pub missed: usize,
}

impl CoverageRow {
    fn add(&mut self, outcome: &CaseOutcome) {
        self.total += 1;
        self.as_labelled += usize::from(outcome.as_labelled());
        self.to_stop += usize::from(blocks(outcome.expected));
        self.stopped += usize::from(outcome.stopped());
        self.to_allow += usize::from(!blocks(outcome.expected));
        self.false_blocks += usize::from(outcome.false_block());
        self.missed += usize::from(outcome.missed());
    }

    /// Share decided as labelled, in percent (100 for an empty row).
    pub fn percent(&self) -> f64 {
        share(self.as_labelled, self.total)
    }

    /// Share of the calls labelled deny or ask that were stopped, in percent (100 for none).
    pub fn stopped_percent(&self) -> f64 {
        share(self.stopped, self.to_stop)
    }
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        100.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

/// Coverage per class, per dialect and per technique, plus the total.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CoverageTable {
    pub classes: Vec<CoverageRow>,
    pub dialects: Vec<CoverageRow>,
    /// Per catalogue entry (ATT&CK id, GTFOBins or LOLBAS name); not printed unless asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<CoverageRow>,
    pub total: CoverageRow,
}

impl CoverageTable {
    fn from_outcomes(outcomes: &[CaseOutcome]) -> CoverageTable {
        let mut classes: BTreeMap<&str, CoverageRow> = BTreeMap::new();
        let mut dialects: BTreeMap<&str, CoverageRow> = BTreeMap::new();
        let mut techniques: BTreeMap<&str, CoverageRow> = BTreeMap::new();
        let mut total = CoverageRow {
            name: "total".into(),
            ..CoverageRow::default()
        };
        for o in outcomes {
            row(&mut classes, &o.class).add(o);
            if let Some(d) = &o.dialect {
                row(&mut dialects, d).add(o);
            }
            if let Some(t) = &o.technique {
                row(&mut techniques, t).add(o);
            }
            total.add(o);
        }
        CoverageTable {
            classes: classes.into_values().collect(),
            dialects: dialects.into_values().collect(),
            techniques: techniques.into_values().collect(),
            total,
        }
    }

    /// The table with its per-technique rows (see [`CoverageTable::techniques`]).
    pub fn with_techniques(&self) -> impl fmt::Display + '_ {
        ByTechnique(self)
    }
}

struct ByTechnique<'t>(&'t CoverageTable);

impl fmt::Display for ByTechnique<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rows(f, "technique", &self.0.techniques)?;
        writeln!(f)?;
        write!(f, "{}", self.0)
    }
}

fn row<'r, 'm>(rows: &'r mut BTreeMap<&'m str, CoverageRow>, name: &'m str) -> &'r mut CoverageRow {
    rows.entry(name).or_insert_with(|| CoverageRow {
        name: name.to_string(),
        ..CoverageRow::default()
    })
}

impl fmt::Display for CoverageTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rows(f, "class", &self.classes)?;
        if !self.dialects.is_empty() {
            writeln!(f)?;
            write_rows(f, "dialect", &self.dialects)?;
        }
        writeln!(f)?;
        write_rows(f, "", std::slice::from_ref(&self.total))
    }
}

/// Rows of `strict` (decided as labelled), `stopped` (deny/ask-labelled calls decided deny or
/// ask) and `blocked` (allow/watch-labelled calls decided deny or ask).
fn write_rows(f: &mut fmt::Formatter<'_>, title: &str, rows: &[CoverageRow]) -> fmt::Result {
    if !title.is_empty() {
        writeln!(
            f,
            "{title:<22} {:>11} {:>7} {:>11} {:>7} {:>9}",
            "strict", "%", "stopped", "%", "blocked"
        )?;
    }
    for r in rows {
        let strict = format!("{}/{}", r.as_labelled, r.total);
        // A row with nothing to stop (or to allow) shows a dash, not a vacuous 100%.
        let (stopped, percent) = if r.to_stop == 0 {
            ("-".to_string(), String::new())
        } else {
            (
                format!("{}/{}", r.stopped, r.to_stop),
                format!("{:.1}%", r.stopped_percent()),
            )
        };
        let blocked = if r.to_allow == 0 {
            "-".to_string()
        } else {
            format!("{}/{}", r.false_blocks, r.to_allow)
        };
        writeln!(
            f,
            "{:<22} {strict:>11} {:>6.1}% {stopped:>11} {percent:>7} {blocked:>9}",
            r.name,
            r.percent(),
        )?;
    }
    Ok(())
}

/// Every case's outcome and the coverage table.
#[derive(Clone, Debug, Serialize)]
pub struct CorpusReport {
    pub outcomes: Vec<CaseOutcome>,
    pub table: CoverageTable,
}

impl CorpusReport {
    /// Share of all cases decided as labelled, in percent.
    pub fn coverage(&self) -> f64 {
        self.table.total.percent()
    }

    /// Share of the cases labelled deny or ask that were decided deny or ask, in percent.
    pub fn stopped(&self) -> f64 {
        self.table.total.stopped_percent()
    }

    /// Cases not decided as labelled.
    pub fn mismatches(&self) -> impl Iterator<Item = &CaseOutcome> {
        self.outcomes.iter().filter(|o| !o.as_labelled())
    }

    /// Cases labelled allow/watch that were denied or asked.
    pub fn false_blocks(&self) -> impl Iterator<Item = &CaseOutcome> {
        self.outcomes.iter().filter(|o| o.false_block())
    }

    /// Keeps only the cases of one class (for `rampart bench --category`).
    pub fn only_class(self, class: &str) -> CorpusReport {
        let outcomes: Vec<_> = self
            .outcomes
            .into_iter()
            .filter(|o| o.class == class)
            .collect();
        let table = CoverageTable::from_outcomes(&outcomes);
        CorpusReport { outcomes, table }
    }
}

impl fmt::Display for CaseOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let actual = self.actual.map_or("error", Action::as_str);
        write!(
            f,
            "{} [{}] {}: expected {}, got {} ({}): {}",
            self.id,
            self.dialect.as_deref().unwrap_or("-"),
            self.tool,
            self.expected.as_str(),
            actual,
            self.message,
            self.reason
        )
    }
}

/// Decides every case with `eval` (request phase, no call counter, lexical paths only).
pub fn run_corpus(eval: &Evaluator<'_>, cases: &[ThreatCase]) -> CorpusReport {
    let ctx = EvalContext::now();
    let outcomes: Vec<CaseOutcome> = cases.iter().map(|c| decide(eval, &ctx, c)).collect();
    let table = CoverageTable::from_outcomes(&outcomes);
    CorpusReport { outcomes, table }
}

fn decide(eval: &Evaluator<'_>, ctx: &EvalContext<'_>, case: &ThreatCase) -> CaseOutcome {
    let mut call =
        json!({"tool": case.tool, "agent": case.agent, "session": "", "params": case.params});
    if let (Some(dir), Some(obj)) = (&case.workdir, call.as_object_mut()) {
        obj.insert("workdir".into(), Json::String(dir.clone()));
    }
    let (actual, message) = match call_from_json(&call) {
        Ok(call) => {
            let d = eval.evaluate(&call, ctx);
            (Some(d.action), d.message)
        }
        Err(e) => (None, format!("invalid call: {e}")),
    };
    CaseOutcome {
        id: case.id.clone(),
        class: case.class.clone(),
        dialect: case.dialect.clone(),
        technique: case.technique.clone(),
        tool: case.tool.clone(),
        expected: case.expect,
        actual,
        message,
        reason: case.reason.clone(),
        ask_suffices: case.ask_suffices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_corpus_file() {
        let text = "class: destructive\ncases:\n  - id: d-1\n    tool: exec\n    params: {command: \"rm -rf ~\"}\n    dialect: posix\n    technique: T1485\n    expect: deny\n    reason: home\n";
        let cases = parse_file(text).expect("parses");
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].class, "destructive");
        assert_eq!(cases[0].expect, Action::Deny);
        assert_eq!(cases[0].params, json!({"command": "rm -rf ~"}));
        assert_eq!(cases[0].agent, DEFAULT_AGENT);
        assert_eq!(cases[0].technique.as_deref(), Some("T1485"));
    }

    #[test]
    fn rejects_bad_cases() {
        let bad = [
            ("unknown key", "class: x\ncases:\n  - {id: a, tool: exec, params: {}, expect: deny, reason: r, why: y}\n"),
            ("bad label", "class: x\ncases:\n  - {id: a, tool: exec, params: {}, expect: block, reason: r}\n"),
            ("no reason", "class: x\ncases:\n  - {id: a, tool: exec, params: {}, expect: deny, reason: \" \"}\n"),
            ("bad dialect", "class: x\ncases:\n  - {id: a, tool: exec, params: {}, expect: deny, reason: r, dialect: bash}\n"),
            ("empty class", "class: \"\"\ncases: []\n"),
        ];
        for (what, text) in bad {
            assert!(parse_file(text).is_err(), "{what} should be rejected");
        }
    }

    fn outcome(
        class: &str,
        dialect: Option<&str>,
        expected: Action,
        actual: Action,
    ) -> CaseOutcome {
        CaseOutcome {
            id: "x".into(),
            class: class.into(),
            dialect: dialect.map(str::to_string),
            technique: Some("T1".into()),
            tool: "exec".into(),
            expected,
            actual: Some(actual),
            message: String::new(),
            reason: String::new(),
            ask_suffices: false,
        }
    }

    #[test]
    fn table_counts_coverage_false_blocks_and_misses() {
        let outcomes = [
            outcome("rce", Some("posix"), Action::Deny, Action::Deny),
            outcome("rce", Some("cmd"), Action::Deny, Action::Allow),
            outcome("benign", Some("posix"), Action::Allow, Action::Ask),
            outcome("benign", None, Action::Watch, Action::Allow),
        ];
        let t = CoverageTable::from_outcomes(&outcomes);
        let names: Vec<_> = t.classes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["benign", "rce"]);
        assert_eq!((t.classes[1].as_labelled, t.classes[1].missed), (1, 1));
        assert_eq!(
            (t.classes[0].as_labelled, t.classes[0].false_blocks),
            (0, 1)
        );
        assert_eq!(t.dialects.len(), 2);
        assert_eq!((t.total.total, t.total.as_labelled), (4, 1));
        assert!((t.total.percent() - 25.0).abs() < 1e-9);
        assert_eq!((t.classes[1].stopped, t.classes[1].to_stop), (1, 2));
        assert!((t.total.stopped_percent() - 50.0).abs() < 1e-9);
        assert_eq!((t.classes[0].false_blocks, t.classes[0].to_allow), (1, 2));
        assert_eq!(t.techniques.len(), 1);
        let shown = t.to_string();
        assert!(shown.contains("rce") && shown.contains("1/2") && shown.contains("total"));
        assert!(t.with_techniques().to_string().contains("T1"));
    }
}
