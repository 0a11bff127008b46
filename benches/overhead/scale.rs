//! `--scale`: 100,000 short processes in one trace (pids wrap past pid_max several times),
//! 2,000 threads alive at once and 20,000 child processes of one parent alive at once, checked
//! from the JSON record for lost events; the tracer's peak RSS against the number of traced
//! tasks, streaming outputs against `--tree`; and what users wait for at that size: each
//! output's time and peak RSS, live and replayed from the recording with `clonetrace view`.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write;
use std::io::BufRead;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::configs::Env;
use crate::runner::{self, Outcome, Spec};
use crate::workloads;

const PROCESSES: u64 = 100_000;
const THREADS: u64 = 2_000;
/// Children of one parent alive at once: a wide, flat tree (pid_max is 32,768 by default).
const WIDE: u64 = 20_000;
/// `--quick` divides the sizes by this.
const QUICK_DIVISOR: u64 = 10;
const TIMEOUT: Duration = Duration::from_secs(600);

/// The replays timed on each recording, after `clonetrace view FILE`: (title, arguments).
/// `view` has no pure read: whatever it shows, it parses the whole recording and builds the
/// model first. The first entry, which adds only the live lines (to /dev/null, where the
/// runner sends standard output), stands for "reading the recording": the other rows are
/// given as a multiple of it.
const VIEWS: &[(&str, &[&str])] = &[
    ("`view F --live` (the read)", &["--live"]),
    ("`view F --summary`", &["--summary"]),
    ("`view F --tree`", &["--tree"]),
    ("`view F --dot OUT`", &["--dot", "{dot}"]),
    ("`view F --timeline OUT`", &["--timeline", "{timeline}"]),
];

