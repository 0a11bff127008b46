//! Runs one workload under every configuration: a warm-up round that also records each
//! tracer's peak RSS, then timed rounds that alternate the configurations (A B C … A B C …)
//! so that every traced run has an untraced run of the same round to be divided by.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::configs::{Config, Env};
use crate::foreign_load;
use crate::runner::{self, Spec};
use crate::stats;
use crate::workloads::Workload;

/// Results of one workload in one CPU setting (pinned or free).
pub struct Measured {
    /// `times[config][round]` in seconds; `None` where the run failed or was skipped.
    pub times: Vec<Vec<Option<f64>>>,
    /// Peak RSS of the top process in the warm-up run, per configuration.
    pub hwm_kib: Vec<Option<u64>>,
    /// Why a configuration has no numbers: "n/a" reasons and failures.
    pub failures: Vec<Option<String>>,
    pub wall: Duration,
    /// CPUs used on average by processes outside this benchmark while it ran.
    pub foreign_cpus: f64,
}

impl Measured {
    /// Median over rounds of config `a`'s time divided by config `b`'s.
    pub fn ratio(&self, a: usize, b: usize) -> Option<f64> {
        stats::median_ratio(&self.times[a], &self.times[b])
    }

    /// Median time of config `a` in milliseconds.
    pub fn median_ms(&self, a: usize) -> Option<f64> {
        let times: Vec<f64> = self.times[a].iter().flatten().map(|s| s * 1e3).collect();
        stats::median(&times)
    }
}

pub struct Settings<'a> {
    pub reps: usize,
    pub timeout: Duration,
    pub work_dir: &'a Path,
}

/// Measures `workload` under all `configs`; index 0 must be the untraced configuration.
pub fn measure(
    workload: &Workload,
    configs: &[Config],
    env: &Env,
    pinned: bool,
    settings: &Settings,
) -> Measured {
    let start = Instant::now();
    let load = foreign_load::Sample::now();
    let n = configs.len();
    let mut failures: Vec<Option<String>> = configs
        .iter()
        .map(|c| c.unavailable.as_ref().map(|why| format!("n/a: {why}")))
        .collect();
    let mut hwm_kib = vec![None; n];
    let mut times: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(settings.reps); n];

    // Warm-up: fills caches, builds nothing that is timed, and records peak RSS. Its stderr
    // goes to a file so that a failure can be explained.
    for (i, config) in configs.iter().enumerate() {
        if failures[i].is_some() {
            continue;
        }
        let log = settings.work_dir.join(format!("stderr-{}.log", config.key));
        match run_once(workload, config, env, pinned, Some(&log), true, settings) {
            Ok(outcome) if outcome.failure.is_none() => hwm_kib[i] = outcome.hwm_kib,
            Ok(outcome) => {
                let why = outcome.failure.unwrap_or_default();
                failures[i] = Some(format!("{why}; stderr: {}", tail(&log)));
            }
            Err(err) => failures[i] = Some(format!("could not run: {err}")),
        }
    }

    for round in 1..=settings.reps {
        for (i, config) in configs.iter().enumerate() {
            let mut time = None;
            if failures[i].is_none() {
                match run_once(workload, config, env, pinned, None, false, settings) {
                    Ok(outcome) => match outcome.failure {
                        None => time = Some(outcome.elapsed.as_secs_f64()),
                        Some(why) => failures[i] = Some(format!("{why} in round {round}")),
                    },
                    Err(err) => failures[i] = Some(format!("could not run: {err}")),
                }
            }
            times[i].push(time);
        }
    }
    // A configuration that failed in any round reports no ratio at all: a partial median
    // would hide the failure.
    for (i, failure) in failures.iter().enumerate() {
        if failure.is_some() {
            times[i].iter_mut().for_each(|t| *t = None);
        }
    }
    Measured {
        times,
        hwm_kib,
        failures,
        wall: start.elapsed(),
        foreign_cpus: load.foreign_cpus(),
    }
}

fn run_once(
    workload: &Workload,
    config: &Config,
    env: &Env,
    pinned: bool,
    stderr: Option<&Path>,
    measure_rss: bool,
    settings: &Settings,
) -> std::io::Result<runner::Outcome> {
    if let Some(before) = &workload.before_each {
        let outcome = runner::run(&Spec {
            argv: before,
            pinned: false,
            stderr: None,
            measure_rss: false,
            timeout: settings.timeout,
        })?;
        if let Some(why) = outcome.failure {
            return Err(std::io::Error::other(format!("preparation failed: {why}")));
        }
    }
    let argv = config.argv(env, &workload.argv);
    let background = match config.kind {
        crate::configs::Kind::SystemWide(args) => Some(SystemTracer::start(env, args, settings)?),
        _ => None,
    };
    let outcome = runner::run(&Spec {
        argv: &argv,
        pinned,
        stderr,
        measure_rss,
        timeout: settings.timeout,
    });
    if let Some(background) = background {
        background.stop()?;
    }
    outcome
}

/// `clonetrace --system` running in the background while a workload is timed.
struct SystemTracer {
    child: std::process::Child,
}

impl SystemTracer {
    /// Starts it and returns once it traces (its record's header is on disk).
    fn start(env: &Env, args: &[&str], settings: &Settings) -> std::io::Result<SystemTracer> {
        let record = settings.work_dir.join("system.jsonl");
        let _ = std::fs::remove_file(&record);
        let child = std::process::Command::new(&env.clonetrace)
            .arg("--system")
            .args(args)
            .args(["--json", "-o"])
            .arg(&record)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + settings.timeout;
        while std::fs::metadata(&record).map_or(true, |m| m.len() == 0) {
            if Instant::now() > deadline {
                return Err(std::io::Error::other("clonetrace --system never started"));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(SystemTracer { child })
    }

    /// Ctrl-C, as a user would, and waits for it to detach.
    fn stop(mut self) -> std::io::Result<()> {
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let status = self.child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "clonetrace --system: {status}"
            )))
        }
    }
}

/// The last non-empty lines of a log, on one line, for a failure message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(3);
    let tail = lines[start..].join(" / ");
    if tail.is_empty() {
        "(empty)".into()
    } else {
        tail.chars().take(300).collect()
    }
}
