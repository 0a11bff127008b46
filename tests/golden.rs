//! golden: committed, normalised recordings of the fixtures (`tests/golden/NAME.jsonl`) replayed
//! through `clonetrace view` and every view, each output compared byte for byte with its committed
//! expected file (`NAME.tree`, `NAME.ascii`, `NAME.live`, `NAME.summary`, `NAME.dot`,
//! `NAME.timeline.json`). A mismatch fails with a line diff naming the file;
//! `CLONETRACE_BLESS=1` writes the new output instead, so a deliberate change is one command and
//! shows up in review as a diff of text. Needs no ptrace: only the ignored
//! `golden_regenerate_recordings` traces anything. See tests/golden/README.md.

use crate::common::{self, fixture, run, run_clonetrace, serial};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixtures recorded for the golden tests, with the recording options each needs. Chosen to
/// cover the vocabulary (every kind of creation, exec from a thread, a leader leaving first, every
/// reap relation, orphans, a PID namespace, a failed creation, wait calls) with the runs whose
/// shape repeats; threads3, daemon_double_fork and rlimit_eagain vary from run to run (exit
/// interleaving, adoption timing, nobody's process count) but are the only sources of several
/// threads, adoption by init and `create_failed`.
const RECORDINGS: &[(&str, &[&str])] = &[
    ("fork_wait", &[]),
    ("vfork_exec", &[]),
    ("posix_spawn", &[]),
    ("threads3", &[]),
    ("zombie_300ms", &[]),
    ("subreaper_orphan", &[]),
    ("killed_by_signal", &[]),
    ("sigchld_ign", &[]),
    ("clone3_pidfd", &[]),
    ("exec_from_thread", &[]),
    ("leader_exits_first", &[]),
    ("newpid", &[]),
    ("daemon_double_fork", &[]),
    ("rlimit_eagain", &["--syscalls"]),
    ("waitid_pid", &["--syscalls"]),
    ("unshare_setns", &["--syscalls"]),
];

/// The environment variable that turns a mismatch into writing the new expected output.
const BLESS: &str = "CLONETRACE_BLESS";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Recordings made by clonetrace 0.1 exactly as it wrote them (not normalised).
fn release_dir() -> PathBuf {
    golden_dir().join("release-0.1")
}

fn blessing() -> bool {
    std::env::var_os(BLESS).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The `*.jsonl` recordings in `dir`, sorted.
fn recordings_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no recordings in {}", dir.display());
    files
}

fn stem(recording: &Path) -> String {
    let name = recording.file_name().and_then(|n| n.to_str());
    let name = name.expect("utf-8 file name");
    name.strip_suffix(".jsonl").unwrap_or(name).to_string()
}

// ---------------------------------------------------------------------------------------------
// The views, run through the real binary.

/// One view of a recording: the `view` options that produce it and the suffix of its expected
/// file.
struct View {
    suffix: &'static str,
    /// Options for a view printed on standard output.
    args: &'static [&'static str],
    /// The option naming the file a view is written to (`--dot`, `--timeline`).
    file_option: Option<&'static str>,
}

const TREE: View = View {
    suffix: "tree",
    args: &["--tree", "--color", "never"],
    file_option: None,
};
const ASCII: View = View {
    suffix: "ascii",
    args: &["--tree", "--ascii", "--color", "never"],
    file_option: None,
};
const LIVE: View = View {
    suffix: "live",
    args: &["--live", "--color", "never"],
    file_option: None,
};
const SUMMARY: View = View {
    suffix: "summary",
    args: &["--summary", "--color", "never"],
    file_option: None,
};
const DOT: View = View {
    suffix: "dot",
    args: &[],
    file_option: Some("--dot"),
};
const TIMELINE: View = View {
    suffix: "timeline.json",
    args: &[],
    file_option: Some("--timeline"),
};

const VIEWS: [&View; 6] = [&TREE, &ASCII, &LIVE, &SUMMARY, &DOT, &TIMELINE];

