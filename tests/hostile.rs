//! A recording is input: one that does not fit together (a task created twice, events for tasks
//! never introduced, an exit after its reap, time going back, absurd pids, a record with a field
//! this clonetrace cannot read) still renders what is coherent, with one warning per kind of
//! problem naming the first line, and never a panic.

use crate::common;

const HEADER: &str = r#"{"type":"header","format":1,"version":"0.1.0","command":["./p"],"start":"2026-01-01T00:00:00.000Z","kernel":"6.18","arch":"x86_64","mode":"default","tracer_pid":1}"#;

fn create(time: f64, pid: i32, child: i32, flags: &str) -> String {
    format!(
        r#"{{"type":"create","time":{time},"pid":{pid},"tgid":{pid},"syscall":"clone","flags":{flags},"exit_signal":"SIGCHLD","stack":null,"stack_size":null,"tls":null,"parent_tid":null,"child_tid":null,"pidfd":null,"set_tid":null,"cgroup":null,"clone3_size":null,"clone3_args":null,"clone3_tail":false,"parent_tid_value":null,"pidfd_value":null,"child":{child},"child_tgid":{child},"parent":{pid},"kind":"process"}}"#
    )
}

fn exit(time: f64, pid: i32) -> String {
    format!(
        r#"{{"type":"exit","time":{time},"pid":{pid},"tgid":{pid},"code":0,"signal":null,"core_dumped":false}}"#
    )
}

fn reap(time: f64, pid: i32, reaper: i32) -> String {
    format!(
        r#"{{"type":"reap","time":{time},"pid":{pid},"reaper":{reaper},"relation":"parent","zombie_seconds":0.0}}"#
    )
}

#[test]
fn an_incoherent_recording_renders_what_fits_and_warns_once_per_kind() {
    let lines = [
        HEADER.to_string(),
        r#"{"type":"exec","time":0.0,"pid":100,"tgid":100,"path":"./p","argv":["./p"],"old_pid":null}"#.to_string(),
        create(0.1, 100, 101, "[]"),
        create(0.2, 100, 101, "[]"),           // line 4: created twice
        exit(0.3, 555),                          // line 5: never introduced
        exit(0.25, 101),                         // line 6: time goes back
        reap(0.4, 101, 100),
        exit(0.5, 101),                          // line 8: after its reap
        create(0.6, 100, 104, "[]").replace("\"stack_size\":null", "\"stack_size\":9223372036854775900"), // line 9: absurd size
        create(0.65, 100, -5, "[]"),             // line 10: absurd pid: the same kind, no new warning
        create(0.7, 100, 102, r#"["CLONE_BOGUS"]"#), // line 11: unreadable flag
        create(0.75, 100, 103, "[]"),
        exit(0.8, 103),
        exit(0.9, 555),                          // a second unknown: no second warning
    ];
    let text = lines.join("\n") + "\n";
    let path = common::scratch_file("hostile.jsonl", &text, 0o644);
    let file = path.to_str().unwrap();
    for args in [
        vec!["view", file, "--tree", "--color", "never"],
        vec!["view", file, "--summary", "--color", "never"],
        vec!["compare", file, file, "--color", "never"],
    ] {
        let run = common::run_clonetrace(&args);
        assert_eq!(run.status.code(), Some(0), "{args:?}: {}", run.stderr);
        let warnings: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("clonetrace: warning:"))
            .collect();
        let per_file = if args[0] == "compare" { 2 } else { 1 };
        assert_eq!(warnings.len(), 6 * per_file, "{args:?}:\n{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), warnings.len(), "{}", run.stderr);
        for (line, words) in [
            (4, "already alive"),
            (5, "no record introduced"),
            (6, "time goes back"),
            (8, "already reaped"),
            (9, "beyond 2^63"),
            (11, "CLONE_BOGUS"),
        ] {
            assert!(
                warnings
                    .iter()
                    .any(|w| w.contains(&format!("line {line}:")) && w.contains(words)),
                "no warning for line {line} ({words}):\n{}",
                run.stderr
            );
        }
    }
    let tree = common::run_clonetrace(&["view", file, "--tree", "--color", "never"]);
    let text = String::from_utf8_lossy(&tree.stdout);
    assert!(text.starts_with("100 ./p"), "{text}");
    assert!(text.contains("103 (fork of p)"), "{text}");
}
