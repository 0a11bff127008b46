//! views: a recording re-rendered by `clonetrace view` gives the same tree the live run printed,
//! and the other views (DOT graph, Perfetto timeline, summary, compare) are well formed and say
//! what the fixtures are known to do. Bad recordings fail with one line naming the line.

use crate::common::{Finished, Trace, fixture, fixture_names, run, run_clonetrace, serial, trace};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;

/// A traced run of a fixture with `--tree`, and its record written back to a file for `view`.
struct Recording {
    trace: Trace,
    file: PathBuf,
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// A fresh path under the test scratch directory.
fn scratch(name: &str) -> PathBuf {
    crate::common::scratch_path("views", name)
}

/// Traces fixture NAME with `--tree` (and `extra`), keeping the record in a file.
fn record_with(name: &str, extra: &[&str]) -> Recording {
    let path = fixture(name);
    let mut args = vec!["--tree"];
    args.extend_from_slice(extra);
    let trace = {
        // rlimit_eagain fills the user's process limit: nothing else may fork meanwhile.
        let _guard = (name == "rlimit_eagain").then(serial);
        trace(&args, &[path.to_str().expect("utf-8 path")])
    };
    let file = scratch(&format!("{name}.jsonl"));
    write_lines(
        &file,
        &trace
            .events
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>(),
    );
    Recording { trace, file }
}

fn record(name: &str) -> Recording {
    record_with(name, &[])
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).expect("write recording");
}

fn clonetrace(args: &[&str]) -> Finished {
    run_clonetrace(args)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn stdout(finished: &Finished) -> String {
    String::from_utf8_lossy(&finished.stdout).into_owned()
}

/// Runs `clonetrace view FILE ARGS`, asserting success; returns its standard output.
fn view(file: &Path, args: &[&str]) -> String {
    let mut all = vec!["view", path_str(file)];
    all.extend_from_slice(args);
    let finished = clonetrace(&all);
    assert!(
        finished.status.success(),
        "clonetrace {all:?} failed: {}\n{}",
        finished.status,
        finished.stderr
    );
    stdout(&finished)
}

/// Runs `clonetrace view FILE --OPTION OUT` for a view written to a file; returns the file.
fn view_to_file(recording: &Recording, option: &str) -> String {
    let out = scratch(&format!("view{option}"));
    view(&recording.file, &[option, path_str(&out)]);
    let text = std::fs::read_to_string(&out).expect("view output file");
    let _ = std::fs::remove_file(&out);
    text
}

/// The fixtures the structural view tests run on: every kind of creation and ending.
const VARIED: &[&str] = &[
    "fork_wait",
    "posix_spawn",
    "threads3",
    "vfork_exec",
    "clone_stack",
    "subreaper_orphan",
    "daemon_double_fork",
    "exec_from_thread",
    "leader_exits_first",
    "killed_by_signal",
];

fn varied() -> Vec<&'static str> {
    let known = fixture_names();
    VARIED
        .iter()
        .copied()
        .filter(|name| known.iter().any(|k| k == name))
        .collect()
}

