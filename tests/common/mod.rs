//! common: builds the C fixtures once per test run and runs the real `clonetrace` binary on them,
//! with a hard timeout so a hung tracer fails its test instead of blocking CI. Never asserts on
//! what a trace should contain: that belongs to the test modules.

// Each test module uses a different subset of these helpers.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Longest a single run (traced or not) may take before it is killed and the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The clonetrace binary cargo built for these tests.
pub fn clonetrace() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_clonetrace"))
}

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn scratch_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()
}

/// The names of every `fixtures/NAME.c`, sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(source_dir())
        .expect("fixtures/ is readable")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "c").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names
}

/// Compiles every fixture once per test run, two at a time, into `<target tmp>/fixtures/`.
fn built_fixtures() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out_dir = scratch_dir().join("fixtures");
        std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
        let names = fixture_names();
        let failures: Vec<String> = thread::scope(|scope| {
            let workers: Vec<_> = names
                .chunks(names.len().div_ceil(2).max(1))
                .map(|chunk| {
                    let out_dir = &out_dir;
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .filter_map(|name| compile(name, out_dir).err())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("compiler thread"))
                .collect()
        });
        if failures.is_empty() {
            Ok(out_dir)
        } else {
            Err(failures.join("\n"))
        }
    });
    match built {
        Ok(dir) => dir,
        Err(message) => panic!("building the fixtures failed:\n{message}"),
    }
}

fn compile(name: &str, out_dir: &Path) -> Result<(), String> {
    let source = source_dir().join(format!("{name}.c"));
    let target = out_dir.join(name);
    // Compile to a private name and rename, so concurrent test runs (debug and release share
    // CARGO_TARGET_TMPDIR) never execute a half-written binary.
    let partial = out_dir.join(format!(".{name}.{}", std::process::id()));
    let output = Command::new("cc")
        .args(["-O1", "-Wall", "-pthread", "-o"])
        .arg(&partial)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run cc for {name}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cc {}: {}\n{}",
            source.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::rename(&partial, &target).map_err(|e| format!("{}: {e}", target.display()))
}

/// The compiled fixture `fixtures/NAME.c`, built on first use.
#[track_caller]
pub fn fixture(name: &str) -> PathBuf {
    let path = built_fixtures().join(name);
    assert!(path.exists(), "no fixture named {name:?}");
    path
}

/// A fresh path for `name` under the test scratch directory's `area` (the directory is made;
/// the file is not).
pub fn scratch_path(area: &str, name: &str) -> PathBuf {
    let dir = scratch_dir().join(area);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(format!(
        "{}-{}-{name}",
        std::process::id(),
        TRACE_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Writes `contents` to a fresh file named after `name` in the test scratch directory, with
/// permission bits `mode`, and returns its path.
pub fn scratch_file(name: &str, contents: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir().join("files");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(format!(
        "{}-{}-{name}",
        std::process::id(),
        TRACE_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, contents).expect("write scratch file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

/// A copy of `binary` that every user can run: the checkout may sit under a directory only its
/// owner can enter (`/root`, a `mktemp -d` folder), where another user cannot run what was built.
/// Made once per binary in a fresh directory under the system's temporary directory.
pub fn reachable_copy(binary: &Path) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!(
        "clonetrace-tests-{}-{}",
        std::process::id(),
        TRACE_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let fail = |what: &str, e: std::io::Error| format!("cannot {what} {}: {e}", dir.display());
    std::fs::create_dir_all(&dir).map_err(|e| fail("create", e))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| fail("open up", e))?;
    let copy = dir.join(binary.file_name().unwrap_or("program".as_ref()));
    std::fs::copy(binary, &copy).map_err(|e| fail("copy into", e))?;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| fail("open up", e))?;
    // The temporary directory itself must be reachable too (a private TMPDIR would not be).
    let mut ancestor = dir.parent();
    while let Some(path) = ancestor {
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        if mode & 0o001 == 0 {
            return Err(format!(
                "{} is not searchable by other users, so no copy there can be run by them",
                path.display()
            ));
        }
        ancestor = path.parent();
    }
    Ok(copy)
}

/// Tests that must not run alongside each other (e.g. two that each fill nobody's process limit)
/// hold this guard.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Finished {
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub status: ExitStatus,
    pub pid: u32,
}

/// Runs `command` with stdin closed and stdout/stderr captured, in its own process group; after
/// [`TIMEOUT`] kills the whole group and panics.
pub fn run(mut command: Command) -> Finished {
    use std::os::unix::process::CommandExt;
    let description = format!("{command:?}");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
    let pid = child.id();
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            kill_group(pid);
            let _ = child.wait();
            panic!(
                "{description} still running after {TIMEOUT:?}: killed it.\nstderr so far:\n{}",
                String::from_utf8_lossy(
                    &stderr
                        .join_within(Duration::from_secs(1))
                        .unwrap_or_default()
                )
            );
        }
        thread::sleep(Duration::from_millis(5));
    };
    // A daemon the command left behind may hold the pipes a while; it too has a deadline.
    let rest = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
    let stdout = stdout.join_within(rest).unwrap_or_else(|| {
        kill_group(pid);
        panic!("{description}: stdout still open {TIMEOUT:?} after start")
    });
    let stderr = stderr
        .join_within(Duration::from_secs(5))
        .unwrap_or_default();
    Finished {
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        status,
        pid,
    }
}

fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status();
}

