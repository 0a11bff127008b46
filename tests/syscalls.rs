//! `--syscalls`: failed creation calls with their errno, and the wait call that reaped each
//! zombie, seen through the seccomp filter on just those syscalls.

use crate::common::{self, Trace, fact_int};
use serde_json::Value;

fn trace_with_syscalls(name: &str) -> Trace {
    let path = common::fixture(name);
    common::trace(&["--syscalls"], &[path.to_str().unwrap()])
}

fn only_child(trace: &Trace) -> i64 {
    let creates = trace.creates();
    assert_eq!(creates.len(), 1, "{}", trace.dump());
    creates[0]["child"].as_i64().unwrap()
}

/// The one wait event that collected `child`.
fn wait_for(trace: &Trace, child: i64) -> &Value {
    let waits: Vec<&Value> = trace
        .of_type("wait")
        .into_iter()
        .filter(|w| w["child"] == child && w["reaped"] == true)
        .collect();
    assert_eq!(waits.len(), 1, "{}", trace.dump());
    waits[0]
}

#[test]
fn the_header_says_the_mode() {
    let trace = trace_with_syscalls("fork_wait");
    assert_eq!(trace.header()["mode"], "syscalls");
}

#[test]
fn a_fork_refused_by_rlimit_nproc_is_recorded_with_eagain() {
    let _serial = common::serial();
    let trace = trace_with_syscalls("rlimit_eagain");
    let children = fact_int(&trace.facts(), "children");
    let failed = trace.of_type("create_failed");
    assert_eq!(failed.len(), 1, "{}", trace.dump());
    let failed = failed[0];
    assert_eq!(failed["errno"], "EAGAIN");
    assert_eq!(failed["syscall"], "clone");
    assert_eq!(
        failed["flags"],
        serde_json::json!(["CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"])
    );
    assert_eq!(failed["exit_signal"], "SIGCHLD");
    assert_eq!(failed["pid"].as_i64(), Some(trace.root_pid()));
    // The successful forks are still there, each exactly once.
    assert_eq!(trace.creates().len() as i64, children, "{}", trace.dump());
}

#[test]
fn waitpid_is_wait4_with_the_childs_pid() {
    let trace = trace_with_syscalls("zombie_300ms");
    let child = only_child(&trace);
    let wait = wait_for(&trace, child);
    assert_eq!(wait["syscall"], "wait4");
    assert_eq!(wait["idtype"], Value::Null);
    assert_eq!(wait["id"].as_i64(), Some(child));
    assert_eq!(wait["options"], serde_json::json!([]));
    assert_eq!(wait["pid"].as_i64(), Some(trace.root_pid()));
    // And the reap pairs with it: same child, by the waiter.
    assert_eq!(trace.reap_of(child)["reaper"], wait["tgid"]);
}

#[test]
fn waitid_p_pid_names_its_idtype_id_and_options() {
    let trace = trace_with_syscalls("waitid_pid");
    let child = only_child(&trace);
    let wait = wait_for(&trace, child);
    assert_eq!(wait["syscall"], "waitid");
    assert_eq!(wait["idtype"], "P_PID");
    assert_eq!(wait["id"].as_i64(), Some(child));
    assert_eq!(wait["options"], serde_json::json!(["WEXITED"]));
}

#[test]
fn waitid_p_pidfd_names_the_pidfd_as_its_id() {
    let trace = trace_with_syscalls("waitid_pidfd");
    let child = only_child(&trace);
    let wait = wait_for(&trace, child);
    assert_eq!(wait["idtype"], "P_PIDFD");
    // The id is a file descriptor, not a pid.
    let fd = wait["id"].as_i64().unwrap();
    assert!((0..1024).contains(&fd), "{wait}");
}

#[test]
fn the_tree_says_which_wait_call_reaped() {
    let (text, _) = common::tree_of(&["--syscalls"], "waitid_pid");
    let line = text
        .lines()
        .find(|l| l.contains("(fork of waitid_pid)"))
        .unwrap_or_else(|| panic!("no child line in:\n{text}"));
    assert!(line.contains("(parent, waitid(P_PID, "), "{line}");
    assert!(line.contains(", WEXITED))"), "{line}");
}

#[test]
fn default_mode_records_no_syscall_level_events() {
    let trace = common::trace_fixture("waitid_pid");
    assert_eq!(trace.header()["mode"], "default");
    assert!(trace.of_type("wait").is_empty());
    assert!(trace.of_type("create_failed").is_empty());
}

/// clone3 with a struct the kernel cannot read: the record says so, and no view shows flags or
/// an exit signal that were never read.
#[test]
fn an_unreadable_clone3_struct_is_recorded_as_unreadable_not_as_zeros() {
    let trace = trace_with_syscalls("clone3_efault");
    assert_eq!(String::from_utf8_lossy(&trace.stdout), "efault=2\n");
    let failed = trace.of_type("create_failed");
    assert_eq!(failed.len(), 2, "{}", trace.dump());
    for f in &failed {
        assert_eq!(f["syscall"], "clone3");
        assert_eq!(f["errno"], "EFAULT");
        assert_eq!(
            f["unreadable"],
            serde_json::json!(["clone3_args"]),
            "{}",
            trace.dump()
        );
    }
    assert!(trace.creates().is_empty(), "{}", trace.dump());
    assert!(
        trace.stderr.contains("clone3(<unreadable>, …) = -1 EFAULT"),
        "{}",
        trace.stderr
    );
    assert!(!trace.stderr.contains("exit_signal=0"), "{}", trace.stderr);
}

/// The same record through the tree: `clone3(unreadable arguments) failed: EFAULT ×2`.
#[test]
fn the_tree_shows_an_unreadable_clone3_as_unreadable() {
    let fixture = common::fixture("clone3_efault");
    let run = common::run_clonetrace(&[
        "--syscalls",
        "--tree",
        "--color",
        "never",
        fixture.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("clone3(unreadable arguments) failed: EFAULT ×2"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("exit_signal 0"), "{}", run.stderr);
}
