//! dot: the process tree as a Graphviz DOT graph. Each process is a node (`p<pid>`), boxed with
//! its threads (`t<tid>`) in a cluster when it has any; solid edges are creation calls from the
//! task that made them, dashed edges are reaps and adoptions. Fill colour is the exit status.
//! Pure: reads the model, writes text; every label goes through `quoted`.

use super::View;
use super::vocabulary::{self as words, Style, command_line, cut, invocation, short_call};
use crate::event::Relation;
use crate::model::{Model, Outcome, Task, TaskId};
use std::collections::HashMap;
use std::io::Write;

/// Edge and node label lines are wrapped at about this many characters.
const LABEL_WIDTH: usize = 30;
/// Alike threads are listed by tid up to this many, then as a range.
const LISTED_TIDS: usize = 4;

pub struct Dot;

impl View for Dot {
    /// DOT has its own colours, and its labels are Unicode text: `style` changes nothing.
    fn write(&self, out: &mut dyn Write, model: &Model, _style: &Style) -> std::io::Result<()> {
        Graph::new(model).write(out)
    }
}

/// Colours by outcome: (fill, border).
const GREEN: (&str, &str) = ("#d8f0d8", "#2e7d32");
const RED: (&str, &str) = ("#f9d6d5", "#c62828");
const GREY: (&str, &str) = ("#e6e6e6", "#757575");
const BLUE: (&str, &str) = ("#dbe7f5", "#3f6fa8");

struct Graph<'m> {
    model: &'m Model,
    /// The node standing for each task (a run of alike threads shares its first thread's node).
    node: HashMap<TaskId, String>,
    /// Runs of alike threads per process, each run one node.
    runs: HashMap<TaskId, Vec<Vec<TaskId>>>,
}

impl<'m> Graph<'m> {
    fn new(model: &'m Model) -> Self {
        let mut graph = Graph {
            model,
            node: HashMap::new(),
            runs: HashMap::new(),
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut unique = |base: String| -> String {
            let uses = seen.entry(base.clone()).or_insert(0);
            *uses += 1;
            // A pid reused within the trace is a new task and gets a node of its own.
            match *uses {
                1 => base,
                n => format!("{base}_{n}"),
            }
        };
        for (id, task) in model.tasks.iter().enumerate() {
            if task.process == id {
                graph.node.insert(id, unique(format!("p{}", task.tid)));
            }
        }
        for (id, task) in model.tasks.iter().enumerate() {
            if task.process != id {
                continue;
            }
            let mut runs: Vec<Vec<TaskId>> = Vec::new();
            for &thread in &task.threads {
                match runs.last_mut() {
                    Some(run) if graph.alike(run[0], thread) => run.push(thread),
                    _ => runs.push(vec![thread]),
                }
            }
            for run in &runs {
                let name = unique(format!("t{}", model.tasks[run[0]].tid));
                for &thread in run {
                    graph.node.insert(thread, name.clone());
                }
            }
            graph.runs.insert(id, runs);
        }
        graph
    }

    fn task(&self, id: TaskId) -> &'m Task {
        &self.model.tasks[id]
    }

    /// Two threads that would draw the same node and edge apart from their tid.
    fn alike(&self, a: TaskId, b: TaskId) -> bool {
        let (a, b) = (self.task(a), self.task(b));
        let call = |t: &Task| t.create.as_ref().map(short_call);
        a.creator == b.creator
            && call(a) == call(b)
            && !a.exec_took_over
            && !b.exec_took_over
            && a.exit.as_ref().map(|e| (e.code, e.signal, e.core_dumped))
                == b.exit.as_ref().map(|e| (e.code, e.signal, e.core_dumped))
    }

    fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "digraph clonetrace {{")?;
        if let Some(header) = &self.model.header {
            writeln!(
                out,
                "  graph [label={}, labelloc=t, fontsize=12];",
                quoted(&[cut(&invocation(header, false), 90)])
            )?;
        }
        writeln!(
            out,
            "  graph [fontname=\"Helvetica\", nodesep=0.3, ranksep=0.45];"
        )?;
        writeln!(
            out,
            "  node [fontname=\"Helvetica\", fontsize=11, shape=box, style=\"rounded,filled\"];"
        )?;
        writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];")?;
        // Each PID namespace below the tracer's is a cluster labelled with its init.
        let inits = self.model.pid_namespace_inits();
        let mut members: HashMap<TaskId, Vec<TaskId>> = HashMap::new();
        for (id, task) in self.model.tasks.iter().enumerate() {
            if task.process != id {
                continue;
            }
            match inits.get(&id) {
                Some(&init) => members.entry(init).or_default().push(id),
                None => self.process(out, id)?,
            }
        }
        let mut namespaces: Vec<(TaskId, Vec<TaskId>)> = members.into_iter().collect();
        namespaces.sort();
        for (init, processes) in namespaces {
            writeln!(out, "  subgraph cluster_ns_{} {{", self.node[&init])?;
            let label = format!(
                "PID namespace: its init is {} {}",
                self.task(init).tid,
                self.program(init)
            );
            writeln!(
                out,
                "    style=\"rounded\"; color=\"#3f6fa8\"; fontcolor=\"#3f6fa8\"; fontsize=10; label={};",
                quoted(&[label])
            )?;
            for id in processes {
                self.process(out, id)?;
            }
            writeln!(out, "  }}")?;
        }
        for (id, task) in self.model.tasks.iter().enumerate() {
            if task.process == id {
                self.creation_edge(out, id)?;
            }
        }
        self.lifecycle_edges(out)?;
        writeln!(out, "}}")
    }

    /// The process node; with threads, a cluster holding it, its threads and their creations.
    fn process(&self, out: &mut dyn Write, id: TaskId) -> std::io::Result<()> {
        let task = self.task(id);
        let runs = &self.runs[&id];
        let indent = if runs.is_empty() { "  " } else { "    " };
        if !runs.is_empty() {
            writeln!(out, "  subgraph cluster_{} {{", self.node[&id])?;
            writeln!(
                out,
                "    style=\"rounded,dashed\"; color=\"#9e9e9e\"; fontsize=9; label={};",
                quoted(&[format!("process {} and its threads", task.tid)])
            )?;
        }
        let mut lines = vec![
            self.program(id),
            format!("pid {}", words::pid_path(task.tid, task.nspid())),
        ];
        lines.extend(self.outcome(id));
        let (fill, border) = outcome_colour(self.model.outcome(id));
        writeln!(
            out,
            "{indent}{} [label={}, fillcolor=\"{fill}\", color=\"{border}\", tooltip={}];",
            self.node[&id],
            quoted(&lines),
            quoted(&[self.tooltip(task)]),
        )?;
        for run in runs {
            let first = self.task(run[0]);
            let name = &self.node[&run[0]];
            let tids: Vec<String> = run.iter().map(|&t| self.task(t).tid.to_string()).collect();
            let title = match tids.len() {
                1 => format!("thread {}", tids[0]),
                n if n <= LISTED_TIDS => format!("threads {}", tids.join(", ")),
                n => format!("{n} threads {}…{}", tids[0], tids[n - 1]),
            };
            let outcome = self.model.outcome(run[0]);
            let (status, (fill, border)) = (words::outcome(outcome), outcome_colour(outcome));
            writeln!(
                out,
                "    {name} [label={}, fillcolor=\"{fill}\", color=\"{border}\", style=\"rounded,filled,dashed\", fontsize=10];",
                quoted(&[title, status])
            )?;
            if let (Some(create), Some(creator)) = (&first.create, first.creator) {
                let times = words::times(run.len());
                writeln!(
                    out,
                    "    {} -> {name} [label={}, color=\"#616161\"];",
                    self.node[&creator],
                    quoted(&wrap(
                        &format!("{}{times}", short_call(create)),
                        LABEL_WIDTH
                    ))
                )?;
            }
        }
        if !runs.is_empty() {
            writeln!(out, "  }}")?;
        }
        Ok(())
    }

    /// The edge from the task that made the call to the new process, labelled with the call (a
    /// dotted one from its parent for a process that was attached).
    fn creation_edge(&self, out: &mut dyn Write, id: TaskId) -> std::io::Result<()> {
        let task = self.task(id);
        let (Some(create), Some(creator)) = (&task.create, task.creator) else {
            // Attached with its parent (--descendants): created before the trace began.
            if let (Some(_), Some(parent)) = (&task.attached, task.parent) {
                writeln!(
                    out,
                    "  {} -> {} [style=dotted, label=\"attached\"];",
                    self.node[&parent], self.node[&id]
                )?;
            }
            return Ok(());
        };
        let mut label = wrap(&short_call(create), LABEL_WIDTH);
        let creator_task = self.task(creator);
        if task.parent.is_some() && task.parent != Some(creator_task.process) {
            let parent = task.parent.map_or(0, |p| self.task(p).tid);
            label.push(format!("(CLONE_PARENT: child of {parent})"));
        }
        writeln!(
            out,
            "  {} -> {} [label={}];",
            self.node[&creator],
            self.node[&id],
            quoted(&label)
        )
    }

    /// Dashed edges: adopter → orphan ("adopted"), reaper → zombie ("reaped, zombie …"); one edge
    /// when the adopter is also the reaper. Reapers outside the trace get a plain node of their
    /// own (`x<pid>`); clonetrace reaping the command it started is left implicit.
    fn lifecycle_edges(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut outside: Vec<(i32, &'static str)> = Vec::new();
        let mut edges: Vec<String> = Vec::new();
        for (id, task) in self.model.tasks.iter().enumerate() {
            if task.process != id {
                continue;
            }
            let target = &self.node[&id];
            let reap = task
                .reap
                .as_ref()
                .filter(|r| !matches!(r.relation, Relation::Tracer | Relation::Auto));
            let mut reap_drawn = false;
            for (n, reparent) in task.reparents.iter().enumerate() {
                let last = n + 1 == task.reparents.len();
                let mut label = format!("adopted ({})", words::relation(reparent.relation));
                if let Some(reap) = reap.filter(|r| last && r.reaper == reparent.to) {
                    label.push_str(&format!(
                        ",\nreaped, {}",
                        words::zombie_time(reap.zombie_seconds)
                    ));
                    reap_drawn = true;
                }
                let from = self.node_of_pid(reparent.to, reparent.time);
                if from.starts_with('x') {
                    outside.push((reparent.to, words::relation(reparent.relation)));
                }
                edges.push(format!(
                    "  {from} -> {target} [style=dashed, color=\"#3f6fa8\", fontcolor=\"#3f6fa8\", constraint=false, label={}];",
                    quoted_lines(&label)
                ));
            }
            if let Some(reap) = reap.filter(|_| !reap_drawn) {
                let from = self.node_of_pid(reap.reaper, reap.time);
                if from.starts_with('x') {
                    outside.push((reap.reaper, words::relation(reap.relation)));
                }
                edges.push(format!(
                    "  {from} -> {target} [style=dashed, color=\"#757575\", fontcolor=\"#616161\", constraint=false, label={}];",
                    quoted(&[format!("reaped, {}", words::zombie_time(reap.zombie_seconds))])
                ));
            }
        }
        let mut drawn: std::collections::HashSet<i32> = Default::default();
        for (pid, what) in outside {
            if !drawn.insert(pid) {
                continue;
            }
            let name = if pid == 1 {
                "init (pid 1)".to_string()
            } else {
                format!("pid {pid} ({what}, not traced)")
            };
            writeln!(
                out,
                "  x{pid} [label={}, shape=box, style=dashed, color=\"#9e9e9e\"];",
                quoted(&[name])
            )?;
        }
        for edge in edges {
            writeln!(out, "{edge}")?;
        }
        Ok(())
    }

    /// The node of the traced process holding `pid` at `time`, else an outside node `x<pid>`.
    fn node_of_pid(&self, pid: i32, time: f64) -> String {
        match self.model.process_of_pid_at(pid, time) {
            Some(id) => self.node[&id].clone(),
            None => format!("x{pid}"),
        }
    }

    /// `sh → ls`, or `(fork of sh)` before any exec.
    fn program(&self, id: TaskId) -> String {
        let task = self.task(id);
        if task.execs.is_empty() {
            return match self.model.program(id) {
                Some(program) if !program.inherited => words::program_name(&program),
                _ => words::inherited_name(self.model, id),
            };
        }
        let names: Vec<String> = task
            .execs
            .iter()
            .map(|e| words::program_name(&e.into()))
            .collect();
        cut(&names.join(" → "), LABEL_WIDTH + 10)
    }

    /// The full command line of the last exec, for the tooltip.
    fn tooltip(&self, task: &Task) -> String {
        let (path, argv) = match (task.execs.last(), &task.attached) {
            (Some(exec), _) => (exec.path.as_str(), exec.argv.as_slice()),
            (None, Some(attach)) => (
                attach.path.as_deref().unwrap_or("?"),
                attach.argv.as_deref().unwrap_or_default(),
            ),
            (None, None) => return format!("pid {}", task.tid),
        };
        let mut words = vec![path.to_string()];
        words.extend(argv.iter().skip(1).cloned());
        cut(&command_line(&words), 200)
    }

    /// The exit line and what followed it: `exit 3`, `zombie at end`.
    fn outcome(&self, id: TaskId) -> Vec<String> {
        let task = self.task(id);
        let mut lines = vec![words::outcome(self.model.outcome(id))];
        if task.leader_exited_at.is_some() {
            lines.push("leader left before its threads".into());
        }
        if task.is_unreaped_zombie() {
            lines.push(words::STILL_A_ZOMBIE.into());
        }
        if task
            .reap
            .as_ref()
            .is_some_and(|r| r.relation == Relation::Auto)
        {
            lines.push("auto-reaped".into());
        }
        lines
    }
}

