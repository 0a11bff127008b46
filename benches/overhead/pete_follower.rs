//! A follower written the way a user of pete 0.13 would write it: the crate's default options
//! (which follow fork, vfork, clone and exec), and every stop restarted with `Continue`.
//!
//! It is a peer in the benchmark because the design card evaluated pete as the ptrace wrapper:
//! its `wait` polls each tracee with WNOHANG and sleeps with exponential backoff between polls,
//! which is what this column shows.

use std::ffi::OsString;
use std::process::Command;

use pete::{Ptracer, Restart};

/// Follows every task of `cmd` and exits with the root's status (128+signal if killed).
pub fn main(cmd: &[OsString]) -> ! {
    let mut command = Command::new(&cmd[0]);
    command.args(&cmd[1..]);
    let mut ptracer = Ptracer::new();
    let mut child = match ptracer.spawn(command) {
        Ok(child) => child,
        Err(err) => {
            eprintln!("pete follower: spawn {:?}: {err}", cmd[0]);
            std::process::exit(127);
        }
    };
    loop {
        match ptracer.wait() {
            Ok(Some(tracee)) => {
                // A task killed while stopped is not an error for a follower; pete's restart
                // returns the stop's pending signal to the task, so signals are re-injected.
                if let Err(err) = ptracer.restart(tracee, Restart::Continue)
                    && !err.tracee_died()
                {
                    eprintln!("pete follower: restart: {err}");
                    std::process::exit(126);
                }
            }
            Ok(None) => break,
            Err(err) => {
                eprintln!("pete follower: wait: {err}");
                std::process::exit(126);
            }
        }
    }
    // pete detaches each task at its exit stop, so the root is reaped as an ordinary child.
    let status = child.wait().expect("wait for the root");
    std::process::exit(exit_code(status))
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
