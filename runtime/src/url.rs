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

/// What upstream's server derives from a fetch-family URL (reference §2.8): Go's `url.Parse`
/// `Scheme` (lowercased), `Hostname()` and `Path` (percent-decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts<'u> {
    pub scheme: String,
    pub host: &'u str,
    pub path: String,
}

/// The [`Parts`] of a URL with a host; `None` when it has none, or when Go would not parse it (a
/// control character, a broken `%` escape in the path).
pub fn parts(url: &str) -> Option<Parts<'_>> {
    if url.bytes().any(|b| b < b' ' || b == 0x7f) {
        return None;
    }
    let host = hostname(url)?;
    let without_fragment = url.split('#').next().unwrap_or(url);
    let without_query = without_fragment
        .split('?')
        .next()
        .unwrap_or(without_fragment);
    let rest = after_scheme(without_query)?;
    let scheme_len = without_query.len() - rest.len();
    let scheme = without_query
        .get(..scheme_len.saturating_sub(1))
        .unwrap_or("")
        .to_ascii_lowercase();
    let authority_and_path = rest.strip_prefix("//")?;
    let path_start = authority_and_path
        .find('/')
        .unwrap_or(authority_and_path.len());
    let path = percent_decode(authority_and_path.get(path_start..)?)?;
    Some(Parts { scheme, host, path })
}

/// Go's path unescaping: `%XX` becomes the byte, `+` stays; a `%` without two hex digits is an
/// error. Bytes that do not form UTF-8 are replaced.
fn percent_decode(path: &str) -> Option<String> {
    let b = path.as_bytes();
    let mut out = alloc::vec::Vec::with_capacity(b.len());
    let mut k = 0;
    while let Some(&c) = b.get(k) {
        if c == b'%' {
            let hex = |i: usize| b.get(i).and_then(|h| (*h as char).to_digit(16));
            let (hi, lo) = (hex(k + 1)?, hex(k + 2)?);
            out.push((hi * 16 + lo) as u8);
            k += 3;
        } else {
            out.push(c);
            k += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
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
    fn parts_like_go() {
        let p = parts("HTTPS://user@Evil.com:443/a%20b/c+d?q=1#f").unwrap();
        assert_eq!(
            (p.scheme.as_str(), p.host, p.path.as_str()),
            ("https", "Evil.com", "/a b/c+d")
        );
        let p = parts("//cdn.example.com").unwrap();
        assert_eq!(
            (p.scheme.as_str(), p.host, p.path.as_str()),
            ("", "cdn.example.com", "")
        );
        for bad in [
            "https://a.com/%zz",
            "https://a.com/%4",
            "https://a.com/\x01",
            "a.com/x",
        ] {
            assert_eq!(parts(bad), None, "{bad:?}");
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
