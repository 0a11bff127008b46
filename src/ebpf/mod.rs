//! ebpf: the second engine. A BPF program on kernel tracepoints (bpf/clonetrace.bpf.c, embedded)
//! copies raw values into a ring buffer; this module starts the command blocked, registers it,
//! releases it, and turns each record into the same `Event`s the ptrace engine makes, through
//! the same `decode` tables and the same `Sink`. It never stops, signals or slows a traced task,
//! and never decides how anything is shown.

mod creation;
mod load;
mod record;
mod translate;

use crate::decode::wait::{WaitStatus, decode_wait_status};
use crate::error::Error;
use crate::event::{self, Event, Pid};
use crate::tracer::signals::{self, TracerSignals};
use crate::tracer::{Options, Sink, inspect};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use record::Record;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use translate::Translator;

/// What `--system` traces: everything, or what any of these selects (with what it creates).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub comm: Option<String>,
    pub cgroup: Option<PathBuf>,
    pub pid_tree: Option<Pid>,
}

pub enum Target<'c> {
    /// Start this command and trace it and its descendants.
    Spawn {
        program: Option<&'c Path>,
        argv: &'c [OsString],
    },
    /// The whole machine (or what the filters select) until Ctrl-C, SIGTERM or SIGHUP.
    System(&'c Filters),
    /// Running processes (`-p`), with their descendants when asked, and everything they create
    /// from now on, until none of them is left or Ctrl-C, SIGTERM or SIGHUP.
    Attach { pids: &'c [Pid], descendants: bool },
}

const RING_TOKEN: u64 = 1;
const SIGNAL_TOKEN: u64 = 2;
/// How often lost records are counted and vanished tasks looked for while idle.
const TICK: Duration = Duration::from_millis(100);
/// How long a record may wait in the ring before it is read: the BPF side wakes the reader only
/// when a batch has gathered (see `wake_bytes` in bpf/clonetrace.bpf.c), so a quiet trace is
/// drained on this timer, and its live lines appear at most this late.
const DRAIN_EVERY: Duration = Duration::from_millis(20);
const SWEEP_EVERY: Duration = Duration::from_secs(1);
const ORPHAN_RECHECK: Duration = Duration::from_millis(1);

/// Traces `target` with eBPF until the command's tree has ended (spawn) or the user stops it.
/// Returns the status to mirror: the command's code or 128+signal (spawn), 0 (system).
pub fn trace(target: Target, options: &Options, sink: Sink) -> Result<i32, Error> {
    load::preflight()?;
    let (filters, command) = match &target {
        Target::Spawn { argv, .. } => (
            None,
            argv.iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
        ),
        Target::System(filters) => (Some(*filters), system_command(filters)),
        Target::Attach { pids, .. } => (None, pids.iter().map(|p| format!("-p {p}")).collect()),
    };
    let signals = TracerSignals::install();
    // The command is forked first, while this process is small (a fork copies the page tables,
    // and loading leaves 40 MB of parsed BTF behind), and waits before its exec until it is
    // registered. A command is never started that cannot be traced: if loading fails, the
    // child is abandoned before it runs anything.
    let blocked = match &target {
        Target::Spawn { program, argv } => Some(
            spawn_blocked(*program, argv, options, &signals).inspect_err(|_| signals.restore())?,
        ),
        _ => None,
    };
    let mut loaded = match load::load(filters) {
        Ok(loaded) => loaded,
        Err(e) => {
            if let Some((blocked, _)) = blocked {
                blocked.abandon();
            }
            signals.restore();
            return Err(e);
        }
    };
    let tracer_pid = std::process::id() as Pid;
    let started_at = SystemTime::now();
    let start_ns = monotonic_ns();
    let mut translator = Translator::new(start_ns, tracer_pid, options.syscalls, filters.is_some());
    let mut early = Vec::new();

    let attached = matches!(target, Target::Attach { .. });
    let root = if let Some((blocked, path)) = blocked {
        if let Err(e) = loaded.trace_process(blocked.pid) {
            blocked.abandon();
            signals.restore();
            return Err(e);
        }
        translator.add_root(blocked.pid);
        Some(blocked.release(&path).inspect_err(|_| signals.restore())?)
    } else {
        let running = match target {
            // Its command was started above.
            Target::Spawn { .. } => Vec::new(),
            Target::System(filters) => match filters.pid_tree {
                Some(pid) => {
                    let tree = tasks_of(pid, true);
                    if tree.is_empty() {
                        signals.restore();
                        return Err(Error::usage(format!("--pid-tree {pid}: no such process")));
                    }
                    tree
                }
                None => Vec::new(),
            },
            Target::Attach { pids, descendants } => {
                let mut tasks = Vec::new();
                for &pid in pids {
                    let tree = tasks_of(pid, descendants);
                    if tree.is_empty() {
                        signals.restore();
                        return Err(Error::new(
                            format!("cannot attach to {pid}: no such process"),
                            1,
                        ));
                    }
                    tasks.extend(tree);
                }
                tasks
            }
        };
        register(&mut loaded, &mut translator, &running, &mut early)
            .inspect_err(|_| signals.restore())?;
        None
    };

    let mut engine = Loop {
        sink,
        recording: true,
        translator,
        lost_reported: 0,
    };
    engine.emit(Event::Header(crate::tracer::header(
        command,
        started_at,
        options.syscalls,
        tracer_pid,
        event::Backend::Ebpf,
    )));
    for event in early {
        engine.emit(event);
    }
    let outcome = engine.run(&mut loaded, &signals, root, attached, options.reap_grace);
    // Programs detached and maps freed before anything else: nothing of ours stays in the kernel.
    let lost_at_end = loaded.lost();
    drop(loaded);
    engine.report_lost(lost_at_end);
    signals.restore();
    let exit_code = match (root, outcome) {
        (None, _) => 0,
        (Some(_), Outcome::Ended(code)) => code,
        (Some(root), Outcome::OutputFailed) => wait_for(root),
        (Some(_), Outcome::Detached(signal)) => 128 + signal,
    };
    let time = engine.translator.now();
    engine.emit(Event::End(event::End { time, exit_code }));
    Ok(exit_code)
}

enum Outcome {
    /// The command's tree ended; its status.
    Ended(i32),
    /// A signal asked us to stop.
    Detached(i32),
    /// Every output failed.
    OutputFailed,
}

struct Loop<'a> {
    sink: Sink<'a>,
    recording: bool,
    translator: Translator,
    lost_reported: u64,
}

