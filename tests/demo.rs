//! demo: `clonetrace demo` lists and runs its scenarios, and every fact a scenario's explanation
//! and "Notice:" claim is what its JSON record says: the syscall, the exact flags, the exit
//! signal, the stack, the kind of task, zombie times, reapers and adoptions.

use crate::common::{
    Trace, addr, assert_fields, clonetrace, int, record_problems, run, string, strings,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The tour's scenarios, in order.
const NAMES: [&str; 14] = [
    "fork",
    "raw-fork",
    "vfork",
    "clone-stack",
    "threads",
    "spawn",
    "zombie",
    "orphan",
    "signal-death",
    "exit-signal",
    "namespace",
    "container",
    "stacks",
    "limits",
];

/// A fresh directory for one test's files.
fn scratch() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "demo/{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn demo_command(args: &[&str]) -> Command {
    let mut command = Command::new(clonetrace());
    // The threads scenario shows Rust's default thread stack, which this variable would change.
    command.arg("demo").args(args).env_remove("RUST_MIN_STACK");
    command
}

fn read_record(path: &Path, context: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no record at {}: {e}\n{context}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("record line is not JSON ({e}): {line}"))
        })
        .collect()
}

/// Runs `clonetrace demo NAME --color never --json -o FILE` and reads the record back; `stdout`
/// holds the tour's text and the scenario's own lines.
fn demo(name: &str) -> Trace {
    let file = scratch().join(format!("{name}.jsonl"));
    // Named relative to its directory, as a teacher types it: the tour prints the path it was
    // given, so the test must not depend on where the checkout lives.
    let file_arg = format!("{name}.jsonl");
    let mut command = demo_command(&[name, "--color", "never", "--json", "-o", &file_arg]);
    command.current_dir(file.parent().expect("scratch dir"));
    let finished = run(command);
    let context = format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        finished.status,
        String::from_utf8_lossy(&finished.stdout),
        finished.stderr
    );
    let trace = Trace {
        events: read_record(&file, &context),
        stdout: finished.stdout,
        stderr: finished.stderr,
        status: finished.status,
        tracer: i64::from(finished.pid),
    };
    assert_eq!(trace.status.code(), Some(0), "{context}");
    let problems = record_problems(&trace);
    assert!(problems.is_empty(), "{problems:#?}\n{}", trace.dump());
    trace
}

fn stdout(trace: &Trace) -> String {
    String::from_utf8_lossy(&trace.stdout).into_owned()
}

/// The scenario's process: the one that exec'd clonetrace as `NAME-demo`, through
/// `/proc/self/exe`.
fn scenario_pid(trace: &Trace, name: &str) -> i64 {
    let exec = trace.execs().into_iter().next();
    let exec = exec.unwrap_or_else(|| panic!("no exec:\n{}", trace.dump()));
    assert_eq!(exec["path"], "/proc/self/exe", "{}", trace.dump());
    assert_eq!(
        strings(exec, "argv"),
        [format!("{name}-demo")],
        "{}",
        trace.dump()
    );
    int(exec, "pid")
}

/// The one create in a scenario that makes exactly one task.
#[track_caller]
fn only_create(trace: &Trace) -> &Value {
    let creates = trace.creates();
    assert_eq!(creates.len(), 1, "expected one create:\n{}", trace.dump());
    creates[0]
}

#[test]
fn demo_list_names_every_scenario_once_in_order() {
    let finished = run(demo_command(&["--list"]));
    assert_eq!(finished.status.code(), Some(0), "{}", finished.stderr);
    let text = String::from_utf8_lossy(&finished.stdout).into_owned();
    let listed: Vec<&str> = text
        .lines()
        .map(|line| line.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(listed, NAMES, "{text}");
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
        assert!(
            line.split_whitespace().count() > 1,
            "no description: {line}"
        );
    }
}

