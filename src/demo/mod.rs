//! demo: the built-in classroom tour. Owns the list of scenarios, their order and their words
//! (a short explanation before, one "Notice:" sentence after), and runs each one by tracing
//! clonetrace itself re-executed as `NAME-demo` (through `/proc/self/exe`), with `session`. Never
//! decodes or renders a trace itself: what the reader sees of each scenario is exactly what a
//! trace of it shows.

mod scenario;

use crate::error::Error;
use crate::event::Backend;
use crate::session::{self, Color, Plan, Target};
use owo_colors::OwoColorize;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The width the tour's own text is wrapped to.
const WIDTH: usize = 80;

/// The most lines an explanation may take, wrapped to [`WIDTH`].
#[cfg(test)]
const MAX_EXPLANATION_LINES: usize = 6;

/// One stop of the tour.
struct Scenario {
    name: &'static str,
    /// The `--list` line and the heading.
    title: &'static str,
    /// Printed before the trace, wrapped to [`WIDTH`].
    explanation: &'static str,
    /// One sentence printed after the tree, after "Notice: ".
    notice: &'static str,
    /// The program `NAME-demo` runs; returns its exit status.
    program: fn() -> i32,
}

/// The tour, in the order `clonetrace demo` runs it.
const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "fork",
        title: "glibc's fork() is really a clone() system call",
        explanation: "fork() makes a copy of the calling process: same program, same memory \
            (copied lazily, page by page, when either side writes), same open files. It returns \
            twice: 0 in the child, the child's pid in the parent. But glibc's fork() does not use \
            the kernel's fork system call: it calls clone with flags that make it behave like \
            fork, plus two that let the C library keep track of the child's thread id.",
        notice: "The system call is clone, not fork, with \
            flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD (SIGCHLD is the signal the \
            parent gets when this child ends), and the child's getppid() is its parent's \
            getpid().",
        program: scenario::fork,
    },
    Scenario {
        name: "raw-fork",
        title: "the kernel's own fork and vfork system calls, by number",
        explanation: "The kernel still has fork and vfork system calls (57 and 58 on x86-64); \
            glibc just doesn't use the first. This program calls both by number. A vfork child \
            borrows its parent's memory, even its stack, while the parent sleeps, so it must \
            not return from the function that called vfork: this child writes one line and \
            exits in a few instructions of inline assembly that never touch the stack.",
        notice: "This time the live lines say fork() and vfork(), with no flags at all, and \
            the vfork child is a \"vm-shared process\": it ran in its parent's memory until it \
            exited.",
        program: scenario::raw_fork,
    },
    Scenario {
        name: "vfork",
        title: "the parent sleeps until its child execs",
        explanation: "vfork() is fork for a child that will run another program at once: \
            instead of copying the parent's memory, the child borrows it, and the parent is \
            suspended until the child calls execve (or exits) and so gives the memory back. \
            Here the child execs /bin/true, and the parent measures how long vfork() kept it \
            waiting.",
        notice: "glibc's vfork() is the real vfork system call (vfork() in the tree, a \
            vm-shared process in the live line), and the parent's \"after N µs\" is how long it \
            was frozen: the child's whole execve of /bin/true, tracer stops included.",
        program: scenario::vfork,
    },
    Scenario {
        name: "clone-stack",
        title: "glibc's clone() with a 64 KiB stack the caller allocates",
        explanation: "glibc's clone() wrapper starts the child in a function, on a stack the \
            caller provides. Here the caller allocates 64 KiB on its heap and passes the top of \
            the block, because stacks grow down. With no flags but the exit signal SIGCHLD, the \
            child still gets its own copy of all memory, this block included: it is a process, \
            not a thread, and its local variable lies just below the top.",
        notice: "On x86-64 the clone line's child_stack is 16 bytes below the top the parent \
            printed (glibc stores the function and its argument there for the child), and the \
            tree shows clone(0, SIGCHLD): no flags, only the exit signal.",
        program: scenario::clone_stack,
    },
    Scenario {
        name: "threads",
        title: "clone3(CLONE_THREAD): one process, several thread ids",
        explanation: "A thread is a clone3 with CLONE_THREAD: it joins its creator's process, \
            sharing its memory (CLONE_VM), open files, signal handlers and pid; only its thread \
            id (tid) is new. The thread library maps the new thread's stack first. One thread \
            here comes from Rust's std::thread::spawn, one from pthread_create with default \
            attributes; each prints getpid() and gettid().",
        notice: "Both threads print the main thread's pid as getpid() but a tid of their own, \
            their clone3 has exit_signal=0 and the tree shows no zombie or reap for them, and \
            the stacks differ: stack 2 MiB for std::thread (Rust's default) but stack 8 MiB for \
            pthread_create (glibc's default, the RLIMIT_STACK printed above).",
        program: scenario::threads,
    },
    Scenario {
        name: "spawn",
        title: "posix_spawn (Rust's Command) is clone3(CLONE_VM|CLONE_VFORK)",
        explanation: "Rust's std::process::Command starts programs with posix_spawn where it \
            can, and glibc's posix_spawn creates the child with clone3(CLONE_VM|CLONE_VFORK): \
            vfork's trick of borrowing the parent's memory until the exec, but on a small \
            stack of the child's own so it cannot scribble on the parent's. The parent is \
            suspended until /bin/true has been exec'd.",
        notice: "The clone3 line reads flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, \
            stack_size=0x9000: the 36 KiB stack glibc maps just for this child, which the tree \
            shows as stack 36 KiB.",
        program: scenario::spawn,
    },
    Scenario {
        name: "zombie",
        title: "exited, not yet reaped: 300 ms as a zombie",
        explanation: "When a process exits, the kernel keeps a small record of it (its pid and \
            exit status) until the parent collects it with a wait call. Until then the process \
            is a zombie: it runs no code and holds no memory, but its pid stays taken, and ps \
            shows it in state Z. Here the child exits at once and the parent sleeps 300 ms \
            before it calls waitpid.",
        notice: "The child's line in the tree ends with zombie and about 300 ms, then reaped \
            by its parent's pid (parent): the time between its exit and the waitpid, while \
            /proc showed it in state Z.",
        program: scenario::zombie,
    },
    Scenario {
        name: "orphan",
        title: "its parent exits first; a subreaper adopts and reaps it",
        explanation: "A process whose parent exits first is an orphan, and the kernel gives it \
            a new parent: init (pid 1), which reaps whatever it adopts, unless an ancestor has \
            asked to adopt its orphaned descendants by becoming a child subreaper (prctl \
            PR_SET_CHILD_SUBREAPER), as service managers do. Here the top process is a \
            subreaper; its child forks a grandchild and exits, and the top reaps both.",
        notice: "The grandchild's tree line says orphaned, adopted by the top process's pid \
            (subreaper), and that same pid reaps it; without the prctl it would say adopted by \
            1 (init), or by the nearest subreaper above clonetrace.",
        program: scenario::orphan,
    },
    Scenario {
        name: "signal-death",
        title: "killed by SIGINT, and the wait status the parent reads",
        explanation: "A process can also end because a signal kills it. SIGINT is what Ctrl+C \
            sends, and unless a program catches or ignores it, it ends the process. The parent \
            learns how its child died from the wait status: WIFSIGNALED is true and WTERMSIG \
            gives the signal's number. (A child that caught SIGINT and then called _exit(0) \
            would report an ordinary exit with status 0 instead.)",
        notice: "The child's line says +++ killed by SIGINT +++ and the parent's waitpid \
            status is 0x0002: no exit code at all, only signal 2 in the low bits (a shell shows \
            this as status 130, 128 + 2).",
        program: scenario::signal_death,
    },
    Scenario {
        name: "exit-signal",
        title: "clone() with exit signal SIGUSR1, reaped with __WCLONE",
        explanation: "The low byte of clone's flags is the exit signal: what the parent \
            receives when the child ends. fork uses SIGCHLD; this child gets SIGUSR1 instead, \
            so the parent catches SIGUSR1 (its default action would kill it). And waitpid \
            skips such a \"clone child\" unless asked with __WCLONE (or __WALL): a plain \
            waitpid finds no child at all.",
        notice: "The clone line reads flags=SIGUSR1 with no CLONE_ flag, the parent gets \
            --- SIGUSR1 --- where it would get SIGCHLD, and its plain waitpid fails with ECHILD \
            while waitpid with __WCLONE reaps the child (reaped by its pid (parent) in the \
            tree).",
        program: scenario::exit_signal,
    },
    Scenario {
        name: "namespace",
        title: "clone(CLONE_NEWPID): pid 1 inside, a real pid outside",
        explanation: "CLONE_NEWPID starts the child in a new PID namespace, one of the kernel \
            mechanisms containers are built from. Inside it the child is pid 1, the \
            namespace's init, and its parent is outside, so its getppid() is 0; from outside it \
            is an ordinary process with an ordinary pid. Making a namespace needs \
            CAP_SYS_ADMIN: without it clone fails with EPERM, and the scenario says so.",
        notice: "The tree shows the child as OUTER/1 (its pid outside, then inside the \
            namespace) with the line new pid namespace (clone) under it, and the clone line \
            says flags=CLONE_NEWPID|SIGCHLD and pid 1 in its PID namespace (if clone failed \
            with EPERM above, there is no child to show).",
        program: scenario::namespace,
    },
    Scenario {
        name: "container",
        title: "a container in two calls: unshare(), then fork() its init",
        explanation: "A container is processes in namespaces of their own. Here a process \
            calls unshare(CLONE_NEWUTS|CLONE_NEWPID): it gets its own host name at once, but a \
            new PID namespace only for its children, so it stays what it was and its next \
            child is pid 1 there, the container's init. runc does exactly this. Namespace \
            calls make no fork event: clonetrace compares /proc/PID/ns at its stops, and \
            names the unshare itself with --syscalls, which the tour turns on here.",
        notice: "The unshare line names its flags and what they made (a new uts namespace, \
            and a pid namespace for its children), and the tree shows the child as OUTER/1 \
            with new pid namespace (unshare) under it: it got its namespace from its \
            parent's call, not from a flag of its own.",
        program: scenario::container,
    },
    Scenario {
        name: "stacks",
        title: "where each thread's stack lives, and how much of it was used",
        explanation: "Every thread needs a stack. glibc's pthread_create maps one as big as \
            RLIMIT_STACK (8 MiB by default) with a guard page below; pthread_attr_setstacksize \
            asks for another size; the seeds' clone() runs the child on any memory you pass, \
            here a static 64 KiB array. The pages a task never touches cost no memory: run with \
            --stack-usage, clonetrace counts, when each task ends, the pages it made its own.",
        notice: "Each call says where its stack lies (an mmap with a guard page, or the \
            program's .bss) and each end says how much was used; glibc gives a finished \
            thread's stack back to the kernel except its top 16 KiB before the thread ends, \
            so threads show at most that much.",
        program: scenario::stacks,
    },
    Scenario {
        name: "limits",
        title: "RLIMIT_NPROC: when fork fails with EAGAIN",
        explanation: "The kernel refuses a new process or thread with EAGAIN when the user \
            would have more tasks than RLIMIT_NPROC allows. The limit does not bind root, so as \
            root this program sets it to 4 and becomes nobody; then it forks until a fork \
            fails. A failed call makes no fork event: clonetrace sees it only with --syscalls, \
            which the tour turns on here.",
        notice: "The failed clone says EAGAIN and names the limit (RLIMIT_NPROC and how many \
            tasks the user ran), and the tree lists it under the process that made the call.",
        program: scenario::limits,
    },
];