struct Drain(std::sync::mpsc::Receiver<Vec<u8>>);

fn drain(mut pipe: impl Read + Send + 'static) -> Drain {
    let (send, receive) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = send.send(bytes);
    });
    Drain(receive)
}

impl Drain {
    fn join_within(self, limit: Duration) -> Option<Vec<u8>> {
        self.0.recv_timeout(limit).ok()
    }
}

/// Runs the fixture NAME untraced.
pub fn run_untraced(name: &str) -> Finished {
    run(Command::new(fixture(name)))
}

/// Runs `clonetrace` with `args` and no recording options of ours.
pub fn run_clonetrace(args: &[&str]) -> Finished {
    let mut command = Command::new(clonetrace());
    command.args(args);
    run(command)
}

/// One traced run: the JSON-lines record, and what the tracer and the command printed.
#[derive(Debug)]
pub struct Trace {
    pub events: Vec<Value>,
    /// The traced command's standard output (clonetrace prints nothing there).
    pub stdout: Vec<u8>,
    /// clonetrace's live lines and messages, mixed with the command's own standard error.
    pub stderr: String,
    pub status: ExitStatus,
    /// The pid of the clonetrace process itself.
    pub tracer: i64,
}

static TRACE_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Runs `clonetrace --color never --json -o FILE ARGS -- CMD...` and reads the record back.
pub fn trace(args: &[&str], cmd: &[&str]) -> Trace {
    let dir = scratch_dir().join("traces");
    std::fs::create_dir_all(&dir).expect("trace dir");
    let file = dir.join(format!(
        "{}-{}.jsonl",
        std::process::id(),
        TRACE_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut command = Command::new(clonetrace());
    command
        .args(["--color", "never", "--json", "-o"])
        .arg(&file)
        .args(args)
        .arg("--")
        .args(cmd);
    let finished = run(command);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "clonetrace {cmd:?} wrote no record at {}: {e}\nstatus {}\nstderr:\n{}",
            file.display(),
            finished.status,
            finished.stderr
        )
    });
    let _ = std::fs::remove_file(&file);
    let events = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("record line is not JSON ({e}): {line}"))
        })
        .collect();
    Trace {
        events,
        stdout: finished.stdout,
        stderr: finished.stderr,
        status: finished.status,
        tracer: i64::from(finished.pid),
    }
}

/// Traces the fixture NAME with no extra options.
pub fn trace_fixture(name: &str) -> Trace {
    let path = fixture(name);
    trace(&[], &[path.to_str().expect("utf-8 path")])
}

