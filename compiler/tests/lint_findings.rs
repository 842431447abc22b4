//! Lint: each problem of reference §1.7 (and unreachable rules) is reported at its line, and a clean
//! policy gets no errors or warnings.

use rampart_compiler::lint::{lint_str, Finding, Severity};
use Severity::{Error, Info, Warning};

fn lint(text: &str) -> Vec<Finding> {
    lint_str("p.yaml", text)
}

/// Asserts that a finding with this severity, line and message fragment exists.
fn has(findings: &[Finding], severity: Severity, line: u32, fragment: &str) -> bool {
    findings
        .iter()
        .any(|f| f.severity == severity && f.pos.line == line && f.message.contains(fragment))
}

const HEAD: &str = "default_action: deny\npolicies:\n";

#[test]
fn each_problem_is_reported_where_it_is() {
    // (policy body after HEAD, severity, line, message fragment)
    let cases: &[(&str, Severity, u32, &str)] = &[
        ("  - name: a\n    rules:\n      - action: blok\n", Error, 5, "did you mean `deny`?"),
        ("  - name: a\n    rules:\n      - action: denyy\n", Error, 5, "`deny`"),
        ("  - name: a\n    rules:\n      - action: permit\n", Error, 5, "`allow`"),
        ("  - name: a\n    rules:\n      - action: allaw\n", Error, 5, "`allow`"),
        ("  - name: a\n    rules:\n      - action: logging\n", Error, 5, "`log`"),
        ("  - name: a\n    rules:\n      - action: approve\n", Error, 5, "`ask`"),
        ("  - name: a\n    rules:\n      - action: require_approval\n", Error, 5, "removed in v0.9.9"),
        ("  - name: a\n    rules:\n      - action: log\n", Warning, 5, "`log` is deprecated"),
        (
            "  - name: a\n    rules:\n      - action: deny\n        when:\n          path_match: [x]\n",
            Error,
            7,
            "unknown condition field `path_match` (did you mean `path_matches`?)",
        ),
        (
            "  - name: a\n    rules:\n      - action: deny\n        when:\n          url_match: [x]\n",
            Error,
            7,
            "`url_matches`",
        ),
        ("  - name: a\n    action: deny\n", Error, 4, "policy-level `action` does nothing"),
        (
            "  - name: a\n    rules:\n      - action: deny\n        when:\n          command_matches: [\"/**/a/**/b/**\"]\n",
            Error,
            7,
            "3 `**`",
        ),
        (
            "  - name: a\n    rules:\n      - action: deny\n        when:\n          command_contains: [\"\"]\n",
            Error,
            7,
            "empty or whitespace",
        ),
        (
            "  - name: a\n    rules:\n      - action: deny\n        when:\n          call_count: {gte: 2000, window: 1h}\n",
            Error,
            7,
            "between 0 and 1000",
        ),
        (
            "  - name: a\n    rules:\n      - action: deny\n        when:\n          call_count: {gte: 2, window: 31d}\n",
            Error,
            7,
            "not a duration",
        ),
        ("  - name: a\n    rules: []\n", Warning, 3, "has no rules"),
        (
            "  - name: a\n    rules:\n      - action: deny\n        match: {tool: exec}\n",
            Warning,
            6,
            "did you mean `when`?",
        ),
        (
            "  - name: a\n    rules:\n      - action: deny\n        reason: no\n",
            Warning,
            6,
            "did you mean `message`?",
        ),
        (
            "  - name: a\n    rules:\n      - action: ask\n        when: {command_matches: [x]}\n",
            Info,
            5,
            "not scoped to agent `claude-code`",
        ),
        ("  - name: a\n    rules:\n      - action: deny\n", Info, 5, "empty `when` matches all tool calls"),
        (
            "  - name: a\n    rules:\n      - action: deny\n        when: {default: true}\n      - action: allow\n        when: {command_matches: [ls]}\n",
            Info,
            7,
            "shadowed",
        ),
        (
            "  - name: a\n    rules:\n      - action: allow\n        when: {default: true}\n      - action: deny\n        when: {command_matches: [rm]}\n",
            Warning,
            7,
            "unreachable: the rule at line 5 has `default: true`",
        ),
        (
            "  - name: a\n    rules:\n      - action: watch\n      - action: deny\n        when: {command_matches: [rm]}\n",
            Warning,
            6,
            "unreachable: the rule at line 5 has an empty `when`",
        ),
        (
            "  - name: a\n    rules:\n      - action: allow\n        when: {command_not_matches: [rm]}\n",
            Warning,
            6,
            "never makes a rule fire",
        ),
        (
            "  - name: a\n    rules:\n      - action: webhook\n        webhook: {url: \"http://plain\"}\n",
            Warning,
            6,
            "plain http",
        ),
        ("  - name: a\n    rules:\n      - action: webhook\n", Error, 5, "needs `webhook.url`"),
        ("  - name: a\n    rules: [{action: deny}]\n  - name: a\n    rules: [{action: deny}]\n", Error, 5, "duplicate policy name"),
        ("  - rules: [{action: deny}]\n", Error, 3, "policy has no name"),
        ("  - name: a\n    descripton: x\n    rules: [{action: deny}]\n", Error, 4, "did you mean `description`?"),
        (
            "  - name: a\n    rules:\n      - action: deny\n        when:\n          response_matches: [\"(a*){2}\"]\n",
            Error,
            7,
            "nested quantifier",
        ),
        (
            "  - name: a\n    rules:\n      - action: allow\n        expires_at: yesterday\n",
            Error,
            6,
            "RFC 3339",
        ),
    ];
    for (body, severity, line, fragment) in cases {
        let findings = lint(&format!("{HEAD}{body}"));
        assert!(
            has(&findings, *severity, *line, fragment),
            "{body}\nwanted {severity:?} at line {line} with {fragment:?}, got:\n{findings:#?}"
        );
    }
}

