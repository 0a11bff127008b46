//! vocabulary: the one place where the model's values become words and colours, so every view says
//! the same thing the same way: outcomes, relations, kinds, programs and argv, calls in short
//! form, sizes, durations, and the palette. Pure: values in, text out.

use crate::event::{
    CloneFlags, Create, CreateFailed, Frame, Header, IdMaps, Kind, Namespaces, NsKind, NsVia, Pid,
    RegionKind, Relation, Signo, Syscall, Via, Wait,
};
use crate::model::{Group, Model, Outcome, Problem, Program, Shape, Stack, TaskId, basename};
use owo_colors::OwoColorize;

/// How a view looks: colour or not, Unicode or plain ASCII, and, for a projector, the width
/// long lines are wrapped at (never cut).
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    pub ascii: bool,
    pub width: Option<usize>,
}

/// The palette: what each colour means, used by every view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// A syscall's name, a table header.
    Call,
    /// What a call made: thread, process.
    Kind,
    /// A clean exit.
    Good,
    /// A failure: non-zero exit, a killing signal, an errno.
    Bad,
    /// Lifecycle: zombies, reaps, adoptions, still running.
    Life,
    /// A delivered signal.
    Signal,
    /// Pids and other quiet context.
    Dim,
    /// Emphasis: a pid heading a tree line, a count.
    Strong,
    /// Kinds in tables, one colour each.
    Thread,
    Spawn,
    Fork,
}

impl Style {
    /// `text` in the colour of `paint`, or as is without colour.
    pub fn paint(&self, text: &str, paint: Paint) -> String {
        if !self.color {
            return text.to_string();
        }
        match paint {
            Paint::Call | Paint::Strong => text.bold().to_string(),
            Paint::Kind | Paint::Thread => text.cyan().to_string(),
            Paint::Good => text.green().to_string(),
            Paint::Bad => text.red().to_string(),
            Paint::Life | Paint::Spawn => text.yellow().to_string(),
            Paint::Signal | Paint::Fork => text.magenta().to_string(),
            Paint::Dim => text.dimmed().to_string(),
        }
    }
}

