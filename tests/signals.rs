//! signals: signals delivered to traced tasks are reported and re-injected, so the program sees
//! them as it would untraced; job control (stop, continue) keeps working.

use crate::common::assert_fields;
use crate::common::{int, trace_fixture};
use serde_json::json;

#[test]
fn sigterm_to_a_child_is_reported_before_its_death() {
    let trace = trace_fixture("killed_by_signal");
    let child = int(trace.creates()[0], "child");
    assert_eq!(trace.signals_to(child), ["SIGTERM"], "{}", trace.dump());
    let signal = trace
        .signals()
        .into_iter()
        .find(|s| s["pid"] == child)
        .unwrap();
    assert_eq!(signal["tgid"], child);
    assert!(trace.position(signal) < trace.position(trace.exit_of(child)));
}

#[test]
fn stop_and_continue_work_as_untraced_and_are_both_reported() {
    let trace = trace_fixture("stop_continue");
    let root = trace.root_pid();
    let child = int(trace.creates()[0], "child");
    assert_eq!(
        trace.signals_to(child),
        ["SIGSTOP", "SIGCONT"],
        "{}",
        trace.dump()
    );
    assert_fields(&trace, trace.exit_of(child), &[("code", json!(0))]);
    // The parent's WUNTRACED wait saw the stop (its stdout says so; checked in fixtures_untraced).
    let stdout = String::from_utf8_lossy(&trace.stdout);
    assert!(stdout.contains("child stopped by signal 19"), "{stdout}");
    assert!(
        trace.signals_to(root).iter().all(|s| s == "SIGCHLD"),
        "{}",
        trace.dump()
    );
}

#[test]
fn exit_signal_sigusr1_reaches_the_parent_and_is_reported() {
    let trace = trace_fixture("exit_signal_usr1");
    let root = trace.root_pid();
    let child = int(trace.creates()[0], "child");
    assert_eq!(trace.signals_to(root), ["SIGUSR1"], "{}", trace.dump());
    let delivered = trace
        .signals()
        .into_iter()
        .find(|s| s["pid"] == root)
        .unwrap();
    assert!(trace.position(delivered) > trace.position(trace.exit_of(child)));
    // Re-injected: the fixture's handler ran.
    let stdout = String::from_utf8_lossy(&trace.stdout);
    assert!(stdout.contains("SIGUSR1 caught"), "{stdout}");
}

#[test]
fn a_forking_parent_is_told_of_its_childs_exit_by_sigchld() {
    let trace = trace_fixture("fork_wait");
    assert_eq!(
        trace.signals_to(trace.root_pid()),
        ["SIGCHLD"],
        "{}",
        trace.dump()
    );
}