fn outcome_colour(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Running => GREY,
        Outcome::TookOver { .. } => BLUE,
        outcome if outcome.is_success() || outcome == Outcome::Ended => GREEN,
        _ => RED,
    }
}

/// Breaks a call like `clone3(VM|FS|…, SIGCHLD, stack 8 MiB)` into lines of about `width`
/// characters, after a `|` or a `, `.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut piece = String::new();
    for c in text.chars() {
        piece.push(c);
        if c == '|' || (c == ' ' && piece.ends_with(", ")) {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in pieces {
        if !line.is_empty() && line.chars().count() + piece.chars().count() > width {
            lines.push(line.trim_end().to_string());
            line.clear();
        }
        line.push_str(&piece);
    }
    if !line.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// A DOT string literal showing `lines` one under the other. Backslashes and quotes are escaped
/// (a label's `\n`, `\l`, `\N`… are Graphviz escapes, so a backslash in a program name must be
/// doubled); control characters were already made visible by `plain`, and a newline in the text
/// itself becomes a line break.
fn quoted(lines: &[String]) -> String {
    let escaped: Vec<String> = lines
        .iter()
        .map(|line| {
            let mut text = String::with_capacity(line.len());
            for c in line.chars() {
                match c {
                    '\\' => text.push_str("\\\\"),
                    '"' => text.push_str("\\\""),
                    '\n' => text.push_str("\\n"),
                    '\r' => {}
                    c => text.push(c),
                }
            }
            text
        })
        .collect();
    format!("\"{}\"", escaped.join("\\n"))
}

fn quoted_lines(text: &str) -> String {
    quoted(&text.lines().map(str::to_string).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_quotes_backslashes_and_newlines() {
        assert_eq!(
            quoted(&["a\"b\\n".into(), "c\nd".into()]),
            r#""a\"b\\n\nc\nd""#
        );
    }

    #[test]
    fn calls_wrap_after_bars_and_commas() {
        assert_eq!(
            wrap("clone3(VM|FS|FILES|SIGHAND|THREAD, stack 8 MiB)", 20),
            ["clone3(VM|FS|FILES|", "SIGHAND|THREAD,", "stack 8 MiB)"]
        );
        assert_eq!(wrap("fork()", 20), ["fork()"]);
    }
}
