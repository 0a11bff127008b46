//! strace_crosscheck: strace, the reference decoder, traces the same fixtures; the creation calls
//! it prints (syscall, flag set in order, exit signal, clone3 size, stack size, pidfd number) must
//! equal ours. Skipped, with a note, where strace is not installed.

use crate::common::{Trace, fixture, int, run, scratch_file, string, strings, trace_fixture};
use std::collections::HashMap;
use std::process::Command;

/// One creation call as strace printed it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Call {
    syscall: String,
    /// `None` for fork/vfork, which strace prints without arguments.
    flags: Option<Vec<String>>,
    exit_signal: Option<String>,
    clone3_size: Option<i64>,
    stack_size: Option<i64>,
    pidfd_value: Option<i64>,
}

fn strace_available() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Text between `key=` and the next `,` `}` or `)` at the same level (clone arguments have no
/// nesting before the flags and exit signal).
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(&format!("{key}="))? + key.len() + 1;
    let rest = &text[start..];
    let end = rest.find([',', '}', ')']).unwrap_or(rest.len());
    Some(&rest[..end])
}

fn hex_or_dec(text: &str) -> Option<i64> {
    match text.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Joins strace's `<unfinished ...>` / `<... NAME resumed>` halves, per pid.
fn whole_lines(log: &str) -> Vec<String> {
    let mut pending: HashMap<&str, String> = HashMap::new();
    let mut lines = Vec::new();
    for line in log.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            pending.insert(pid, head.trim_end().to_string());
        } else if rest.starts_with("<... ") {
            let tail = rest.split_once("resumed>").map_or("", |(_, tail)| tail);
            let head = pending.remove(pid).unwrap_or_default();
            lines.push(format!("{head}{tail}"));
        } else {
            lines.push(rest.to_string());
        }
    }
    lines
}

fn parse_strace(log: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    for line in whole_lines(log) {
        let Some((syscall, _)) = line.split_once('(') else {
            continue;
        };
        let Some((_, result)) = line.rsplit_once(" = ") else {
            continue;
        };
        if result.trim().parse::<i64>().is_err() || result.starts_with('-') {
            continue; // a failed creation: we report none
        }
        let call = match syscall {
            "fork" | "vfork" => Call {
                syscall: syscall.into(),
                flags: None,
                exit_signal: Some("SIGCHLD".into()),
                clone3_size: None,
                stack_size: None,
                pidfd_value: None,
            },
            "clone" => {
                let all: Vec<String> = field(&line, "flags")
                    .unwrap_or_default()
                    .split('|')
                    .filter(|f| !f.is_empty())
                    .map(String::from)
                    .collect();
                let (signals, flags): (Vec<String>, Vec<String>) =
                    all.into_iter().partition(|f| f.starts_with("SIG"));
                Call {
                    syscall: "clone".into(),
                    flags: Some(flags),
                    exit_signal: signals.into_iter().next(),
                    clone3_size: None,
                    stack_size: None,
                    pidfd_value: None,
                }
            }
            "clone3" => {
                let flags = field(&line, "flags")
                    .unwrap_or_default()
                    .split('|')
                    .filter(|f| !f.is_empty() && *f != "0")
                    .map(String::from)
                    .collect();
                let exit_signal = field(&line, "exit_signal")
                    .filter(|s| *s != "0")
                    .map(String::from);
                let size = line
                    .rsplit_once(") = ")
                    .and_then(|(head, _)| head.rsplit_once(", "))
                    .and_then(|(_, size)| size.parse().ok());
                let pidfd_value = line
                    .split_once("=> {")
                    .and_then(|(_, out)| field(out, "pidfd"))
                    .and_then(|v| v.trim_matches(['[', ']']).parse().ok());
                Call {
                    syscall: "clone3".into(),
                    flags: Some(flags),
                    exit_signal,
                    clone3_size: size,
                    stack_size: field(&line, "stack_size").and_then(hex_or_dec),
                    pidfd_value,
                }
            }
            _ => continue,
        };
        calls.push(call);
    }
    calls.sort();
    calls
}

