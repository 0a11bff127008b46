//! The one integration test binary: each module holds the tests of one behaviour, run against the
//! real clonetrace binary and the C programs in fixtures/.

mod cli;
mod common;
mod containers;
mod creation;
mod deep;
mod demo;
mod ebpf;
mod exec;
mod exit_status;
mod explain;
mod fixtures_untraced;
mod golden;
mod hostile;
mod html;
mod lifecycle;
mod pid_reuse;
mod pipes;
mod record;
mod robustness;
mod signals;
mod strace_crosscheck;
mod syscalls;
mod threads;
mod views;
