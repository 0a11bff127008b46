//! The overhead tables in markdown: ratios pinned and free, the targets, peak RSS,
//! and how it was measured.

use std::fmt::Write;
use std::time::Duration;

use crate::configs::{Config, Kind};
use crate::matrix::Measured;
use crate::stats;
use crate::system::System;

/// One workload's results in both CPU settings.
pub struct Row {
    pub title: String,
    pub pinned: Measured,
    pub free: Measured,
}

pub struct Context<'a> {
    pub system: &'a System,
    pub command: &'a str,
    pub reps: usize,
    pub runtime: Duration,
    pub quick: bool,
}

pub fn markdown(rows: &[Row], configs: &[Config], ctx: &Context) -> String {
    let sys = ctx.system;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Overhead{}\n",
        if ctx.quick { " (quick run)" } else { "" }
    );
    let _ = writeln!(
        out,
        "Measured {} · kernel {} · {} ({} CPUs) · clonetrace {}  \n{}  \n\
         Command: `{}` · {} timed rounds after one warm-up round · runtime {} · \
         load average {} at the start\n",
        sys.date,
        sys.kernel,
        sys.cpu,
        sys.cpus,
        sys.commit,
        sys.tools,
        ctx.command,
        ctx.reps,
        minutes(ctx.runtime),
        sys.load,
    );
    let _ = writeln!(
        out,
        "Each cell is the median of {} ratios traced ÷ untraced, each ratio taken within one \
         round (1.00 = no overhead); `untraced ms` is the median untraced wall time. \
         \"others' CPU\" is the CPU that processes outside the benchmark used meanwhile \
         (100% = one CPU busy): where it is high, the row is noise.\n",
        ctx.reps
    );
    let _ = writeln!(
        out,
        "### Pinned: tracer and tracees on CPU 0 (`taskset -c 0`)\n"
    );
    ratio_table(&mut out, rows, configs, |r| &r.pinned);
    let _ = writeln!(out, "\n### Free: {} CPUs\n", sys.cpus);
    ratio_table(&mut out, rows, configs, |r| &r.free);
    targets(&mut out, rows, configs);
    ebpf_targets(&mut out, rows, configs);
    rss_table(&mut out, rows, configs);
    failures(&mut out, rows, configs);
    method(&mut out, configs);
    out
}

fn ratio_table(out: &mut String, rows: &[Row], configs: &[Config], pick: fn(&Row) -> &Measured) {
    let titles = configs.iter().map(|c| c.title).chain(["others' CPU"]);
    header(out, "workload", titles);
    for row in rows {
        let m = pick(row);
        let cells = configs.iter().enumerate().map(|(i, c)| {
            if matches!(c.kind, Kind::Untraced | Kind::Startup(_)) {
                m.median_ms(i)
                    .map_or("fail".into(), |ms| format!("{ms:.1}"))
            } else {
                cell(m, i, 0)
            }
        });
        let foreign = format!("{:.0}%", m.foreign_cpus * 100.0);
        line(out, &row.title, cells.chain([foreign]));
    }
}

/// The targets, pinned: default mode ≤ 1.10 × the floor (paired within rounds),
/// faster than strace and pete, and `--syscalls` faster than strace at syscall level.
fn targets(out: &mut String, rows: &[Row], configs: &[Config]) {
    let idx = |key: &str| configs.iter().position(|c| c.key == key);
    let (Some(default), Some(floor)) = (idx("default"), idx("floor")) else {
        return;
    };
    let _ = writeln!(out, "\n### Targets (issue 7), pinned\n");
    let _ = writeln!(
        out,
        "`clonetrace ÷ floor` is the median of per-round ratios of the two traced runs.\n"
    );
    header(
        out,
        "workload",
        [
            "clonetrace ÷ floor ≤ 1.10",
            "clonetrace < strace process",
            "clonetrace < pete",
            "`--syscalls` < strace syscalls",
        ]
        .into_iter(),
    );
    for row in rows {
        let m = &row.pinned;
        let vs_floor = match m.ratio(default, floor) {
            Some(r) => format!("{r:.2} {}", mark(r <= 1.10)),
            None => "—".into(),
        };
        let versus = |a: Option<usize>, b: Option<usize>| match (a, b) {
            (Some(a), Some(b)) => match (m.ratio(a, 0), m.ratio(b, 0)) {
                (Some(x), Some(y)) => versus_cell(x, y),
                _ => "—".into(),
            },
            _ => "—".into(),
        };
        let cells = [
            vs_floor,
            versus(Some(default), idx("strace")),
            versus(Some(default), idx("pete")),
            versus(idx("syscalls"), idx("strace_syscalls")),
        ];
        line(out, &row.title, cells.into_iter());
    }
}

