//! record: the JSON-lines record starts with a header describing the run and ends with the exit
//! status; `-o FILE` takes the record (live lines without --json) away from stderr.

use crate::common::{Finished, clonetrace, run, scratch_file, string, strings, trace};
use std::process::Command;

#[test]
fn header_describes_the_run_and_the_tracer() {
    let trace = trace(&[], &["/bin/true", "arg"]);
    let header = trace.header();
    assert_eq!(header["format"], 1);
    assert_eq!(header["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(strings(header, "command"), ["/bin/true", "arg"]);
    assert_eq!(header["arch"], std::env::consts::ARCH);
    assert_eq!(header["mode"], "default");
    assert_eq!(
        header["tracer_pid"], trace.tracer,
        "tracer_pid is clonetrace's own pid"
    );
    let start = string(header, "start");
    assert!(
        start.len() >= 20 && start.ends_with('Z') && start.as_bytes()[10] == b'T',
        "start {start:?} is not RFC 3339 UTC"
    );
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(header["kernel"], release.trim());
}

#[test]
fn end_is_last_with_the_exit_code_and_the_latest_time() {
    let trace = trace(&[], &["sh", "-c", "exit 3"]);
    let end = trace.end();
    assert_eq!(end["exit_code"], 3);
    let last = end["time"].as_f64().unwrap();
    assert!(
        trace
            .events
            .iter()
            .filter_map(|e| e["time"].as_f64())
            .all(|t| t <= last),
        "{}",
        trace.dump()
    );
}

#[test]
fn tree_option_does_not_change_the_json_record() {
    let plain = trace(&[], &["/bin/true"]);
    let with_tree = trace(&["--tree"], &["/bin/true"]);
    let kinds = |t: &crate::common::Trace| -> Vec<String> {
        t.events.iter().map(|e| string(e, "type")).collect()
    };
    assert_eq!(kinds(&plain), kinds(&with_tree));
}

fn run_with_output(extra: &[&str], file: &std::path::Path) -> Finished {
    let mut command = Command::new(clonetrace());
    command
        .args(["--color", "never"])
        .args(extra)
        .arg("-o")
        .arg(file)
        .args(["--", "/bin/sh", "-c", "exit 5"]);
    run(command)
}

#[test]
fn output_file_without_json_gets_the_live_lines_and_stderr_stays_empty() {
    let file = scratch_file("live.txt", "", 0o644);
    let finished = run_with_output(&[], &file);
    assert_eq!(finished.status.code(), Some(5));
    assert_eq!(finished.stderr, "", "live lines belong in the -o file");
    let live = std::fs::read_to_string(&file).unwrap();
    assert!(
        live.contains("execve(\"/bin/sh\", [\"/bin/sh\", \"-c\", \"exit 5\"]) = 0"),
        "{live}"
    );
    assert!(live.contains("+++ exited with 5 +++"), "{live}");
    assert!(!live.contains("\"type\""), "no JSON without --json: {live}");
}

#[test]
fn json_without_output_file_goes_to_stderr() {
    let mut command = Command::new(clonetrace());
    command.args(["--color", "never", "--json", "--", "/bin/true"]);
    let finished = run(command);
    assert_eq!(finished.status.code(), Some(0));
    let first = finished.stderr.lines().next().unwrap_or_default();
    let header: serde_json::Value = serde_json::from_str(first)
        .unwrap_or_else(|e| panic!("stderr does not start with JSON ({e}): {}", finished.stderr));
    assert_eq!(header["type"], "header");
}

#[test]
fn clonetrace_writes_nothing_on_the_commands_stdout() {
    let trace = trace(&["--tree"], &["/bin/true"]);
    assert!(
        trace.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&trace.stdout)
    );
}