#[test]
fn demo_unknown_scenario_is_a_one_line_usage_error_listing_the_names() {
    let finished = run(demo_command(&["fork", "nosuch"]));
    assert_eq!(finished.status.code(), Some(2), "{}", finished.stderr);
    assert!(finished.stdout.is_empty(), "ran something before failing");
    let lines: Vec<&str> = finished.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", finished.stderr);
    assert!(lines[0].starts_with("clonetrace: ") && lines[0].contains("nosuch"));
    for name in NAMES {
        assert!(lines[0].contains(name), "{name} missing from: {}", lines[0]);
    }
}

#[test]
fn demo_tour_runs_every_scenario_and_names_output_files_per_scenario() {
    let dir = scratch();
    let record = dir.join("tour.jsonl");
    let dot = dir.join("tour.dot");
    let html = dir.join("tour.html");
    let finished = run(demo_command(&[
        "--color",
        "never",
        "--json",
        "-o",
        record.to_str().expect("utf-8"),
        "--dot",
        dot.to_str().expect("utf-8"),
        "--html",
        html.to_str().expect("utf-8"),
    ]));
    let text = String::from_utf8_lossy(&finished.stdout).into_owned();
    assert_eq!(
        finished.status.code(),
        Some(0),
        "{text}\nstderr:\n{}",
        finished.stderr
    );
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(headings.len(), NAMES.len(), "{text}");
    for (n, (heading, name)) in headings.iter().zip(NAMES).enumerate() {
        assert!(
            heading.starts_with(&format!("[{}/{}] {name}: ", n + 1, NAMES.len())),
            "{heading}"
        );
    }
    assert_eq!(
        text.lines().filter(|l| l.starts_with("Notice: ")).count(),
        NAMES.len(),
        "{text}"
    );
    for name in NAMES {
        let record = dir.join(format!("tour.{name}.jsonl"));
        let events = read_record(&record, &text);
        assert_eq!(events[0]["type"], "header");
        assert_eq!(
            events[0]["command"],
            serde_json::json!([format!("{name}-demo")]),
            "{}",
            record.display()
        );
        let graph = std::fs::read_to_string(dir.join(format!("tour.{name}.dot")))
            .unwrap_or_else(|e| panic!("no DOT graph for {name}: {e}"));
        assert!(!graph.is_empty(), "empty DOT graph for {name}");
        let page = std::fs::read_to_string(dir.join(format!("tour.{name}.html")))
            .unwrap_or_else(|e| panic!("no HTML page for {name}: {e}"));
        assert!(
            page.contains("data-pid="),
            "no process in the HTML page for {name}"
        );
    }
    assert!(
        !record.exists() && !dot.exists() && !html.exists(),
        "unsplit files written"
    );
}

#[test]
fn demo_text_fits_80_columns() {
    let trace = demo("fork");
    for line in stdout(&trace).lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
}

/// The whole tour as a class sees it (`clonetrace demo --color never`, live lines and trees on
/// standard error): every line of every scenario fits 80 columns, wrapped, never cut, and no
/// line shows the binary's path or the internal way scenarios are started.
#[test]
fn every_line_of_the_whole_tour_fits_80_columns_and_names_the_scenario() {
    let finished = run(demo_command(&["--color", "never"]));
    assert_eq!(finished.status.code(), Some(0), "{}", finished.stderr);
    let stdout = String::from_utf8_lossy(&finished.stdout);
    let wide: Vec<&str> = stdout
        .lines()
        .chain(finished.stderr.lines())
        .filter(|l| l.chars().count() > 80)
        .collect();
    assert!(
        wide.is_empty(),
        "wider than 80 columns:\n{}",
        wide.join("\n")
    );
    let binary = crate::common::clonetrace().to_string_lossy().into_owned();
    assert!(!finished.stderr.contains(&binary), "{}", finished.stderr);
    assert!(
        !finished.stderr.contains("__scenario"),
        "{}",
        finished.stderr
    );
    for scenario in ["fork", "threads", "zombie", "namespace"] {
        let exec = format!("execve(\"/proc/self/exe\", [\"{scenario}-demo\"]) = 0");
        assert!(
            finished.stderr.contains(&exec),
            "no {exec:?} in:\n{}",
            finished.stderr
        );
    }
    // The tree names each scenario's process by the name it runs under.
    assert!(
        finished
            .stderr
            .lines()
            .any(|l| l.contains(" fork-demo  ") || l.ends_with(" fork-demo")),
        "{}",
        finished.stderr
    );
}

