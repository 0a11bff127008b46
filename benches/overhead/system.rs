//! Facts about the machine and the tools, for the header of BENCHMARKS.md.

use std::path::Path;
use std::process::Command;

pub struct System {
    pub date: String,
    pub kernel: String,
    pub cpu: String,
    pub cpus: usize,
    pub commit: String,
    pub tools: String,
    /// 1-minute load average when the run started: other work on the machine shows here.
    pub load: String,
}

pub fn describe(manifest_dir: &Path) -> System {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = manifest_dir.to_string_lossy();
    let mut commit = first_line("git", &["-C", &dir, "rev-parse", "--short", "HEAD"]);
    // The tracer being measured may be uncommitted work: say so rather than misattribute.
    if !first_line("git", &["-C", &dir, "status", "--porcelain", "--", "src"]).is_empty() {
        commit.push_str(" + uncommitted src/ changes");
    }
    let tools = [
        first_line("strace", &["-V"]),
        first_line("cc", &["--version"]),
        first_line("python3", &["--version"]),
        first_line("make", &["--version"]),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" · ");
    System {
        load: load_average(),
        date: first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        kernel,
        cpu,
        cpus,
        commit,
        tools,
    }
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout);
            text.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_default()
}

/// The 1-minute load average, as /proc/loadavg gives it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
