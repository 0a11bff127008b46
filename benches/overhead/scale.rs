//! `--scale`: 100,000 short processes in one trace (pids wrap past pid_max several times) and
//! 2,000 threads alive at once, checked from the JSON record for lost events; and the tracer's
//! peak RSS against the number of traced tasks, streaming outputs against `--tree`.

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
/// `--quick` divides the sizes by this.
const QUICK_DIVISOR: u64 = 10;
const TIMEOUT: Duration = Duration::from_secs(600);

/// Runs the scale scenarios and returns the markdown section body (without its title line).
pub fn run(env: &Env, work_dir: &Path, quick: bool) -> std::io::Result<String> {
    let divisor = if quick { QUICK_DIVISOR } else { 1 };
    let processes = PROCESSES / divisor;
    let few = processes / 10;
    let threads = THREADS / divisor;
    let fork_wait: OsString = workloads::build_c(work_dir, "fork_wait")?.into();
    let threads_alive: OsString = workloads::build_c(work_dir, "threads_alive")?.into();
    let forks = |n: u64| vec![fork_wait.clone(), n.to_string().into()];
    let json = env.json_out.clone().into_os_string();
    let clonetrace = |args: &[&str], cmd: Vec<OsString>| {
        let mut argv = vec![env.clonetrace.clone().into_os_string()];
        argv.extend(args.iter().map(|a| match *a {
            "{json}" => json.clone(),
            other => other.into(),
        }));
        argv.push("--".into());
        argv.extend(cmd);
        argv
    };
    let mut out = String::new();

    eprintln!("scale: {processes} processes untraced");
    let untraced = timed(&forks(processes), false)?;

    eprintln!("scale: {processes} processes under --json");
    let big_json = timed(
        &clonetrace(&["--json", "-o", "{json}"], forks(processes)),
        true,
    )?;
    let procs_check = check_record(&env.json_out)?;

    eprintln!("scale: {threads} threads alive at once under --json");
    let threads_cmd = vec![
        threads_alive.clone(),
        threads.to_string().into(),
        "1".into(),
    ];
    let threads_untraced = timed(&threads_cmd, false)?;
    let threads_run = timed(&clonetrace(&["--json", "-o", "{json}"], threads_cmd), true)?;
    let threads_check = check_record(&env.json_out)?;

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
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\nFirst problems found:\n");
        for p in problems.iter().take(10) {
            let _ = writeln!(out, "- {p}");
        }
    }

    // Memory: the same fork loop at two sizes, per output. The slope between them is what
    // each traced task costs the tracer; a streaming output should cost about nothing.
    let mut memory = Vec::new();
    for (title, args) in [
        (
            "default (live lines, `-o /dev/null`)",
            &["-o", "/dev/null"][..],
        ),
        ("`--json -o FILE`", &["--json", "-o", "{json}"][..]),
        ("`--tree -o /dev/null`", &["--tree", "-o", "/dev/null"][..]),
    ] {
        eprintln!("scale: memory of {title}");
        let small = timed(&clonetrace(args, forks(few)), true)?;
        let large = if args[0] == "--json" {
            big_json.hwm_kib
        } else {
            timed(&clonetrace(args, forks(processes)), true)?.hwm_kib
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
    Ok(out)
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
