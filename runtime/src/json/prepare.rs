//! Request preparation: what upstream's server does to a call before its engine sees it
//! (reference §3.4 "Request preparation", §2.8).
//!
//! The threat: upstream's HTTP layer rewrites a call before evaluating it, and a surface that
//! skipped a rewrite would judge a different call than the one that runs. `command_b64` carrying
//! `rm -rf /` is the sharpest case: the server decodes it and denies, a surface that does not
//! decode it sees no command at all and allows. So the rewrites live here, in the shared call
//! decoding, and every surface that receives JSON (`rampart check`, `test`, `policy explain`,
//! the hooks, the server, the MCP proxy) decides the same call:
//!
//! * `exec`: a `command_b64` (standard base64, at most [`MAX_COMMAND_B64`] bytes decoded) is one
//!   more spelling of the command, so it joins the aliases (`command`, `cmd`, `input`) and a value
//!   that disagrees with them fails closed like any alias conflict; leading lines that are blank
//!   or start with `#` are then stripped from the command (an allow for `git *` covers
//!   `# check\ngit status`, as upstream);
//! * `agent`: the `description`, else the `prompt`, is the command that command rules see; a
//!   caller's `command` that says otherwise is a conflict (upstream overwrites it; either way a
//!   decoy cannot be what the policy judges);
//! * the fetch family (`fetch`, `http`, `web_fetch`, `browser`): when there is a URL, `domain`,
//!   `scheme` and `path` are the URL's, never the caller's: the caller's are removed and, when
//!   the URL has a host, derived from it (a caller `domain` that contradicts the URL no longer
//!   reaches the engine's conflict check: the host the request goes to is what is judged);
//! * a `command_effective` key (a decoy upstream deletes) is removed.
//!
//! Conflicts are left for canonicalisation ([`crate::call::canonicalize`]) to refuse, so they
//! give the engine's one fail-closed message; what is no call at all (base64 that does not
//! decode, an oversized or non-text payload) is an error of the decoding.

use alloc::string::String;
use alloc::vec::Vec;

use super::base64::decode_std;
use super::CallJsonError;
use crate::call::{command_keys, pick, url_keys, Call, Value};

/// Longest decoded `command_b64` (upstream's 1 MiB).
pub const MAX_COMMAND_B64: usize = 1 << 20;

/// The tools whose URL upstream's server derives `domain`, `scheme` and `path` from.
const FETCH_FAMILY: [&str; 4] = ["fetch", "http", "web_fetch", "browser"];

/// Applies upstream's request preparation to `call`.
pub fn prepare(call: &mut Call) -> Result<(), CallJsonError> {
    remove(call, "command_effective");
    match call.tool.as_str() {
        "exec" => {
            decode_command_b64(call)?;
            strip_leading_comments(call);
        }
        "agent" => agent_command(call),
        tool if FETCH_FAMILY.contains(&tool) => derive_from_url(call),
        _ => {}
    }
    Ok(())
}

/// Replaces every `command_b64` by the `command` it encodes, in the same map.
fn decode_command_b64(call: &mut Call) -> Result<(), CallJsonError> {
    for entry in call.params.iter_mut().chain(call.input.iter_mut()) {
        let (key, value) = entry;
        if key != "command_b64" {
            continue;
        }
        {
            let Value::Str(encoded) = value else {
                return Err(CallJsonError("\"command_b64\" must be a string".into()));
            };
            let decoded = decode_std(encoded)
                .ok_or_else(|| CallJsonError("\"command_b64\" is not standard base64".into()))?;
            if decoded.len() > MAX_COMMAND_B64 {
                return Err(CallJsonError(alloc::format!(
                    "\"command_b64\" decodes to more than {MAX_COMMAND_B64} bytes"
                )));
            }
            let command = String::from_utf8(decoded)
                .map_err(|_| CallJsonError("\"command_b64\" does not decode to text".into()))?;
            *key = "command".into();
            *value = Value::Str(command);
        }
    }
    Ok(())
}