#[test]
fn rules_that_expire_do_not_shadow() {
    let findings = lint(&format!(
        "{HEAD}  - name: a\n    rules:\n      - action: allow\n        expires_at: \"2030-01-01T00:00:00Z\"\n      - action: deny\n        when: {{command_matches: [rm]}}\n"
    ));
    assert!(
        !findings.iter().any(|f| f.message.contains("unreachable")),
        "{findings:#?}"
    );
}

#[test]
fn top_level_findings() {
    let findings = lint(
        "policies:\n  - name: a\n    rules: [{action: deny, when: {command_matches: [rm]}}]\n",
    );
    assert!(has(&findings, Info, 1, "implicit deny"), "{findings:#?}");
    let findings = lint("default_action: allow\npolicies: []\n");
    assert!(
        has(&findings, Warning, 1, "`allow` lets through"),
        "{findings:#?}"
    );
    assert!(has(&findings, Warning, 2, "no policies"), "{findings:#?}");
    let findings = lint("default_action: permit\nincludes: [x]\n");
    assert!(
        has(&findings, Error, 1, "did you mean `allow`?"),
        "{findings:#?}"
    );
    assert!(has(&findings, Error, 2, "no includes"), "{findings:#?}");
    let findings = lint("policies: [\n");
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0].severity == Error && findings[0].message.starts_with("invalid YAML"),
        "{findings:#?}"
    );
}

#[test]
fn catch_all_deny_overrides_later_overlapping_policies() {
    let text = "default_action: deny\npolicies:\n  - name: lockdown\n    priority: 1\n    match: {tool: exec}\n    rules:\n      - action: deny\n        when: {default: true}\n  - name: dev\n    match: {tool: [exec, read]}\n    rules:\n      - action: allow\n        when: {command_matches: [\"npm *\"]}\n  - name: reads\n    match: {tool: read}\n    rules:\n      - action: allow\n        when: {path_matches: [\"**\"]}\n";
    let findings = lint(text);
    assert!(
        has(
            &findings,
            Info,
            9,
            "\"dev\" is overridden where its scope overlaps \"lockdown\""
        ),
        "{findings:#?}"
    );
    assert!(
        !findings
            .iter()
            .any(|f| f.message.contains("\"reads\" is overridden")),
        "{findings:#?}"
    );
}

#[test]
fn all_errors_are_reported_not_just_the_first() {
    let findings = lint(&format!(
        "{HEAD}  - name: a\n    rules:\n      - action: blok\n      - action: alow\n        when: {{command_match: [x]}}\n"
    ));
    let errors = findings.iter().filter(|f| f.severity == Error).count();
    assert_eq!(errors, 3, "{findings:#?}");
    let lines: Vec<u32> = findings.iter().map(|f| f.pos.line).collect();
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "findings are in file order"
    );
}

#[test]
fn a_clean_policy_has_no_errors_or_warnings() {
    let text = "default_action: deny\npolicies:\n  - name: dev\n    match: {agent: claude-code, tool: exec}\n    rules:\n      - action: deny\n        when: {command_matches: [\"rm -rf /*\"]}\n      - action: ask\n        when: {command_matches: [\"git push*\"]}\n      - action: allow\n        when: {default: true}\n";
    let findings = lint(text);
    assert!(findings.iter().all(|f| f.severity == Info), "{findings:#?}");
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn lint_path_reads_files_and_reports_unreadable_ones() {
    let missing = std::path::Path::new("/nonexistent/rampart/p.yaml");
    assert!(rampart_compiler::lint::lint_path(missing).is_err());
}