/// A fresh path under the test scratch directory.
fn scratch(name: &str) -> PathBuf {
    crate::common::scratch_path("golden", name)
}

/// Runs `clonetrace view RECORDING` for `view`; its output, or why there is none.
fn render(view: &View, recording: &Path) -> Result<String, String> {
    let recording = recording.to_str().expect("utf-8 path");
    let out = view.file_option.map(|_| scratch(view.suffix));
    let mut args = vec!["view", recording];
    args.extend_from_slice(view.args);
    if let (Some(option), Some(out)) = (view.file_option, &out) {
        args.push(option);
        args.push(out.to_str().expect("utf-8 path"));
    }
    let finished = run_clonetrace(&args);
    let command = format!("clonetrace {}", args.join(" "));
    if !finished.status.success() {
        return Err(format!(
            "{command} failed: {}\n{}",
            finished.status, finished.stderr
        ));
    }
    // A real recording is coherent: the reader must not warn about it.
    if !finished.stderr.is_empty() {
        return Err(format!("{command} warned:\n{}", finished.stderr));
    }
    let Some(out) = out else {
        return String::from_utf8(finished.stdout)
            .map_err(|e| format!("{command} printed invalid UTF-8: {e}"));
    };
    let text = std::fs::read_to_string(&out)
        .map_err(|e| format!("{command} wrote no {}: {e}", out.display()));
    let _ = std::fs::remove_file(&out);
    let text = text?;
    if view.suffix == TIMELINE.suffix {
        one_trace_event_per_line(&text)
    } else {
        Ok(text)
    }
}

/// The timeline is one line of JSON; its expected file holds the same document with each trace
/// event on a line of its own, so a change shows as the events that changed. serde_json writes an
/// object's keys sorted, so the layout is a function of the content alone.
fn one_trace_event_per_line(text: &str) -> Result<String, String> {
    let document: Value =
        serde_json::from_str(text).map_err(|e| format!("the timeline is not JSON: {e}"))?;
    let Value::Object(fields) = &document else {
        return Err("the timeline is not a JSON object".into());
    };
    let mut lines = Vec::new();
    for (key, value) in fields {
        let key = Value::from(key.as_str());
        match value {
            Value::Array(events) if key == "traceEvents" => {
                let events: Vec<String> = events.iter().map(Value::to_string).collect();
                lines.push(format!("{key}:[\n{}\n]", events.join(",\n")));
            }
            value => lines.push(format!("{key}:{value}")),
        }
    }
    Ok(format!("{{\n{}\n}}\n", lines.join(",\n")))
}

/// Compares `actual` with the committed file `expected`; with `CLONETRACE_BLESS=1` writes it
/// instead. Returns the mismatch, with a diff, when there is one.
fn check(expected: &Path, actual: &str) -> Option<String> {
    let committed = std::fs::read_to_string(expected).ok();
    if committed.as_deref() == Some(actual) {
        return None;
    }
    if blessing() {
        std::fs::write(expected, actual)
            .unwrap_or_else(|e| panic!("cannot bless {}: {e}", expected.display()));
        return None;
    }
    let shown = expected
        .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap_or(expected)
        .display();
    Some(match committed {
        None => format!("{shown}: no expected file; the output is:\n{actual}"),
        Some(committed) => format!(
            "{shown} differs (- expected, + actual):\n{}",
            line_diff(&committed, actual)
        ),
    })
}