/// Quotes a string for display as strace does: printable text as is, quotes and control
/// characters escaped (so nothing raw reaches a terminal), cut at `max` characters with `...`.
pub fn quote(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 2);
    out.push('"');
    let mut truncated = false;
    for (count, c) in text.chars().enumerate() {
        if count >= max {
            truncated = true;
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if ('\u{80}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
    out
}

/// Escapes control characters in free text (program names), without quoting.
pub fn plain(text: &str) -> String {
    let quoted = quote(text, usize::MAX);
    quoted[1..quoted.len() - 1].replace("\\\"", "\"")
}

/// An argument as a reader would type it: control characters made visible, quoted in single
/// quotes when a shell would split or expand it.
pub fn shell_word(arg: &str) -> String {
    let shown = plain(arg);
    if arg.is_empty() || arg.contains([' ', '\'', '"', '|', '&', ';', '<', '>', '$']) {
        format!("'{}'", shown.replace('\'', "'\\''"))
    } else {
        shown
    }
}

/// A command line as a reader would type it.
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A program's name: the base name of its path, control characters made visible; a
/// multi-call binary run through a handle on itself is named with its applet (`busybox sleep`).
pub fn program_name(program: &Program) -> String {
    match (program.identity(), program.multi_call()) {
        ("", _) => format!("({UNREADABLE})"),
        (identity, Some(binary)) => format!("{} {}", plain(binary), plain(basename(identity))),
        (identity, None) => plain(basename(identity)),
    }
}

/// A program and its arguments: `/bin/sh -c 'ls | wc'`, each argument cut at `max_arg`
/// characters with `…`.
pub fn program_line(program: &Program, max_arg: usize) -> String {
    let mut words = vec![program_name_or_path(program)];
    words.extend(program.argv.iter().skip(1).map(|arg| {
        let word = shell_word(arg);
        if word.chars().count() > max_arg {
            format!("{}…", word.chars().take(max_arg).collect::<String>())
        } else {
            word
        }
    }));
    words.join(" ")
}

/// The path a program ran from, or `(unreadable)` when it could not be read.
fn program_name_or_path(program: &Program) -> String {
    match (program.identity(), program.multi_call()) {
        ("", _) => format!("({UNREADABLE})"),
        (identity, Some(binary)) => format!("{} {}", plain(binary), plain(identity)),
        (identity, None) => plain(identity),
    }
}

/// A process that never exec'd: `(fork of sh)`; `?` when even that is unknown.
pub fn inherited_name(model: &Model, id: TaskId) -> String {
    match model.creator_program(id) {
        Some(program) => format!("(fork of {})", program_name(&program)),
        None => "?".into(),
    }
}

/// How the trace was started, as typed: `clonetrace sh -c 'ls | wc'`, or `clonetrace -p 42`
/// (an attach records its options as the command); `--` only before a command named like a
/// subcommand. With `short`, the program's base name.
pub fn invocation(header: &Header, short: bool) -> String {
    if header.command.first().is_some_and(|a| a.starts_with('-')) {
        return format!("clonetrace {}", plain(&header.command.join(" ")));
    }
    let mut argv = header.command.clone();
    if let Some(program) = argv.first_mut().filter(|_| short) {
        *program = basename(program).to_string();
    }
    let subcommands = ["view", "compare", "demo", "completions", "man", "help"];
    let dashes = if argv
        .first()
        .is_some_and(|a| subcommands.contains(&a.as_str()))
    {
        "-- "
    } else {
        ""
    };
    format!("clonetrace {dashes}{}", command_line(&argv))
}

/// `exit 0`, `killed by SIGSEGV (core dumped)`, `running at end`.
pub fn outcome(outcome: Outcome) -> String {
    match outcome {
        Outcome::Exited(code) => format!("exit {code}"),
        Outcome::Killed {
            signal,
            core_dumped: true,
        } => format!("killed by {} (core dumped)", signal.name()),
        Outcome::Killed { signal, .. } => format!("killed by {}", signal.name()),
        Outcome::Ended => "exited".into(),
        Outcome::TookOver { pid } => took_over(pid),
        Outcome::Running => "running at end".into(),
    }
}

/// A thread that exec'd carries on as its process, under the process's pid.
pub fn took_over(pid: Pid) -> String {
    format!("exec'd and took over pid {pid}")
}

/// An exited process nobody reaped before the trace ended.
pub const STILL_A_ZOMBIE: &str = "still a zombie at the end";

/// How long a process stayed a zombie: `zombie 3.2 ms`.
pub fn zombie_time(seconds: f64) -> String {
    format!("zombie {}", human_duration(seconds))
}

/// A pid with its pid in each nested PID namespace when it lives in one: `5123/1`.
pub fn pid_path(pid: Pid, nspid: Option<&[Pid]>) -> String {
    match nspid.filter(|ns| ns.len() > 1) {
        Some(ns) => ns
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("/"),
        None => pid.to_string(),
    }
}

/// A wait call as strace shows it, without its result: `wait4(-1, …, __WALL)`,
/// `waitid(P_PID, 1003, …, WEXITED)`.
pub fn wait_call(wait: &Wait) -> String {
    let options = join_flags(&wait.options.names(wait.syscall));
    match wait.idtype {
        Some(idtype) => format!(
            "{}({}, {}, …, {options})",
            wait.syscall.name(),
            idtype.name(),
            wait.id
        ),
        None => format!("{}({}, …, {options})", wait.syscall.name(), wait.id),
    }
}

/// A creation call that failed: `clone3(VM|VFORK, SIGCHLD) failed: EAGAIN`.
pub fn failed_call(failed: &CreateFailed) -> String {
    if failed.unreadable.iter().any(|f| f == "clone3_args") {
        return format!(
            "{}({UNREADABLE} arguments) failed: {}",
            failed.syscall.name(),
            failed.errno.name()
        );
    }
    let signal = failed
        .exit_signal
        .map_or_else(|| "exit_signal 0".to_string(), |s| s.name());
    let mut text = format!(
        "{}({}, {signal}) failed: {}",
        failed.syscall.name(),
        join_flags(&short_flags(failed.flags)),
        failed.errno.name()
    );
    if let Some(reason) = failure_reason(failed) {
        text.push_str(&format!(" ({reason})"));
    }
    text
}

/// A call made by a thread other than its process's main one: `by thread 1234`.
pub fn by_thread(tid: Pid) -> String {
    format!("by thread {tid}")
}

/// A call whose child got the caller's parent as its own: `by 1234 (CLONE_PARENT)`.
pub fn by_clone_parent(pid: Pid) -> String {
    format!("by {pid} (CLONE_PARENT)")
}

/// A leader that left with pthread_exit before its threads ended.
pub fn leader_left_first(seconds: f64) -> String {
    format!(
        "leader left first, a zombie {} until its last thread ended",
        human_duration(seconds)
    )
}

/// A process created without SIGCHLD as its exit signal.
pub const NO_SIGCHLD: &str = "no SIGCHLD to its parent";

/// An orphan's adoption: `orphaned, adopted by 1 (init)`; `who` is the adopter's pid as shown.
pub fn adopted_by(who: &str, relation: Relation) -> String {
    format!("orphaned, adopted by {who} ({})", self::relation(relation))
}

/// The traced command, reaped by clonetrace itself.
pub const REAPED_BY_CLONETRACE: &str = "reaped by clonetrace";

/// A child of a parent that ignores SIGCHLD: the kernel reaps it at once.
pub const AUTO_REAPED: &str = "auto-reaped, never a zombie (parent ignores SIGCHLD)";

/// `reaped by 4312 (parent, wait4(-1, …, 0))`; `who` is the reaper's pid as shown.
pub fn reaped_by(who: &str, relation: Relation, wait: Option<&Wait>) -> String {
    let call = wait
        .map(|w| format!(", {}", wait_call(w)))
        .unwrap_or_default();
    format!("reaped by {who} ({}{call})", self::relation(relation))
}

/// `still a zombie at the end (parent 42)`.
pub fn still_a_zombie(parent: Option<Pid>) -> String {
    match parent {
        Some(parent) => format!("{STILL_A_ZOMBIE} (parent {parent})"),
        None => STILL_A_ZOMBIE.to_string(),
    }
}

/// A run of alike threads: `thread 12`, `threads 12, 13, 14`, `40 threads 12…51`.
pub fn threads_label(tids: &[Pid]) -> String {
    match tids.len() {
        0 => "no thread".into(),
        1 => format!("thread {}", tids[0]),
        n if n <= 6 => format!(
            "threads {}",
            tids.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        n => format!("{n} threads {}…{}", tids[0], tids[n - 1]),
    }
}

/// A creation call's flags and exit signal, each with what it means in plain words: (the word as
/// [`short_shape`] shows it, its sentence from `decode`'s table).
pub fn call_meanings(shape: &Shape) -> Vec<(String, &'static str)> {
    use crate::decode::flags as table;
    let mut meanings: Vec<(String, &'static str)> = Vec::new();
    match shape.syscall {
        Syscall::Fork => return vec![("fork()".into(), table::FORK_MEANING)],
        Syscall::Vfork => meanings.push(("vfork()".into(), table::VFORK_MEANING)),
        _ => {
            let mut rest = shape.flags.0;
            for &(bit, name) in table::CLONE_FLAGS {
                if rest & bit != 0 {
                    rest &= !bit;
                    let meaning = table::flag_meaning(bit).unwrap_or(table::UNKNOWN_FLAG_MEANING);
                    let short = name.strip_prefix("CLONE_").unwrap_or(name);
                    meanings.push((short.to_string(), meaning));
                }
            }
            if rest != 0 {
                meanings.push((format!("{rest:#x}"), table::UNKNOWN_FLAG_MEANING));
            }
            if shape.flags.0 == 0 {
                meanings.push(("0".into(), table::NO_FLAGS_MEANING));
            }
        }
    }
    meanings.push(match (shape.exit_signal, shape.kind) {
        (Some(Signo::SIGCHLD), _) => ("SIGCHLD".into(), table::EXIT_SIGCHLD_MEANING),
        (Some(signal), _) => (signal.name(), table::EXIT_OTHER_MEANING),
        (None, Kind::Thread) => ("no exit signal".into(), table::EXIT_NONE_THREAD_MEANING),
        (None, _) => ("exit_signal 0".into(), table::EXIT_NONE_PROCESS_MEANING),
    });
    meanings
}

/// What a reader is told about a record that does not fit.
pub fn problem(problem: Problem) -> &'static str {
    match problem {
        Problem::TimeBackwards => "its time goes back before an earlier record's",
        Problem::AbsurdNumber => "a pid of zero or below, or a size beyond 2^63",
        Problem::DuplicateTask => "a create of a task that is already alive; shown as a new task",
        Problem::UnknownTask => {
            "an event for a task no record introduced; shown as a task of its own"
        }
        Problem::AfterReap => "an exit or reap of a process already reaped",
    }
}

/// ` ×3` after something that happened three times; nothing when once.
pub fn times(count: usize) -> String {
    if count > 1 {
        format!(" ×{count}")
    } else {
        String::new()
    }
}

/// `1 other thread ends`, `3 other threads end`.
pub fn other_threads(count: usize) -> String {
    match count {
        1 => "its other thread ends".into(),
        n => format!("its {n} other threads end"),
    }
}

/// The colour of an outcome.
pub fn outcome_paint(outcome: Outcome) -> Paint {
    match outcome {
        Outcome::Exited(0) | Outcome::Ended | Outcome::TookOver { .. } => Paint::Good,
        Outcome::Exited(_) | Outcome::Killed { .. } => Paint::Bad,
        Outcome::Running => Paint::Life,
    }
}

/// Who a reaper or adopter is to the process: `parent`, `subreaper`, `init`, `clonetrace`,
/// `auto` (the kernel, because the parent ignores SIGCHLD).
pub fn relation(relation: Relation) -> &'static str {
    match relation {
        Relation::Parent => "parent",
        Relation::Subreaper => "subreaper",
        Relation::Init => "init",
        Relation::Tracer => "clonetrace",
        Relation::Auto => "auto",
    }
}

/// What a creation call made, in the live line's words.
pub fn kind_phrase(kind: Kind) -> &'static str {
    match kind {
        Kind::Thread => "thread",
        Kind::VmShared => "vm-shared process",
        Kind::Process => "process",
    }
}

/// The same, in one word for tables: `thread`, `spawn` (vm-shared until it execs), `fork`.
pub fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Thread => "thread",
        Kind::VmShared => "spawn",
        Kind::Process => "fork",
    }
}

