//! The eBPF engine (`--backend ebpf`, `--system`): the committed BPF object matches its source,
//! both engines give the same answers on every fixture and demo scenario, lost records are
//! counted, and the engine ends cleanly. Skipped (saying why) only where eBPF cannot run: not
//! root, or a kernel without BTF.

use crate::common::{self, Trace, clonetrace, fixture, fixture_names, run, scratch_path, trace};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why eBPF cannot run here, if it cannot.
fn unavailable() -> Option<&'static str> {
    if !nix::unistd::geteuid().is_root() {
        return Some("the eBPF engine needs root (or CAP_BPF and CAP_PERFMON)");
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("this kernel has no BTF");
    }
    None
}

macro_rules! require_ebpf {
    () => {
        if let Some(why) = unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// `bpf/build.sh` into a scratch file gives the committed object byte for byte. The build maps
/// the source directory's path away (-fdebug-prefix-map) and drops the compiler's ident, so the
/// bytes depend on the source and the compiler only: CI's Debian clang 14 is the one that built
/// the committed object.
#[test]
fn ebpf_object_is_fresh() {
    if Command::new("clang").arg("--version").output().is_err() {
        eprintln!("skipped: clang is not installed (.ci/run installs it)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh = scratch_path("ebpf", "clonetrace.bpf.o");
    let built = Command::new(root.join("bpf/build.sh"))
        .arg(&fresh)
        .output()
        .expect("run bpf/build.sh");
    assert!(
        built.status.success(),
        "bpf/build.sh failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let committed = std::fs::read(root.join("bpf/clonetrace.bpf.o")).expect("committed object");
    let fresh = std::fs::read(&fresh).expect("fresh object");
    assert!(
        committed == fresh,
        "bpf/clonetrace.bpf.o is stale: run bpf/build.sh and commit the object \
         (committed {} bytes, fresh {} bytes)",
        committed.len(),
        fresh.len()
    );
}

/// What a record says, with pids replaced by the program each task runs (pids differ between
/// runs; the program a creation, exit or reap belongs to does not). Times, addresses other than
/// "is there a stack", and the values only ptrace can read are left out.
fn facts(trace: &Trace) -> BTreeMap<String, usize> {
    let mut program: HashMap<i64, String> = HashMap::new();
    let tracer = trace.tracer;
    program.insert(tracer, "clonetrace".into());
    let mut facts = BTreeMap::new();
    let of = |program: &HashMap<i64, String>, pid: &Value| {
        program
            .get(&pid.as_i64().unwrap_or(0))
            .cloned()
            .unwrap_or_else(|| "?".into())
    };
    for e in &trace.events {
        let fact = match e["type"].as_str().unwrap_or("") {
            "create" => {
                let creator = of(&program, &e["pid"]);
                program.insert(e["child"].as_i64().unwrap_or(0), creator.clone());
                format!(
                    "create by {creator}: {} {} {} stack={} stack_size={} {}",
                    e["syscall"],
                    e["flags"],
                    e["exit_signal"],
                    !e["stack"].is_null(),
                    e["stack_size"],
                    e["kind"]
                )
            }
            "exec" => {
                let path = e["path"].as_str().unwrap_or("");
                let name = path.rsplit('/').next().unwrap_or(path).to_string();
                program.insert(e["pid"].as_i64().unwrap_or(0), name);
                format!(
                    "exec {} {} from_thread={}",
                    e["path"],
                    e["argv"],
                    !e["old_pid"].is_null()
                )
            }
            "exit" => format!(
                "exit of {} ({}): code={} signal={} core={}",
                of(&program, &e["pid"]),
                if e["pid"] == e["tgid"] {
                    "leader"
                } else {
                    "thread"
                },
                e["code"],
                e["signal"],
                e["core_dumped"]
            ),
            "reap" => format!(
                "reap of {} by {}: {}",
                of(&program, &e["pid"]),
                of(&program, &e["reaper"]),
                e["relation"]
            ),
            "reparent" => format!("reparent of {}: {}", of(&program, &e["pid"]), e["relation"]),
            "leader_exit" => format!("leader_exit of {}", of(&program, &e["pid"])),
            "signal" => format!("signal {} to {}", e["signal"], of(&program, &e["tgid"])),
            _ => continue,
        };
        *facts.entry(fact).or_insert(0) += 1;
    }
    // The signals the kernel sends in bursts (SIGCHLD at every child's end or stop, SIGCONT,
    // SIGURG, SIGWINCH) coalesce while one is pending, and a ptraced task keeps one pending
    // longer: one it ignores is queued for it, where an untraced task has each discarded at the
    // sending. How many arrive depends on timing, so only whether one did is compared.
    for (fact, count) in facts.iter_mut() {
        if ["SIGCHLD", "SIGCONT", "SIGURG", "SIGWINCH"]
            .iter()
            .any(|s| fact.starts_with(&format!("signal \"{s}\"")))
        {
            *count = 1;
        }
    }
    facts
}

/// Notes under `what` the facts one engine has and the other has not, when there are any.
fn note_disagreement(
    failures: &mut Vec<String>,
    what: &str,
    ptrace: &BTreeMap<String, usize>,
    ebpf: &BTreeMap<String, usize>,
) {
    let diff = difference(ptrace, ebpf);
    if !diff.is_empty() {
        failures.push(format!("{what}:\n{}", diff.join("\n")));
    }
}

/// The two engines' facts of one run are the same.
fn assert_facts_agree(
    what: &str,
    ptrace: &BTreeMap<String, usize>,
    ebpf: &BTreeMap<String, usize>,
) {
    let mut failures = Vec::new();
    note_disagreement(&mut failures, what, ptrace, ebpf);
    assert_engines_agree(&failures);
}

/// A recording written to `file` by a clonetrace run that has finished.
fn recorded(
    file: &Path,
    stdout: Vec<u8>,
    stderr: String,
    status: std::process::ExitStatus,
    tracer: i64,
) -> Trace {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    Trace {
        events: text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        stdout,
        stderr,
        status,
        tracer,
    }
}

fn assert_engines_agree(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "the engines disagree:\n{}",
        failures.join("\n")
    );
}

/// The facts one engine has and the other has not, with their counts, for a message.
fn difference(a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "  ptrace {} ebpf {}: {k}",
                a.get(k).unwrap_or(&0),
                b.get(k).unwrap_or(&0)
            )
        })
        .collect()
}

/// Fixtures whose workload is bounded by time, not by count: the eBPF engine (no stops) runs
/// more rounds in the same time, so only the kinds of facts can agree, not their numbers.
const TIMED: &[&str] = &["robust_busy", "robust_create_loop"];

#[test]
fn ebpf_and_ptrace_agree_on_every_fixture() {
    require_ebpf!();
    let mut failures = Vec::new();
    for name in fixture_names() {
        let path = fixture(&name);
        let cmd = [path.to_str().unwrap()];
        let ptrace = trace(&[], &cmd);
        let ebpf = trace(&["--backend", "ebpf"], &cmd);
        assert_eq!(ptrace.header()["backend"], "ptrace");
        assert_eq!(ebpf.header()["backend"], "ebpf", "{name}: {}", ebpf.stderr);
        if ptrace.status.code() != ebpf.status.code() {
            failures.push(format!(
                "{name}: exit status ptrace {} ebpf {}",
                ptrace.status, ebpf.status
            ));
        }
        let (mut a, mut b) = (facts(&ptrace), facts(&ebpf));
        if name == "robust_killpg" {
            // kill(0, SIGKILL) ends parent and children at once: whether a child is reparented
            // depends on whether it dies before its parent or after, under either engine.
            a.retain(|fact, _| !fact.starts_with("reparent"));
            b.retain(|fact, _| !fact.starts_with("reparent"));
        }
        if TIMED.contains(&name.as_str()) {
            a.values_mut().for_each(|n| *n = 1);
            b.values_mut().for_each(|n| *n = 1);
        }
        if name == "clone_untraced" {
            // CLONE_UNTRACED hides the child from a ptrace tracer (the kernel never attaches
            // it); the eBPF engine, which attaches to nothing, sees it as it is: exactly its
            // create, exit and reap more.
            let mut extra = difference(&a, &b);
            extra.sort();
            assert_eq!(extra.len(), 3, "clone_untraced: {extra:#?}");
            assert!(
                extra.iter().all(|d| d.starts_with("  ptrace 0 ebpf 1")),
                "{extra:#?}"
            );
            assert!(
                extra.iter().any(|d| d.contains("CLONE_UNTRACED")),
                "{extra:#?}"
            );
            continue;
        }
        note_disagreement(&mut failures, &name, &a, &b);
    }
    assert_engines_agree(&failures);
}

/// With `--syscalls`, failed creations and the wait calls that reap agree too: the eBPF engine
/// sees a failure at the call's exit and a wait call's result at its return.
#[test]
fn ebpf_and_ptrace_agree_on_failed_creations_and_wait_calls() {
    require_ebpf!();
    let calls = |trace: &Trace| -> BTreeMap<String, usize> {
        let mut found = BTreeMap::new();
        for e in &trace.events {
            let fact = match e["type"].as_str().unwrap_or("") {
                "create_failed" => format!(
                    "create_failed {} {} {} {}",
                    e["syscall"], e["flags"], e["exit_signal"], e["errno"]
                ),
                // wait's id is a pid when positive: only its sign is the same in two runs.
                "wait" => format!(
                    "wait {} {} id>0={} {} reaped={}",
                    e["syscall"],
                    e["idtype"],
                    e["id"].as_i64().unwrap_or(0) > 0,
                    e["options"],
                    e["reaped"]
                ),
                _ => continue,
            };
            *found.entry(fact).or_insert(0) += 1;
        }
        found
    };
    let mut failures = Vec::new();
    for name in [
        "rlimit_eagain",
        "clone3_efault",
        "waitid_pid",
        "waitid_pidfd",
        "fork_wait",
    ] {
        let path = fixture(name);
        let cmd = [path.to_str().unwrap()];
        let ptrace = trace(&["--syscalls"], &cmd);
        let ebpf = trace(&["--syscalls", "--backend", "ebpf"], &cmd);
        let (a, b) = (calls(&ptrace), calls(&ebpf));
        assert!(
            !a.is_empty(),
            "{name}: no failed creation or wait call recorded"
        );
        note_disagreement(&mut failures, name, &a, &b);
    }
    assert_engines_agree(&failures);
}

/// Each demo scenario, recorded by both engines.
#[test]
fn ebpf_and_ptrace_agree_on_every_demo_scenario() {
    require_ebpf!();
    let list = common::run_clonetrace(&["demo", "--list"]);
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect();
    assert!(names.len() >= 5, "no scenarios listed: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let record = |backend: &str| -> Trace {
            let file = scratch_path("ebpf", &format!("demo-{name}-{backend}.jsonl"));
            let mut command = Command::new(clonetrace());
            command
                .args([
                    "demo",
                    name,
                    "--color",
                    "never",
                    "--backend",
                    backend,
                    "--json",
                    "-o",
                ])
                .arg(&file);
            let finished = run(command);
            let tracer = i64::from(finished.pid);
            recorded(
                &file,
                finished.stdout,
                finished.stderr,
                finished.status,
                tracer,
            )
        };
        let (ptrace, ebpf) = (record("ptrace"), record("ebpf"));
        assert!(
            ebpf.status.success() && !ebpf.events.is_empty(),
            "demo {name} --backend ebpf: {}\n{}",
            ebpf.status,
            ebpf.stderr
        );
        // The demo re-executes itself: its tracer pid is in the header, not the demo's pid.
        let with_tracer = |mut t: Trace| {
            t.tracer = t.header()["tracer_pid"].as_i64().unwrap_or(0);
            t
        };
        let (ptrace, ebpf) = (with_tracer(ptrace), with_tracer(ebpf));
        note_disagreement(
            &mut failures,
            &format!("demo {name}"),
            &facts(&ptrace),
            &facts(&ebpf),
        );
    }
    assert_engines_agree(&failures);
}

