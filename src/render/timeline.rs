//! timeline: a Chrome trace-event JSON timeline that ui.perfetto.dev and chrome://tracing open.
//! One track per process (`pid`), a sub-track per thread (`tid`); complete slices for *running*,
//! *blocked in vfork*, *leader gone* and *zombie*; instants for exec and a killing signal; flow
//! arrows from each creation call to the task it made. Times are microseconds since the trace
//! started. Pure: reads the model, writes JSON through serde_json.
//!
//! Signal deliveries other than the killing one are listed in each running slice's args: the
//! model keeps their names, not their times.

use super::short_call;
use super::summary::{basename, program_at};
use crate::event::Relation;
use crate::model::{Model, Task, TaskId};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;

/// Linux never hands out a pid at or above this (`PID_MAX_LIMIT`), so a reused pid's second
/// task can be given a track number above it without colliding with a real one.
const PID_LIMIT: i64 = 1 << 22;

pub fn write_timeline(out: &mut dyn Write, model: &Model) -> std::io::Result<()> {
    let timeline = Timeline::new(model);
    let mut metadata = Vec::new();
    let mut timed = Vec::new();
    let mut processes = 0;
    for (id, task) in model.tasks.iter().enumerate() {
        if task.process == id {
            timeline.process_metadata(&mut metadata, id, processes);
            processes += 1;
        }
        timeline.task_events(&mut timed, id);
    }
    // Per track, timestamps must not go back; at one instant an enclosing slice comes before
    // what it encloses, and slices before the instants and flow ends that bind to them.
    timed.sort_by(|a, b| {
        a.ts.total_cmp(&b.ts)
            .then(a.order.cmp(&b.order))
            .then(b.dur.total_cmp(&a.dur))
    });
    let mut events = metadata;
    events.extend(timed.into_iter().map(|t| t.event));
    let mut document = json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
    });
    if let Some(header) = &model.header {
        document["otherData"] = json!({
            "command": header.command,
            "start": header.start,
            "kernel": header.kernel,
            "arch": header.arch,
            "clonetrace": header.version,
        });
    }
    serde_json::to_writer(&mut *out, &document)?;
    writeln!(out)
}

/// A timed event with what it sorts by.
struct Timed {
    ts: f64,
    /// Slices first, then instants, flow starts, flow ends.
    order: u8,
    dur: f64,
    event: Value,
}

struct Timeline<'m> {
    model: &'m Model,
    /// The `tid` number of each task's track (its real tid unless the tid was reused).
    track: Vec<i64>,
    end: f64,
}

/// Seconds to microseconds, kept to the nanosecond so that equal times stay equal.
fn micros(seconds: f64) -> f64 {
    (seconds * 1e9).round() / 1e3
}

impl<'m> Timeline<'m> {
    fn new(model: &'m Model) -> Self {
        let mut uses: HashMap<i32, i64> = HashMap::new();
        let track = model
            .tasks
            .iter()
            .map(|task| {
                let count = uses.entry(task.tid).or_insert(0);
                let track = i64::from(task.tid) + PID_LIMIT * *count;
                *count += 1;
                track
            })
            .collect();
        Timeline {
            model,
            track,
            end: trace_end(model),
        }
    }

