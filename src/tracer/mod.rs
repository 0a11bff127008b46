//! tracer: the only place that calls ptrace. Starts the command seized, runs one event loop on one
//! thread, keeps a small state per task and turns kernel stops into `Event`s handed to a sink. It
//! never decides how anything is shown.

mod attach;
pub(crate) mod creation;
mod detach;
mod explain;
pub(crate) mod inspect;
pub(crate) mod lifecycle;
mod limits;
mod maps;
mod namespaces;
mod objects;
mod ptrace;
mod reap;
mod seccomp;
pub(crate) mod signals;
pub(crate) mod spawn;
mod stack_usage;
mod stop;
mod syscalls;
mod table;
mod unwind;

use crate::decode::args;
use crate::decode::wait::{WaitStatus, decode_wait_status};
use crate::error::Error;
use crate::event::{self, CloneFlags, Event, Kind, Pid, Signo};
use creation::{describe_creation, text_from_bytes};
use namespaces::NamespaceWatch;
use reap::{ReapWatcher, Wake};
use signals::TracerSignals;
use std::ffi::OsString;
use std::time::{Duration, Instant, SystemTime};
use stop::{Exit, Stop, classify};
use table::{Task, TaskState, TaskTable};

/// What the engine needs to know; how things are shown is not its business.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How long to wait, once every traced task has ended, for zombies still awaiting a reap.
    pub reap_grace: Duration,
    /// Syscall-level detail: failed creation calls and the wait calls that reap, through a
    /// seccomp filter on just those syscalls (spawn mode).
    pub syscalls: bool,
    /// Spawn mode: the kernel kills the traced tasks if clonetrace dies (PTRACE_O_EXITKILL).
    pub kill_on_exit: bool,
    /// Spawn mode: run the command as this user (clonetrace must be root).
    pub user: Option<String>,
    /// `--backtrace`: the creator's unwound, symbolized stack in each `create`.
    pub backtrace: bool,
    /// `--stack-usage`: an exit stop per task, where its stack's resident pages are counted.
    pub stack_usage: bool,
}

/// What to trace.
pub enum Target<'c> {
    /// Start this command traced: `program` (found as a shell would, from `argv[0]` when
    /// `None`) with `argv`.
    Spawn {
        program: Option<&'c std::path::Path>,
        argv: &'c [OsString],
    },
    /// Attach to these running processes (and, with `descendants`, their running descendants).
    Attach { pids: &'c [Pid], descendants: bool },
}

/// Where events go. The engine calls it once per event, in order; it answers whether recording
/// still works (when every output has failed, the engine detaches rather than trace for nobody).
pub type Sink<'a> = &'a mut dyn FnMut(Event) -> bool;

