//! summary: a table of creation calls grouped by program, syscall, flag set, exit signal and
//! stack, with counts: how a runtime creates its processes and threads. Also the grouping that
//! `compare` and the graph views share (roles, call shapes, the program running at a time).
//! Pure: reads the model, writes text.

use super::{human_size, plain};
use crate::decode::flags::short_flag_name;
use crate::event::{Create, Header, Kind};
use crate::model::{Model, TaskId};
use owo_colors::OwoColorize;
use std::io::Write;

/// The width the table aims to fit.
const WIDTH: usize = 80;
/// Program names longer than this are cut with `…`.
const PROGRAM_MAX: usize = 20;

/// What a creation call made, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A thread (`CLONE_THREAD`).
    Thread,
    /// A process sharing its creator's memory until it execs: vfork, posix_spawn.
    Spawn,
    /// A process with its own copy of memory: fork and its clone equivalents.
    Fork,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Thread, Role::Spawn, Role::Fork];

    pub fn of(kind: Kind) -> Role {
        match kind {
            Kind::Thread => Role::Thread,
            Kind::VmShared => Role::Spawn,
            Kind::Process => Role::Fork,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Role::Thread => "thread",
            Role::Spawn => "spawn",
            Role::Fork => "fork",
        }
    }

    fn plural(self, count: usize) -> String {
        let word = match (self, count) {
            (_, 1) => self.word(),
            (Role::Thread, _) => "threads",
            (Role::Spawn, _) => "spawns",
            (Role::Fork, _) => "forks",
        };
        format!("{count} {word}")
    }
}

/// The stack a creation call gave the new task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stack {
    /// None: the child runs on (a copy of) its creator's stack.
    Inherited,
    /// A stack pointer without a size (clone(2) has no size argument).
    Pointer,
    /// clone3's `stack_size`.
    Size(u64),
}

impl Stack {
    pub fn of(create: &Create) -> Stack {
        match create.stack_size {
            Some(size) if size > 0 => Stack::Size(size),
            _ if create.stack != 0 => Stack::Pointer,
            _ => Stack::Inherited,
        }
    }

    pub fn text(self) -> String {
        match self {
            Stack::Inherited => "-".into(),
            Stack::Pointer => "set".into(),
            Stack::Size(size) => human_size(size),
        }
    }
}

/// Everything about a creation call that says how it was made, apart from who made it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape {
    pub role: Role,
    pub syscall: String,
    /// Full `CLONE_*` names, in kernel bit order (so equal sets compare equal).
    pub flags: Vec<String>,
    pub exit_signal: Option<String>,
    pub stack: Stack,
}

impl Shape {
    pub fn of(create: &Create) -> Shape {
        Shape {
            role: Role::of(create.kind),
            syscall: create.syscall.clone(),
            flags: create.flags.clone(),
            exit_signal: create.exit_signal.clone(),
            stack: Stack::of(create),
        }
    }

    /// The flags in short form (`VM`, `VFORK`), `-` when there are none.
    pub fn short_flags(&self) -> Vec<&str> {
        if self.flags.is_empty() {
            return vec!["-"];
        }
        self.flags.iter().map(|f| short_flag_name(f)).collect()
    }

    /// `SIGCHLD`; `-` for a thread (it has none by nature), `none` for a process without one.
    pub fn signal_text(&self) -> String {
        match (&self.exit_signal, self.role) {
            (Some(signal), _) => signal.clone(),
            (None, Role::Thread) => "-".into(),
            (None, _) => "none".into(),
        }
    }
}

/// One line of the summary: alike calls made from the same program.
#[derive(Debug, Clone)]
pub struct Group {
    pub program: String,
    pub shape: Shape,
    pub count: usize,
}

