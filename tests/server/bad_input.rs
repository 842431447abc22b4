//! Hostile requests: oversized and endless bodies, trailing data, duplicate and case-shadowed
//! keys, bad UTF-8, conflicting aliases, slow clients. Each gets upstream's status and a JSON
//! error; none stops the server or delays another client.

use super::*;
use serde_json::json;

fn server(name: &str) -> (Home, Server) {
    let home = Home::new(name);
    std::fs::write(home.work().join("rampart.yaml"), POLICY).unwrap();
    let s = Server::start(&home, &[]);
    (home, s)
}

fn post_raw(s: &Server, body: &[u8]) -> Resp {
    s.conn().request(
        "POST",
        "/v1/tool/exec",
        &[("Authorization", &format!("Bearer {}", s.token))],
        body,
    )
}

#[test]
fn malformed_bodies_get_400_with_a_reason() {
    let (_home, s) = server("malformed");
    let cases: [(&[u8], &str); 8] = [
        (
            br#"{"params":{"command":"ls"}} {"params":{"command":"rm -rf /"}}"#,
            "single JSON value",
        ),
        (br#"{"params":{"command":"ls"}} x"#, "single JSON value"),
        (
            br#"{"params":{"command":"ls","command":"rm -rf /"}}"#,
            "repeated or shadows",
        ),
        (
            br#"{"params":{"command":"ls","Command":"rm -rf /"}}"#,
            "in a different case",
        ),
        (b"{\"params\":{\"command\":\"ls \xff\"}}", "UTF-8"),
        (
            br#"{"params":{"command":"ls"},"command":"rm -rf /"}"#,
            "conflicting command aliases",
        ),
        (br#"{"params":"ls"}"#, "must be an object"),
        (br#"{"params":{"command":"ls"}"#, "invalid request body"),
    ];
    for (body, want) in cases {
        let r = post_raw(&s, body);
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(body));
        let error = r.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(want), "{error:?} lacks {want:?}");
    }
    // A command_b64 is decoded and judged (the shared call decoding).
    let r = post_raw(&s, br#"{"params":{"command_b64":"cm0gLXJmIC90bXAveA=="}}"#);
    assert_eq!(
        (r.status, r.json()["message"].as_str()),
        (403, Some("no rm"))
    );
}

#[test]
fn bodies_over_a_mebibyte_are_refused_and_the_server_goes_on() {
    let (_home, s) = server("large");
    let big = format!(r#"{{"params":{{"command":"{}"}}}}"#, "x".repeat(1 << 20));
    let r = post_raw(&s, big.as_bytes());
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (413, Some("request body too large"))
    );
    // A declared body of a terabyte, never sent: answered at once, and the server stays up.
    let mut c = s.conn();
    write!(
        c.stream,
        "POST /v1/tool/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 1099511627776\r\n\r\n{{",
        s.token
    )
    .unwrap();
    let r = c.read_reply();
    assert_eq!(r.status, 413);
    // Chunked without a length: capped while reading.
    let mut c = s.conn();
    write!(
        c.stream,
        "POST /v1/tool/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        s.token
    )
    .unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut refused = false;
    for _ in 0..32 {
        if write!(c.stream, "{:x}\r\n", chunk.len()).is_err()
            || c.stream.write_all(&chunk).is_err()
            || c.stream.write_all(b"\r\n").is_err()
        {
            refused = true;
            break;
        }
    }
    if !refused {
        let _ = c.stream.write_all(b"0\r\n\r\n");
    }
    assert_eq!(c.read_reply().status, 413);
    // A head over 64 KiB.
    let r = s
        .conn()
        .request("GET", "/healthz", &[("X-Pad", &"p".repeat(70 * 1024))], b"");
    assert_eq!(r.status, 431);
    let h = s.conn().get("/healthz", None);
    assert_eq!(h.status, 200);
}

#[test]
fn a_client_sending_a_byte_a_second_holds_nobody_else() {
    let (home, s) = server("slow");
    let body = exec("ls").to_string();
    let body = format!("{body}{}", " ".repeat(2048 - body.len()));
    let request = format!(
        "POST /v1/tool/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n{body}",
        s.token,
        body.len()
    );
    // Eight slow clients: one trickling its head, seven trickling bodies (read by workers).
    let mut slow = Vec::new();
    for i in 0..8 {
        let mut c = s.conn();
        let split = if i == 0 { 10 } else { request.len() - 100 };
        c.stream.write_all(&request.as_bytes()[..split]).unwrap();
        slow.push((c, split));
    }
    let started = Instant::now();
    let mut fast = s.conn();
    let mut worst = Duration::ZERO;
    for i in 0..50 {
        let t = Instant::now();
        let r = fast.post(
            "/v1/tool/exec",
            &s.token,
            &exec(if i % 2 == 0 { "ls" } else { "rm -rf /x" }),
        );
        worst = worst.max(t.elapsed());
        assert!(r.status == 200 || r.status == 403);
        // Each slow client sends one more byte now and then.
        if i % 10 == 0 {
            for (c, at) in slow.iter_mut() {
                c.stream
                    .write_all(&request.as_bytes()[*at..*at + 1])
                    .unwrap();
                *at += 1;
            }
        }
    }
    assert!(
        worst < Duration::from_millis(500),
        "a fast client waited {worst:?} behind slow ones"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // The slow clients still get their answers when they finish.
    for (mut c, at) in slow {
        c.stream.write_all(&request.as_bytes()[at..]).unwrap();
        assert_eq!(c.read_reply().status, 200);
    }
    assert_eq!(home.audit().len(), 50 + 8);
}

#[test]
fn refused_requests_are_not_recorded_and_leave_the_connection_usable() {
    let (home, s) = server("silent");
    let mut c = s.conn();
    for _ in 0..200 {
        let r = c.request(
            "POST",
            "/v1/tool/exec",
            &[],
            json!({"params": {"command": "ls"}}).to_string().as_bytes(),
        );
        assert_eq!(r.status, 401);
    }
    assert!(
        home.audit().is_empty(),
        "refused requests are not decisions"
    );
    assert_eq!(s.conn().get("/healthz", None).status, 200);
}