#[test]
fn demo_fork_is_clone_with_child_settid_cleartid_and_sigchld() {
    let trace = demo("fork");
    let root = scenario_pid(&trace, "fork");
    let create = only_create(&trace);
    assert_fields(
        &trace,
        create,
        &[
            ("pid", root.into()),
            ("syscall", "clone".into()),
            (
                "flags",
                serde_json::json!(["CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"]),
            ),
            ("exit_signal", "SIGCHLD".into()),
            ("stack", Value::Null),
            ("kind", "process".into()),
        ],
    );
    let child = int(create, "child");
    let text = stdout(&trace);
    assert!(
        text.contains(&format!("getpid() = {child}, getppid() = {root}")),
        "the child does not print what the trace shows:\n{text}"
    );
    assert_fields(
        &trace,
        trace.reap_of(child),
        &[("reaper", root.into()), ("relation", "parent".into())],
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn demo_raw_fork_makes_the_fork_and_vfork_system_calls() {
    let trace = demo("raw-fork");
    let root = scenario_pid(&trace, "raw-fork");
    let creates = trace.creates();
    let syscalls: Vec<String> = creates.iter().map(|c| string(c, "syscall")).collect();
    assert_eq!(syscalls, ["fork", "vfork"], "{}", trace.dump());
    assert_fields(&trace, creates[0], &[("kind", "process".into())]);
    assert_fields(&trace, creates[1], &[("kind", "vm-shared".into())]);
    for create in creates {
        let child = int(create, "child");
        assert_fields(&trace, trace.exit_of(child), &[("code", 0.into())]);
        assert_fields(&trace, trace.reap_of(child), &[("reaper", root.into())]);
    }
    assert!(stdout(&trace).contains("syscall 58 (vfork) returned 0"));
}

#[test]
fn demo_vfork_child_execs_while_the_parent_waits() {
    let trace = demo("vfork");
    let create = only_create(&trace);
    #[cfg(target_arch = "x86_64")]
    assert_eq!(string(create, "syscall"), "vfork", "{}", trace.dump());
    assert_fields(&trace, create, &[("kind", "vm-shared".into())]);
    let child = int(create, "child");
    let exec = trace.execs().into_iter().find(|e| int(e, "pid") == child);
    let exec = exec.unwrap_or_else(|| panic!("the child did not exec:\n{}", trace.dump()));
    assert_eq!(string(exec, "path"), "/bin/true");
    let text = stdout(&trace);
    assert!(
        text.contains(&format!("vfork() returned {child} after ")) && text.contains(" µs"),
        "{text}"
    );
}

#[test]
fn demo_clone_stack_passes_the_callers_64k_stack_and_only_sigchld() {
    let trace = demo("clone-stack");
    let create = only_create(&trace);
    assert_fields(
        &trace,
        create,
        &[
            ("syscall", "clone".into()),
            ("flags", serde_json::json!([])),
            ("exit_signal", "SIGCHLD".into()),
            ("kind", "process".into()),
        ],
    );
    let stack = addr(create, "stack").expect("a stack");
    // "parent: allocated a 64 KiB stack at BASE..TOP"
    let text = stdout(&trace);
    let range = text
        .lines()
        .find_map(|l| l.strip_prefix("parent: allocated a 64 KiB stack at "))
        .unwrap_or_else(|| panic!("no stack line:\n{text}"));
    let (base, top) = range.split_once("..").expect("BASE..TOP");
    let hex = |s: &str| u64::from_str_radix(s.trim().trim_start_matches("0x"), 16).unwrap();
    let (base, top) = (hex(base), hex(top));
    assert_eq!(top - base, 64 * 1024);
    assert!(
        (base..=top).contains(&stack),
        "stack {stack:#x} outside {base:#x}..{top:#x}"
    );
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        stack,
        top - 16,
        "glibc keeps fn and arg in the top 16 bytes"
    );
}

#[test]
fn demo_threads_share_the_tgid_have_no_exit_signal_and_no_zombie() {
    let trace = demo("threads");
    let root = scenario_pid(&trace, "threads");
    let creates = trace.creates();
    assert_eq!(creates.len(), 2, "{}", trace.dump());
    for create in &creates {
        assert_fields(
            &trace,
            create,
            &[
                ("syscall", "clone3".into()),
                ("kind", "thread".into()),
                ("tgid", root.into()),
                ("child_tgid", root.into()),
                ("exit_signal", Value::Null),
            ],
        );
        assert!(strings(create, "flags").contains(&"CLONE_THREAD".to_string()));
        let tid = int(create, "child");
        assert_ne!(tid, root);
        assert_fields(&trace, trace.exit_of(tid), &[("code", 0.into())]);
        assert!(
            trace.reaps().iter().all(|r| int(r, "pid") != tid),
            "a thread was reaped:\n{}",
            trace.dump()
        );
    }
    // The stack size clone3 is given is the thread library's mapping less its own bookkeeping
    // (0x100 bytes with glibc 2.36): std::thread maps Rust's 2 MiB default, pthread_create with
    // default attributes maps RLIMIT_STACK.
    let size = |c: &Value| c["stack_size"].as_u64().expect("stack_size");
    let near = |size: u64, mapped: u64| size <= mapped && mapped - size < 4096;
    assert!(
        near(size(creates[0]), 2 << 20),
        "std::thread stack_size {:#x}",
        size(creates[0])
    );
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid out-pointer.
    unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) };
    if limit.rlim_cur == 8 << 20 {
        assert!(
            near(size(creates[1]), 8 << 20),
            "pthread_create stack_size {:#x}",
            size(creates[1])
        );
    }
}

