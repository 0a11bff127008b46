//! `cargo bench --bench overhead`: what clonetrace costs a traced program (issue 7), against
//! the untraced run, a bare ptrace floor, strace and pete, pinned to one CPU and free.
//!
//! ```text
//! cargo bench --bench overhead                 # full tables, written to BENCHMARKS.md (< 10 min)
//! cargo bench --bench overhead -- --quick      # smoke run: smaller workloads, 3 rounds (< 1 min)
//! cargo bench --bench overhead -- --scale      # 100k processes, 2k threads, 20k children
//!   alive at once: lost events, memory per task, and each output's time and peak RSS, live
//!   and replayed with `clonetrace view` (--scale --quick: sizes ÷ 10)
//!   (run with no arguments at all, as `cargo test --all-targets` does, it is a few-second
//!   smoke run of one workload that writes nothing)
//!   options: --reps N, --only KEY[,KEY…], --no-write, --verbose (every run's time)
//! ```
//!
//! The bench binary also serves as two of the tracers it measures: re-executed with
//! `--follow-floor -- CMD` it is the bare floor, with `--follow-pete -- CMD` the pete follower.

// The modules live in benches/overhead/: a file directly in benches/ would be taken by cargo
// for a bench target of its own.
#[path = "overhead/configs.rs"]
mod configs;
#[path = "overhead/floor.rs"]
mod floor;
#[path = "overhead/foreign_load.rs"]
mod foreign_load;
#[path = "overhead/matrix.rs"]
mod matrix;
#[path = "overhead/pete_follower.rs"]
mod pete_follower;
#[path = "overhead/report.rs"]
mod report;
#[path = "overhead/results_file.rs"]
mod results_file;
#[path = "overhead/runner.rs"]
mod runner;
#[path = "overhead/scale.rs"]
mod scale;
#[path = "overhead/stats.rs"]
mod stats;
#[path = "overhead/system.rs"]
mod system;
#[path = "overhead/workloads.rs"]
mod workloads;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use configs::{Config, Env, FOLLOW_FLOOR, FOLLOW_PETE, Kind};

/// Command-line options of the benchmark itself.
#[derive(Default)]
struct Options {
    quick: bool,
    scale: bool,
    reps: Option<usize>,
    only: Option<Vec<String>>,
    no_write: bool,
    /// Print every run's time, not only the medians.
    verbose: bool,
    /// The arguments as given (minus cargo's `--bench`), to record the exact command.
    shown: Vec<String>,
}

fn main() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first() {
        Some(mode) if mode == FOLLOW_FLOOR => floor::main(command_after_dashes(&args[1..])),
        Some(mode) if mode == FOLLOW_PETE => pete_follower::main(command_after_dashes(&args[1..])),
        _ => {}
    }
    let options = if args.is_empty() {
        // No `--bench`: not `cargo bench` but `cargo test --all-targets` (or a bare run). A
        // test run must not take minutes or rewrite BENCHMARKS.md: smoke-test one workload.
        eprintln!("overhead: no --bench flag, so a smoke run (use cargo bench for the tables)");
        Options {
            quick: true,
            reps: Some(1),
            only: Some(vec!["fork_wait".into()]),
            no_write: true,
            ..Options::default()
        }
    } else {
        parse(&args)
    };
    if let Err(err) = run(&options) {
        eprintln!("overhead benchmark: {err}");
        std::process::exit(1);
    }
}

/// `-- CMD…` of a hidden follower mode; the command must not be empty.
fn command_after_dashes(args: &[OsString]) -> &[OsString] {
    let cmd = match args.first() {
        Some(first) if first == "--" => &args[1..],
        _ => args,
    };
    if cmd.is_empty() {
        eprintln!("usage: overhead {FOLLOW_FLOOR}|{FOLLOW_PETE} -- CMD [ARGS…]");
        std::process::exit(2);
    }
    cmd
}

/// Parses the options; anything unknown (cargo passes `--bench`) is ignored.
fn parse(args: &[OsString]) -> Options {
    let mut options = Options::default();
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => continue,
            "--quick" => options.quick = true,
            "--scale" => options.scale = true,
            "--no-write" => options.no_write = true,
            "--verbose" => options.verbose = true,
            "--reps" => {
                let n = args.next().and_then(|n| n.parse().ok()).filter(|n| *n > 0);
                options.reps = n;
                options.shown.push(format!("--reps {}", n.unwrap_or(0)));
                continue;
            }
            "--only" => {
                let keys = args.next().unwrap_or_default();
                options.shown.push(format!("--only {keys}"));
                options.only = Some(keys.split(',').map(str::to_string).collect());
                continue;
            }
            _ => continue,
        }
        options.shown.push(arg);
    }
    options
}

