//! ebpf::load: checks what the eBPF engine needs (privileges, BTF, lockdown, tracefs, the initial
//! PID namespace), loads the embedded BPF object with aya, attaches its tracepoints and hands out
//! its maps. Dropping `Loaded` detaches every program and frees every map. Never reads a record.

use super::Filters;
use crate::error::Error;
use crate::event::Pid;
use aya::maps::{HashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::{BtfTracePoint, TracePoint};
use aya::{Btf, Ebpf, EbpfLoader};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The BPF program, compiled from bpf/clonetrace.bpf.c by bpf/build.sh and committed.
static OBJECT: &[u8] = aya::include_bytes_aligned!("../../bpf/clonetrace.bpf.o");

/// BTF tracepoints: (program, tracepoint).
const BTF_TRACEPOINTS: &[&str] = &[
    "task_newtask",
    "sched_process_exec",
    "sched_process_exit",
    "sched_process_free",
];

/// Classic syscall tracepoints: (program, tracepoint in the `syscalls` category).
const SYSCALL_TRACEPOINTS: &[(&str, &str)] = &[
    ("enter_clone", "sys_enter_clone"),
    ("enter_clone3", "sys_enter_clone3"),
    ("enter_fork", "sys_enter_fork"),
    ("enter_vfork", "sys_enter_vfork"),
    ("exit_clone", "sys_exit_clone"),
    ("exit_clone3", "sys_exit_clone3"),
    ("exit_fork", "sys_exit_fork"),
    ("exit_vfork", "sys_exit_vfork"),
    ("enter_wait4", "sys_enter_wait4"),
    ("enter_waitid", "sys_enter_waitid"),
    ("exit_wait4", "sys_exit_wait4"),
    ("exit_waitid", "sys_exit_waitid"),
];

/// The loaded, attached program and the maps userspace uses.
pub struct Loaded {
    /// Holds the programs and their links: dropping it detaches them.
    _ebpf: Ebpf,
    pub events: RingBuf<MapData>,
    traced: HashMap<MapData, u32, u8>,
    lost: PerCpuArray<MapData, u64>,
}

impl Loaded {
    /// Puts a task in the traced tree: it and everything it creates from now on are seen.
    pub fn trace_task(&mut self, tid: Pid) -> Result<(), Error> {
        self.traced
            .insert(tid as u32, 1, 0)
            .map_err(|e| Error::new(format!("cannot register task {tid} with eBPF: {e}"), 1))
    }

    /// Records lost so far (the ring buffer was full), over every CPU.
    pub fn lost(&self) -> u64 {
        self.lost
            .get(&0, 0)
            .map(|per_cpu| per_cpu.iter().sum())
            .unwrap_or(0)
    }
}

/// One line naming what is missing for eBPF here, if anything is.
pub fn preflight() -> Result<(), Error> {
    let missing = |what: String| Error::new(format!("--backend ebpf: {what}"), 1);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("")
            .to_string()
    };
    let caps = u64::from_str_radix(&field("CapEff:"), 16).unwrap_or(0);
    const CAP_SYS_ADMIN: u64 = 21;
    const CAP_PERFMON: u64 = 38;
    const CAP_BPF: u64 = 39;
    let has = |cap: u64| caps & (1 << cap) != 0;
    if !has(CAP_SYS_ADMIN) && !(has(CAP_BPF) && has(CAP_PERFMON)) {
        let lacking: Vec<&str> = [(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")]
            .iter()
            .filter(|(cap, _)| !has(*cap))
            .map(|(_, name)| *name)
            .collect();
        return Err(missing(format!(
            "needs root, or CAP_BPF and CAP_PERFMON (missing: {})",
            lacking.join(", ")
        )));
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Err(missing(
            "this kernel has no BTF (/sys/kernel/btf/vmlinux; CONFIG_DEBUG_INFO_BTF)".into(),
        ));
    }
    if let Ok(lockdown) = std::fs::read_to_string("/sys/kernel/security/lockdown")
        && lockdown.contains("[confidentiality]")
    {
        return Err(missing(
            "kernel lockdown (confidentiality) forbids BPF reading kernel memory".into(),
        ));
    }
    // The BPF side sees pids as the initial PID namespace numbers them.
    if field("NSpid:").split_whitespace().count() > 1 {
        return Err(missing(
            "clonetrace runs in a PID namespace of its own; the eBPF engine must run in the initial one".into(),
        ));
    }
    ensure_tracefs().map_err(missing)
}

/// Syscall tracepoints are found through tracefs: mount it where the kernel expects it when no
/// one has.
fn ensure_tracefs() -> Result<(), String> {
    let found = ["/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"]
        .iter()
        .any(|p| Path::new(p).exists());
    if found {
        return Ok(());
    }
    let mounted = nix::mount::mount(
        Some("tracefs"),
        "/sys/kernel/tracing",
        Some("tracefs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    );
    mounted.map_err(|e| {
        format!("tracefs is not mounted and mounting it on /sys/kernel/tracing failed: {e}")
    })
}

/// Loads the program, configured for the command's tree (`filters` `None`) or the system, and
/// attaches every tracepoint.
pub fn load(filters: Option<&Filters>) -> Result<Loaded, Error> {
    let fail = |what: &str, e: &dyn std::error::Error| {
        Error::new(format!("--backend ebpf: {what}: {}", chain(e)), 1)
    };
    let btf = Btf::from_sys_fs().map_err(|e| fail("cannot read the kernel's BTF", &e))?;
    let mut loader = EbpfLoader::new();
    loader.btf(Some(&btf));
    let system = u32::from(filters.is_some());
    let mut comm = [0u8; 16];
    let (mut by_comm, mut by_cgroup, mut by_tree, mut cgroup_id) = (0u32, 0u32, 0u32, 0u64);
    if let Some(filters) = filters {
        if let Some(name) = &filters.comm {
            let bytes = name.as_bytes();
            let len = bytes.len().min(15);
            comm[..len].copy_from_slice(&bytes[..len]);
            by_comm = 1;
        }
        if let Some(path) = &filters.cgroup {
            // A cgroup v2 directory's inode number is its cgroup id.
            let meta = std::fs::metadata(path).map_err(|e| {
                Error::new(format!("--cgroup {}: {e}", path.display()), 2)
            })?;
            cgroup_id = meta.ino();
            by_cgroup = 1;
        }
        by_tree = u32::from(filters.pid_tree.is_some());
    }
    loader
        .override_global("system_mode", &system, true)
        .override_global("filter_comm", &by_comm, true)
        .override_global("filter_cgroup", &by_cgroup, true)
        .override_global("filter_tree", &by_tree, true)
        .override_global("comm_name", &comm, true)
        .override_global("cgroup_id", &cgroup_id, true);
    let mut ebpf = loader
        .load(OBJECT)
        .map_err(|e| fail("cannot load the BPF object", &e))?;
    for &name in BTF_TRACEPOINTS {
        let program: &mut BtfTracePoint = ebpf
            .program_mut(name)
            .ok_or_else(|| Error::new(format!("--backend ebpf: no program {name}"), 1))?
            .try_into()
            .map_err(|e| fail(name, &e))?;
        program.load(name, &btf).map_err(|e| fail(name, &e))?;
        program.attach().map_err(|e| fail(name, &e))?;
    }
    for &(name, tracepoint) in SYSCALL_TRACEPOINTS {
        let program: &mut TracePoint = ebpf
            .program_mut(name)
            .ok_or_else(|| Error::new(format!("--backend ebpf: no program {name}"), 1))?
            .try_into()
            .map_err(|e| fail(name, &e))?;
        program.load().map_err(|e| fail(name, &e))?;
        program
            .attach("syscalls", tracepoint)
            .map_err(|e| fail(tracepoint, &e))?;
    }
    let take = |ebpf: &mut Ebpf, name: &str| {
        ebpf.take_map(name)
            .ok_or_else(|| Error::new(format!("--backend ebpf: no map {name}"), 1))
    };
    let events = RingBuf::try_from(take(&mut ebpf, "events")?).map_err(|e| fail("events", &e))?;
    let traced = HashMap::try_from(take(&mut ebpf, "traced")?).map_err(|e| fail("traced", &e))?;
    let lost = PerCpuArray::try_from(take(&mut ebpf, "lost")?).map_err(|e| fail("lost", &e))?;
    Ok(Loaded {
        _ebpf: ebpf,
        events,
        traced,
        lost,
    })
}

/// An error and its causes on one line: aya's top-level messages alone ("error relocating
/// function") do not say what went wrong.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