/// Traces `target` until every traced task has ended or the user asks to detach. Returns the exit
/// status the tracer should mirror: the command's code or 128+signal (spawn), 0 (attach).
pub fn trace(target: Target, options: &Options, sink: Sink) -> Result<i32, Error> {
    let setup_error = |e: std::io::Error| Error {
        message: format!("cannot set up the event loop: {e}"),
        exit_code: 1,
    };
    let mut ptrace_options = ptrace::options(options.syscalls);
    if options.stack_usage {
        ptrace_options |= libc::PTRACE_O_TRACEEXIT;
    }
    let start = Instant::now();
    let started_at = SystemTime::now();
    let (mut engine, signals, command) = match target {
        Target::Spawn { program, argv } => {
            let path = match program {
                Some(program) => spawn::resolve(&program.as_os_str().to_os_string())?,
                None => spawn::resolve(&argv[0])?,
            };
            let user = options
                .user
                .as_deref()
                .map(spawn::lookup_user)
                .transpose()?;
            if options.kill_on_exit {
                ptrace_options |= libc::PTRACE_O_EXITKILL;
            }
            let signals = TracerSignals::install();
            let watcher = ReapWatcher::new(&signals.watched).map_err(setup_error)?;
            let filter = options.syscalls.then(seccomp::filter);
            let root = spawn::spawn(
                &path,
                argv,
                &signals,
                user.as_ref(),
                ptrace_options,
                filter.as_deref(),
            )
            .inspect_err(|_| signals.restore())?;
            let mut engine = Engine::new(start, sink, watcher, ptrace_options);
            engine.root = Some(root);
            // Started by us: in our namespaces and cgroup until it changes them.
            let task = Task {
                ns: engine.namespaces.tracer_ids(),
                cgroup: engine.namespaces.tracer_cgroup(),
                ..Task::new(root, engine.tracer_pid)
            };
            engine.table.insert(root, TaskState::Running(task));
            let command = argv
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            (engine, signals, command)
        }
        Target::Attach { pids, descendants } => {
            let mut processes: Vec<Pid> = pids.to_vec();
            if descendants {
                for &pid in pids {
                    processes.extend(attach::descendants_of(pid));
                }
            }
            processes.dedup();
            let signals = TracerSignals::install();
            let watcher = ReapWatcher::new(&signals.watched).map_err(setup_error)?;
            let mut engine = Engine::new(start, sink, watcher, ptrace_options);
            let mut seized = Vec::new();
            for &pid in &processes {
                match attach::seize_process(pid, ptrace_options) {
                    Ok(tasks) => seized.extend(tasks),
                    // A descendant may end while we attach: only the named ones must be there.
                    Err(_) if !pids.contains(&pid) => {}
                    Err(message) => {
                        engine.detach_all();
                        signals.restore();
                        return Err(Error {
                            message,
                            exit_code: 1,
                        });
                    }
                }
            }
            for task in &seized {
                let ns = namespaces::read_ids(task.tid, &event::NsKind::ALL);
                engine.table.insert(
                    task.tid,
                    TaskState::Running(Task {
                        ns,
                        ..Task::new(task.tgid, task.parent)
                    }),
                );
            }
            let command = pids.iter().map(|p| format!("-p {p}")).collect();
            engine.attached = seized;
            engine.syscall_stops = options.syscalls;
            (engine, signals, command)
        }
    };
    engine.emit(Event::Header(header(
        command,
        started_at,
        options.syscalls,
        engine.tracer_pid,
        event::Backend::Ptrace,
    )));
    engine.explainer.backtrace = options.backtrace;
    engine.report_attached();
    engine.run(options);
    signals.restore();
    let exit_code = match (engine.root, engine.root_exit_code, engine.detached_by) {
        (None, _, _) => 0,
        (Some(_), Some(code), _) => code,
        (Some(_), None, Some(signal)) => 128 + signal,
        (Some(_), None, None) => 1,
    };
    let time = engine.now();
    engine.emit(Event::End(event::End { time, exit_code }));
    Ok(exit_code)
}

struct Engine<'a> {
    start: Instant,
    sink: Sink<'a>,
    watcher: ReapWatcher,
    tracer_pid: Pid,
    /// The spawned command (None when attached to running processes).
    root: Option<Pid>,
    root_exit_code: Option<i32>,
    /// Tasks seized at attach, reported once the header is out.
    attached: Vec<attach::Seized>,
    /// False once every output has failed: then the engine detaches.
    recording: bool,
    /// The signal that made us detach, if one did.
    detached_by: Option<i32>,
    /// `--syscalls` on attached processes, where no seccomp filter can be installed: every task
    /// runs under PTRACE_SYSCALL.
    syscall_stops: bool,
    /// Every live task the engine knows, in its state (held, awaited, running, in a syscall).
    table: TaskTable,
    /// The ptrace options every task gets.
    options: libc::c_int,
    /// Namespaces and cgroups seen so far, to tell what a task's new ones are and how it got them.
    namespaces: NamespaceWatch,
    /// Evidence beyond a creation's arguments: via, stack region, backtrace.
    explainer: explain::Explainer,
    /// `--stack-usage`: every task's exit is stopped at and its stack measured.
    stack_usage: bool,
    /// Parents' `/proc/PID/stat`, kept open for the look at each child they reap.
    stats: inspect::StatFiles,
}

