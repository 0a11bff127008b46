//! detach: lets go of every tracee without harming it. Each task is interrupted
//! (PTRACE_INTERRUPT, which the program cannot see) and detached at its next stop, delivering the
//! signal of a signal-delivery stop so none is lost; a task in group-stop stays stopped, as job
//! control wants. A task that cannot stop in time (a vfork parent waits in the kernel until its
//! child execs) is detached by the kernel when clonetrace exits, which resumes it.

use super::stop::{Known, Stop, classify};
use super::{Engine, ptrace};
use crate::event::Pid;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long to wait for interrupted tasks to stop before leaving the rest to the kernel.
const DETACH_WAIT: Duration = Duration::from_millis(500);

impl Engine<'_> {
    pub(super) fn detach_all(&mut self) {
        // Tasks held at their first stop are stopped now: detach them at once.
        for tid in self.table.held() {
            ptrace::detach(tid, 0);
            self.table.remove(tid);
        }
        let mut remaining: HashSet<Pid> = self
            .table
            .tids()
            .into_iter()
            .filter(|&tid| ptrace::interrupt(tid))
            .collect();
        let deadline = Instant::now() + DETACH_WAIT;
        while !remaining.is_empty() && Instant::now() < deadline {
            let mut raw = 0;
            let tid = unsafe { libc::waitpid(-1, &mut raw, libc::__WALL | libc::WNOHANG) };
            if tid < 0 {
                break;
            }
            if tid == 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                self.watcher.wait(left.as_millis().clamp(1, 50) as i32);
                continue;
            }
            // Every stop now is one to detach at: nothing is held or announced any more, so a
            // new task's first stop counts as a running task's.
            match classify(raw, Known::Running) {
                Stop::Ended(exit) => {
                    self.on_exit(tid, exit);
                    remaining.remove(&tid);
                    continue;
                }
                Stop::Creation { .. } => {
                    // The new task is attached already: record it and detach it too.
                    self.on_creation(tid);
                    if let Some(child) = ptrace::event_message(tid) {
                        remaining.insert(child as Pid);
                    }
                    ptrace::detach(tid, 0);
                }
                // A signal on its way in: hand it over with the detach.
                Stop::SignalDelivery(signal) => {
                    ptrace::detach(tid, signal);
                }
                Stop::Continued => continue,
                // Our interrupt, a group-stop (stays stopped), a new task's first stop, an exec,
                // exit or syscall stop: nothing pending to deliver.
                _ => {
                    ptrace::detach(tid, 0);
                }
            }
            remaining.remove(&tid);
            self.table.remove(tid);
        }
        self.table.clear();
    }
}