/// Renders `view` of every golden recording and compares each with its expected file; fails once
/// with every mismatch.
fn check_view(view: &View) {
    let mut problems = Vec::new();
    for recording in recordings_in(&golden_dir()) {
        let expected = golden_dir().join(format!("{}.{}", stem(&recording), view.suffix));
        match render(view, &recording) {
            Ok(actual) => problems.extend(check(&expected, &actual)),
            Err(e) => problems.push(e),
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\n{} mismatch(es); if the change is deliberate, bless it: \
         {BLESS}=1 cargo test --release golden",
        problems.join("\n\n"),
        problems.len()
    );
}

#[test]
fn golden_tree_is_unchanged() {
    check_view(&TREE);
}

#[test]
fn golden_ascii_tree_is_unchanged() {
    check_view(&ASCII);
}

#[test]
fn golden_live_lines_are_unchanged() {
    check_view(&LIVE);
}

#[test]
fn golden_summary_is_unchanged() {
    check_view(&SUMMARY);
}

#[test]
fn golden_dot_graph_is_unchanged() {
    check_view(&DOT);
}

#[test]
fn golden_timeline_is_unchanged() {
    check_view(&TIMELINE);
}

/// The committed recordings are exactly the listed fixtures, each already normalised (so a hand
/// edit that breaks the rules, or a recording nobody can regenerate, is caught).
#[test]
fn golden_recordings_are_the_listed_fixtures_normalised() {
    let files: Vec<String> = recordings_in(&golden_dir())
        .iter()
        .map(|p| stem(p))
        .collect();
    let mut listed: Vec<String> = RECORDINGS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "tests/golden/*.jsonl against RECORDINGS");
    for name in files {
        let path = golden_dir().join(format!("{name}.jsonl"));
        let text = std::fs::read_to_string(&path).expect("read recording");
        let again = normalise(&text, &name, &stable_path(&name));
        assert!(
            again == text,
            "{} is not normalised (- committed, + normalised):\n{}",
            path.display(),
            line_diff(&text, &again)
        );
    }
}

