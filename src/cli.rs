//! cli: the command line, parsed with clap. Each `///` doc is the long help (`--help`), each
//! `help = "…"` the one-liner (`-h`). Nothing here traces or renders.

use clap::{ArgAction, Parser, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "clonetrace",
    version,
    about = "Trace how Linux creates and ends processes and threads",
    long_about = "Runs COMMAND under ptrace and follows every fork, vfork, clone and clone3 it and its \
descendants make: each call decoded (flags, exit signal, stack, tid pointers, tls, clone3's pidfd, \
set_tid and cgroup), each exec, each exit, shown live in strace's vocabulary and, with --tree, as \
a tree of processes and their threads.",
    after_help = "Example: clonetrace --tree -- sh -c 'ls | wc -l'"
)]
pub struct Cli {
    #[command(flatten)]
    pub trace: TraceArgs,

    /// The command to trace, after `--`. Its stdin, stdout, stderr and environment are its own;
    /// clonetrace exits with its exit status (or 128+signal).
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// Follow forks, vforks, clones and clone3 calls. Always on; accepted for strace users.
    #[arg(
        short = 'f',
        help = "Follow children (always on; accepted for strace users)"
    )]
    pub follow: bool,

    /// Write the record (live lines, or JSON lines with --json) to FILE instead of standard
    /// error. With --json, live lines still go to standard error.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        help = "Write the record to FILE [default: stderr]"
    )]
    pub output: Option<PathBuf>,

    /// Record JSON lines (one event per line, the format `clonetrace view` reads) instead of live
    /// lines: to the -o FILE if given (live lines then stay on standard error), else to standard
    /// error.
    #[arg(
        long,
        help = "Record JSON lines (to -o FILE, live lines stay on stderr)"
    )]
    pub json: bool,

    /// Print the tree of processes and threads when the trace ends, where live lines go.
    #[arg(long, help = "Print the process tree at the end")]
    pub tree: bool,

    /// Draw the tree with ASCII instead of Unicode box-drawing characters.
    #[arg(long, help = "Draw the tree with ASCII characters")]
    pub ascii: bool,

    /// Prefix each live line with the wall-clock time: -t seconds, -tt microseconds, -ttt seconds
    /// since the epoch (as strace).
    #[arg(short = 't', action = ArgAction::Count, help = "Wall-clock timestamps (-tt: µs, -ttt: epoch)")]
    pub timestamps: u8,

    /// Prefix each live line with the time since the previous line (as strace -r).
    #[arg(
        short = 'r',
        help = "Relative timestamps (time since the previous line)"
    )]
    pub relative: bool,

    /// Show at most N characters of each argv string in live lines.
    #[arg(
        short = 's',
        value_name = "N",
        default_value_t = 32,
        help = "Cap argv strings at N characters [default: 32]"
    )]
    pub string_limit: usize,

    /// When to colour the live lines and the tree. `auto` colours a terminal unless NO_COLOR is
    /// set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help = "Colour: auto, always, never [default: auto]")]
    pub color: ColorChoice,

    /// Once every traced task has ended, wait this long for zombies still awaiting their reap
    /// (an orphan adopted by init may wait seconds), then report them as still zombies.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 300,
        help = "Wait MS for outstanding reaps at the end [default: 300]"
    )]
    pub reap_grace: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn command_follows_double_dash() {
        let cli = Cli::try_parse_from(["clonetrace", "--tree", "--", "sh", "-c", "true"]).unwrap();
        assert!(cli.trace.tree);
        assert_eq!(cli.command, ["sh", "-c", "true"]);
    }
}
