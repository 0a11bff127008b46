//! threads: pthread_create is clone3 with CLONE_THREAD; a thread shares its creator's tgid, is a
//! child of the process's real parent, ends with its own exit event, and a thread-group leader
//! leaving first does not end the process.

use crate::common::assert_fields;
use crate::common::{Trace, addr, fact_int, int, trace_fixture};
use crate::creation::assert_pointers_set;
use serde_json::{Value, json};

const GLIBC_THREAD_FLAGS: [&str; 9] = [
    "CLONE_VM",
    "CLONE_FS",
    "CLONE_FILES",
    "CLONE_SIGHAND",
    "CLONE_THREAD",
    "CLONE_SYSVSEM",
    "CLONE_SETTLS",
    "CLONE_PARENT_SETTID",
    "CLONE_CHILD_CLEARTID",
];

/// Checks a glibc pthread_create made by `creator` in process `tgid`.
#[track_caller]
fn assert_glibc_thread(trace: &Trace, create: &Value, creator: i64, tgid: i64) {
    let child = int(create, "child");
    assert_fields(
        trace,
        create,
        &[
            ("syscall", json!("clone3")),
            ("clone3_size", json!(88)),
            ("pid", json!(creator)),
            ("tgid", json!(tgid)),
            ("flags", json!(GLIBC_THREAD_FLAGS)),
            ("exit_signal", Value::Null),
            ("pidfd", Value::Null),
            ("set_tid", Value::Null),
            // The kernel stores the new tid where parent_tid points.
            ("parent_tid_value", json!(child)),
            ("child_tgid", json!(tgid)),
            // A thread's real parent is its process's parent: here clonetrace itself.
            ("parent", json!(trace.tracer)),
            ("kind", json!("thread")),
        ],
    );
    assert_ne!(child, tgid);
    assert_pointers_set(create, &["stack", "tls", "parent_tid", "child_tid"]);
    // glibc points both tid pointers at the new thread's `tid` in its descriptor.
    assert_eq!(
        addr(create, "parent_tid"),
        addr(create, "child_tid"),
        "{create}"
    );
    let size = int(create, "stack_size");
    assert!(
        size >= 1 << 20,
        "thread stack_size {size} is less than 1 MiB in {create}"
    );
}

#[test]
fn pthread_create_is_clone3_thread_sharing_the_creators_tgid() {
    let trace = trace_fixture("threads3");
    let root = trace.root_pid();
    let creates = trace.creates();
    assert_eq!(creates.len(), 3, "{}", trace.dump());
    for create in &creates {
        assert_glibc_thread(&trace, create, root, root);
    }
    let tids: Vec<i64> = creates.iter().map(|c| int(c, "child")).collect();
    let mut unique = tids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "three distinct tids: {tids:?}");
    for tid in &tids {
        assert_fields(
            &trace,
            trace.exit_of(*tid),
            &[
                ("tgid", json!(root)),
                ("code", json!(0)),
                ("signal", Value::Null),
            ],
        );
    }
    let exits = trace.exits();
    assert_eq!(
        exits.len(),
        4,
        "three threads and the main thread:\n{}",
        trace.dump()
    );
    assert_eq!(
        exits.last().map(|e| int(e, "pid")),
        Some(root),
        "main exits last"
    );
    assert!(
        trace
            .reaps()
            .iter()
            .all(|r| tids.iter().all(|t| r["pid"] != *t)),
        "threads are never reaped"
    );
}

#[test]
fn thread_created_by_a_thread_belongs_to_the_process_and_outlives_its_creator() {
    let trace = trace_fixture("thread_outlives_creator");
    let root = trace.root_pid();
    let facts = trace.facts();
    let (a, b) = (fact_int(&facts, "A"), fact_int(&facts, "B"));
    let create_a = trace.create_of(a);
    let create_b = trace.create_of(b);
    assert_glibc_thread(&trace, create_a, root, root);
    assert_glibc_thread(&trace, create_b, a, root);
    let exit_a = trace.exit_of(a);
    let exit_b = trace.exit_of(b);
    assert_fields(&trace, exit_a, &[("tgid", json!(root)), ("code", json!(0))]);
    assert_fields(&trace, exit_b, &[("tgid", json!(root)), ("code", json!(0))]);
    assert!(
        trace.position(exit_a) < trace.position(exit_b),
        "A must be seen exiting before B:\n{}",
        trace.dump()
    );
}

#[test]
fn leader_leaving_with_pthread_exit_does_not_end_the_process() {
    let trace = trace_fixture("leader_exits_first");
    let root = trace.root_pid();
    let thread = fact_int(&trace.facts(), "thread");
    assert_glibc_thread(&trace, trace.create_of(thread), root, root);
    let leader_exits = trace.of_type("leader_exit");
    assert_eq!(leader_exits.len(), 1, "{}", trace.dump());
    assert_fields(
        &trace,
        leader_exits[0],
        &[("pid", json!(root)), ("threads", json!(1))],
    );
    let thread_exit = trace.exit_of(thread);
    assert_fields(
        &trace,
        thread_exit,
        &[("tgid", json!(root)), ("code", json!(4))],
    );
    // The thread sleeps 100 ms from its start, which is about when the leader leaves.
    let gap = thread_exit["time"].as_f64().unwrap() - leader_exits[0]["time"].as_f64().unwrap();
    assert!(
        gap >= 0.05,
        "the thread exited only {gap} s after the leader left"
    );
    // The leader's exit is the process's: it carries the status exit(4) gave the whole group.
    let leader_exit = trace.exit_of(root);
    assert_fields(&trace, leader_exit, &[("code", json!(4))]);
    assert!(trace.position(leader_exit) > trace.position(thread_exit));
    assert_eq!(trace.status.code(), Some(4));
}

#[test]
fn exec_from_a_thread_takes_over_the_leaders_pid() {
    let trace = trace_fixture("exec_from_thread");
    let root = trace.root_pid();
    let thread = fact_int(&trace.facts(), "thread");
    assert_glibc_thread(&trace, trace.create_of(thread), root, root);
    let execs = trace.execs();
    assert_eq!(execs.len(), 2, "{}", trace.dump());
    assert_fields(
        &trace,
        execs[1],
        &[
            ("pid", json!(root)),
            ("tgid", json!(root)),
            ("old_pid", json!(thread)),
            ("path", json!("/bin/true")),
            ("argv", json!(["true"])),
        ],
    );
    // After the exec the thread *is* the process: one exit, under the leader's pid.
    let exits = trace.exits();
    assert_eq!(exits.len(), 1, "{}", trace.dump());
    assert_fields(
        &trace,
        exits[0],
        &[("pid", json!(root)), ("code", json!(0))],
    );
}
