//! html: the whole trace as one self-contained web page, for a browser or a classroom projector:
//! the process tree (threads folded per process), a timeline drawn in inline SVG, the table of
//! creation calls, and every call's flags explained in plain words on hover or click. Nothing is
//! fetched: the CSS, the SVG and a few lines of script are inline, and without the script each
//! call is still a link to its explanation. Every piece of the trace goes through [`escape`].
//!
//! Written as it walks: the tree with an explicit stack (no recursion), the timeline one process
//! row at a time, each task visited a bounded number of times, so the cost is linear in the
//! trace. Pure: reads the model, writes text; the words come from the vocabulary.

use super::View;
use super::vocabulary::{self as words, Paint, Style};
use crate::event::{CloneFlags, Pid, Relation, Syscall};
use crate::model::{Model, Program, Shape, Stack, Task, TaskId, Under};
use std::collections::HashMap;
use std::io::{self, Write};

pub struct Html;

impl View for Html {
    /// The page has its own high-contrast palette, with patterns as well as colours so that it
    /// reads in greyscale: `style` changes nothing.
    fn write(&self, out: &mut dyn Write, model: &Model, _style: &Style) -> io::Result<()> {
        Page::new(model).write(out)
    }
}

/// Text made safe for HTML, in element content and in quoted attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An argument longer than this is cut with `…` in the tree.
const ARG_MAX: usize = 60;
/// A timeline row's label is cut to this many characters.
const LABEL_MAX: usize = 30;

/// Timeline geometry, in the SVG's own units (it scales to the page's width).
const SVG_WIDTH: f64 = 1240.0;
const LABEL_WIDTH: f64 = 330.0;
const PLOT_WIDTH: f64 = 880.0;
const AXIS_HEIGHT: f64 = 44.0;
const ROW_HEIGHT: f64 = 38.0;
const BAR_HEIGHT: f64 = 20.0;
/// The narrowest bar drawn, so a 10 µs zombie is still seen.
const MIN_BAR: f64 = 2.5;

struct Page<'m> {
    model: &'m Model,
    /// Each distinct call's number, in order of first appearance.
    call_of: HashMap<Shape, usize>,
    /// The distinct calls, and each one's short form, made once.
    calls: Vec<(Shape, String)>,
    tracer_pid: Pid,
    end: f64,
}

impl<'m> Page<'m> {
    fn new(model: &'m Model) -> Self {
        let mut call_of = HashMap::new();
        let mut calls = Vec::new();
        for create in model.tasks.iter().filter_map(|t| t.create.as_ref()) {
            let shape = Shape::of(create);
            call_of.entry(shape).or_insert_with(|| {
                calls.push((shape, words::short_shape(&shape)));
                calls.len() - 1
            });
        }
        Page {
            model,
            call_of,
            calls,
            tracer_pid: model.header.as_ref().map_or(0, |h| h.tracer_pid),
            end: model.end_time(),
        }
    }