/// Runs the scale scenarios and returns the markdown section body (without its title line).
pub fn run(env: &Env, work_dir: &Path, quick: bool) -> std::io::Result<String> {
    let divisor = if quick { QUICK_DIVISOR } else { 1 };
    let processes = PROCESSES / divisor;
    let few = processes / 10;
    let threads = THREADS / divisor;
    let wide = WIDE / divisor;
    let fork_wait: OsString = workloads::build_c(work_dir, "fork_wait")?.into();
    let threads_alive: OsString = workloads::build_c(work_dir, "threads_alive")?.into();
    let children_alive: OsString = workloads::build_c(work_dir, "children_alive")?.into();
    let forks = |n: u64| vec![fork_wait.clone(), n.to_string().into()];
    // The two recordings replayed below have files of their own: `{json}` is scratch.
    let forks_record = work_dir.join("scale-forks.jsonl");
    let wide_record = work_dir.join("scale-wide.jsonl");
    let dot_out = work_dir.join("scale-view.dot");
    let timeline_out = work_dir.join("scale-view-timeline.json");
    let path_of = |arg: &str| -> OsString {
        match arg {
            "{json}" => env.json_out.clone().into(),
            "{forks}" => forks_record.clone().into(),
            "{wide}" => wide_record.clone().into(),
            "{dot}" => dot_out.clone().into(),
            "{timeline}" => timeline_out.clone().into(),
            other => other.into(),
        }
    };
    let clonetrace = |args: &[&str], cmd: Vec<OsString>| {
        let mut argv = vec![env.clonetrace.clone().into_os_string()];
        argv.extend(args.iter().map(|a| path_of(a)));
        argv.push("--".into());
        argv.extend(cmd);
        argv
    };
    let view = |record: &Path, args: &[&str]| {
        let mut argv = vec![
            env.clonetrace.clone().into_os_string(),
            "view".into(),
            record.into(),
        ];
        argv.extend(args.iter().map(|a| path_of(a)));
        argv
    };
    let mut out = String::new();

    eprintln!("scale: {processes} processes untraced");
    let untraced = timed(&forks(processes), false)?;

    eprintln!("scale: {processes} processes under --json");
    let big_json = timed(
        &clonetrace(&["--json", "-o", "{forks}"], forks(processes)),
        true,
    )?;
    let procs_check = check_record(&forks_record)?;

    eprintln!("scale: {threads} threads alive at once under --json");
    let threads_cmd = vec![
        threads_alive.clone(),
        threads.to_string().into(),
        "1".into(),
    ];
    let threads_untraced = timed(&threads_cmd, false)?;
    let threads_run = timed(&clonetrace(&["--json", "-o", "{json}"], threads_cmd), true)?;
    let threads_check = check_record(&env.json_out)?;

    eprintln!("scale: {wide} child processes alive at once under --json");
    let wide_cmd = vec![children_alive.clone(), wide.to_string().into()];
    let wide_untraced = timed(&wide_cmd, false)?;
    let wide_run = timed(&clonetrace(&["--json", "-o", "{wide}"], wide_cmd), true)?;
    let wide_check = check_record(&wide_record)?;

    let _ = writeln!(out, "### No event lost\n");
    let _ = writeln!(
        out,
        "Checked from the `--json` record in stream order: every `create` has its task's \
         `exit` before the pid is created again, and every process (not thread) its `reap`; \
         the traced command itself is counted too. \"pid wraps\" counts new pids lower than \
         the previous one (pid_max {}).\n",
        std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .unwrap_or_default()
            .trim()
    );
    let _ = writeln!(
        out,
        "| scenario | creates | exits | reaps | pid wraps | missing exit | missing reap | \
         result | untraced s | traced s | tracer VmHWM MiB |\n|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
    );
    for (title, check, untraced, traced) in [
        (
            format!("{} × fork + `_exit`", thousands(processes)),
            &procs_check,
            &untraced,
            &big_json,
        ),
        (
            format!("{} threads alive at once", thousands(threads)),
            &threads_check,
            &threads_untraced,
            &threads_run,
        ),
        (
            format!("{} child processes alive at once", thousands(wide)),
            &wide_check,
            &wide_untraced,
            &wide_run,
        ),
    ] {
        let _ = writeln!(
            out,
            "| {title} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {} |",
            thousands(check.creates),
            thousands(check.exits),
            thousands(check.reaps),
            check.wraps,
            thousands(check.missing_exit),
            thousands(check.missing_reap),
            check.verdict(traced),
            untraced.elapsed.as_secs_f64(),
            traced.elapsed.as_secs_f64(),
            mib(traced.hwm_kib),
        );
    }
    let problems: Vec<&String> = procs_check
        .problems
        .iter()
        .chain(&threads_check.problems)
        .chain(&wide_check.problems)
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\nFirst problems found:\n");
        for p in problems.iter().take(10) {
            let _ = writeln!(out, "- {p}");
        }
    }

    // Memory: the same fork loop at two sizes, per output. The slope between them is what
    // each traced task costs the tracer; a streaming output should cost about nothing. The
    // large runs are also rows of the waiting table below.
    let mut memory = Vec::new();
    let mut fork_rows: Vec<Waited> = Vec::new();
    let fork_tasks = procs_check.creates + 1;
    for (title, waited, args) in [
        (
            "default (live lines, `-o /dev/null`)",
            Some("trace, live lines `-o /dev/null`"),
            &["-o", "/dev/null"][..],
        ),
        ("`--json -o FILE`", None, &["--json", "-o", "{json}"][..]),
        (
            "`--tree -o /dev/null`",
            Some("trace `--tree -o /dev/null`"),
            &["--tree", "-o", "/dev/null"][..],
        ),
    ] {
        eprintln!("scale: memory of {title}");
        let small = timed(&clonetrace(args, forks(few)), true)?;
        let large = match waited {
            // At full size, --json is the recording made above.
            None => big_json.hwm_kib,
            Some(waited) => {
                let large = timed(&clonetrace(args, forks(processes)), true)?;
                let hwm = large.hwm_kib;
                fork_rows.push(Waited::live(waited, large, fork_tasks));
                hwm
            }
        };
        memory.push((title, small.hwm_kib, large));
    }
    let _ = writeln!(
        out,
        "\n### Tracer peak RSS against traced tasks\n\n\
         VmHWM of the tracer process alone, read at its exit stop, tracing fork + `_exit` loops \
         (one live child at a time, no exec). Growth per task = (VmHWM at {} − VmHWM \
         at {}) ÷ {} tasks. Targets: streaming outputs bounded by *live* tasks (growth ≈ 0); \
         `--tree` ≤ 1 KiB per task plus argv text.\n",
        thousands(processes),
        thousands(few),
        thousands(processes - few)
    );
    let _ = writeln!(
        out,
        "| output | VmHWM at {} processes (MiB) | VmHWM at {} (MiB) | growth per task |\n|---|---:|---:|---:|",
        thousands(few),
        thousands(processes)
    );
    for (title, small, large) in memory {
        let growth = match (small, large) {
            (Some(s), Some(l)) => {
                let bytes = (l as f64 - s as f64) * 1024.0 / (processes - few) as f64;
                // Page-granular noise can make it slightly negative: no "-0 B".
                format!("{:.0} B", bytes.round() + 0.0)
            }
            _ => "—".into(),
        };
        let _ = writeln!(
            out,
            "| {title} | {} | {} | {growth} |",
            mib(small),
            mib(large)
        );
    }

    // What users wait for: every output, live and replayed, on the same two recordings.
    fork_rows.push(Waited::live("trace `--json -o F`", big_json, fork_tasks));
    fork_rows.extend(replays(&forks_record, fork_tasks, &view)?);

    let wide_tasks = wide_check.creates + 1;
    let mut wide_rows = vec![Waited::live("trace `--json -o F`", wide_run, wide_tasks)];
    wide_rows.extend(replays(&wide_record, wide_tasks, &view)?);
    for scratch in [&dot_out, &timeline_out] {
        let _ = std::fs::remove_file(scratch);
    }

    let _ = writeln!(
        out,
        "\n### What users wait for\n\n\
         Wall time and peak RSS (VmHWM of the clonetrace process, read at its exit stop) of \
         the whole command, including the views it prints at the end; one run each. \
         \"trace\" rows include the traced program's own run (untraced: {:.2} s for the fork \
         loop, {:.2} s for the wide tree). \"view\" rows replay the `--json` recording F of \
         the trace above them. `view` has no pure read (it always parses the whole recording \
         and builds the model), so `view F --live`, its live lines going to /dev/null, is \
         the read that the other views are a multiple of; a view can come in under 1.00 when \
         it costs less than formatting the live lines. `--dot` and `--timeline` write a file \
         next to the build. B/task = peak RSS ÷ tasks in the trace.\n",
        untraced.elapsed.as_secs_f64(),
        wide_untraced.elapsed.as_secs_f64(),
    );
    for (title, rows) in [
        (
            format!(
                "{} × fork + `_exit` (one child alive at a time), {} tasks",
                thousands(processes),
                thousands(fork_tasks)
            ),
            fork_rows,
        ),
        (
            format!(
                "{} child processes of one parent alive at once, {} tasks",
                thousands(wide),
                thousands(wide_tasks)
            ),
            wide_rows,
        ),
    ] {
        let _ = writeln!(out, "{title}:\n");
        write_waited(&mut out, &rows);
        let _ = writeln!(out);
    }
    Ok(out)
}

