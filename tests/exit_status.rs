//! exit_status: clonetrace exits as the traced command did (its code, or 128+signal), records how
//! each task ended, and fails to start a command the way a shell does (127 missing, 126 not
//! executable) with one `clonetrace:` line on stderr.

use crate::common::{run_clonetrace, scratch_file, trace};
use serde_json::{Value, json};

#[test]
fn exit_code_of_the_command_is_mirrored() {
    let trace = trace(&[], &["sh", "-c", "exit 7"]);
    assert_eq!(trace.status.code(), Some(7), "{}", trace.dump());
    assert_eq!(trace.end()["exit_code"], 7);
    let root = trace.root_pid();
    assert_eq!(trace.exit_of(root)["code"], 7);
}

#[test]
fn success_is_mirrored_as_zero() {
    let trace = trace(&[], &["/bin/true"]);
    assert_eq!(trace.status.code(), Some(0));
    assert_eq!(trace.end()["exit_code"], 0);
}

#[test]
fn command_killed_by_sigterm_gives_143() {
    let trace = trace(&[], &["sh", "-c", "kill -TERM $$; sleep 5"]);
    assert_eq!(trace.status.code(), Some(143), "{}", trace.dump());
    assert_eq!(trace.end()["exit_code"], 143);
    let exit = trace.exit_of(trace.root_pid());
    assert_eq!(exit["code"], Value::Null, "{exit}");
    assert_eq!(exit["signal"], "SIGTERM", "{exit}");
    assert_eq!(exit["core_dumped"], false, "{exit}");
}

#[test]
fn command_killed_by_sigkill_gives_137() {
    let trace = trace(&[], &["sh", "-c", "kill -KILL $$; sleep 5"]);
    assert_eq!(trace.status.code(), Some(137), "{}", trace.dump());
    let exit = trace.exit_of(trace.root_pid());
    assert_eq!(exit["signal"], "SIGKILL", "{exit}");
    assert_eq!(exit["code"], Value::Null, "{exit}");
}

#[test]
fn child_killed_by_sigterm_is_recorded_with_its_signal() {
    let trace = crate::common::trace_fixture("killed_by_signal");
    let create = trace.creates()[0];
    let child = create["child"].as_i64().unwrap();
    let exit = trace.exit_of(child);
    crate::common::assert_fields(
        &trace,
        exit,
        &[
            ("tgid", json!(child)),
            ("code", Value::Null),
            ("signal", json!("SIGTERM")),
            ("core_dumped", json!(false)),
        ],
    );
    // The parent survives and exits 0, so clonetrace does too.
    assert_eq!(trace.status.code(), Some(0));
}

#[track_caller]
fn assert_one_clonetrace_line(stderr: &str, mentions: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr, got:\n{stderr}"
    );
    assert!(lines[0].starts_with("clonetrace: "), "{stderr}");
    assert!(
        lines[0].contains(mentions),
        "the message should name {mentions}: {stderr}"
    );
}

#[test]
fn missing_command_exits_127_with_one_line_on_stderr() {
    let missing = "/nonexistent/clonetrace-test-command";
    let run = run_clonetrace(&["--color", "never", "--", missing]);
    assert_eq!(run.status.code(), Some(127), "stderr: {}", run.stderr);
    assert_one_clonetrace_line(&run.stderr, missing);
}

#[test]
fn command_not_on_path_exits_127() {
    let run = run_clonetrace(&[
        "--color",
        "never",
        "--",
        "clonetrace-no-such-command-anywhere",
    ]);
    assert_eq!(run.status.code(), Some(127), "stderr: {}", run.stderr);
    assert_one_clonetrace_line(&run.stderr, "clonetrace-no-such-command-anywhere");
}

#[test]
fn non_executable_file_exits_126_with_one_line_on_stderr() {
    let file = scratch_file("not-executable.sh", "#!/bin/sh\nexit 0\n", 0o644);
    let file = file.to_str().unwrap();
    let run = run_clonetrace(&["--color", "never", "--", file]);
    assert_eq!(run.status.code(), Some(126), "stderr: {}", run.stderr);
    assert_one_clonetrace_line(&run.stderr, file);
}

#[test]
fn directory_as_command_exits_126() {
    let run = run_clonetrace(&["--color", "never", "--", "/"]);
    assert_eq!(run.status.code(), Some(126), "stderr: {}", run.stderr);
    assert!(run.stderr.starts_with("clonetrace: "), "{}", run.stderr);
}

#[test]
fn command_exit_status_comes_from_the_process_not_its_last_thread() {
    let trace = crate::common::trace_fixture("leader_exits_first");
    assert_eq!(trace.status.code(), Some(4), "{}", trace.dump());
    assert_eq!(trace.end()["exit_code"], 4);
}