impl<'a> Engine<'a> {
    fn new(start: Instant, sink: Sink<'a>, watcher: ReapWatcher, options: libc::c_int) -> Self {
        Engine {
            start,
            sink,
            watcher,
            tracer_pid: std::process::id() as Pid,
            root: None,
            root_exit_code: None,
            table: TaskTable::default(),
            options,
            attached: Vec::new(),
            recording: true,
            detached_by: None,
            syscall_stops: false,
            namespaces: NamespaceWatch::new(),
            explainer: explain::Explainer::default(),
            stack_usage: options & libc::PTRACE_O_TRACEEXIT != 0,
            stats: inspect::StatFiles::default(),
        }
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn emit(&mut self, event: Event) {
        if self.recording {
            self.recording = (self.sink)(event);
        }
    }

    /// The event loop: drain every pending stop, then sleep until SIGCHLD or a reap. Ends when no
    /// traced task is left and outstanding reaps are seen or the grace period is over.
    fn run(&mut self, options: &Options) {
        let mut grace_deadline: Option<Instant> = None;
        loop {
            // Before sleeping: a task held for a creator that will never report is let go.
            if self.table.any_held() {
                self.release_abandoned_births();
            }
            // With no zombie to watch, the only thing to wait for is the next stop: a blocking
            // waitpid is one syscall per stop instead of epoll_wait + read + two waitpids.
            let mut tracees_left = true;
            if self.watcher.pending() == 0 {
                tracees_left = self.wait_stop(0).is_some();
            }
            // Before sleeping in epoll, every queued stop must be collected: their SIGCHLDs may
            // have merged into one the signalfd already gave us, and would never wake us again.
            if tracees_left && self.watcher.pending() > 0 {
                tracees_left = self.drain_stops();
            }
            if let Some(signal) = self.detach_requested() {
                self.detached_by = Some(signal);
                self.detach_all();
                return;
            }
            if !self.recording {
                // Nobody can read the record any more: stop slowing the program down.
                self.detach_all();
                self.wait_for_root();
                return;
            }
            if tracees_left && self.watcher.pending() == 0 {
                continue;
            }
            if self.table.any_held() {
                // The drain may have held a task whose creator is gone: check before sleeping.
                self.release_abandoned_births();
            }
            let timeout_ms = if tracees_left {
                -1
            } else {
                if self.watcher.pending() == 0 {
                    return;
                }
                let deadline =
                    *grace_deadline.get_or_insert_with(|| Instant::now() + options.reap_grace);
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return;
                }
                left.as_millis().max(1) as i32
            };
            self.collect_reaps(timeout_ms);
        }
    }

    /// The signal clonetrace should detach for: in attach mode any SIGINT, SIGTERM or SIGHUP; in
    /// spawn mode SIGTERM, SIGHUP or a second Ctrl-C (the first goes to the program, as without us).
    fn detach_requested(&self) -> Option<i32> {
        let (interrupts, termination) = signals::received();
        let interrupts_needed = if self.root.is_some() { 2 } else { 1 };
        if termination.is_some() {
            termination
        } else if interrupts >= interrupts_needed {
            Some(libc::SIGINT)
        } else {
            None
        }
    }

    /// After detaching in spawn mode, the command is still our child: wait for it to mirror its
    /// status.
    fn wait_for_root(&mut self) {
        let Some(root) = self.root else {
            return;
        };
        loop {
            let mut raw = 0;
            match unsafe { libc::waitpid(root, &mut raw, 0) } {
                -1 if nix::errno::Errno::last() == nix::errno::Errno::EINTR => continue,
                -1 => return,
                _ => {}
            }
            match decode_wait_status(raw) {
                WaitStatus::Exited(code) => self.root_exit_code = Some(code),
                WaitStatus::Signaled { signal, .. } => self.root_exit_code = Some(128 + signal),
                _ => continue,
            }
            return;
        }
    }

