//! fixtures_untraced: every fixture prints exactly its documented output and exit code when run on
//! its own, and prints the very same bytes and exits the same way under clonetrace (tracing must
//! not change what a program does). Each traced record also passes the generic record checks.

use crate::common::{record_problems, run_untraced, trace_fixture};

#[track_caller]
fn check_untraced(name: &str, stdout: &str, code: i32) {
    let run = run_untraced(name);
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        stdout,
        "{name} untraced printed something else (stderr: {})",
        run.stderr
    );
    assert_eq!(run.status.code(), Some(code), "{name} untraced exit status");
}

#[track_caller]
fn check_traced_same_as_untraced(name: &str, stdout: &str, code: i32) {
    let trace = trace_fixture(name);
    assert_eq!(
        String::from_utf8_lossy(&trace.stdout),
        stdout,
        "{name} traced printed something else than untraced:\n{}",
        trace.dump()
    );
    assert_eq!(
        trace.status.code(),
        Some(code),
        "clonetrace's exit status for {name}"
    );
    assert_eq!(trace.end()["exit_code"], code, "end.exit_code for {name}");
    let problems = record_problems(&trace);
    assert!(
        problems.is_empty(),
        "{name}: the record breaks its own rules:\n{}\n\n{}",
        problems.join("\n"),
        trace.dump()
    );
}

/// `fixture!(name, code, "stdout")` makes a module `name` with an untraced test and a traced one.
macro_rules! fixture {
    ($name:ident, $code:expr, $stdout:expr) => {
        mod $name {
            #[test]
            fn untraced_output_and_status_are_as_documented() {
                super::check_untraced(stringify!($name), $stdout, $code);
            }

            #[test]
            fn traced_stdout_and_status_are_identical_to_untraced() {
                super::check_traced_same_as_untraced(stringify!($name), $stdout, $code);
            }
        }
    };
}

fixture!(
    fork_wait,
    0,
    "child: running\nparent: child exited with 3\n"
);
fixture!(setns_pidfd, 0, "parent: hostname is clonetrace-child\n");
fixture!(
    unshare_setns,
    0,
    "child: getpid() = 1\nparent: child exited with 0, back in the original UTS namespace\n"
);
fixture!(raw_fork, 0, "child: running\nparent: child exited with 4\n");
fixture!(clone_untraced, 0, "parent: untraced child exited with 4\n");
fixture!(
    pid_reuse,
    0,
    "child 1 exited with 1\nchild 2 exited with 2\nchild 3 exited with 3\n"
);
fixture!(
    raw_vfork,
    0,
    "child: running on the parent's memory\nparent: child exited with 2\n"
);
fixture!(vfork_exec, 0, "parent: /bin/true exited with 0\n");
fixture!(explain_calls, 0, "");
fixture!(
    clone_stack,
    0,
    "child: running on a 64 KiB stack\nparent: child exited with 7\n"
);
fixture!(
    clone_vm,
    0,
    "child: wrote 42 into shared memory\nparent: child exited with 0, shared value is 42\n"
);
fixture!(
    clone3_pidfd,
    0,
    "child: running\nparent: child exited with 5 (code CLD_EXITED)\n"
);
fixture!(posix_spawn, 0, "parent: /bin/true exited with 0\n");
fixture!(
    threads3,
    0,
    "thread 1: running\nthread 2: running\nthread 3: running\nmain: joined 3 threads\n"
);
fixture!(
    thread_outlives_creator,
    0,
    "A: created B, exiting\nmain: joined A\nB: still running after A exited\nmain: joined B\n"
);
fixture!(
    killed_by_signal,
    0,
    "child: waiting for a signal\nparent: child killed by signal 15 (Terminated)\n"
);
fixture!(
    exec_from_thread,
    0,
    "main: starting a thread that execs\nthread: exec'ing /bin/true\n"
);
fixture!(
    stop_continue,
    0,
    "child: stopping myself\nparent: child stopped by signal 19\nchild: continued\n\
     parent: child exited with 0\n"
);
fixture!(
    zombie_300ms,
    0,
    "parent: reaped the child after 300 ms, status 0\n"
);
fixture!(
    waitid_pid,
    0,
    "parent: waitid(P_PID) says the child exited with 6\n"
);
fixture!(
    waitid_pidfd,
    0,
    "parent: waitid(P_PIDFD) says the child exited with 8\n"
);
fixture!(
    parent_exits_zombie,
    0,
    "parent: child exited, leaving it a zombie\ntop: parent exited with 0\n"
);
fixture!(
    sigchld_ign,
    0,
    "parent: waitpid failed with ECHILD: the child was reaped automatically\n"
);
fixture!(
    subreaper_orphan,
    0,
    "middle: forking the grandchild and exiting\ngrandchild: my parent is top\n\
     top: reaped middle (exit 0) and the adopted grandchild (exit 9)\n"
);
fixture!(
    daemon_double_fork,
    0,
    "top: first child exited with 0; the daemon runs on\n"
);
fixture!(
    clone_parent,
    0,
    "child: my parent is top\ntop: reaped middle (exit 0) and its sibling (exit 10)\n"
);
fixture!(
    exit_signal_usr1,
    0,
    "child: exiting, my parent gets SIGUSR1\nparent: child exited with 0; SIGUSR1 caught\n"
);
fixture!(
    leader_exits_first,
    4,
    "main: calling pthread_exit\nthread: the leader is gone, exiting with 4\n"
);

/// newpid's output depends on whether this machine lets it make a PID namespace.
mod newpid {
    use crate::common::{run_untraced, trace_fixture};

    const IN_NAMESPACE: &str = "child: getpid() = 1\nparent: child exited with 0\n";
    const SKIPPED: &str = "newpid: skipped, CLONE_NEWPID not permitted here\n";

    #[test]
    fn untraced_child_is_pid_1_or_skips() {
        let run = run_untraced("newpid");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            stdout == IN_NAMESPACE || stdout == SKIPPED,
            "newpid printed {stdout:?}"
        );
        assert_eq!(run.status.code(), Some(0));
    }

    #[test]
    fn traced_stdout_and_status_are_identical_to_untraced() {
        let untraced = run_untraced("newpid");
        let trace = trace_fixture("newpid");
        assert_eq!(
            String::from_utf8_lossy(&trace.stdout),
            String::from_utf8_lossy(&untraced.stdout),
            "{}",
            trace.dump()
        );
        assert_eq!(trace.status.code(), Some(0));
    }
}

/// rlimit_eagain shares nobody's process count with any other run of itself.
mod rlimit_eagain {
    use crate::common::{run_untraced, serial, trace_fixture};

    const STDOUT: &str =
        "fork: failed with EAGAIN (Resource temporarily unavailable)\nreaped every child: yes\n";

    #[test]
    fn untraced_output_and_status_are_as_documented() {
        let _one_at_a_time = serial();
        let run = run_untraced("rlimit_eagain");
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            STDOUT,
            "{}",
            run.stderr
        );
        assert_eq!(run.status.code(), Some(0));
    }

    #[test]
    fn traced_stdout_and_status_are_identical_to_untraced() {
        let _one_at_a_time = serial();
        let trace = trace_fixture("rlimit_eagain");
        assert_eq!(
            String::from_utf8_lossy(&trace.stdout),
            STDOUT,
            "{}",
            trace.dump()
        );
        assert_eq!(trace.status.code(), Some(0));
    }
}