#[test]
fn demo_spawn_is_clone3_vm_vfork_with_a_36k_stack() {
    let trace = demo("spawn");
    let create = only_create(&trace);
    assert_fields(
        &trace,
        create,
        &[
            ("syscall", "clone3".into()),
            ("flags", serde_json::json!(["CLONE_VM", "CLONE_VFORK"])),
            ("exit_signal", "SIGCHLD".into()),
            ("stack_size", 36864.into()),
            ("kind", "vm-shared".into()),
        ],
    );
    let child = int(create, "child");
    let exec = trace.execs().into_iter().find(|e| int(e, "pid") == child);
    assert_eq!(
        exec.map(|e| string(e, "path")).as_deref(),
        Some("/bin/true"),
        "{}",
        trace.dump()
    );
}

#[test]
fn demo_zombie_lives_300ms_until_its_parent_reaps_it() {
    let trace = demo("zombie");
    let root = scenario_pid(&trace, "zombie");
    let child = int(only_create(&trace), "child");
    let reap = trace.reap_of(child);
    assert_fields(
        &trace,
        reap,
        &[("reaper", root.into()), ("relation", "parent".into())],
    );
    let seconds = reap["zombie_seconds"].as_f64().expect("zombie_seconds");
    assert!(
        (0.25..2.0).contains(&seconds),
        "zombie for {seconds} s:\n{}",
        trace.dump()
    );
    assert!(
        stdout(&trace).contains("says state Z"),
        "{}",
        stdout(&trace)
    );
}

