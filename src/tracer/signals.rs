//! signals: the tracer's own signal set-up. SIGCHLD is blocked and read through a signalfd (it
//! only wakes the event loop). SIGINT, SIGTERM and SIGHUP are counted by a handler that does not
//! restart syscalls, so a blocking waitpid returns and the loop can decide to detach. SIGQUIT is
//! ignored: the terminal sends it to the traced program, which decides alone. The command gets
//! the dispositions and mask clonetrace was started with.

use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction, sigprocmask,
};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);
/// The last SIGTERM or SIGHUP received (0: none).
static TERMINATION: AtomicI32 = AtomicI32::new(0);

extern "C" fn count(signal: libc::c_int) {
    // Only atomics: async-signal-safe.
    if signal == libc::SIGINT {
        INTERRUPTS.fetch_add(1, Ordering::Relaxed);
    } else {
        TERMINATION.store(signal, Ordering::Relaxed);
    }
}

/// How many SIGINTs clonetrace itself has received, and the SIGTERM or SIGHUP if one came.
pub fn received() -> (usize, Option<i32>) {
    let termination = TERMINATION.load(Ordering::Relaxed);
    (
        INTERRUPTS.load(Ordering::Relaxed),
        (termination != 0).then_some(termination),
    )
}

/// Whether SIGPIPE was ignored when clonetrace started. Rust's runtime sets it to ignored before
/// `main`, so it is read earlier, from an `.init_array` constructor, and the command gets what
/// its parent gave us (std's own Command assumes the default instead).
static SIGPIPE_WAS_IGNORED: AtomicBool = AtomicBool::new(false);

extern "C" fn record_sigpipe() {
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: only reads the current disposition.
    if unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) } == 0 {
        SIGPIPE_WAS_IGNORED.store(old.sa_sigaction == libc::SIG_IGN, Ordering::Relaxed);
    }
}

#[used]
#[unsafe(link_section = ".init_array")]
static RECORD_SIGPIPE: extern "C" fn() = record_sigpipe;

/// The SIGPIPE disposition the command should start with.
pub fn original_sigpipe() -> libc::sighandler_t {
    if SIGPIPE_WAS_IGNORED.load(Ordering::Relaxed) {
        libc::SIG_IGN
    } else {
        libc::SIG_DFL
    }
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