impl Trace {
    /// The events of one `type`, in record order.
    pub fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["type"] == kind).collect()
    }

    #[track_caller]
    pub fn header(&self) -> &Value {
        let first = self.events.first().expect("an empty record");
        assert_eq!(first["type"], "header", "the first line is not the header");
        first
    }

    #[track_caller]
    pub fn end(&self) -> &Value {
        let last = self.events.last().expect("an empty record");
        assert_eq!(last["type"], "end", "the last line is not the end");
        last
    }

    /// Its processes: the traced command and every creation that is not a thread.
    pub fn processes(&self) -> usize {
        1 + self
            .creates()
            .iter()
            .filter(|c| c["kind"] != "thread")
            .count()
    }

    pub fn creates(&self) -> Vec<&Value> {
        self.of_type("create")
    }

    pub fn execs(&self) -> Vec<&Value> {
        self.of_type("exec")
    }

    pub fn exits(&self) -> Vec<&Value> {
        self.of_type("exit")
    }

    pub fn signals(&self) -> Vec<&Value> {
        self.of_type("signal")
    }

    pub fn reaps(&self) -> Vec<&Value> {
        self.of_type("reap")
    }

    pub fn reparents(&self) -> Vec<&Value> {
        self.of_type("reparent")
    }

    /// The traced command's pid: the task of the first exec (the command's own).
    #[track_caller]
    pub fn root_pid(&self) -> i64 {
        let exec = self.execs().into_iter().next();
        int(
            exec.unwrap_or_else(|| panic!("no exec in the record:\n{}", self.dump())),
            "pid",
        )
    }

    /// The one create whose new task is `child`.
    #[track_caller]
    pub fn create_of(&self, child: i64) -> &Value {
        self.only(
            |e| e["type"] == "create" && e["child"] == child,
            "create of",
            child,
        )
    }

    /// The one exit of task `pid`.
    #[track_caller]
    pub fn exit_of(&self, pid: i64) -> &Value {
        self.only(|e| e["type"] == "exit" && e["pid"] == pid, "exit of", pid)
    }

    /// The one reap of process `pid`.
    #[track_caller]
    pub fn reap_of(&self, pid: i64) -> &Value {
        self.only(|e| e["type"] == "reap" && e["pid"] == pid, "reap of", pid)
    }

    /// Signal names delivered to task `pid`, in order.
    pub fn signals_to(&self, pid: i64) -> Vec<String> {
        self.signals()
            .into_iter()
            .filter(|e| e["pid"] == pid)
            .map(|e| string(e, "signal"))
            .collect()
    }

    /// Position of `event` in the record (by identity).
    pub fn position(&self, event: &Value) -> usize {
        self.events
            .iter()
            .position(|e| std::ptr::eq(e, event))
            .expect("event from this trace")
    }

    #[track_caller]
    fn only(&self, pick: impl Fn(&Value) -> bool, what: &str, pid: i64) -> &Value {
        let found: Vec<&Value> = self.events.iter().filter(|e| pick(e)).collect();
        assert_eq!(
            found.len(),
            1,
            "expected exactly one {what} {pid}, found {}:\n{}",
            found.len(),
            self.dump()
        );
        found[0]
    }

    /// `fixture: key=value …` lines the fixture printed on its standard error.
    pub fn facts(&self) -> HashMap<String, String> {
        facts(&self.stderr)
    }

    /// The whole record, one event per line, for assertion messages.
    pub fn dump(&self) -> String {
        let lines: Vec<String> = self.events.iter().map(Value::to_string).collect();
        format!(
            "{}\n--- stderr ---\n{}",
            lines.join("\n"),
            self.stderr.trim_end()
        )
    }
}

/// Parses `fixture: key=value key=value` lines into a map.
pub fn facts(stderr: &str) -> HashMap<String, String> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("fixture: "))
        .flat_map(|rest| rest.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A fact as an integer (decimal, or hex with `0x`).
#[track_caller]
pub fn fact_int(facts: &HashMap<String, String>, key: &str) -> i64 {
    let text = facts
        .get(key)
        .unwrap_or_else(|| panic!("the fixture printed no {key}= fact: {facts:?}"));
    parse_int(text).unwrap_or_else(|| panic!("fact {key}={text} is not a number"))
}

fn parse_int(text: &str) -> Option<i64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|v| v as i64),
        None => text.parse().ok(),
    }
}

