//! live: one strace-style line per event as it happens, plus the one word a reader needs (what
//! kind of task a call made, who reaped a zombie and after how long).

use super::Stream;
use super::vocabulary::{self as words, Paint, human_duration, join_flags, quote};
use crate::event::{Create, Event, NsVia, Relation, Syscall};
use std::fmt::Write as _;
use std::io::Write;

/// Timestamp prefixes, as strace's `-t`, `-tt`, `-ttt` and `-r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timestamps {
    #[default]
    None,
    /// Wall clock: 1 = seconds, 2 = microseconds, 3 = seconds since the epoch.
    Wall(u8),
    /// Seconds since the previous line.
    Relative,
}

pub struct Live {
    pub color: bool,
    /// Long lines are wrapped at this width (the tour, on a projector); `None`: never.
    pub width: Option<usize>,
    pub timestamps: Timestamps,
    pub string_limit: usize,
    tracer_pid: i32,
    start_unix: f64,
    previous: f64,
}

impl Live {
    pub fn new(color: bool, timestamps: Timestamps, string_limit: usize) -> Self {
        Live {
            color,
            width: None,
            timestamps,
            string_limit,
            tracer_pid: 0,
            start_unix: 0.0,
            previous: 0.0,
        }
    }

    fn prefix(&mut self, time: f64, pid: i32) -> String {
        let mut stamp = match self.timestamps {
            Timestamps::None => String::with_capacity(512),
            Timestamps::Relative => {
                let delta = time - self.previous;
                format!("{delta:>12.6} ")
            }
            Timestamps::Wall(level) => {
                let wall = self.start_unix + time;
                if level >= 3 {
                    format!("{wall:.6} ")
                } else {
                    let local = local_time_of_day(wall);
                    let (h, m, s) = (local / 3600, local / 60 % 60, local % 60);
                    if level == 2 {
                        format!("{h:02}:{m:02}:{s:02}.{:06} ", (wall.fract() * 1e6) as u64)
                    } else {
                        format!("{h:02}:{m:02}:{s:02} ")
                    }
                }
            }
        };
        self.previous = time;
        // Every line starts here: written in place when there is no colour to add.
        if self.color {
            stamp.push_str(&self.paint(&format!("{pid:<5}"), Paint::Dim));
        } else {
            let _ = write!(stamp, "{pid:<5}");
        }
        stamp
    }

    fn paint(&self, text: &str, paint: Paint) -> String {
        words::Style {
            color: self.color,
            ..words::Style::default()
        }
        .paint(text, paint)
    }

