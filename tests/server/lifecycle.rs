//! The process: a background start and `serve stop` with the pid file, loopback only unless
//! allowed, a Unix socket, and the systemd user unit.

use super::*;

#[test]
fn background_start_stop_and_the_pid_file() {
    let home = Home::new("background");
    let port = free_port().to_string();
    let out = home
        .rampart(&["serve", "--background", "--port", &port])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("started in the background"));
    let pid: i32 = std::fs::read_to_string(home.home().join(".rampart/serve.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut c = Conn::open(port.parse().unwrap()).unwrap();
    assert_eq!(c.get("/healthz", None).status, 200);
    // A second server on the same HOME is refused while the first runs.
    let second = home
        .rampart(&["serve", "--port", &free_port().to_string()])
        .output()
        .unwrap();
    assert!(
        !second.status.success() && String::from_utf8_lossy(&second.stderr).contains("serve stop"),
        "{second:?}"
    );
    let out = home.rampart(&["serve", "stop"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&pid.to_string()));
    assert!(!home.home().join(".rampart/serve.pid").exists());
    assert!(Conn::open(port.parse().unwrap()).is_err());
    let again = home.rampart(&["serve", "stop"]).output().unwrap();
    assert!(!again.status.success());
}

#[test]
fn remote_addresses_need_a_flag_and_a_unix_socket_serves_too() {
    let home = Home::new("remote");
    let err = Server::try_start(&home, &["--addr", "0.0.0.0"])
        .err()
        .unwrap();
    assert!(err.contains("--allow-remote"), "{err}");
    let socket = home.root.join("rampart.sock");
    let s = Server::start(&home, &["--socket", path_of(&socket)]);
    let mut u = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    write!(
        u,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    u.read_to_string(&mut reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.contains("\"status\":\"ok\""),
        "{reply}"
    );
    drop(s);
}

#[test]
fn install_writes_a_unit_that_systemd_accepts() {
    let home = Home::new("install");
    let out = home
        .rampart(&["serve", "install", "--no-start", "--port", "9191"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let unit = home
        .home()
        .join(".config/systemd/user/rampart-serve.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    let exe = crate::rampart_bin().display();
    assert!(
        text.contains(&format!(
            "ExecStart={exe} serve --port 9191 --mode enforce --approval-timeout 5m"
        )),
        "{text}"
    );
    assert!(
        text.contains("[Install]\nWantedBy=default.target"),
        "{text}"
    );
    assert!(!text.contains("RAMPART_TOKEN"), "no token unless asked");
    let analyze = Command::new("systemd-analyze")
        .arg("--user")
        .arg("verify")
        .arg(&unit)
        .env("HOME", home.home())
        .output();
    if let Ok(out) = analyze {
        // systemd-analyze exists: the unit must verify (a missing user bus is not the unit's fault).
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success()
                || err.contains("bus")
                || err.contains("Failed to initialize manager"),
            "{err}"
        );
    }
    let out = home.rampart(&["serve", "uninstall"]).output().unwrap();
    assert!(out.status.success() && !unit.exists(), "{out:?}");
}