/// The creation calls of a trace grouped by (program, shape), most frequent first, ties in order
/// of first appearance.
pub fn groups(model: &Model) -> Vec<Group> {
    let mut creates: Vec<(TaskId, &Create)> = model
        .tasks
        .iter()
        .enumerate()
        .filter_map(|(id, task)| Some((id, task.create.as_ref()?)))
        .collect();
    // Tasks are pushed in creation order already; sort by time anyway so a stray late record
    // cannot reorder the table.
    creates.sort_by(|a, b| a.1.time.total_cmp(&b.1.time).then(a.0.cmp(&b.0)));
    let mut groups: Vec<Group> = Vec::new();
    for (id, create) in creates {
        let task = &model.tasks[id];
        let program = match task.creator {
            Some(creator) => program_at(model, model.tasks[creator].process, create.time),
            None => "?".into(),
        };
        let shape = Shape::of(create);
        match groups
            .iter_mut()
            .find(|g| g.program == program && g.shape == shape)
        {
            Some(group) => group.count += 1,
            None => groups.push(Group {
                program,
                shape,
                count: 1,
            }),
        }
    }
    // A stable sort keeps first appearance among equal counts.
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
}

/// The program a process was running at `time`: the base name of its last exec by then, or,
/// before any exec, the image it inherited from its creator (or ran when clonetrace attached).
pub fn program_at(model: &Model, process: TaskId, time: f64) -> String {
    let mut process = process;
    let mut time = time;
    // Bounded by the number of tasks: each step goes to an earlier-created task.
    for _ in 0..=model.tasks.len() {
        let task = &model.tasks[process];
        if let Some(exec) = task.execs.iter().rev().find(|e| e.time <= time) {
            return plain(basename(&exec.path));
        }
        // Running before clonetrace attached: what /proc said it runs.
        if let Some(path) = task.attached.as_ref().and_then(|a| a.path.as_deref()) {
            return plain(basename(path));
        }
        match task.creator {
            Some(creator) => {
                time = task.created_at;
                process = model.tasks[creator].process;
            }
            None => break,
        }
    }
    "?".into()
}

pub fn basename(path: &str) -> &str {
    path.rsplit('/')
        .find(|part| !part.is_empty())
        .unwrap_or(path)
}

