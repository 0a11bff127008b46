//! stop: what a wait status means for the engine, as a `Stop`. One pure function of the raw status
//! and what the engine knows of the task; no ptrace, no I/O, so every case is unit-tested without
//! a process. Each variant says how the engine resumes the tracee.

use crate::decode::wait::{WaitStatus, decode_wait_status};

/// What the engine's task table says about the task a status came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Not in the table: a new task whose creator's event has not been seen.
    Unknown,
    /// Its first stop came before its creator's event; kept stopped until that event.
    Held,
    /// Its creation is reported; its first stop has not come yet.
    Awaited,
    /// Reported and past its first stop (possibly inside a `--syscalls` call).
    Running,
}

/// How a task ended, as waitpid reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `exit(code)`.
    Code(i32),
    /// Killed by `signal`.
    Signal { signal: i32, core_dumped: bool },
}

/// One stop, classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The task is gone (exited or killed). Nothing to resume; a held task keeps the status until
    /// its creation is reported.
    Ended(Exit),
    /// An awaited task's first stop, whatever it is: resumed (PTRACE_CONT, no signal), without
    /// the exit stop it may have inherited.
    First,
    /// A new task's first stop (`PTRACE_EVENT_STOP`) before its creator's event: not resumed
    /// until that event, so every task's events follow its creation.
    BeforeCreation,
    /// A stop from an unknown or held task that is not a first stop: SIGKILL came first and it is
    /// on its way out. Announced as far as /proc tells, then resumed without a signal.
    Unannounced,
    /// `PTRACE_EVENT_FORK`/`VFORK`/`CLONE` (the `event`): resumed, so the creator returns from
    /// the call (a vfork parent then blocks in the kernel until its child execs or exits).
    Creation { event: i32 },
    /// `PTRACE_EVENT_EXEC`: resumed.
    Exec,
    /// `PTRACE_EVENT_EXIT` (only multi-threaded leaders ask for it): resumed, to its death.
    LeaderExit,
    /// `PTRACE_EVENT_SECCOMP` (`--syscalls` in spawn mode): a creation or wait call starts;
    /// resumed with PTRACE_SYSCALL to its syscall-exit stop, where its result shows.
    Seccomp,
    /// A syscall-stop (`SIGTRAP | 0x80`, `--syscalls`): entry or exit, which only the kernel
    /// tells (PTRACE_GET_SYSCALL_INFO). Resumed without a signal.
    Syscall,
    /// A signal-delivery stop: reported, and resumed delivering the signal so the program's
    /// handlers run (real-time signals too).
    SignalDelivery(i32),
    /// A group-stop by this stop signal (`PTRACE_EVENT_STOP`): PTRACE_LISTEN, so it stays
    /// stopped for job control and SIGCONT wakes it as without us.
    Group(i32),
    /// `PTRACE_EVENT_STOP` by no stop signal: our PTRACE_INTERRUPT or the end of a listened
    /// group-stop. Resumed.
    Interrupt,
    /// Any other ptrace event (`PTRACE_EVENT_VFORK_DONE`, ones we never ask for): resumed.
    OtherEvent(i32),
    /// `WIFCONTINUED`: not a stop (we never ask for it). Nothing to do.
    Continued,
}

/// Classifies the raw status waitpid returned for a task the engine knows as `known`.
pub fn classify(raw: i32, known: Known) -> Stop {
    let (signal, event) = match decode_wait_status(raw) {
        WaitStatus::Exited(code) => return Stop::Ended(Exit::Code(code)),
        WaitStatus::Signaled {
            signal,
            core_dumped,
        } => {
            return Stop::Ended(Exit::Signal {
                signal,
                core_dumped,
            });
        }
        WaitStatus::Continued => return Stop::Continued,
        WaitStatus::Stopped { signal, event } => (signal, event),
    };
    match known {
        Known::Awaited => return Stop::First,
        Known::Unknown if event == libc::PTRACE_EVENT_STOP => return Stop::BeforeCreation,
        Known::Unknown | Known::Held => return Stop::Unannounced,
        Known::Running => {}
    }
    match event {
        libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
            Stop::Creation { event }
        }
        libc::PTRACE_EVENT_SECCOMP => Stop::Seccomp,
        libc::PTRACE_EVENT_EXIT => Stop::LeaderExit,
        libc::PTRACE_EVENT_EXEC => Stop::Exec,
        libc::PTRACE_EVENT_STOP if is_stop_signal(signal) => Stop::Group(signal),
        libc::PTRACE_EVENT_STOP => Stop::Interrupt,
        0 if signal == libc::SIGTRAP | 0x80 => Stop::Syscall,
        0 => Stop::SignalDelivery(signal),
        other => Stop::OtherEvent(other),
    }
}