/// Strips leading blank and `#` lines from the exec command, in every alias that holds it.
/// Aliases that disagree are left as they are: canonicalisation refuses them.
fn strip_leading_comments(call: &mut Call) {
    let keys = command_keys("exec");
    let stripped = match pick(call, keys) {
        Ok(Some(command)) => {
            let stripped = without_leading_comments(command);
            if stripped.len() == command.len() {
                return;
            }
            String::from(stripped)
        }
        _ => return,
    };
    for (key, value) in call.params.iter_mut().chain(call.input.iter_mut()) {
        if let Value::Str(s) = value {
            if keys.contains(&key.as_str()) && !s.trim().is_empty() {
                s.clone_from(&stripped);
            }
        }
    }
}

/// `command` from its first line that is neither blank nor a `#` comment.
fn without_leading_comments(command: &str) -> &str {
    let mut rest = command;
    loop {
        let (line, next) = match rest.split_once('\n') {
            Some((line, next)) => (line, Some(next)),
            None => (rest, None),
        };
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            return rest;
        }
        match next {
            Some(next) => rest = next,
            None => return "",
        }
    }
}

/// The `agent` tool's description, else its prompt, becomes its command.
fn agent_command(call: &mut Call) {
    let text = |key: &str| {
        call.params
            .iter()
            .chain(&call.input)
            .find_map(|(k, v)| match v {
                Value::Str(s) if k == key && !s.trim().is_empty() => Some(s.clone()),
                _ => None,
            })
    };
    if let Some(command) = text("description").or_else(|| text("prompt")) {
        call.params.push(("command".into(), Value::Str(command)));
    }
}

/// The fetch family's `domain`, `scheme` and `path` come from the URL, never from the caller.
/// Without a URL the caller's `domain` is all there is, and it stays (the engine matches it).
fn derive_from_url(call: &mut Call) {
    // A caller value that is not a string, or two that disagree, is refused by
    // canonicalisation; removing it first would hide the malformed call.
    let (Ok(_), Ok(_), Ok(Some(url))) = (
        pick(call, &["domain"]),
        pick(call, &["scheme"]),
        pick(call, url_keys(&call.tool)),
    ) else {
        return;
    };
    let derived = crate::url::parts(url).map(|p| {
        let host = String::from(p.host);
        [("domain", host), ("scheme", p.scheme), ("path", p.path)]
    });
    remove(call, "domain");
    remove(call, "scheme");
    if let Some(derived) = derived {
        remove(call, "path");
        let derived: Vec<(String, Value)> = derived
            .into_iter()
            .map(|(k, v)| (String::from(k), Value::Str(v)))
            .collect();
        call.params.extend(derived);
    }
}

