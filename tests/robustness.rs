//! robustness: clonetrace never harms what it traces (issue 6). Attaching and detaching leave the
//! program running and unstopped; signals and job control behave as untraced, also through a real
//! pseudo-terminal; the program's output, status, descriptors, signal state and user are its own;
//! a failing output neither stops nor harms it; hostile programs (a nested tracer,
//! PTRACE_TRACEME, a fork bomb, an exec storm, a thousand threads ending at once, a group-wide
//! SIGKILL) neither hang the tracer nor end up stopped; SIGKILL at random points never does either.
//!
//! Every process a test starts runs in a session of its own (setsid) with only its standard
//! descriptors, so "nothing left stopped" is checked over every task of that session in /proc,
//! whoever its parent is by then, and whatever a test leaves behind is killed when it ends. Every
//! wait has a deadline: a hang fails its test, it never blocks CI.

use crate::common::{self, Trace, clonetrace, fact_int, facts, fixture, record_problems, serial};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Longest any single run here may take before it is killed and its test fails.
const DEADLINE: Duration = Duration::from_secs(20);
/// How soon clonetrace must be gone once told to detach.
const DETACH_LIMIT: Duration = Duration::from_secs(2);
/// How long to wait for something a test set in motion (an attach, a stop, a marker file).
const SETTLE: Duration = Duration::from_secs(5);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh path in the scratch directory (nothing is created there).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("robustness");
    fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(format!(
        "{}-{}-{name}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("utf-8 path").to_string()
}

/// The compiled fixture NAME, as a string for argument lists.
fn program(name: &str) -> String {
    path_text(&fixture(name))
}

/// Whether `name` is an executable on PATH.
fn installed(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn send(pid: i32, signal: i32) -> bool {
    unsafe { libc::kill(pid, signal) == 0 }
}

/// Polls `done` every 5 ms for at most `limit`; true once it holds.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The contents of `path` once it exists (the fixtures create their markers by rename).
fn wait_for_file(path: &Path, limit: Duration) -> Option<String> {
    let mut text = None;
    wait_until(limit, || {
        text = fs::read_to_string(path).ok();
        text.is_some()
    });
    text
}

/// The status a shell reports: the exit code, or 128+signal.
fn shell_status(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().expect("exited or killed"))
}

// ----- /proc: the tasks of a session ---------------------------------------------------------

/// One task (thread) of a session, as /proc shows it.
#[derive(Debug, Clone)]
struct Task {
    tgid: i32,
    tid: i32,
    /// The process's parent.
    ppid: i32,
    name: String,
    /// The letter of `State:`: `t` tracing stop, `T` stopped, `Z` zombie, `S`, `R`, `D`…
    state: char,
    /// `TracerPid:`.
    tracer: i32,
}

impl Task {
    fn stopped(&self) -> bool {
        matches!(self.state, 't' | 'T')
    }

    fn alive(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// (name, state, ppid, session) from a `/proc/…/stat` line.
fn parse_stat(text: &str) -> Option<(String, char, i32, i32)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text[open + 1..close].to_string();
    let mut fields = text[close + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let _pgrp = fields.next()?;
    let session = fields.next()?.parse().ok()?;
    Some((name, state, ppid, session))
}

fn status_field(path: &str, key: &str) -> Option<i32> {
    fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|value| value.trim().parse().ok())
}

/// `TracerPid:` of task `tid` (0 when untraced or gone).
fn tracer_of(tid: i32) -> i32 {
    status_field(&format!("/proc/{tid}/status"), "TracerPid:").unwrap_or(0)
}

/// The state letter of task `tid`, if it exists.
fn state_of(tid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{tid}/stat")).ok()?;
    parse_stat(&stat).map(|s| s.1)
}

/// The thread ids of process `tgid`.
fn thread_ids(tgid: i32) -> BTreeSet<i32> {
    fs::read_dir(format!("/proc/{tgid}/task"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Every thread of process `tgid`.
fn process_tasks(tgid: i32, ppid: i32) -> Vec<Task> {
    thread_ids(tgid)
        .into_iter()
        .filter_map(|tid| {
            let base = format!("/proc/{tgid}/task/{tid}");
            let (name, state, _, _) =
                parse_stat(&fs::read_to_string(format!("{base}/stat")).ok()?)?;
            Some(Task {
                tgid,
                tid,
                ppid,
                name,
                state,
                tracer: status_field(&format!("{base}/status"), "TracerPid:").unwrap_or(0),
            })
        })
        .collect()
}

/// Every task of every process in session `sid`.
fn session_tasks(sid: i32) -> Vec<Task> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut tasks = Vec::new();
    for entry in dir.flatten() {
        let Some(tgid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{tgid}/stat")) else {
            continue;
        };
        if let Some((_, _, ppid, session)) = parse_stat(&stat)
            && session == sid
        {
            tasks.extend(process_tasks(tgid, ppid));
        }
    }
    tasks
}

fn describe(tasks: &[Task]) -> String {
    if tasks.is_empty() {
        return "  (none)".into();
    }
    tasks
        .iter()
        .map(|t| {
            format!(
                "  {}/{} {:<16} state {} tracer {} parent {}",
                t.tgid, t.tid, t.name, t.state, t.tracer, t.ppid
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Kills every process left in session `sid`.
fn kill_session(sid: i32) {
    for _ in 0..100 {
        let alive: BTreeSet<i32> = session_tasks(sid)
            .iter()
            .filter(|t| t.alive())
            .map(|t| t.tgid)
            .collect();
        if alive.is_empty() {
            return;
        }
        for pid in alive {
            send(pid, libc::SIGKILL);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Fails if a task of session `sid` is stopped (`t` or `T`), other than those in `allowed`.
#[track_caller]
fn assert_nothing_stopped(sid: i32, allowed: &[i32], what: &str) {
    let tasks = session_tasks(sid);
    let stopped: Vec<Task> = tasks
        .iter()
        .filter(|t| t.stopped() && !allowed.contains(&t.tid))
        .cloned()
        .collect();
    assert!(
        stopped.is_empty(),
        "{what}: tasks left stopped:\n{}\nall tasks of the session:\n{}",
        describe(&stopped),
        describe(&tasks)
    );
}

/// Fails if a live task of session `sid` is traced or stopped.
#[track_caller]
fn assert_untraced_and_running(sid: i32, what: &str) {
    let tasks = session_tasks(sid);
    let harmed: Vec<Task> = tasks
        .iter()
        .filter(|t| t.alive() && (t.tracer != 0 || t.stopped()))
        .cloned()
        .collect();
    assert!(
        harmed.is_empty(),
        "{what}: tasks still traced or stopped:\n{}",
        describe(&harmed)
    );
}

/// Waits until no live task is left in session `sid` (zombies awaiting init do not count).
#[track_caller]
fn assert_session_ends(sid: i32, what: &str) {
    let mut left = Vec::new();
    let ended = wait_until(SETTLE, || {
        left = session_tasks(sid).into_iter().filter(Task::alive).collect();
        left.is_empty()
    });
    assert!(ended, "{what}: tasks still there:\n{}", describe(&left));
}

// ----- processes in sessions of their own -----------------------------------------------------

/// Signal state to start a process with (as a parent like nohup would leave it).
#[derive(Debug, Clone, Default)]
struct SignalSetup {
    ignore: Vec<i32>,
    block: Vec<i32>,
}

/// A process started in a session of its own (its pid is the session id) with only stdin,
/// stdout and stderr open; stdout and stderr go to files unless the caller set them. Whatever is
/// left in the session when this is dropped is killed.
struct Session {
    child: Child,
    pid: i32,
    stdout: Option<PathBuf>,
    stderr: Option<PathBuf>,
    status: Option<ExitStatus>,
    description: String,
}

impl Session {
    fn start(command: Command) -> Self {
        Self::start_with(command, &SignalSetup::default(), true)
    }

    /// With `capture` false, the caller has set stdin, stdout and stderr.
    fn start_with(mut command: Command, signals: &SignalSetup, capture: bool) -> Self {
        let description = format!("{command:?}");
        let (stdout, stderr) = if capture {
            let (out, err) = (scratch("stdout"), scratch("stderr"));
            command
                .stdin(Stdio::null())
                .stdout(File::create(&out).expect("stdout file"))
                .stderr(File::create(&err).expect("stderr file"));
            (Some(out), Some(err))
        } else {
            (None, None)
        };
        let signals = signals.clone();
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                libc::setsid();
                // A new session whose stdin is a terminal (the pty test) takes it as its
                // controlling terminal, as a login does.
                if libc::isatty(0) == 1 {
                    libc::ioctl(0, libc::TIOCSCTTY, 0);
                }
                apply_signal_setup(&signals);
                // Only the three standard descriptors: another test's descriptor, caught by a
                // concurrent fork, must not pass for one the tracer leaked.
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
        Session {
            pid: child.id() as i32,
            child,
            stdout,
            stderr,
            status: None,
            description,
        }
    }

    fn stdout_bytes(&self) -> Vec<u8> {
        self.stdout
            .as_ref()
            .map(|p| fs::read(p).unwrap_or_default())
            .unwrap_or_default()
    }

    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout_bytes()).into_owned()
    }

    fn stderr_text(&self) -> String {
        self.stderr
            .as_ref()
            .map(|p| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned())
            .unwrap_or_default()
    }

    fn running(&mut self) -> bool {
        self.wait_within(Duration::ZERO).is_none()
    }

    fn wait_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        if self.status.is_some() {
            return self.status;
        }
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.status = Some(status);
                return self.status;
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits at most `limit` for the process to end; else fails showing every task of the session.
    #[track_caller]
    fn expect_exit(&mut self, limit: Duration, what: &str) -> ExitStatus {
        if let Some(status) = self.wait_within(limit) {
            return status;
        }
        let tasks = session_tasks(self.pid);
        panic!(
            "{what}: still running after {limit:?} (a hang):\n{}\ntasks of its session:\n{}\nstderr (tail):\n{}",
            self.description,
            describe(&tasks),
            tail(&self.stderr_text(), 30)
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        kill_session(self.pid);
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn apply_signal_setup(signals: &SignalSetup) {
    // SAFETY: plain libc calls on stack values, async-signal-safe.
    unsafe {
        for &signal in &signals.ignore {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_IGN;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &signal in &signals.block {
            libc::sigaddset(&mut set, signal);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// clonetrace, started in a session of its own, recording JSON lines to a file.
struct Traced {
    session: Session,
    record: PathBuf,
}

/// `clonetrace --color never --json -o RECORD ARGS -- CMD…`.
fn start_traced(args: &[&str], cmd: &[&str]) -> Traced {
    start_traced_with(args, cmd, &SignalSetup::default())
}

fn start_traced_with(args: &[&str], cmd: &[&str], signals: &SignalSetup) -> Traced {
    let record = scratch("record.jsonl");
    let mut command = Command::new(clonetrace());
    command
        .args(["--color", "never", "--json", "-o"])
        .arg(&record)
        .args(args)
        .arg("--")
        .args(cmd);
    Traced {
        session: Session::start_with(command, signals, true),
        record,
    }
}

impl Traced {
    fn pid(&self) -> i32 {
        self.session.pid
    }

    /// The record as a `Trace` (for the shared record checks); the run must have ended.
    #[track_caller]
    fn trace(&self) -> Trace {
        let status = self.session.status.expect("the trace has not ended");
        Trace {
            events: read_events(&self.record),
            stdout: self.session.stdout_bytes(),
            stderr: self.session.stderr_text(),
            status,
            tracer: i64::from(self.pid()),
        }
    }

    /// The traced command: the task whose parent is clonetrace, once it runs traced and has
    /// exec'd (before that it is clonetrace's own image, waiting to be seized).
    #[track_caller]
    fn wait_for_command(&mut self) -> i32 {
        let tracer = self.pid();
        let mut root = None;
        let found = wait_until(SETTLE, || {
            root = session_tasks(tracer)
                .into_iter()
                .find(|t| {
                    t.ppid == tracer
                        && t.tid == t.tgid
                        && t.tracer == tracer
                        && t.name != "clonetrace"
                })
                .map(|t| t.tgid);
            root.is_some()
        });
        assert!(
            found,
            "the command never ran traced; clonetrace {}:\n{}",
            if self.session.running() {
                "runs"
            } else {
                "ended"
            },
            tail(&self.session.stderr_text(), 20)
        );
        root.unwrap()
    }
}

/// The JSON-lines record at `path` (a torn last line, from a killed tracer, is left out).
fn read_events(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| match serde_json::from_str(line) {
            Ok(value) => Some(value),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => None,
            Err(e) => panic!("record line is not JSON ({e}): {line}"),
        })
        .collect()
}

/// Every task the record saw begin (created, or found at attach) and the command itself must
/// end in it: an `exit`, or an exec that took the thread's place or ended it.
fn missing_ends(events: &[Value]) -> Vec<String> {
    let mut ended: HashSet<i64> = HashSet::new();
    for event in events {
        match event["type"].as_str() {
            Some("exit") => ended.extend(event["pid"].as_i64()),
            Some("exec") => {
                ended.extend(event["old_pid"].as_i64());
                let vanished = event["vanished"].as_array().into_iter().flatten();
                ended.extend(vanished.filter_map(Value::as_i64));
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for event in events {
        let task = match event["type"].as_str() {
            Some("create") => event["child"].as_i64(),
            Some("attach") => event["pid"].as_i64(),
            _ => continue,
        };
        if task.is_none_or(|t| !ended.contains(&t)) {
            problems.push(format!("task {task:?} never ends in the record: {event}"));
        }
    }
    let root = events
        .iter()
        .find(|e| e["type"] == "exec")
        .and_then(|e| e["pid"].as_i64());
    if let Some(root) = root
        && !events
            .iter()
            .any(|e| e["type"] == "exit" && e["pid"] == root)
    {
        problems.push(format!("the command ({root}) has no exit"));
    }
    problems
}

/// The shared record rules plus [`missing_ends`], for a trace that ran to its end.
#[track_caller]
fn assert_complete_record(trace: &Trace, what: &str) {
    let mut problems = record_problems(trace);
    problems.extend(missing_ends(&trace.events));
    assert!(
        problems.is_empty(),
        "{what}: the record is incomplete or broken:\n{}\n\n{}",
        problems.join("\n"),
        tail(&trace.dump(), 60)
    );
}

/// The exit code in the record's `end`.
#[track_caller]
fn end_code(events: &[Value]) -> i64 {
    let end = events.last().expect("an empty record");
    assert_eq!(
        end["type"], "end",
        "the record does not end with `end`: {end}"
    );
    end["exit_code"].as_i64().expect("exit_code")
}

/// What an untraced or traced run left: stdout, stderr, status (code or 128+signal).
#[derive(Debug, PartialEq)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: i32,
}

/// Runs `cmd` to its end in a session of its own; fails on a hang or a task left behind.
#[track_caller]
fn run_untraced(cmd: &[&str], signals: &SignalSetup) -> Outcome {
    let mut session = Session::start_with(command(cmd[0], &cmd[1..]), signals, true);
    let status = session.expect_exit(DEADLINE, "untraced run");
    assert_session_ends(session.pid, "untraced run");
    Outcome {
        stdout: session.stdout_text(),
        stderr: session.stderr_text(),
        status: shell_status(status),
    }
}

/// Runs `clonetrace -o LIVE ARGS -- CMD` (live lines to a file, so stderr is the command's own)
/// to its end; fails on a hang or a task left stopped or behind.
#[track_caller]
fn run_traced_plain(args: &[&str], cmd: &[&str], signals: &SignalSetup) -> Outcome {
    let live = scratch("live.txt");
    let mut command = Command::new(clonetrace());
    command.arg("-o").arg(&live).args(args).arg("--").args(cmd);
    let mut session = Session::start_with(command, signals, true);
    let status = session.expect_exit(DEADLINE, "traced run");
    assert_nothing_stopped(session.pid, &[], "traced run");
    assert_session_ends(session.pid, "traced run");
    Outcome {
        stdout: session.stdout_text(),
        stderr: session.stderr_text(),
        status: shell_status(status),
    }
}

// ----- 1. attach ------------------------------------------------------------------------------

mod attach {
    use super::*;

    /// Starts robust_busy (long-lived threads, a worker child, children and threads made in a
    /// loop) for `ms`, exiting 3; returns it with its worker's pid once everything runs.
    fn busy_process(ms: &str) -> (Session, i32) {
        let busy = program("robust_busy");
        let mut target = Session::start(command(&busy, &[ms, "3", "--worker"]));
        let ready = wait_until(SETTLE, || target.stderr_text().contains("fixture: ready"));
        assert!(
            ready,
            "robust_busy never got ready: {}",
            target.stderr_text()
        );
        assert!(target.running(), "robust_busy ended early");
        let worker = fact_int(&facts(&target.stderr_text()), "worker") as i32;
        (target, worker)
    }

    fn sigint_detaches_from_a_busy_process(descendants: bool) {
        let (mut target, worker) = busy_process("3000");
        let before = thread_ids(target.pid);
        let record = scratch("attach.jsonl");
        let pid = target.pid.to_string();
        let mut args = vec![
            "--color",
            "never",
            "--json",
            "-o",
            record.to_str().unwrap(),
            "-p",
            &pid,
        ];
        if descendants {
            args.push("--descendants");
        }
        let mut tracer = Session::start(command(path_text(clonetrace()).as_str(), &args));
        let attached = wait_until(SETTLE, || {
            tracer_of(target.pid) == tracer.pid && (!descendants || tracer_of(worker) == tracer.pid)
        });
        assert!(
            attached,
            "clonetrace -p {pid} never attached (status {:?}): {}",
            tracer.wait_within(Duration::ZERO),
            tracer.stderr_text()
        );
        if !descendants {
            assert_eq!(
                tracer_of(worker),
                0,
                "without --descendants the worker is not traced"
            );
        }
        thread::sleep(Duration::from_millis(300));
        let during = thread_ids(target.pid);
        assert!(
            tracer.running(),
            "clonetrace ended on its own: {}",
            tracer.stderr_text()
        );

        let told = Instant::now();
        send(tracer.pid, libc::SIGINT);
        let status = tracer.expect_exit(DETACH_LIMIT, "clonetrace -p after SIGINT");
        let took = told.elapsed();
        assert_eq!(
            status.code(),
            Some(0),
            "after detaching clonetrace exits 0: {}",
            tracer.stderr_text()
        );
        assert_untraced_and_running(target.pid, "right after the detach");
        thread::sleep(Duration::from_millis(100));
        assert_untraced_and_running(target.pid, "100 ms after the detach");

        let status = target.expect_exit(DEADLINE, "the process clonetrace detached from");
        assert_eq!(
            status.code(),
            Some(3),
            "robust_busy exits 3 unless a task was harmed (98: a short-lived child, 99: the worker); {status}"
        );
        assert_session_ends(target.pid, "the detached process");

        let events = read_events(&record);
        assert_eq!(
            events.first().map(|e| &e["type"]),
            Some(&Value::from("header"))
        );
        assert_eq!(end_code(&events), 0);
        let attached: Vec<&Value> = events.iter().filter(|e| e["type"] == "attach").collect();
        let attached_tids: HashSet<i64> =
            attached.iter().filter_map(|e| e["pid"].as_i64()).collect();
        // The threads that lived through the whole attach: the main one and its two sleepers.
        let lasting: Vec<i32> = before.intersection(&during).copied().collect();
        assert!(
            lasting.len() >= 3,
            "robust_busy's lasting threads: {lasting:?}"
        );
        for tid in &lasting {
            assert!(
                attached_tids.contains(&i64::from(*tid)),
                "no attach event for thread {tid} of {pid} (took {took:?}):\n{}",
                attached
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        let process = attached
            .iter()
            .find(|e| e["pid"] == target.pid)
            .expect("an attach event for the process");
        assert_eq!(process["tgid"], target.pid);
        assert!(process["path"].is_string(), "{process}");
        assert_eq!(process["argv"][1], "3000", "{process}");
        assert_eq!(
            attached_tids.contains(&i64::from(worker)),
            descendants,
            "the worker is attached exactly with --descendants"
        );
        // Whatever happened after the attach belongs to tasks the record knows.
        let mut known = attached_tids.clone();
        for event in &events {
            let kind = event["type"].as_str().unwrap_or("");
            if matches!(kind, "create" | "exit" | "exec" | "signal") {
                let task = event["pid"].as_i64().unwrap();
                let old = event["old_pid"].as_i64();
                assert!(
                    known.contains(&task) || old.is_some_and(|o| known.contains(&o)),
                    "{kind} of a task the record never introduced: {event}"
                );
            }
            if kind == "create" {
                known.insert(event["child"].as_i64().unwrap());
            }
        }
        let creates = events.iter().filter(|e| e["type"] == "create").count();
        assert!(creates > 0, "the busy process created nothing while traced");
    }

    #[test]
    fn sigint_detaches_and_the_process_runs_on_untraced() {
        sigint_detaches_from_a_busy_process(false);
    }

    #[test]
    fn sigint_detaches_from_descendants_too() {
        sigint_detaches_from_a_busy_process(true);
    }

    fn attach_command(pid: i32) -> Command {
        command(
            path_text(clonetrace()).as_str(),
            &["-o", "/dev/null", "-p", &pid.to_string()],
        )
    }

    /// `clonetrace -o /dev/null -p PID` must fail with one `clonetrace:` line; returns it.
    #[track_caller]
    fn refused(pid: i32) -> String {
        refused_as(attach_command(pid), pid)
    }

    #[track_caller]
    fn refused_as(attach: Command, pid: i32) -> String {
        let mut tracer = Session::start(attach);
        let status = tracer.expect_exit(DEADLINE, "clonetrace -p of a pid it cannot trace");
        let stderr = tracer.stderr_text();
        assert!(
            status.code().is_some_and(|c| c != 0),
            "clonetrace -p {pid} should fail, got {status}: {stderr}"
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line, not:\n{stderr}");
        assert!(lines[0].starts_with("clonetrace:"), "{stderr}");
        lines[0].to_string()
    }

    fn names_pid(line: &str, pid: i32) -> bool {
        line.split(|c: char| !c.is_ascii_digit())
            .any(|word| word == pid.to_string())
    }

    #[test]
    fn attaching_to_a_missing_pid_is_one_clear_line() {
        // A pid that was just used and reaped: free, and not soon reused.
        let mut gone = Command::new("true").spawn().expect("true");
        let pid = gone.id() as i32;
        gone.wait().expect("wait");
        let line = refused(pid);
        assert!(line.to_lowercase().contains("no such process"), "{line}");
        assert!(names_pid(&line, pid), "{line}");
    }

    /// clonetrace -p of root's `sleep`, run as nobody from `binary` (copied first to a place
    /// nobody can reach): the refusal must name the owner and what is missing, and leave the
    /// process alone.
    fn refused_to_nobody(binary: &Path) {
        let reachable = match common::reachable_copy(binary) {
            Ok(path) => path,
            Err(why) => {
                eprintln!("skipped: {why}");
                return;
            }
        };
        let target = Session::start(command("sleep", &["30"]));
        let mut attach = command(
            path_text(&reachable).as_str(),
            &["-o", "/dev/null", "-p", &target.pid.to_string()],
        );
        attach.uid(65534).gid(65534);
        let line = refused_as(attach, target.pid);
        let lower = line.to_lowercase();
        assert!(lower.contains("permission denied"), "{line}");
        assert!(
            line.contains("uid 0"),
            "the message should name the owner: {line}"
        );
        assert!(
            line.contains("ptrace_scope") && line.contains("CAP_SYS_PTRACE"),
            "{line}"
        );
        assert!(
            line.contains("we lack CAP_SYS_PTRACE") && line.contains("run clonetrace as its owner"),
            "{line}"
        );
        assert_untraced_and_running(target.pid, "the process clonetrace could not attach to");
        if let Some(dir) = reachable.parent() {
            let _ = fs::remove_dir_all(dir);
        }
    }

    #[test]
    fn attaching_without_privilege_names_the_owner_and_what_is_needed() {
        if !is_root() {
            eprintln!("skipped: needs root to run clonetrace as nobody against root's process");
            return;
        }
        refused_to_nobody(clonetrace());
    }

    /// A checkout under a directory only its owner may enter (cloned into /root, or into a
    /// `mktemp -d` folder): nobody cannot run the binary where it was built, and the test still
    /// works because it runs a copy nobody can reach.
    #[test]
    fn privilege_tests_work_from_a_checkout_under_a_0700_directory() {
        use std::os::unix::fs::PermissionsExt;
        if !is_root() {
            eprintln!("skipped: needs root to run clonetrace as nobody");
            return;
        }
        let private = common::scratch_dir().join(format!("private-{}", std::process::id()));
        fs::create_dir_all(&private).expect("private dir");
        fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).expect("chmod 700");
        let binary = private.join("clonetrace");
        fs::copy(clonetrace(), &binary).expect("copy clonetrace");
        let mut direct = command(path_text(&binary).as_str(), &["--version"]);
        direct
            .uid(65534)
            .gid(65534)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        assert!(
            direct
                .status()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied),
            "nobody should not be able to run {}: the test would prove nothing",
            binary.display()
        );
        refused_to_nobody(&binary);
        let _ = fs::remove_dir_all(&private);
    }

    #[test]
    fn attaching_to_a_kernel_thread_as_root_says_so_and_suggests_nothing_false() {
        if !is_root() {
            eprintln!("skipped: as root, the refusal of a kernel thread is what is tested");
            return;
        }
        // kthreadd: pid 2 in the initial PID namespace; elsewhere there may be none.
        let comm = fs::read_to_string("/proc/2/comm").unwrap_or_default();
        if comm.trim() != "kthreadd" {
            eprintln!("skipped: pid 2 is not kthreadd here ({comm:?})");
            return;
        }
        let line = refused(2);
        assert!(line.contains("kernel thread"), "{line}");
        assert!(line.contains("we have CAP_SYS_PTRACE"), "{line}");
        assert!(
            !line.contains("run clonetrace as") && !line.contains("needs CAP_SYS_PTRACE"),
            "root has the capability; the message must not suggest it: {line}"
        );
    }

    #[test]
    fn attaching_to_a_process_strace_traces_names_strace() {
        if !installed("strace") {
            eprintln!("skipped: strace is not installed");
            return;
        }
        let target = Session::start(command("sleep", &["30"]));
        let strace = Session::start(command(
            "strace",
            &["-o", "/dev/null", "-p", &target.pid.to_string()],
        ));
        assert!(
            wait_until(SETTLE, || tracer_of(target.pid) == strace.pid),
            "strace never attached: {}",
            strace.stderr_text()
        );
        let line = refused(target.pid);
        assert!(
            names_pid(&line, strace.pid),
            "the message should name strace's pid {}: {line}",
            strace.pid
        );
        assert_eq!(
            tracer_of(target.pid),
            strace.pid,
            "the refused attach disturbed strace"
        );
    }

    #[test]
    fn attaching_to_a_process_clonetrace_traces_names_the_first_clonetrace() {
        let mut target = Session::start(command("sleep", &["30"]));
        let mut first = Session::start(command(
            path_text(clonetrace()).as_str(),
            &["-o", "/dev/null", "-p", &target.pid.to_string()],
        ));
        assert!(
            wait_until(SETTLE, || tracer_of(target.pid) == first.pid),
            "the first clonetrace never attached: {}",
            first.stderr_text()
        );
        let line = refused(target.pid);
        assert!(
            names_pid(&line, first.pid),
            "the message should name {}: {line}",
            first.pid
        );
        send(first.pid, libc::SIGINT);
        let status = first.expect_exit(DETACH_LIMIT, "the first clonetrace after SIGINT");
        assert_eq!(status.code(), Some(0));
        assert_untraced_and_running(target.pid, "sleep after the first clonetrace detached");
        assert!(target.running(), "sleep was harmed by the detach");
    }

    #[test]
    fn detach_in_attach_mode_while_a_vfork_parent_waits_does_not_hang() {
        let marker = scratch("vfork-marker");
        let mut target = Session::start(command(
            &program("robust_vfork_sleep"),
            &["1500", marker.to_str().unwrap()],
        ));
        // The vfork child exists: two processes in the session.
        let forked = wait_until(SETTLE, || {
            session_tasks(target.pid)
                .iter()
                .filter(|t| t.tid == t.tgid)
                .count()
                == 2
        });
        assert!(forked, "robust_vfork_sleep never vforked");
        let mut tracer = Session::start(command(
            path_text(clonetrace()).as_str(),
            &[
                "-o",
                "/dev/null",
                "-p",
                &target.pid.to_string(),
                "--descendants",
            ],
        ));
        assert!(
            wait_until(SETTLE, || tracer_of(target.pid) == tracer.pid),
            "clonetrace never attached: {}",
            tracer.stderr_text()
        );
        thread::sleep(Duration::from_millis(200));
        send(tracer.pid, libc::SIGINT);
        let status =
            tracer.expect_exit(DETACH_LIMIT, "clonetrace -p detaching from a vfork parent");
        assert_eq!(status.code(), Some(0), "{}", tracer.stderr_text());
        assert_nothing_stopped(target.pid, &[], "after the detach");
        let text = wait_for_file(&marker, SETTLE);
        assert_eq!(
            text.as_deref(),
            Some("vfork child exited 0\n"),
            "the vfork parent was lost"
        );
        let status = target.expect_exit(DEADLINE, "the vfork parent");
        assert_eq!(status.code(), Some(0));
        assert_session_ends(target.pid, "the vfork parent");
    }
}

// ----- 2. detach in spawn mode ----------------------------------------------------------------

mod detach {
    use super::*;

    /// robust_busy for `ms`, exiting 5, writing `done 5` to a marker at its very end.
    fn busy_traced(ms: &str) -> (Traced, PathBuf) {
        let marker = scratch("busy-marker");
        let traced = start_traced(
            &[],
            &[
                &program("robust_busy"),
                ms,
                "5",
                "--worker",
                "--marker",
                marker.to_str().unwrap(),
            ],
        );
        (traced, marker)
    }

    #[test]
    fn one_sigint_to_clonetrace_alone_does_not_stop_the_trace() {
        let (mut traced, marker) = busy_traced("800");
        let root = traced.wait_for_command();
        thread::sleep(Duration::from_millis(100));
        send(traced.pid(), libc::SIGINT);
        thread::sleep(Duration::from_millis(200));
        assert!(
            traced.session.running(),
            "one SIGINT ended clonetrace: {}",
            traced.session.stderr_text()
        );
        assert_eq!(
            tracer_of(root),
            traced.pid(),
            "one SIGINT made clonetrace detach"
        );
        let status = traced
            .session
            .expect_exit(DEADLINE, "clonetrace after one SIGINT");
        assert_eq!(
            status.code(),
            Some(5),
            "{}",
            tail(&traced.session.stderr_text(), 20)
        );
        assert_eq!(
            fs::read_to_string(&marker).ok().as_deref(),
            Some("done 5\n")
        );
        let trace = traced.trace();
        assert_eq!(end_code(&trace.events), 5);
        assert_complete_record(&trace, "robust_busy after one SIGINT");
        assert_session_ends(traced.pid(), "robust_busy");
    }

    /// Sends `signals` to clonetrace (100 ms apart) while it traces robust_busy: it must be gone
    /// within DETACH_LIMIT with `code`, and the command must go on untraced to its end.
    fn detach_with(signals: &[i32], code: i32) {
        let (mut traced, marker) = busy_traced("1500");
        traced.wait_for_command();
        thread::sleep(Duration::from_millis(300));
        for (i, &signal) in signals.iter().enumerate() {
            if i > 0 {
                thread::sleep(Duration::from_millis(100));
            }
            send(traced.pid(), signal);
        }
        let status = traced
            .session
            .expect_exit(DETACH_LIMIT, "clonetrace told to detach");
        assert_eq!(
            status.code(),
            Some(code),
            "exit status after detaching (128+signal): {}",
            tail(&traced.session.stderr_text(), 10)
        );
        assert_untraced_and_running(traced.pid(), "after the detach");
        let text = wait_for_file(&marker, DEADLINE);
        assert_eq!(
            text.as_deref(),
            Some("done 5\n"),
            "the detached command did not finish unharmed (98/99: a task of it was harmed)"
        );
        assert_session_ends(traced.pid(), "the detached command");
        let trace = traced.trace();
        assert_eq!(end_code(&trace.events), i64::from(code));
        let problems = record_problems(&trace);
        assert!(
            problems.is_empty(),
            "{}\n{}",
            problems.join("\n"),
            tail(&trace.dump(), 40)
        );
    }

    #[test]
    fn a_second_sigint_detaches_and_the_command_completes() {
        detach_with(&[libc::SIGINT, libc::SIGINT], 130);
    }

    #[test]
    fn sigterm_detaches_in_spawn_mode_with_143() {
        detach_with(&[libc::SIGTERM], 143);
    }

    #[test]

    fn sighup_detaches_in_spawn_mode_with_129() {
        detach_with(&[libc::SIGHUP], 129);
    }

    #[test]
    fn detach_leaves_a_group_stopped_child_stopped_until_sigcont() {
        let marker = scratch("stop-marker");
        let mut traced = start_traced(
            &[],
            &[&program("robust_group_stop"), marker.to_str().unwrap()],
        );
        let mut child = 0;
        let seen = wait_until(SETTLE, || {
            child = facts(&traced.session.stderr_text())
                .get("child")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            child != 0 && state_of(child).is_some_and(|s| s == 't' || s == 'T')
        });
        assert!(
            seen,
            "the child never stopped: {}",
            traced.session.stderr_text()
        );
        thread::sleep(Duration::from_millis(100));
        send(traced.pid(), libc::SIGTERM);
        let status = traced
            .session
            .expect_exit(DETACH_LIMIT, "clonetrace detaching from a stopped child");
        assert_eq!(status.code(), Some(143));
        // Job control wins: the child stays stopped (T, no longer t), untraced.
        let tasks = session_tasks(traced.pid());
        let stopped: Vec<&Task> = tasks.iter().filter(|t| t.tid == child).collect();
        assert!(
            stopped.len() == 1 && stopped[0].state == 'T' && stopped[0].tracer == 0,
            "the group-stopped child should be stopped (T) and untraced:\n{}",
            describe(&tasks)
        );
        assert_nothing_stopped(traced.pid(), &[child], "after the detach");
        assert!(session_tasks(traced.pid()).iter().all(|t| t.tracer == 0));
        thread::sleep(Duration::from_millis(200));
        assert!(
            !marker.exists(),
            "the parent should still wait for its stopped child"
        );
        send(child, libc::SIGCONT);
        let text = wait_for_file(&marker, SETTLE);
        assert_eq!(
            text.as_deref(),
            Some("child exited 7\n"),
            "SIGCONT did not resume the child"
        );
        assert_session_ends(traced.pid(), "robust_group_stop");
    }

    #[test]
    fn detach_while_a_vfork_parent_waits_neither_hangs_nor_loses_it() {
        let marker = scratch("vfork-marker");
        let mut traced = start_traced(
            &[],
            &[
                &program("robust_vfork_sleep"),
                "1200",
                marker.to_str().unwrap(),
            ],
        );
        let tracer = traced.pid();
        let forked = wait_until(SETTLE, || {
            session_tasks(tracer)
                .iter()
                .filter(|t| t.name == "robust_vfork_sl" && t.tracer == tracer)
                .count()
                == 2
        });
        assert!(
            forked,
            "robust_vfork_sleep never vforked:\n{}",
            describe(&session_tasks(tracer))
        );
        thread::sleep(Duration::from_millis(200));
        send(tracer, libc::SIGTERM);
        let status = traced
            .session
            .expect_exit(DETACH_LIMIT, "clonetrace detaching from a vfork parent");
        assert_eq!(status.code(), Some(143), "{}", traced.session.stderr_text());
        assert_nothing_stopped(tracer, &[], "after the detach");
        let text = wait_for_file(&marker, SETTLE);
        assert_eq!(
            text.as_deref(),
            Some("vfork child exited 0\n"),
            "the vfork parent was lost"
        );
        assert_untraced_and_running(tracer, "after the vfork");
        assert_session_ends(tracer, "robust_vfork_sleep");
    }
}

// ----- 3. signals and job control -------------------------------------------------------------

mod signals {
    use super::*;

    #[test]
    fn every_signal_between_parent_and_child_arrives_once_as_untraced() {
        let cmd = [program("robust_signal_count"), "300".into(), "32".into()];
        let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let expected = "usr1=300 rt=32 rtsum=528 rtorder=ok\n";
        let untraced = run_untraced(&cmd, &SignalSetup::default());
        assert_eq!(untraced.stdout, expected, "untraced: {untraced:?}");
        let mut traced = start_traced(&[], &cmd);
        let status = traced
            .session
            .expect_exit(DEADLINE, "robust_signal_count traced");
        assert_eq!(status.code(), Some(0));
        assert_eq!(traced.session.stdout_text(), expected);
        let trace = traced.trace();
        assert_complete_record(&trace, "robust_signal_count");
        let root = trace.root_pid();
        let usr1 = trace
            .signals_to(root)
            .iter()
            .filter(|s| *s == "SIGUSR1")
            .count();
        assert_eq!(usr1, 300, "each SIGUSR1 is recorded once");
        assert_session_ends(traced.pid(), "robust_signal_count");
    }

    #[test]
    fn detaching_during_a_signal_exchange_loses_no_signal() {
        // Each SIGUSR1 waits for its acknowledgement: a signal lost at the detach hangs the
        // exchange, and the fixture's deadline catches it.
        let mut target = Session::start(command(
            &program("robust_signal_count"),
            &["2500", "32", "300"],
        ));
        thread::sleep(Duration::from_millis(100));
        let mut tracer = Session::start(command(
            path_text(clonetrace()).as_str(),
            &[
                "-o",
                "/dev/null",
                "-p",
                &target.pid.to_string(),
                "--descendants",
            ],
        ));
        assert!(
            wait_until(SETTLE, || tracer_of(target.pid) == tracer.pid),
            "clonetrace never attached: {}",
            tracer.stderr_text()
        );
        thread::sleep(Duration::from_millis(300));
        send(tracer.pid, libc::SIGINT);
        let status = tracer.expect_exit(DETACH_LIMIT, "clonetrace -p during a signal exchange");
        assert_eq!(status.code(), Some(0));
        assert_untraced_and_running(target.pid, "after the detach");
        let status = target.expect_exit(
            DEADLINE,
            "robust_signal_count after a detach (a lost signal hangs it)",
        );
        assert_eq!(status.code(), Some(0));
        assert_eq!(
            target.stdout_text(),
            "usr1=2500 rt=32 rtsum=528 rtorder=ok\n"
        );
    }

    #[test]
    fn sigstop_and_sigcont_from_outside_stop_and_resume_a_traced_child() {
        let mut traced = start_traced(&[], &[&program("robust_stop_cont"), "10000"]);
        let mut child = 0;
        let found = wait_until(SETTLE, || {
            child = facts(&traced.session.stderr_text())
                .get("child")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            child != 0
        });
        assert!(found, "robust_stop_cont never forked");
        send(child, libc::SIGSTOP);
        // Under any tracer that resumes group-stops with PTRACE_LISTEN the stopped task shows
        // `t (tracing stop)`; `T` is what it shows untraced. Either way it must not run, and its
        // parent must see the stop.
        let stopped = wait_until(SETTLE, || {
            state_of(child).is_some_and(|s| s == 't' || s == 'T')
                && traced
                    .session
                    .stdout_text()
                    .contains("child stopped by signal 19")
        });
        assert!(
            stopped,
            "SIGSTOP did not stop the traced child (state {:?}), or its parent did not see it: {:?}",
            state_of(child),
            traced.session.stdout_text()
        );
        thread::sleep(Duration::from_millis(100));
        assert!(
            state_of(child).is_some_and(|s| s == 't' || s == 'T'),
            "the child did not stay stopped"
        );
        send(child, libc::SIGCONT);
        let resumed = wait_until(SETTLE, || {
            state_of(child).is_some_and(|s| s != 't' && s != 'T')
                && traced.session.stdout_text().contains("child continued")
        });
        assert!(
            resumed,
            "SIGCONT did not resume the child (state {:?})",
            state_of(child)
        );
        send(child, libc::SIGUSR1);
        let status = traced.session.expect_exit(DEADLINE, "robust_stop_cont");
        assert_eq!(status.code(), Some(0));
        assert_eq!(
            traced.session.stdout_text(),
            "child stopped by signal 19\nchild continued\nchild exited with 0\n"
        );
        let trace = traced.trace();
        assert_complete_record(&trace, "robust_stop_cont");
        let signals: Vec<String> = trace
            .signals_to(i64::from(child))
            .into_iter()
            .filter(|s| s != "SIGCHLD")
            .collect();
        assert_eq!(
            signals,
            ["SIGSTOP", "SIGCONT", "SIGUSR1"],
            "{}",
            trace.dump()
        );
        assert_session_ends(traced.pid(), "robust_stop_cont");
    }

    #[test]
    fn a_sigchld_handler_that_reaps_sees_every_child_as_untraced() {
        let cmd = [program("robust_sigchld_reap"), "30".into()];
        let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let untraced = run_untraced(&cmd, &SignalSetup::default());
        let sum: i32 = (0..30).map(|i| i % 7).sum();
        let expected = format!("reaped=30 sum={sum} leftover=none\n");
        assert_eq!(untraced.stdout, expected, "untraced: {untraced:?}");
        let mut traced = start_traced(&[], &cmd);
        let status = traced
            .session
            .expect_exit(DEADLINE, "robust_sigchld_reap traced");
        assert_eq!(status.code(), Some(0));
        assert_eq!(traced.session.stdout_text(), expected);
        assert_complete_record(&traced.trace(), "robust_sigchld_reap");
        assert_session_ends(traced.pid(), "robust_sigchld_reap");
    }

    /// An interactive shell on a pseudo-terminal whose master side the test holds.
    struct Terminal {
        master: File,
        output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        session: Session,
    }

    impl Terminal {
        /// Starts `argv` as the session leader of a new pty (its controlling terminal).
        fn start(argv: &[String]) -> Self {
            use std::os::fd::FromRawFd;
            let (mut master, mut slave) = (0, 0);
            // SAFETY: openpty fills two descriptors; they are owned by the Files below.
            let rc = unsafe {
                libc::openpty(
                    &mut master,
                    &mut slave,
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    std::ptr::null(),
                )
            };
            assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
            unsafe {
                libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC);
                libc::fcntl(slave, libc::F_SETFD, libc::FD_CLOEXEC);
            }
            let master = unsafe { File::from_raw_fd(master) };
            let slave = unsafe { File::from_raw_fd(slave) };
            let mut command = Command::new(&argv[0]);
            command
                .args(&argv[1..])
                .env("PS1", "robust$ ")
                .env("TERM", "dumb")
                .env("INPUTRC", "/dev/null")
                .env("HISTFILE", "/dev/null")
                .stdin(slave.try_clone().expect("dup"))
                .stdout(slave.try_clone().expect("dup"))
                .stderr(slave.try_clone().expect("dup"));
            // Session::start_with makes the pty the new session's controlling terminal.
            let session = Session::start_with(command, &SignalSetup::default(), false);
            drop(slave);
            let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut reader = master.try_clone().expect("dup master");
            let sink = output.clone();
            thread::spawn(move || {
                use std::io::Read;
                let mut buffer = [0u8; 4096];
                while let Ok(n) = reader.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().unwrap().extend_from_slice(&buffer[..n]);
                }
            });
            Terminal {
                master,
                output,
                session,
            }
        }

        fn text(&self) -> String {
            String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
        }

        fn type_in(&mut self, keys: &str) {
            use std::io::Write;
            self.master
                .write_all(keys.as_bytes())
                .expect("write to the pty");
        }

        /// Waits until the terminal shows `text` more than `count` times.
        fn wait_for(&self, text: &str, count: usize) -> bool {
            wait_until(SETTLE, || self.text().matches(text).count() > count)
        }

        /// The `sleep` processes of the session.
        fn sleeps(&self) -> Vec<Task> {
            session_tasks(self.session.pid)
                .into_iter()
                .filter(|t| t.name == "sleep" && t.alive())
                .collect()
        }
    }

    /// Drives Ctrl-Z and fg through the pty; returns the shell's (or clonetrace's) exit status.
    fn ctrl_z_and_fg(argv: &[String]) -> Result<i32, String> {
        let mut terminal = Terminal::start(argv);
        let fail = |terminal: &Terminal, what: &str| {
            format!(
                "{what}\n--- terminal ---\n{}\n--- tasks ---\n{}",
                terminal.text(),
                describe(&session_tasks(terminal.session.pid))
            )
        };
        if !terminal.wait_for("robust$ ", 0) {
            return Err(fail(&terminal, "no prompt"));
        }
        terminal.type_in("sleep 3\r");
        if !wait_until(SETTLE, || terminal.sleeps().iter().any(|t| t.state == 'S')) {
            return Err(fail(&terminal, "sleep never started"));
        }
        terminal.type_in("\x1a");
        if !terminal.wait_for("Stopped", 0) {
            return Err(fail(&terminal, "Ctrl-Z: bash never said Stopped"));
        }
        if !terminal.sleeps().iter().all(Task::stopped) {
            return Err(fail(&terminal, "Ctrl-Z: sleep is not stopped"));
        }
        let prompts = terminal.text().matches("robust$ ").count();
        if !terminal.wait_for("robust$ ", prompts - 1) {
            return Err(fail(&terminal, "no prompt after Ctrl-Z"));
        }
        terminal.type_in("fg\r");
        let resumed = wait_until(SETTLE, || {
            let sleeps = terminal.sleeps();
            !sleeps.is_empty() && sleeps.iter().all(|t| !t.stopped())
        });
        if !resumed {
            return Err(fail(&terminal, "fg did not resume sleep"));
        }
        let prompts = terminal.text().matches("robust$ ").count();
        terminal.type_in("\x03");
        if !wait_until(SETTLE, || terminal.sleeps().is_empty()) {
            return Err(fail(&terminal, "Ctrl-C did not end sleep"));
        }
        if !terminal.wait_for("robust$ ", prompts) {
            return Err(fail(&terminal, "no prompt after Ctrl-C"));
        }
        terminal.type_in("exit 3\r");
        let Some(status) = terminal.session.wait_within(SETTLE) else {
            return Err(fail(&terminal, "exit: the session did not end"));
        };
        let stopped: Vec<Task> = session_tasks(terminal.session.pid)
            .into_iter()
            .filter(|t| t.alive())
            .collect();
        if !stopped.is_empty() {
            return Err(fail(&terminal, "tasks left after the session ended"));
        }
        Ok(shell_status(status))
    }

    #[test]
    fn ctrl_z_and_fg_in_an_interactive_shell_through_a_pty() {
        if !installed("bash") {
            eprintln!("skipped: bash is not installed");
            return;
        }
        let bash = ["bash", "--norc", "--noprofile", "-i"].map(String::from);
        // The same keystrokes untraced first, so a failure below is clonetrace's, not the test's.
        let untraced = ctrl_z_and_fg(&bash);
        assert_eq!(untraced, Ok(3), "the pty session fails even untraced");
        let live = scratch("pty-live.txt");
        let mut traced = vec![
            path_text(clonetrace()),
            "-o".into(),
            path_text(&live),
            "--".into(),
        ];
        traced.extend(bash);
        match ctrl_z_and_fg(&traced) {
            Ok(status) => assert_eq!(status, 3, "clonetrace mirrors bash's `exit 3`"),
            Err(problem) => panic!(
                "under clonetrace: {problem}\n--- live lines ---\n{}",
                tail(&fs::read_to_string(&live).unwrap_or_default(), 30)
            ),
        }
    }
}

// ----- 4. the traced program's contract -------------------------------------------------------

mod contract {
    use super::*;

    #[track_caller]
    fn same_as_untraced(cmd: &[&str], signals: &SignalSetup) {
        let untraced = run_untraced(cmd, signals);
        let traced = run_traced_plain(&[], cmd, signals);
        assert_eq!(
            traced, untraced,
            "{cmd:?}: traced (left) differs from untraced (right)"
        );
    }

    #[test]
    fn output_and_exit_status_are_those_of_the_untraced_command() {
        let shell_cases: &[&str] = &[
            "echo out; echo err >&2; exit 3",
            "printf 'a\\0b\\n'; printf 'no newline' >&2",
            "for i in 1 2 3; do (echo child $i; exit $i); echo \"status $?\"; done",
            "ls /nonexistent-robustness-path",
            "echo before; kill -TERM $$; echo after",
            "kill -KILL $$",
            "kill -USR1 $$",
            "sleep 0.1 & sleep 0.05 & wait; echo waited",
        ];
        for script in shell_cases {
            same_as_untraced(&["sh", "-c", script], &SignalSetup::default());
        }
        for (name, args) in [
            ("robust_signal_count", vec!["40", "8"]),
            ("robust_sigchld_reap", vec!["10"]),
            ("robust_exec_storm", vec!["2", "4"]),
            ("threads3", vec![]),
            ("fork_wait", vec![]),
            ("vfork_exec", vec![]),
        ] {
            let path = program(name);
            let mut cmd = vec![path.as_str()];
            cmd.extend(args);
            same_as_untraced(&cmd, &SignalSetup::default());
        }
    }

    #[test]
    fn a_command_killed_by_a_signal_gives_128_plus_the_signal() {
        for (script, code) in [
            ("kill -TERM $$", 143),
            ("kill -KILL $$", 137),
            ("kill -INT $$", 130),
        ] {
            let mut traced = start_traced(&[], &["sh", "-c", script]);
            let status = traced.session.expect_exit(DEADLINE, script);
            assert_eq!(status.code(), Some(code), "{script}");
            let trace = traced.trace();
            assert_eq!(end_code(&trace.events), i64::from(code), "{script}");
            assert_complete_record(&trace, script);
        }
    }

    #[test]
    fn no_descriptor_of_clonetrace_leaks_into_the_program() {
        let cmd = [program("robust_fds")];
        let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let untraced = run_untraced(&cmd, &SignalSetup::default());
        assert!(untraced.stdout.starts_with("fd 0:"), "{untraced:?}");
        let dot = scratch("fds.dot");
        let timeline = scratch("fds.json");
        let views = [
            "--tree",
            "--dot",
            dot.to_str().unwrap(),
            "--timeline",
            timeline.to_str().unwrap(),
        ];
        for args in [&[][..], &["--json"][..], &views[..], &["--syscalls"][..]] {
            let traced = run_traced_plain(args, &cmd, &SignalSetup::default());
            assert_eq!(
                traced.stdout, untraced.stdout,
                "descriptors differ with {args:?}"
            );
        }
    }

    #[track_caller]
    fn signal_state_unchanged(signals: SignalSetup) {
        let cmd = [program("robust_sigstate")];
        let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let untraced = run_untraced(&cmd, &signals);
        let traced = run_traced_plain(&[], &cmd, &signals);
        assert_eq!(
            traced.stdout, untraced.stdout,
            "signal state differs under clonetrace (left) from untraced (right), started with {signals:?}"
        );
    }

    #[test]
    fn signal_mask_and_dispositions_are_unchanged() {
        signal_state_unchanged(SignalSetup::default());
        signal_state_unchanged(SignalSetup {
            ignore: vec![libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGUSR1],
            block: vec![libc::SIGUSR2, libc::SIGTERM, libc::SIGRTMIN() + 3],
        });
    }

    #[test]

    fn an_ignored_sigpipe_stays_ignored() {
        signal_state_unchanged(SignalSetup {
            ignore: vec![libc::SIGPIPE],
            block: vec![],
        });
    }

    #[test]
    fn an_ignored_sigchld_stays_ignored_and_the_status_is_still_mirrored() {
        let signals = SignalSetup {
            ignore: vec![libc::SIGCHLD],
            block: vec![],
        };
        signal_state_unchanged(signals.clone());
        let untraced = run_untraced(&["sh", "-c", "exit 3"], &signals);
        let traced = run_traced_plain(&[], &["sh", "-c", "exit 3"], &signals);
        assert_eq!(untraced.status, 3);
        assert_eq!(
            traced.status, 3,
            "clonetrace started with SIGCHLD ignored lost the status"
        );
    }

    #[test]
    fn dash_u_nobody_runs_the_command_as_nobody() {
        if !is_root() {
            eprintln!("skipped: -u needs root");
            return;
        }
        let expected = run_untraced(&["id", "-G", "nobody"], &SignalSetup::default());
        let traced = run_traced_plain(
            &["-u", "nobody"],
            &["sh", "-c", "id -u; id -g; id -G"],
            &SignalSetup::default(),
        );
        assert_eq!(traced.status, 0, "{traced:?}");
        assert_eq!(
            traced.stdout,
            format!("65534\n65534\n{}", expected.stdout),
            "{traced:?}"
        );
    }
}

// ----- 5. output failures ---------------------------------------------------------------------

mod output {
    use super::*;

    #[test]
    fn an_unwritable_output_path_fails_before_the_command_runs() {
        for option in [
            &["-o", "/nonexistent-robustness-dir/x"][..],
            &["--json", "-o", "/nonexistent-robustness-dir/x"][..],
            &["--dot", "/nonexistent-robustness-dir/x.dot"][..],
            &["--timeline", "/nonexistent-robustness-dir/x.json"][..],
        ] {
            let marker = scratch("must-not-exist");
            let script = format!("touch {}", marker.display());
            let mut args: Vec<&str> = option.to_vec();
            args.extend(["--", "sh", "-c", &script]);
            let mut tracer = Session::start(command(path_text(clonetrace()).as_str(), &args));
            let status = tracer.expect_exit(DEADLINE, "clonetrace with an unwritable output");
            let stderr = tracer.stderr_text();
            assert_eq!(status.code(), Some(2), "{option:?}: {stderr}");
            let lines: Vec<&str> = stderr.lines().collect();
            assert!(
                lines.len() == 1
                    && lines[0].starts_with("clonetrace:")
                    && lines[0].contains("/nonexistent-robustness-dir"),
                "{option:?}: one clonetrace: line naming the path, not:\n{stderr}"
            );
            assert!(!marker.exists(), "{option:?}: the command ran");
            assert_session_ends(tracer.pid, "clonetrace with an unwritable output");
        }
    }

    #[test]
    fn live_lines_into_a_closed_pipe_neither_stop_nor_harm_the_command() {
        let marker = scratch("pipe-marker");
        // The command's own stderr goes elsewhere: only clonetrace writes into the pipe.
        let script = format!(
            "exec {} 600 4 --worker --marker {} 2>/dev/null",
            program("robust_busy"),
            marker.display()
        );
        let mut cmd = Command::new(clonetrace());
        cmd.args(["--color", "never", "--", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut tracer = Session::start_with(cmd, &SignalSetup::default(), false);
        let pipe = tracer.child.stderr.take().expect("piped stderr");
        // As `clonetrace … 2>&1 | head -1`: read one line, then close the pipe.
        let (send_line, first_line) = std::sync::mpsc::channel();
        thread::spawn(move || {
            use std::io::BufRead;
            let mut line = String::new();
            let _ = std::io::BufReader::new(pipe).read_line(&mut line);
            let _ = send_line.send(line);
        });
        let line = first_line
            .recv_timeout(SETTLE)
            .expect("no live line within the deadline");
        assert!(!line.is_empty(), "clonetrace wrote nothing");
        let status = tracer.expect_exit(DEADLINE, "clonetrace writing into a closed pipe");
        assert_eq!(status.code(), Some(4), "the command's status is mirrored");
        let text = wait_for_file(&marker, SETTLE);
        assert_eq!(
            text.as_deref(),
            Some("done 4\n"),
            "the command did not finish unharmed"
        );
        assert_nothing_stopped(tracer.pid, &[], "after the output failed");
        assert_session_ends(tracer.pid, "robust_busy");
    }

    /// `clonetrace ARGS -- robust_busy` with an output on /dev/full: one warning, the command
    /// finishes, its status is mirrored.
    fn full_disk(args: &[&str]) {
        if !Path::new("/dev/full").exists() {
            eprintln!("skipped: no /dev/full");
            return;
        }
        let marker = scratch("full-marker");
        let busy = program("robust_busy");
        let mut all: Vec<&str> = vec!["--color", "never"];
        all.extend(args);
        all.extend([
            "--",
            &busy,
            "300",
            "4",
            "--marker",
            marker.to_str().unwrap(),
        ]);
        let mut tracer = Session::start(command(path_text(clonetrace()).as_str(), &all));
        let status = tracer.expect_exit(DEADLINE, "clonetrace writing to /dev/full");
        let stderr = tracer.stderr_text();
        assert_eq!(status.code(), Some(4), "{args:?}: {}", tail(&stderr, 10));
        assert_eq!(
            fs::read_to_string(&marker).ok().as_deref(),
            Some("done 4\n")
        );
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("clonetrace:"))
            .collect();
        assert!(
            warnings.len() == 1 && warnings[0].contains("/dev/full"),
            "{args:?}: one warning naming /dev/full, not: {warnings:?}"
        );
        assert_session_ends(tracer.pid, "robust_busy");
    }

    #[test]
    fn a_json_record_on_a_full_disk_warns_once_and_the_trace_goes_on() {
        full_disk(&["--json", "-o", "/dev/full"]);
    }

    #[test]
    fn live_lines_on_a_full_disk_warn_once_and_the_command_completes() {
        full_disk(&["-o", "/dev/full"]);
    }
}

// ----- 6. hostile tracees ---------------------------------------------------------------------

mod hostile {
    use super::*;

    /// Traces `cmd` to its end: no hang, nothing stopped or left, a complete record.
    #[track_caller]
    fn trace_to_end(args: &[&str], cmd: &[&str]) -> (Traced, Trace) {
        let mut traced = start_traced(args, cmd);
        traced
            .session
            .expect_exit(DEADLINE, &format!("clonetrace -- {cmd:?}"));
        assert_nothing_stopped(traced.pid(), &[], "after the trace");
        assert_session_ends(traced.pid(), "after the trace");
        let trace = traced.trace();
        assert_complete_record(&trace, &format!("{cmd:?}"));
        (traced, trace)
    }

    #[test]
    fn strace_inside_clonetrace_fails_as_under_any_tracer() {
        if !installed("strace") {
            eprintln!("skipped: strace is not installed");
            return;
        }
        let (_, trace) = trace_to_end(&[], &["strace", "-f", "-o", "/dev/null", "true"]);
        assert_eq!(
            trace.status.code(),
            Some(1),
            "strace's own failure status:\n{}",
            trace.stderr
        );
        assert!(
            trace.stderr.contains("Operation not permitted"),
            "{}",
            trace.stderr
        );
    }

    #[test]
    fn ptrace_traceme_and_seize_get_eperm_under_clonetrace() {
        let traceme = program("robust_traceme");
        let untraced = run_untraced(&[&traceme], &SignalSetup::default());
        assert_eq!(untraced.stdout, "child_traceme=ok\nseize_child=ok\n");
        let (traced, trace) = trace_to_end(&[], &[&traceme, "self"]);
        assert_eq!(trace.status.code(), Some(0));
        assert_eq!(
            traced.session.stdout_text(),
            "self_traceme=EPERM\nchild_traceme=EPERM\nseize_child=EPERM\n"
        );
    }

    #[test]
    fn a_fork_bomb_bounded_by_rlimit_nproc_completes() {
        if !is_root() {
            eprintln!("skipped: the fork bomb becomes nobody, which needs root");
            return;
        }
        let _nobody_alone = serial();
        let bomb = program("robust_fork_bomb");
        let (traced, trace) = trace_to_end(&[], &[&bomb, "50", "8"]);
        assert_eq!(trace.status.code(), Some(0), "{}", tail(&trace.stderr, 10));
        assert_eq!(traced.session.stdout_text(), "eagain=yes\n");
        assert!(
            trace.creates().len() > 20,
            "the bomb made only {} tasks",
            trace.creates().len()
        );
        let (_, trace) = trace_to_end(&["--syscalls"], &[&bomb, "50", "8"]);
        let failed: Vec<&Value> = trace.of_type("create_failed");
        assert!(
            failed.iter().any(|e| e["errno"] == "EAGAIN"),
            "--syscalls records the forks RLIMIT_NPROC refused"
        );
    }

    #[test]
    fn an_exec_storm_from_eight_threads_leaves_one_exec_per_round() {
        let (traced, trace) = trace_to_end(&[], &[&program("robust_exec_storm"), "5", "8"]);
        assert_eq!(trace.status.code(), Some(0));
        assert_eq!(traced.session.stdout_text(), "exec storm done\n");
        assert_eq!(
            trace.execs().len(),
            6,
            "the command's exec and one per round:\n{}",
            tail(&trace.dump(), 40)
        );
    }

    #[test]
    fn exit_group_ends_a_thousand_threads_at_once() {
        let (_, trace) = trace_to_end(&[], &[&program("robust_mass_exit"), "1000", "3"]);
        assert_eq!(trace.status.code(), Some(3));
        let threads = trace
            .creates()
            .iter()
            .filter(|c| c["kind"] == "thread")
            .count();
        assert_eq!(threads, 1000);
        assert_eq!(trace.exits().len(), 1001);
    }

    #[test]
    fn a_process_that_sigkills_its_own_group_leaves_nothing() {
        let (_, trace) = trace_to_end(&[], &[&program("robust_killpg")]);
        assert_eq!(
            trace.status.code(),
            Some(137),
            "{}",
            tail(&trace.dump(), 20)
        );
        assert_eq!(end_code(&trace.events), 137);
    }

    #[test]
    fn a_sigkill_to_the_group_clonetrace_shares_leaves_nothing() {
        // The command keeps clonetrace's process group, so kill(0, SIGKILL) kills clonetrace too,
        // as it would kill strace: the shell sees 137 either way, and no task is left behind.
        let mut traced = start_traced(&[], &[&program("robust_killpg"), "shared-group"]);
        let status = traced
            .session
            .expect_exit(DEADLINE, "robust_killpg shared-group");
        assert_eq!(shell_status(status), 137, "{status}");
        assert_session_ends(traced.pid(), "after the group was killed");
    }
}

// ----- 7. SIGKILL at random points ------------------------------------------------------------

mod random_kills {
    use super::*;

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const RUNS: usize = 200;

    /// How many times a creator is killed in the targeted test.
    const CREATOR_KILLS: usize = 30;

    fn seed() -> u64 {
        // ROBUSTNESS_SEED=N replays a failing run.
        std::env::var("ROBUSTNESS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            })
    }

    /// The targeted form of the random test: a process creating children (or threads) in a
    /// tight loop, SIGKILLed at a random moment, is often caught between a new task's creation
    /// and its own fork (clone) event.
    #[test]

    fn sigkill_to_a_creator_in_the_middle_of_a_fork_or_clone_never_hangs() {
        let seed = seed();
        let mut random = XorShift(seed);
        let creator = program("robust_create_loop");
        for attempt in 0..CREATOR_KILLS {
            let mode = if attempt % 2 == 0 {
                "processes"
            } else {
                "threads"
            };
            let delay = 5 + random.below(26);
            let mut traced = start_traced(&[], &[&creator, "5000", mode]);
            let root = traced.wait_for_command();
            thread::sleep(Duration::from_millis(delay));
            send(root, libc::SIGKILL);
            let what = format!(
                "attempt {attempt} (seed {seed}): SIGKILL to {root} creating {mode}, after {delay} ms"
            );
            let status = traced.session.wait_within(DETACH_LIMIT);
            assert!(
                status.is_some(),
                "{what}: clonetrace hung:\n{}",
                describe(&session_tasks(traced.pid()))
            );
            assert_eq!(status.and_then(|s| s.code()), Some(137), "{what}");
            assert_nothing_stopped(traced.pid(), &[], &what);
            assert_session_ends(traced.pid(), &what);
            assert_complete_record(&traced.trace(), &what);
        }
    }

    #[test]

    fn sigkill_at_random_points_never_hangs_nor_leaves_a_task_stopped() {
        let seed = seed();
        let mut random = XorShift(seed);
        let churn = program("robust_churn");
        let mut failures = Vec::new();
        let started = Instant::now();
        for run in 0..RUNS {
            let delay = random.below(21);
            let pick = random.next();
            let mut traced = start_traced(&[], &[&churn, "4"]);
            let tracer = traced.pid();
            thread::sleep(Duration::from_millis(delay));
            // Any traced task but the command before its exec (still clonetrace's own image).
            let victims: Vec<Task> = session_tasks(tracer)
                .into_iter()
                .filter(|t| t.tracer == tracer && t.alive() && t.name != "clonetrace")
                .collect();
            let victim = (!victims.is_empty())
                .then(|| victims[(pick % victims.len() as u64) as usize].clone());
            let killed = victim.as_ref().is_some_and(|v| send(v.tid, libc::SIGKILL));
            let what = format!(
                "run {run} (seed {seed}, delay {delay} ms, victim {:?})",
                victim.as_ref().map(|v| (v.tgid, v.tid, v.name.as_str()))
            );
            let Some(status) = traced.session.wait_within(Duration::from_secs(10)) else {
                failures.push(format!(
                    "{what}: clonetrace hung:\n{}",
                    describe(&session_tasks(tracer))
                ));
                break;
            };
            let stopped: Vec<Task> = session_tasks(tracer)
                .into_iter()
                .filter(Task::stopped)
                .collect();
            if !stopped.is_empty() {
                failures.push(format!("{what}: left stopped:\n{}", describe(&stopped)));
            }
            let left = wait_until(SETTLE, || session_tasks(tracer).iter().all(|t| !t.alive()));
            if !left {
                failures.push(format!(
                    "{what}: left running:\n{}",
                    describe(&session_tasks(tracer))
                ));
            }
            let trace = traced.trace();
            let root = trace
                .events
                .iter()
                .find(|e| e["type"] == "exec")
                .and_then(|e| e["pid"].as_i64());
            let mut problems = record_problems(&trace);
            if root.is_none() {
                // Killed the moment it exec'd: the kernel skips the exec stop of a task with
                // SIGKILL pending, so the record has the command's exit and reap but no exec to
                // introduce it. Nothing else may be wrong.
                problems.retain(|p| !p.contains("appears before its create"));
            }
            problems.extend(missing_ends(&trace.events));
            let root_killed = killed
                && victim
                    .as_ref()
                    .and_then(|v| root.map(|r| i64::from(v.tgid) == r))
                    == Some(true);
            if root_killed && status.code() != Some(137) {
                // The root may have been on its way out already; only its recorded end counts.
                let exit = trace
                    .events
                    .iter()
                    .find(|e| e["type"] == "exit" && e["pid"].as_i64() == root);
                if exit.is_none_or(|e| e["signal"] == "SIGKILL") {
                    problems.push(format!(
                        "the command was SIGKILLed but clonetrace exited {status}"
                    ));
                }
            }
            if status.code().map(i64::from)
                != trace.events.last().and_then(|e| e["exit_code"].as_i64())
            {
                problems.push(format!(
                    "exit status {status} differs from the record's end"
                ));
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{what}:\n{}\n{}",
                    problems.join("\n"),
                    tail(&trace.dump(), 30)
                ));
            }
            if failures.len() >= 3 {
                break;
            }
        }
        assert!(
            failures.is_empty(),
            "seed {seed} (replay with ROBUSTNESS_SEED={seed}), {:?} for the runs:\n{}",
            started.elapsed(),
            failures.join("\n\n")
        );
    }
}
