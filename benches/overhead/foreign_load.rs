//! How much CPU other processes used while a measurement ran: the machine's busy time from
//! /proc/stat minus what this bench and everything it started used (its own rusage plus that
//! of its reaped descendants; every traced task is reaped by someone in our tree). A shared
//! machine is the main source of noise here, and this makes it visible in the tables.

use std::time::Instant;

pub struct Sample {
    at: Instant,
    machine_busy: f64,
    ours: f64,
}

impl Sample {
    pub fn now() -> Sample {
        Sample {
            at: Instant::now(),
            machine_busy: machine_busy_seconds(),
            ours: our_seconds(),
        }
    }

    /// Average CPUs used by others since this sample (1.0 = one CPU fully busy).
    pub fn foreign_cpus(&self) -> f64 {
        let wall = self.at.elapsed().as_secs_f64();
        let busy = machine_busy_seconds() - self.machine_busy;
        let ours = our_seconds() - self.ours;
        if wall <= 0.0 {
            return 0.0;
        }
        ((busy - ours) / wall).max(0.0)
    }
}

/// user + nice + system + irq + softirq of all CPUs, in seconds.
fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let fields: Vec<f64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let busy: f64 = [0, 1, 2, 5, 6].iter().filter_map(|&i| fields.get(i)).sum();
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    busy / ticks.max(1.0)
}

fn our_seconds() -> f64 {
    let seconds = |who| {
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut usage) };
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        tv(usage.ru_utime) + tv(usage.ru_stime)
    };
    seconds(libc::RUSAGE_SELF) + seconds(libc::RUSAGE_CHILDREN)
}
