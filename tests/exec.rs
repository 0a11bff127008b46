//! exec: every execve is reported with the path as passed and the full argv, by the task that made
//! it; the command's own exec comes first.

use crate::common::{fixture, int, string, strings, trace};

#[test]
fn the_commands_own_exec_is_the_first_event_after_the_header() {
    let path = fixture("fork_wait");
    let path = path.to_str().unwrap();
    let trace = trace(&[], &[path, "extra", "args"]);
    assert_eq!(trace.events[1]["type"], "exec", "{}", trace.dump());
    let exec = &trace.events[1];
    assert_eq!(string(exec, "path"), path);
    assert_eq!(strings(exec, "argv"), [path, "extra", "args"]);
    assert_eq!(exec["old_pid"], serde_json::Value::Null);
    assert_eq!(int(exec, "pid"), int(exec, "tgid"));
}

#[test]
fn exec_path_is_as_passed_and_argv_is_complete() {
    // dash runs `env` as a child (not the last command), so there is a fork and an exec.
    let trace = trace(
        &[],
        &[
            "/bin/sh",
            "-c",
            "/usr/bin/env -i /bin/true one 'two words'; exit 0",
        ],
    );
    let execs = trace.execs();
    let paths: Vec<String> = execs.iter().map(|e| string(e, "path")).collect();
    assert_eq!(
        paths,
        ["/bin/sh", "/usr/bin/env", "/bin/true"],
        "{}",
        trace.dump()
    );
    assert_eq!(
        strings(execs[1], "argv"),
        ["/usr/bin/env", "-i", "/bin/true", "one", "two words"]
    );
    // env execs by the name it was given, from the task the shell forked.
    assert_eq!(strings(execs[2], "argv"), ["/bin/true", "one", "two words"]);
    assert_eq!(execs[1]["pid"], execs[2]["pid"]);
    let forked = int(trace.creates()[0], "child");
    assert_eq!(int(execs[1], "pid"), forked, "{}", trace.dump());
    assert_eq!(trace.status.code(), Some(0));
}

#[test]
fn argv_longer_than_the_live_string_limit_is_recorded_whole() {
    let long = "x".repeat(300);
    let trace = trace(&["-s", "8"], &["/bin/echo", &long]);
    assert_eq!(
        strings(trace.execs()[0], "argv"),
        ["/bin/echo", long.as_str()]
    );
    assert_eq!(trace.stdout, format!("{long}\n").into_bytes());
}