/// Recordings clonetrace 0.1 wrote (format 1), kept exactly as written, must replay through every
/// view, and their tree must stay what that release printed: the format stays readable while the
/// core changes.
#[test]
fn recordings_of_todays_release_replay_unchanged() {
    let mut problems = Vec::new();
    for recording in recordings_in(&release_dir()) {
        for view in VIEWS {
            match render(view, &recording) {
                Err(e) => problems.push(e),
                Ok(out) if out.trim().is_empty() => problems.push(format!(
                    "{}: view .{} is empty",
                    recording.display(),
                    view.suffix
                )),
                Ok(out) if view.suffix == TREE.suffix => {
                    let expected = release_dir().join(format!("{}.tree", stem(&recording)));
                    problems.extend(check(&expected, &out));
                }
                Ok(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// Regeneration: the only part that traces. Not part of the normal run.

/// Records every fixture in [`RECORDINGS`] afresh with the real binary, normalises the record and
/// writes `tests/golden/NAME.jsonl`. Run with
/// `cargo test --release -- --ignored golden_regenerate`, then bless the views
/// (`CLONETRACE_BLESS=1 cargo test --release golden`) and review both diffs.
///
/// Some fixtures' shapes vary from run to run (the order of a SIGCHLD and a reap, whether the
/// tracer saw a zombie before its parent collected it), and addresses vary with ASLR. So each
/// fixture is recorded up to ten times: a committed recording whose shape (everything but the
/// addresses) one of the runs reproduces is left as it is; otherwise the shape seen most often
/// is written.
#[test]
#[ignore = "traces the fixtures and rewrites tests/golden/*.jsonl; run on purpose"]
fn golden_regenerate_recordings() {
    const RUNS: usize = 10;
    for (name, args) in RECORDINGS {
        let path = golden_dir().join(format!("{name}.jsonl"));
        let committed = std::fs::read_to_string(&path).ok();
        let committed_shape = committed.as_deref().map(shape);
        let mut runs: Vec<(String, String)> = Vec::new();
        let mut kept = false;
        for _ in 0..RUNS {
            let (text, program) = record_fresh(name, args);
            let normalised = normalise(&text, name, &program);
            assert_eq!(
                normalise(&normalised, name, &stable_path(name)),
                normalised,
                "{name}: normalising twice changed the recording"
            );
            let this_shape = shape(&normalised);
            if committed_shape.as_ref() == Some(&this_shape) {
                kept = true;
                break;
            }
            runs.push((this_shape, normalised));
        }
        if kept {
            eprintln!("{name}: unchanged");
            continue;
        }
        let count = |s: &String| runs.iter().filter(|(other, _)| other == s).count();
        // The most frequent shape; of equals, the first recorded.
        let (_, (_, best)) = runs
            .iter()
            .enumerate()
            .max_by_key(|(i, (s, _))| (count(s), std::cmp::Reverse(*i)))
            .expect("at least one run");
        std::fs::write(&path, best).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{name}: rewritten");
        render(&TREE, &path)
            .unwrap_or_else(|e| panic!("the normalised {name} does not replay: {e}"));
    }
}

/// Traces the fixture `name` with `args`; returns the JSON-lines record as written and the path
/// the fixture ran from.
fn record_fresh(name: &str, args: &[&str]) -> (String, String) {
    let program = fixture(name);
    let file = scratch(&format!("{name}.jsonl"));
    let mut command = Command::new(crate::common::clonetrace());
    command
        .args(["--color", "never", "--json", "-o"])
        .arg(&file)
        .args(args)
        .arg("--")
        .arg(&program);
    let finished = {
        // rlimit_eagain fills the user's process limit: nothing else may fork meanwhile.
        let _guard = (name == "rlimit_eagain").then(serial);
        run(command)
    };
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{name}: no record ({e}); status {}\n{}",
            finished.status, finished.stderr
        )
    });
    let _ = std::fs::remove_file(&file);
    (text, program.to_str().expect("utf-8 path").to_string())
}

/// What the normaliser writes for the fixture's own path.
fn stable_path(name: &str) -> String {
    format!("/fixtures/{name}")
}

/// Fields holding an address, which vary from run to run with ASLR.
const ADDRESS_FIELDS: &[&str] = &[
    "stack",
    "tls",
    "parent_tid",
    "child_tid",
    "pidfd",
    "clone3_args",
];

/// A normalised recording with its addresses masked: two runs of a fixture that did the same
/// things in the same order have the same shape.
fn shape(normalised: &str) -> String {
    let mut lines = parse(normalised);
    for line in &mut lines {
        for (key, value) in &mut line.0 {
            if ADDRESS_FIELDS.contains(&key.as_str()) && value.is_string() {
                *value = Value::from("0x…");
            }
        }
    }
    write(&lines)
}

// ---------------------------------------------------------------------------------------------
// The normaliser: a recording made on any machine, at any time, with any pids becomes the same
// text. Each rule is one function.

/// One record line: its fields in the order they were written. (serde_json's `Value` sorts an
/// object's keys; a normalised recording keeps the order clonetrace writes.)
#[derive(Debug, Clone, PartialEq)]
struct Line(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Line;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Line, M::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    fields.push(entry);
                }
                Ok(Line(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

impl Line {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn kind(&self) -> &str {
        self.get("type").and_then(Value::as_str).unwrap_or("")
    }

    fn to_json(&self) -> String {
        let fields: Vec<String> = self
            .0
            .iter()
            .map(|(key, value)| format!("{}:{value}", Value::from(key.as_str())))
            .collect();
        format!("{{{}}}", fields.join(","))
    }
}

fn parse(text: &str) -> Vec<Line> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("record line is not a JSON object ({e}): {line}"))
        })
        .collect()
}

fn write(lines: &[Line]) -> String {
    lines.iter().map(|line| line.to_json() + "\n").collect()
}

/// Normalises a JSON-lines recording of the fixture `name`, which ran from `program`: see each
/// rule.
fn normalise(text: &str, name: &str, program: &str) -> String {
    let mut lines = parse(text);
    fix_header(&mut lines);
    replace_fixture_path(&mut lines, program, &stable_path(name));
    rename_pids(&mut lines);
    renumber_namespaces(&mut lines);
    let times = retime(&mut lines);
    recompute_zombie_seconds(&mut lines, &times);
    write(&lines)
}

