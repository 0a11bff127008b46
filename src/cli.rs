//! cli: the command line, parsed with clap. Each `///` doc is the long help (`--help`), each
//! `help = "…"` the one-liner (`-h`). Nothing here traces or renders.

use clap::{ArgAction, Parser, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "clonetrace",
    version = env!("CLONETRACE_VERSION"),
    about = "Trace how Linux creates and ends processes and threads",
    long_about = "Runs COMMAND under ptrace and follows every fork, vfork, clone and clone3 it and its \
descendants make: each call decoded (flags, exit signal, stack, tid pointers, tls, clone3's pidfd, \
set_tid and cgroup), each exec, each exit, shown live in strace's vocabulary and, with --tree, as \
a tree of processes and their threads.",
    after_help = "Example: clonetrace --tree sh -c 'ls | wc -l'",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub subcommand: Option<Subcommand>,

    #[command(flatten)]
    pub trace: TraceArgs,

    /// The command to trace and its arguments, after clonetrace's own options (as strace takes
    /// it: everything from the first word that is not an option belongs to the command). Use
    /// `--` before a command named like a subcommand (`clonetrace -- view`). Its stdin, stdout,
    /// stderr and environment are its own; clonetrace exits with its exit status (or 128+signal).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        help = "The command to trace, with its arguments (after clonetrace's options)",
        long_help,
        required_unless_present_any = ["attach", "system"],
        conflicts_with_all = ["attach", "system"],
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Re-render a trace recorded with `--json -o FILE`, through the same model and views as a
    /// live trace. With no view option, prints the tree.
    #[command(about = "Re-render a recorded trace (--json -o FILE)")]
    View(ViewCommand),
    /// Put the creation calls of two or more recorded traces side by side, rows aligned by role
    /// (thread creation, process spawn, fork), differences highlighted.
    #[command(about = "Compare how recorded traces create processes and threads")]
    Compare(CompareCommand),
    /// The classroom tour: built-in scenarios, each explained in plain words, traced live, shown
    /// as a tree, and closed with what to notice. No compiler or files needed.
    #[command(about = "Run the built-in tour of how Linux creates and ends processes")]
    Demo(DemoCommand),
    /// Print shell completions for bash, zsh or fish.
    #[command(about = "Print shell completions (bash, zsh, fish)")]
    Completions(CompletionsCommand),
    /// Print the man page (roff), generated from this command line's definition.
    #[command(about = "Print the man page")]
    Man,
}

#[derive(Debug, clap::Args)]
pub struct DemoCommand {
    /// Scenarios to run, in the order given; all of them when none is named.
    #[arg(value_name = "SCENARIO")]
    pub names: Vec<String>,

    /// List the scenarios with one line each.
    #[arg(long, help = "List the scenarios", long_help)]
    pub list: bool,

