//! timeline: a Chrome trace-event JSON timeline that ui.perfetto.dev and chrome://tracing open.
//! One track per process (`pid`), a sub-track per thread (`tid`); complete slices for *running*,
//! *blocked in vfork*, *leader gone* and *zombie*; instants for exec, signals and a killing
//! signal; flow arrows from each creation call to the task it made. Times are microseconds since
//! the trace started. Pure: reads the model, writes JSON.
//!
//! Written as it goes: the events are first listed compactly (a time and what to draw, a few
//! dozen bytes each), sorted, and only then made into JSON one at a time, so memory stays small
//! per task however long the trace.

use super::View;
use super::vocabulary::{self as words, Style, short_call};
use crate::event::{CloneFlags, Relation, Syscall};
use crate::model::{Model, Outcome, Shape, Task, TaskId};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;

/// Linux never hands out a pid at or above this (`PID_MAX_LIMIT`), so a reused pid's second
/// task can be given a track number above it without colliding with a real one.
const PID_LIMIT: i64 = 1 << 22;

pub struct Timeline;

impl View for Timeline {
    /// Perfetto draws its own colours: `style` changes nothing.
    fn write(&self, out: &mut dyn Write, model: &Model, _style: &Style) -> std::io::Result<()> {
        write_timeline(out, model)
    }
}

/// What a timed event draws; made into JSON only when written.
#[derive(Clone, Copy)]
enum What {
    Running(TaskId),
    /// The task's n-th delivered signal.
    Signal(TaskId, usize),
    LeaderGone(TaskId),
    Killed(TaskId),
    Zombie(TaskId),
    /// The process's n-th exec.
    Exec(TaskId, usize),
    /// The creator of this task, blocked until it execs or exits.
    BlockedInVfork(TaskId),
    FlowStart(TaskId),
    FlowEnd(TaskId),
}

/// One trace event as Chrome's format has it, fields in the order serde_json writes a map's keys
/// (sorted), so the output reads as it did when it was built from `json!` values.
#[derive(Serialize)]
struct TraceEvent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Args<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bp: Option<&'static str>,
    cat: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<TaskId>,
    name: &'a str,
    ph: &'static str,
    pid: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    tid: i64,
    ts: f64,
}

/// An event's args: most are small maps made with `json!`; a running slice's, one per task, is
/// typed (keys sorted, as the map would write them) to keep the timeline's cost near the read's.
#[derive(Serialize)]
#[serde(untagged)]
enum Args<'a> {
    Map(Value),
    Running {
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<i32>,
        call: &'a str,
        outcome: String,
        tid: i32,
    },
}

/// A timed event with what it sorts by.
struct Timed {
    ts: f64,
    /// Slices first, then instants, flow starts, flow ends.
    order: u8,
    dur: f64,
    what: What,
}

