//! The hostname of a URL, the way Go's `url.Parse(u).Hostname()` finds it (reference §2.8).
//!
//! Domain rules must see the host the request will really reach, whatever spelling the caller
//! used: `https://user@EVIL.com.:443/x` is `evil.com`. So userinfo, port and IPv6 brackets are
//! dropped, and [`domain_of`] also lowercases and strips one trailing dot. A string that does not
//! parse as a URL with an authority has no host (the caller's `domain` param is used instead).

use alloc::string::String;

/// The raw hostname (no port, userinfo or brackets), or `None` when the URL has no host.
pub fn hostname(url: &str) -> Option<&str> {
    let rest = after_scheme(url)?;
    let authority_and_more = rest.strip_prefix("//")?;
    let end = authority_and_more
        .find(['/', '?', '#'])
        .unwrap_or(authority_and_more.len());
    let authority = authority_and_more.get(..end)?;
    let host_port = match authority.rfind('@') {
        Some(at) => authority.get(at + 1..)?,
        None => authority,
    };
    let host = strip_port(host_port);
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']').unwrap_or(inner),
        None => host,
    };
    if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    Some(host)
}

/// The hostname in the form domain globs compare: lowercased, trimmed, one trailing dot removed.
pub fn domain_of(url: &str) -> Option<String> {
    hostname(url).map(normalize_domain)
}

/// Lowercase, trim and strip one trailing dot (the domain glob flavour's input form).
pub fn normalize_domain(domain: &str) -> String {
    let d = domain.trim();
    let d = d.strip_suffix('.').unwrap_or(d);
    d.to_ascii_lowercase()
}

/// The part after `scheme:`; a URL without a valid scheme has no authority for Go either
/// (except a scheme-relative `//host`, which Go also parses).
fn after_scheme(url: &str) -> Option<&str> {
    if url.starts_with("//") {
        return Some(url);
    }
    let colon = url.find(':')?;
    let scheme = url.get(..colon)?;
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if first_ok && rest_ok {
        url.get(colon + 1..)
    } else {
        None
    }
}

/// Go's `splitHostPort` as used by `Hostname()`: drop `:digits` at the end (brackets aside).
fn strip_port(host_port: &str) -> &str {
    let Some(colon) = host_port.rfind(':') else {
        return host_port;
    };
    // An IPv6 literal without brackets has colons everywhere; only strip after a `]`.
    if host_port.starts_with('[') && !host_port[..colon].ends_with(']') {
        return host_port;
    }
    let port = &host_port[colon + 1..];
    if port.bytes().all(|b| b.is_ascii_digit()) {
        &host_port[..colon]
    } else {
        host_port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_like_go() {
        let cases = [
            ("https://evil.com/x", Some("evil.com")),
            ("https://EVIL.com./x", Some("EVIL.com.")),
            ("https://user@evil.com:443/x", Some("evil.com")),
            ("https://u:p@evil.com:8080", Some("evil.com")),
            ("http://[::1]:9090/x", Some("::1")),
            ("http://[fe80::1]/", Some("fe80::1")),
            ("https://evil.com?q=1", Some("evil.com")),
            ("https://evil.com#frag", Some("evil.com")),
            ("//cdn.example.com/a", Some("cdn.example.com")),
            ("evil.com/x", None),
            ("mailto:a@b.c", None),
            ("file:///etc/passwd", None),
            ("", None),
            ("1http://x.com", None),
        ];
        for (url, want) in cases {
            assert_eq!(hostname(url), want, "{url}");
        }
    }

    #[test]
    fn domains_are_normalized() {
        assert_eq!(
            domain_of("https://EVIL.com./x").as_deref(),
            Some("evil.com")
        );
        assert_eq!(normalize_domain(" Api.GitHub.com. "), "api.github.com");
    }
}
