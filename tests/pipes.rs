//! A reader that stops reading (`clonetrace … | head -1`) ends clonetrace quietly: no panic, no
//! message, status 0, on every path that writes to standard output. Each run gets a pipe whose
//! reading end is already closed, so its very first write fails: the worst case, every time.

use crate::common;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs clonetrace with `args`, its standard output a pipe nobody reads; returns (status,
/// stderr). Killed and failed after the common timeout.
fn run_into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut child = Command::new(common::clonetrace())
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start clonetrace");
    let mut stderr = child.stderr.take().expect("stderr");
    let reading = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).ok();
        text
    });
    let deadline = Instant::now() + common::TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("clonetrace {args:?} did not end after its output closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code(), reading.join().expect("stderr reader"))
}

fn recording() -> std::path::PathBuf {
    let path = common::scratch_file("pipes.jsonl", "", 0o644);
    let fixture = common::fixture("threads3");
    let run = common::run_clonetrace(&[
        "--json",
        "-o",
        path.to_str().unwrap(),
        "--",
        fixture.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", run.stderr);
    path
}

#[test]
fn every_subcommand_ends_quietly_when_its_reader_has_gone() {
    let recording = recording();
    let file = recording.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["demo", "fork", "--color", "never"],
        vec!["demo", "--list"],
        vec!["view", file],
        vec!["view", file, "--live"],
        vec!["view", file, "--summary"],
        vec!["compare", file, file],
        vec!["man"],
        vec!["completions", "bash"],
        vec!["--help"],
    ];
    let mut problems = Vec::new();
    for args in cases {
        let (status, stderr) = run_into_closed_pipe(&args);
        // The demo's live lines go to standard error; only clonetrace's own complaints count.
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                l.contains("panicked") || l.contains("Broken pipe") || l.starts_with("clonetrace:")
            })
            .collect();
        if status != Some(0) || !complaints.is_empty() {
            problems.push(format!("{args:?}: status {status:?}, {complaints:?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