/// One command users wait for, as measured.
struct Waited {
    scenario: String,
    run: Outcome,
    tasks: u64,
    /// The read of the same recording, for a replay; `None` for a trace.
    read: Option<Duration>,
}

impl Waited {
    fn live(scenario: &str, run: Outcome, tasks: u64) -> Self {
        Waited {
            scenario: scenario.into(),
            run,
            tasks,
            read: None,
        }
    }
}

/// Replays `record` through every view of `VIEWS`, the read first.
fn replays(
    record: &Path,
    tasks: u64,
    view: &dyn Fn(&Path, &[&str]) -> Vec<OsString>,
) -> std::io::Result<Vec<Waited>> {
    let mut rows: Vec<Waited> = Vec::new();
    for (title, args) in VIEWS {
        eprintln!("scale: {title} of {}", record.display());
        let run = timed(&view(record, args), true)?;
        let read = match rows.first() {
            Some(first) if first.run.failure.is_none() => Some(first.run.elapsed),
            Some(_) => None,
            // This is the read itself.
            None => Some(run.elapsed),
        };
        rows.push(Waited {
            scenario: title.to_string(),
            run,
            tasks,
            read,
        });
    }
    Ok(rows)
}

fn write_waited(out: &mut String, rows: &[Waited]) {
    let _ = writeln!(
        out,
        "| scenario | time s | × read | peak RSS MiB | B/task |\n|---|---:|---:|---:|---:|"
    );
    for row in rows {
        let time = match &row.run.failure {
            Some(why) => format!("✗ {why}"),
            None => format!("{:.2}", row.run.elapsed.as_secs_f64()),
        };
        let ratio = match (row.read, &row.run.failure) {
            (Some(read), None) if !read.is_zero() => {
                format!("{:.2}", row.run.elapsed.as_secs_f64() / read.as_secs_f64())
            }
            _ => "—".into(),
        };
        let per_task = match row.run.hwm_kib {
            Some(kib) if row.tasks > 0 => format!("{:.0}", kib as f64 * 1024.0 / row.tasks as f64),
            _ => "—".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {time} | {ratio} | {} | {per_task} |",
            row.scenario,
            mib(row.run.hwm_kib)
        );
    }
}