/// A command line as a reader would type it: control characters made visible, arguments with
/// spaces or shell punctuation in single quotes.
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| {
            let shown = plain(arg);
            if arg.is_empty() || arg.contains([' ', '\'', '"', '|', '&', ';', '<', '>', '$']) {
                format!("'{}'", shown.replace('\'', "'\\''"))
            } else {
                shown
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How the trace was started, as typed: `clonetrace -- sh -c 'ls | wc'`, or `clonetrace -p 42`
/// (an attach records its options as the command). With `short`, the program's base name.
pub fn invocation(header: &Header, short: bool) -> String {
    if header.command.first().is_some_and(|a| a.starts_with('-')) {
        return format!("clonetrace {}", plain(&header.command.join(" ")));
    }
    let mut argv = header.command.clone();
    if let Some(program) = argv.first_mut().filter(|_| short) {
        *program = basename(program).to_string();
    }
    format!("clonetrace -- {}", command_line(&argv))
}

/// Cuts `text` to `max` characters, ending in `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// Joins `parts` with `|` into lines of at most `width` characters, breaking after a `|` (a
/// single part longer than `width` gets a line of its own).
pub fn wrap_flags(parts: &[&str], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for (n, part) in parts.iter().enumerate() {
        let piece = if n + 1 < parts.len() {
            format!("{part}|")
        } else {
            part.to_string()
        };
        if !line.is_empty() && line.chars().count() + piece.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        line.push_str(&piece);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `5 creation calls: 3 threads, 1 spawn, 1 fork`.
pub fn totals(groups: &[Group]) -> String {
    let total: usize = groups.iter().map(|g| g.count).sum();
    let per_role: Vec<String> = Role::ALL
        .iter()
        .filter_map(|&role| {
            let count: usize = groups
                .iter()
                .filter(|g| g.shape.role == role)
                .map(|g| g.count)
                .sum();
            (count > 0).then(|| role.plural(count))
        })
        .collect();
    let calls = if total == 1 { "call" } else { "calls" };
    format!("{total} creation {calls}: {}", per_role.join(", "))
}

/// The role word, coloured by role when asked.
pub fn role_text(role: Role, width: usize, color: bool) -> String {
    let text = format!("{:<width$}", role.word());
    if !color {
        return text;
    }
    match role {
        Role::Thread => text.cyan().to_string(),
        Role::Spawn => text.yellow().to_string(),
        Role::Fork => text.magenta().to_string(),
    }
}

pub fn write_summary(out: &mut dyn Write, model: &Model, color: bool) -> std::io::Result<()> {
    let groups = groups(model);
    if groups.is_empty() {
        return writeln!(out, "no process or thread was created");
    }
    let headers = [
        "calls", "role", "program", "syscall", "signal", "stack", "flags",
    ];
    let cells: Vec<[String; 6]> = groups
        .iter()
        .map(|g| {
            [
                g.count.to_string(),
                g.shape.role.word().to_string(),
                cut(&g.program, PROGRAM_MAX),
                g.shape.syscall.clone(),
                g.shape.signal_text(),
                g.shape.stack.text(),
            ]
        })
        .collect();
    let mut widths = [0usize; 6];
    for (column, width) in widths.iter_mut().enumerate() {
        *width = cells
            .iter()
            .map(|row| row[column].chars().count())
            .chain([headers[column].len()])
            .max()
            .unwrap_or(0);
    }
    let indent: usize = widths.iter().map(|w| w + 2).sum();
    let flags_width = WIDTH.saturating_sub(indent).max(24);

    let header = format!(
        "{:>w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:<w4$}  {:<w5$}  {}",
        headers[0],
        headers[1],
        headers[2],
        headers[3],
        headers[4],
        headers[5],
        headers[6],
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2],
        w3 = widths[3],
        w4 = widths[4],
        w5 = widths[5],
    );
    if color {
        writeln!(out, "{}", header.bold())?;
    } else {
        writeln!(out, "{header}")?;
    }
    for (group, row) in groups.iter().zip(&cells) {
        let flags = wrap_flags(&group.shape.short_flags(), flags_width);
        let count = format!("{:>w$}", row[0], w = widths[0]);
        let count = if color {
            count.bold().to_string()
        } else {
            count
        };
        writeln!(
            out,
            "{count}  {}  {:<w2$}  {:<w3$}  {:<w4$}  {:<w5$}  {}",
            role_text(group.shape.role, widths[1], color),
            row[2],
            row[3],
            row[4],
            row[5],
            flags[0],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5],
        )?;
        for line in &flags[1..] {
            writeln!(out, "{:indent$}{line}", "")?;
        }
    }
    writeln!(out, "{}", totals(&groups))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_wrap_after_a_bar_within_the_width() {
        let parts = [
            "VM",
            "FS",
            "FILES",
            "SIGHAND",
            "THREAD",
            "SYSVSEM",
            "SETTLS",
            "PARENT_SETTID",
            "CHILD_CLEARTID",
        ];
        let lines = wrap_flags(&parts, 30);
        assert_eq!(
            lines,
            [
                "VM|FS|FILES|SIGHAND|THREAD|",
                "SYSVSEM|SETTLS|PARENT_SETTID|",
                "CHILD_CLEARTID"
            ]
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 30));
        assert_eq!(wrap_flags(&["-"], 10), ["-"]);
    }

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(basename("/usr/bin/true"), "true");
        assert_eq!(basename("true"), "true");
    }

    #[test]
    fn command_lines_quote_arguments_a_shell_would_split() {
        let argv = ["sh", "-c", "ls | wc", "it's"].map(String::from);
        assert_eq!(command_line(&argv), r#"sh -c 'ls | wc' 'it'\''s'"#);
    }
}