/// Removes `key` from the params and the input.
fn remove(call: &mut Call, key: &str) {
    call.params.retain(|(k, _)| k != key);
    call.input.retain(|(k, _)| k != key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::canonicalize;

    fn prepared(tool: &str, params: &[(&str, &str)]) -> Call {
        let mut call = Call::new(tool, "a", params);
        prepare(&mut call).expect("prepares");
        call
    }

    fn command(call: &Call) -> Option<String> {
        canonicalize(call, &[]).unwrap().command.map(String::from)
    }

    #[test]
    fn command_b64_is_the_command() {
        let c = prepared("exec", &[("command_b64", "cm0gLXJmIC8=")]);
        assert_eq!(command(&c).as_deref(), Some("rm -rf /"));
        let c = prepared(
            "exec",
            &[("command", "rm -rf /"), ("command_b64", "cm0gLXJmIC8=")],
        );
        assert_eq!(command(&c).as_deref(), Some("rm -rf /"));
        let c = prepared(
            "exec",
            &[("command", "ls"), ("command_b64", "cm0gLXJmIC8=")],
        );
        assert!(
            canonicalize(&c, &[]).is_err(),
            "a disagreeing alias fails closed"
        );
        // Only exec decodes it.
        let c = prepared("bash", &[("command_b64", "cm0gLXJmIC8=")]);
        assert_eq!(command(&c), None);
    }

    #[test]
    fn command_b64_that_is_no_command_is_an_error() {
        let mut c = Call::new("exec", "a", &[("command_b64", "not base64!")]);
        assert!(prepare(&mut c).is_err());
        let mut c = Call::new("exec", "a", &[("command_b64", "/w==")]);
        assert!(prepare(&mut c).is_err(), "not UTF-8");
        let mut c = Call::new("exec", "a", &[]);
        c.input
            .push(("command_b64".into(), Value::Other("7".into())));
        assert!(prepare(&mut c).is_err());
        let big = "QUFB".repeat(MAX_COMMAND_B64 / 3 + 1);
        let mut c = Call::new("exec", "a", &[("command_b64", &big)]);
        assert!(prepare(&mut c).is_err());
    }

    #[test]
    fn leading_comment_lines_are_stripped() {
        let cases = [
            ("# check\n\n  # more\ngit status", "git status"),
            ("\n\ngit status\n# trailing", "git status\n# trailing"),
            ("git status # not leading", "git status # not leading"),
            ("# only comments", ""),
        ];
        for (raw, want) in cases {
            let c = prepared("exec", &[("command", raw), ("cmd", raw)]);
            let got = command(&c).unwrap_or_default();
            assert_eq!(got, want, "{raw:?}");
        }
        // Not for other tools.
        let c = prepared("bash", &[("command", "# x\nls")]);
        assert_eq!(command(&c).as_deref(), Some("# x\nls"));
        // Disagreeing aliases stay disagreeing.
        let c = prepared("exec", &[("command", "# x\nls"), ("cmd", "ls")]);
        assert!(canonicalize(&c, &[]).is_err());
    }

    #[test]
    fn the_agent_tool_is_judged_by_its_description() {
        let c = prepared("agent", &[("description", "wipe"), ("prompt", "p")]);
        assert_eq!(command(&c).as_deref(), Some("wipe"));
        let c = prepared("agent", &[("description", " "), ("prompt", "p")]);
        assert_eq!(command(&c).as_deref(), Some("p"));
        let c = prepared("agent", &[("command", "ls"), ("description", "wipe")]);
        assert!(
            canonicalize(&c, &[]).is_err(),
            "a decoy command fails closed"
        );
        let c = prepared("agent", &[]);
        assert_eq!(command(&c), None);
    }

    #[test]
    fn the_fetch_family_takes_domain_scheme_and_path_from_the_url() {
        let c = prepared(
            "fetch",
            &[
                ("url", "HTTPS://Evil.com./a%20b?q"),
                ("domain", "good.com"),
                ("path", "/x"),
            ],
        );
        let canon = canonicalize(&c, &[]).unwrap();
        assert_eq!(canon.domain.as_deref(), Some("evil.com"));
        assert_eq!(canon.path, Some("/a b"));
        let value = |k: &str| {
            c.params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.render())
        };
        assert_eq!(value("scheme"), Some("https"));
        // No host: the caller's domain and scheme are still not believed.
        let c = prepared(
            "web_fetch",
            &[("url", "notaurl"), ("domain", "x.com"), ("scheme", "s")],
        );
        assert_eq!(canonicalize(&c, &[]).unwrap().domain, None);
        // No URL: the caller's domain is all there is.
        let c = prepared("fetch", &[("domain", "x.com")]);
        assert_eq!(
            canonicalize(&c, &[]).unwrap().domain.as_deref(),
            Some("x.com")
        );
        // Malformed caller values are left for canonicalisation to refuse.
        let mut c = Call::new("fetch", "a", &[("url", "https://a.com/")]);
        c.params.push(("domain".into(), Value::Other("5".into())));
        prepare(&mut c).unwrap();
        assert!(canonicalize(&c, &[]).is_err());
        // Other tools keep their domain.
        let c = prepared("mcp__x", &[("domain", "x.com")]);
        assert_eq!(
            canonicalize(&c, &[]).unwrap().domain.as_deref(),
            Some("x.com")
        );
    }

    #[test]
    fn command_effective_is_removed() {
        let c = prepared(
            "exec",
            &[("command", "ls"), ("command_effective", "rm -rf /")],
        );
        assert!(c.params.iter().all(|(k, _)| k != "command_effective"));
    }
}