    /// `clone3({flags=…, exit_signal=…, stack=…, stack_size=…} => {parent_tid=[N]}, 88) = N`.
    /// Written into one string as it goes: this runs for every task a trace sees.
    fn creation(&self, c: &Create) -> String {
        let mut line = String::with_capacity(480);
        line.push_str(&self.paint(c.syscall.name(), Paint::Call));
        line.push('(');
        match c.syscall {
            Syscall::Fork | Syscall::Vfork => {}
            Syscall::Clone => {
                let flags = words::JoinedFlags {
                    flags: c.flags,
                    signal: c.exit_signal,
                };
                let mut parts = Items::new(&mut line);
                parts.item(format_args!("child_stack={}", Ptr(c.stack)));
                parts.item(format_args!("flags={flags}"));
                if let Some(fd) = c.pidfd_value {
                    parts.item(format_args!("parent_tid=[{fd}]"));
                } else if let Some(tid) = c.parent_tid_value {
                    parts.item(format_args!("parent_tid=[{tid}]"));
                } else if c.parent_tid != 0 {
                    parts.item(format_args!("parent_tid={:#x}", c.parent_tid));
                }
                if c.tls != 0 {
                    parts.item(format_args!("tls={:#x}", c.tls));
                }
                if c.child_tid != 0 {
                    parts.item(format_args!("child_tidptr={:#x}", c.child_tid));
                }
            }
            _ => {
                let size = c.clone3_size.unwrap_or(0);
                if c.stack_size.is_none() {
                    // Too short or unreadable: the address only, as strace does.
                    let _ = write!(line, "{}, {size}", Ptr(c.clone3_args));
                } else {
                    line.push('{');
                    let mut parts = Items::new(&mut line);
                    let flags = words::JoinedFlags {
                        flags: c.flags,
                        signal: None,
                    };
                    parts.item(format_args!("flags={flags}"));
                    if c.pidfd != 0 {
                        parts.item(format_args!("pidfd={:#x}", c.pidfd));
                    }
                    if c.child_tid != 0 {
                        parts.item(format_args!("child_tid={:#x}", c.child_tid));
                    }
                    if c.parent_tid != 0 {
                        parts.item(format_args!("parent_tid={:#x}", c.parent_tid));
                    }
                    match c.exit_signal {
                        Some(signal) => parts.item(format_args!("exit_signal={}", signal.name())),
                        None => parts.item(format_args!("exit_signal=0")),
                    }
                    parts.item(format_args!("stack={}", Ptr(c.stack)));
                    parts.item(format_args!("stack_size={:#x}", c.stack_size.unwrap_or(0)));
                    if c.tls != 0 {
                        parts.item(format_args!("tls={:#x}", c.tls));
                    }
                    if let Some(set_tid) = &c.set_tid {
                        let tids: Vec<String> = set_tid.iter().map(|t| t.to_string()).collect();
                        parts.item(format_args!("set_tid=[{}]", tids.join(", ")));
                        parts.item(format_args!("set_tid_size={}", set_tid.len()));
                    } else if c.unreadable.iter().any(|u| u == "set_tid") {
                        parts.item(format_args!("set_tid=<{}>", words::UNREADABLE));
                    }
                    if let Some(cgroup) = c.cgroup {
                        parts.item(format_args!("cgroup={cgroup}"));
                    }
                    line.push('}');
                    if c.pidfd_value.is_some() || c.parent_tid_value.is_some() {
                        line.push_str(" => {");
                        let mut written = Items::new(&mut line);
                        if let Some(fd) = c.pidfd_value {
                            written.item(format_args!("pidfd=[{fd}]"));
                        }
                        if let Some(tid) = c.parent_tid_value {
                            written.item(format_args!("parent_tid=[{tid}]"));
                        }
                        line.push('}');
                    }
                    if c.clone3_tail {
                        line.push_str(" /* non-zero bytes past the known fields */");
                    }
                    let _ = write!(line, ", {size}");
                }
            }
        }
        let mut kind = String::with_capacity(160);
        kind.push_str(words::kind_phrase(c.kind));
        if let Some(nspid) = &c.nspid {
            let _ = write!(
                kind,
                ", pid {} in its PID namespace",
                nspid.last().copied().unwrap_or(0)
            );
        }
        if words::lacks_sigchld(c) {
            kind.push_str(", no SIGCHLD: its parent must wait with __WALL or __WCLONE");
        }
        if let Some(via) = words::via_phrase(c.via) {
            let _ = write!(kind, ", {via}");
        }
        if let Some(region) = words::stack_region_phrase(c) {
            let _ = write!(kind, ", stack {region}");
        }
        let _ = write!(line, ") = {}   ", c.child);
        line.push_str(&self.paint(&kind, Paint::Kind));
        line
    }
}

/// Items written into a string one after another, `, ` between them.
struct Items<'s> {
    text: &'s mut String,
    first: bool,
}

impl<'s> Items<'s> {
    fn new(text: &'s mut String) -> Self {
        Items { text, first: true }
    }

    fn item(&mut self, args: std::fmt::Arguments) {
        if !self.first {
            self.text.push_str(", ");
        }
        self.first = false;
        let _ = self.text.write_fmt(args);
    }
}

/// A pointer as strace shows it: `NULL`, or hex.
struct Ptr(u64);

impl std::fmt::Display for Ptr {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self.0 {
            0 => f.write_str("NULL"),
            v => write!(f, "{v:#x}"),
        }
    }
}

