//! Readers: pages newest first, dates, export, stats, the last N, follow.

use rampart_audit::read::{self, Filter, Follower};
use rampart_audit::{Timestamp, Writer, WriterOptions};

use crate::support::{self, event, Temp};

#[test]
fn a_days_page_is_newest_first_filtered_and_offset() {
    let t = Temp::new("page");
    let mut w = support::writer(&t.audit());
    for n in 0..30 {
        w.append(event(n)).unwrap();
    }
    let today = Timestamp::now().date();
    let deny = Filter {
        action: Some("deny".into()),
        ..Filter::default()
    };
    let page = read::page(&t.audit(), today, &deny, 2, 3).unwrap();
    assert_eq!(page.total_in_file, 10);
    let cmds: Vec<&str> = page
        .events
        .iter()
        .map(|s| s.event.request["command"].as_str().unwrap())
        .collect();
    assert_eq!(cmds, vec!["echo 21", "echo 18", "echo 15"]);
    assert_eq!(page.next_offset, Some(5));
    let last = read::page(&t.audit(), today, &deny, 9, 3).unwrap();
    assert_eq!(last.next_offset, None);
    assert_eq!(read::dates(&t.audit()).unwrap(), vec![today]);
    let export = read::export(&t.audit(), today).unwrap();
    assert_eq!(export.iter().filter(|&&b| b == b'\n').count(), 30);
}

#[test]
fn stats_count_by_decision_tool_agent_and_session() {
    let t = Temp::new("stats");
    let mut w = support::writer(&t.audit());
    for n in 0..9 {
        w.append(event(n)).unwrap();
    }
    let today = Timestamp::now().date();
    let stats = read::stats_between(&t.audit(), today, today).unwrap();
    assert_eq!(stats.total_events, 9);
    assert_eq!(stats.by_action.get("deny"), Some(&3));
    assert_eq!(stats.by_action.get("allow"), Some(&6));
    assert_eq!(stats.by_tool.get("exec"), Some(&9));
    assert_eq!(stats.by_agent.get("test-agent"), Some(&9));
    let yesterday = rampart_audit::Date::from_days(today.days() - 1);
    assert_eq!(
        read::stats_between(&t.audit(), yesterday, yesterday)
            .unwrap()
            .total_events,
        0
    );
}

#[test]
fn last_n_and_search_read_across_rotated_files() {
    let t = Temp::new("last");
    let mut opts = WriterOptions::new(t.audit());
    opts.rotate_bytes = 1500;
    let mut w = Writer::open(opts).unwrap();
    for n in 0..20 {
        w.append(event(n)).unwrap();
    }
    let last = read::last(&t.audit(), 7, &Filter::default()).unwrap();
    let cmds: Vec<&str> = last
        .iter()
        .map(|s| s.event.request["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        cmds,
        (13..20).map(|n| format!("echo {n}")).collect::<Vec<_>>()
    );
    let found = read::events(
        &t.audit(),
        &Filter {
            query: Some("ECHO 1".into()),
            ..Filter::default()
        },
    )
    .unwrap();
    assert_eq!(found.len(), 11);
}

#[test]
fn a_follower_sees_new_events_across_a_rotation() {
    let t = Temp::new("follow");
    let mut opts = WriterOptions::new(t.audit());
    opts.rotate_bytes = 1500;
    let mut w = Writer::open(opts).unwrap();
    w.append(event(0)).unwrap();
    let mut f = Follower::at_end(&t.audit()).unwrap();
    assert!(f.poll().unwrap().is_empty());
    for n in 1..8 {
        w.append(event(n)).unwrap();
    }
    let got: Vec<String> = f
        .poll()
        .unwrap()
        .iter()
        .map(|s| s.event.request["command"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, (1..8).map(|n| format!("echo {n}")).collect::<Vec<_>>());
    assert!(support::log_files(&t.audit()).len() > 1);
    assert!(f.poll().unwrap().is_empty());
}
