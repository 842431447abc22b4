//! A bounded load test: 20 keep-alive clients for 10 s, mixed allow, deny and ask; every answer
//! checked, and afterwards the audit chain holds exactly one record per request and verifies.

use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn twenty_keep_alive_clients_for_ten_seconds() {
    let home = Home::new("load");
    std::fs::write(home.work().join("rampart.yaml"), POLICY).unwrap();
    let s = Server::start(&home, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..20)
        .map(|n| {
            let (port, token, stop) = (s.port, s.token.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut c = Conn::open(port).unwrap();
                let mut sent = 0u64;
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let (command, status, decision) = match i % 3 {
                        0 => (format!("ls {n}-{i}"), 200, "allow"),
                        1 => (format!("rm -rf /tmp/{n}-{i}"), 403, "deny"),
                        _ => (format!("sudo ls {n}"), 202, "ask"),
                    };
                    let r = c.post("/v1/tool/exec", &token, &exec(&command));
                    assert_eq!(
                        r.status,
                        status,
                        "{command}: {:?}",
                        String::from_utf8_lossy(&r.body)
                    );
                    let j = r.json();
                    assert_eq!(j["decision"], decision, "{command}");
                    assert_eq!(j["audit_id"].as_str().map(str::len), Some(26));
                    sent += 1;
                    i += 1;
                }
                sent
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(10));
    stop.store(true, Ordering::Relaxed);
    let total: u64 = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(total > 200, "only {total} requests in 10 s");
    let audit = home.audit();
    let decisions = audit
        .iter()
        .filter(|e| e["request"]["rampart_event"].is_null())
        .count() as u64;
    assert_eq!(decisions, total, "one record per request");
    let mut ids: Vec<&str> = audit.iter().map(|e| e["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), audit.len());
    home.verify();
    eprintln!("load: {total} requests in 10 s ({} per second)", total / 10);
}