    /// Reports the tasks seized at attach, with the program each process runs.
    fn report_attached(&mut self) {
        let time = self.now();
        for seized in std::mem::take(&mut self.attached) {
            let leader = seized.tid == seized.tgid;
            let path = leader
                .then(|| std::fs::read_link(format!("/proc/{}/exe", seized.tid)).ok())
                .flatten()
                .map(|p| text_from_bytes(p.as_os_str().as_encoded_bytes()));
            let argv = leader
                .then(|| inspect::read_argv(seized.tid))
                .flatten()
                .map(|args| args.iter().map(|a| text_from_bytes(a)).collect());
            self.emit(Event::Attach(event::Attach {
                time,
                pid: seized.tid,
                tgid: seized.tgid,
                parent: seized.parent,
                path,
                argv,
            }));
            if leader {
                let (_, events) =
                    self.namespaces
                        .at_attach(seized.tid, seized.tgid, seized.parent, time);
                events.into_iter().for_each(|e| self.emit(e));
            }
        }
    }

    /// Waits up to `timeout_ms` (-1: for ever) for SIGCHLD or reaps, and reports the reaps.
    fn collect_reaps(&mut self, timeout_ms: i32) {
        for wake in self.watcher.wait(timeout_ms) {
            match wake {
                Wake::Signals => {}
                Wake::Reaped(zombie) => self.on_reaped(zombie),
            }
        }
    }

    /// Handles every stop the kernel has queued. Returns false once no tracee is left.
    fn drain_stops(&mut self) -> bool {
        loop {
            match self.wait_stop(libc::WNOHANG) {
                Some(true) => continue,
                Some(false) => return true,
                None => return false,
            }
        }
    }

    /// Collects and handles one stop (blocking unless `flags` has WNOHANG). Returns whether a
    /// stop was handled (`Some(false)`: none pending), `None` once no tracee is left.
    fn wait_stop(&mut self, flags: libc::c_int) -> Option<bool> {
        let mut raw: libc::c_int = 0;
        let tid = unsafe { libc::waitpid(-1, &mut raw, libc::__WALL | flags) };
        match tid {
            0 => Some(false),
            // A signal for clonetrace itself: let the loop look at it.
            -1 if nix::errno::Errno::last() == nix::errno::Errno::EINTR => Some(false),
            -1 => None,
            tid => {
                self.on_stop(tid, classify(raw, self.table.known(tid)));
                Some(true)
            }
        }
    }

    /// Resumes a stopped task: to its next event, or under `--syscalls` without seccomp (after
    /// attach) to its next syscall stop as well.
    fn resume(&self, tid: Pid, signal: i32) -> bool {
        if self.syscall_stops {
            ptrace::syscall(tid, signal)
        } else {
            ptrace::cont(tid, signal)
        }
    }

    /// Acts on one classified stop. Every branch resumes the task as its `Stop` variant says (or
    /// records why not).
    fn on_stop(&mut self, tid: Pid, stop: Stop) {
        match stop {
            Stop::Ended(exit) => self.on_exit(tid, exit),
            Stop::First => {
                self.table.first_stop_came(tid);
                self.resume_new_task(tid);
            }
            Stop::BeforeCreation => self.table.insert(tid, TaskState::Held(None)),
            Stop::Unannounced => {
                // Its creator's event is not coming; announce it as far as we can.
                self.announce_unreported(tid);
                self.resume(tid, 0);
            }
            Stop::Creation { .. } => {
                self.on_creation(tid);
                self.resume(tid, 0);
            }
            Stop::Seccomp => {
                if let Some((nr, args)) = ptrace::syscall_registers(tid) {
                    self.table.enter_syscall(tid, nr, args);
                }
                ptrace::syscall(tid, 0);
            }
            Stop::Syscall => {
                match ptrace::syscall_stop_kind(tid) {
                    // Only under PTRACE_SYSCALL (--syscalls after attach): note the calls we
                    // care about; the rest pass.
                    Some(ptrace::SyscallStop::Entry) => {
                        if let Some((nr, args)) =
                            ptrace::syscall_registers(tid).filter(|(nr, _)| seccomp::is_traced(*nr))
                        {
                            self.table.enter_syscall(tid, nr, args);
                        }
                    }
                    _ => {
                        let time = self.now();
                        let events = syscalls::on_syscall_exit(
                            &mut self.table,
                            &mut self.namespaces,
                            tid,
                            time,
                        );
                        events.into_iter().for_each(|e| self.emit(e));
                    }
                }
                self.resume(tid, 0);
            }
            Stop::LeaderExit => {
                if self.stack_usage
                    && let Some(task) = self.table.task(tid).copied()
                {
                    let used = stack_usage::measure(tid, task.stack);
                    if let Some(task) = self.table.task_mut(tid) {
                        task.stack_used = used;
                    }
                }
                let time = self.now();
                if let Some(event) = lifecycle::on_leader_exit(&self.table, tid, time) {
                    self.emit(event);
                }
                self.resume(tid, 0);
            }
            Stop::Exec => {
                self.on_exec(tid);
                self.resume(tid, 0);
            }
            Stop::Group(_) => {
                ptrace::listen(tid);
            }
            Stop::Interrupt | Stop::OtherEvent(_) => {
                self.resume(tid, 0);
            }
            Stop::SignalDelivery(signal) => {
                self.on_signal(tid, signal);
                self.resume(tid, signal);
            }
            Stop::Continued => {}
        }
    }

