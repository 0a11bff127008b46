//! lifecycle: how tasks end and what becomes of them: exits, a leader leaving before its
//! threads, zombies and their reaps (seen through pidfds), orphans and who adopts them.

use super::reap::{ReapWatcher, Zombie};
use super::stop::Exit;
use super::table::{Task, TaskState, TaskTable};
use super::{Engine, inspect, ptrace};
use crate::event::{self, Event, Pid, Relation, Signo};
use std::time::Instant;

/// A multi-threaded process's leader is exiting. If it leaves alone (pthread_exit) while its
/// threads run, it becomes a zombie that holds the process's pid until the last thread ends:
/// that is the event returned.
pub(super) fn on_leader_exit(table: &TaskTable, tid: Pid, time: f64) -> Option<Event> {
    let task = table.task(tid)?;
    let status = ptrace::event_message(tid).unwrap_or(0) as i32;
    // Killed (a fatal signal): not a leader leaving on its own.
    if tid != task.tgid || status & 0x7f != 0 {
        return None;
    }
    // A leader leaving alone called exit(2). One killed by another thread's execve reports
    // status 0 like a clean exit, and the killed threads can be between dequeuing their SIGKILL
    // and exiting, invisible to /proc: only the call it was in tells them apart.
    if ptrace::syscall_registers(tid).map(|(nr, _)| nr) != Some(libc::SYS_exit as u64) {
        return None;
    }
    let others: Vec<Pid> = table.threads_of(tid).filter(|&t| t != tid).collect();
    // exit_group and execve kill the other threads before the leader exits: look at them.
    let group_exiting = others.is_empty()
        || others
            .iter()
            .any(|&t| inspect::thread_ends_group(tid, t).unwrap_or(true));
    (!group_exiting).then_some(Event::LeaderExit(event::LeaderExit {
        time,
        pid: tid,
        threads: others.len(),
    }))
}

impl Engine<'_> {
    pub(super) fn on_exit(&mut self, tid: Pid, exit: Exit) {
        // Killed before its creation was reported: report both in order when it is.
        if self.table.hold_exit(tid, exit) {
            return;
        }
        self.namespaces.task_ended(tid);
        let Some(task) = self.table.remove(tid).and_then(|state| match state {
            TaskState::Awaited(task)
            | TaskState::Running(task)
            | TaskState::InSyscall(task, ..) => Some(task),
            TaskState::Held(_) => None,
        }) else {
            return;
        };
        // Reaps this process made before it ended come first in the record, as they did in time
        // (and before its own pidfd joins the watched set).
        if tid == task.tgid && self.watcher.pending() > 0 {
            self.collect_reaps(0);
        }
        // Look first, before any output delays us: the parent may reap it any moment now.
        let released = tid == task.tgid
            && Some(tid) != self.root
            && !self.watcher.watch_zombie(Zombie {
                pid: tid,
                exited_at: Instant::now(),
                parent: task.parent,
                relation: task.relation,
            });
        let (code, signal, core_dumped) = match exit {
            Exit::Code(code) => (Some(code), None, false),
            Exit::Signal {
                signal,
                core_dumped,
            } => (None, Some(signal), core_dumped),
        };
        if Some(tid) == self.root {
            self.root_exit_code = Some(code.unwrap_or_else(|| 128 + signal.unwrap_or(0)));
        }
        let time = self.now();
        self.emit(Event::Exit(event::Exit {
            time,
            pid: tid,
            tgid: task.tgid,
            code,
            signal: signal.map(Signo),
            core_dumped,
            stack_used: task.stack_used.map(|(used, _)| used),
            stack_size: task.stack_used.map(|(_, size)| size),
        }));
        if tid == task.tgid {
            self.on_process_ended(tid, task, released);
        }
    }

    /// A whole process has ended (its leader's death is reported after its last thread's). Its
    /// children were reparented by the kernel just before; it is a zombie unless auto-reaped.
    pub(super) fn on_process_ended(&mut self, pid: Pid, task: Task, released: bool) {
        self.namespaces.forget(pid);
        self.explainer.forget(pid);
        self.stats.forget(pid);
        let start = self.start;
        let now = || start.elapsed().as_secs_f64();
        for event in record_reparenting(&mut self.table, &mut self.watcher, pid, now) {
            self.emit(event);
        }
        let time = self.now();
        if Some(pid) == self.root {
            // Our own child: the waitpid that reported its exit also reaped it.
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
            let ignores_sigchld = self
                .stats
                .ignored_signals(task.parent)
                .is_some_and(|ignored| ignored & (1 << (libc::SIGCHLD - 1)) != 0);
            self.emit(Event::Reap(event::Reap {
                time,
                pid,
                reaper: task.parent,
                relation: if ignores_sigchld {
                    Relation::Auto
                } else {
                    // Its parent now, which may be an adopter (a subreaper blocked in wait).
                    task.relation
                },
                zombie_seconds: 0.0,
            }));
        }
        // Otherwise a zombie now, watched since the exit was collected.
    }

    pub(super) fn on_reaped(&mut self, zombie: Zombie) {
        let relation = if zombie.parent == self.tracer_pid {
            Relation::Tracer
        } else {
            zombie.relation
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

/// Records where the kernel moved the children (live or zombie) of a process that just ended:
/// the `reparent` events, each stamped by `now` as it is learnt.
fn record_reparenting(
    table: &mut TaskTable,
    watcher: &mut ReapWatcher,
    dead: Pid,
    now: impl Fn() -> f64,
) -> Vec<Event> {
    let orphans = table.children_of(dead);
    let zombie_orphans = watcher.zombies_of(dead);
    let mut events = Vec::new();
    for pid in orphans.into_iter().chain(zombie_orphans) {
        let Some(status) = inspect::read_status(pid) else {
            continue;
        };
        let to = status.ppid;
        if to == dead || to == 0 {
            continue;
        }
        let adopter = adopter_kind(to);
        table.reparent(pid, to, adopter);
        watcher.reparent(pid, to, adopter);
        events.push(Event::Reparent(event::Reparent {
            time: now(),
            pid,
            from: dead,
            to,
            relation: adopter,
        }));
    }
    events
}

/// An orphan goes to a subreaper ancestor or to its namespace's init; init is the one whose pid
/// in its own namespace is 1.
pub(crate) fn adopter_kind(adopter: Pid) -> Relation {
    if adopter == 1 {
        return Relation::Init;
    }
    match inspect::read_status(adopter) {
        Some(status) if status.nspid.last() == Some(&1) => Relation::Init,
        _ => Relation::Subreaper,
    }
}