fn is_stop_signal(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status the kernel stores for a stop by `signal` with ptrace event `event`: what
    /// `W_STOPCODE(signal) | event << 16` gives, checked against libc's macros.
    fn stopped(signal: i32, event: i32) -> i32 {
        let raw = (event << 16) | (signal << 8) | 0x7f;
        assert!(libc::WIFSTOPPED(raw) && libc::WSTOPSIG(raw) == signal);
        raw
    }

    fn exited(code: i32) -> i32 {
        let raw = code << 8;
        assert!(libc::WIFEXITED(raw) && libc::WEXITSTATUS(raw) == code);
        raw
    }

    fn killed(signal: i32, core: bool) -> i32 {
        let raw = signal | if core { 0x80 } else { 0 };
        assert!(libc::WIFSIGNALED(raw) && libc::WTERMSIG(raw) == signal);
        assert_eq!(libc::WCOREDUMP(raw), core);
        raw
    }

    const ALL: [Known; 4] = [Known::Unknown, Known::Held, Known::Awaited, Known::Running];

    #[test]
    fn ends_are_ends_whoever_the_task_is() {
        for known in ALL {
            assert_eq!(classify(exited(0), known), Stop::Ended(Exit::Code(0)));
            assert_eq!(classify(exited(255), known), Stop::Ended(Exit::Code(255)));
            assert_eq!(
                classify(killed(libc::SIGKILL, false), known),
                Stop::Ended(Exit::Signal {
                    signal: libc::SIGKILL,
                    core_dumped: false
                })
            );
            assert_eq!(
                classify(killed(libc::SIGSEGV, true), known),
                Stop::Ended(Exit::Signal {
                    signal: libc::SIGSEGV,
                    core_dumped: true
                })
            );
            // Killed by a real-time signal.
            assert_eq!(
                classify(killed(libc::SIGRTMIN() + 2, false), known),
                Stop::Ended(Exit::Signal {
                    signal: libc::SIGRTMIN() + 2,
                    core_dumped: false
                })
            );
            assert!(libc::WIFCONTINUED(0xffff));
            assert_eq!(classify(0xffff, known), Stop::Continued);
        }
    }

    #[test]
    fn first_stops_by_arrival_order() {
        let attach_stop = stopped(libc::SIGTRAP, libc::PTRACE_EVENT_STOP);
        // Creation reported first: whatever its first stop is, it is the first stop.
        assert_eq!(classify(attach_stop, Known::Awaited), Stop::First);
        assert_eq!(
            classify(
                stopped(libc::SIGTRAP, libc::PTRACE_EVENT_EXIT),
                Known::Awaited
            ),
            Stop::First
        );
        // First stop first: held for the creator's event.
        assert_eq!(classify(attach_stop, Known::Unknown), Stop::BeforeCreation);
        // Anything else from a task nobody announced: it is dying.
        assert_eq!(
            classify(
                stopped(libc::SIGTRAP, libc::PTRACE_EVENT_EXIT),
                Known::Unknown
            ),
            Stop::Unannounced
        );
        assert_eq!(
            classify(stopped(libc::SIGKILL, 0), Known::Unknown),
            Stop::Unannounced
        );
        assert_eq!(classify(attach_stop, Known::Held), Stop::Unannounced);
        assert_eq!(
            classify(stopped(libc::SIGTRAP, libc::PTRACE_EVENT_EXIT), Known::Held),
            Stop::Unannounced
        );
    }

    #[test]
    fn ptrace_events_of_a_running_task() {
        for event in [
            libc::PTRACE_EVENT_FORK,
            libc::PTRACE_EVENT_VFORK,
            libc::PTRACE_EVENT_CLONE,
        ] {
            assert_eq!(
                classify(stopped(libc::SIGTRAP, event), Known::Running),
                Stop::Creation { event }
            );
        }
        let running = |event| classify(stopped(libc::SIGTRAP, event), Known::Running);
        assert_eq!(running(libc::PTRACE_EVENT_EXEC), Stop::Exec);
        assert_eq!(running(libc::PTRACE_EVENT_EXIT), Stop::LeaderExit);
        assert_eq!(running(libc::PTRACE_EVENT_SECCOMP), Stop::Seccomp);
        assert_eq!(
            running(libc::PTRACE_EVENT_VFORK_DONE),
            Stop::OtherEvent(libc::PTRACE_EVENT_VFORK_DONE)
        );
    }

    #[test]
    fn syscall_stops_keep_their_0x80_bit() {
        assert_eq!(
            classify(stopped(libc::SIGTRAP | 0x80, 0), Known::Running),
            Stop::Syscall
        );
        // A plain SIGTRAP (a breakpoint, `kill -TRAP`) is a signal to deliver.
        assert_eq!(
            classify(stopped(libc::SIGTRAP, 0), Known::Running),
            Stop::SignalDelivery(libc::SIGTRAP)
        );
    }

    #[test]
    fn signal_delivery_includes_real_time_signals() {
        for signal in [
            libc::SIGUSR1,
            libc::SIGCHLD,
            libc::SIGSTOP,
            libc::SIGRTMIN(),
            libc::SIGRTMIN() + 5,
            libc::SIGRTMAX(),
        ] {
            assert_eq!(
                classify(stopped(signal, 0), Known::Running),
                Stop::SignalDelivery(signal)
            );
        }
    }

    #[test]
    fn event_stops_are_group_stops_only_for_stop_signals() {
        for signal in [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
            assert_eq!(
                classify(stopped(signal, libc::PTRACE_EVENT_STOP), Known::Running),
                Stop::Group(signal)
            );
        }
        // PTRACE_INTERRUPT reports SIGTRAP; the end of a listened group-stop may report others.
        for signal in [libc::SIGTRAP, libc::SIGCONT, libc::SIGRTMIN()] {
            assert_eq!(
                classify(stopped(signal, libc::PTRACE_EVENT_STOP), Known::Running),
                Stop::Interrupt
            );
        }
    }
}