/// Runs `check` on each fixture, a few at a time, and fails once with every problem found.
fn for_each_fixture(names: &[&str], check: impl Fn(&str) -> Vec<String> + Sync) {
    let problems: Vec<String> = thread::scope(|scope| {
        let workers: Vec<_> = names
            .chunks(names.len().div_ceil(4).max(1))
            .map(|chunk| {
                let check = &check;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|name| {
                            check(name).into_iter().map(move |p| format!("{name}: {p}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("fixture worker"))
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn view_tree_of_a_recording_equals_the_tree_the_live_run_printed() {
    let names = fixture_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for_each_fixture(&names, |name| {
        let recording = record(name);
        let replayed = view(&recording.file, &["--tree", "--color", "never"]);
        let live = &recording.trace.stderr;
        // The live run prints its tree last on stderr, after the live lines.
        let at_line_start = live
            .len()
            .checked_sub(replayed.len())
            .is_some_and(|start| start == 0 || live.as_bytes()[start - 1] == b'\n');
        if !replayed.is_empty() && live.ends_with(&replayed) && at_line_start {
            Vec::new()
        } else {
            vec![format!(
                "view --tree printed\n{replayed}\nbut the live run ended with\n{}",
                live.lines()
                    .rev()
                    .take(replayed.lines().count().max(3))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            )]
        }
    });
}

#[test]
fn view_without_a_view_option_prints_the_tree() {
    let recording = record("fork_wait");
    assert_eq!(
        view(&recording.file, &[]),
        view(&recording.file, &["--tree"])
    );
}

/// The `<title>` of each node group in an SVG from `dot -Tsvg`.
fn svg_node_titles(svg: &str) -> Vec<String> {
    svg.split("<g id=\"node")
        .skip(1)
        .filter_map(|group| {
            let start = group.find("<title>")? + "<title>".len();
            let end = group[start..].find("</title>")? + start;
            Some(group[start..end].to_string())
        })
        .collect()
}

fn dot_installed() -> bool {
    Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn dot_graph_renders_with_one_node_per_process() {
    if !dot_installed() {
        eprintln!("note: graphviz `dot` is not installed; skipping the SVG rendering check");
        return;
    }
    for_each_fixture(&varied(), |name| {
        let recording = record(name);
        let trace = &recording.trace;
        let graph = view_to_file(&recording, "--dot");
        let input = scratch("graph.dot");
        std::fs::write(&input, &graph).expect("write dot");
        let mut command = Command::new("dot");
        command.arg("-Tsvg").arg(&input);
        let rendered = run(command);
        let _ = std::fs::remove_file(&input);
        let mut problems = Vec::new();
        if !rendered.status.success() || !rendered.stderr.trim().is_empty() {
            problems.push(format!(
                "dot -Tsvg: {}\n{}\n{graph}",
                rendered.status, rendered.stderr
            ));
            return problems;
        }
        let titles = svg_node_titles(&String::from_utf8_lossy(&rendered.stdout));
        let is_id = |t: &str, prefix: char| {
            t.starts_with(prefix) && t[1..].chars().all(|c| c.is_ascii_digit() || c == '_')
        };
        let processes = titles.iter().filter(|t| is_id(t, 'p')).count();
        if processes != trace.processes() {
            problems.push(format!(
                "{processes} process nodes for {} processes: {titles:?}\n{graph}",
                trace.processes()
            ));
        }
        let threads = trace.creates().iter().any(|c| c["kind"] == "thread");
        if threads != titles.iter().any(|t| is_id(t, 't')) {
            problems.push(format!("thread nodes {titles:?} for threads={threads}"));
        }
        if let Some(other) = titles
            .iter()
            .find(|t| !is_id(t, 'p') && !is_id(t, 't') && !is_id(t, 'x'))
        {
            problems.push(format!("unexpected node {other:?}"));
        }
        // A dashed edge for each adoption, and a "reaped, zombie …" for each reap by a process.
        let adoptions = graph.matches("adopted (").count();
        if adoptions != trace.reparents().len() {
            problems.push(format!(
                "{adoptions} adoption edges for {} reparents\n{graph}",
                trace.reparents().len()
            ));
        }
        let reaps = trace
            .reaps()
            .iter()
            .filter(|r| {
                ["parent", "subreaper", "init"].contains(&r["relation"].as_str().unwrap_or(""))
            })
            .count();
        if graph.matches("reaped, zombie").count() != reaps {
            problems.push(format!("{reaps} reaps by processes, edges:\n{graph}"));
        }
        problems
    });
}

/// Where a timeline event is drawn: (pid, tid).
type Track = (i64, i64);

fn track(event: &Value) -> Track {
    (
        event["pid"].as_i64().expect("pid"),
        event["tid"].as_i64().expect("tid"),
    )
}

/// Every structural rule a Chrome/Perfetto timeline must keep; the problems found.
fn timeline_problems(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if document["displayTimeUnit"] != "ms" {
        problems.push("displayTimeUnit is not ms".into());
    }
    let Some(events) = document["traceEvents"].as_array() else {
        return vec!["no traceEvents array".into()];
    };
    let mut last_ts: HashMap<Track, f64> = HashMap::new();
    let mut open: HashMap<Track, Vec<String>> = HashMap::new();
    let mut slices: HashMap<Track, Vec<(f64, f64)>> = HashMap::new();
    let mut flow_starts: HashMap<i64, usize> = HashMap::new();
    let mut flow_ends: HashMap<i64, usize> = HashMap::new();
    let mut flow_points: Vec<(Track, f64, &Value)> = Vec::new();
    for event in events {
        let phase = event["ph"].as_str().unwrap_or("");
        if event["pid"].as_i64().is_none() || event["tid"].as_i64().is_none() {
            problems.push(format!("no integer pid/tid: {event}"));
            continue;
        }
        if phase == "M" {
            continue;
        }
        let Some(ts) = event["ts"].as_f64() else {
            problems.push(format!("no numeric ts: {event}"));
            continue;
        };
        let track = track(event);
        if let Some(&last) = last_ts.get(&track)
            && ts < last
        {
            problems.push(format!("ts goes back on {track:?}: {last} then {event}"));
        }
        last_ts.insert(track, ts);
        let name = event["name"].as_str().unwrap_or("").to_string();
        match phase {
            "B" => open.entry(track).or_default().push(name),
            "E" => {
                if open.entry(track).or_default().pop().is_none() {
                    problems.push(format!("E without a B on {track:?}: {event}"));
                }
            }
            "X" => match event["dur"].as_f64() {
                Some(dur) if dur >= 0.0 => slices.entry(track).or_default().push((ts, ts + dur)),
                _ => problems.push(format!("X without a non-negative dur: {event}")),
            },
            "i" | "I" => {}
            "s" | "f" => {
                let Some(id) = event["id"].as_i64() else {
                    problems.push(format!("flow without an id: {event}"));
                    continue;
                };
                let counts = if phase == "s" {
                    &mut flow_starts
                } else {
                    if event["bp"] != "e" {
                        problems.push(format!(
                            "flow end not bound to its enclosing slice: {event}"
                        ));
                    }
                    &mut flow_ends
                };
                *counts.entry(id).or_default() += 1;
                flow_points.push((track, ts, event));
            }
            other => problems.push(format!("unexpected phase {other:?}: {event}")),
        }
    }
    for (track, names) in open {
        if !names.is_empty() {
            problems.push(format!("B without an E on {track:?}: {names:?}"));
        }
    }
    if flow_starts.len() != flow_ends.len()
        || flow_starts
            .iter()
            .any(|(id, &n)| n != 1 || flow_ends.get(id) != Some(&1))
    {
        problems.push(format!(
            "flows unpaired: starts {flow_starts:?}, ends {flow_ends:?}"
        ));
    }
    // Complete slices on one track must nest (Perfetto drops ones that overlap partially).
    const SLACK: f64 = 0.002;
    for (track, list) in &mut slices {
        list.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut stack: Vec<(f64, f64)> = Vec::new();
        for &(start, end) in list.iter() {
            while stack.last().is_some_and(|&(_, e)| e <= start + SLACK) {
                stack.pop();
            }
            if let Some(&(_, outer_end)) = stack.last()
                && end > outer_end + SLACK
            {
                problems.push(format!(
                    "slice {start}..{end} overlaps {stack:?} partially on {track:?}"
                ));
            }
            stack.push((start, end));
        }
    }
    // Each end of an arrow must lie in a slice of its track, or it has nothing to bind to.
    for (track, ts, event) in flow_points {
        let inside = slices.get(&track).is_some_and(|list| {
            list.iter()
                .any(|&(start, end)| start - SLACK <= ts && ts <= end + SLACK)
        });
        if !inside {
            problems.push(format!(
                "flow point outside every slice of its track: {event}"
            ));
        }
    }
    problems
}

fn named<'v>(document: &'v Value, phase: &str, name: &str) -> Vec<&'v Value> {
    document["traceEvents"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["ph"] == phase && e["name"] == name)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn timeline_slices_nest_flows_pair_and_time_never_goes_back() {
    for_each_fixture(&varied(), |name| {
        let recording = record(name);
        let trace = &recording.trace;
        let text = view_to_file(&recording, "--timeline");
        let document: Value = match serde_json::from_str(&text) {
            Ok(document) => document,
            Err(e) => return vec![format!("not JSON ({e}):\n{text}")],
        };
        let mut problems = timeline_problems(&document);
        let tasks = 1 + trace.creates().len();
        let running = named(&document, "X", "running").len();
        if running != tasks {
            problems.push(format!("{running} running slices for {tasks} tasks"));
        }
        let flows = document["traceEvents"]
            .as_array()
            .map_or(0, |e| e.iter().filter(|e| e["ph"] == "s").count());
        if flows != trace.creates().len() {
            problems.push(format!(
                "{flows} flow arrows for {} creates",
                trace.creates().len()
            ));
        }
        let processes = named(&document, "M", "process_name").len();
        if processes != trace.processes() {
            problems.push(format!(
                "{processes} process tracks for {} processes",
                trace.processes()
            ));
        }
        let execs = document["traceEvents"].as_array().map_or(0, |events| {
            events
                .iter()
                .filter(|e| {
                    e["ph"] == "i" && e["name"].as_str().is_some_and(|n| n.starts_with("exec "))
                })
                .count()
        });
        if execs != trace.execs().len() {
            problems.push(format!(
                "{execs} exec instants for {} execs",
                trace.execs().len()
            ));
        }
        let vforks = trace
            .creates()
            .iter()
            .filter(|c| {
                c["syscall"] == "vfork"
                    || crate::common::strings(c, "flags")
                        .iter()
                        .any(|f| f == "CLONE_VFORK")
            })
            .count();
        let blocked = named(&document, "X", "blocked in vfork").len();
        if blocked != vforks {
            problems.push(format!(
                "{blocked} blocked-in-vfork slices for {vforks} vforks"
            ));
        }
        if !problems.is_empty() {
            problems.push(format!("timeline:\n{text}"));
        }
        problems
    });
}

#[test]
fn timeline_shows_the_vfork_parent_blocked_until_the_child_execs() {
    let recording = record("vfork_exec");
    let document: Value =
        serde_json::from_str(&view_to_file(&recording, "--timeline")).expect("JSON");
    let trace = &recording.trace;
    let parent = trace.root_pid();
    let create = &trace.creates()[0];
    let child = create["child"].as_i64().expect("child");
    let exec = trace
        .execs()
        .into_iter()
        .find(|e| e["pid"] == child)
        .expect("the child's exec");
    let blocked = named(&document, "X", "blocked in vfork");
    assert_eq!(blocked.len(), 1, "{document}");
    let slice = blocked[0];
    assert_eq!(track(slice), (parent, parent));
    let micros = |event: &Value| event["time"].as_f64().expect("time") * 1e6;
    let start = slice["ts"].as_f64().unwrap();
    let end = start + slice["dur"].as_f64().unwrap();
    assert!((start - micros(create)).abs() < 0.01, "{slice} vs {create}");
    assert!((end - micros(exec)).abs() < 0.01, "{slice} vs {exec}");
}

/// The summary's lines, each split into words, with a row's wrapped flags joined back on.
fn summary_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for line in text.lines().skip(1) {
        if line.starts_with(' ')
            && line
                .trim_start()
                .chars()
                .next()
                .is_some_and(|c| !c.is_ascii_digit())
        {
            if let Some(row) = rows.last_mut()
                && let Some(flags) = row.last_mut()
            {
                flags.push_str(line.trim());
            }
            continue;
        }
        rows.push(line.split_whitespace().map(String::from).collect());
    }
    rows
}

fn summary_of(name: &str) -> (String, Recording) {
    let recording = record_with(name, &["--summary"]);
    let text = view(&recording.file, &["--summary"]);
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns:\n{text}");
    }
    // The live run printed the same table at its end.
    assert!(
        recording.trace.stderr.ends_with(&text),
        "live summary differs from view's:\n{text}\nlive:\n{}",
        recording.trace.stderr
    );
    (text, recording)
}

fn has_row(text: &str, words: &[&str]) {
    let rows = summary_rows(text);
    assert!(
        rows.iter().any(|row| row == words),
        "no row {words:?} in\n{text}\n{rows:?}"
    );
}

#[test]
fn summary_shows_glibc_fork_as_clone_with_child_tid_flags_and_sigchld() {
    let (text, _) = summary_of("fork_wait");
    has_row(
        &text,
        &[
            "1",
            "fork",
            "fork_wait",
            "clone",
            "SIGCHLD",
            "-",
            "CHILD_CLEARTID|CHILD_SETTID",
        ],
    );
}

#[test]
fn summary_shows_posix_spawn_as_clone3_vm_vfork_on_a_36_kib_stack() {
    let (text, _) = summary_of("posix_spawn");
    has_row(
        &text,
        &[
            "1",
            "spawn",
            "posix_spawn",
            "clone3",
            "SIGCHLD",
            "36",
            "KiB",
            "VM|VFORK",
        ],
    );
}

#[test]
fn summary_shows_pthread_create_as_clone3_thread_on_an_8_mib_stack() {
    let (text, _) = summary_of("threads3");
    has_row(
        &text,
        &[
            "3",
            "thread",
            "threads3",
            "clone3",
            "-",
            "8",
            "MiB",
            "VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID",
        ],
    );
    assert!(text.ends_with("3 creation calls: 3 threads\n"), "{text}");
}

fn compare(files: &[&Path]) -> String {
    let mut args = vec!["compare", "--color", "never"];
    args.extend(files.iter().map(|f| path_str(f)));
    let finished = clonetrace(&args);
    assert!(
        finished.status.success(),
        "compare failed: {}\n{}",
        finished.status,
        finished.stderr
    );
    stdout(&finished)
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The first line of a table row whose label is `role`.
fn role_line<'t>(text: &'t str, role: &str) -> &'t str {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(role))
        .unwrap_or_else(|| panic!("no {role} row in\n{text}"))
}

#[test]
fn compare_counts_namespace_changes_per_recording_and_how_they_came() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let text = compare(&[
        &golden.join("newpid.jsonl"),
        &golden.join("unshare_setns.jsonl"),
        &golden.join("fork_wait.jsonl"),
    ]);
    let line = text
        .lines()
        .find(|l| l.contains("namespace changes"))
        .unwrap_or_else(|| panic!("no namespace line in\n{text}"));
    assert_eq!(
        line,
        "  ≠ ns     namespace changes: 1 (clone) in A vs 3 (unshare, setns) in B vs none in C"
    );
    // The same recording twice: no difference to mark.
    let text = compare(&[&golden.join("newpid.jsonl"), &golden.join("newpid.jsonl")]);
    assert!(
        text.contains("    ns     namespace changes: 1 (clone) in A vs 1 (clone) in B"),
        "{text}"
    );
}

#[test]
fn compare_puts_recordings_side_by_side_and_marks_the_rows_that_differ() {
    let threads = record("threads3");
    let fork = record("fork_wait");
    let text = compare(&[&threads.file, &fork.file]);
    let header = text.lines().next().unwrap_or("");
    assert!(
        header.contains(&format!("A: {}", file_name(&threads.file)))
            && header.contains(&format!("B: {}", file_name(&fork.file))),
        "{text}"
    );
    let commands = text.lines().nth(1).unwrap_or("");
    assert!(
        commands.contains("threads3") && commands.contains("fork_wait"),
        "{text}"
    );
    let thread_row = role_line(&text, "thread");
    assert!(
        thread_row.contains('≠') && thread_row.contains("3× clone3, stack 8 MiB"),
        "{text}"
    );
    let fork_row = role_line(&text, "fork");
    assert!(
        fork_row.contains('≠') && fork_row.contains("1× clone, SIGCHLD"),
        "{text}"
    );
    assert!(!role_line(&text, "spawn").contains('≠'), "{text}");
    assert!(text.contains("differences:"), "{text}");
}

#[test]
fn compare_of_glibc_fork_and_the_raw_fork_syscall_names_the_fields_that_differ() {
    let glibc = record("fork_wait");
    let raw = record("raw_fork");
    let text = compare(&[&glibc.file, &raw.file]);
    assert!(role_line(&text, "fork").contains('≠'), "{text}");
    assert!(text.contains("syscall clone (A) vs fork (B)"), "{text}");
    assert!(
        text.contains("flags CHILD_CLEARTID|CHILD_SETTID only in A"),
        "{text}"
    );
}

#[test]
fn compare_of_two_runs_of_one_program_marks_no_difference() {
    let first = record("posix_spawn");
    let second = record("posix_spawn");
    let text = compare(&[&first.file, &second.file]);
    assert!(!text.contains('≠'), "{text}");
    assert!(
        text.contains("same kinds of creation calls in every recording"),
        "{text}"
    );
}

/// Asserts a failed run printed exactly one `clonetrace:` line containing each of `words`.
fn assert_one_line_error(finished: &Finished, words: &[&str]) {
    assert!(
        !finished.status.success(),
        "succeeded on bad input; stdout:\n{}",
        stdout(finished)
    );
    let lines: Vec<&str> = finished.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not one line:\n{}", finished.stderr);
    assert!(lines[0].starts_with("clonetrace: "), "{}", lines[0]);
    for word in words {
        assert!(lines[0].contains(word), "{:?} lacks {word:?}", lines[0]);
    }
    assert!(finished.stdout.is_empty(), "printed a partial view");
}

/// The recording of fork_wait with its lines changed by `edit`, in a new file.
fn edited(recording: &Recording, edit: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let text = std::fs::read_to_string(&recording.file).expect("recording");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    edit(&mut lines);
    let path = scratch("edited.jsonl");
    std::fs::write(&path, lines.join("\n")).expect("write");
    path
}

#[test]
fn view_of_a_corrupted_line_fails_with_one_line_naming_it() {
    let recording = record("fork_wait");
    let bad = edited(&recording, |lines| {
        lines[2] = "{\"type\":\"create\",oops}".into()
    });
    let finished = clonetrace(&["view", path_str(&bad)]);
    assert_one_line_error(&finished, &[path_str(&bad), "line 3"]);
    let _ = std::fs::remove_file(bad);
}

#[test]
fn view_of_a_newer_format_fails_with_one_line_naming_it() {
    let recording = record("fork_wait");
    let newer = edited(&recording, |lines| {
        lines[0] = lines[0].replace("\"format\":1", "\"format\":99")
    });
    let finished = clonetrace(&["view", path_str(&newer), "--summary"]);
    assert_one_line_error(&finished, &["line 1", "newer"]);
    let _ = std::fs::remove_file(newer);
}

#[test]
fn view_of_a_file_without_its_header_fails_with_one_line_naming_it() {
    let recording = record("fork_wait");
    let headless = edited(&recording, |lines| {
        lines.remove(0);
    });
    let finished = clonetrace(&["view", path_str(&headless)]);
    assert_one_line_error(&finished, &["line 1", "header"]);
    let _ = std::fs::remove_file(headless);
}

#[test]
fn compare_with_a_corrupted_recording_fails_with_one_line_naming_it() {
    let good = record("fork_wait");
    // Cut in the middle of line 2 with lines after it: corrupted, not merely cut short.
    let bad = edited(&good, |lines| {
        let half = lines[1].len() / 2;
        lines[1].truncate(half);
    });
    let finished = clonetrace(&["compare", path_str(&good.file), path_str(&bad)]);
    assert_one_line_error(&finished, &[path_str(&bad), "line 2"]);
    let _ = std::fs::remove_file(bad);
}

#[test]
fn view_of_a_recording_cut_mid_line_shows_everything_before_the_cut() {
    let recording = record("fork_wait");
    let full = view(&recording.file, &["--tree"]);
    // Cut inside the last line (the end record), as an interrupted trace leaves it.
    let cut = edited(&recording, |lines| {
        let last = lines.last_mut().expect("lines");
        last.truncate(last.len() / 2);
    });
    let replayed = view(&cut, &["--tree"]);
    assert_eq!(replayed, full);
    let _ = std::fs::remove_file(cut);
}