    #[command(flatten)]
    pub trace: TraceArgs,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsCommand {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ViewCommand {
    /// The JSON-lines recording.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Print the live lines again.
    #[arg(long, help = "Print the live lines", long_help)]
    pub live: bool,

    #[command(flatten)]
    pub views: ViewArgs,

    #[command(flatten)]
    pub display: DisplayArgs,
}

#[derive(Debug, clap::Args)]
pub struct CompareCommand {
    /// Two or more JSON-lines recordings.
    #[arg(value_name = "FILE", num_args = 2.., required = true)]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub display: DisplayArgs,
}

/// The views computed from the whole trace, printed or written when it ends.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewArgs {
    /// Print the tree of processes and threads when the trace ends, where live lines go.
    #[arg(long, help = "Print the process tree at the end", long_help)]
    pub tree: bool,

    /// Draw the tree with ASCII instead of Unicode box-drawing characters.
    #[arg(long, help = "Draw the tree with ASCII characters", long_help)]
    pub ascii: bool,

    /// Write the process tree as a Graphviz DOT graph to FILE (render with `dot -Tsvg`).
    #[arg(
        long,
        value_name = "FILE",
        help = "Write a Graphviz DOT graph to FILE",
        long_help
    )]
    pub dot: Option<PathBuf>,

    /// Write a Chrome trace-event JSON timeline to FILE: open it in ui.perfetto.dev or
    /// chrome://tracing.
    #[arg(
        long,
        value_name = "FILE",
        help = "Write a Perfetto/Chrome timeline to FILE",
        long_help
    )]
    pub timeline: Option<PathBuf>,

    /// Write the trace as one self-contained HTML page to FILE: the process tree, a timeline,
    /// the table of creation calls, and each call's flags explained on hover or click. It loads
    /// nothing from the network, so it opens offline and projects well.
    #[arg(
        long,
        value_name = "FILE",
        help = "Write a self-contained HTML page to FILE",
        long_help
    )]
    pub html: Option<PathBuf>,

    /// Print a table of the creation calls grouped by program, syscall, flags, exit signal and
    /// stack size, with counts: how this runtime creates processes and threads.
    #[arg(long, help = "Print a table of creation calls at the end", long_help)]
    pub summary: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TraceArgs {
    /// Follow forks, vforks, clones and clone3 calls. Always on; accepted for strace users.
    #[arg(
        short = 'f',
        help = "Follow children (always on; accepted for strace users)",
        long_help
    )]
    pub follow: bool,

    /// Write the record (live lines, or JSON lines with --json) to FILE instead of standard
    /// error. With --json, live lines still go to standard error.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        help = "Write the record to FILE [default: stderr]",
        long_help
    )]
    pub output: Option<PathBuf>,

    /// Record JSON lines (one event per line, the format `clonetrace view` reads) instead of live
    /// lines: to the -o FILE if given (live lines then stay on standard error), else to standard
    /// error.
    #[arg(
        long,
        help = "Record JSON lines (to -o FILE, live lines stay on stderr)",
        long_help
    )]
    pub json: bool,

    #[command(flatten)]
    pub views: ViewArgs,

    #[command(flatten)]
    pub display: DisplayArgs,

    /// Attach to the running process PID (every thread of it) instead of starting a command,
    /// and follow what it creates from then on. Repeat for several processes. Ctrl-C, SIGTERM or
    /// SIGHUP detach from everything, leaving the processes running as before, and print what
    /// was gathered.
    #[arg(
        short = 'p',
        long = "attach",
        id = "attach",
        value_name = "PID",
        help = "Attach to a running process (repeatable)",
        long_help
    )]
    pub attach: Vec<i32>,

    /// With -p: also attach to the descendants the processes already have.
    #[arg(
        long,
        requires = "attach",
        help = "With -p, also attach to existing descendants",
        long_help
    )]
    pub descendants: bool,

    /// Spawn mode: if clonetrace is killed, the kernel kills the traced command and every traced
    /// descendant (PTRACE_O_EXITKILL). Without it they are detached and go on running.
    #[arg(
        long,
        conflicts_with = "attach",
        help = "Kill the traced tasks if clonetrace dies",
        long_help
    )]
    pub kill_on_exit: bool,

    /// Run the command as USER (its uid, gid and groups), as strace -u does, so a classroom demo
    /// need not run as root. clonetrace itself must be root.
    #[arg(
        short = 'u',
        value_name = "USER",
        conflicts_with = "attach",
        help = "Run the command as USER (needs root)",
        long_help
    )]
    pub user: Option<String>,

    /// Syscall-level detail: also record creation calls that fail (with their errno: EAGAIN at
    /// RLIMIT_NPROC, EINVAL, EPERM for namespaces) and which wait call reaped each zombie
    /// (wait4/waitid, its pid argument and options). The command then runs under a seccomp
    /// filter that stops only clone, clone3, fork, vfork, wait4 and waitid; such a filter can
    /// never be removed, so if clonetrace is killed those calls fail with ENOSYS in the traced
    /// program. Without root it also sets no_new_privs (setuid programs lose their privileges).
    /// With -p no filter can be installed: every task then runs under PTRACE_SYSCALL (slower).
    #[arg(
        long,
        help = "Also record failed creations and the wait calls that reap",
        long_help
    )]
    pub syscalls: bool,

    /// Once every traced task has ended, wait this long for zombies still awaiting their reap
    /// (an orphan adopted by init may wait seconds), then report them as still zombies.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 300,
        help = "Wait MS for outstanding reaps at the end",
        long_help
    )]
    pub reap_grace: u64,

    /// The tracing engine. `ptrace` stops each traced task at every creation, exec and exit
    /// (exact, works unprivileged, costs a few context switches per event). `ebpf` copies the
    /// same facts from kernel tracepoints into a ring buffer and never stops a task (needs root
    /// or CAP_BPF and CAP_PERFMON, and a kernel with BTF); it cannot attach with -p, and some
    /// fields are null with it (see the README's record format).
    #[arg(long, value_enum, default_value_t = BackendChoice::Ptrace, value_name = "NAME", help = "Tracing engine: ptrace or ebpf", long_help)]
    pub backend: BackendChoice,

    /// Trace every process and thread created on the machine until Ctrl-C, SIGTERM or SIGHUP,
    /// like forkstat, but decoded (eBPF engine; implies --backend ebpf). Narrow it with --comm,
    /// --cgroup and --pid-tree: a task any of them selects is traced, with everything it
    /// creates from then on.
    #[arg(
        long,
        conflicts_with = "attach",
        help = "Trace the whole machine until Ctrl-C (eBPF)",
        long_help
    )]
    pub system: bool,

    /// With --system: trace tasks named NAME (their comm, as ps -o comm shows it, at most 15
    /// bytes) and what they create.
    #[arg(
        long,
        value_name = "NAME",
        requires = "system",
        help = "With --system, trace tasks named NAME",
        long_help
    )]
    pub comm: Option<String>,

    /// With --system: trace tasks in the cgroup (v2) directory PATH or below it, and what they
    /// create.
    #[arg(
        long,
        value_name = "PATH",
        requires = "system",
        help = "With --system, trace tasks in cgroup PATH",
        long_help
    )]
    pub cgroup: Option<PathBuf>,

    /// With --system: trace the running process PID, its threads and existing descendants,
    /// and everything they create from then on.
    #[arg(
        long,
        value_name = "PID",
        requires = "system",
        help = "With --system, trace PID and its descendants",
        long_help
    )]
    pub pid_tree: Option<i32>,
    /// Print the creator's user stack under each creation, as strace -k does, and store it as
    /// `backtrace` in the JSON record: unwound from each file's CFI (.eh_frame), so it crosses
    /// glibc's clone and clone3 wrappers where strace -k stops, and symbolized from .symtab,
    /// .dynsym and installed build-id debug files (libc6-dbg names glibc's static functions
    /// such as system()'s do_system). Costs an unwind per creation.
    #[arg(
        short = 'k',
        long,
        help = "Show the creator's stack at each creation",
        long_help
    )]
    pub backtrace: bool,

    /// At each task's end, count the pages of its stack it touched (resident or swapped), and
    /// record them as `stack_used` in its exit (the tree says "used 12 KiB of 8 MiB"). A thread
    /// is measured over its own stack, a process over its main stack against RLIMIT_STACK; a
    /// forked child's main stack includes the pages it inherited. Costs an exit stop per task.
    #[arg(long, help = "Measure how much of its stack each task used", long_help)]
    pub stack_usage: bool,
}

