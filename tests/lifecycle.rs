//! lifecycle: how long each process stayed a zombie, who reaped it and in what relation (parent,
//! subreaper, init, the tracer, or the kernel itself), and when an orphan changed parents.

use crate::common::assert_fields;
use crate::common::{Trace, int, trace_fixture};
use serde_json::json;

#[track_caller]
fn zombie_seconds(reap: &serde_json::Value) -> f64 {
    reap["zombie_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("zombie_seconds is not a number in {reap}"))
}

/// The single child of the root in a one-fork fixture.
#[track_caller]
fn only_child(trace: &Trace) -> i64 {
    let creates = trace.creates();
    assert_eq!(creates.len(), 1, "{}", trace.dump());
    int(creates[0], "child")
}

#[test]
fn zombie_for_300ms_is_reaped_by_its_parent_after_300ms() {
    let trace = trace_fixture("zombie_300ms");
    let root = trace.root_pid();
    let child = only_child(&trace);
    let reap = trace.reap_of(child);
    assert_fields(
        &trace,
        reap,
        &[("reaper", json!(root)), ("relation", json!("parent"))],
    );
    let seconds = zombie_seconds(reap);
    assert!(
        (0.2..1.5).contains(&seconds),
        "the child was a zombie for 300 ms, recorded {seconds} s:\n{}",
        trace.dump()
    );
    let exit = trace.exit_of(child);
    let between = reap["time"].as_f64().unwrap() - exit["time"].as_f64().unwrap();
    assert!(
        (seconds - between).abs() < 0.05,
        "zombie_seconds {seconds} vs exit→reap {between}"
    );
}

#[test]
fn child_reaped_at_once_was_a_zombie_for_almost_no_time() {
    let trace = trace_fixture("fork_wait");
    let child = only_child(&trace);
    let seconds = zombie_seconds(trace.reap_of(child));
    assert!((0.0..0.1).contains(&seconds), "zombie_seconds {seconds}");
}

/// The fixture's only child exits with `code` and is reaped by the traced command, its parent.
#[track_caller]
fn assert_child_exits_and_is_reaped_by_its_parent(fixture: &str, code: i64) {
    let trace = trace_fixture(fixture);
    let root = trace.root_pid();
    let child = only_child(&trace);
    assert_fields(&trace, trace.exit_of(child), &[("code", json!(code))]);
    assert_fields(
        &trace,
        trace.reap_of(child),
        &[("reaper", json!(root)), ("relation", json!("parent"))],
    );
}

#[test]
fn waitid_p_pid_is_seen_as_a_reap_by_the_parent() {
    assert_child_exits_and_is_reaped_by_its_parent("waitid_pid", 6);
}

#[test]
fn waitid_p_pidfd_is_seen_as_a_reap_by_the_parent() {
    assert_child_exits_and_is_reaped_by_its_parent("waitid_pidfd", 8);
}

#[test]
fn ignoring_sigchld_makes_the_kernel_reap_the_child() {
    let trace = trace_fixture("sigchld_ign");
    let root = trace.root_pid();
    let child = only_child(&trace);
    let reap = trace.reap_of(child);
    assert_fields(
        &trace,
        reap,
        &[("relation", json!("auto")), ("reaper", json!(root))],
    );
    assert!(zombie_seconds(reap) < 0.1, "{reap}");
}

#[test]
fn the_command_is_reaped_by_the_tracer() {
    let trace = trace_fixture("fork_wait");
    let root = trace.root_pid();
    assert_fields(
        &trace,
        trace.reap_of(root),
        &[
            ("reaper", json!(trace.tracer)),
            ("relation", json!("tracer")),
        ],
    );
}

#[test]
fn orphan_adopted_by_a_subreaper_is_reparented_and_reaped_as_subreaper() {
    let trace = trace_fixture("subreaper_orphan");
    let top = trace.root_pid();
    let creates = trace.creates();
    assert_eq!(creates.len(), 2, "{}", trace.dump());
    let middle = int(creates[0], "child");
    let grandchild = int(creates[1], "child");
    assert_fields(
        &trace,
        creates[1],
        &[("pid", json!(middle)), ("parent", json!(middle))],
    );
    let reparents = trace.reparents();
    assert_eq!(reparents.len(), 1, "{}", trace.dump());
    assert_fields(
        &trace,
        reparents[0],
        &[
            ("pid", json!(grandchild)),
            ("from", json!(middle)),
            ("to", json!(top)),
            ("relation", json!("subreaper")),
        ],
    );
    assert!(trace.position(reparents[0]) > trace.position(trace.exit_of(middle)));
    assert_fields(
        &trace,
        trace.reap_of(middle),
        &[("reaper", json!(top)), ("relation", json!("parent"))],
    );
    assert_fields(&trace, trace.exit_of(grandchild), &[("code", json!(9))]);
    assert_fields(
        &trace,
        trace.reap_of(grandchild),
        &[("reaper", json!(top)), ("relation", json!("subreaper"))],
    );
}

#[test]
fn zombie_left_by_an_exiting_parent_is_reparented_and_not_reaped_by_that_parent() {
    let trace = trace_fixture("parent_exits_zombie");
    let creates = trace.creates();
    assert_eq!(creates.len(), 2, "{}", trace.dump());
    let parent = int(creates[0], "child");
    let child = int(creates[1], "child");
    assert_fields(&trace, trace.exit_of(child), &[("code", json!(0))]);
    let reparents: Vec<_> = trace
        .reparents()
        .into_iter()
        .filter(|r| r["pid"] == child)
        .collect();
    assert_eq!(reparents.len(), 1, "{}", trace.dump());
    assert_eq!(reparents[0]["from"], parent, "{}", reparents[0]);
    assert_ne!(reparents[0]["to"], parent, "{}", reparents[0]);
    let adopter = reparents[0]["relation"].as_str().unwrap_or_default();
    let expected = if reparents[0]["to"] == 1 {
        "init"
    } else {
        "subreaper"
    };
    assert_eq!(adopter, expected, "{}", reparents[0]);
    // Reaped later by init or a subreaper, or still a zombie when the trace ended.
    let reaps: Vec<_> = trace
        .reaps()
        .into_iter()
        .filter(|r| r["pid"] == child)
        .collect();
    for reap in reaps {
        assert_ne!(reap["reaper"], parent, "{reap}");
        let relation = reap["relation"].as_str().unwrap_or_default();
        assert!(matches!(relation, "init" | "subreaper"), "{reap}");
        assert_eq!(reap["reaper"], reparents[0]["to"], "{reap}");
    }
}

#[test]
fn daemon_outlives_the_command_and_its_exit_is_still_recorded() {
    let trace = trace_fixture("daemon_double_fork");
    let top = trace.root_pid();
    let creates = trace.creates();
    assert_eq!(creates.len(), 2, "{}", trace.dump());
    let first = int(creates[0], "child");
    let daemon = int(creates[1], "child");
    assert_fields(
        &trace,
        creates[1],
        &[("pid", json!(first)), ("parent", json!(first))],
    );
    let reparents = trace.reparents();
    assert!(
        reparents.iter().any(|r| r["pid"] == daemon
            && r["from"] == first
            && matches!(r["relation"].as_str(), Some("init" | "subreaper"))),
        "{}",
        trace.dump()
    );
    let daemon_exit = trace.exit_of(daemon);
    assert_fields(&trace, daemon_exit, &[("code", json!(0))]);
    assert!(
        trace.position(daemon_exit) > trace.position(trace.exit_of(top)),
        "the daemon exits after the command:\n{}",
        trace.dump()
    );
    assert_eq!(trace.status.code(), Some(0));
}

#[test]
fn clone_parent_child_is_reaped_by_the_creators_parent_without_a_reparent() {
    let trace = trace_fixture("clone_parent");
    let top = trace.root_pid();
    let sibling = int(trace.creates()[1], "child");
    assert_fields(
        &trace,
        trace.reap_of(sibling),
        &[("reaper", json!(top)), ("relation", json!("parent"))],
    );
    assert!(
        trace.reparents().iter().all(|r| r["pid"] != sibling),
        "a CLONE_PARENT child never belonged to its creator:\n{}",
        trace.dump()
    );
}

#[test]
fn clone_child_with_sigusr1_exit_signal_is_reaped_by_its_parent() {
    let trace = trace_fixture("exit_signal_usr1");
    let root = trace.root_pid();
    let child = only_child(&trace);
    assert_fields(
        &trace,
        trace.reap_of(child),
        &[("reaper", json!(root)), ("relation", json!("parent"))],
    );
}
