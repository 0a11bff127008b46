//! A pid used by several processes in one trace stays several processes: in the record, where each
//! exit and reap follows its own create, and in the tree.

use crate::common::{self, fact_int};

#[test]
fn a_reused_pid_never_merges_two_processes() {
    let trace = common::trace_fixture("pid_reuse");
    let facts = trace.facts();
    if facts.get("reused").map(String::as_str) != Some("yes") {
        eprintln!("skipped: choosing pids with clone3 set_tid needs CAP_SYS_ADMIN");
        return;
    }
    let pid = fact_int(&facts, "pid");
    let creates: Vec<_> = trace
        .creates()
        .into_iter()
        .filter(|c| c["child"] == pid)
        .collect();
    assert_eq!(creates.len(), 3, "{}", trace.dump());
    let mut codes = Vec::new();
    for (n, create) in creates.iter().enumerate() {
        // Between this create and the next: exactly this process's exit and reap.
        let from = trace.position(create);
        let to = creates
            .get(n + 1)
            .map_or(trace.events.len(), |next| trace.position(next));
        let of_pid = |kind: &str| -> Vec<&serde_json::Value> {
            trace.events[from..to]
                .iter()
                .filter(|e| e["type"] == kind && e["pid"] == pid)
                .collect()
        };
        let exits = of_pid("exit");
        let reaps = of_pid("reap");
        assert_eq!((exits.len(), reaps.len()), (1, 1), "{}", trace.dump());
        codes.push(exits[0]["code"].as_i64().unwrap());
    }
    assert_eq!(codes, [1, 2, 3]);
}

#[test]
fn the_tree_shows_each_holder_of_a_reused_pid_once() {
    let (text, facts) = common::tree_of(&[], "pid_reuse");
    if facts.get("reused").map(String::as_str) != Some("yes") {
        eprintln!("skipped: choosing pids with clone3 set_tid needs CAP_SYS_ADMIN");
        return;
    }
    let pid = fact_int(&facts, "pid");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(&format!("─ {pid} (fork of pid_reuse)")))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (line, code) in lines.iter().zip([1, 2, 3]) {
        assert!(line.contains(&format!("exit {code} ·")), "{line}");
        assert!(line.contains("reaped by"), "{line}");
    }
}