/// An integer field; panics with the event when absent or not an integer.
#[track_caller]
pub fn int(event: &Value, key: &str) -> i64 {
    event[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {event}"))
}

/// A string field; panics with the event when absent or not a string.
#[track_caller]
pub fn string(event: &Value, key: &str) -> String {
    event[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {event}"))
        .to_string()
}

/// An address field: `None` for `null`; panics unless it is `null` or a `"0x…"` string.
#[track_caller]
pub fn addr(event: &Value, key: &str) -> Option<u64> {
    match &event[key] {
        Value::Null => None,
        Value::String(text) => {
            let hex = text
                .strip_prefix("0x")
                .unwrap_or_else(|| panic!("{key}={text} lacks 0x in {event}"));
            Some(u64::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("{key}={text} in {event}")))
        }
        other => panic!("{key}={other} is neither null nor a hex string in {event}"),
    }
}

/// A list-of-strings field (e.g. `flags`, `argv`).
#[track_caller]
pub fn strings(event: &Value, key: &str) -> Vec<String> {
    event[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array in {event}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{key} has a non-string in {event}"))
                .to_string()
        })
        .collect()
}

/// Fields that hold a pid, tid or tgid, in any event.
pub const PID_FIELDS: &[&str] = &[
    "pid",
    "tgid",
    "child",
    "child_tgid",
    "parent",
    "reaper",
    "from",
    "to",
    "old_pid",
    "tracer_pid",
    "parent_tid_value",
    "from_pid",
];

/// Fields that differ from run to run for reasons other than pids.
const VOLATILE_FIELDS: &[&str] = &["time", "start", "zombie_seconds", "kernel"];

/// Rewrites pids to `"P1"`, `"P2"`… in order of first sight and drops times, so two runs of the
/// same scenario compare equal. Pid 1 (init) stays `1`; `null` stays `null`.
pub fn normalise_pids(events: &[Value]) -> Vec<Value> {
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut name = |pid: i64| -> Value {
        if pid == 1 {
            return Value::from(1);
        }
        let next = names.len() + 1;
        Value::from(
            names
                .entry(pid)
                .or_insert_with(|| format!("P{next}"))
                .clone(),
        )
    };
    events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            if let Value::Object(fields) = &mut event {
                for key in VOLATILE_FIELDS {
                    fields.remove(*key);
                }
                // Visit fields in the documented order so "first sight" follows the record.
                for key in PID_FIELDS {
                    if let Some(value) = fields.get_mut(*key)
                        && let Some(pid) = value.as_i64()
                    {
                        *value = name(pid);
                    }
                }
                for key in ["set_tid", "nspid"] {
                    if let Some(Value::Array(items)) = fields.get_mut(key) {
                        for item in items.iter_mut() {
                            if let Some(pid) = item.as_i64() {
                                *item = name(pid);
                            }
                        }
                    }
                }
            }
            event
        })
        .collect()
}

/// Checks what holds for every record, whatever the scenario: one header first, one end last,
/// times never decreasing, each task's events after its creation (or the command's exec), at most
/// one exit per task and each reap after that process's exit (per holder of a pid: a create
/// starts a new one). Returns the problems found.
pub fn record_problems(trace: &Trace) -> Vec<String> {
    let mut problems = Vec::new();
    let events = &trace.events;
    if events.first().map(|e| &e["type"]) != Some(&Value::from("header")) {
        problems.push("the first line is not a header".into());
    }
    if events.last().map(|e| &e["type"]) != Some(&Value::from("end")) {
        problems.push("the last line is not an end".into());
    }
    for kind in ["header", "end"] {
        let count = events.iter().filter(|e| e["type"] == kind).count();
        if count != 1 {
            problems.push(format!("{count} {kind} lines"));
        }
    }
    let mut last_time = 0.0;
    let mut known: Vec<i64> = Vec::new();
    let mut exited: HashMap<i64, usize> = HashMap::new();
    let mut reaped: HashMap<i64, usize> = HashMap::new();
    for (line, event) in events.iter().enumerate().skip(1) {
        let kind = event["type"].as_str().unwrap_or("?");
        if let Some(time) = event["time"].as_f64() {
            if time < last_time {
                problems.push(format!("line {line}: time {time} < {last_time}: {event}"));
            }
            last_time = time;
        } else if kind != "header" {
            problems.push(format!("line {line}: no numeric time: {event}"));
        }
        let pid = event["pid"].as_i64();
        match kind {
            "create" => {
                // A new holder of the pid: exits and reaps count afresh (a reused pid).
                let child = int(event, "child");
                exited.remove(&child);
                reaped.remove(&child);
                known.push(child);
            }
            "exec" if known.is_empty() => known.push(int(event, "pid")),
            _ => {}
        }
        if let Some(pid) = pid
            && kind != "create"
            && kind != "end"
            && !known.contains(&pid)
            && event["old_pid"]
                .as_i64()
                .is_none_or(|old| !known.contains(&old))
        {
            problems.push(format!(
                "line {line}: task {pid} appears before its create: {event}"
            ));
        }
        if kind == "exit" {
            let pid = pid.unwrap_or_default();
            if let Some(previous) = exited.insert(pid, line) {
                problems.push(format!(
                    "line {line}: second exit of {pid} (first at {previous})"
                ));
            }
        }
        if kind == "reap" {
            let pid = pid.unwrap_or_default();
            if !exited.contains_key(&pid) {
                problems.push(format!("line {line}: reap of {pid} before its exit"));
            }
            if let Some(previous) = reaped.insert(pid, line) {
                problems.push(format!(
                    "line {line}: second reap of {pid} (first at {previous})"
                ));
            }
        }
    }
    problems
}