impl Loop<'_> {
    fn emit(&mut self, event: Event) {
        if self.recording {
            self.recording = (self.sink)(event);
        }
    }

    fn emit_all(&mut self, events: &mut Vec<Event>) {
        for event in events.drain(..) {
            self.emit(event);
        }
    }

    /// A `lost` record for what the kernel dropped since the last one.
    fn report_lost(&mut self, total: u64) {
        if total > self.lost_reported {
            let count = total - self.lost_reported;
            self.lost_reported = total;
            let time = self.translator.advance(monotonic_ns());
            self.emit(Event::Lost(event::Lost { time, count }));
        }
    }

    /// Hands every record in the ring buffer to the translator, in order.
    fn drain(&mut self, loaded: &mut load::Loaded) {
        let mut out = Vec::new();
        while let Some(item) = loaded.events.next() {
            match record::parse(&item) {
                Some(Record::Create(r)) => self.translator.on_create(&r, &mut out),
                Some(Record::CreateFailed(r)) => self.translator.on_create_failed(&r, &mut out),
                Some(Record::Exec(r)) => self.translator.on_exec(&r, &mut out),
                Some(Record::Exit(r)) => self.translator.on_exit(&r, &mut out),
                Some(Record::Wait(r)) => self.translator.on_wait(&r, &mut out),
                Some(Record::Signal(r)) => self.translator.on_signal(&r, &mut out),
                None => {}
            }
            drop(item);
            self.emit_all(&mut out);
        }
        if self.translator.orphans_pending() {
            self.translator.check_orphans(&mut out);
            self.emit_all(&mut out);
        }
    }

    /// The trace's end, once what it follows has ended (`status`: the command's, or 0 for
    /// attached processes) and no task is left: when every zombie is reaped, or the grace for
    /// reaps has passed.
    fn ended(
        &self,
        status: Option<i32>,
        grace_deadline: &mut Option<Instant>,
        reap_grace: Duration,
    ) -> Option<Outcome> {
        let status = status.filter(|_| self.translator.live_tasks() == 0)?;
        let deadline = *grace_deadline.get_or_insert_with(|| Instant::now() + reap_grace);
        (self.translator.zombies() == 0 || Instant::now() >= deadline)
            .then_some(Outcome::Ended(status))
    }

    /// Drains records until the command's tree has ended (`root`), the attached processes and
    /// what they made have (`attached`), or the user stops the trace.
    fn run(
        &mut self,
        loaded: &mut load::Loaded,
        signals: &TracerSignals,
        root: Option<Pid>,
        attached: bool,
        reap_grace: Duration,
    ) -> Outcome {
        let setup = || -> std::io::Result<(Epoll, SignalFd)> {
            let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
            let signalfd = SignalFd::with_flags(
                &signals.watched,
                SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
            )?;
            epoll.add(
                &loaded.events,
                EpollEvent::new(EpollFlags::EPOLLIN, RING_TOKEN),
            )?;
            epoll.add(
                &signalfd,
                EpollEvent::new(EpollFlags::EPOLLIN, SIGNAL_TOKEN),
            )?;
            Ok((epoll, signalfd))
        };
        // Without a way to sleep until a record or signal comes, poll: still correct, only less
        // idle.
        let waker = setup().ok();
        let mut root_status: Option<i32> = None;
        let mut grace_deadline: Option<Instant> = None;
        let mut last_sweep = Instant::now();
        let mut last_lost = Instant::now();
        loop {
            if let Some(root) = root
                && root_status.is_none()
            {
                root_status = collect(root, true);
            }
            self.drain(loaded);
            if last_lost.elapsed() >= TICK {
                last_lost = Instant::now();
                self.report_lost(loaded.lost());
            }
            if !self.recording {
                return Outcome::OutputFailed;
            }
            if let Some(signal) = detach_requested(root.is_some()) {
                return Outcome::Detached(signal);
            }
            let status = if root.is_some() {
                root_status
            } else {
                attached.then_some(0)
            };
            if let Some(outcome) = self.ended(status, &mut grace_deadline, reap_grace) {
                return outcome;
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                last_sweep = Instant::now();
                // Looked up before the drain: a record about a task always precedes its
                // disappearance from /proc, so what is still unaccounted for after it was lost.
                let vanished = self.translator.vanished();
                self.drain(loaded);
                self.translator.forget(&vanished);
            }
            // An adoption still to be seen happens within microseconds of the exit: look again
            // soon rather than at the next record.
            let sleep = if self.translator.orphans_pending() {
                ORPHAN_RECHECK
            } else {
                DRAIN_EVERY
            };
            let Some((epoll, signalfd)) = &waker else {
                std::thread::sleep(sleep);
                continue;
            };
            let mut events = [EpollEvent::empty(); 4];
            let timeout = EpollTimeout::try_from(sleep).unwrap_or(EpollTimeout::NONE);
            let n = epoll.wait(&mut events, timeout).unwrap_or(0);
            if events[..n].iter().any(|e| e.data() == SIGNAL_TOKEN) {
                let _ = signalfd.read_signal();
            }
        }
    }
}

