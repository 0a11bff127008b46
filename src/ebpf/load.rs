//! ebpf::load: checks what the eBPF engine needs (privileges, BTF, lockdown, the initial
//! PID namespace), loads the embedded BPF object with aya, attaches its tracepoints and hands out
//! its maps. Dropping `Loaded` detaches every program and frees every map. Never reads a record.

use super::Filters;
use crate::error::Error;
use crate::event::Pid;
use aya::maps::{HashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::RawTracePoint;
use aya::{Ebpf, EbpfLoader, VerifierLogLevel};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The BPF program, compiled from bpf/clonetrace.bpf.c by bpf/build.sh and committed.
static OBJECT: &[u8] = aya::include_bytes_aligned!("../../bpf/clonetrace.bpf.o");

/// The programs, each named after the raw tracepoint it attaches to (by name: no BTF lookup).
/// The syscalls come through `sys_exit` with a switch on the number: the per-syscall tracepoints
/// are perf events, and releasing each costs an RCU grace period (about 70 ms here) at the end of
/// every trace.
const TRACEPOINTS: &[&str] = &[
    "task_newtask",
    "sched_process_exec",
    "sched_process_exit",
    "sched_process_free",
    "signal_deliver",
    "signal_generate",
    "sys_exit",
];

/// The ring buffer's default size, and the share of it that waits before the reader is woken
/// (the reader also drains it every `super::DRAIN_EVERY`).
const RING_BYTES: u32 = 4 << 20;
const WAKE_SHARE: u32 = 8;

/// The loaded, attached program and the maps userspace uses.
pub struct Loaded {
    /// Holds the programs and their links: dropping it detaches them.
    _ebpf: Ebpf,
    pub events: RingBuf<MapData>,
    traced: HashMap<MapData, u32, u8>,
    lost: PerCpuArray<MapData, u64>,
}

impl Loaded {
    /// Puts a process in the traced tree: its threads and everything they create from now on
    /// are seen.
    pub fn trace_process(&mut self, pid: Pid) -> Result<(), Error> {
        self.traced
            .insert(pid as u32, 1, 0)
            .map_err(|e| Error::new(format!("cannot register process {pid} with eBPF: {e}"), 1))
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
    let privileged = has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
    if !privileged {
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
    Ok(())
}

/// Loads the program, configured for the command's tree (`filters` `None`) or the system, and
/// attaches every tracepoint.
pub fn load(filters: Option<&Filters>) -> Result<Loaded, Error> {
    let fail = |what: &str, e: &dyn std::error::Error| {
        Error::new(format!("--backend ebpf: {what}: {}", chain(e)), 1)
    };
    // Reads and parses the kernel's BTF (/sys/kernel/btf/vmlinux) for the CO-RE reads: the one
    // parse a trace makes, about 18 ms here.
    let mut loader = EbpfLoader::new();
    // No verifier log unless a load fails (aya then retries with one): the log costs time.
    loader.verifier_log_level(VerifierLogLevel::DISABLE);
    let ring = ring_bytes()?;
    if ring != RING_BYTES {
        loader.map_max_entries("events", ring);
    }
    let wake_bytes = u64::from(ring / WAKE_SHARE);
    loader.override_global("wake_bytes", &wake_bytes, true);
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
            let meta = std::fs::metadata(path)
                .map_err(|e| Error::new(format!("--cgroup {}: {e}", path.display()), 2))?;
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
    for &name in TRACEPOINTS {
        let program: &mut RawTracePoint = ebpf
            .program_mut(name)
            .ok_or_else(|| Error::new(format!("--backend ebpf: no program {name}"), 1))?
            .try_into()
            .map_err(|e| fail(name, &e))?;
        program.load().map_err(|e| fail(name, &e))?;
        program.attach(name).map_err(|e| fail(name, &e))?;
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

/// `CLONETRACE_EBPF_RING_BYTES`: the ring buffer's size (default 4 MiB), a power of two of at
/// least a page. Larger loses fewer records in creation storms; tiny makes losses testable.
fn ring_bytes() -> Result<u32, Error> {
    let Some(text) = std::env::var_os("CLONETRACE_EBPF_RING_BYTES") else {
        return Ok(RING_BYTES);
    };
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u32;
    match text.to_str().and_then(|t| t.parse::<u32>().ok()) {
        Some(n) if n >= page && n.is_power_of_two() => Ok(n),
        _ => Err(Error::usage(format!(
            "CLONETRACE_EBPF_RING_BYTES={}: not a power of two of at least {page}",
            text.to_string_lossy()
        ))),
    }
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