    fn task(&self, id: TaskId) -> &'m Task {
        &self.model.tasks[id]
    }

    /// `pid`/`tid` of a task's track.
    fn ids(&self, id: TaskId) -> (i64, i64) {
        (self.track[self.task(id).process], self.track[id])
    }

    fn process_metadata(&self, out: &mut Vec<Value>, id: TaskId, sort: usize) {
        let pid = self.track[id];
        let reused = if pid >= PID_LIMIT {
            " (pid reused)"
        } else {
            ""
        };
        let name = format!("{}{reused}", self.program(id));
        out.push(
            json!({"ph": "M", "name": "process_name", "pid": pid, "tid": pid,
                        "args": {"name": name}}),
        );
        out.push(
            json!({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": pid,
                        "args": {"sort_index": sort}}),
        );
        for (n, thread) in self.model.threads_of(id).enumerate() {
            let tid = self.track[thread];
            let name = if thread == id {
                name.clone()
            } else {
                format!("thread{reused}")
            };
            out.push(
                json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                            "args": {"name": name}}),
            );
            out.push(
                json!({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid,
                            "args": {"sort_index": n}}),
            );
        }
    }

    /// The process's last program, or `(fork of X)` before any exec.
    fn program(&self, id: TaskId) -> String {
        let task = self.task(id);
        match (task.execs.last(), task.creator) {
            (Some(exec), _) => super::plain(basename(&exec.path)),
            (None, _) if task.attached.is_some() => program_at(self.model, id, task.created_at),
            (None, Some(creator)) => format!(
                "(fork of {})",
                program_at(self.model, self.task(creator).process, task.created_at)
            ),
            (None, None) => "?".into(),
        }
    }

    fn slice(&self, out: &mut Vec<Timed>, id: TaskId, name: &str, from: f64, to: f64, args: Value) {
        let (pid, tid) = self.ids(id);
        let ts = micros(from);
        let dur = (micros(to.max(from)) - ts).max(0.0);
        let dur = (dur * 1e3).round() / 1e3;
        out.push(Timed {
            ts,
            order: 0,
            dur,
            event: json!({"ph": "X", "name": name, "cat": "lifecycle", "pid": pid, "tid": tid,
                          "ts": ts, "dur": dur, "args": args}),
        });
    }

    fn instant(&self, out: &mut Vec<Timed>, id: TaskId, name: &str, at: f64, args: Value) {
        let (pid, tid) = self.ids(id);
        let ts = micros(at);
        out.push(Timed {
            ts,
            order: 1,
            dur: 0.0,
            event: json!({"ph": "i", "s": "t", "name": name, "cat": "lifecycle", "pid": pid,
                          "tid": tid, "ts": ts, "args": args}),
        });
    }

    fn task_events(&self, out: &mut Vec<Timed>, id: TaskId) {
        let task = self.task(id);
        let is_process = task.process == id;
        let start = task.created_at;
        // When this task stopped running: its exit, the leader leaving early, or, for a thread
        // that exec'd, the exec that gave its place to the process.
        let took_over_at = task.exec_took_over.then(|| {
            self.task(task.process)
                .execs
                .iter()
                .find(|e| e.old_pid == Some(task.tid) && e.time >= start)
                .map_or(self.end, |e| e.time)
        });
        let exit_at = task.exit.as_ref().map(|e| e.time);
        let stopped = took_over_at
            .or(task.leader_exited_at)
            .or(exit_at)
            .unwrap_or(self.end);

        let mut args = json!({"tid": task.tid, "outcome": outcome(task)});
        match (&task.create, task.creator) {
            (Some(create), Some(creator)) => {
                args["call"] = json!(short_call(create));
                args["by"] = json!(self.task(creator).tid);
            }
            _ if task.attached.is_some() => args["call"] = json!("attached"),
            _ => args["call"] = json!("started by clonetrace"),
        }
        self.slice(out, id, "running", start, stopped, args);
        for &(time, number) in &task.signals {
            let signal = crate::decode::signal::signal_name(number);
            let name = format!("signal {signal}");
            self.instant(out, id, &name, time, json!({ "signal": signal }));
        }

        if let (Some(left), true) = (task.leader_exited_at, is_process) {
            self.slice(
                out,
                id,
                "leader gone, threads run",
                left,
                exit_at.unwrap_or(self.end),
                json!({"note": "the leader left with pthread_exit; it holds the pid until its last thread ends"}),
            );
        }
        if let Some(exit) = &task.exit
            && let Some(signal) = &exit.signal
        {
            let name = format!("killed by {signal}");
            self.instant(
                out,
                id,
                &name,
                exit.time,
                json!({"core_dumped": exit.core_dumped}),
            );
        }
        if is_process && let Some(exit) = exit_at {
            match &task.reap {
                // Never a zombie: auto-reaped, or collected before the tracer saw it as one.
                Some(reap) if reap.relation == Relation::Auto || reap.zombie_seconds <= 0.0 => {}
                // The tracer's measure of the zombie time, as the tree shows it; the reap record
                // itself comes a little later, when the tracer noticed.
                Some(reap) => self.slice(
                    out,
                    id,
                    "zombie",
                    exit,
                    exit + reap.zombie_seconds,
                    json!({"reaper": reap.reaper, "relation": reap.relation}),
                ),
                None => self.slice(
                    out,
                    id,
                    "zombie",
                    exit,
                    self.end,
                    json!({"reaper": null, "note": "still a zombie when the trace ended"}),
                ),
            }
        }
        if is_process {
            for exec in &task.execs {
                let mut args = json!({"path": super::plain(&exec.path), "argv": exec.argv});
                if let Some(old) = exec.old_pid {
                    args["by_thread"] = json!(old);
                }
                if !exec.vanished.is_empty() {
                    args["ended_threads"] = json!(exec.vanished);
                }
                let name = format!("exec {}", super::plain(basename(&exec.path)));
                self.instant(out, id, &name, exec.time, args);
            }
        }
        if let (Some(create), Some(creator)) = (&task.create, task.creator) {
            self.creation(out, id, creator, create.time);
        }
    }

    /// The flow arrow from the creator to the new task and, for a vfork-style creation, the
    /// creator's wait until the child execs or exits.
    fn creation(&self, out: &mut Vec<Timed>, id: TaskId, creator: TaskId, at: f64) {
        let task = self.task(id);
        let create = task.create.as_ref().expect("a created task");
        let vfork = create.syscall == "vfork" || create.flags.iter().any(|f| f == "CLONE_VFORK");
        if vfork {
            let released = task
                .execs
                .iter()
                .map(|e| e.time)
                .chain(task.exit.as_ref().map(|e| e.time))
                .filter(|&t| t >= at)
                .min_by(f64::total_cmp)
                .unwrap_or(self.end);
            self.slice(
                out,
                creator,
                "blocked in vfork",
                at,
                released,
                json!({"child": task.tid}),
            );
        }
        let name = short_call(create);
        let (pid, tid) = self.ids(creator);
        let ts = micros(at);
        out.push(Timed {
            ts,
            order: 2,
            dur: 0.0,
            event: json!({"ph": "s", "id": id, "name": name, "cat": "create", "pid": pid,
                          "tid": tid, "ts": ts}),
        });
        // The arrow ends a nanosecond into the child's first slice, so it binds to that slice
        // ("bp":"e", enclosing) rather than to whatever ends at the same instant.
        let (pid, tid) = self.ids(id);
        let child_end = task.exit.as_ref().map_or(self.end, |e| e.time);
        let end_ts = if micros(child_end) - ts >= 0.001 {
            ((ts + 0.001) * 1e3).round() / 1e3
        } else {
            ts
        };
        out.push(Timed {
            ts: end_ts,
            order: 3,
            dur: 0.0,
            event: json!({"ph": "f", "bp": "e", "id": id, "name": name, "cat": "create",
                          "pid": pid, "tid": tid, "ts": end_ts}),
        });
    }
}

/// `exit 0`, `killed by SIGKILL`, `running at end`.
fn outcome(task: &Task) -> String {
    if task.exec_took_over {
        return "exec'd and took over the process".into();
    }
    match &task.exit {
        Some(exit) => match (&exit.code, &exit.signal) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("killed by {signal}"),
            (None, None) => "exited".into(),
        },
        None => "running at end".into(),
    }
}

/// The end of the trace: its `end` record, else the last time the model knows of.
fn trace_end(model: &Model) -> f64 {
    if let Some(end) = &model.end {
        return end.time;
    }
    model
        .tasks
        .iter()
        .flat_map(|t| {
            [Some(t.created_at), t.leader_exited_at]
                .into_iter()
                .chain([
                    t.exit.as_ref().map(|e| e.time),
                    t.reap.as_ref().map(|r| r.time),
                ])
                .chain(t.execs.iter().map(|e| Some(e.time)))
                .flatten()
        })
        .fold(0.0, f64::max)
}