/// `3 threads`, `1 spawn`.
pub fn kind_count(kind: Kind, count: usize) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {}{plural}", kind_word(kind))
}

/// `5 creation calls: 3 threads, 1 spawn, 1 fork`.
pub fn creation_totals(groups: &[Group]) -> String {
    let total: usize = groups.iter().map(|g| g.count).sum();
    let per_kind: Vec<String> = KINDS
        .iter()
        .filter_map(|&kind| {
            let count: usize = groups
                .iter()
                .filter(|g| g.shape.kind == kind)
                .map(|g| g.count)
                .sum();
            (count > 0).then(|| kind_count(kind, count))
        })
        .collect();
    let calls = if total == 1 { "call" } else { "calls" };
    format!("{total} creation {calls}: {}", per_kind.join(", "))
}

/// What a summary says of a trace that created nothing.
pub const NOTHING_CREATED: &str = "no process or thread was created";

/// A creator waiting for its vfork child to exec or exit.
pub const BLOCKED_IN_VFORK: &str = "blocked in vfork";

/// `1 process`, `3 threads`: a count and its noun.
pub fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The table order of kinds.
pub const KINDS: [Kind; 3] = [Kind::Thread, Kind::VmShared, Kind::Process];

/// The colour of a kind in tables.
pub fn kind_paint(kind: Kind) -> Paint {
    match kind {
        Kind::Thread => Paint::Thread,
        Kind::VmShared => Paint::Spawn,
        Kind::Process => Paint::Fork,
    }
}