/// How live lines and the tree look.
#[derive(Debug, Clone, clap::Args)]
pub struct DisplayArgs {
    /// Prefix each live line with the wall-clock time: -t seconds, -tt microseconds, -ttt seconds
    /// since the epoch (as strace).
    #[arg(short = 't', action = ArgAction::Count, help = "Wall-clock timestamps (-tt: µs, -ttt: epoch)", long_help)]
    pub timestamps: u8,

    /// Prefix each live line with the time since the previous line (as strace -r).
    #[arg(
        short = 'r',
        help = "Relative timestamps (time since the previous line)",
        long_help
    )]
    pub relative: bool,

    /// Show at most N characters of each argv string in live lines.
    #[arg(
        short = 's',
        value_name = "N",
        default_value_t = 32,
        help = "Cap argv strings at N characters",
        long_help
    )]
    pub string_limit: usize,

    /// When to colour the live lines and the tree. `auto` colours a terminal unless NO_COLOR is
    /// set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help = "When to colour live lines and the tree", long_help)]
    pub color: ColorChoice,
}

/// Options that take a value as the next word, so the scan below can step over it.
const TAKES_VALUE: &[&str] = &[
    "-o",
    "--output",
    "-p",
    "--attach",
    "-s",
    "-u",
    "--dot",
    "--timeline",
    "--html",
    "--reap-grace",
    "--color",
    "--backend",
    "--comm",
    "--cgroup",
    "--pid-tree",
];