fn our_calls(trace: &Trace) -> Vec<Call> {
    let mut calls: Vec<Call> = trace
        .creates()
        .into_iter()
        .map(|c| {
            let syscall = string(c, "syscall");
            let fork_like = syscall == "fork" || syscall == "vfork";
            let clone3 = syscall == "clone3";
            Call {
                flags: (!fork_like).then(|| strings(c, "flags")),
                exit_signal: c["exit_signal"].as_str().map(String::from),
                clone3_size: clone3.then(|| int(c, "clone3_size")),
                stack_size: clone3.then(|| int(c, "stack_size")),
                pidfd_value: c["pidfd_value"].as_i64(),
                syscall,
            }
        })
        .collect();
    calls.sort();
    calls
}

fn crosscheck(name: &str) {
    if !strace_available() {
        eprintln!("note: strace is not on PATH; strace_crosscheck::{name} skipped");
        return;
    }
    let log = scratch_file(&format!("{name}.strace"), "", 0o644);
    let mut command = Command::new("strace");
    command
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=clone,clone3,fork,vfork",
            "-e",
            "signal=none",
            "-o",
        ])
        .arg(&log)
        .arg(fixture(name));
    let finished = run(command);
    assert!(
        finished.status.success() || name == "leader_exits_first",
        "strace {name}: {finished:?}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let theirs = parse_strace(&text);
    assert!(
        !theirs.is_empty(),
        "strace saw no creation in {name}:\n{text}"
    );
    let trace = trace_fixture(name);
    let ours = our_calls(&trace);
    assert_eq!(
        ours,
        theirs,
        "{name}: our creation calls differ from strace's\nstrace:\n{text}\nours:\n{}",
        trace.dump()
    );
}

macro_rules! crosscheck {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                crosscheck(stringify!($name));
            }
        )*
    };
}

// Every creation fixture of this set except rlimit_eagain, which makes as many children as nobody's
// process count allows: that differs between two runs, so its call list cannot be compared.
crosscheck!(
    clone3_pidfd,
    clone_parent,
    clone_stack,
    clone_vm,
    daemon_double_fork,
    exec_from_thread,
    exit_signal_usr1,
    fork_wait,
    killed_by_signal,
    leader_exits_first,
    newpid,
    parent_exits_zombie,
    pid_reuse,
    posix_spawn,
    raw_fork,
    raw_vfork,
    sigchld_ign,
    stop_continue,
    subreaper_orphan,
    thread_outlives_creator,
    threads3,
    vfork_exec,
    waitid_pid,
    waitid_pidfd,
    zombie_300ms,
);

#[test]
fn strace_lines_are_parsed_with_their_flags_signal_and_halves_joined() {
    let log = "\
10 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 11
10 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f, stack_size=0x9000}, 88 <unfinished ...>
11 vfork() = 12
10 <... clone3 resumed>) = 13
10 clone3({flags=CLONE_PIDFD, pidfd=0x7ff => {pidfd=[3]}, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = 14
10 clone(child_stack=NULL, flags=SIGCHLD) = -1 EAGAIN (Resource temporarily unavailable)
";
    let calls = parse_strace(log);
    let summary: Vec<String> = calls.iter().map(|c| format!("{c:?}")).collect();
    assert_eq!(calls.len(), 4, "{summary:#?}");
    assert!(calls.contains(&Call {
        syscall: "clone".into(),
        flags: Some(vec![
            "CLONE_CHILD_CLEARTID".into(),
            "CLONE_CHILD_SETTID".into()
        ]),
        exit_signal: Some("SIGCHLD".into()),
        clone3_size: None,
        stack_size: None,
        pidfd_value: None,
    }));
    assert!(calls.contains(&Call {
        syscall: "clone3".into(),
        flags: Some(vec!["CLONE_VM".into(), "CLONE_VFORK".into()]),
        exit_signal: Some("SIGCHLD".into()),
        clone3_size: Some(88),
        stack_size: Some(0x9000),
        pidfd_value: None,
    }));
    assert!(calls.contains(&Call {
        syscall: "clone3".into(),
        flags: Some(vec!["CLONE_PIDFD".into()]),
        exit_signal: Some("SIGCHLD".into()),
        clone3_size: Some(88),
        stack_size: Some(0),
        pidfd_value: Some(3),
    }));
}
