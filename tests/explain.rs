//! explain: `via`, `stack_region`, `--backtrace` and `--stack-usage` on real programs: the C
//! fixture explain_calls and the runtimes installed here (a test whose runtime is missing says
//! so and skips).

use crate::common::{self, Trace, fact_int};
use serde_json::Value;
use std::process::Command;

fn via_of(create: &Value) -> String {
    create["via"].as_str().unwrap_or("null").to_string()
}

fn explain_calls(args: &[&str]) -> Trace {
    let path = common::fixture("explain_calls");
    common::trace(args, &[path.to_str().unwrap()])
}

#[test]
fn via_names_each_c_library_call_made_from_main() {
    let trace = explain_calls(&[]);
    let vias: Vec<String> = trace.creates().iter().map(|c| via_of(c)).collect();
    assert_eq!(
        vias,
        [
            "glibc_fork",
            "glibc_posix_spawn",
            "glibc_pthread_create",
            "glibc_system",
            "glibc_popen",
            "glibc_vfork",
            "glibc_pthread_create",
            "glibc_clone",
            "glibc_clone",
        ],
        "{}",
        trace.dump()
    );
}

#[test]
fn backtrace_reaches_main_where_strace_k_stops_in_the_clone_wrappers() {
    let trace = explain_calls(&["--backtrace"]);
    let creates = trace.creates();
    // fork, posix_spawn, pthread_create and system() made from main.
    for (n, entry) in [
        (0, "_Fork"),
        (1, "__clone3"),
        (2, "__clone3"),
        (3, "__clone3"),
    ] {
        let frames: Vec<&str> = creates[n]["backtrace"]
            .as_array()
            .unwrap_or_else(|| panic!("no backtrace in {}", creates[n]))
            .iter()
            .map(|f| f["function"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(frames[0], entry, "{frames:?}");
        assert!(frames.contains(&"main"), "{frames:?}");
    }
    // Without the flag, no backtrace is stored.
    let plain = explain_calls(&[]);
    assert!(plain.creates().iter().all(|c| c.get("backtrace").is_none()));
}

#[test]
fn stack_regions_of_thread_stacks_a_static_array_and_an_mmap() {
    let trace = explain_calls(&[]);
    let facts = trace.facts();
    let creates = trace.creates();
    let region = |n: usize| &creates[n]["stack_region"];
    // The default thread: an 8 MiB anonymous mapping with a guard page.
    assert_eq!(region(2)["kind"], "mmap", "{}", creates[2]);
    assert_eq!(region(2)["guard"], 4096);
    assert_eq!(
        common::addr(region(2), "end").unwrap() - common::addr(region(2), "start").unwrap(),
        8 << 20
    );
    // pthread_attr_setstacksize(64 KiB).
    assert_eq!(
        common::addr(region(6), "end").unwrap() - common::addr(region(6), "start").unwrap(),
        64 << 10
    );
    // posix_spawn's 36 KiB stack has no guard.
    assert_eq!(region(1)["kind"], "mmap");
    assert_eq!(region(1)["guard"], 0);
    // The static array is in the fixture's .bss.
    assert_eq!(region(7)["kind"], "bss", "{}", creates[7]);
    let bss = fact_int(&facts, "bss_stack") as u64;
    assert!(common::addr(region(7), "start").unwrap() <= bss);
    assert!(
        region(7)["object"]
            .as_str()
            .unwrap()
            .ends_with("explain_calls")
    );
    // The mmap'd stack, with the guard page the fixture made.
    let mapped = fact_int(&facts, "mmap_stack") as u64;
    assert_eq!(region(8)["kind"], "mmap");
    assert_eq!(common::addr(region(8), "start"), Some(mapped));
    assert_eq!(region(8)["guard"], 4096);
    // Fork and vfork have no stack of their own.
    assert!(creates[0].get("stack_region").is_none());
    // Threads record the RLIMIT_STACK that sized them.
    assert!(creates[2]["rlimit_stack"]["soft"].as_u64().is_some());
}

#[test]
fn stack_used_counts_the_pages_a_child_touched() {
    let trace = explain_calls(&["--stack-usage"]);
    let pages = fact_int(&trace.facts(), "touch_pages") as u64;
    let creates = trace.creates();
    let child = common::int(creates[8], "child");
    let exit = trace.exit_of(child);
    let used = exit["stack_used"].as_u64().unwrap();
    // Its buffer's pages, and the page its first frames are on when that is another.
    assert!(
        (pages * 4096..=(pages + 1) * 4096).contains(&used),
        "used {used} for {pages} pages"
    );
    assert_eq!(exit["stack_size"], 64 << 10);
    // Every task's exit says, with the flag; none without.
    assert!(trace.exits().iter().all(|e| e["stack_used"].is_u64()));
    let plain = explain_calls(&[]);
    assert!(plain.exits().iter().all(|e| e.get("stack_used").is_none()));
}

/// Runs a program of a runtime under clonetrace and returns the `via` of each creation, or
/// `None` (printed) when the runtime is not installed.
fn runtime_vias(program: &str, args: &[&str]) -> Option<Vec<String>> {
    if Command::new(program).arg("--version").output().is_err() {
        eprintln!("skipped: {program} is not installed");
        return None;
    }
    let mut cmd = vec![program];
    cmd.extend(args);
    let trace = common::trace(&[], &cmd);
    Some(trace.creates().iter().map(|c| via_of(c)).collect())
}

#[test]
fn via_of_cpython_subprocess_and_os_fork() {
    let Some(vias) = runtime_vias(
        "python3",
        &[
            "-c",
            "import subprocess, os\nsubprocess.run(['true'])\npid = os.fork()\nif pid == 0: os._exit(0)\nos.waitpid(pid, 0)",
        ],
    ) else {
        return;
    };
    assert!(vias.contains(&"python_subprocess".to_string()), "{vias:?}");
    assert!(vias.contains(&"python_fork".to_string()), "{vias:?}");
}

#[test]
fn via_of_node_child_process_is_libuv_spawn() {
    let Some(vias) = runtime_vias(
        "node",
        &["-e", "require('child_process').spawnSync('true')"],
    ) else {
        return;
    };
    assert!(vias.contains(&"libuv_spawn".to_string()), "{vias:?}");
    assert!(
        vias.contains(&"glibc_pthread_create".to_string()),
        "{vias:?}"
    );
}

#[test]
fn via_of_jvm_threads() {
    let Some(vias) = runtime_vias("java", &["-version"]) else {
        return;
    };
    assert!(vias.contains(&"jvm_thread".to_string()), "{vias:?}");
}

/// Builds `source` (written to a scratch file named `name`) with `compiler args… -o OUT FILE`;
/// `None` (printed) when the compiler is not installed.
fn build(compiler: &str, args: &[&str], name: &str, source: &str) -> Option<std::path::PathBuf> {
    if Command::new(compiler).arg("--version").output().is_err() {
        eprintln!("skipped: {compiler} is not installed");
        return None;
    }
    let file = common::scratch_file(name, source, 0o644);
    let out = common::scratch_path("explain", name.split('.').next().unwrap());
    let mut command = Command::new(compiler);
    command.args(args).arg("-o").arg(&out).arg(&file);
    // Go wants a cache directory and no module lookups for one file.
    command
        .env("GOCACHE", common::scratch_dir().join("gocache"))
        .env("GO111MODULE", "off")
        .env("HOME", common::scratch_dir());
    let built = command.output().expect("compiler runs");
    assert!(
        built.status.success(),
        "{compiler} {name}: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    Some(out)
}

fn vias_of(program: &std::path::Path) -> Vec<String> {
    let trace = common::trace(&[], &[program.to_str().unwrap()]);
    trace.creates().iter().map(|c| via_of(c)).collect()
}

const MUSL_CALLS: &str = r#"
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
static void *idle(void *arg) { return arg; }
int main(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    pthread_t thread;
    pthread_create(&thread, NULL, idle, NULL);
    pthread_join(thread, NULL);
    char *argv[] = {"true", NULL};
    if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0)
        waitpid(pid, NULL, 0);
    return 0;
}
"#;

#[test]
fn via_of_static_musl_fork_pthread_create_and_posix_spawn() {
    let Some(program) = build("musl-gcc", &["-static", "-O1"], "musl_calls.c", MUSL_CALLS) else {
        return;
    };
    let trace = common::trace(&[], &[program.to_str().unwrap()]);
    let creates = trace.creates();
    let vias: Vec<String> = creates.iter().map(|c| via_of(c)).collect();
    assert_eq!(
        vias,
        ["musl_fork", "musl_pthread_create", "musl_posix_spawn"],
        "{}",
        trace.dump()
    );
    // musl's posix_spawn child runs on a stack in its parent's own stack frame.
    assert_eq!(creates[2]["stack_region"]["kind"], "main_stack");
    // musl's default thread stack is 128 KiB, whatever RLIMIT_STACK says, with a guard.
    let region = &creates[1]["stack_region"];
    assert_eq!(region["kind"], "mmap");
    assert!(region["guard"].as_u64().unwrap() > 0);
}

#[test]
fn via_of_go_runtime_threads_and_os_exec() {
    let source =
        "package main\n\nimport \"os/exec\"\n\nfunc main() {\n\texec.Command(\"true\").Run()\n}\n";
    let Some(program) = build("go", &["build"], "goexec.go", source) else {
        return;
    };
    let vias = vias_of(&program);
    assert!(vias.contains(&"go_runtime_thread".to_string()), "{vias:?}");
    assert_eq!(
        vias.iter().filter(|v| *v == "go_exec").count(),
        1,
        "{vias:?}"
    );
    assert!(
        vias.iter()
            .all(|v| v == "go_runtime_thread" || v == "go_exec"),
        "{vias:?}"
    );
}

#[test]
fn via_of_rust_std_command_and_thread_spawn() {
    let source = "fn main() {\n    std::process::Command::new(\"true\").status().unwrap();\n    std::thread::spawn(|| ()).join().unwrap();\n}\n";
    let Some(program) = build("rustc", &["-O"], "stdcalls.rs", source) else {
        return;
    };
    assert_eq!(vias_of(&program), ["rust_command", "rust_thread"]);
}

#[test]
fn eagain_names_rlimit_nproc_and_the_users_task_count() {
    let path = common::fixture("rlimit_eagain");
    let trace = common::trace(&["--syscalls"], &[path.to_str().unwrap()]);
    let failed = trace.of_type("create_failed");
    assert_eq!(failed.len(), 1, "{}", trace.dump());
    // The fixture sets 4 as root (then becomes nobody), 1 otherwise.
    let limit = if nix::unistd::geteuid().is_root() {
        4
    } else {
        1
    };
    assert_eq!(
        failed[0]["rlimit_nproc"],
        serde_json::json!({"soft": limit, "hard": limit})
    );
    assert!(failed[0]["user_tasks"].as_u64().unwrap() >= limit);
    let live = common::run_clonetrace(&[
        "--syscalls",
        "--color",
        "never",
        "--",
        path.to_str().unwrap(),
    ]);
    assert!(
        live.stderr.contains(&format!(
            "creation failed: RLIMIT_NPROC {limit}, hard {limit}, its user runs"
        )),
        "{}",
        live.stderr
    );
}

#[test]
fn eperm_on_a_namespace_flag_says_the_capability_is_missing() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: running the fixture as nobody (-u) needs root");
        return;
    }
    let fixture = common::reachable_copy(&common::fixture("newpid")).expect("reachable copy");
    let trace = common::trace(
        &["--syscalls", "-u", "nobody"],
        &[fixture.to_str().unwrap()],
    );
    let failed = trace.of_type("create_failed");
    assert_eq!(failed.len(), 1, "{}", trace.dump());
    assert_eq!(failed[0]["errno"], "EPERM");
    assert_eq!(failed[0]["cap_sys_admin"], false, "{}", failed[0]);
}

#[test]
fn a_thread_stack_shaped_by_a_lowered_rlimit_stack_says_so() {
    let fixture = common::fixture("explain_calls");
    let script = format!("ulimit -s 2048; exec {}", fixture.display());
    let run = common::run_clonetrace(&["--tree", "--color", "never", "--", "sh", "-c", &script]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("sized by RLIMIT_STACK 2 MiB (not the default 8 MiB)"),
        "{}",
        run.stderr
    );
}