    /// Releases held tasks whose creator can no longer report their creation: it was killed
    /// between making them and its fork event (SIGKILL takes the whole group). The creator is a
    /// thread of the new thread's own process, or of the new process's parent; while one of
    /// those is alive and not dying, its event is still coming. Checked before the engine
    /// sleeps, so a held task never waits for ever.
    fn release_abandoned_births(&mut self) {
        let abandoned: Vec<Pid> = self
            .table
            .held()
            .into_iter()
            .filter(|&tid| {
                let Some(status) = inspect::read_status(tid) else {
                    return true;
                };
                let group = if status.tgid != tid {
                    status.tgid
                } else {
                    status.ppid
                };
                !self
                    .table
                    .threads_of(group)
                    .any(|t| inspect::thread_ends_group(group, t) == Some(false))
            })
            .collect();
        for tid in abandoned {
            if let Some(exit) = self.announce_unreported(tid) {
                self.on_exit(tid, exit);
            } else {
                self.resume_new_task(tid);
            }
        }
    }

    /// Reports a held task whose creation call will never be seen, with what /proc still tells
    /// (`syscall` "unknown"), and starts following it. Returns its exit if it already ended.
    fn announce_unreported(&mut self, tid: Pid) -> Option<Exit> {
        let exit = match self.table.remove(tid) {
            Some(TaskState::Held(exit)) => exit,
            _ => None,
        };
        let status = inspect::read_status(tid);
        let vanished = status.is_none();
        let status = status.unwrap_or_default();
        let thread = status.tgid != 0 && status.tgid != tid;
        let tgid = if thread { status.tgid } else { tid };
        let creator = if thread { status.tgid } else { status.ppid };
        let mut create = describe_creation(creator, None);
        create.time = self.now();
        create.pid = creator;
        create.tgid = creator;
        create.child = tid;
        create.child_tgid = tgid;
        create.parent = status.ppid;
        create.kind = if thread { Kind::Thread } else { Kind::Process };
        if vanished {
            // Gone from /proc too: who made it and its parent are not known, not pid 0.
            create.unreadable = vec!["pid".into(), "parent".into()];
        }
        let task = Task {
            ns: namespaces::read_ids(tid, &event::NsKind::ALL),
            ..Task::new(tgid, status.ppid)
        };
        self.table.insert(tid, TaskState::Running(task));
        self.emit(Event::Create(create));
        exit
    }

    /// Lets a new task run from its first stop, without the exit stop it may have inherited.
    fn resume_new_task(&mut self, tid: Pid) {
        if let Some(task) = self.table.task_mut(tid)
            && task.exit_traced
            && ptrace::set_options(tid, self.options)
        {
            task.exit_traced = false;
        }
        self.resume(tid, 0);
    }