    fn task(&self, id: TaskId) -> &'m Task {
        &self.model.tasks[id]
    }

    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.head(out)?;
        self.tree(out)?;
        self.timeline(out)?;
        self.summary(out)?;
        self.explanations(out)?;
        out.write_all(FOOT.as_bytes())
    }

    fn head(&self, out: &mut dyn Write) -> io::Result<()> {
        let title = self
            .model
            .header
            .as_ref()
            .map_or_else(|| "clonetrace".to_string(), |h| words::invocation(h, false));
        let processes = (0..self.model.tasks.len())
            .filter(|&id| self.task(id).process == id)
            .count();
        let threads = self.model.tasks.len() - processes;
        let mut facts = vec![
            words::counted(processes, "process", "processes"),
            words::counted(threads, "thread", "threads"),
            words::human_duration(self.end),
        ];
        if let Some(header) = &self.model.header {
            facts.push(format!("Linux {} {}", header.kernel, header.arch));
            facts.push(format!("clonetrace {}", header.version));
        }
        let title = escape(&title);
        writeln!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n\
             <h1>{title}</h1>\n<p class=\"facts\">{}</p>\n<nav><a href=\"#tree\">Tree</a> \
             <a href=\"#timeline\">Timeline</a> <a href=\"#summary\">Calls</a> \
             <a href=\"#calls\">What the flags mean</a></nav>\n</header>\n<main>",
            escape(&facts.join(" · "))
        )
    }

    // The tree.

    fn tree(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(
            b"<section id=\"tree\">\n<h2>Process tree</h2>\n<p class=\"hint\">Each process: \
              its pid, what it ran, the call that made it, how it ended. Point at a call, or \
              click it, to see what its flags mean.</p>\n<ul class=\"tree\">\n",
        )?;
        for &root in self.model.roots() {
            self.walk(out, root)?;
        }
        out.write_all(b"</ul>\n</section>\n")
    }

    /// Writes `root`'s node and everything under it, depth first, with an explicit stack of the
    /// lines still to write under each open process.
    fn walk(&self, out: &mut dyn Write, root: TaskId) -> io::Result<()> {
        let mut stack: Vec<(Vec<Under<'m>>, usize)> = Vec::new();
        self.open_process(out, root, &mut stack)?;
        while let Some((items, next)) = stack.last_mut() {
            let Some(item) = items.get(*next) else {
                stack.pop();
                out.write_all(b"</ul></li>\n")?;
                continue;
            };
            *next += 1;
            match item {
                Under::Namespaces(change) => writeln!(
                    out,
                    "<li class=\"namespaces\">{}</li>",
                    escape(&words::namespaces_change(change, self.model.tracer_pid()))
                )?,
                Under::IdMaps(maps) => writeln!(
                    out,
                    "<li class=\"namespaces\">{}</li>",
                    escape(&words::id_maps(maps))
                )?,
                Under::Cgroup(cgroup) => writeln!(
                    out,
                    "<li class=\"namespaces\">{}</li>",
                    escape(&words::cgroup(&cgroup.path))
                )?,
                Under::Threads(run) => self.threads_line(out, run)?,
                Under::Failed(failed, count) => {
                    let text = words::failed_call(failed);
                    let times = words::times(*count);
                    writeln!(
                        out,
                        "<li class=\"failed\"><span class=\"bad\">{}</span>{times}</li>",
                        escape(&text)
                    )?
                }
                &Under::Process(child) => self.open_process(out, child, &mut stack)?,
            }
        }
        Ok(())
    }

    /// A process's node; its list is left open (and its lines pushed) when it has any.
    fn open_process(
        &self,
        out: &mut dyn Write,
        id: TaskId,
        stack: &mut Vec<(Vec<Under<'m>>, usize)>,
    ) -> io::Result<()> {
        let task = self.task(id);
        write!(
            out,
            "<li class=\"process\" id=\"p-{id}\" data-pid=\"{}\"><div class=\"node\">\
             <span class=\"pid\">{}</span> <span class=\"program\">{}</span>",
            task.tid,
            escape(&words::pid_path(task.tid, task.nspid())),
            escape(&self.program(id))
        )?;
        if let Some(create) = &task.create {
            out.write_all(b" ")?;
            self.call_link(out, &Shape::of(create))?;
            if let Some(creator) = task.creator.map(|c| self.task(c)) {
                let by = if creator.tid != creator.tgid {
                    Some(words::by_thread(creator.tid))
                } else if task.parent != Some(creator.process) {
                    Some(words::by_clone_parent(creator.tid))
                } else {
                    None
                };
                if let Some(by) = by {
                    write!(out, " <span class=\"by\">{}</span>", escape(&by))?;
                }
            }
        } else if task.attached.is_some() {
            out.write_all(b" <span class=\"by\">attached</span>")?;
        }
        out.write_all(b" <span class=\"ends\">")?;
        self.process_outcome(out, id)?;
        out.write_all(b"</span></div>")?;
        let items = self.model.under(id);
        if items.is_empty() {
            out.write_all(b"</li>\n")
        } else {
            out.write_all(b"\n<ul>\n")?;
            stack.push((items, 0));
            Ok(())
        }
    }

    /// The call in short form, linked to its explanation.
    fn call_link(&self, out: &mut dyn Write, shape: &Shape) -> io::Result<()> {
        let n = self.call_of[shape];
        write!(
            out,
            "<a class=\"call\" href=\"#call-{n}\" data-call=\"{n}\">{}</a>",
            escape(&self.calls[n].1)
        )
    }

    /// What the process ran: each exec'd program (the last with its arguments), or the image it
    /// inherited, or what it ran when clonetrace attached.
    fn program(&self, id: TaskId) -> String {
        let task = self.task(id);
        let Some((last, earlier)) = task.execs.split_last() else {
            return match self.model.program(id) {
                Some(program) if !program.inherited => words::program_line(&program, ARG_MAX),
                _ => words::inherited_name(self.model, id),
            };
        };
        let program = |exec: &'m crate::event::Exec| Program::from(exec);
        let mut shown: Vec<String> = earlier
            .iter()
            .map(|e| words::program_name(&program(e)))
            .collect();
        shown.push(words::program_line(&program(last), ARG_MAX));
        shown.join(" → ")
    }

    /// The tid of a thread's creator when it is not its process's main thread.
    fn special_creator(&self, task: &Task) -> Option<Pid> {
        let creator = self.task(task.creator?);
        (creator.tid != self.task(task.process).tid).then_some(creator.tid)
    }

    fn threads_line(&self, out: &mut dyn Write, run: &[TaskId]) -> io::Result<()> {
        let tids: Vec<Pid> = run.iter().map(|&t| self.task(t).tid).collect();
        let list: Vec<String> = tids.iter().map(|t| t.to_string()).collect();
        write!(
            out,
            "<li class=\"threads\" data-tids=\"{}\"><span class=\"tid\">{}</span>",
            list.join(" "),
            escape(&words::threads_label(&tids))
        )?;
        let first = self.task(run[0]);
        if let Some(create) = &first.create {
            out.write_all(b" ")?;
            self.call_link(out, &Shape::of(create))?;
        }
        if let Some(creator) = self.special_creator(first) {
            write!(
                out,
                " <span class=\"by\">{}</span>",
                escape(&words::by_thread(creator))
            )?;
        }
        out.write_all(b" ")?;
        self.outcome(out, run[0])?;
        out.write_all(b"</li>\n")
    }

    fn outcome(&self, out: &mut dyn Write, id: TaskId) -> io::Result<()> {
        let outcome = self.model.outcome(id);
        write!(
            out,
            "<span class=\"outcome {}\">{}</span>",
            class(words::outcome_paint(outcome)),
            escape(&words::outcome(outcome))
        )
    }

    /// A process's pid as seen from outside, with its namespace pids when it lives in one.
    fn pid_as_seen(&self, pid: Pid, task: Option<TaskId>) -> String {
        let nspid = task
            .or_else(|| self.model.last_task_of(pid))
            .and_then(|id| self.task(id).nspid());
        words::pid_path(pid, nspid)
    }

    /// `exit 3 · zombie 201 ms · reaped by 4312 (parent)`, as the tree view says it.
    fn process_outcome(&self, out: &mut dyn Write, id: TaskId) -> io::Result<()> {
        let task = self.task(id);
        self.outcome(out, id)?;
        let mut parts: Vec<(&str, String)> = Vec::new();
        if let (Some(left), Some(exit)) = (task.leader_exited_at, &task.exit) {
            parts.push(("life", words::leader_left_first(exit.time - left)));
        }
        if task.create.as_ref().is_some_and(words::lacks_sigchld) {
            parts.push(("life", words::NO_SIGCHLD.into()));
        }
        for reparent in &task.reparents {
            let adopter = self.model.process_of_pid_at(reparent.to, reparent.time);
            let who = self.pid_as_seen(reparent.to, adopter);
            parts.push(("life", words::adopted_by(&who, reparent.relation)));
        }
        match (&task.reap, self.model.reaper(id)) {
            (Some(reap), Some((reaper, relation, reaper_task))) => match relation {
                Relation::Tracer => parts.push(("reap", words::REAPED_BY_CLONETRACE.into())),
                Relation::Auto => parts.push(("reap", words::AUTO_REAPED.into())),
                relation => {
                    parts.push(("zombie", words::zombie_time(reap.zombie_seconds)));
                    let who = if reaper == self.tracer_pid {
                        "clonetrace".to_string()
                    } else {
                        self.pid_as_seen(reaper, reaper_task)
                    };
                    let wait = task.reaped_by_wait.as_ref();
                    parts.push(("reap", words::reaped_by(&who, relation, wait)));
                }
            },
            _ if task.is_unreaped_zombie() => parts.push((
                "zombie bad",
                words::still_a_zombie(task.current_parent_pid()),
            )),
            _ => {}
        }
        for (class, text) in parts {
            write!(
                out,
                "<span class=\"sep\"> · </span><span class=\"{class}\">{}</span>",
                escape(&text)
            )?;
        }
        Ok(())
    }

    // The timeline.

    /// Seconds since the start to the timeline's x.
    fn x(&self, time: f64) -> f64 {
        let end = self.end.max(1e-9);
        LABEL_WIDTH + time.clamp(0.0, end) / end * PLOT_WIDTH
    }

    /// When a task stopped running: its exit, the leader leaving early, or the trace's end.
    fn stopped(&self, task: &Task) -> f64 {
        task.leader_exited_at
            .or(task.exit.as_ref().map(|e| e.time))
            .unwrap_or(self.end)
    }

    fn timeline(&self, out: &mut dyn Write) -> io::Result<()> {
        let rows = (0..self.model.tasks.len())
            .filter(|&id| self.task(id).process == id)
            .count();
        let height = AXIS_HEIGHT + rows as f64 * ROW_HEIGHT + 10.0;
        writeln!(
            out,
            "<section id=\"timeline\">\n<h2>Timeline</h2>\n<p class=\"legend\">\
             <span><i class=\"swatch run\"></i>running</span>\
             <span><i class=\"swatch vfork\"></i>{}</span>\
             <span><i class=\"swatch zombie\"></i>zombie until reaped</span>\
             <span><i class=\"swatch gone\"></i>leader gone, threads run</span>\
             <span>▲ exec</span><span>● signal</span><span>✕ killed</span>\
             <span>┃ reaped</span><span>━ a thread</span></p>\n\
             <svg class=\"timeline\" viewBox=\"0 0 {SVG_WIDTH} {height}\" role=\"img\" \
             aria-label=\"Timeline: one row per process\">\n{SVG_DEFS}",
            words::BLOCKED_IN_VFORK
        )?;
        for n in 0..=4 {
            let time = self.end * f64::from(n) / 4.0;
            let x = self.x(time);
            let label = if n == 0 {
                "0".to_string()
            } else {
                words::human_duration(time)
            };
            let anchor = if n == 4 { "end" } else { "middle" };
            writeln!(
                out,
                "<line class=\"grid\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{height}\"/>\
                 <text x=\"{x:.1}\" y=\"24\" text-anchor=\"{anchor}\">{}</text>",
                AXIS_HEIGHT - 10.0,
                escape(&label)
            )?;
        }
        let mut row_of = vec![usize::MAX; self.model.tasks.len()];
        let mut row = 0;
        for id in 0..self.model.tasks.len() {
            if self.task(id).process == id {
                row_of[id] = row;
                self.row(out, id, row, &row_of)?;
                row += 1;
            }
        }
        out.write_all(b"</svg>\n</section>\n")
    }

    /// One process's row: its running bar, its threads, its zombie time, its marks; and the
    /// vfork wait it caused on its creator's row.
    fn row(&self, out: &mut dyn Write, id: TaskId, row: usize, row_of: &[usize]) -> io::Result<()> {
        let task = self.task(id);
        let top = AXIS_HEIGHT + row as f64 * ROW_HEIGHT;
        let bar_y = top + (ROW_HEIGHT - BAR_HEIGHT) / 2.0 - 3.0;
        let pid = words::pid_path(task.tid, task.nspid());
        let name = match self.model.program(id) {
            Some(program) if !program.inherited => words::program_name(&program),
            _ => words::inherited_name(self.model, id),
        };
        writeln!(
            out,
            "<g class=\"row\" data-task=\"{id}\"><a href=\"#p-{id}\"><text x=\"6\" y=\"{:.1}\">\
             {}</text></a>",
            bar_y + BAR_HEIGHT - 4.0,
            escape(&words::cut(&format!("{pid} {name}"), LABEL_MAX))
        )?;
        let outcome = words::outcome(self.model.outcome(id));
        let stopped = self.stopped(task);
        self.bar(
            out,
            "run",
            "",
            task.created_at,
            stopped,
            bar_y,
            &format!("{pid} running · {outcome}"),
        )?;
        let exit_at = task.exit.as_ref().map(|e| e.time);
        if let Some(left) = task.leader_exited_at {
            let until = exit_at.unwrap_or(self.end);
            let text = words::leader_left_first(until - left);
            self.bar(out, "gone", "", left, until, bar_y, &text)?;
        }
        if let Some(exit) = exit_at {
            let zombie = match &task.reap {
                Some(reap) if reap.relation == Relation::Auto || reap.zombie_seconds <= 0.0 => None,
                Some(reap) => Some((
                    exit + reap.zombie_seconds,
                    words::zombie_time(reap.zombie_seconds),
                )),
                None => Some((self.end, words::STILL_A_ZOMBIE.to_string())),
            };
            if let Some((until, text)) = zombie {
                self.bar(out, "zombie", "url(#hatch)", exit, until, bar_y, &text)?;
                if task.reap.is_some() {
                    let x = self.x(until);
                    writeln!(
                        out,
                        "<line class=\"reap\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" \
                         y2=\"{:.1}\"><title>{}</title></line>",
                        bar_y - 4.0,
                        bar_y + BAR_HEIGHT + 4.0,
                        escape(&text)
                    )?;
                }
            }
            if task.exit.as_ref().is_some_and(|e| e.signal.is_some()) {
                let (x, y) = (self.x(exit), bar_y + BAR_HEIGHT / 2.0);
                writeln!(
                    out,
                    "<path class=\"killed\" d=\"M{:.1},{:.1}l12,12m0,-12l-12,12\">\
                     <title>{}</title></path>",
                    x - 6.0,
                    y - 6.0,
                    escape(&outcome)
                )?;
            }
        }
        for (n, thread) in self.model.threads_of(id).enumerate() {
            let thread_task = self.task(thread);
            if n > 0 {
                let y = bar_y + BAR_HEIGHT + 4.0;
                let (x1, x2) = (
                    self.x(thread_task.created_at),
                    self.x(self.stopped(thread_task)),
                );
                writeln!(
                    out,
                    "<line class=\"thread\" x1=\"{x1:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" \
                     y2=\"{y:.1}\"><title>{} · {}</title></line>",
                    x2.max(x1 + MIN_BAR),
                    escape(&words::threads_label(&[thread_task.tid])),
                    escape(&words::outcome(self.model.outcome(thread)))
                )?;
            }
            for &(time, signal) in &thread_task.signals {
                writeln!(
                    out,
                    "<circle class=\"signal\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\">\
                     <title>{} · signal {}</title></circle>",
                    self.x(time),
                    bar_y + BAR_HEIGHT / 2.0,
                    thread_task.tid,
                    escape(&signal.name())
                )?;
            }
        }
        for exec in &task.execs {
            let program = Program::from(exec);
            writeln!(
                out,
                "<path class=\"exec\" d=\"M{:.1},{:.1}l-7,-9h14z\"><title>exec {}</title></path>",
                self.x(exec.time),
                bar_y - 1.0,
                escape(&words::program_line(&program, ARG_MAX))
            )?;
        }
        if let (Some(create), Some(creator)) = (&task.create, task.creator) {
            let vfork =
                create.syscall == Syscall::Vfork || create.flags.contains(CloneFlags::VFORK);
            let creator_row = row_of[self.task(creator).process];
            if vfork && creator_row != usize::MAX {
                let released = task
                    .execs
                    .iter()
                    .map(|e| e.time)
                    .chain(exit_at)
                    .filter(|&t| t >= create.time)
                    .min_by(f64::total_cmp)
                    .unwrap_or(self.end);
                let y =
                    AXIS_HEIGHT + creator_row as f64 * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2.0
                        - 3.0;
                let text = format!(
                    "{} {} · child {} · {}",
                    self.task(creator).tid,
                    words::BLOCKED_IN_VFORK,
                    task.tid,
                    words::human_duration(released - create.time)
                );
                self.bar(out, "vfork", "url(#dots)", create.time, released, y, &text)?;
            }
        }
        out.write_all(b"</g>\n")
    }

    /// A bar from `from` to `to` on the row whose bars start at `y`, with a tooltip.
    #[allow(clippy::too_many_arguments)]
    fn bar(
        &self,
        out: &mut dyn Write,
        class: &str,
        fill: &str,
        from: f64,
        to: f64,
        y: f64,
        title: &str,
    ) -> io::Result<()> {
        let x = self.x(from);
        let width = (self.x(to) - x).max(MIN_BAR);
        let fill = if fill.is_empty() {
            String::new()
        } else {
            format!(" fill=\"{fill}\"")
        };
        writeln!(
            out,
            "<rect class=\"{class}\"{fill} x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" \
             height=\"{BAR_HEIGHT}\"><title>{}</title></rect>",
            escape(title)
        )
    }

    // The summary and the explanations.

    fn summary(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"<section id=\"summary\">\n<h2>Creation calls, grouped</h2>\n")?;
        let groups = self.model.groups();
        if groups.is_empty() {
            return writeln!(out, "<p>{}</p>\n</section>", escape(words::NOTHING_CREATED));
        }
        out.write_all(
            b"<table>\n<thead><tr><th>calls</th><th>role</th><th>program</th><th>syscall</th>\
              <th>signal</th><th>stack</th><th>flags</th></tr></thead>\n<tbody>\n",
        )?;
        for group in &groups {
            let n = self.call_of[&group.shape];
            let flags: Vec<String> = words::flags_cell(&group.shape)
                .iter()
                .map(|f| escape(f))
                .collect();
            writeln!(
                out,
                "<tr><td class=\"num\">{}</td><td class=\"kind\">{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td><a class=\"call\" href=\"#call-{n}\" \
                 data-call=\"{n}\">{}</a></td></tr>",
                group.count,
                words::kind_word(group.shape.kind),
                escape(&group.program.map_or_else(|| "?".into(), words::plain)),
                group.shape.syscall.name(),
                escape(&words::exit_signal_cell(&group.shape)),
                escape(&words::stack_cell(&group.shape)),
                flags.join("|<wbr>")
            )?;
        }
        writeln!(
            out,
            "</tbody>\n</table>\n<p>{}</p>\n</section>",
            escape(&words::creation_totals(&groups))
        )
    }

    /// Each distinct call once, every flag and its exit signal in plain words: the targets of
    /// the call links, and what the script shows on hover.
    fn explanations(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"<section id=\"calls\">\n<h2>What the flags mean</h2>\n")?;
        for (n, (shape, short)) in self.calls.iter().enumerate() {
            write!(
                out,
                "<div class=\"call-doc\" id=\"call-{n}\"><h3><code>{}</code> <span \
                 class=\"kind\">{}</span></h3><dl>",
                escape(short),
                words::kind_phrase(shape.kind)
            )?;
            for (word, meaning) in words::call_meanings(shape) {
                write!(
                    out,
                    "<dt><code>{}</code></dt><dd>{}</dd>",
                    escape(&word),
                    escape(meaning)
                )?;
            }
            if let Stack::Size(size) = shape.stack {
                write!(
                    out,
                    "<dt><code>stack {}</code></dt><dd>{}</dd>",
                    escape(&words::human_size(size)),
                    escape(crate::decode::flags::STACK_SIZE_MEANING)
                )?;
            }
            out.write_all(b"</dl></div>\n")?;
        }
        out.write_all(b"</section>\n")
    }
}

