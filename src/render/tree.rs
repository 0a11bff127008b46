//! tree: the process tree at the end of a trace. One glance answers who made whom, with which
//! call, and how each task ended: exit, zombie time, reaper, adoption.

use super::{human_duration, plain, short_call};
use crate::decode::flags::join_flags;
use crate::event::{Kind, Relation};
use crate::model::{Model, Task, TaskId};
use owo_colors::OwoColorize;
use std::io::Write;

pub struct TreeStyle {
    pub ascii: bool,
    pub color: bool,
}

struct Glyphs {
    branch: &'static str,
    last: &'static str,
    pipe: &'static str,
    space: &'static str,
}

const UNICODE: Glyphs = Glyphs {
    branch: "├─ ",
    last: "└─ ",
    pipe: "│  ",
    space: "   ",
};
const ASCII: Glyphs = Glyphs {
    branch: "|- ",
    last: "`- ",
    pipe: "|  ",
    space: "   ",
};

/// A line under a process: one of its threads (or a run of alike ones), or a child process.
enum Item {
    Threads(Vec<TaskId>),
    Process(TaskId),
    /// Failed creation calls of the process's tasks, alike ones counted: (line, count).
    Failed(String, usize),
}

pub fn write_tree(out: &mut dyn Write, model: &Model, style: &TreeStyle) -> std::io::Result<()> {
    let writer = TreeWriter {
        model,
        style,
        glyphs: if style.ascii { &ASCII } else { &UNICODE },
        tracer_pid: model.header.as_ref().map_or(0, |h| h.tracer_pid),
    };
    if !style.ascii {
        for &root in model.roots() {
            writer.process(out, root, "", None)?;
        }
        return Ok(());
    }
    // A plain terminal gets plain characters for our own symbols too (user data stays as is).
    let mut text = Vec::new();
    for &root in model.roots() {
        writer.process(&mut text, root, "", None)?;
    }
    out.write_all(to_ascii(&String::from_utf8_lossy(&text)).as_bytes())
}

/// The tree's own non-ASCII symbols in plain characters.
fn to_ascii(text: &str) -> String {
    text.replace(" · ", "; ")
        .replace('→', "->")
        .replace('…', "...")
        .replace('µ', "u")
        .replace('×', "x")
}

struct TreeWriter<'m> {
    model: &'m Model,
    style: &'m TreeStyle,
    glyphs: &'m Glyphs,
    tracer_pid: i32,
}