/// `A|B|C`, or `0` for no flags, as strace prints a flags word.
pub fn join_flags(names: &[String]) -> String {
    if names.is_empty() {
        "0".to_string()
    } else {
        names.join("|")
    }
}

/// Clone flags' names and then an exit signal's, as [`join_flags`] joins them (`0` for none),
/// written where they are formatted: no string is made per flag (a live line per task).
pub struct JoinedFlags {
    pub flags: CloneFlags,
    pub signal: Option<Signo>,
}

impl std::fmt::Display for JoinedFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let mut any = false;
        for name in crate::decode::flags::clone_flag_names(self.flags.0) {
            if any {
                f.write_str("|")?;
            }
            write!(f, "{name}")?;
            any = true;
        }
        if let Some(signal) = self.signal {
            if any {
                f.write_str("|")?;
            }
            f.write_str(&signal.name())?;
            any = true;
        }
        if !any {
            f.write_str("0")?;
        }
        Ok(())
    }
}

/// The flags without their `CLONE_` prefix: `VM`, `VFORK`; empty for none.
pub fn short_flags(flags: CloneFlags) -> Vec<String> {
    flags
        .names()
        .into_iter()
        .map(|name| match name.strip_prefix("CLONE_") {
            Some(short) => short.to_string(),
            None => name,
        })
        .collect()
}

/// What a call shows when its arguments could not be read: never values that look like data.
pub const UNREADABLE: &str = "unreadable";

/// The flags for tables: short names, `-` when there are none.
pub fn flags_cell(shape: &Shape) -> Vec<String> {
    if !shape.readable {
        return vec![UNREADABLE.into()];
    }
    let names = short_flags(shape.flags);
    if names.is_empty() {
        vec!["-".into()]
    } else {
        names
    }
}

/// An exit signal for tables: `SIGCHLD`; `-` for a thread (it has none by nature), `none` for a
/// process without one.
pub fn exit_signal_cell(shape: &Shape) -> String {
    if !shape.readable {
        return "?".into();
    }
    match (shape.exit_signal, shape.kind) {
        (Some(signal), _) => signal.name(),
        (None, Kind::Thread) => "-".into(),
        (None, _) => "none".into(),
    }
}

/// A stack for tables: `-` inherited, `set` a pointer without size, else its size.
pub fn stack_cell(shape: &Shape) -> String {
    if !shape.readable {
        return "?".into();
    }
    match shape.stack {
        Stack::Inherited => "-".into(),
        Stack::Pointer => "set".into(),
        Stack::Size(size) => human_size(size),
    }
}

/// True when a process is created without SIGCHLD as its exit signal: its parent must wait with
/// `__WALL` or `__WCLONE`, and gets no SIGCHLD when it ends.
pub fn lacks_sigchld(create: &Create) -> bool {
    create.kind != Kind::Thread && create.exit_signal != Some(Signo::SIGCHLD)
}

/// The creation call in short form: `clone(CHILD_CLEARTID|CHILD_SETTID, SIGCHLD)`,
/// `clone3(VM|VFORK, SIGCHLD, stack 36 KiB)`, `fork()`.
pub fn short_call(create: &Create) -> String {
    short_shape(&Shape::of(create))
}