fn run(options: &Options) -> std::io::Result<()> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("overhead");
    std::fs::create_dir_all(&work_dir)?;
    let env = Env {
        // cargo builds the tracer binary (release profile, as `cargo build --release`) before
        // any bench, and tells us where it is.
        clonetrace: PathBuf::from(env!("CARGO_BIN_EXE_clonetrace")),
        baseline: std::env::var_os("CLONETRACE_BASELINE").map(PathBuf::from),
        bench_exe: std::env::current_exe()?,
        json_out: work_dir.join("trace.jsonl"),
    };
    let mut command = String::from("cargo bench --bench overhead");
    if !options.shown.is_empty() {
        command.push_str(" -- ");
        command.push_str(&options.shown.join(" "));
    }
    // The committed file only ever holds full runs; partial ones go next to the build.
    let partial = options.quick || options.only.is_some() || options.reps.is_some();
    let results = if partial || options.no_write {
        work_dir.join("BENCHMARKS-partial.md")
    } else {
        manifest_dir.join("BENCHMARKS.md")
    };
    let started = Instant::now();
    let system = system::describe(manifest_dir);

    let (section, body) = if options.scale {
        if let Some(why) = clonetrace_broken(&env) {
            return Err(std::io::Error::other(why));
        }
        let body = scale::run(&env, &work_dir, options.quick)?;
        let header = format!(
            "## Scale and memory{}\n\nMeasured {} · kernel {} · {} ({} CPUs) · clonetrace {}  \n\
             Command: `{command}` · runtime {}\n\n",
            if options.quick { " (quick run)" } else { "" },
            system.date,
            system.kernel,
            system.cpu,
            system.cpus,
            system.commit,
            report::minutes(started.elapsed()),
        );
        ("scale", header + &body)
    } else {
        (
            "overhead",
            overhead(options, &env, &work_dir, &system, &command, started)?,
        )
    };
    println!("{body}");
    results_file::write_section(&results, section, &body)?;
    eprintln!(
        "written to {} ({})",
        results.display(),
        report::minutes(started.elapsed())
    );
    Ok(())
}

/// The overhead tables: every workload under every configuration, pinned then free.
fn overhead(
    options: &Options,
    env: &Env,
    work_dir: &Path,
    system: &system::System,
    command: &str,
    started: Instant,
) -> std::io::Result<String> {
    let mut configs = configs::all(env);
    if let Some(why) = clonetrace_broken(env) {
        eprintln!("{why}; measuring the other configurations only");
        for config in configs.iter_mut() {
            if matches!(config.kind, Kind::Clonetrace(_)) {
                config.unavailable = Some(why.clone());
            }
        }
    }
    let reps = options.reps.unwrap_or(if options.quick { 3 } else { 7 });
    let timeout = Duration::from_secs(if options.quick { 30 } else { 60 });
    let settings = matrix::Settings {
        reps,
        timeout,
        work_dir,
    };
    let mut workloads = workloads::all(work_dir, options.quick)?;
    if let Some(only) = &options.only {
        workloads.retain(|w| only.iter().any(|k| k == w.key));
    }

    let mut rows = Vec::new();
    for workload in &workloads {
        let pinned = matrix::measure(workload, &configs, env, true, &settings);
        progress(
            &workload.title,
            "pinned",
            &pinned,
            &configs,
            options.verbose,
        );
        let free = matrix::measure(workload, &configs, env, false, &settings);
        progress(&workload.title, "free", &free, &configs, options.verbose);
        rows.push(report::Row {
            title: workload.title.clone(),
            pinned,
            free,
        });
    }
    let ctx = report::Context {
        system,
        command,
        reps,
        runtime: started.elapsed(),
        quick: options.quick,
    };
    Ok(report::markdown(&rows, &configs, &ctx))
}

/// `None` when `clonetrace -o /dev/null -- /bin/true` traces and exits 0; otherwise why not.
fn clonetrace_broken(env: &Env) -> Option<String> {
    let status = std::process::Command::new(&env.clonetrace)
        .args(["-o", "/dev/null", "--", "/bin/true"])
        .status();
    match status {
        Ok(s) if s.success() => None,
        Ok(s) => Some(format!(
            "{} -o /dev/null -- /bin/true failed ({s})",
            env.clonetrace.display()
        )),
        Err(err) => Some(format!("cannot run {}: {err}", env.clonetrace.display())),
    }
}

/// One line per workload and setting on stderr, so a long run shows where it is.
fn progress(title: &str, setting: &str, m: &matrix::Measured, configs: &[Config], verbose: bool) {
    let cells: Vec<String> = configs
        .iter()
        .enumerate()
        .map(|(i, c)| match (c.kind, &m.failures[i]) {
            (_, Some(why)) if why.starts_with("n/a") => format!("{} n/a", c.key),
            (_, Some(_)) => format!("{} FAIL", c.key),
            (Kind::Untraced, None) => format!("{:.1} ms", m.median_ms(i).unwrap_or(f64::NAN)),
            (_, None) => format!("{} {:.2}", c.key, m.ratio(i, 0).unwrap_or(f64::NAN)),
        })
        .collect();
    eprintln!(
        "{title} [{setting}, {:.1}s, others used {:.0}% CPU]: {}",
        m.wall.as_secs_f64(),
        m.foreign_cpus * 100.0,
        cells.join(", ")
    );
    for (i, failure) in m.failures.iter().enumerate() {
        if let Some(why) = failure.as_ref().filter(|w| !w.starts_with("n/a")) {
            eprintln!("  {} failed: {why}", configs[i].key);
        }
        if verbose {
            let ms: Vec<String> = m.times[i]
                .iter()
                .map(|t| t.map_or("-".into(), |s| format!("{:.1}", s * 1e3)))
                .collect();
            eprintln!("  {:>16} ms: {}", configs[i].key, ms.join(" "));
        }
    }
}
