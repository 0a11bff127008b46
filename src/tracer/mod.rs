//! tracer: the only place that calls ptrace. Starts the command seized, runs one event loop on one
//! thread, keeps a small state per task and turns kernel stops into `Event`s handed to a sink. It
//! never decides how anything is shown.

mod attach;
mod detach;
mod inspect;
mod ptrace;
mod reap;
mod seccomp;
mod signals;
mod spawn;

pub use spawn::SpawnError;

use crate::decode::args::{self, CreationCall};
use crate::decode::clone3::{self, Clone3Args};
use crate::decode::flags::{self, CSIGNAL};
use crate::decode::signal::signal_name;
use crate::decode::wait::{
    WaitStatus, decode_wait_options, decode_wait_status, errno_name, idtype_name,
};
use crate::event::{self, Event, Kind, Pid, Relation};
use reap::{Adopter, ReapWatcher, Wake, Zombie};
use signals::TracerSignals;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::time::{Duration, Instant, SystemTime};

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
}

/// What to trace.
pub enum Target<'c> {
    /// Start this command traced.
    Spawn(&'c [OsString]),
    /// Attach to these running processes (and, with `descendants`, their running descendants).
    Attach { pids: &'c [Pid], descendants: bool },
}

/// Where events go. The engine calls it once per event, in order; it answers whether recording
/// still works (when every output has failed, the engine detaches rather than trace for nobody).
pub type Sink<'a> = &'a mut dyn FnMut(Event) -> bool;

/// Traces `target` until every traced task has ended or the user asks to detach. Returns the exit
/// status the tracer should mirror: the command's code or 128+signal (spawn), 0 (attach).
pub fn trace(target: Target, options: &Options, sink: Sink) -> Result<i32, SpawnError> {
    let setup_error = |e: std::io::Error| SpawnError {
        message: format!("cannot set up the event loop: {e}"),
        exit_code: 1,
    };
    let mut ptrace_options = ptrace::options(options.syscalls);
    let start = Instant::now();
    let started_at = SystemTime::now();
    let (mut engine, signals, command) = match target {
        Target::Spawn(argv) => {
            let path = spawn::resolve(&argv[0])?;
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
            engine
                .tasks
                .insert(root, Task::new(root, engine.tracer_pid));
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
                        return Err(SpawnError {
                            message,
                            exit_code: 1,
                        });
                    }
                }
            }
            for task in &seized {
                engine
                    .tasks
                    .insert(task.tid, Task::new(task.tgid, task.parent));
                if task.tid == task.tgid {
                    engine.watcher.watch(task.tid);
                }
            }
            let command = pids.iter().map(|p| format!("-p {p}")).collect();
            engine.attached = seized;
            engine.syscall_stops = options.syscalls;
            (engine, signals, command)
        }
    };
    engine.emit(Event::Header(event::Header {
        format: event::FORMAT_VERSION,
        version: env!("CARGO_PKG_VERSION").into(),
        command,
        start: rfc3339(started_at),
        kernel: kernel_release(),
        arch: args::Arch::NATIVE.name().into(),
        mode: if options.syscalls {
            "syscalls"
        } else {
            "default"
        }
        .into(),
        tracer_pid: engine.tracer_pid,
    }));
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

/// What the engine keeps per live traced task.
#[derive(Debug, Clone, Copy)]
struct Task {
    tgid: Pid,
    /// The real parent's tgid (for a thread: its group's parent).
    parent: Pid,
    /// Whether the task lives in a PID namespace below the tracer's (its pids are then read).
    in_child_namespace: bool,
    /// Whether the kernel reports its exit with a PTRACE_EVENT_EXIT stop. Only leaders of
    /// multi-threaded processes need one (to see a leader exit before its threads); a new task
    /// inherits its creator's setting, so it is switched off again at the task's first stop.
    exit_traced: bool,
    /// Who its current parent is to it: the original one, or an adopter after reparenting.
    adopted_by: Adopter,
}