/// [`short_call`] of a call's shape.
pub fn short_shape(shape: &Shape) -> String {
    if !shape.syscall.has_arguments() && shape.syscall != Syscall::Unknown {
        return format!("{}()", shape.syscall.name());
    }
    if !shape.readable {
        return format!("{}({UNREADABLE} arguments)", shape.syscall.name());
    }
    let mut parts = vec![join_flags(&short_flags(shape.flags))];
    match (shape.exit_signal, shape.kind) {
        (Some(signal), _) => parts.push(signal.name()),
        (None, Kind::Thread) => {}
        (None, _) => parts.push("exit_signal 0".into()),
    }
    if let Stack::Size(size) = shape.stack {
        parts.push(format!("stack {}", human_size(size)));
    }
    format!("{}({})", shape.syscall.name(), parts.join(", "))
}

/// A size in bytes the way people say it: `36 KiB`, `8 MiB`, `1.5 KiB`, `512 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(u32, &str); 3] = [(30, "GiB"), (20, "MiB"), (10, "KiB")];
    for (shift, name) in UNITS {
        let unit = 1u64 << shift;
        if bytes >= unit {
            // One decimal at most: glibc's 8 MiB thread stack is 0x7fff80, 128 bytes short.
            if bytes >= 1 << f64::MANTISSA_DIGITS {
                let text = format!("{:.1}", bytes as f64 / unit as f64);
                return format!("{} {name}", text.trim_end_matches(".0"));
            }
            // In integers (a float's formatting costs thousands of instructions, on every
            // thread's live line), rounded as `{:.1}` rounds the exact quotient: to the
            // nearest tenth, a tie to the even one.
            let scaled = u128::from(bytes) * 10;
            let mut tenths = scaled >> shift;
            let (rest, half) = (scaled & u128::from(unit - 1), u128::from(unit / 2));
            if rest > half || (rest == half && tenths % 2 == 1) {
                tenths += 1;
            }
            return match (tenths / 10, tenths % 10) {
                (whole, 0) => format!("{whole} {name}"),
                (whole, tenth) => format!("{whole}.{tenth} {name}"),
            };
        }
    }
    format!("{bytes} B")
}