impl TreeWriter<'_> {
    fn task(&self, id: TaskId) -> &Task {
        &self.model.tasks[id]
    }

    /// Writes a process line, then its threads and child processes nested under it.
    fn process(
        &self,
        out: &mut dyn Write,
        id: TaskId,
        indent: &str,
        branch: Option<bool>,
    ) -> std::io::Result<()> {
        let task = self.task(id);
        let (lead, child_indent) = match branch {
            None => (String::new(), String::new()),
            Some(last) => (
                format!(
                    "{indent}{}",
                    if last {
                        self.glyphs.last
                    } else {
                        self.glyphs.branch
                    }
                ),
                format!(
                    "{indent}{}",
                    if last {
                        self.glyphs.space
                    } else {
                        self.glyphs.pipe
                    }
                ),
            ),
        };
        let mut head = format!("{} {}", self.pid_text(task), self.program(id));
        if let Some(create) = &task.create {
            head.push_str(&format!("  {}", short_call(create)));
            if let Some(creator) = task.creator {
                let creator_task = self.task(creator);
                if creator_task.tid != creator_task.tgid {
                    head.push_str(&format!(" by thread {}", creator_task.tid));
                } else if task.parent != Some(creator_task.process) {
                    head.push_str(&format!(" by {} (CLONE_PARENT)", creator_task.tid));
                }
            }
        } else if task.attached.is_some() {
            head.push_str("  attached");
        }
        // The traced command needs no note: "reaped by clonetrace" says whose child it is.
        writeln!(out, "{lead}{head}  {}", self.process_outcome(id))?;

        let items = self.items(id);
        let count = items.len();
        for (n, item) in items.into_iter().enumerate() {
            let last = n + 1 == count;
            match item {
                Item::Process(child) => self.process(out, child, &child_indent, Some(last))?,
                Item::Threads(threads) => {
                    let glyph = if last {
                        self.glyphs.last
                    } else {
                        self.glyphs.branch
                    };
                    writeln!(out, "{child_indent}{glyph}{}", self.threads_line(&threads))?;
                }
                Item::Failed(line, count) => {
                    let glyph = if last {
                        self.glyphs.last
                    } else {
                        self.glyphs.branch
                    };
                    let times = if count > 1 {
                        format!(" ×{count}")
                    } else {
                        String::new()
                    };
                    writeln!(out, "{child_indent}{glyph}{line}{times}")?;
                }
            }
        }
        Ok(())
    }

    /// Threads first (runs of alike threads merged into one line), then child processes, each in
    /// creation order.
    fn items(&self, id: TaskId) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        for &thread in &self.task(id).threads {
            let signature = self.thread_signature(thread);
            match items.last_mut() {
                Some(Item::Threads(run)) if self.thread_signature(run[0]) == signature => {
                    run.push(thread)
                }
                _ => items.push(Item::Threads(vec![thread])),
            }
        }
        for task in self.model.threads_of(id) {
            for failed in &self.task(task).failed_creates {
                let flags: Vec<String> = failed
                    .flags
                    .iter()
                    .map(|f| crate::decode::flags::short_flag_name(f).to_string())
                    .collect();
                let line = format!(
                    "{}({}, {}) failed: {}",
                    failed.syscall,
                    join_flags(&flags),
                    failed.exit_signal.as_deref().unwrap_or("exit_signal 0"),
                    failed.errno
                );
                match items.iter_mut().find_map(|item| match item {
                    Item::Failed(text, count) if *text == line => Some(count),
                    _ => None,
                }) {
                    Some(count) => *count += 1,
                    None => items.push(Item::Failed(line, 1)),
                }
            }
        }
        items.extend(self.task(id).children.iter().map(|&c| Item::Process(c)));
        items
    }

    /// Threads that would print the same line apart from their tid.
    fn thread_signature(&self, id: TaskId) -> String {
        let task = self.task(id);
        let call = task.create.as_ref().map(short_call).unwrap_or_default();
        let creator = task.creator.map(|c| self.task(c).tid).unwrap_or(0);
        let special = task.exec_took_over
            || task
                .creator
                .is_some_and(|c| self.task(c).tid != self.task(task.process).tid);
        format!(
            "{call}|{}|{}",
            self.exit_text(task),
            if special { creator } else { 0 }
        )
    }

    fn threads_line(&self, threads: &[TaskId]) -> String {
        let first = self.task(threads[0]);
        let tids: Vec<i32> = threads.iter().map(|&t| self.task(t).tid).collect();
        let label = match tids.len() {
            1 => format!("thread {}", tids[0]),
            n if n <= 6 => format!(
                "threads {}",
                tids.iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            n => format!("{n} threads {}…{}", tids[0], tids[n - 1]),
        };
        let mut line = label;
        if let Some(create) = &first.create {
            line.push_str(&format!("  {}", short_call(create)));
        }
        if let Some(creator) = first.creator {
            let creator = self.task(creator);
            if creator.tid != self.task(first.process).tid {
                line.push_str(&format!(" by thread {}", creator.tid));
            }
        }
        if first.exec_took_over {
            let process = self.task(first.process);
            let ended = process
                .execs
                .iter()
                .find(|e| e.old_pid == Some(first.tid) && !e.vanished.is_empty())
                .map(|e| {
                    let tids: Vec<String> = e.vanished.iter().map(|t| t.to_string()).collect();
                    format!(", ending threads {}", tids.join(", "))
                })
                .unwrap_or_default();
            return format!("{line}  exec'd and took over pid {}{ended}", process.tid);
        }
        format!("{line}  {}", self.exit_text(first))
    }

    fn pid_text(&self, task: &Task) -> String {
        let nspid = task.nspid().filter(|ns| ns.len() > 1);
        let text = match nspid {
            Some(ns) => ns
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("/")
                .to_string(),
            None => task.tid.to_string(),
        };
        if self.style.color {
            text.bold().to_string()
        } else {
            text
        }
    }

    /// A process's pid, with its pid in each nested PID namespace when it lives in one (`5123/1`).
    fn pid_as_seen(&self, pid: i32) -> String {
        self.model
            .last_task_of(pid)
            .and_then(|id| self.task(id).nspid())
            .filter(|ns| ns.len() > 1)
            .map(|ns| {
                ns.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_else(|| pid.to_string())
    }

    /// What the process ran: its exec'd program and arguments, or the image it inherited.
    fn program(&self, id: TaskId) -> String {
        let task = self.task(id);
        let mut shown: Vec<String> = Vec::new();
        if task.execs.is_empty()
            && let Some(name) = self.inherited_image(id)
        {
            shown.push(format!("(fork of {name})"));
        }
        for (n, exec) in task.execs.iter().enumerate() {
            if n + 1 == task.execs.len() {
                let mut words = vec![plain(&exec.path)];
                words.extend(exec.argv.iter().skip(1).map(|a| shell_word(a)));
                shown.push(words.join(" "));
            } else {
                shown.push(basename(&exec.path).to_string());
            }
        }
        if task.execs.is_empty() {
            if let Some(attach) = &task.attached {
                let mut words = vec![plain(attach.path.as_deref().unwrap_or("?"))];
                let args = attach.argv.iter().flatten().skip(1);
                words.extend(args.map(|a| shell_word(a)));
                return words.join(" ");
            }
            return shown.pop().unwrap_or_else(|| "?".into());
        }
        shown.join(" → ")
    }

    /// The program a process was running when it was created: its creator's image at that time.
    fn inherited_image(&self, id: TaskId) -> Option<String> {
        let task = self.task(id);
        let creator = self.task(task.creator?);
        let process = self.task(creator.process);
        let exec = process
            .execs
            .iter()
            .rev()
            .find(|e| e.time <= task.created_at)
            .map(|e| basename(&e.path).to_string());
        exec.or_else(|| self.inherited_image(creator.process))
    }

    fn exit_text(&self, task: &Task) -> String {
        let text = match &task.exit {
            Some(exit) => match (&exit.code, &exit.signal) {
                (Some(code), _) => format!("exit {code}"),
                (None, Some(signal)) if exit.core_dumped => {
                    format!("killed by {signal} (core dumped)")
                }
                (None, Some(signal)) => format!("killed by {signal}"),
                (None, None) => "exited".into(),
            },
            None => "running at end".into(),
        };
        if !self.style.color {
            return text;
        }
        match &task.exit {
            Some(exit) if exit.code == Some(0) => text.green().to_string(),
            Some(_) => text.red().to_string(),
            None => text.yellow().to_string(),
        }
    }

    /// `exit 3 · zombie 201 ms · reaped by 4312 (parent)`.
    fn process_outcome(&self, id: TaskId) -> String {
        let task = self.task(id);
        let mut parts = Vec::new();
        parts.push(self.exit_text(task));
        if let (Some(left), Some(exit)) = (task.leader_exited_at, &task.exit) {
            parts.push(format!(
                "leader left first, a zombie {} until its last thread ended",
                human_duration(exit.time - left)
            ));
        }
        if task.kind() != Kind::Thread
            && task
                .create
                .as_ref()
                .is_some_and(|c| c.exit_signal.as_deref() != Some("SIGCHLD"))
        {
            parts.push("no SIGCHLD to its parent".into());
        }
        for reparent in &task.reparents {
            parts.push(format!(
                "orphaned, adopted by {} ({})",
                self.pid_as_seen(reparent.to),
                super::live::relation_word(reparent.relation)
            ));
        }
        match &task.reap {
            Some(reap) => match reap.relation {
                Relation::Tracer => parts.push("reaped by clonetrace".into()),
                Relation::Auto => {
                    parts.push("auto-reaped, never a zombie (parent ignores SIGCHLD)".into())
                }
                relation => {
                    parts.push(format!("zombie {}", human_duration(reap.zombie_seconds)));
                    let who = if reap.reaper == self.tracer_pid {
                        "clonetrace".to_string()
                    } else {
                        self.pid_as_seen(reap.reaper)
                    };
                    let call = task
                        .reaped_by_wait
                        .as_ref()
                        .map(|w| {
                            let id = match &w.idtype {
                                Some(idtype) => format!("{idtype}, {}", w.id),
                                None => w.id.to_string(),
                            };
                            format!(", {}({id}, {})", w.syscall, join_flags(&w.options))
                        })
                        .unwrap_or_default();
                    parts.push(format!(
                        "reaped by {who} ({}{call})",
                        super::live::relation_word(relation)
                    ));
                }
            },
            None if task.is_unreaped_zombie() => {
                let parent = task
                    .current_parent_pid()
                    .map(|p| format!(" (parent {p})"))
                    .unwrap_or_default();
                parts.push(format!("still a zombie at the end{parent}"));
            }
            None => {}
        }
        let text = parts.join(" · ");
        if self.style.color {
            text.to_string()
        } else {
            text
        }
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// An argument as a reader would type it: quoted when it has spaces or is empty.
fn shell_word(arg: &str) -> String {
    let shown = plain(arg);
    let shown = if shown.chars().count() > 40 {
        format!("{}…", shown.chars().take(40).collect::<String>())
    } else {
        shown
    };
    if arg.is_empty() || arg.contains([' ', '\'', '"', '|', '&', ';']) {
        format!("'{}'", shown.replace('\'', "'\\''"))
    } else {
        shown
    }
}
