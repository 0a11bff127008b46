//! Input-controlled depth: a recording whose processes nest 200,000 deep (each the child of the
//! one before; crafted, as this kernel makes real deep chains slowly) goes through every view and
//! `compare` without overflowing a stack, and the tree stays readable: its indentation stops
//! growing and deep lines say their depth.

use crate::common;
use std::io::Write;
use std::path::PathBuf;

const DEPTH: usize = 200_000;

/// header, the root's exec, then DEPTH forks, each by the previous child.
fn deep_recording() -> PathBuf {
    let path = common::scratch_file("deep.jsonl", "", 0o644);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    writeln!(out, r#"{{"type":"header","format":1,"version":"0.1.0","command":["./chain"],"start":"2026-01-01T00:00:00.000Z","kernel":"6.18","arch":"x86_64","mode":"default","tracer_pid":1}}"#).unwrap();
    writeln!(out, r#"{{"type":"exec","time":0.0,"pid":100,"tgid":100,"path":"./chain","argv":["./chain"],"old_pid":null}}"#).unwrap();
    for n in 0..DEPTH {
        let (pid, child) = (100 + n, 101 + n);
        let time = 0.001 + n as f64 * 1e-6;
        writeln!(out, r#"{{"type":"create","time":{time},"pid":{pid},"tgid":{pid},"syscall":"fork","flags":[],"exit_signal":"SIGCHLD","stack":null,"stack_size":null,"tls":null,"parent_tid":null,"child_tid":null,"pidfd":null,"set_tid":null,"cgroup":null,"clone3_size":null,"clone3_args":null,"clone3_tail":false,"parent_tid_value":null,"pidfd_value":null,"child":{child},"child_tgid":{child},"parent":{pid},"kind":"process"}}"#).unwrap();
    }
    out.flush().unwrap();
    path
}

#[test]
fn a_200000_deep_recording_goes_through_every_view() {
    let recording = deep_recording();
    let file = recording.to_str().unwrap();
    let dot = common::scratch_file("deep.dot", "", 0o644);
    let timeline = common::scratch_file("deep.timeline.json", "", 0o644);
    let runs: Vec<Vec<&str>> = vec![
        vec!["view", file, "--tree", "--color", "never"],
        vec!["view", file, "--tree", "--ascii", "--color", "never"],
        vec!["view", file, "--live", "--color", "never"],
        vec!["view", file, "--summary", "--color", "never"],
        vec!["view", file, "--dot", dot.to_str().unwrap()],
        vec!["view", file, "--timeline", timeline.to_str().unwrap()],
        vec!["compare", file, file, "--color", "never"],
    ];
    for args in &runs {
        let run = common::run_clonetrace(args);
        assert_eq!(run.status.code(), Some(0), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("overflow"), "{args:?}: {}", run.stderr);
    }
    let tree = common::run_clonetrace(&runs[0]);
    let text = String::from_utf8_lossy(&tree.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), DEPTH + 1, "one line per process");
    let widest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest < 200, "indentation kept growing: {widest} columns");
    assert!(
        lines[DEPTH].contains(&format!("[depth {DEPTH}] {}", 100 + DEPTH)),
        "{}",
        lines[DEPTH]
    );
    assert!(lines[DEPTH].contains("(fork of chain)"), "{}", lines[DEPTH]);
    let graph = std::fs::read_to_string(&dot).unwrap();
    assert_eq!(
        graph.matches(" -> ").count(),
        DEPTH,
        "one creation edge per fork"
    );
}