impl Task {
    fn new(tgid: Pid, parent: Pid) -> Self {
        Task {
            tgid,
            parent,
            in_child_namespace: false,
            exit_traced: false,
            adopted_by: Adopter::Original,
        }
    }
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
    /// Live tasks whose creation has been reported.
    tasks: HashMap<Pid, Task>,
    /// New tasks whose first stop came before their creator's fork event: kept stopped until the
    /// creation is reported, so every task's events follow its `create`. Holds the exit status if
    /// the task was killed meanwhile.
    held: HashMap<Pid, Option<WaitStatus>>,
    /// New tasks whose creation is reported but whose first stop has not arrived yet.
    expected: HashSet<Pid>,
    /// The ptrace options every task gets.
    options: libc::c_int,
    /// `--syscalls`: the creation or wait call each task stopped in at its seccomp stop, kept
    /// until its syscall-exit stop tells the result.
    in_syscall: HashMap<Pid, (u64, [u64; 6])>,
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
            tasks: HashMap::new(),
            held: HashMap::new(),
            expected: HashSet::new(),
            options,
            in_syscall: HashMap::new(),
            attached: Vec::new(),
            recording: true,
            detached_by: None,
            syscall_stops: false,
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
        let (interrupts, terminations) = signals::received();
        let interrupts_needed = if self.root.is_some() { 2 } else { 1 };
        if terminations > 0 {
            Some(libc::SIGTERM)
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
                self.on_stop(tid, decode_wait_status(raw));
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

    /// Classifies one stop and acts on it. Every branch resumes the task (or records why not).
    fn on_stop(&mut self, tid: Pid, status: WaitStatus) {
        match status {
            WaitStatus::Exited(_) | WaitStatus::Signaled { .. } => self.on_exit(tid, status),
            WaitStatus::Stopped { .. } if !self.tasks.contains_key(&tid) => {
                self.on_first_stop(tid, status)
            }
            WaitStatus::Stopped { event, .. }
                if event == libc::PTRACE_EVENT_FORK
                    || event == libc::PTRACE_EVENT_VFORK
                    || event == libc::PTRACE_EVENT_CLONE =>
            {
                self.on_creation(tid);
                // Resumed: the creator returns from fork/clone (a vfork parent then blocks in the
                // kernel until its child execs or exits).
                self.resume(tid, 0);
            }
            WaitStatus::Stopped { event, .. } if event == libc::PTRACE_EVENT_SECCOMP => {
                // A creation or wait call is starting: resume to its syscall-exit stop, the only
                // place a failure (no fork event) or a wait's result can be seen.
                if let Some(call) = ptrace::syscall_registers(tid) {
                    self.in_syscall.insert(tid, call);
                }
                ptrace::syscall(tid, 0);
            }
            WaitStatus::Stopped { signal, event: 0 } if signal == libc::SIGTRAP | 0x80 => {
                match ptrace::syscall_stop_kind(tid) {
                    // Only under PTRACE_SYSCALL (--syscalls after attach): note the calls we
                    // care about; the rest pass.
                    Some(ptrace::SyscallStop::Entry) => {
                        if let Some((nr, args)) =
                            ptrace::syscall_registers(tid).filter(|(nr, _)| seccomp::is_traced(*nr))
                        {
                            self.in_syscall.insert(tid, (nr, args));
                        }
                    }
                    _ => self.on_syscall_exit(tid),
                }
                self.resume(tid, 0);
            }
            WaitStatus::Stopped { event, .. } if event == libc::PTRACE_EVENT_EXIT => {
                self.on_leader_exit(tid);
                self.resume(tid, 0);
            }
            WaitStatus::Stopped { event, .. } if event == libc::PTRACE_EVENT_EXEC => {
                self.on_exec(tid);
                self.resume(tid, 0);
            }
            WaitStatus::Stopped { signal, event } if event == libc::PTRACE_EVENT_STOP => {
                if is_stop_signal(signal) {
                    // Group-stop: stay stopped for job control; SIGCONT wakes it as without us.
                    ptrace::listen(tid);
                } else {
                    // PTRACE_INTERRUPT or the end of a listened group-stop.
                    self.resume(tid, 0);
                }
            }
            WaitStatus::Stopped { signal, event: 0 } => {
                // Signal-delivery stop: report it and deliver it, so the program's handlers run.
                self.on_signal(tid, signal);
                self.resume(tid, signal);
            }
            WaitStatus::Stopped { .. } => {
                self.resume(tid, 0);
            }
            WaitStatus::Continued => {}
        }
    }

    /// A stop from a task we have not been told about: the new task's first stop, which can reach
    /// us before its creator's fork event.
    fn on_first_stop(&mut self, tid: Pid, _status: WaitStatus) {
        if self.expected.remove(&tid) {
            self.resume_new_task(tid);
        } else {
            self.held.insert(tid, None);
        }
    }

    /// Lets a new task run from its first stop, without the exit stop it may have inherited.
    fn resume_new_task(&mut self, tid: Pid) {
        if let Some(task) = self.tasks.get_mut(&tid)
            && task.exit_traced
            && ptrace::set_options(tid, self.options)
        {
            task.exit_traced = false;
        }
        self.resume(tid, 0);
    }

    /// A multi-threaded process's leader is exiting. If it leaves alone (pthread_exit) while its
    /// threads run, it becomes a zombie that holds the process's pid until the last thread ends.
    fn on_leader_exit(&mut self, tid: Pid) {
        let Some(task) = self.tasks.get(&tid).copied() else {
            return;
        };
        let status = ptrace::event_message(tid).unwrap_or(0) as i32;
        // Killed (exec from another thread, a fatal signal): not a leader leaving on its own.
        if tid != task.tgid || status & 0x7f != 0 {
            return;
        }
        let others: Vec<Pid> = self
            .tasks
            .iter()
            .filter(|(t, other)| other.tgid == tid && **t != tid)
            .map(|(t, _)| *t)
            .collect();
        // exit_group and execve kill the other threads before the leader exits: look at them.
        let group_exiting = others.is_empty()
            || others
                .iter()
                .any(|&t| inspect::thread_ends_group(tid, t).unwrap_or(true));
        if !group_exiting {
            let time = self.now();
            self.emit(Event::LeaderExit(event::LeaderExit {
                time,
                pid: tid,
                threads: others.len(),
            }));
        }
    }

    /// `--syscalls`: a creation call failed, or a wait call returned.
    fn on_syscall_exit(&mut self, tid: Pid) {
        let Some((nr, args)) = self.in_syscall.remove(&tid) else {
            return;
        };
        let Some(ret) = ptrace::syscall_return(tid) else {
            return;
        };
        let tgid = self.tasks.get(&tid).map_or(tid, |t| t.tgid);
        let time = self.now();
        let name = args::syscall_name(args::Arch::NATIVE, nr).unwrap_or("?");
        if let Some(call) = args::decode_creation_call(args::Arch::NATIVE, nr, &args) {
            // A successful creation was reported at its fork event; -ERESTART* retries.
            if !(-4095..0).contains(&ret) || (-516..=-512).contains(&ret) {
                return;
            }
            let decoded = describe_creation(tid, Some(call));
            self.emit(Event::CreateFailed(event::CreateFailed {
                time,
                pid: tid,
                tgid,
                syscall: decoded.syscall,
                flags: decoded.flags,
                exit_signal: decoded.exit_signal,
                errno: errno_name(-ret),
            }));
            return;
        }
        let waitid = name == "waitid";
        let (child, reaped) = if waitid {
            if ret != 0 {
                return;
            }
            // waitid returns 0 and fills a siginfo: si_pid at offset 16, si_code at 8.
            let Some(info) = inspect::read_memory(tid, args[2], 24).filter(|b| b.len() == 24)
            else {
                return;
            };
            let code = i32::from_ne_bytes(info[8..12].try_into().unwrap());
            let child = i32::from_ne_bytes(info[16..20].try_into().unwrap());
            let exited = [libc::CLD_EXITED, libc::CLD_KILLED, libc::CLD_DUMPED].contains(&code);
            (child, exited && args[3] & libc::WNOWAIT as u64 == 0)
        } else {
            if ret <= 0 {
                return;
            }
            let status = inspect::read_i32(tid, args[1]);
            let exited = status.is_none_or(|s| {
                matches!(
                    decode_wait_status(s),
                    WaitStatus::Exited(_) | WaitStatus::Signaled { .. }
                )
            });
            (ret as Pid, exited)
        };
        if child <= 0 {
            return;
        }
        let options_arg = if waitid { args[3] } else { args[2] };
        self.emit(Event::Wait(event::Wait {
            time,
            pid: tid,
            tgid,
            syscall: name.into(),
            idtype: waitid.then(|| idtype_name(args[0])),
            id: if waitid {
                args[1] as i64
            } else {
                args[0] as i32 as i64
            },
            options: decode_wait_options(options_arg, waitid),
            child,
            reaped,
        }));
    }

    fn on_creation(&mut self, creator_tid: Pid) {
        // Succeeded: no syscall-exit stop wanted (the creator is resumed with PTRACE_CONT).
        self.in_syscall.remove(&creator_tid);
        let Some(creator) = self.tasks.get(&creator_tid).copied() else {
            return;
        };
        let Some(child) = ptrace::event_message(creator_tid).map(|m| m as Pid) else {
            return;
        };
        if self.watcher.zombie_mut(child).is_some() {
            // The pid is in use again, so its previous holder has been reaped: report that first,
            // so the record never has a reap that could belong to two tasks.
            self.collect_reaps(0);
            if let Some(zombie) = self.watcher.take_zombie(child) {
                self.on_reaped(zombie);
            }
        }
        let time = self.now();
        let call = ptrace::syscall_registers(creator_tid)
            .and_then(|(nr, regs)| args::decode_creation_call(args::Arch::NATIVE, nr, &regs));
        let mut create = describe_creation(creator_tid, call);
        create.time = time;
        create.pid = creator_tid;
        create.tgid = creator.tgid;
        create.child = child;
        let flags = flags::flags_from_names(&create.flags).unwrap_or(0);
        let thread = flags & libc::CLONE_THREAD as u64 != 0;
        create.kind = if thread {
            Kind::Thread
        } else if flags & libc::CLONE_VM as u64 != 0 {
            Kind::VmShared
        } else {
            Kind::Process
        };
        create.child_tgid = if thread { creator.tgid } else { child };
        create.parent = if thread || flags & libc::CLONE_PARENT as u64 != 0 {
            creator.parent
        } else {
            creator.tgid
        };
        let mut in_child_namespace = creator.in_child_namespace;
        if (creator.in_child_namespace || flags & libc::CLONE_NEWPID as u64 != 0)
            && let Some(status) = inspect::read_status(child)
        {
            in_child_namespace = status.nspid.len() > 1;
            if in_child_namespace {
                create.nspid = Some(status.nspid);
            }
        }
        self.tasks.insert(
            child,
            Task {
                tgid: create.child_tgid,
                parent: create.parent,
                in_child_namespace,
                exit_traced: creator.exit_traced,
                adopted_by: Adopter::Original,
            },
        );
        if thread && creator_tid == creator.tgid && !creator.exit_traced {
            // Its first thread: from now on a leader exit before the threads' must be seen.
            if ptrace::set_options(creator_tid, self.options | libc::PTRACE_O_TRACEEXIT)
                && let Some(task) = self.tasks.get_mut(&creator_tid)
            {
                task.exit_traced = true;
            }
        }
        if !thread {
            self.watcher.watch(child);
        }
        self.emit(Event::Create(create));
        match self.held.remove(&child) {
            Some(None) => self.resume_new_task(child),
            Some(Some(exit)) => self.on_exit(child, exit),
            None => {
                self.expected.insert(child);
            }
        }
    }

    fn on_exec(&mut self, tid: Pid) {
        let former = ptrace::event_message(tid).map(|m| m as Pid).unwrap_or(tid);
        // execve ends every other thread of the process; those not yet reported dead are named
        // (the old leader's end is implied by the tid change).
        let mut vanished: Vec<Pid> = self
            .tasks
            .iter()
            .filter(|(t, task)| task.tgid == tid && **t != former && **t != tid)
            .map(|(t, _)| *t)
            .collect();
        vanished.sort_unstable();
        if former != tid {
            // A non-leader thread exec'd: it now carries the leader's tid, and the old leader is
            // gone without a death report of its own.
            if let Some(task) = self.tasks.remove(&former) {
                self.tasks.insert(tid, task);
            }
        }
        let path = inspect::read_exec_filename(tid)
            .map(|bytes| text_from_bytes(&bytes))
            .unwrap_or_default();
        let argv = inspect::read_argv(tid)
            .map(|args| args.iter().map(|a| text_from_bytes(a)).collect())
            .unwrap_or_default();
        // A process may have entered a PID namespace without CLONE_NEWPID at its creation
        // (`unshare --pid --fork` unshares, then forks): exec is where we look again.
        let nspid = inspect::read_status(tid)
            .map(|status| status.nspid)
            .filter(|nspid| nspid.len() > 1);
        if let Some(task) = self.tasks.get_mut(&tid) {
            task.in_child_namespace = nspid.is_some();
        }
        let time = self.now();
        self.emit(Event::Exec(event::Exec {
            time,
            pid: tid,
            tgid: tid,
            path,
            argv,
            old_pid: (former != tid).then_some(former),
            nspid,
            vanished,
        }));
    }

    fn on_signal(&mut self, tid: Pid, signal: i32) {
        let tgid = self.tasks.get(&tid).map_or(tid, |t| t.tgid);
        let time = self.now();
        self.emit(Event::Signal(event::Signal {
            time,
            pid: tid,
            tgid,
            signal: signal_name(signal),
        }));
    }

    fn on_exit(&mut self, tid: Pid, status: WaitStatus) {
        if let Some(held) = self.held.get_mut(&tid) {
            // Killed before its creation was reported: report both in order when it is.
            *held = Some(status);
            return;
        }
        let Some(task) = self.tasks.remove(&tid) else {
            return;
        };
        self.expected.remove(&tid);
        // Look first, before any output delays us: the parent may reap it any moment now.
        let released = tid == task.tgid && Some(tid) != self.root && self.watcher.is_released(tid);
        let (code, signal, core_dumped) = match status {
            WaitStatus::Exited(code) => (Some(code), None, false),
            WaitStatus::Signaled {
                signal,
                core_dumped,
            } => (None, Some(signal), core_dumped),
            _ => return,
        };
        if Some(tid) == self.root {
            self.root_exit_code = Some(code.unwrap_or_else(|| 128 + signal.unwrap_or(0)));
        }
        // Reaps this process made before it ended come first in the record, as they did in time.
        if tid == task.tgid && self.watcher.pending() > 0 {
            self.collect_reaps(0);
        }
        let time = self.now();
        self.emit(Event::Exit(event::Exit {
            time,
            pid: tid,
            tgid: task.tgid,
            code,
            signal: signal.map(signal_name),
            core_dumped,
        }));
        if tid == task.tgid {
            self.on_process_ended(tid, task, released);
        }
    }

    /// A whole process has ended (its leader's death is reported after its last thread's). Its
    /// children were reparented by the kernel just before; it is a zombie unless auto-reaped.
    fn on_process_ended(&mut self, pid: Pid, task: Task, released: bool) {
        self.record_reparenting(pid);
        let time = self.now();
        if Some(pid) == self.root {
            // Our own child: the waitpid that reported its exit also reaped it.
            self.watcher.forget(pid);
            self.emit(Event::Reap(event::Reap {
                time,
                pid,
                reaper: self.tracer_pid,
                relation: Relation::Tracer,
                zombie_seconds: 0.0,
            }));
            return;
        }
        if released {
            // Gone already. Either the kernel released it when we collected its exit, because
            // the parent ignores SIGCHLD (never a zombie), or a parent blocked in wait() on the
            // other CPU (or woken on ours) was quicker than us.
            self.watcher.forget(pid);
            let ignores_sigchld = inspect::read_ignored_signals(task.parent)
                .is_some_and(|ignored| ignored & (1 << (libc::SIGCHLD - 1)) != 0);
            self.emit(Event::Reap(event::Reap {
                time,
                pid,
                reaper: task.parent,
                relation: if ignores_sigchld {
                    Relation::Auto
                } else {
                    // Its parent now, which may be an adopter (a subreaper blocked in wait).
                    task.adopted_by.relation()
                },
                zombie_seconds: 0.0,
            }));
            return;
        }
        let zombie = Zombie {
            pid,
            exited_at: Instant::now(),
            parent: task.parent,
            adopted_by: task.adopted_by,
        };
        self.watcher.await_reap(zombie);
    }

    /// Records where the kernel moved the children (live or zombie) of a process that just ended.
    fn record_reparenting(&mut self, dead: Pid) {
        let orphans: Vec<Pid> = self
            .tasks
            .iter()
            .filter(|(tid, t)| **tid == t.tgid && t.parent == dead)
            .map(|(tid, _)| *tid)
            .collect();
        let zombie_orphans: Vec<Pid> = self
            .watcher
            .zombies_mut()
            .filter(|z| z.parent == dead)
            .map(|z| z.pid)
            .collect();
        for pid in orphans.into_iter().chain(zombie_orphans) {
            let Some(status) = inspect::read_status(pid) else {
                continue;
            };
            let to = status.ppid;
            if to == dead || to == 0 {
                continue;
            }
            let adopter = adopter_kind(to);
            for task in self.tasks.values_mut().filter(|t| t.tgid == pid) {
                task.parent = to;
                task.adopted_by = adopter;
            }
            if let Some(zombie) = self.watcher.zombie_mut(pid) {
                zombie.parent = to;
                zombie.adopted_by = adopter;
            }
            let time = self.now();
            self.emit(Event::Reparent(event::Reparent {
                time,
                pid,
                from: dead,
                to,
                relation: adopter.relation(),
            }));
        }
    }

    fn on_reaped(&mut self, zombie: Zombie) {
        let relation = if zombie.parent == self.tracer_pid {
            Relation::Tracer
        } else {
            zombie.adopted_by.relation()
        };
        let time = self.now();
        self.emit(Event::Reap(event::Reap {
            time,
            pid: zombie.pid,
            reaper: zombie.parent,
            relation,
            zombie_seconds: zombie.exited_at.elapsed().as_secs_f64(),
        }));
    }
}

/// An orphan goes to a subreaper ancestor or to its namespace's init; init is the one whose pid
/// in its own namespace is 1.
fn adopter_kind(adopter: Pid) -> Adopter {
    if adopter == 1 {
        return Adopter::Init;
    }
    match inspect::read_status(adopter) {
        Some(status) if status.nspid.last() == Some(&1) => Adopter::Init,
        _ => Adopter::Subreaper,
    }
}

fn is_stop_signal(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

/// The decoded arguments of a creation call, as far as the creator's memory lets us read them.
fn describe_creation(creator: Pid, call: Option<CreationCall>) -> event::Create {
    let mut create = event::Create {
        time: 0.0,
        pid: creator,
        tgid: creator,
        syscall: "clone".into(),
        flags: Vec::new(),
        exit_signal: None,
        stack: 0,
        stack_size: None,
        tls: 0,
        parent_tid: 0,
        child_tid: 0,
        pidfd: 0,
        set_tid: None,
        cgroup: None,
        clone3_size: None,
        clone3_args: 0,
        clone3_tail: false,
        parent_tid_value: None,
        pidfd_value: None,
        child: 0,
        child_tgid: 0,
        parent: 0,
        kind: Kind::Process,
        nspid: None,
    };
    let has = |flags: u64, flag: libc::c_int| flags & flag as u64 != 0;
    match call {
        None => {}
        Some(CreationCall::Fork) => {
            create.syscall = "fork".into();
            create.exit_signal = Some(signal_name(libc::SIGCHLD));
        }
        Some(CreationCall::Vfork) => {
            // vfork is clone(CLONE_VM|CLONE_VFORK|SIGCHLD) in the kernel.
            create.syscall = "vfork".into();
            create.flags = flags::decode_clone_flags((libc::CLONE_VM | libc::CLONE_VFORK) as u64);
            create.exit_signal = Some(signal_name(libc::SIGCHLD));
        }
        Some(CreationCall::Clone {
            flags,
            stack,
            parent_tid,
            child_tid,
            tls,
        }) => {
            create.syscall = "clone".into();
            create.flags = flags::decode_clone_flags(flags & !CSIGNAL);
            let exit_signal = (flags & CSIGNAL) as i32;
            create.exit_signal = (exit_signal != 0).then(|| signal_name(exit_signal));
            create.stack = stack;
            // Pointers the kernel ignores without their flag are shown only with it, as strace does.
            if has(flags, libc::CLONE_PARENT_SETTID) || has(flags, libc::CLONE_PIDFD) {
                create.parent_tid = parent_tid;
            }
            if has(flags, libc::CLONE_CHILD_SETTID) || has(flags, libc::CLONE_CHILD_CLEARTID) {
                create.child_tid = child_tid;
            }
            if has(flags, libc::CLONE_SETTLS) {
                create.tls = tls;
            }
            if has(flags, libc::CLONE_PARENT_SETTID) {
                create.parent_tid_value = inspect::read_i32(creator, parent_tid);
            }
            if has(flags, libc::CLONE_PIDFD) {
                // clone() stores the pidfd where parent_tid points.
                create.pidfd_value = inspect::read_i32(creator, parent_tid);
            }
        }
        Some(CreationCall::Clone3 { args: addr, size }) => {
            create.syscall = "clone3".into();
            create.clone3_size = Some(size);
            create.clone3_args = addr;
            let bytes =
                inspect::read_memory(creator, addr, clone3::read_len(size)).unwrap_or_default();
            if let Clone3Args::Decoded {
                args, nonzero_tail, ..
            } = clone3::decode_clone_args(&bytes)
            {
                let flags = args.flags;
                create.flags = flags::decode_clone_flags(flags);
                create.exit_signal =
                    (args.exit_signal != 0).then(|| signal_name(args.exit_signal as i32));
                create.stack = args.stack;
                create.stack_size = Some(args.stack_size);
                create.clone3_tail = nonzero_tail;
                if has(flags, libc::CLONE_PARENT_SETTID) {
                    create.parent_tid = args.parent_tid;
                    create.parent_tid_value = inspect::read_i32(creator, args.parent_tid);
                }
                if has(flags, libc::CLONE_CHILD_SETTID) || has(flags, libc::CLONE_CHILD_CLEARTID) {
                    create.child_tid = args.child_tid;
                }
                if has(flags, libc::CLONE_SETTLS) {
                    create.tls = args.tls;
                }
                if has(flags, libc::CLONE_PIDFD) {
                    create.pidfd = args.pidfd;
                    create.pidfd_value = inspect::read_i32(creator, args.pidfd);
                }
                if args.set_tid_size > 0 {
                    create.set_tid =
                        inspect::read_i32_array(creator, args.set_tid, args.set_tid_size as usize);
                }
                if flags & (1 << 33) != 0 {
                    // CLONE_INTO_CGROUP: the cgroup field is a directory fd.
                    create.cgroup = Some(args.cgroup);
                }
            }
        }
    }
    create
}

/// Argv and paths are bytes; the record holds text. Valid UTF-8 passes unchanged; each invalid byte
/// becomes `\xNN`, so nothing is lost and nothing raw reaches a terminal through the record.
fn text_from_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// UTC time as RFC 3339 with milliseconds, without a date crate.
fn rfc3339(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_000_000_123);
        assert_eq!(rfc3339(t), "2026-11-18T11:06:40.123Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn invalid_utf8_is_escaped_not_lost() {
        assert_eq!(text_from_bytes(b"a\xffb"), "a\\xffb");
        assert_eq!(text_from_bytes("é".as_bytes()), "é");
    }
}