fn write_timeline(out: &mut dyn Write, model: &Model) -> std::io::Result<()> {
    let timeline = Tracks::new(model);
    let mut timed = Vec::new();
    for id in 0..model.tasks.len() {
        timeline.task_events(&mut timed, id);
    }
    // Per track, timestamps must not go back; at one instant an enclosing slice comes before
    // what it encloses, and slices before the instants and flow ends that bind to them.
    timed.sort_by(|a, b| {
        a.ts.total_cmp(&b.ts)
            .then(a.order.cmp(&b.order))
            .then(b.dur.total_cmp(&a.dur))
    });
    // The document's keys in serde_json's order (sorted), written piece by piece.
    out.write_all(br#"{"displayTimeUnit":"ms","#)?;
    if let Some(header) = &model.header {
        let other = json!({
            "command": header.command,
            "start": header.start,
            "kernel": header.kernel,
            "arch": header.arch,
            "clonetrace": header.version,
        });
        out.write_all(br#""otherData":"#)?;
        serde_json::to_writer(&mut *out, &other)?;
        out.write_all(b",")?;
    }
    out.write_all(br#""traceEvents":["#)?;
    let mut first = true;
    let mut separator = |out: &mut dyn Write| -> std::io::Result<()> {
        if !std::mem::take(&mut first) {
            out.write_all(b",")?;
        }
        Ok(())
    };
    let mut processes = 0;
    for (id, task) in model.tasks.iter().enumerate() {
        if task.process == id {
            for event in timeline.process_metadata(id, processes) {
                separator(out)?;
                serde_json::to_writer(&mut *out, &event)?;
            }
            processes += 1;
        }
    }
    // Each event is made whole, then written at once: many small writes through `dyn Write`
    // cost more than the JSON itself.
    for t in &timed {
        separator(out)?;
        out.write_all(timeline.json(t).as_bytes())?;
    }
    out.write_all(b"]}\n")
}

struct Tracks<'m> {
    model: &'m Model,
    /// The `tid` number of each task's track (its real tid unless the tid was reused).
    track: Vec<i64>,
    end: f64,
    /// Each distinct call in short form, made once (a trace has few shapes, many calls).
    calls: HashMap<Shape, String>,
}

/// Seconds to microseconds, kept to the nanosecond so that equal times stay equal.
fn micros(seconds: f64) -> f64 {
    (seconds * 1e9).round() / 1e3
}

impl<'m> Tracks<'m> {
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
        let calls = model
            .tasks
            .iter()
            .filter_map(|t| t.create.as_ref())
            .map(|c| (Shape::of(c), short_call(c)))
            .collect();
        Tracks {
            model,
            track,
            end: model.end_time(),
            calls,
        }
    }

    /// The call that created a task, in short form.
    fn call(&self, create: &crate::event::Create) -> &str {
        &self.calls[&Shape::of(create)]
    }

    fn task(&self, id: TaskId) -> &'m Task {
        &self.model.tasks[id]
    }

    /// `pid`/`tid` of a task's track.
    fn ids(&self, id: TaskId) -> (i64, i64) {
        (self.track[self.task(id).process], self.track[id])
    }

    fn process_metadata(&self, id: TaskId, sort: usize) -> Vec<Value> {
        let pid = self.track[id];
        let reused = if pid >= PID_LIMIT {
            " (pid reused)"
        } else {
            ""
        };
        let name = format!("{}{reused}", self.program(id));
        let mut out = vec![
            json!({"ph": "M", "name": "process_name", "pid": pid, "tid": pid,
                   "args": {"name": name}}),
            json!({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": pid,
                   "args": {"sort_index": sort}}),
        ];
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
        out
    }

    /// The process's last program, or `(fork of X)` before any exec.
    fn program(&self, id: TaskId) -> String {
        match self.model.program(id) {
            Some(program) if !program.inherited => words::program_name(&program),
            _ => words::inherited_name(self.model, id),
        }
    }

    fn slice(out: &mut Vec<Timed>, what: What, from: f64, to: f64) {
        let ts = micros(from);
        let dur = (micros(to.max(from)) - ts).max(0.0);
        let dur = (dur * 1e3).round() / 1e3;
        out.push(Timed {
            ts,
            order: 0,
            dur,
            what,
        });
    }

    fn instant(out: &mut Vec<Timed>, what: What, at: f64) {
        out.push(Timed {
            ts: micros(at),
            order: 1,
            dur: 0.0,
            what,
        });
    }

    /// When a task stopped running: its exit, the leader leaving early, or, for a thread that
    /// exec'd, the exec that gave its place to the process.
    fn stopped(&self, id: TaskId) -> f64 {
        let task = self.task(id);
        let took_over_at = task.exec_took_over.then(|| {
            self.task(task.process)
                .execs
                .iter()
                .find(|e| e.old_pid == Some(task.tid) && e.time >= task.created_at)
                .map_or(self.end, |e| e.time)
        });
        took_over_at
            .or(task.leader_exited_at)
            .or(task.exit.as_ref().map(|e| e.time))
            .unwrap_or(self.end)
    }

    fn task_events(&self, out: &mut Vec<Timed>, id: TaskId) {
        let task = self.task(id);
        let is_process = task.process == id;
        Self::slice(out, What::Running(id), task.created_at, self.stopped(id));
        for (n, &(time, _)) in task.signals.iter().enumerate() {
            Self::instant(out, What::Signal(id, n), time);
        }
        let exit_at = task.exit.as_ref().map(|e| e.time);
        if let (Some(left), true) = (task.leader_exited_at, is_process) {
            Self::slice(out, What::LeaderGone(id), left, exit_at.unwrap_or(self.end));
        }
        if let Some(exit) = &task.exit
            && exit.signal.is_some()
        {
            Self::instant(out, What::Killed(id), exit.time);
        }
        if is_process && let Some(exit) = exit_at {
            match &task.reap {
                // Never a zombie: auto-reaped, or collected before the tracer saw it as one.
                Some(reap) if reap.relation == Relation::Auto || reap.zombie_seconds <= 0.0 => {}
                // The tracer's measure of the zombie time, as the tree shows it; the reap record
                // itself comes a little later, when the tracer noticed.
                Some(reap) => Self::slice(out, What::Zombie(id), exit, exit + reap.zombie_seconds),
                None => Self::slice(out, What::Zombie(id), exit, self.end),
            }
        }
        if is_process {
            for (n, exec) in task.execs.iter().enumerate() {
                Self::instant(out, What::Exec(id, n), exec.time);
            }
        }
        if let Some(create) = &task.create
            && task.creator.is_some()
        {
            self.creation(out, id, create.time);
        }
    }

    /// The flow arrow from the creator to the new task and, for a vfork-style creation, the
    /// creator's wait until the child execs or exits.
    fn creation(&self, out: &mut Vec<Timed>, id: TaskId, at: f64) {
        let task = self.task(id);
        let create = task.create.as_ref().expect("a created task");
        if create.syscall == Syscall::Vfork || create.flags.contains(CloneFlags::VFORK) {
            let released = task
                .execs
                .iter()
                .map(|e| e.time)
                .chain(task.exit.as_ref().map(|e| e.time))
                .filter(|&t| t >= at)
                .min_by(f64::total_cmp)
                .unwrap_or(self.end);
            Self::slice(out, What::BlockedInVfork(id), at, released);
        }
        let ts = micros(at);
        out.push(Timed {
            ts,
            order: 2,
            dur: 0.0,
            what: What::FlowStart(id),
        });
        // The arrow ends a nanosecond into the child's first slice, so it binds to that slice
        // ("bp":"e", enclosing) rather than to whatever ends at the same instant.
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
            what: What::FlowEnd(id),
        });
    }

    /// The JSON of one timed event.
    fn json(&self, t: &Timed) -> String {
        let event = |id: TaskId, name: &str, args: Args, ph: &'static str| {
            let (pid, tid) = self.ids(id);
            let slice = ph == "X";
            let event = TraceEvent {
                args: Some(args),
                bp: None,
                cat: "lifecycle",
                dur: slice.then_some(t.dur),
                id: None,
                name,
                ph,
                pid,
                s: (!slice).then_some("t"),
                tid,
                ts: t.ts,
            };
            serde_json::to_string(&event).expect("JSON of plain values")
        };
        let slice = |id: TaskId, name: &str, args: Value| event(id, name, Args::Map(args), "X");
        let instant = |id: TaskId, name: &str, args: Value| event(id, name, Args::Map(args), "i");
        match t.what {
            What::Running(id) => {
                let task = self.task(id);
                let (call, by) = match (&task.create, task.creator) {
                    (Some(create), Some(creator)) => {
                        (self.call(create), Some(self.task(creator).tid))
                    }
                    _ if task.attached.is_some() => ("attached", None),
                    _ => ("started by clonetrace", None),
                };
                let args = Args::Running {
                    by,
                    call,
                    outcome: words::outcome(self.model.outcome(id)),
                    tid: task.tid,
                };
                event(id, "running", args, "X")
            }
            What::Signal(id, n) => {
                let signal = self.task(id).signals[n].1.name();
                instant(id, &format!("signal {signal}"), json!({ "signal": signal }))
            }
            What::LeaderGone(id) => slice(
                id,
                "leader gone, threads run",
                json!({"note": "the leader left with pthread_exit; it holds the pid until its last thread ends"}),
            ),
            What::Killed(id) => {
                let outcome = self.model.outcome(id);
                let core_dumped = matches!(
                    outcome,
                    Outcome::Killed {
                        core_dumped: true,
                        ..
                    }
                );
                instant(
                    id,
                    &words::outcome(outcome),
                    json!({ "core_dumped": core_dumped }),
                )
            }
            What::Zombie(id) => match &self.task(id).reap {
                Some(reap) => slice(
                    id,
                    "zombie",
                    json!({"reaper": reap.reaper, "relation": reap.relation}),
                ),
                None => slice(
                    id,
                    "zombie",
                    json!({"reaper": null, "note": words::STILL_A_ZOMBIE}),
                ),
            },
            What::Exec(id, n) => {
                let exec = &self.task(id).execs[n];
                let mut args = json!({"path": words::plain(&exec.path), "argv": exec.argv});
                if let Some(old) = exec.old_pid {
                    args["by_thread"] = json!(old);
                }
                if !exec.vanished.is_empty() {
                    args["ended_threads"] = json!(exec.vanished);
                }
                let name = format!("exec {}", words::program_name(&exec.into()));
                instant(id, &name, args)
            }
            What::BlockedInVfork(id) => {
                let creator = self.task(id).creator.expect("a created task");
                slice(
                    creator,
                    words::BLOCKED_IN_VFORK,
                    json!({"child": self.task(id).tid}),
                )
            }
            What::FlowStart(id) | What::FlowEnd(id) => {
                let task = self.task(id);
                let create = task.create.as_ref().expect("a created task");
                let name = self.call(create);
                let (phase, on) = match t.what {
                    What::FlowStart(_) => ("s", task.creator.expect("a created task")),
                    _ => ("f", id),
                };
                let (pid, tid) = self.ids(on);
                let event = TraceEvent {
                    args: None,
                    bp: (phase == "f").then_some("e"),
                    cat: "create",
                    dur: None,
                    id: Some(id),
                    name,
                    ph: phase,
                    pid,
                    s: None,
                    tid,
                    ts: t.ts,
                };
                serde_json::to_string(&event).expect("JSON of plain values")
            }
        }
    }
}