impl Stream for Live {
    fn event(&mut self, out: &mut dyn Write, event: &Event) -> std::io::Result<()> {
        let line = match event {
            Event::Header(h) => {
                self.tracer_pid = h.tracer_pid;
                self.start_unix = h.start.unix_seconds();
                return Ok(());
            }
            Event::Attach(a) => {
                let prefix = self.prefix(a.time, a.pid);
                let what = match (&a.path, &a.argv) {
                    (Some(path), Some(argv)) => {
                        let argv: Vec<String> =
                            argv.iter().map(|x| quote(x, self.string_limit)).collect();
                        format!("{} [{}]", quote(path, usize::MAX), argv.join(", "))
                    }
                    _ => format!("thread of {}", a.tgid),
                };
                format!("{prefix} {} {what}", self.paint("attached", Paint::Call))
            }
            Event::Create(c) => {
                let mut line = self.prefix(c.time, c.pid);
                line.push(' ');
                line.push_str(&self.creation(c));
                // --backtrace: the creator's stack under its call, as strace -k prints it.
                for frame in &c.backtrace {
                    line.push('\n');
                    line.push_str(&words::backtrace_line(frame));
                }
                line
            }
            Event::Exec(e) => {
                let prefix = self.prefix(e.time, e.pid);
                let unreadable = |field: &str| e.unreadable.iter().any(|u| u == field);
                let argv: Vec<String> =
                    e.argv.iter().map(|a| quote(a, self.string_limit)).collect();
                let argv = if unreadable("argv") {
                    format!("<{}>", words::UNREADABLE)
                } else {
                    format!("[{}]", argv.join(", "))
                };
                let path = if unreadable("path") {
                    format!("<{}>", words::UNREADABLE)
                } else {
                    quote(&e.path, usize::MAX)
                };
                let mut line = format!(
                    "{prefix} {}({path}, {argv}) = 0",
                    self.paint("execve", Paint::Call),
                );
                if let Some(nspid) = &e.nspid {
                    let inner = nspid.last().copied().unwrap_or(0);
                    line.push_str(&format!(
                        "   {}",
                        self.paint(&format!("pid {inner} in its PID namespace"), Paint::Kind)
                    ));
                }
                if let Some(old) = e.old_pid {
                    line.push_str(&format!(
                        "   {}",
                        self.paint(
                            &format!("thread {old} {}", words::took_over(e.pid)),
                            Paint::Kind
                        )
                    ));
                }
                if !e.vanished.is_empty() {
                    let tids: Vec<String> = e.vanished.iter().map(|t| t.to_string()).collect();
                    line.push_str(&format!(
                        "; {}",
                        self.paint(&format!("ended threads {}", tids.join(", ")), Paint::Kind)
                    ));
                }
                line
            }
            Event::Namespaces(n) => {
                let prefix = self.prefix(n.time, n.pid);
                let what = self.paint(
                    &words::namespaces_change(n, Some(self.tracer_pid)),
                    Paint::Kind,
                );
                match (n.via, n.flags) {
                    (NsVia::Unshare, Some(flags)) => format!(
                        "{prefix} {}({}) = 0   {what}",
                        self.paint("unshare", Paint::Call),
                        join_flags(&flags.names())
                    ),
                    (NsVia::Setns, Some(nstype)) => format!(
                        "{prefix} {}(…, {}) = 0   {what}",
                        self.paint("setns", Paint::Call),
                        if nstype.0 == 0 {
                            "0".to_string()
                        } else {
                            join_flags(&nstype.names())
                        }
                    ),
                    _ => format!("{prefix} {what}"),
                }
            }
            Event::IdMaps(m) => {
                let prefix = self.prefix(m.time, m.pid);
                format!("{prefix} {}", self.paint(&words::id_maps(m), Paint::Kind))
            }
            Event::Cgroup(c) => {
                let prefix = self.prefix(c.time, c.pid);
                format!(
                    "{prefix} {}",
                    self.paint(&words::cgroup(&c.path), Paint::Kind)
                )
            }
            Event::Signal(s) => {
                let prefix = self.prefix(s.time, s.pid);
                format!(
                    "{prefix} {}",
                    self.paint(&format!("--- {} ---", s.signal.name()), Paint::Signal)
                )
            }
            Event::Exit(e) => {
                let prefix = self.prefix(e.time, e.pid);
                let text = match (e.code, e.signal) {
                    (Some(code), _) => {
                        let text = format!("+++ exited with {code} +++");
                        self.paint(&text, if code == 0 { Paint::Good } else { Paint::Bad })
                    }
                    (None, Some(signal)) => {
                        let core = if e.core_dumped { " (core dumped)" } else { "" };
                        let text = format!("+++ killed by {}{core} +++", signal.name());
                        self.paint(&text, Paint::Bad)
                    }
                    (None, None) => self.paint("+++ exited +++", Paint::Good),
                };
                match words::stack_used_phrase(e.stack_used, e.stack_size) {
                    Some(used) => format!("{prefix} {text}   {}", self.paint(&used, Paint::Kind)),
                    None => format!("{prefix} {text}"),
                }
            }
            Event::CreateFailed(f) => {
                let prefix = self.prefix(f.time, f.pid);
                let mut flags = f.flags.names();
                if f.syscall == Syscall::Clone {
                    flags.extend(f.exit_signal.map(|s| s.name()));
                }
                let unreadable = f.unreadable.iter().any(|u| u == "clone3_args");
                let args = match f.syscall {
                    Syscall::Fork | Syscall::Vfork => String::new(),
                    // strace shows an address it could not read as the address; we were not
                    // given it here, so say so rather than show flags that were never read.
                    _ if unreadable => format!("<{}>, …", words::UNREADABLE),
                    Syscall::Clone => format!("flags={}", join_flags(&flags)),
                    _ => format!(
                        "{{flags={}, exit_signal={}, …}}",
                        join_flags(&flags),
                        f.exit_signal.map_or_else(|| "0".to_string(), |s| s.name())
                    ),
                };
                let result = self.paint(&format!("-1 {}", f.errno.name()), Paint::Bad);
                let why = words::failure_reason(f).map_or_else(
                    || "creation failed".to_string(),
                    |r| format!("creation failed: {r}"),
                );
                format!(
                    "{prefix} {}({args}) = {result}   {}",
                    self.paint(f.syscall.name(), Paint::Call),
                    self.paint(&why, Paint::Kind)
                )
            }
            Event::Wait(w) => {
                let prefix = self.prefix(w.time, w.pid);
                // waitid returns 0 and writes the child into its siginfo; wait4 returns it.
                let result = if w.idtype.is_some() { 0 } else { w.child };
                let call = format!("{} = {result}", words::wait_call(w));
                let what = if w.reaped {
                    format!("collects {}", w.child)
                } else {
                    format!("reports a change of {}", w.child)
                };
                format!("{prefix} {call}   {}", self.paint(&what, Paint::Life))
            }
            Event::LeaderExit(l) => {
                let prefix = self.prefix(l.time, l.pid);
                let text = format!(
                    "+++ leader exited; a zombie holding pid {} until {} +++",
                    l.pid,
                    words::other_threads(l.threads)
                );
                format!("{prefix} {}", self.paint(&text, Paint::Life))
            }
            Event::Reap(r) => {
                let prefix = self.prefix(r.time, r.pid);
                let text = match r.relation {
                    Relation::Auto => format!(
                        "reaped at once by the kernel: parent {} ignores SIGCHLD, never a zombie",
                        r.reaper
                    ),
                    Relation::Tracer => "reaped by clonetrace (its parent)".to_string(),
                    relation => format!(
                        "reaped by {} ({}) after {} as a zombie",
                        r.reaper,
                        words::relation(relation),
                        human_duration(r.zombie_seconds)
                    ),
                };
                format!("{prefix} {}", self.paint(&text, Paint::Life))
            }
            Event::Reparent(r) => {
                let prefix = self.prefix(r.time, r.pid);
                let text = format!(
                    "orphaned: parent {} ended, adopted by {} ({})",
                    r.from,
                    r.to,
                    words::relation(r.relation)
                );
                format!("{prefix} {}", self.paint(&text, Paint::Life))
            }
            Event::End(_) => return Ok(()),
            Event::Lost(l) => {
                let text = format!(
                    "clonetrace lost {} record{} (kernel ring buffer full): the trace is incomplete",
                    l.count,
                    if l.count == 1 { "" } else { "s" }
                );
                self.paint(&text, Paint::Life)
            }
        };
        match self.width {
            // Continuation lines are indented past the pid column.
            Some(width) => writeln!(
                out,
                "{}",
                words::wrap_line(&line, width, "        ").join("\n")
            ),
            None => writeln!(out, "{line}"),
        }
    }
}

/// Seconds since local midnight, using the C library's idea of the local time zone.
fn local_time_of_day(unix: f64) -> u64 {
    let t = unix as libc::time_t;
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r writes only into `tm`.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return (unix as u64) % 86_400;
    }
    (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) as u64
}