#[test]
fn normalise_pids_names_pids_in_order_of_first_sight_and_drops_times() {
    let events: Vec<Value> = [
        r#"{"type":"header","tracer_pid":500,"start":"x"}"#,
        r#"{"type":"create","time":0.1,"pid":501,"tgid":501,"child":502,"child_tgid":502,"parent":501,"parent_tid_value":null,"set_tid":[502]}"#,
        r#"{"type":"reparent","time":0.2,"pid":502,"from":501,"to":1}"#,
        r#"{"type":"reap","time":0.3,"pid":502,"reaper":1,"zombie_seconds":0.1}"#,
    ]
    .iter()
    .map(|line| serde_json::from_str(line).unwrap())
    .collect();
    use serde_json::json;
    assert_eq!(
        normalise_pids(&events),
        [
            json!({"type":"header","tracer_pid":"P1"}),
            json!({"type":"create","pid":"P2","tgid":"P2","child":"P3","child_tgid":"P3",
                   "parent":"P2","parent_tid_value":null,"set_tid":["P3"]}),
            json!({"type":"reparent","pid":"P3","from":"P2","to":1}),
            json!({"type":"reap","pid":"P3","reaper":1}),
        ]
    );
}

#[test]
fn facts_are_read_from_fixture_lines_only() {
    let facts = facts("noise a=1\nfixture: stack_top=0x10 pidfd=3\n12 +++ exited +++\n");
    assert_eq!(fact_int(&facts, "stack_top"), 16);
    assert_eq!(fact_int(&facts, "pidfd"), 3);
    assert!(!facts.contains_key("a"));
}

/// Asserts each `(field, value)` pair exactly, reporting every mismatch at once.
#[track_caller]
pub fn assert_fields(trace: &Trace, event: &Value, expected: &[(&str, Value)]) {
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(key, value)| &event[*key] != value)
        .map(|(key, value)| format!("  {key}: expected {value}, got {}", event[*key]))
        .collect();
    assert!(
        wrong.is_empty(),
        "wrong fields in\n{event}\n{}\n\nwhole record:\n{}",
        wrong.join("\n"),
        trace.dump()
    );
}

/// The tree clonetrace prints for the fixture NAME run with `args` (on standard output, so the
/// fixture's own standard error stays apart), and the `fixture:` facts it printed.
pub fn tree_of(args: &[&str], name: &str) -> (String, HashMap<String, String>) {
    let path = fixture(name);
    let mut all = vec!["--tree", "--color", "never", "-o", "/dev/stdout"];
    all.extend_from_slice(args);
    all.push("--");
    all.push(path.to_str().expect("utf-8 path"));
    let run = run_clonetrace(&all);
    (
        String::from_utf8_lossy(&run.stdout).into_owned(),
        facts(&run.stderr),
    )
}
