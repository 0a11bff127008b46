//! signals: the tracer's own signal set-up. SIGCHLD is blocked and read through a signalfd (it
//! only wakes the event loop). SIGINT, SIGTERM and SIGHUP are counted by a handler that does not
//! restart syscalls, so a blocking waitpid returns and the loop can decide to detach. SIGQUIT is
//! ignored: the terminal sends it to the traced program, which decides alone. The command gets
//! the dispositions and mask clonetrace was started with.

use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction, sigprocmask,
};
use std::sync::atomic::{AtomicUsize, Ordering};

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);
static TERMINATIONS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count(signal: libc::c_int) {
    // Only an atomic add: async-signal-safe.
    if signal == libc::SIGINT {
        INTERRUPTS.fetch_add(1, Ordering::Relaxed);
    } else {
        TERMINATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many SIGINTs, and SIGTERMs or SIGHUPs, clonetrace itself has received.
pub fn received() -> (usize, usize) {
    (
        INTERRUPTS.load(Ordering::Relaxed),
        TERMINATIONS.load(Ordering::Relaxed),
    )
}

pub struct TracerSignals {
    pub original_mask: SigSet,
    pub watched: SigSet,
    pub original_actions: Vec<(Signal, SigAction)>,
}

impl TracerSignals {
    pub fn install() -> Self {
        let mut watched = SigSet::empty();
        watched.add(Signal::SIGCHLD);
        let mut original_mask = SigSet::empty();
        let _ = sigprocmask(
            SigmaskHow::SIG_BLOCK,
            Some(&watched),
            Some(&mut original_mask),
        );
        // No SA_RESTART: the signal must interrupt waitpid and epoll_wait.
        let counting = SigAction::new(
            SigHandler::Handler(count),
            SaFlags::empty(),
            SigSet::empty(),
        );
        let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
        let mut original_actions = Vec::new();
        for (signal, action) in [
            (Signal::SIGINT, &counting),
            (Signal::SIGTERM, &counting),
            (Signal::SIGHUP, &counting),
            (Signal::SIGQUIT, &ignore),
        ] {
            // SAFETY: the handler only touches atomics.
            if let Ok(old) = unsafe { sigaction(signal, action) } {
                original_actions.push((signal, old));
            }
        }
        TracerSignals {
            original_mask,
            watched,
            original_actions,
        }
    }

    pub fn restore(&self) {
        for (signal, action) in &self.original_actions {
            let _ = unsafe { sigaction(*signal, action) };
        }
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.original_mask), None);
    }
}
