//! Real container tools under clonetrace: runc, bubblewrap, unshare, nsenter, systemd-nspawn and
//! LXC, each running a busybox root filesystem. For each: which process is the container's init
//! (pid 1 inside), exactly which namespaces it and its helpers got and how, the helpers named,
//! the exit status mirrored, and nothing left behind. A tool that is missing or cannot run here
//! even untraced is skipped with the reason printed.

use crate::common::{Trace, run, scratch_dir, scratch_path, strings, trace};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Whether `tool` can be used here; if not, says why (the test then passes as skipped, loudly).
fn usable(tool: &str, package: &str) -> bool {
    if !nix_is_root() {
        eprintln!("skipped: containers need root, and this test runs as another user");
        return false;
    }
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        eprintln!("skipped: {tool} is not installed (apt-get install {package})");
    }
    found
}

fn nix_is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A busybox root filesystem (sh, sleep, true), made once per test run.
fn rootfs() -> &'static Path {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS.get_or_init(|| {
        let root = scratch_dir().join("containers").join("rootfs");
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).expect("rootfs/bin");
        for dir in ["proc", "dev", "sys", "tmp", "etc", "usr", "run"] {
            std::fs::create_dir_all(root.join(dir)).expect("rootfs dir");
        }
        // systemd-nspawn checks that the tree looks like an OS.
        std::fs::write(root.join("etc/os-release"), "ID=busybox\n").expect("os-release");
        let busybox = ["/usr/bin/busybox", "/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("busybox-static is installed");
        std::fs::copy(busybox, bin.join("busybox")).expect("copy busybox");
        for applet in ["sh", "sleep", "true"] {
            let link = bin.join(applet);
            if !link.exists() {
                std::os::unix::fs::symlink("busybox", &link).expect("applet link");
            }
        }
        root
    })
}

fn has_busybox() -> bool {
    let found = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .any(|p| Path::new(p).exists());
    if !found {
        eprintln!("skipped: no busybox for the root filesystem (apt-get install busybox-static)");
    }
    found
}

/// A name no other test uses, to find anything the container left running.
fn marker(what: &str) -> String {
    let path = scratch_path("containers", what);
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Fails if any process still carries `marker` in its command line.
fn assert_nothing_left(marker: &str) {
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            text.contains(marker).then(|| format!("{pid}: {text}"))
        })
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}

/// The first child `pid` makes, once it has made one (a container tool starting its init).
fn first_child(pid: i64) -> i64 {
    (0..500)
        .find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            let children =
                std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
            children.split_whitespace().next()?.parse::<i64>().ok()
        })
        .unwrap_or_else(|| panic!("{pid} made no child"))
}

/// The `namespaces` records of a trace, as (pid, new kinds, via, from_pid).
fn namespace_records(trace: &Trace) -> Vec<(i64, Vec<String>, String, Option<i64>)> {
    trace
        .of_type("namespaces")
        .into_iter()
        .map(|n| {
            (
                n["pid"].as_i64().unwrap(),
                strings(n, "new"),
                n["via"].as_str().unwrap().to_string(),
                n["from_pid"].as_i64(),
            )
        })
        .collect()
}

/// The process whose exec ran `path` (the last such).
fn exec_of(trace: &Trace, path: &str) -> Value {
    trace
        .execs()
        .into_iter()
        .rev()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("no exec of {path}:\n{}", trace.dump()))
        .clone()
}