#[test]
fn demo_orphan_is_adopted_and_reaped_by_the_subreaper() {
    let trace = demo("orphan");
    let top = scenario_pid(&trace, "orphan");
    let creates = trace.creates();
    assert_eq!(creates.len(), 2, "{}", trace.dump());
    let middle = int(creates[0], "child");
    let orphan = int(creates[1], "child");
    assert_eq!(int(creates[1], "pid"), middle);
    let reparents = trace.reparents();
    assert_eq!(reparents.len(), 1, "{}", trace.dump());
    assert_fields(
        &trace,
        reparents[0],
        &[
            ("pid", orphan.into()),
            ("from", middle.into()),
            ("to", top.into()),
            ("relation", "subreaper".into()),
        ],
    );
    assert_fields(
        &trace,
        trace.reap_of(middle),
        &[("reaper", top.into()), ("relation", "parent".into())],
    );
    assert_fields(
        &trace,
        trace.reap_of(orphan),
        &[("reaper", top.into()), ("relation", "subreaper".into())],
    );
    assert!(
        stdout(&trace).contains(&format!("orphan: {orphan} now has getppid() = {top}")),
        "{}",
        stdout(&trace)
    );
}

#[test]
fn demo_signal_death_child_is_killed_by_sigint() {
    let trace = demo("signal-death");
    let root = scenario_pid(&trace, "signal-death");
    let child = int(only_create(&trace), "child");
    assert_fields(
        &trace,
        trace.exit_of(child),
        &[("code", Value::Null), ("signal", "SIGINT".into())],
    );
    assert_eq!(trace.signals_to(child), ["SIGINT"], "{}", trace.dump());
    assert_fields(
        &trace,
        trace.reap_of(child),
        &[("reaper", root.into()), ("relation", "parent".into())],
    );
    let text = stdout(&trace);
    assert!(
        text.contains("waitpid status 0x0002: WIFSIGNALED, WTERMSIG = 2 (SIGINT)"),
        "{text}"
    );
}

#[test]
fn demo_exit_signal_child_sends_sigusr1_and_needs_wclone() {
    let trace = demo("exit-signal");
    let root = scenario_pid(&trace, "exit-signal");
    let create = only_create(&trace);
    assert_fields(
        &trace,
        create,
        &[
            ("syscall", "clone".into()),
            ("flags", serde_json::json!([])),
            ("exit_signal", "SIGUSR1".into()),
        ],
    );
    let child = int(create, "child");
    assert_fields(
        &trace,
        trace.reap_of(child),
        &[("reaper", root.into()), ("relation", "parent".into())],
    );
    assert!(trace.signals_to(root).contains(&"SIGUSR1".to_string()));
    assert!(!trace.signals_to(root).contains(&"SIGCHLD".to_string()));
    let text = stdout(&trace);
    assert!(
        text.contains(&format!("waitpid({child}, 0) = -1 ECHILD")),
        "{text}"
    );
    assert!(text.contains("my SIGUSR1 handler ran: yes"), "{text}");
}

/// Whether this process may create PID namespaces (CAP_SYS_ADMIN in its effective set).
fn has_cap_sys_admin() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_SYS_ADMIN) != 0)
}

#[test]
fn demo_namespace_child_is_pid_1_inside_or_the_demo_says_why_not() {
    let trace = demo("namespace");
    let text = stdout(&trace);
    let creates = trace.creates();
    if creates.is_empty() {
        assert!(
            !has_cap_sys_admin(),
            "clone(CLONE_NEWPID) failed with CAP_SYS_ADMIN:\n{text}"
        );
        assert!(text.contains("parent: clone failed: "), "{text}");
        return;
    }
    let create = only_create(&trace);
    assert!(
        strings(create, "flags").contains(&"CLONE_NEWPID".to_string()),
        "{create}"
    );
    let nspid: Vec<i64> = create["nspid"]
        .as_array()
        .unwrap_or_else(|| panic!("no nspid in {create}"))
        .iter()
        .map(|p| p.as_i64().expect("pid"))
        .collect();
    assert_eq!(nspid.last(), Some(&1), "{create}");
    assert_eq!(nspid.first(), Some(&int(create, "child")), "{create}");
    assert!(text.contains("getpid() = 1, getppid() = 0"), "{text}");
}

