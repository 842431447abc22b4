//! A tool's output, as response rules read it and as a blocked one is handed back.
//!
//! The threat: output that carries a secret or an injected instruction reaches the model. A
//! host shows the model the text inside the output (Bash's `stdout` and `stderr`, a fetched
//! page), so the response rules read that text, decoded: every string in the output, one per
//! line. When they deny, the output is not dropped but redacted *inside its own shape*: the host
//! only takes a replacement that has the tool's output shape (Bash: `{stdout, stderr,
//! interrupted}`) and otherwise keeps the original, secret included. So each string that the
//! rules deny on its own is replaced, and when no single string is to blame (a pattern spanning
//! two of them) every string is; numbers, flags and keys stay as they were.

use serde_json::Value;

/// What replaces a withheld string (upstream's server answers with the same words).
pub const REDACTED: &str = "[REDACTED: sensitive content removed by Rampart]";

/// The text of `output` that response rules read: a string as it is; otherwise every string in
/// it (object members in key order), one per line. `None` when there is nothing to read.
pub fn text(output: &Value) -> Option<String> {
    match output {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => {
            let mut strings = Vec::new();
            collect(other, &mut strings);
            (!strings.is_empty()).then(|| strings.join("\n"))
        }
    }
}

fn collect<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// `output` with the strings `denied` says are sensitive replaced by [`REDACTED`]; every string
/// when none is on its own.
pub fn redact(output: &Value, denied: &mut dyn FnMut(&str) -> bool) -> Value {
    let mut redacted = output.clone();
    if !replace(&mut redacted, denied) {
        replace(&mut redacted, &mut |_| true);
    }
    redacted
}

/// Replaces the strings `denied` picks; whether it picked any.
fn replace(value: &mut Value, denied: &mut dyn FnMut(&str) -> bool) -> bool {
    match value {
        Value::String(s) => {
            let hit = s.as_str() != REDACTED && denied(s);
            if hit {
                *s = REDACTED.to_string();
            }
            hit
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, v| replace(v, denied) | any),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |any, v| replace(v, denied) | any),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_reads_every_string() {
        assert_eq!(text(&json!("plain")).as_deref(), Some("plain"));
        let bash = json!({"stdout": "out", "stderr": "err", "interrupted": false});
        assert_eq!(text(&bash).as_deref(), Some("err\nout"));
        assert_eq!(text(&json!(null)), None);
        assert_eq!(text(&json!({"n": 3})), None);
    }

    #[test]
    fn redaction_keeps_the_shape() {
        let bash = json!({"stdout": "AKIA secret", "stderr": "", "interrupted": false});
        let out = redact(&bash, &mut |s| s.contains("AKIA"));
        assert_eq!(
            out,
            json!({"stdout": REDACTED, "stderr": "", "interrupted": false})
        );
        // Nothing to blame on its own: every string goes.
        let split = json!(["half one", "half two", 7]);
        let out = redact(&split, &mut |_| false);
        assert_eq!(out, json!([REDACTED, REDACTED, 7]));
        assert_eq!(redact(&json!("x"), &mut |_| true), json!(REDACTED));
    }
}