    fn on_creation(&mut self, creator_tid: Pid) {
        // Succeeded: no syscall-exit stop wanted (the creator is resumed with PTRACE_CONT).
        self.table.leave_syscall(creator_tid);
        let Some(creator) = self.table.task(creator_tid).copied() else {
            return;
        };
        let Some(message) = ptrace::event_message(creator_tid).map(|m| m as Pid) else {
            return;
        };
        let registers = ptrace::creation_registers(creator_tid);
        let call = registers
            .and_then(|((nr, regs), _)| args::decode_creation_call(args::Arch::NATIVE, nr, &regs));
        let unwind_from = registers.and_then(|(_, unwind)| unwind);
        let mut create = describe_creation(creator_tid, call);
        // A SIGKILL between the event stop and GETEVENTMSG moves the creator on to its exit stop,
        // whose message is its exit status, not the new tid. The kernel also stored the tid at
        // parent_tid, as seen from the creator's PID namespace: where the two disagree, the
        // message is right only if it is a task whose innermost pid is the stored one.
        let child = match create.parent_tid_value {
            Some(stored)
                if create.flags.contains(libc::CLONE_PARENT_SETTID as u64)
                    && stored > 0
                    && stored != message =>
            {
                let innermost = inspect::read_status(message).and_then(|s| s.nspid.last().copied());
                if innermost == Some(stored) {
                    message
                } else {
                    stored
                }
            }
            _ => message,
        };
        if self.table.task(child).is_some() {
            // Announced already, without its call, when it seemed its creator was gone.
            return;
        }
        if self.watcher.is_zombie(child) {
            // The pid is in use again, so its previous holder has been reaped: report that first,
            // so the record never has a reap that could belong to two tasks.
            self.collect_reaps(0);
            if let Some(zombie) = self.watcher.take_zombie(child) {
                self.on_reaped(zombie);
            }
        }
        create.time = self.now();
        create.pid = creator_tid;
        create.tgid = creator.tgid;
        create.child = child;
        let flags = create.flags;
        create.kind = Kind::of(flags);
        let thread = create.kind == Kind::Thread;
        create.child_tgid = if thread { creator.tgid } else { child };
        create.parent = if thread || flags.contains(CloneFlags::PARENT) {
            creator.parent
        } else {
            creator.tgid
        };
        let mut creator_ids = creator.ns;
        let (child_ids, before, after) = self.namespaces.at_creation(
            creator_tid,
            creator.tgid,
            &mut creator_ids,
            child,
            flags,
            create.syscall == event::Syscall::Clone3,
            create.time,
        );
        if let Some(task) = self.table.task_mut(creator_tid) {
            task.ns = creator_ids;
        }
        let mut in_child_namespace = self.namespaces.in_child_pid_namespace(&child_ids);
        if in_child_namespace && let Some(status) = inspect::read_status(child) {
            in_child_namespace = status.nspid.len() > 1;
            if in_child_namespace {
                create.nspid = Some(status.nspid);
            }
        }
        let mut after = after;
        let mut cgroup = creator.cgroup;
        if flags.contains(CloneFlags::INTO_CGROUP)
            && let Some(fd) = create.cgroup
        {
            create.cgroup_path = namespaces::cgroup_fd_path(creator_tid, fd);
            cgroup = self
                .namespaces
                .created_in_cgroup(child, cgroup, create.time, &mut after);
        }
        self.explainer
            .explain(creator_tid, creator.tgid, unwind_from, &mut create);
        let task = Task {
            in_child_namespace,
            exit_traced: creator.exit_traced,
            ns: child_ids,
            cgroup,
            stack: explain::stack_range(&create),
            ..Task::new(create.child_tgid, create.parent)
        };
        if thread && creator_tid == creator.tgid && !creator.exit_traced {
            // Its first thread: from now on a leader exit before the threads' must be seen.
            if ptrace::set_options(creator_tid, self.options | libc::PTRACE_O_TRACEEXIT)
                && let Some(task) = self.table.task_mut(creator_tid)
            {
                task.exit_traced = true;
            }
        }
        before.into_iter().for_each(|e| self.emit(e));
        self.emit(Event::Create(create));
        after.into_iter().for_each(|e| self.emit(e));
        match self.table.remove(child) {
            Some(TaskState::Held(None)) => {
                self.table.insert(child, TaskState::Running(task));
                self.resume_new_task(child);
            }
            Some(TaskState::Held(Some(exit))) => {
                self.table.insert(child, TaskState::Running(task));
                self.on_exit(child, exit);
            }
            _ => self.table.insert(child, TaskState::Awaited(task)),
        }
    }