/// The time a recording was made.
const STABLE_START: &str = "2000-01-01T00:00:00.000Z";
/// Stands for the clonetrace version and the kernel release in the header.
const STABLE_RELEASE: &str = "0.0.0-golden";

/// Header: `start`, `version` and `kernel` become fixed stand-ins. `format`, `arch` and `mode`
/// stay: they say what the recording is.
fn fix_header(lines: &mut [Line]) {
    let header = lines
        .iter_mut()
        .find(|line| line.kind() == "header")
        .expect("a recording has a header");
    for (key, stand_in) in [
        ("start", STABLE_START),
        ("version", STABLE_RELEASE),
        ("kernel", STABLE_RELEASE),
    ] {
        if let Some(value) = header.get_mut(key) {
            *value = Value::from(stand_in);
        }
    }
}

/// The fixture's path, wherever it was built, becomes `/fixtures/NAME`: every string equal to
/// it, alone or in a list (the header's `command`, exec's `path` and `argv`, attach's). Other
/// paths (`/bin/true`, which fixtures exec) stay.
fn replace_fixture_path(lines: &mut [Line], program: &str, stable: &str) {
    let replace = |value: &mut Value| {
        if value.as_str() == Some(program) {
            *value = Value::from(stable);
        }
    };
    for line in lines {
        for (_, value) in &mut line.0 {
            match value {
                Value::Array(items) => items.iter_mut().for_each(replace),
                value => replace(value),
            }
        }
    }
}

/// Namespace identities (inode numbers, which differ from boot to boot) become 4026530001, …
/// in order of first sight.
fn renumber_namespaces(lines: &mut [Line]) {
    let mut names: HashMap<u64, u64> = HashMap::new();
    for line in lines {
        if let Some(Value::Object(ids)) = line.get_mut("ids") {
            for id in ids.values_mut() {
                if let Some(inode) = id.as_u64() {
                    let next = 4_026_530_001 + names.len() as u64;
                    *id = Value::from(*names.entry(inode).or_insert(next));
                }
            }
        }
    }
}

/// Fields that hold a list of pids or tids (clone3's `set_tid`, exec's `vanished`).
const PID_LIST_FIELDS: &[&str] = &["set_tid", "vanished"];