/// What a lesson needs of the tracer beyond the user's plan.
fn lesson_needs(name: &str, plan: &mut Plan) {
    match name {
        "container" => plan.syscalls = true,
        // Measuring needs a stopped task: with the eBPF engine the lesson shows regions only.
        "stacks" => plan.stack_usage = plan.backend == Backend::Ptrace,
        "limits" => plan.syscalls = true,
        _ => {}
    }
}

fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

fn names() -> String {
    SCENARIOS
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name a scenario's program runs under: `fork-demo`.
pub fn program_name(scenario: &str) -> String {
    format!("{scenario}{PROGRAM_SUFFIX}")
}

const PROGRAM_SUFFIX: &str = "-demo";

/// The scenario this process was started as (argv[0] `fork-demo`), if any.
pub fn scenario_of(argv0: &std::ffi::OsStr) -> Option<&'static str> {
    let name = argv0.to_str()?.rsplit('/').next()?;
    let scenario = name.strip_suffix(PROGRAM_SUFFIX)?;
    find(scenario).map(|s| s.name)
}

/// `fork-demo`: runs one scenario's program in this process.
pub fn run_scenario(name: &str) -> i32 {
    match find(name) {
        Some(scenario) => (scenario.program)(),
        None => {
            eprintln!("clonetrace: no scenario {name:?} (scenarios: {})", names());
            2
        }
    }
}