/// strace's options that clonetrace does not have, with what to use instead: a strace user's
/// hands type them, and a one-line hint helps more than clap's "unexpected argument".
pub fn strace_hint(args: &[OsString]) -> Option<String> {
    let mut words = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(word) = words.next() {
        if word == "--" || !word.starts_with('-') {
            return None;
        }
        if TAKES_VALUE.contains(&word) {
            words.next();
            continue;
        }
        let hint = match word {
            "-e" | "--expr" => {
                "-e filters syscalls in strace; clonetrace always follows exactly what \
                strace -f -e trace=process shows, decoded (add --syscalls for failed creations and \
                the wait calls that reap)"
            }
            w if w.starts_with("-e") && !w.starts_with("--") => {
                "-e filters syscalls in strace; clonetrace always follows exactly what strace -f \
                 -e trace=process shows, decoded (add --syscalls for failed creations and the \
                 wait calls that reap)"
            }
            "-c" | "-C" | "--summary-only" => {
                "-c counts syscalls in strace; for a table of creation calls use --summary"
            }
            "-ff" => {
                "-ff writes a file per process in strace; clonetrace writes one record: \
                --json -o FILE, then clonetrace view FILE --tree"
            }
            "-y" | "-yy" | "-v" | "-x" | "-xx" | "-X" => {
                return Some(format!(
                    "{word} changes how strace prints arguments; clonetrace decodes creation \
                     calls fully already (--json for the raw record)"
                ));
            }
            _ => continue,
        };
        return Some(hint.to_string());
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    Ptrace,
    Ebpf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    #[test]
    fn subcommands_need_no_command() {
        let cli = Cli::try_parse_from(["clonetrace", "view", "x.jsonl", "--summary"]).unwrap();
        assert!(matches!(cli.subcommand, Some(Subcommand::View(_))));
    }

    use super::*;
    use clap::CommandFactory;

    /// README's options section is the real `-h` output.
    #[test]
    fn readme_shows_the_real_short_help() {
        let help = Cli::command().render_help().to_string();
        let help = &help[help.find("Usage:").unwrap()..];
        let readme = include_str!("../README.md");
        let start = readme
            .find("## Options\n\n```\n")
            .expect("README has an options block")
            + "## Options\n\n```\n".len();
        let end = start + readme[start..].find("```").unwrap();
        assert_eq!(readme[start..end].trim_end(), help.trim_end());
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn command_follows_double_dash() {
        let cli = Cli::try_parse_from(["clonetrace", "--tree", "--", "sh", "-c", "true"]).unwrap();
        assert!(cli.trace.views.tree);
        assert_eq!(cli.command, ["sh", "-c", "true"]);
    }
}