/// The CSS class of a palette colour.
fn class(paint: Paint) -> &'static str {
    match paint {
        Paint::Good => "good",
        Paint::Bad => "bad",
        _ => "life",
    }
}

/// Large type and strong contrast for a projector; patterns as well as colours.
const CSS: &str = r#"
:root{--fg:#111;--bg:#fff;--muted:#3a3a3a;--good:#0f5a16;--bad:#a4001d;--life:#6b4400;--link:#0a3a8c}
*{box-sizing:border-box}
body{margin:0;padding:1rem 2rem 4rem;font:22px/1.45 system-ui,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
h1{font:700 1.35rem/1.3 ui-monospace,"DejaVu Sans Mono",Menlo,monospace;margin:.3rem 0;overflow-wrap:anywhere}
h2{font-size:1.4rem;margin:2rem 0 .5rem;border-bottom:3px solid var(--fg)}
h3{font-size:1.1rem;margin:.2rem 0;overflow-wrap:anywhere}
nav a{margin-right:1.2rem;font-weight:700;color:var(--link)}
.facts,.hint{color:var(--muted);margin:.2rem 0 .5rem}
code,.pid,.program,.call,.tid{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:1em}
.program{overflow-wrap:anywhere}
ul.tree,ul.tree ul{list-style:none;margin:0;padding:0}
ul.tree ul{margin-left:.9rem;padding-left:1.3rem;border-left:3px solid #777}
ul.tree li{margin:.3rem 0}
.node{padding:.05rem .3rem}
.pid{font-weight:800}
.threads{color:#222}
a.call{color:var(--link);text-decoration:underline dotted 2px;cursor:help}
.good{color:var(--good);font-weight:700}
.bad{color:var(--bad);font-weight:700}
.life,.reap,.by{color:var(--life)}
.zombie{color:var(--bad)}
.sep{color:var(--muted)}
li.process:target>.node{outline:4px solid var(--link);background:#eef3ff}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:2px solid #333;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#e8e8e8}
td.num{text-align:right;font-weight:700}
td a.call{overflow-wrap:anywhere}
.call-doc{margin:.8rem 0 1.2rem;scroll-margin-top:1rem}
.call-doc:target{outline:4px solid var(--link)}
.call-doc .kind{font-weight:400;color:var(--muted)}
dl{margin:.2rem 0}
dt{font-weight:700;margin-top:.35rem}
dd{margin:0 0 0 1.6rem}
.pop{position:fixed;z-index:10;max-width:min(42rem,94vw);max-height:80vh;overflow:auto;background:#fffbe0;color:#111;border:3px solid #111;padding:.5rem 1rem;box-shadow:0 6px 18px rgba(0,0,0,.35);font-size:20px}
.pop[hidden]{display:none}
.legend span{margin-right:1.3rem;white-space:nowrap}
.swatch{display:inline-block;width:2.2rem;height:1rem;vertical-align:middle;border:2px solid #111;margin-right:.35rem}
.swatch.run{background:#1f4fb5}
.swatch.zombie{background:repeating-linear-gradient(45deg,#a4001d 0 4px,#fde0e4 4px 8px)}
.swatch.vfork{background:radial-gradient(#b84300 30%,#ffe7cf 32%) 0 0/8px 8px}
.swatch.gone{background:#cfd3da}
svg.timeline{width:100%;height:auto;display:block}
svg text{font:18px ui-monospace,"DejaVu Sans Mono",Menlo,monospace;fill:#111}
svg a text{fill:var(--link)}
svg .grid{stroke:#bbb;stroke-width:1}
svg .run{fill:#1f4fb5}
svg .zombie,svg .vfork{stroke:#111;stroke-width:1.5}
svg .gone{fill:#cfd3da;stroke:#555}
svg .thread{stroke:#111;stroke-width:3}
svg .exec{fill:#111}
svg .signal{fill:#fff;stroke:#111;stroke-width:2.5}
svg .killed{stroke:#a4001d;stroke-width:3.5;fill:none}
svg .reap{stroke:#111;stroke-width:3.5}
svg g.row:hover text{font-weight:700}
"#;

/// The timeline's fill patterns: hatched zombies, dotted vfork waits.
const SVG_DEFS: &str = r##"<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#fde0e4"/><rect width="4" height="8" fill="#a4001d"/></pattern><pattern id="dots" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#ffe7cf"/><circle cx="4" cy="4" r="2.4" fill="#b84300"/></pattern></defs>"##;

/// The explanation popup and the script that fills it: a call's explanation shown on hover,
/// pinned on click, closed with Escape or a click elsewhere. Without the script, a call is a
/// link to its explanation. When done it marks the page ready and counts the process nodes.
const FOOT: &str = r#"</main>
<div id="pop" class="pop" role="tooltip" hidden></div>
<script>
(function () {
  var pop = document.getElementById("pop"), pinned = false;
  function callOf(e) { return e.target.closest ? e.target.closest("a.call") : null; }
  function show(a) {
    var doc = document.getElementById("call-" + a.getAttribute("data-call"));
    if (!doc) return;
    pop.replaceChildren.apply(pop, Array.prototype.map.call(doc.childNodes, function (n) { return n.cloneNode(true); }));
    pop.hidden = false;
    var r = a.getBoundingClientRect();
    var left = Math.max(8, Math.min(r.left, window.innerWidth - pop.offsetWidth - 8));
    var top = r.bottom + 8;
    if (top + pop.offsetHeight > window.innerHeight) top = Math.max(8, r.top - pop.offsetHeight - 8);
    pop.style.left = left + "px";
    pop.style.top = top + "px";
  }
  function hide() { pop.hidden = true; pinned = false; }
  document.addEventListener("mouseover", function (e) { var a = callOf(e); if (a && !pinned) show(a); });
  document.addEventListener("mouseout", function (e) { if (callOf(e) && !pinned) pop.hidden = true; });
  document.addEventListener("click", function (e) {
    var a = callOf(e);
    if (a) { e.preventDefault(); show(a); pinned = true; }
    else if (!pop.contains(e.target)) hide();
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
  document.body.dataset.processes = document.querySelectorAll("li.process").length;
  document.body.dataset.ready = "1";
})();
</script>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_markup_and_quotes_inert() {
        assert_eq!(
            escape(r#"<script>alert("x")</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(escape("it's a & b"), "it&#39;s a &amp; b");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("plain µs → text"), "plain µs → text");
    }

    #[test]
    fn the_trace_cannot_inject_markup() {
        use crate::event::{Create, Event, Exec, Kind, Signo};
        let events = [
            Event::Create(Create {
                time: 0.1,
                pid: 10,
                tgid: 10,
                syscall: Syscall::Clone,
                exit_signal: Some(Signo::SIGCHLD),
                child: 11,
                child_tgid: 11,
                parent: 10,
                kind: Kind::Process,
                ..Create::default()
            }),
            Event::Exec(Exec {
                time: 0.2,
                pid: 11,
                tgid: 11,
                path: "/tmp/<script>alert('x')</script>".into(),
                argv: vec!["a\"b".into(), "<img src=x>".into()],
                old_pid: None,
                nspid: None,
                vanished: vec![],
                unreadable: vec![],
                exe: None,
            }),
        ];
        let model = Model::from_events(&events);
        let mut page = Vec::new();
        Html.write(&mut page, &model, &Style::default()).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert_eq!(page.matches("<script").count(), 1, "only our own script");
        assert!(!page.contains("<img"));
        assert_eq!(page.matches("class=\"process\"").count(), 2);
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)"));
    }

    #[test]
    fn failed_calls_are_listed_under_their_process_counted() {
        use crate::event::{CreateFailed, Errno, Event};
        let failed = Event::CreateFailed(CreateFailed {
            time: 0.1,
            pid: 10,
            tgid: 10,
            syscall: Syscall::Clone,
            flags: CloneFlags(0),
            exit_signal: Some(crate::event::Signo::SIGCHLD),
            errno: Errno(libc::EAGAIN),
            unreadable: vec![],
            rlimit_nproc: None,
            user_tasks: None,
            cap_sys_admin: None,
        });
        let model = Model::from_events([&failed, &failed]);
        let mut page = Vec::new();
        Html.write(&mut page, &model, &Style::default()).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(
            page.contains("clone(0, SIGCHLD) failed: EAGAIN</span> ×2</li>"),
            "{page}"
        );
    }
}