#[test]
fn demo_stacks_shows_each_stacks_region_and_how_much_was_used() {
    let trace = demo("stacks");
    let creates = trace.creates();
    assert_eq!(creates.len(), 3, "{}", trace.dump());
    let region = |n: usize| &creates[n]["stack_region"];
    let size = |n: usize| {
        crate::common::addr(region(n), "end").unwrap()
            - crate::common::addr(region(n), "start").unwrap()
    };
    // glibc's default thread stack (RLIMIT_STACK, 8 MiB here) and the 64 KiB one, each an
    // anonymous mapping with a guard page; the clone child's static array in the binary's .bss.
    assert_eq!(creates[0]["via"], "glibc_pthread_create");
    assert_eq!(
        (region(0)["kind"].clone(), region(0)["guard"].clone()),
        ("mmap".into(), 4096.into())
    );
    assert_eq!(
        Some(size(0)),
        creates[0]["rlimit_stack"]["soft"].as_u64(),
        "{}",
        creates[0]
    );
    assert_eq!(size(1), 64 << 10);
    assert_eq!(region(1)["guard"], 4096);
    assert_eq!(creates[2]["via"], "glibc_clone");
    assert_eq!(region(2)["kind"], "bss");
    assert!(
        region(2)["variable"]
            .as_str()
            .unwrap()
            .ends_with("BSS_STACK"),
        "{}",
        creates[2]
    );
    assert_eq!(size(2), 64 << 10);
    // --stack-usage is on: the clone child wrote 2 pages of the array (and its first frames).
    let child = int(creates[2], "child");
    let used = trace.exit_of(child)["stack_used"].as_u64().unwrap();
    assert!((2 * 4096..=3 * 4096).contains(&used), "used {used}");
    let text = &trace.stderr;
    assert!(text.contains("used "), "{text}");
}

#[test]
fn demo_limits_forks_until_eagain_and_names_rlimit_nproc() {
    let trace = demo("limits");
    let failed = trace.of_type("create_failed");
    assert_eq!(failed.len(), 1, "{}", trace.dump());
    assert_eq!(failed[0]["errno"], "EAGAIN");
    let limit = failed[0]["rlimit_nproc"]["soft"].as_u64().unwrap();
    assert!(limit == 4 || limit == 1, "{}", failed[0]);
    assert!(failed[0]["user_tasks"].as_u64().unwrap() >= limit);
    assert!(
        stdout(&trace).contains("failed: EAGAIN"),
        "{}",
        stdout(&trace)
    );
}

#[test]
fn demo_container_unshares_then_forks_the_init_of_its_new_pid_namespace() {
    let trace = demo("container");
    let text = stdout(&trace);
    if trace.creates().is_empty() {
        assert!(
            !has_cap_sys_admin(),
            "unshare failed with CAP_SYS_ADMIN:\n{text}"
        );
        assert!(text.contains("parent: unshare failed: "), "{text}");
        return;
    }
    let parent = scenario_pid(&trace, "container");
    let create = only_create(&trace);
    let child = int(create, "child");
    assert_eq!(create["nspid"], serde_json::json!([child, 1]), "{create}");
    let records: Vec<(i64, Vec<String>, String, Vec<String>)> = trace
        .of_type("namespaces")
        .into_iter()
        .map(|n| {
            (
                int(n, "pid"),
                strings(n, "new"),
                n["via"].as_str().unwrap_or("").to_string(),
                n.get("flags")
                    .map(|_| strings(n, "flags"))
                    .unwrap_or_default(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        records,
        [
            (
                parent,
                s(&["pid_for_children", "uts"]),
                "unshare".to_string(),
                s(&["CLONE_NEWUTS", "CLONE_NEWPID"])
            ),
            (child, s(&["pid"]), "unshare".to_string(), vec![]),
        ]
    );
    assert!(
        text.contains("getpid() = 1, getppid() = 0, host \"container\""),
        "{text}"
    );
}