/// A reaper inside a nested PID namespace is told its child's pid as that namespace numbers it
/// (here 2): the engines still agree that `sleep` was reaped by the namespace's `sh` (pid 1
/// inside), not left unreaped.
#[test]
fn ebpf_and_ptrace_agree_on_a_reap_inside_a_pid_namespace() {
    require_ebpf!();
    let cmd = [
        "unshare",
        "--pid",
        "--fork",
        "sh",
        "-c",
        "/bin/sleep 0.1 & wait",
    ];
    let (ptrace, ebpf) = (trace(&[], &cmd), trace(&["--backend", "ebpf"], &cmd));
    assert!(ptrace.status.success(), "{}", ptrace.stderr);
    let (a, b) = (facts(&ptrace), facts(&ebpf));
    assert_eq!(a.get("reap of sleep by sh: \"parent\""), Some(&1), "{a:#?}");
    assert_facts_agree("unshare --pid --fork", &a, &b);
}

/// `-p` with the eBPF engine: a running shell's creations, execs, exits and reaps from the
/// attach on, as the ptrace engine sees them; the trace ends with the shell, status 0.
#[test]
fn ebpf_attach_follows_a_running_process_as_ptrace_does() {
    require_ebpf!();
    let record = |backend: &str| -> Trace {
        let mut shell = Command::new("sh")
            .args(["-c", "read x; /bin/true; /bin/sleep 0.05 & wait"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("start sh");
        let file = scratch_path("ebpf", &format!("attach-{backend}.jsonl"));
        let tracer = Command::new(clonetrace())
            .args(["--backend", backend, "--json", "-o"])
            .arg(&file)
            .args(["-p", &shell.id().to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start clonetrace");
        // The header is written once the process is traced: only then may the shell go on.
        let started = Instant::now();
        while !std::fs::read_to_string(&file).is_ok_and(|t| t.contains(r#""type":"header""#)) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{backend}: never attached"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let tracer_pid = i64::from(tracer.id());
        drop(shell.stdin.take());
        // Reaped as soon as it ends, as a shell would reap it.
        let reaper = std::thread::spawn(move || shell.wait());
        let done = tracer.wait_with_output().expect("clonetrace");
        let _ = reaper.join();
        let stderr = String::from_utf8_lossy(&done.stderr).into_owned();
        recorded(&file, done.stdout, stderr, done.status, tracer_pid)
    };
    let (ptrace, ebpf) = (record("ptrace"), record("ebpf"));
    assert!(ebpf.status.success(), "{}", ebpf.stderr);
    assert_eq!(ebpf.header()["backend"], "ebpf");
    assert_eq!(ebpf.of_type("attach").len(), 1, "{:?}", ebpf.events);
    let (a, b) = (facts(&ptrace), facts(&ebpf));
    assert_eq!(
        a.keys().filter(|k| k.starts_with("exec")).count(),
        2,
        "{a:#?}"
    );
    assert_facts_agree("-p", &a, &b);
}

/// With a ring buffer of one page and the tracer stuck writing live lines to a pipe nobody
/// reads yet, the kernel side has nowhere to put 2,000 processes' records: what it drops is
/// counted in `lost` records, said live and under the tree, and the trace still ends with the
/// command's status once the pipe is read.
#[test]
fn ebpf_lost_records_are_counted_and_said() {
    require_ebpf!();
    let file = scratch_path("ebpf", "lost.jsonl");
    let marker = scratch_path("ebpf", "lost-marker");
    let script = format!(
        "i=0; while [ $i -lt 2000 ]; do /bin/true; i=$((i+1)); done; touch {}; exit 7",
        marker.display()
    );
    let mut child = Command::new(clonetrace())
        .env("CLONETRACE_EBPF_RING_BYTES", "4096")
        .args([
            "--backend",
            "ebpf",
            "--color",
            "never",
            "--tree",
            "--json",
            "-o",
        ])
        .arg(&file)
        .args(["--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + common::TIMEOUT;
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the workload never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(7),
        "{}",
        &stderr[stderr.len().saturating_sub(2000)..]
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let lost: u64 = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "lost")
        .map(|e| e["count"].as_u64().expect("a count"))
        .sum();
    assert!(lost > 0, "no lost record");
    assert!(
        stderr.contains("record") && stderr.contains("lost"),
        "not said live"
    );
    assert!(
        stderr.contains(&format!("incomplete: {lost} records lost")),
        "not said under the tree: {}",
        &stderr[stderr.len().saturating_sub(500)..]
    );
    assert!(text.lines().last().unwrap().contains(r#""type":"end""#));
}

/// Without privileges: one line naming what is missing, status 1, nothing run.
#[test]
fn ebpf_without_privileges_names_what_is_missing() {
    require_ebpf!();
    let marker = scratch_path("ebpf", "unprivileged-ran");
    let mut command = Command::new("setpriv");
    command
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(clonetrace())
        .args(["--backend", "ebpf", "--", "touch"])
        .arg(&marker);
    let finished = run(command);
    assert_eq!(finished.status.code(), Some(1), "{}", finished.stderr);
    assert_eq!(
        finished.stderr.trim_end(),
        "clonetrace: --backend ebpf: needs root, or CAP_BPF and CAP_PERFMON (missing: CAP_BPF, CAP_PERFMON)"
    );
    assert!(!marker.exists(), "the command ran untraced");
}

/// SIGTERM ends the trace at once (status 128+15) and the command runs on, unharmed.
#[test]
fn ebpf_sigterm_detaches_and_the_command_runs_on() {
    require_ebpf!();
    let marker = scratch_path("ebpf", "sigterm-marker");
    let script = format!("sleep 0.6; echo done > {}", marker.display());
    let mut child = Command::new(clonetrace())
        .args(["--backend", "ebpf", "--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "it took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(128 + 15));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "done\n");
}

/// An output that fails (a full disk): one warning, the trace stops, the command finishes on
/// its own and its status is mirrored.
#[test]
fn ebpf_output_failure_stops_tracing_and_mirrors_the_status() {
    require_ebpf!();
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    let marker = scratch_path("ebpf", "full-marker");
    let script = format!(
        "/bin/true; sleep 0.2; echo done > {}; exit 4",
        marker.display()
    );
    let finished = common::run_clonetrace(&[
        "--backend",
        "ebpf",
        "--color",
        "never",
        "--json",
        "-o",
        "/dev/full",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    assert_eq!(finished.status.code(), Some(4), "{}", finished.stderr);
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "done\n");
    let warnings: Vec<&str> = finished
        .stderr
        .lines()
        .filter(|l| l.starts_with("clonetrace:"))
        .collect();
    assert!(
        warnings.len() == 1 && warnings[0].contains("/dev/full"),
        "one warning naming /dev/full, not: {warnings:?}"
    );
}

/// Runs `clonetrace --system ARGS --json -o FILE` while `workload` runs, stops it with SIGINT,
/// and returns the record.
fn system_trace(args: &[&str], workload: impl FnOnce()) -> Vec<Value> {
    let file = scratch_path("ebpf", "system.jsonl");
    let mut child = Command::new(clonetrace())
        .args(["--system", "--color", "never", "--json", "-o"])
        .arg(&file)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready when the header is written.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&file).map_or(true, |t| t.is_empty()) {
        assert!(
            Instant::now() < deadline,
            "clonetrace --system never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    workload();
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "clonetrace --system: {status}");
    let text = std::fs::read_to_string(&file).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.last().unwrap()["type"], "end");
    events
}

/// A program named by --comm is traced from its exec, with what it creates and how they end;
/// nothing else on the machine is.
#[test]
fn ebpf_system_comm_traces_only_that_program() {
    require_ebpf!();
    let _serial = common::serial();
    // A copy with a name of its own: its comm is its file name.
    let dir = scratch_path("ebpf", "comm");
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("ctcomm_fork");
    std::fs::copy(fixture("fork_wait"), &copy).unwrap();
    let events = system_trace(&["--comm", "ctcomm_fork"], || {
        let status = Command::new(&copy).stdout(Stdio::null()).status().unwrap();
        assert!(status.success());
        // Something else, which must not appear.
        Command::new("sh").args(["-c", "true"]).status().unwrap();
    });
    let execs: Vec<&Value> = events.iter().filter(|e| e["type"] == "exec").collect();
    assert_eq!(execs.len(), 1, "{events:#?}");
    assert_eq!(execs[0]["path"], copy.to_str().unwrap());
    let root = execs[0]["pid"].clone();
    let creates: Vec<&Value> = events.iter().filter(|e| e["type"] == "create").collect();
    assert_eq!(creates.len(), 1, "{creates:#?}");
    assert_eq!(creates[0]["pid"], root);
    assert_eq!(creates[0]["syscall"], "clone");
    let child = creates[0]["child"].clone();
    let reaps: Vec<&Value> = events.iter().filter(|e| e["type"] == "reap").collect();
    assert!(
        reaps
            .iter()
            .any(|r| r["pid"] == child && r["reaper"] == root && r["relation"] == "parent"),
        "{reaps:#?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["type"] != "exec" || e["path"] != "/usr/bin/sh"),
        "the unrelated sh was traced"
    );
}

/// --pid-tree: a running process is announced (attach) and what it creates afterwards is traced.
#[test]
fn ebpf_system_pid_tree_follows_a_running_process() {
    require_ebpf!();
    let mut sh = Command::new("sh")
        .args(["-c", "read line; /bin/true; exit 3"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = sh.id().to_string();
    let mut stdin = sh.stdin.take().unwrap();
    let events = system_trace(&["--pid-tree", &pid], || {
        use std::io::Write;
        writeln!(stdin, "go").unwrap();
        assert_eq!(sh.wait().unwrap().code(), Some(3));
    });
    let pid: i64 = pid.parse().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "attach" && e["pid"] == pid),
        "{events:#?}"
    );
    let creates: Vec<&Value> = events.iter().filter(|e| e["type"] == "create").collect();
    assert!(creates.iter().all(|c| c["pid"] == pid), "{creates:#?}");
    assert_eq!(creates.len(), 1, "{creates:#?}");
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "exec" && e["path"] == "/bin/true")
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "exit" && e["pid"] == pid && e["code"] == 3)
    );
}

/// --cgroup: tasks in a cgroup (v2) directory are traced; here one made for the test.
#[test]
fn ebpf_system_cgroup_traces_the_tasks_in_it() {
    require_ebpf!();
    let base = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.join("cgroup.procs").exists() && p.join("cgroup.subtree_control").exists());
    let Some(base) = base else {
        eprintln!("skipped: no cgroup v2 hierarchy mounted");
        return;
    };
    let dir = base.join(format!("clonetrace-test-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let procs = dir.join("cgroup.procs");
    let script = format!(
        "echo $$ > {}; exec {}",
        procs.display(),
        fixture("fork_wait").display()
    );
    let events = system_trace(&["--cgroup", dir.to_str().unwrap()], || {
        let status = Command::new("sh")
            .args(["-c", &script])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    });
    let _ = std::fs::remove_dir(&dir);
    let execs: Vec<&Value> = events.iter().filter(|e| e["type"] == "exec").collect();
    assert_eq!(execs.len(), 1, "{events:#?}");
    assert!(execs[0]["path"].as_str().unwrap().ends_with("fork_wait"));
    assert_eq!(
        events.iter().filter(|e| e["type"] == "create").count(),
        1,
        "{events:#?}"
    );
}
