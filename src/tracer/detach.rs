//! detach: lets go of every tracee without harming it. Each task is interrupted
//! (PTRACE_INTERRUPT, which the program cannot see) and detached at its next stop, delivering the
//! signal of a signal-delivery stop so none is lost; a task in group-stop stays stopped, as job
//! control wants. A task that cannot stop in time (a vfork parent waits in the kernel until its
//! child execs) is detached by the kernel when clonetrace exits, which resumes it.

use super::{Engine, ptrace};
use crate::decode::wait::{WaitStatus, decode_wait_status};
use crate::event::Pid;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long to wait for interrupted tasks to stop before leaving the rest to the kernel.
const DETACH_WAIT: Duration = Duration::from_millis(500);

impl Engine<'_> {
    pub(super) fn detach_all(&mut self) {
        // Tasks held at their first stop are stopped now: detach them at once.
        for tid in std::mem::take(&mut self.held).into_keys() {
            ptrace::detach(tid, 0);
            self.tasks.remove(&tid);
        }
        let mut remaining: HashSet<Pid> = self
            .tasks
            .keys()
            .copied()
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
            match decode_wait_status(raw) {
                status @ (WaitStatus::Exited(_) | WaitStatus::Signaled { .. }) => {
                    self.on_exit(tid, status);
                    remaining.remove(&tid);
                    continue;
                }
                WaitStatus::Stopped { event, .. }
                    if event == libc::PTRACE_EVENT_FORK
                        || event == libc::PTRACE_EVENT_VFORK
                        || event == libc::PTRACE_EVENT_CLONE =>
                {
                    // The new task is attached already: record it and detach it too.
                    self.on_creation(tid);
                    if let Some(child) = ptrace::event_message(tid) {
                        remaining.insert(child as Pid);
                    }
                    self.expected.clear();
                    ptrace::detach(tid, 0);
                }
                // A signal on its way in: hand it over with the detach.
                WaitStatus::Stopped { signal, event: 0 } if signal != libc::SIGTRAP | 0x80 => {
                    ptrace::detach(tid, signal);
                }
                // Our interrupt, a group-stop (stays stopped), a new task's first stop, an exec,
                // exit or syscall stop: nothing pending to deliver.
                WaitStatus::Stopped { .. } => {
                    ptrace::detach(tid, 0);
                }
                WaitStatus::Continued => continue,
            }
            remaining.remove(&tid);
            self.tasks.remove(&tid);
        }
        self.tasks.clear();
        self.expected.clear();
    }
}