/// Pids and tids become 1001, 1002, … in order of first sight, reading the record line by line
/// and each line's fields in the order they were written. Every field that holds one is renamed:
/// [`common::PID_FIELDS`], [`PID_LIST_FIELDS`], the first (tracer's namespace) entry of `nspid` — the
/// later entries are pids inside nested namespaces and stay — and a wait record's `id` when it
/// names a pid (waitid `P_PID`/`P_PGID`, wait4's positive pid or negated process group); waitid's
/// pidfd and wait4's -1/0 stay. 0 (none) and 1 (init) stay, so "adopted by init" still reads so.
fn rename_pids(lines: &mut [Line]) {
    let mut names: HashMap<i64, i64> = HashMap::new();
    let mut rename = |value: &mut Value| {
        if let Some(pid) = value.as_i64().filter(|&pid| pid > 1) {
            let next = 1001 + names.len() as i64;
            *value = Value::from(*names.entry(pid).or_insert(next));
        }
    };
    for line in lines {
        let is_wait = line.kind() == "wait";
        let idtype = line.get("idtype").and_then(Value::as_str).map(String::from);
        for (key, value) in &mut line.0 {
            let key = key.as_str();
            if common::PID_FIELDS.contains(&key) {
                rename(value);
            } else if PID_LIST_FIELDS.contains(&key) {
                if let Value::Array(items) = value {
                    items.iter_mut().for_each(&mut rename);
                }
            } else if key == "nspid" {
                if let Some(outermost) = value.as_array_mut().and_then(|a| a.first_mut()) {
                    rename(outermost);
                }
            } else if key == "id" && is_wait {
                match (idtype.as_deref(), value.as_i64()) {
                    (Some("P_PID" | "P_PGID"), _) | (None, Some(1..)) => rename(value),
                    (None, Some(negated)) if negated < -1 => {
                        let mut group = Value::from(-negated);
                        rename(&mut group);
                        *value = Value::from(-group.as_i64().expect("renamed pid"));
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Times: the n-th timed line (the header has none) is at n ms, plus every pause between two
/// lines rounded to the nearest 100 ms (so pauses under 50 ms vanish and the 300 ms zombie or the
/// 200 ms daemon still wait about that long). Order is kept and two runs that paused alike get the
/// same times. Returns each line's new time in whole milliseconds (`None` for the header).
fn retime(lines: &mut [Line]) -> Vec<Option<i64>> {
    let mut previous: Option<f64> = None;
    let mut pauses = 0;
    let mut count = 0;
    let mut times = Vec::with_capacity(lines.len());
    for line in lines {
        let Some(time) = line.get_mut("time") else {
            times.push(None);
            continue;
        };
        let seconds = time.as_f64().expect("a numeric time");
        if let Some(previous) = previous {
            pauses += ((seconds - previous) * 10.0).round() as i64 * 100;
        }
        previous = Some(seconds);
        count += 1;
        let millis = count + pauses;
        *time = Value::from(millis as f64 / 1000.0);
        times.push(Some(millis));
    }
    times
}

/// `zombie_seconds` of a reap: 0 stays 0 (the parent collected the exit before the tracer could
/// see a zombie; the views say `<1 µs` or show no zombie), anything else becomes the reap's new
/// time minus the new time of that pid's last exit before it, so views that show how long a
/// process was a zombie agree with the times.
fn recompute_zombie_seconds(lines: &mut [Line], times: &[Option<i64>]) {
    let mut exited_at: HashMap<i64, i64> = HashMap::new();
    for (line, time) in lines.iter_mut().zip(times) {
        let pid = line.get("pid").and_then(Value::as_i64);
        match (line.kind(), pid, time) {
            ("exit", Some(pid), Some(time)) => {
                exited_at.insert(pid, *time);
            }
            ("reap", Some(pid), Some(time)) => {
                let Some(zombie) = line.get_mut("zombie_seconds") else {
                    continue;
                };
                if zombie.as_f64().is_some_and(|s| s > 0.0) {
                    let exit = exited_at
                        .get(&pid)
                        .unwrap_or_else(|| panic!("a reap of {pid} before its exit"));
                    *zombie = Value::from((time - exit) as f64 / 1000.0);
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A line diff, small enough to keep here rather than add a dependency for it.

/// Lines of unchanged text shown around each change.
const CONTEXT: usize = 2;

/// A diff of `expected` and `actual` by lines (longest common subsequence): changed lines marked
/// `-` (expected) and `+` (actual), with [`CONTEXT`] unchanged lines around each change and `…`
/// where more are left out. Outputs here are a few hundred lines at most, so the quadratic table
/// is fine.
fn line_diff(expected: &str, actual: &str) -> String {
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    // common[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0u32; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            ops.push((' ', old[i]));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
            ops.push(('-', old[i]));
            i += 1;
        } else {
            ops.push(('+', new[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    if changed.is_empty() {
        return "  (the lines are equal: they differ only in line endings or a final newline)"
            .into();
    }
    let near_change = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let mut out = Vec::new();
    let mut skipped = false;
    for (k, (mark, text)) in ops.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push("  …".to_string());
                skipped = false;
            }
            out.push(format!("{mark} {text}"));
        } else {
            skipped = true;
        }
    }
    if skipped {
        out.push("  …".to_string());
    }
    out.join("\n")
}

#[test]
fn line_diff_marks_changed_lines_with_context() {
    let expected = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
    let actual = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\nm\n";
    assert_eq!(
        line_diff(expected, actual),
        "  …\n  b\n  c\n- d\n+ D\n  e\n  f\n  …\n  k\n  l\n+ m"
    );
    assert!(line_diff("a\n", "a").contains("final newline"));
}

#[test]
fn normaliser_renames_pids_in_order_of_first_sight_and_keeps_init() {
    let text = [
        r#"{"type":"header","format":1,"version":"0.1.0","command":["/tmp/x/fork"],"start":"2026-12-02T04:22:22.942Z","kernel":"6.18","arch":"x86_64","mode":"syscalls","tracer_pid":500}"#,
        r#"{"type":"exec","time":0.002,"pid":501,"tgid":501,"path":"/tmp/x/fork","argv":["/tmp/x/fork"],"old_pid":null}"#,
        r#"{"type":"create","time":0.003,"pid":501,"tgid":501,"set_tid":[502,1],"parent_tid_value":502,"child":502,"child_tgid":502,"parent":501,"kind":"process","nspid":[502,1]}"#,
        r#"{"type":"wait","time":0.004,"pid":501,"tgid":501,"syscall":"wait4","idtype":null,"id":-502,"options":[],"child":502,"reaped":false}"#,
        r#"{"type":"wait","time":0.005,"pid":501,"tgid":501,"syscall":"waitid","idtype":"P_PIDFD","id":3,"options":[],"child":502,"reaped":false}"#,
        r#"{"type":"reparent","time":0.006,"pid":502,"from":501,"to":1,"relation":"init"}"#,
    ]
    .join("\n");
    let expected = [
        r#"{"type":"header","format":1,"version":"0.0.0-golden","command":["/fixtures/fork"],"start":"2000-01-01T00:00:00.000Z","kernel":"0.0.0-golden","arch":"x86_64","mode":"syscalls","tracer_pid":1001}"#,
        r#"{"type":"exec","time":0.001,"pid":1002,"tgid":1002,"path":"/fixtures/fork","argv":["/fixtures/fork"],"old_pid":null}"#,
        r#"{"type":"create","time":0.002,"pid":1002,"tgid":1002,"set_tid":[1003,1],"parent_tid_value":1003,"child":1003,"child_tgid":1003,"parent":1002,"kind":"process","nspid":[1003,1]}"#,
        r#"{"type":"wait","time":0.003,"pid":1002,"tgid":1002,"syscall":"wait4","idtype":null,"id":-1003,"options":[],"child":1003,"reaped":false}"#,
        r#"{"type":"wait","time":0.004,"pid":1002,"tgid":1002,"syscall":"waitid","idtype":"P_PIDFD","id":3,"options":[],"child":1003,"reaped":false}"#,
        r#"{"type":"reparent","time":0.005,"pid":1003,"from":1002,"to":1,"relation":"init"}"#,
    ]
    .map(|line| line.to_string() + "\n")
    .concat();
    assert_eq!(normalise(&text, "fork", "/tmp/x/fork"), expected);
}

#[test]
fn normaliser_keeps_long_pauses_and_recomputes_zombie_time_from_them() {
    let text = [
        r#"{"type":"header","tracer_pid":10}"#,
        r#"{"type":"exit","time":0.0019,"pid":12,"tgid":12,"code":0,"signal":null,"core_dumped":false}"#,
        r#"{"type":"signal","time":0.0020,"pid":11,"tgid":11,"signal":"SIGCHLD"}"#,
        r#"{"type":"reap","time":0.3021,"pid":12,"reaper":11,"relation":"parent","zombie_seconds":0.30024}"#,
        r#"{"type":"reap","time":0.3022,"pid":11,"reaper":10,"relation":"tracer","zombie_seconds":0.0}"#,
    ]
    .join("\n");
    let lines = parse(&normalise(&text, "x", "/tmp/x"));
    let field = |n: usize, key: &str| lines[n].get(key).cloned().unwrap();
    assert_eq!(field(1, "time"), Value::from(0.001));
    assert_eq!(field(2, "time"), Value::from(0.002));
    assert_eq!(field(3, "time"), Value::from(0.303));
    assert_eq!(field(3, "zombie_seconds"), Value::from(0.302));
    assert_eq!(field(4, "time"), Value::from(0.304));
    assert_eq!(field(4, "zombie_seconds"), Value::from(0.0));
}