fn nspid(event: &Value) -> Vec<i64> {
    event["nspid"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn kinds(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The tree of a recording, as `clonetrace view --tree` draws it.
fn tree(trace: &Trace) -> String {
    let file = scratch_path("containers", "record.jsonl");
    let text: Vec<String> = trace.events.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    let mut view = Command::new(crate::common::clonetrace());
    view.args(["view", "--tree", "--color", "never"]).arg(&file);
    let done = run(view);
    assert!(done.status.success(), "view failed: {}", done.stderr);
    String::from_utf8_lossy(&done.stdout).into_owned()
}

/// The tree's lines about namespaces, cgroups and id maps, without the drawing.
fn story_lines(tree: &str) -> Vec<String> {
    tree.lines()
        .map(|l| l.trim_start_matches([' ', '│', '├', '└', '─']).to_string())
        .filter(|l| l.contains("namespace") || l.starts_with("cgroup ") || l.starts_with("uid "))
        .collect()
}

/// An OCI bundle around the busybox root filesystem running `sh -c SCRIPT MARKER`.
fn oci_bundle(script: &str, marker: &str) -> PathBuf {
    let bundle = scratch_path("containers", "bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    let spec = Command::new("runc")
        .args(["spec", "--bundle"])
        .arg(&bundle)
        .status()
        .unwrap();
    assert!(spec.success(), "runc spec failed");
    let config_path = bundle.join("config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["process"]["terminal"] = Value::Bool(false);
    config["process"]["args"] = serde_json::json!(["sh", "-c", script, marker]);
    config["root"]["path"] = Value::from(rootfs().to_str().unwrap());
    std::fs::write(&config_path, config.to_string()).unwrap();
    bundle
}

fn runc_trace(args: &[&str]) -> (Trace, String, PathBuf) {
    let marker = marker("runc");
    let bundle = oci_bundle("exit 3", &marker);
    let state = scratch_path("containers", "runc-state");
    let id = marker.clone();
    let trace = trace(
        args,
        &[
            "runc",
            "--root",
            state.to_str().unwrap(),
            "run",
            "--bundle",
            bundle.to_str().unwrap(),
            &id,
        ],
    );
    (trace, marker, state)
}

#[test]
fn runc_run_shows_its_init_its_unshared_namespaces_and_its_re_executions() {
    if !usable("runc", "runc") || !has_busybox() {
        return;
    }
    let (trace, marker, state) = runc_trace(&[]);
    assert_eq!(trace.status.code(), Some(3), "{}", trace.stderr);
    assert_nothing_left(&marker);
    assert!(
        !state.join(&marker).exists(),
        "runc's container state was left behind"
    );
    // runc re-executes itself, first through /proc/self/exe, then from a copy at /dev/fd/N.
    let init = exec_of(&trace, "/proc/self/exe");
    assert_eq!(strings(&init, "argv"), ["runc", "init"]);
    assert_eq!(init["exe"], "/usr/sbin/runc");
    assert!(
        trace
            .execs()
            .iter()
            .any(|e| e["path"].as_str().unwrap().starts_with("/dev/fd/")
                && strings(e, "argv") == ["runc", "init"])
    );
    // The container's process is pid 1 inside.
    let sh = exec_of(&trace, "/bin/sh");
    let pid = sh["pid"].as_i64().unwrap();
    assert_eq!(nspid(&sh), [pid, 1]);
    // nsexec's second stage unshares; its child, made with plain clone(CLONE_PARENT), is the
    // first process of the new PID namespace.
    let stage2 = trace.create_of(pid);
    assert_eq!(strings(stage2, "flags"), ["CLONE_PARENT"]);
    let stage1 = stage2["pid"].as_i64().unwrap();
    assert_eq!(
        namespace_records(&trace),
        [
            (
                stage1,
                kinds(&["ipc", "mnt", "net", "pid_for_children", "uts"]),
                "unknown".into(),
                None
            ),
            (pid, kinds(&["pid"]), "unknown".into(), None),
        ]
    );
    let cgroups = trace.of_type("cgroup");
    assert_eq!(cgroups.len(), 1, "{}", trace.dump());
    assert_eq!(cgroups[0]["pid"], pid);
    assert!(
        cgroups[0]["path"].as_str().unwrap().ends_with(&marker),
        "{}",
        cgroups[0]
    );
    let tree = tree(&trace);
    assert!(tree.contains(" runc init "), "{tree}");
    assert_eq!(
        story_lines(&tree)[..2],
        [
            "in new ipc, mnt, net and uts namespaces and pid namespace for its children (by unshare or setns; --syscalls shows which)",
            "in a new pid namespace (by unshare or setns; --syscalls shows which)",
        ]
    );
}

#[test]
fn runc_with_syscalls_names_the_unshare_and_its_flags() {
    if !usable("runc", "runc") || !has_busybox() {
        return;
    }
    let (trace, marker, _) = runc_trace(&["--syscalls"]);
    assert_eq!(trace.status.code(), Some(3), "{}", trace.stderr);
    assert_nothing_left(&marker);
    let unshare = trace
        .of_type("namespaces")
        .into_iter()
        .find(|n| n["via"] == "unshare")
        .unwrap_or_else(|| panic!("no unshare:\n{}", trace.dump()))
        .clone();
    assert_eq!(
        strings(&unshare, "flags"),
        [
            "CLONE_NEWNS",
            "CLONE_NEWUTS",
            "CLONE_NEWIPC",
            "CLONE_NEWPID",
            "CLONE_NEWNET"
        ]
    );
    assert_eq!(
        strings(&unshare, "new"),
        ["ipc", "mnt", "net", "pid_for_children", "uts"]
    );
    let sh = exec_of(&trace, "/bin/sh");
    let pid = sh["pid"].as_i64().unwrap();
    let records = namespace_records(&trace);
    assert!(
        records.contains(&(pid, kinds(&["pid"]), "unshare".into(), None)),
        "{records:?}"
    );
    assert!(trace.stderr.contains(
        "unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET) = 0   new ipc, mnt, net and uts namespaces and pid namespace for its children (unshare)"
    ), "{}", trace.stderr);
}

#[test]
fn bubblewrap_unshare_all_gets_every_namespace_by_clone_and_a_uid_map() {
    if !usable("bwrap", "bubblewrap") || !has_busybox() {
        return;
    }
    let marker = marker("bwrap");
    let root = rootfs().to_str().unwrap();
    let trace = trace(
        &[],
        &[
            "bwrap",
            "--unshare-all",
            "--ro-bind",
            root,
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "sh",
            "-c",
            "exit 4",
            &marker,
        ],
    );
    assert_eq!(trace.status.code(), Some(4), "{}", trace.stderr);
    let create = trace
        .creates()
        .into_iter()
        .find(|c| strings(c, "flags").contains(&"CLONE_NEWUSER".to_string()))
        .unwrap_or_else(|| panic!("no CLONE_NEWUSER:\n{}", trace.dump()))
        .clone();
    assert_eq!(
        strings(&create, "flags"),
        [
            "CLONE_NEWNS",
            "CLONE_NEWCGROUP",
            "CLONE_NEWUTS",
            "CLONE_NEWIPC",
            "CLONE_NEWUSER",
            "CLONE_NEWPID",
            "CLONE_NEWNET"
        ]
    );
    let init = create["child"].as_i64().unwrap();
    assert_eq!(nspid(&create), [init, 1]);
    assert_eq!(
        namespace_records(&trace),
        [(
            init,
            kinds(&["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"]),
            "clone".into(),
            None
        )]
    );
    // bwrap writes the maps after the clone; they are read at the next stop in the namespace and
    // shown with its first process. As root, bwrap maps root to itself.
    let maps = trace.of_type("id_maps");
    assert_eq!(maps.len(), 1, "{}", trace.dump());
    assert_eq!(maps[0]["pid"], init);
    assert_eq!(maps[0]["uid_map"], serde_json::json!([[0, 0, 1]]));
    assert_eq!(maps[0]["gid_map"], serde_json::json!([[0, 0, 1]]));
    let sh = exec_of(&trace, "/bin/sh");
    assert_eq!(nspid(&sh)[1], 2);
    assert_eq!(
        story_lines(&tree(&trace)),
        [
            "new cgroup, ipc, mnt, net, pid, user and uts namespaces (clone)",
            "uid 0 inside = 0 outside; gid 0 inside = 0 outside",
        ]
    );
}

#[test]
fn unshare_fork_pid_gives_the_child_pid_1_and_the_caller_the_rest() {
    if !usable("unshare", "util-linux") {
        return;
    }
    for (mode, via) in [(None, "unknown"), (Some("--syscalls"), "unshare")] {
        let args: Vec<&str> = mode.into_iter().collect();
        let trace = trace(
            &args,
            &[
                "unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "sh", "-c", "exit 5",
            ],
        );
        assert_eq!(trace.status.code(), Some(5), "{}", trace.stderr);
        let root = trace.root_pid();
        let sh = exec_of(&trace, "/usr/bin/sh");
        let child = sh["pid"].as_i64().unwrap();
        assert_eq!(nspid(&sh), [child, 1]);
        assert_eq!(
            namespace_records(&trace),
            [
                (
                    root,
                    kinds(&["ipc", "mnt", "pid_for_children", "uts"]),
                    via.into(),
                    None
                ),
                (child, kinds(&["pid"]), via.into(), None),
            ],
            "{mode:?}"
        );
        if mode.is_some() {
            let unshare = &trace.of_type("namespaces")[0];
            assert_eq!(
                strings(unshare, "flags"),
                [
                    "CLONE_NEWNS",
                    "CLONE_NEWUTS",
                    "CLONE_NEWIPC",
                    "CLONE_NEWPID"
                ]
            );
        }
    }
}

#[test]
fn unshare_map_root_user_shows_the_uid_map_of_an_unprivileged_user() {
    if !usable("unshare", "util-linux") {
        return;
    }
    let allowed = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .map(|n| n.trim() != "0")
        .unwrap_or(false);
    if !allowed {
        eprintln!("skipped: user namespaces are disabled here (user.max_user_namespaces = 0)");
        return;
    }
    let trace = trace(&["-u", "nobody"], &["unshare", "-r", "sh", "-c", "exit 0"]);
    if trace.stderr.contains("unshare failed") {
        eprintln!(
            "skipped: this kernel refuses unprivileged user namespaces: {}",
            trace.stderr
        );
        return;
    }
    assert_eq!(trace.status.code(), Some(0), "{}", trace.stderr);
    let root = trace.root_pid();
    assert_eq!(
        namespace_records(&trace),
        [(root, kinds(&["user"]), "unknown".into(), None)]
    );
    let maps = trace.of_type("id_maps");
    assert_eq!(maps.len(), 1, "{}", trace.dump());
    assert_eq!(maps[0]["pid"], root);
    assert_eq!(maps[0]["uid_map"], serde_json::json!([[0, 65534, 1]]));
    assert_eq!(
        story_lines(&tree(&trace)),
        [
            "in a new user namespace (by unshare or setns; --syscalls shows which)",
            "uid 0 inside = 65534 outside; gid 0 inside = 65534 outside",
        ]
    );
}

#[test]
fn nsenter_enters_the_namespaces_of_its_target_and_says_whose() {
    if !usable("nsenter", "util-linux") || !usable("unshare", "util-linux") {
        return;
    }
    let marker = marker("nsenter");
    // A target in its own pid, mnt and uts namespaces: `unshare` and its child, pid 1 inside.
    let mut holder = Command::new("unshare")
        .args([
            "--pid",
            "--mount",
            "--uts",
            "--fork",
            "sh",
            "-c",
            "sleep 30; :",
            &marker,
        ])
        .spawn()
        .unwrap();
    let unshare_pid = holder.id() as i64;
    let target = first_child(unshare_pid);
    let target_arg = target.to_string();
    let trace = trace(
        &["--syscalls"],
        &[
            "nsenter",
            "--target",
            &target_arg,
            "--pid",
            "--mount",
            "--uts",
            "sh",
            "-c",
            "exit 6",
        ],
    );
    // The target is pid 1 of its namespace: killing it ends everything in there.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(target as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = holder.wait();
    assert_eq!(trace.status.code(), Some(6), "{}", trace.stderr);
    let root = trace.root_pid();
    let sh = exec_of(&trace, "/usr/bin/sh");
    let child = sh["pid"].as_i64().unwrap();
    assert_eq!(nspid(&sh).len(), 2, "{sh}");
    let records = namespace_records(&trace);
    // nsenter opens /proc/TARGET/ns/* and calls setns for each; the mnt and uts namespaces are
    // also unshare's own (the lowest pid in them), the pid namespace only the target's.
    let entered: Vec<(Vec<String>, Option<i64>)> = records
        .iter()
        .filter(|r| r.0 == root)
        .map(|r| (r.1.clone(), r.3))
        .collect();
    assert!(
        records
            .iter()
            .filter(|r| r.0 == root)
            .all(|r| r.2 == "setns")
    );
    assert!(
        entered.contains(&(kinds(&["uts"]), Some(unshare_pid)))
            && entered.contains(&(kinds(&["mnt"]), Some(unshare_pid)))
            && entered.contains(&(kinds(&["pid_for_children"]), Some(target))),
        "{records:?}"
    );
    assert!(
        records.contains(&(child, kinds(&["pid"]), "setns".into(), Some(target))),
        "{records:?}"
    );
    let setns: Vec<Vec<String>> = trace
        .of_type("namespaces")
        .into_iter()
        .filter(|n| n["pid"] == root)
        .map(|n| strings(n, "flags"))
        .collect();
    assert!(
        setns.contains(&vec!["CLONE_NEWPID".to_string()]),
        "{setns:?}"
    );
    assert_nothing_left(&marker);
}

#[test]
fn systemd_nspawn_makes_its_init_with_clone_flags_and_unshares_the_cgroup_namespace() {
    if !usable("systemd-nspawn", "systemd-container") || !has_busybox() {
        return;
    }
    let marker = marker("nspawn");
    let root = rootfs().to_str().unwrap();
    let command = [
        "systemd-nspawn",
        "--register=no",
        "--keep-unit",
        "-q",
        "-D",
        root,
        "/bin/sh",
        "-c",
        "exit 7",
        &marker,
    ];
    let untraced = run({
        let mut c = Command::new(command[0]);
        c.args(&command[1..]);
        c
    });
    if untraced.status.code() != Some(7) {
        eprintln!(
            "skipped: systemd-nspawn does not run here even untraced: {}",
            untraced.stderr
        );
        return;
    }
    let trace = trace(&["--syscalls"], &command);
    assert_eq!(trace.status.code(), Some(7), "{}", trace.stderr);
    assert_nothing_left(&marker);
    let sh = exec_of(&trace, "/bin/sh");
    let init = sh["pid"].as_i64().unwrap();
    assert_eq!(nspid(&sh), [init, 1]);
    assert_eq!(
        strings(trace.create_of(init), "flags"),
        [
            "CLONE_NEWNS",
            "CLONE_NEWUTS",
            "CLONE_NEWIPC",
            "CLONE_NEWPID"
        ]
    );
    let outer = trace.create_of(init)["pid"].as_i64().unwrap();
    assert_eq!(strings(trace.create_of(outer), "flags"), ["CLONE_NEWNS"]);
    assert_eq!(
        namespace_records(&trace),
        [
            (outer, kinds(&["mnt"]), "clone".into(), None),
            (
                init,
                kinds(&["ipc", "mnt", "pid", "uts"]),
                "clone".into(),
                None
            ),
            (init, kinds(&["cgroup"]), "unshare".into(), None),
        ]
    );
}

#[test]
fn lxc_execute_puts_its_init_in_namespaces_and_a_cgroup_with_clone3() {
    if !usable("lxc-execute", "lxc") || !has_busybox() {
        return;
    }
    let marker = marker("lxc");
    let lxcpath = scratch_path("containers", "lxc");
    std::fs::create_dir_all(&lxcpath).unwrap();
    let config = lxcpath.join("config");
    std::fs::write(
        &config,
        format!(
            "lxc.uts.name = clonetrace\nlxc.rootfs.path = dir:{}\nlxc.net.0.type = empty\nlxc.mount.auto = proc:mixed sys:ro\n",
            rootfs().display()
        ),
    )
    .unwrap();
    let name = marker.replace('-', "");
    let trace = trace(
        &[],
        &[
            "lxc-execute",
            "-n",
            &name,
            "-P",
            lxcpath.to_str().unwrap(),
            "-f",
            config.to_str().unwrap(),
            "--",
            "/bin/sh",
            "-c",
            "exit 8",
            &marker,
        ],
    );
    if trace.status.code() != Some(8) && trace.stderr.contains("Failed to") {
        eprintln!(
            "skipped: lxc-execute cannot start a container here: {}",
            trace.stderr
        );
        return;
    }
    assert_eq!(trace.status.code(), Some(8), "{}", trace.stderr);
    assert_nothing_left(&marker);
    assert!(
        !lxcpath.join(&name).exists(),
        "LXC left its container directory behind"
    );
    let create = trace
        .creates()
        .into_iter()
        .find(|c| c["syscall"] == "clone3" && c["kind"] == "process")
        .unwrap_or_else(|| panic!("no clone3:\n{}", trace.dump()))
        .clone();
    assert_eq!(
        strings(&create, "flags"),
        [
            "CLONE_PIDFD",
            "CLONE_NEWNS",
            "CLONE_NEWUTS",
            "CLONE_NEWIPC",
            "CLONE_NEWPID",
            "CLONE_NEWNET",
            "CLONE_INTO_CGROUP"
        ]
    );
    let init = create["child"].as_i64().unwrap();
    assert_eq!(nspid(&create), [init, 1]);
    let cgroup_path = create["cgroup_path"].as_str().unwrap_or_default();
    assert!(
        cgroup_path.contains(&format!("lxc.payload.{name}")),
        "{create}"
    );
    let records = namespace_records(&trace);
    assert_eq!(
        records[0],
        (
            init,
            kinds(&["ipc", "mnt", "net", "pid", "uts"]),
            "clone".into(),
            None
        )
    );
    let cgroups = trace.of_type("cgroup");
    assert_eq!(cgroups[0]["pid"], init, "{}", trace.dump());
    assert!(
        cgroups[0]["path"]
            .as_str()
            .unwrap()
            .contains(&format!("lxc.payload.{name}")),
        "{}",
        cgroups[0]
    );
}

#[test]
fn attaching_to_a_process_in_its_own_pid_namespace_says_what_differs_from_its_parent() {
    if !usable("unshare", "util-linux") {
        return;
    }
    let marker = marker("attach");
    // unshare takes new pid and uts namespaces and forks sh, pid 1 of the new PID namespace:
    // sh shares its parent's uts namespace, not its pid namespace.
    let mut holder = Command::new("unshare")
        .args(["--pid", "--uts", "--fork", "sh", "-c", "read x; :", &marker])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let unshare_pid = holder.id() as i64;
    let sh = first_child(unshare_pid);
    let pid = sh.to_string();
    let mut command = Command::new(crate::common::clonetrace());
    let file = scratch_path("containers", "attach.jsonl");
    command
        .args(["--color", "never", "--json", "-o"])
        .arg(&file)
        .args(["-p", &pid]);
    let tracer = command.spawn().unwrap();
    // Once sh is traced, let it end (its read gets end of file).
    let traced = (0..500).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::read_to_string(format!("/proc/{sh}/status"))
            .map(|s| {
                s.lines()
                    .any(|l| l.starts_with("TracerPid:") && l.trim_end() != "TracerPid:\t0")
            })
            .unwrap_or(false)
    });
    assert!(traced, "clonetrace never attached to {sh}");
    drop(holder.stdin.take());
    let done = tracer.wait_with_output().unwrap();
    let _ = holder.wait();
    assert!(done.status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["type"] == "namespaces")
        .collect();
    assert_eq!(records.len(), 1, "{text}");
    assert_eq!(records[0]["pid"], sh);
    assert_eq!(strings(&records[0], "new"), ["pid"]);
    assert_eq!(records[0]["via"], "unknown");
    assert_nothing_left(&marker);
}

#[test]
fn setns_with_a_pidfd_names_the_process_the_pidfd_stands_for() {
    if !nix_is_root() {
        eprintln!("skipped: entering another process's namespaces needs root");
        return;
    }
    let trace = crate::common::trace(
        &["--syscalls"],
        &[crate::common::fixture("setns_pidfd").to_str().unwrap()],
    );
    assert_eq!(trace.status.code(), Some(0), "{}", trace.stderr);
    let root = trace.root_pid();
    let child = trace
        .creates()
        .into_iter()
        .find(|c| c["pid"] == root)
        .map(|c| c["child"].as_i64().unwrap())
        .expect("the fixture forks");
    let setns: Vec<Value> = trace
        .of_type("namespaces")
        .into_iter()
        .filter(|n| n["via"] == "setns")
        .cloned()
        .collect();
    assert_eq!(setns.len(), 1, "{}", trace.dump());
    assert_eq!(setns[0]["pid"], root);
    assert_eq!(strings(&setns[0], "new"), ["uts"]);
    assert_eq!(setns[0]["from_pid"], child);
    assert_eq!(strings(&setns[0], "flags"), ["CLONE_NEWUTS"]);
    // The child's own unshare was seen at its syscall exit.
    let records = namespace_records(&trace);
    assert!(
        records.contains(&(child, kinds(&["uts"]), "unshare".into(), None)),
        "{records:?}"
    );
}