    fn on_exec(&mut self, tid: Pid) {
        let former = ptrace::event_message(tid).map(|m| m as Pid).unwrap_or(tid);
        // execve ends every other thread of the process; those not yet reported dead are named
        // (the old leader's end is implied by the tid change).
        let vanished: Vec<Pid> = self
            .table
            .threads_of(tid)
            .filter(|&t| t != former && t != tid)
            .collect();
        if former != tid {
            // A non-leader thread exec'd: it now carries the leader's tid, and the old leader is
            // gone without a death report of its own.
            if let Some(state) = self.table.remove(former) {
                self.table.insert(tid, state);
            }
            self.namespaces.task_ended(former);
        }
        let mut unreadable = Vec::new();
        let path = inspect::read_exec_filename(tid).map(|bytes| text_from_bytes(&bytes));
        if path.is_none() {
            unreadable.push("path".to_string());
        }
        let argv = inspect::read_argv(tid)
            .map(|args| args.iter().map(|a| text_from_bytes(a)).collect::<Vec<_>>());
        if argv.is_none() {
            unreadable.push("argv".to_string());
        }
        let (path, argv) = (path.unwrap_or_default(), argv.unwrap_or_default());
        let time = self.now();
        let (ids, cgroup) = self
            .table
            .task(tid)
            .map_or(([0; 10], 0), |task| (task.ns, task.cgroup));
        let mut changes = Vec::new();
        let (ids, cgroup) = self
            .namespaces
            .at_exec(tid, &ids, cgroup, time, &mut changes);
        let in_child_namespace = self.namespaces.in_child_pid_namespace(&ids);
        let nspid = in_child_namespace
            .then(|| inspect::read_status(tid))
            .flatten()
            .map(|status| status.nspid)
            .filter(|nspid| nspid.len() > 1);
        if let Some(task) = self.table.task_mut(tid) {
            task.in_child_namespace = nspid.is_some();
            task.ns = ids;
            task.cgroup = cgroup;
            // Its stack is the new program's main stack now.
            task.stack = None;
        }
        self.explainer.forget(tid);
        // What the kernel runs, where the path named something else (a link, /proc/self/exe,
        // /dev/fd/N of a memfd).
        let exe = std::fs::read_link(format!("/proc/{tid}/exe"))
            .ok()
            .map(|p| text_from_bytes(p.as_os_str().as_encoded_bytes()))
            .filter(|exe| *exe != path);
        self.emit(Event::Exec(event::Exec {
            time,
            pid: tid,
            tgid: tid,
            path,
            argv,
            old_pid: (former != tid).then_some(former),
            nspid,
            vanished,
            unreadable,
            exe,
        }));
        changes.into_iter().for_each(|e| self.emit(e));
    }

    fn on_signal(&mut self, tid: Pid, signal: i32) {
        let tgid = self.table.tgid_of(tid);
        let time = self.now();
        self.emit(Event::Signal(event::Signal {
            time,
            pid: tid,
            tgid,
            signal: Signo(signal),
        }));
    }
}

/// The record's first line, for either engine: what ran, when, on which kernel, how.
pub(crate) fn header(
    command: Vec<String>,
    started_at: SystemTime,
    syscalls: bool,
    tracer_pid: Pid,
    backend: event::Backend,
) -> event::Header {
    event::Header {
        format: event::FORMAT_VERSION,
        version: env!("CARGO_PKG_VERSION").into(),
        command,
        start: event::StartTime::from_system(started_at),
        kernel: nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default(),
        arch: args::Arch::NATIVE.name().into(),
        mode: if syscalls {
            event::Mode::Syscalls
        } else {
            event::Mode::Default
        },
        tracer_pid,
        backend: Some(backend),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_escaped_not_lost() {
        assert_eq!(text_from_bytes(b"a\xffb"), "a\\xffb");
        assert_eq!(text_from_bytes("é".as_bytes()), "é");
    }
}