/// The signal to stop for: in system mode any SIGINT, SIGTERM or SIGHUP; with a command,
/// SIGTERM, SIGHUP or a second Ctrl-C (the first goes to the command, as without us).
fn detach_requested(command: bool) -> Option<i32> {
    let (interrupts, termination) = signals::received();
    let needed = if command { 2 } else { 1 };
    termination.or((interrupts >= needed).then_some(libc::SIGINT))
}

/// The command's status to mirror (code, or 128+signal) once it has ended; `None` while it
/// runs (`nohang`).
fn collect(root: Pid, nohang: bool) -> Option<i32> {
    loop {
        let mut raw = 0;
        let flags = if nohang { libc::WNOHANG } else { 0 };
        // SAFETY: plain waitpid on our own child.
        match unsafe { libc::waitpid(root, &mut raw, flags) } {
            0 => return None,
            -1 if nix::errno::Errno::last() == nix::errno::Errno::EINTR => continue,
            -1 => return Some(1),
            _ => {}
        }
        match decode_wait_status(raw) {
            WaitStatus::Exited(code) => return Some(code),
            WaitStatus::Signaled { signal, .. } => return Some(128 + signal),
            _ if nohang => return None,
            _ => continue,
        }
    }
}

/// After every output failed: the command still runs; mirror its status when it ends.
fn wait_for(root: Pid) -> i32 {
    collect(root, false).unwrap_or(1)
}

