//! tree: the process tree at the end of a trace. One glance answers who made whom, with which
//! call, and how each task ended: exit, zombie time, reaper, adoption. Written line by line as it
//! walks (no recursion, nothing held but the path from the root), so its cost is linear in the
//! trace whatever its depth.

use super::View;
use super::vocabulary::{self as words, Paint, Style};
use crate::event::Relation;
use crate::model::{Model, Task, TaskId, Under};
use std::io::Write;

pub struct Tree;

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

/// An argument longer than this is cut with `…` in the tree.
const ARG_MAX: usize = 40;

/// Indentation stops growing past this many levels (a chain thousands deep would otherwise print
/// lines thousands of columns wide); deeper lines say their depth instead.
const INDENT_LEVELS: usize = 32;

/// A process whose lines are being written: what is under it, and how far we are.
struct Frame<'m> {
    items: Vec<Under<'m>>,
    next: usize,
    /// The indentation of the lines under it.
    indent: String,
}

impl View for Tree {
    fn write(&self, out: &mut dyn Write, model: &Model, style: &Style) -> std::io::Result<()> {
        let writer = TreeWriter {
            model,
            style,
            glyphs: if style.ascii { &ASCII } else { &UNICODE },
            tracer_pid: model.header.as_ref().map_or(0, |h| h.tracer_pid),
        };
        for &root in model.roots() {
            writer.walk(out, root)?;
        }
        if model.lost > 0 {
            // The eBPF engine's ring buffer overflowed: the tree above misses what those said.
            writeln!(
                out,
                "incomplete: {} record{} lost (kernel ring buffer full)",
                model.lost,
                if model.lost == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

struct TreeWriter<'m> {
    model: &'m Model,
    style: &'m Style,
    glyphs: &'m Glyphs,
    tracer_pid: i32,
}

impl TreeWriter<'_> {
    fn task(&self, id: TaskId) -> &Task {
        &self.model.tasks[id]
    }

    /// Writes one line of the tree; wrapped (with `continuation` before each further line) when
    /// the style has a width.
    fn line(&self, out: &mut dyn Write, text: &str, continuation: &str) -> std::io::Result<()> {
        // A plain terminal gets plain characters for our own symbols too.
        let text = if self.style.ascii {
            words::to_ascii(text)
        } else {
            text.to_string()
        };
        match self.style.width {
            Some(width) => {
                let indent = format!("{continuation}    ");
                writeln!(
                    out,
                    "{}",
                    words::wrap_line(&text, width, &indent).join("\n")
                )
            }
            None => writeln!(out, "{text}"),
        }
    }

    /// Writes `root`'s line and everything under it, depth first, with an explicit stack.
    fn walk(&self, out: &mut dyn Write, root: TaskId) -> std::io::Result<()> {
        self.line(out, &self.head(root), "")?;
        let mut stack = vec![Frame {
            items: self.model.under(root),
            next: 0,
            indent: String::new(),
        }];
        while let Some(depth) = stack.len().checked_sub(1) {
            let frame = &mut stack[depth];
            let Some(item) = frame.items.get(frame.next) else {
                stack.pop();
                continue;
            };
            frame.next += 1;
            let last = frame.next == frame.items.len();
            let glyph = if last {
                self.glyphs.last
            } else {
                self.glyphs.branch
            };
            let lead = format!("{}{glyph}", frame.indent);
            let under = if last {
                self.glyphs.space
            } else {
                self.glyphs.pipe
            };
            let continuation = format!("{}{under}", frame.indent);
            match item {
                Under::Namespaces(change) => self.line(
                    out,
                    &format!(
                        "{lead}{}",
                        self.style.paint(
                            &words::namespaces_change(change, self.model.tracer_pid()),
                            Paint::Kind
                        )
                    ),
                    &continuation,
                )?,
                Under::IdMaps(maps) => self.line(
                    out,
                    &format!(
                        "{lead}{}",
                        self.style.paint(&words::id_maps(maps), Paint::Kind)
                    ),
                    &continuation,
                )?,
                Under::Cgroup(cgroup) => self.line(
                    out,
                    &format!(
                        "{lead}{}",
                        self.style.paint(&words::cgroup(&cgroup.path), Paint::Kind)
                    ),
                    &continuation,
                )?,
                Under::Threads(threads) => self.line(
                    out,
                    &format!("{lead}{}", self.threads_line(threads)),
                    &continuation,
                )?,
                Under::Failed(failed, count) => {
                    let text = words::failed_call(failed);
                    let times = words::times(*count);
                    self.line(out, &format!("{lead}{text}{times}"), &continuation)?
                }
                &Under::Process(child) => {
                    // The child's depth below the root.
                    let depth = depth + 1;
                    let (lead, indent) = if depth < INDENT_LEVELS {
                        (lead, continuation)
                    } else {
                        // Deep down, every level is drawn at the same column, marked by depth.
                        let indent = frame.indent.clone();
                        (format!("{lead}[depth {depth}] "), indent)
                    };
                    self.line(out, &format!("{lead}{}", self.head(child)), &indent)?;
                    stack.push(Frame {
                        items: self.model.under(child),
                        next: 0,
                        indent,
                    });
                }
            }
        }
        Ok(())
    }

    /// A process's own line: pid, program, the call that made it, how it ended.
    fn head(&self, id: TaskId) -> String {
        let task = self.task(id);
        let mut head = format!("{} {}", self.pid_text(task), self.program(id));
        if let Some(create) = &task.create {
            head.push_str(&format!("  {}", words::short_call(create)));
            head.push_str(&explained(create));
            if let Some(creator) = task.creator {
                let creator_task = self.task(creator);
                if creator_task.tid != creator_task.tgid {
                    head.push_str(&format!(" {}", words::by_thread(creator_task.tid)));
                } else if task.parent != Some(creator_task.process) {
                    head.push_str(&format!(" {}", words::by_clone_parent(creator_task.tid)));
                }
            }
        } else if task.attached.is_some() {
            head.push_str("  attached");
        }
        // The traced command needs no note: "reaped by clonetrace" says whose child it is.
        format!("{head}  {}", self.process_outcome(id))
    }

    fn threads_line(&self, threads: &[TaskId]) -> String {
        let first_id = threads[0];
        let first = self.task(first_id);
        let tids: Vec<i32> = threads.iter().map(|&t| self.task(t).tid).collect();
        let mut line = words::threads_label(&tids);
        if let Some(create) = &first.create {
            line.push_str(&format!("  {}", words::short_call(create)));
            line.push_str(&explained(create));
        }
        if let Some(creator) = first.creator {
            let creator = self.task(creator);
            if creator.tid != self.task(first.process).tid {
                line.push_str(&format!(" {}", words::by_thread(creator.tid)));
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
            return format!("{line}  {}{ended}", words::took_over(process.tid));
        }
        let mut end = self.exit_text(first_id);
        if let Some(used) = self.stack_used(threads) {
            end.push_str(&format!(" · {used}"));
        }
        format!("{line}  {end}")
    }

    /// `--stack-usage`: how much stack the tasks used: `used 12 KiB of 8 MiB stack`, or for
    /// several threads the least and the most.
    fn stack_used(&self, tasks: &[TaskId]) -> Option<String> {
        let measured: Vec<(u64, Option<u64>)> = tasks
            .iter()
            .filter_map(|&t| {
                let exit = self.task(t).exit.as_ref()?;
                Some((exit.stack_used?, exit.stack_size))
            })
            .collect();
        let (least, most) = (
            measured.iter().min_by_key(|m| m.0)?,
            measured.iter().max_by_key(|m| m.0)?,
        );
        if least.0 == most.0 {
            return words::stack_used_phrase(Some(most.0), most.1);
        }
        let low = words::human_size(least.0);
        words::stack_used_phrase(Some(most.0), most.1)
            .map(|t| t.replacen("used ", &format!("used {low} to "), 1))
    }

    fn pid_text(&self, task: &Task) -> String {
        let text = match task.nspid().filter(|ns| ns.len() > 1) {
            Some(ns) => join_pids(ns),
            None => task.tid.to_string(),
        };
        self.style.paint(&text, Paint::Strong)
    }

    /// A process's pid, with its pid in each nested PID namespace when it lives in one (`5123/1`).
    fn pid_as_seen(&self, pid: i32, task: Option<TaskId>) -> String {
        task.or_else(|| self.model.last_task_of(pid))
            .and_then(|id| self.task(id).nspid())
            .filter(|ns| ns.len() > 1)
            .map(join_pids)
            .unwrap_or_else(|| pid.to_string())
    }

    /// What the process ran: each exec'd program (the last with its arguments), or the image it
    /// inherited, or what it ran when clonetrace attached.
    fn program(&self, id: TaskId) -> String {
        let task = self.task(id);
        if task.execs.is_empty() {
            return match self.model.program(id) {
                Some(program) if !program.inherited => words::program_line(&program, ARG_MAX),
                _ => words::inherited_name(self.model, id),
            };
        }
        let mut shown: Vec<String> = Vec::new();
        for (n, exec) in task.execs.iter().enumerate() {
            let program = exec.into();
            if n + 1 == task.execs.len() {
                shown.push(words::program_line(&program, ARG_MAX));
            } else {
                shown.push(words::program_name(&program));
            }
        }
        shown.join(" → ")
    }

    fn exit_text(&self, id: TaskId) -> String {
        let outcome = self.model.outcome(id);
        self.style
            .paint(&words::outcome(outcome), words::outcome_paint(outcome))
    }

    /// `exit 3 · zombie 201 ms · reaped by 4312 (parent)`.
    fn process_outcome(&self, id: TaskId) -> String {
        let task = self.task(id);
        let mut parts = vec![self.exit_text(id)];
        if let Some(used) = self.stack_used(&[id]) {
            parts.push(used);
        }
        if let (Some(left), Some(exit)) = (task.leader_exited_at, &task.exit) {
            parts.push(words::leader_left_first(exit.time - left));
        }
        if task.create.as_ref().is_some_and(words::lacks_sigchld) {
            parts.push(words::NO_SIGCHLD.into());
        }
        for reparent in &task.reparents {
            let adopter = self.model.process_of_pid_at(reparent.to, reparent.time);
            parts.push(words::adopted_by(
                &self.pid_as_seen(reparent.to, adopter),
                reparent.relation,
            ));
        }
        match (&task.reap, self.model.reaper(id)) {
            (Some(reap), Some((reaper, relation, reaper_task))) => match relation {
                Relation::Tracer => parts.push(words::REAPED_BY_CLONETRACE.into()),
                Relation::Auto => parts.push(words::AUTO_REAPED.into()),
                relation => {
                    parts.push(words::zombie_time(reap.zombie_seconds));
                    let who = if reaper == self.tracer_pid {
                        "clonetrace".to_string()
                    } else {
                        self.pid_as_seen(reaper, reaper_task)
                    };
                    parts.push(words::reaped_by(
                        &who,
                        relation,
                        task.reaped_by_wait.as_ref(),
                    ));
                }
            },
            _ if task.is_unreaped_zombie() => {
                parts.push(words::still_a_zombie(task.current_parent_pid()));
            }
            _ => {}
        }
        parts.join(" · ")
    }
}

/// What the record explains about a call beyond its arguments: `  via glibc fork()`, and
/// where its stack lies.
fn explained(create: &crate::event::Create) -> String {
    let mut text = String::new();
    if let Some(via) = words::via_phrase(create.via) {
        text.push_str(&format!("  {via}"));
    }
    if let Some(region) = words::stack_region_phrase(create) {
        text.push_str(&format!(", stack {region}"));
    }
    text
}

fn join_pids(pids: &[i32]) -> String {
    pids.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("/")
}