fn timed(argv: &[OsString], measure_rss: bool) -> std::io::Result<Outcome> {
    let outcome = runner::run(&Spec {
        argv,
        pinned: false,
        stderr: None,
        measure_rss,
        timeout: TIMEOUT,
    })?;
    if let Some(why) = &outcome.failure {
        eprintln!("scale: {:?} failed: {why}", argv);
    }
    Ok(outcome)
}

/// 100000 → "100,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("—".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

/// The fields of a record line this check needs; the rest is ignored.
#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    pid: Option<i64>,
    child: Option<i64>,
    #[serde(rename = "kind")]
    task_kind: Option<String>,
}

#[derive(Default)]
struct Task {
    thread: bool,
    exited: bool,
    reaped: bool,
}

#[derive(Default)]
pub struct Check {
    creates: u64,
    exits: u64,
    reaps: u64,
    wraps: u64,
    missing_exit: u64,
    missing_reap: u64,
    ended: bool,
    problems: Vec<String>,
    reap_problems: Vec<String>,
}

impl Check {
    fn verdict(&self, run: &Outcome) -> String {
        if let Some(why) = &run.failure {
            return format!("✗ tracer: {why}");
        }
        let ok = self.missing_exit == 0
            && self.missing_reap == 0
            && self.problems.is_empty()
            && self.ended
            && self.creates > 0;
        if ok { "✓".into() } else { "✗".into() }
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < 20 {
            self.problems.push(text);
        }
    }

    /// A task's record is over (its pid is created again, or the stream ended).
    fn finish(&mut self, pid: i64, task: &Task) {
        if !task.exited {
            self.missing_exit += 1;
            self.problem(format!("pid {pid}: no exit"));
        }
        if !task.thread && !task.reaped {
            self.missing_reap += 1;
            if self.reap_problems.len() < 20 {
                self.reap_problems.push(format!("pid {pid}: no reap"));
            }
        }
    }
}

/// Reads a JSON-lines record and checks that no exit or reap is missing.
fn check_record(path: &Path) -> std::io::Result<Check> {
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut check = Check::default();
    let mut live: HashMap<i64, Task> = HashMap::new();
    let mut last_child = 0;
    for (n, line) in file.lines().enumerate() {
        let line = line?;
        let event: Line = match serde_json::from_str(&line) {
            Ok(event) => event,
            Err(err) => {
                check.problem(format!("line {}: {err}", n + 1));
                continue;
            }
        };
        match (event.kind.as_str(), event.pid, event.child) {
            // The traced command has no create: its first exec introduces it.
            ("exec", Some(pid), _) if live.is_empty() && check.creates == 0 => {
                live.insert(pid, Task::default());
            }
            ("create", _, Some(child)) => {
                check.creates += 1;
                if child < last_child {
                    check.wraps += 1;
                }
                last_child = child;
                if let Some(old) = live.remove(&child) {
                    check.finish(child, &old);
                }
                let thread = event.task_kind.as_deref() == Some("thread");
                live.insert(
                    child,
                    Task {
                        thread,
                        ..Task::default()
                    },
                );
            }
            ("exit", Some(pid), _) => {
                check.exits += 1;
                match live.get_mut(&pid) {
                    Some(task) if !task.exited => task.exited = true,
                    Some(_) => check.problem(format!("line {}: second exit of {pid}", n + 1)),
                    None => check.problem(format!("line {}: exit of unknown pid {pid}", n + 1)),
                }
            }
            ("reap", Some(pid), _) => {
                check.reaps += 1;
                match live.get_mut(&pid) {
                    Some(task) if task.exited && !task.reaped => task.reaped = true,
                    Some(_) => check.problem(format!("line {}: reap of {pid} out of order", n + 1)),
                    None => check.problem(format!("line {}: reap of unknown pid {pid}", n + 1)),
                }
            }
            ("end", _, _) => check.ended = true,
            _ => {}
        }
    }
    for (pid, task) in std::mem::take(&mut live) {
        check.finish(pid, &task);
    }
    if !check.ended {
        check.problem("no end event".into());
    }
    // Reaps are checked only when the record has them at all.
    if check.reaps == 0 {
        check.missing_reap = 0;
    } else {
        let reap_problems = std::mem::take(&mut check.reap_problems);
        reap_problems.into_iter().for_each(|p| check.problem(p));
    }
    Ok(check)
}