/// Starts the command as a shell would, blocked before its exec; with the path it runs.
fn spawn_blocked(
    program: Option<&Path>,
    argv: &[OsString],
    options: &Options,
    signals: &TracerSignals,
) -> Result<(crate::tracer::spawn::Blocked, PathBuf), Error> {
    let path = match program {
        Some(program) => crate::tracer::spawn::resolve(&program.as_os_str().to_os_string()),
        None => crate::tracer::spawn::resolve(&argv[0]),
    }?;
    let user = options
        .user
        .as_deref()
        .map(crate::tracer::spawn::lookup_user)
        .transpose()?;
    let blocked = crate::tracer::spawn::start(&path, argv, signals, user.as_ref(), None)?;
    Ok((blocked, path))
}

/// Puts already running tasks (tid, tgid, parent) in the traced tree and announces each with an
/// `attach` record. The BPF side follows processes: a thread is traced with its process.
fn register(
    loaded: &mut load::Loaded,
    translator: &mut Translator,
    tasks: &[(Pid, Pid, Pid)],
    early: &mut Vec<Event>,
) -> Result<(), Error> {
    for &(tid, tgid, parent) in tasks {
        if tid == tgid {
            loaded.trace_process(tid)?;
        }
        translator.introduce(tid, tgid, parent, 0.0, early);
    }
    Ok(())
}

/// A running process's tasks (tid, tgid, parent), and its descendants' when asked, parents
/// first.
fn tasks_of(pid: Pid, descendants: bool) -> Vec<(Pid, Pid, Pid)> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    let mut seen = std::collections::HashSet::new();
    while let Some(process) = queue.pop() {
        if !seen.insert(process) {
            continue;
        }
        let Some(status) = inspect::read_status(process) else {
            continue;
        };
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{process}/task")) else {
            continue;
        };
        let mut tids: Vec<Pid> = tasks
            .filter_map(|t| t.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        tids.sort_unstable();
        // The leader first, so its threads are introduced after it.
        tids.sort_by_key(|&t| t != process);
        for tid in tids {
            found.push((tid, process, status.ppid));
            if !descendants {
                continue;
            }
            if let Ok(children) =
                std::fs::read_to_string(format!("/proc/{process}/task/{tid}/children"))
            {
                queue.extend(
                    children
                        .split_whitespace()
                        .filter_map(|c| c.parse::<Pid>().ok()),
                );
            }
        }
    }
    found
}

fn system_command(filters: &Filters) -> Vec<String> {
    let mut command = vec!["--system".to_string()];
    if let Some(comm) = &filters.comm {
        command.extend(["--comm".to_string(), comm.clone()]);
    }
    if let Some(cgroup) = &filters.cgroup {
        command.extend(["--cgroup".to_string(), cgroup.display().to_string()]);
    }
    if let Some(pid) = filters.pid_tree {
        command.extend(["--pid-tree".to_string(), pid.to_string()]);
    }
    command
}

/// CLOCK_MONOTONIC in nanoseconds: the clock of `bpf_ktime_get_ns`.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes only into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