/// Issue 16's target, pinned: the eBPF engine within 1.05 × the untraced run, as measured and
/// with its fixed start taken out (what a longer run tends to), and a machine-wide trace within
/// 1.05 × for a program it does not select.
fn ebpf_targets(out: &mut String, rows: &[Row], configs: &[Config]) {
    let idx = |key: &str| configs.iter().position(|c| c.key == key);
    let (Some(ebpf), Some(start)) = (idx("ebpf"), idx("ebpf_start")) else {
        return;
    };
    let _ = writeln!(out, "\n### Targets (issue 16), pinned\n");
    let _ = writeln!(
        out,
        "\"less its start\" is the median of per-round `(eBPF − eBPF start) ÷ untraced`: the \
         engine's fixed cost of loading and unloading its programs (the `eBPF start ms` column, \
         `clonetrace --backend ebpf -- true`) taken out, which is what the ratio of a longer \
         run tends to.\n"
    );
    header(
        out,
        "workload",
        [
            "eBPF ≤ 1.05",
            "eBPF less its start ≤ 1.05",
            "`--system` (other comm) ≤ 1.05",
            "eBPF < strace process",
        ]
        .into_iter(),
    );
    for row in rows {
        let m = &row.pinned;
        let target =
            |r: Option<f64>| r.map_or("—".into(), |r| format!("{r:.2} {}", mark(r <= 1.05)));
        let steady = stats::median_ratio_less(&m.times[ebpf], &m.times[start], &m.times[0]);
        let versus = match (m.ratio(ebpf, 0), idx("strace").and_then(|s| m.ratio(s, 0))) {
            (Some(x), Some(y)) => versus_cell(x, y),
            _ => "—".into(),
        };
        let cells = [
            target(m.ratio(ebpf, 0)),
            target(steady),
            target(idx("system_other").and_then(|s| m.ratio(s, 0))),
            versus,
        ];
        line(out, &row.title, cells.into_iter());
    }
}

fn rss_table(out: &mut String, rows: &[Row], configs: &[Config]) {
    let _ = writeln!(
        out,
        "\n### Tracer peak RSS (VmHWM, MiB)\n\n\
         Read from `/proc/PID/status` of the tracer process at its `PTRACE_EVENT_EXIT` stop in \
         the warm-up runs (the larger of pinned and free): the tracer alone, not its tracees \
         (`ru_maxrss` of a wait would include the largest tracee it reaped). The floor and pete \
         columns are this bench binary, so they include its own code.\n"
    );
    let traced: Vec<(usize, &Config)> = configs
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind != Kind::Untraced)
        .collect();
    header(out, "workload", traced.iter().map(|(_, c)| c.title));
    for row in rows {
        let cells = traced.iter().map(|(i, _)| {
            let kib = row.pinned.hwm_kib[*i].max(row.free.hwm_kib[*i]);
            kib.map_or("—".into(), |k| format!("{:.1}", k as f64 / 1024.0))
        });
        line(out, &row.title, cells);
    }
}

fn failures(out: &mut String, rows: &[Row], configs: &[Config]) {
    let mut list = String::new();
    for row in rows {
        for (setting, m) in [("pinned", &row.pinned), ("free", &row.free)] {
            for (i, failure) in m.failures.iter().enumerate() {
                if let Some(why) = failure.as_ref().filter(|w| !w.starts_with("n/a")) {
                    let _ = writeln!(
                        list,
                        "- {} · {} · {setting}: {why}",
                        row.title, configs[i].title
                    );
                }
            }
        }
    }
    let na: Vec<String> = configs
        .iter()
        .filter_map(|c| Some(format!("- {}: {}", c.title, c.unavailable.as_ref()?)))
        .collect();
    if !list.is_empty() || !na.is_empty() {
        let _ = writeln!(out, "\n### Not measured\n\n{list}{}", na.join("\n"));
    }
}

fn method(out: &mut String, configs: &[Config]) {
    let _ = writeln!(out, "\n### Configurations\n");
    for c in configs {
        let _ = writeln!(out, "- {}: {}", c.title, c.describe());
    }
    let _ = writeln!(
        out,
        "\nEach run's top process (the tracer, or the workload when untraced) is started by the \
         bench with stdin and stdout on /dev/null and stderr on /dev/null, so live lines cost \
         their formatting and write but not a terminal. Pinning is `sched_setaffinity` to CPU 0 \
         before exec, inherited by every tracee. Wall time runs from before the spawn to the \
         reap of the top process. Within a round the configurations run one after the other, \
         untraced first; `make clean` runs untimed before every make run. The floor is a \
         `PTRACE_SEIZE` + blocking `waitpid(-1, __WALL)` + `PTRACE_CONT` follower (signals \
         re-injected, group-stops `PTRACE_LISTEN`ed) with options \
         `TRACEFORK|TRACEVFORK|TRACECLONE|TRACEEXEC|TRACEEXIT`; pete is `Ptracer::new()` \
         (its default options) with every stop restarted by `Restart::Continue`."
    );
}

fn cell(m: &Measured, i: usize, base: usize) -> String {
    if let Some(why) = &m.failures[i] {
        return if why.starts_with("n/a") {
            "n/a".into()
        } else {
            "fail".into()
        };
    }
    m.ratio(i, base).map_or("—".into(), |r| format!("{r:.2}"))
}

/// "x vs y ✓" when x < y; a third decimal when two would print the same number.
fn versus_cell(x: f64, y: f64) -> String {
    let (a, b) = (format!("{x:.2}"), format!("{y:.2}"));
    if a == b {
        format!("{x:.3} vs {y:.3} {}", mark(x < y))
    } else {
        format!("{a} vs {b} {}", mark(x < y))
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}

fn header<'a>(out: &mut String, first: &str, titles: impl Iterator<Item = &'a str>) {
    let titles: Vec<&str> = titles.collect();
    let _ = writeln!(out, "| {first} | {} |", titles.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(titles.len()));
}

fn line(out: &mut String, first: &str, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.collect();
    let _ = writeln!(out, "| {first} | {} |", cells.join(" | "));
}

pub fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