/// A duration in seconds the way people say it: `0.2 ms`, `301 ms`, `1.93 s`.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 0.000_001 {
        // The parent reaped it before we could look: no measurable zombie time.
        "<1 µs".to_string()
    } else if seconds < 0.001 {
        format!("{:.0} µs", seconds * 1e6)
    } else if seconds < 0.01 {
        format!("{:.1} ms", seconds * 1e3)
    } else if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
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
pub fn wrap_flags(parts: &[String], width: usize) -> Vec<String> {
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

/// Wraps `text` into lines of at most `width` visible characters (colour codes take no room),
/// breaking after `, `, `|` or a space; lines after the first start with `indent`. Nothing is
/// cut: a piece longer than a line gets a line of its own.
pub fn wrap_line(text: &str, width: usize, indent: &str) -> Vec<String> {
    let visible = |s: &str| {
        let mut count = 0;
        let mut in_escape = false;
        for c in s.chars() {
            match (in_escape, c) {
                (false, '\x1b') => in_escape = true,
                (true, c) if c.is_ascii_alphabetic() => in_escape = false,
                (true, _) => {}
                (false, _) => count += 1,
            }
        }
        count
    };
    if visible(text) <= width {
        return vec![text.to_string()];
    }
    let mut pieces: Vec<&str> = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        if c == '|' || c == ' ' {
            let end = at + c.len_utf8();
            pieces.push(&text[start..end]);
            start = end;
        }
    }
    pieces.push(&text[start..]);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in pieces {
        let budget = if lines.is_empty() {
            width
        } else {
            width.saturating_sub(visible(indent))
        };
        if !line.trim().is_empty() && visible(&line) + visible(piece.trim_end()) > budget {
            lines.push(line.trim_end().to_string());
            line = String::new();
        }
        if line.is_empty() && !lines.is_empty() {
            line.push_str(indent);
            line.push_str(piece.trim_start());
        } else {
            line.push_str(piece);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// The views' own non-ASCII symbols in plain characters, for `--ascii` (user data stays as is).
pub fn to_ascii(text: &str) -> String {
    text.replace(" · ", "; ")
        .replace('→', "->")
        .replace('…', "...")
        .replace('µ', "u")
        .replace('×', "x")
}

/// `a`, `a and b`, `a, b and c`.
fn listed(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Namespace kinds in prose: `ipc, mnt and uts namespaces and pid namespace for its children`.
fn namespace_kinds(kinds: &[NsKind]) -> String {
    let noun = |n: usize| if n == 1 { "namespace" } else { "namespaces" };
    let (own, children): (Vec<NsKind>, Vec<NsKind>) = kinds.iter().partition(|k| k.own() == **k);
    let names = |kinds: &[NsKind]| -> Vec<&str> { kinds.iter().map(|k| k.own().name()).collect() };
    let mut parts = Vec::new();
    if !own.is_empty() {
        parts.push(format!("{} {}", listed(&names(&own)), noun(own.len())));
    }
    if !children.is_empty() {
        parts.push(format!(
            "{} {} for its children",
            listed(&names(&children)),
            noun(children.len())
        ));
    }
    parts.join(" and ")
}

/// What a `namespaces` record says happened: `new mnt, net and uts namespaces (unshare)`,
/// `entered 4312's mnt and pid namespaces (setns)`; `tracer` is clonetrace's pid (a setns back
/// into its namespaces is named so).
pub fn namespaces_change(change: &Namespaces, tracer: Option<Pid>) -> String {
    let kinds = namespace_kinds(&change.new);
    match (change.via, change.from_pid) {
        (NsVia::Setns, Some(pid)) if Some(pid) == tracer => {
            format!("entered clonetrace's {kinds} (setns)")
        }
        (NsVia::Setns, Some(pid)) => format!("entered {pid}'s {kinds} (setns)"),
        (NsVia::Setns, None) => format!("entered an existing {kinds} (setns)"),
        (NsVia::Clone, _) => format!("new {kinds} (clone)"),
        (NsVia::Unshare, _) => format!("new {kinds} (unshare)"),
        (NsVia::Unknown, _) => {
            let article = if change.new.len() == 1 { "a " } else { "" };
            format!("in {article}new {kinds} (by unshare or setns; --syscalls shows which)")
        }
    }
}

/// How namespaces came, in one word: `clone`, `unshare`, `setns`, `unknown`.
pub fn via_word(via: NsVia) -> &'static str {
    match via {
        NsVia::Clone => "clone",
        NsVia::Unshare => "unshare",
        NsVia::Setns => "setns",
        NsVia::Unknown => "unknown",
    }
}

/// A user namespace's mappings: `uid 0 inside = 1000 outside; gid 0 inside = 1000 outside`.
pub fn id_maps(maps: &IdMaps) -> String {
    let ranges = |what: &str, map: &[[u64; 3]]| -> Vec<String> {
        map.iter()
            .map(|[inside, outside, count]| match count {
                1 => format!("{what} {inside} inside = {outside} outside"),
                n => format!(
                    "{what}s {inside}–{} inside = {outside}–{} outside",
                    inside + n - 1,
                    outside + n - 1
                ),
            })
            .collect()
    };
    let mut parts = ranges("uid", &maps.uid_map);
    parts.extend(ranges("gid", &maps.gid_map));
    if parts.is_empty() {
        "no uid or gid mapped".into()
    } else {
        parts.join("; ")
    }
}

/// A process's cgroup when it differs from its parent's.
pub fn cgroup(path: &str) -> String {
    format!("cgroup {}", plain(path))
}

// ---- explain: via, stacks, limits (issue 12) ----

/// The library call behind a creation, as people name it.
pub fn via_name(via: Via) -> &'static str {
    match via {
        Via::GlibcFork => "glibc fork()",
        Via::GlibcVfork => "glibc vfork()",
        Via::GlibcPosixSpawn => "glibc posix_spawn()",
        Via::GlibcSystem => "glibc system()",
        Via::GlibcPopen => "glibc popen()",
        Via::GlibcPthreadCreate => "glibc pthread_create()",
        Via::GlibcClone => "glibc clone()",
        Via::MuslFork => "musl fork()",
        Via::MuslVfork => "musl vfork()",
        Via::MuslPosixSpawn => "musl posix_spawn()",
        Via::MuslPthreadCreate => "musl pthread_create()",
        Via::MuslClone => "musl clone()",
        Via::GoRuntimeThread => "Go runtime thread (newosproc)",
        Via::GoExec => "Go os/exec (forkExec)",
        Via::PythonSubprocess => "CPython subprocess",
        Via::PythonFork => "CPython os.fork()",
        Via::LibuvSpawn => "libuv uv_spawn()",
        Via::RustCommand => "Rust std::process::Command",
        Via::RustThread => "Rust std::thread::spawn",
        Via::JvmThread => "JVM thread",
        Via::JvmProcess => "JVM ProcessBuilder (forkAndExec)",
        Via::Syscall => "a raw syscall",
    }
}

/// `via glibc fork()`, when the record says.
pub fn via_phrase(via: Option<Via>) -> Option<String> {
    via.map(|v| format!("via {}", via_name(v)))
}

/// glibc's default thread stack when RLIMIT_STACK is left alone.
const DEFAULT_RLIMIT_STACK: u64 = 8 << 20;

/// Where a creation's stack lies and what sized it: `on an 8 MiB mmap with a 4 KiB guard page,
/// sized by RLIMIT_STACK`, `in calls's .bss`, `on the main stack`.
pub fn stack_region_phrase(create: &Create) -> Option<String> {
    let region = create.stack_region.as_ref()?;
    let size = human_size(region.end.saturating_sub(region.start));
    let object = || {
        region
            .object
            .as_deref()
            .map_or_else(|| "?".to_string(), |o| basename(o).to_string())
    };
    let mut text = match region.kind {
        RegionKind::Mmap if region.guard > 0 => format!(
            "on an mmap of {size} with a guard page of {}",
            human_size(region.guard)
        ),
        RegionKind::Mmap => format!("on an mmap of {size}, no guard page"),
        RegionKind::Bss | RegionKind::Data => {
            let section = if region.kind == RegionKind::Bss {
                ".bss"
            } else {
                ".data"
            };
            match &region.variable {
                Some(variable) => format!("in {}'s {section}: {variable}[{size}]", object()),
                None => format!("in {}'s {section} (a static array)", object()),
            }
        }
        RegionKind::Heap => "on the heap".to_string(),
        RegionKind::MainStack => "on its creator's main stack".to_string(),
        RegionKind::File => format!("in a mapping of {}", object()),
        RegionKind::Unmapped => "at an unmapped address".to_string(),
    };
    // glibc sizes a default thread stack by the creator's RLIMIT_STACK soft limit.
    if let (Some(limit), Some(size)) = (create.rlimit_stack.and_then(|l| l.soft), create.stack_size)
        && create.via == Some(Via::GlibcPthreadCreate)
        && size.abs_diff(limit) <= 4096
    {
        text.push_str(", sized by RLIMIT_STACK");
        if limit != DEFAULT_RLIMIT_STACK {
            text.push_str(&format!(
                " {} (not the default {})",
                human_size(limit),
                human_size(DEFAULT_RLIMIT_STACK)
            ));
        }
    }
    Some(text)
}

/// `used 12 KiB of 8 MiB stack` (`--stack-usage`).
pub fn stack_used_phrase(used: Option<u64>, size: Option<u64>) -> Option<String> {
    let used = used?;
    Some(match size {
        Some(size) => format!("used {} of {} stack", human_size(used), human_size(size)),
        None => format!("used {} of stack", human_size(used)),
    })
}

/// What refused a failed creation, when the record says.
pub fn failure_reason(failed: &CreateFailed) -> Option<String> {
    let limit = |v: Option<u64>| v.map_or_else(|| "unlimited".to_string(), |v| v.to_string());
    match failed.errno.0 {
        libc::EAGAIN => {
            let nproc = failed.rlimit_nproc?;
            let tasks = failed
                .user_tasks
                .map(|n| format!(", its user runs {n} tasks"))
                .unwrap_or_default();
            Some(format!(
                "RLIMIT_NPROC {}, hard {}{tasks}",
                limit(nproc.soft),
                limit(nproc.hard)
            ))
        }
        libc::EPERM => match failed.cap_sys_admin? {
            false => Some("a namespace flag needs CAP_SYS_ADMIN, which it lacks".into()),
            true => Some("refused although it has CAP_SYS_ADMIN (a user-namespace limit?)".into()),
        },
        libc::ENOMEM => {
            Some("no memory for a new task, or its PID namespace's init has exited".into())
        }
        _ => None,
    }
}

/// One backtrace frame as strace -k prints it: ` > /lib/libc.so.6(_Fork+0x23) [0x7f…]`.
pub fn backtrace_line(frame: &Frame) -> String {
    let object = frame.object.as_deref().unwrap_or("?");
    match &frame.function {
        Some(function) => format!(
            " > {object}({function}+{:#x}) [{:#x}]",
            frame.offset, frame.address
        ),
        None => format!(" > {object}() [{:#x}]", frame.address),
    }
}

/// A group's `via` for tables: the name, `-` when unknown.
pub fn via_cell(shape: &Shape) -> String {
    shape
        .via
        .map_or_else(|| "-".to_string(), |v| via_name(v).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_integers_read_as_the_float_formatting_did() {
        let by_float = |bytes: u64| {
            for (unit, name) in [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
                if bytes >= unit {
                    let text = format!("{:.1}", bytes as f64 / unit as f64);
                    return format!("{} {name}", text.trim_end_matches(".0"));
                }
            }
            format!("{bytes} B")
        };
        let mut sizes: Vec<u64> = (0..1 << 20).collect();
        for shift in [10u32, 20, 30, 40, 50] {
            let unit = 1u64 << shift;
            for tenth in 0..400u64 {
                // Around every tenth and every tie between two tenths.
                let at = unit * tenth / 10;
                let tie = unit * (2 * tenth + 1) / 20;
                for around in [at, tie] {
                    sizes.extend(around.saturating_sub(3)..around + 3);
                }
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            sizes.push(x >> (x % 40));
        }
        sizes.extend([0x7fff80, 0x9000, 8 << 20, u64::MAX, 1 << 53, (1 << 53) - 1]);
        for bytes in sizes {
            assert_eq!(human_size(bytes), by_float(bytes), "{bytes}");
        }
    }

    #[test]
    fn joined_flags_read_as_join_flags_of_the_names() {
        for flags in [
            0u64,
            0x100,
            0x3d0f00,
            0x8000_0000_0000_0000,
            0x0050_0000_0000_0100,
            !0xff,
            0x1_0000_0000,
        ] {
            for signal in [None, Some(Signo::SIGCHLD), Some(Signo(34))] {
                let mut names = CloneFlags(flags).names();
                names.extend(signal.map(|s| s.name()));
                let joined = JoinedFlags {
                    flags: CloneFlags(flags),
                    signal,
                };
                assert_eq!(
                    joined.to_string(),
                    join_flags(&names),
                    "{flags:#x} {signal:?}"
                );
            }
        }
    }

    #[test]
    fn flags_wrap_after_a_bar_within_the_width() {
        let parts: Vec<String> = [
            "VM",
            "FS",
            "FILES",
            "SIGHAND",
            "THREAD",
            "SYSVSEM",
            "SETTLS",
            "PARENT_SETTID",
            "CHILD_CLEARTID",
        ]
        .map(String::from)
        .to_vec();
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
        assert_eq!(wrap_flags(&["-".to_string()], 10), ["-"]);
    }

    #[test]
    fn flags_in_short_form() {
        let flags = CloneFlags(CloneFlags::VM | CloneFlags::VFORK | 0x4_0000_0000);
        assert_eq!(short_flags(flags).join("|"), "VM|VFORK|0x400000000");
        assert_eq!(join_flags(&short_flags(CloneFlags(0))), "0");
    }

    #[test]
    fn long_lines_wrap_at_bars_and_commas_and_lose_nothing() {
        let line = "1234 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, \
                    exit_signal=0, stack=0x7f0000001000, stack_size=0x7fff80}, 88) = 1240   thread";
        let lines = wrap_line(line, 40, "      ");
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:#?}");
        assert!(lines[1..].iter().all(|l| l.starts_with("      ")));
        let joined: String = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        let words = |s: &str| {
            s.split([' ', '|'])
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(words(&joined), words(line));
        assert_eq!(wrap_line("short", 40, "  "), ["short"]);
        let painted = Style {
            color: true,
            ..Style::default()
        }
        .paint(&"x".repeat(30), Paint::Bad);
        assert_eq!(wrap_line(&painted, 30, ""), std::slice::from_ref(&painted));
    }

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }

    #[test]
    fn command_lines_quote_arguments_a_shell_would_split() {
        let argv = ["sh", "-c", "ls | wc", "it's", "$HOME"].map(String::from);
        assert_eq!(command_line(&argv), r#"sh -c 'ls | wc' 'it'\''s' '$HOME'"#);
    }

    #[test]
    fn outcomes_read_the_same_everywhere() {
        let core = Outcome::Killed {
            signal: Signo(libc::SIGSEGV),
            core_dumped: true,
        };
        assert_eq!(outcome(core), "killed by SIGSEGV (core dumped)");
        assert_eq!(outcome(Outcome::Exited(3)), "exit 3");
        assert_eq!(outcome_paint(core), Paint::Bad);
    }

    #[test]
    fn every_word_of_a_call_is_explained() {
        let thread = Shape {
            kind: Kind::Thread,
            syscall: Syscall::Clone3,
            flags: CloneFlags(0x3d0f00 | 0x4_0000_0000),
            exit_signal: None,
            stack: Stack::Size(8 << 20),
            readable: true,
            via: None,
        };
        let words: Vec<String> = call_meanings(&thread).into_iter().map(|m| m.0).collect();
        let mut expected = short_flags(thread.flags);
        expected.push("no exit signal".into());
        assert_eq!(words, expected);
        let clone_child = Shape {
            kind: Kind::Process,
            syscall: Syscall::Clone,
            flags: CloneFlags(0),
            exit_signal: Some(Signo(libc::SIGUSR1)),
            stack: Stack::Inherited,
            readable: true,
            via: None,
        };
        let meanings = call_meanings(&clone_child);
        assert_eq!(meanings[0].0, "0");
        assert_eq!(meanings[1].0, "SIGUSR1");
        assert!(meanings[1].1.contains("__WCLONE"));
    }

    #[test]
    fn calls_in_short_form() {
        let create = Create {
            syscall: Syscall::Clone3,
            flags: CloneFlags(CloneFlags::VM | CloneFlags::VFORK),
            exit_signal: Some(Signo::SIGCHLD),
            stack_size: Some(36 * 1024),
            kind: Kind::VmShared,
            ..Create::default()
        };
        assert_eq!(
            short_call(&create),
            "clone3(VM|VFORK, SIGCHLD, stack 36 KiB)"
        );
        let fork = Create {
            syscall: Syscall::Fork,
            exit_signal: Some(Signo::SIGCHLD),
            ..Create::default()
        };
        assert_eq!(short_call(&fork), "fork()");
    }
}