/// `clonetrace demo [--list] [NAME…]`.
/// `clonetrace demo [--list] [NAME…]`: each scenario traced with the user's `base` plan (its
/// outputs, views and display), the tree always on.
pub fn run(chosen: &[String], list: bool, base: &Plan) -> Result<i32, Error> {
    if list {
        let out = &mut std::io::stdout().lock();
        for scenario in SCENARIOS {
            writeln!(out, "{:<13} {}", scenario.name, scenario.title).map_err(page_error)?;
        }
        return Ok(0);
    }
    let chosen: Vec<&Scenario> = if chosen.is_empty() {
        SCENARIOS.iter().collect()
    } else {
        chosen
            .iter()
            .map(|name| {
                find(name).ok_or_else(|| {
                    Error::usage(format!("no scenario {name:?} (scenarios: {})", names()))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let out = &mut std::io::stdout().lock();
    let bold = use_color(base.display.color);
    let several = chosen.len() > 1;
    let mut status = 0;
    for (n, scenario) in chosen.iter().enumerate() {
        if n > 0 {
            writeln!(out).map_err(page_error)?;
        }
        let heading = format!(
            "[{}/{}] {}: {}",
            n + 1,
            chosen.len(),
            scenario.name,
            scenario.title
        );
        if bold {
            writeln!(out, "{}", heading.bold()).map_err(page_error)?;
        } else {
            writeln!(out, "{heading}").map_err(page_error)?;
        }
        for line in wrap(scenario.explanation, WIDTH) {
            writeln!(out, "{line}").map_err(page_error)?;
        }
        writeln!(out).map_err(page_error)?;
        let plan = scenario_plan(base, scenario.name, several);
        let code = session::trace(&plan)?;
        writeln!(out).map_err(page_error)?;
        for line in wrap(&format!("Notice: {}", scenario.notice), WIDTH) {
            writeln!(out, "{line}").map_err(page_error)?;
        }
        for (what, path) in [
            (
                if plan.json {
                    "JSON record"
                } else {
                    "live lines and tree"
                },
                &plan.output,
            ),
            ("DOT graph", &plan.views.dot),
            ("timeline", &plan.views.timeline),
            ("HTML page", &plan.views.html),
        ] {
            if let Some(path) = path {
                writeln!(out, "({what} written to {})", path.display()).map_err(page_error)?;
            }
        }
        if code != 0 {
            writeln!(
                out,
                "(the scenario exited with status {code}: it did not go as described)"
            )
            .map_err(page_error)?;
            if status == 0 {
                status = code;
            }
        }
    }
    Ok(status)
}

/// The user's plan for one scenario: its command, the tree always on, and, when several
/// scenarios run, each output file named for the scenario (`trace.jsonl` → `trace.fork.jsonl`).
fn scenario_plan(base: &Plan, name: &str, several: bool) -> Plan {
    let file = |path: &Option<PathBuf>| {
        path.as_deref().map(|p| {
            if several {
                per_scenario(p, name)
            } else {
                p.to_path_buf()
            }
        })
    };
    let mut plan = base.clone();
    // clonetrace itself, re-executed under the scenario's name: the trace and the tree then say
    // `fork-demo`, where a lesson has no use for the binary's path.
    plan.target = Target::Spawn {
        program: Some(PathBuf::from("/proc/self/exe")),
        argv: vec![OsString::from(program_name(name))],
    };
    plan.output = file(&base.output);
    plan.views.tree = true;
    // A projector shows 80 columns: long calls wrap, nothing is cut (--json has the record).
    plan.display.width = Some(WIDTH);
    plan.views.dot = file(&base.views.dot);
    plan.views.timeline = file(&base.views.timeline);
    plan.views.html = file(&base.views.html);
    lesson_needs(name, &mut plan);
    plan
}

/// `dir/trace.jsonl` → `dir/trace.NAME.jsonl`, `trace` → `trace.NAME`. A path that exists and is
/// not a regular file (`/dev/stderr`, a FIFO) is kept as given: every scenario writes to it.
fn per_scenario(path: &Path, name: &str) -> PathBuf {
    if path.exists() && !path.is_file() {
        return path.to_path_buf();
    }
    let Some(stem) = path.file_stem() else {
        return path.to_path_buf();
    };
    let mut file = stem.to_os_string();
    file.push(".");
    file.push(name);
    if let Some(extension) = path.extension() {
        file.push(".");
        file.push(extension);
    }
    path.with_file_name(file)
}

/// A write to the tour's page failed. A reader who stopped reading (`| head`) ends the tour
/// quietly; anything else is worth a line.
fn page_error(error: std::io::Error) -> Error {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        Error::quiet()
    } else {
        Error::new(
            format!("cannot write the tour to standard output: {error}"),
            1,
        )
    }
}

/// Whether the tour's own headings are bold: as `--color` says, `auto` meaning a terminal on
/// standard output and no NO_COLOR.
fn use_color(choice: Color) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Wraps `text` at spaces into lines of at most `width` characters (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lines_fit() {
        for (n, scenario) in SCENARIOS.iter().enumerate() {
            assert!(
                SCENARIOS[..n].iter().all(|s| s.name != scenario.name),
                "{} twice",
                scenario.name
            );
            let count = SCENARIOS.len();
            let heading = format!("[{count}/{count}] {}: {}", scenario.name, scenario.title);
            assert!(heading.chars().count() <= WIDTH, "too wide: {heading}");
            let list_line = format!("{:<13} {}", scenario.name, scenario.title);
            assert!(list_line.chars().count() <= WIDTH, "too wide: {list_line}");
            let lines = wrap(scenario.explanation, WIDTH);
            assert!(
                lines.len() <= MAX_EXPLANATION_LINES,
                "{}: {} lines of explanation",
                scenario.name,
                lines.len()
            );
            assert!(
                scenario.notice.ends_with('.')
                    && !scenario.notice.trim_end_matches('.').contains(". "),
                "{}: the notice is one sentence",
                scenario.name
            );
        }
    }

    #[test]
    fn output_files_are_named_per_scenario() {
        assert_eq!(
            per_scenario(Path::new("out/trace.jsonl"), "fork"),
            Path::new("out/trace.fork.jsonl")
        );
        assert_eq!(
            per_scenario(Path::new("tree"), "zombie"),
            Path::new("tree.zombie")
        );
        assert_eq!(
            per_scenario(Path::new("/dev/null"), "fork"),
            Path::new("/dev/null")
        );
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("a\nb", 80), ["a", "b"]);
    }
}
