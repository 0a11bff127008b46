//! The configurations each workload runs under: untraced, clonetrace's modes, the floor,
//! strace at two levels, and pete. Each turns a workload's argv into the argv to run.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

/// What runs the workload.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Untraced,
    /// `clonetrace ARGS -- CMD`; `{json}` in ARGS stands for the JSON output file.
    Clonetrace(&'static [&'static str]),
    /// This bench binary re-executed as the bare floor follower.
    Floor,
    /// `strace -f -qq -o /dev/null --seccomp-bpf -e trace=SET -- CMD`.
    Strace(&'static str),
    /// This bench binary re-executed as the pete follower.
    Pete,
    /// `$CLONETRACE_BASELINE ARGS -- CMD`: an earlier build of clonetrace, so a change's
    /// before/after sit in one run, paired like every other column.
    Baseline(&'static [&'static str]),
    /// CMD untraced while `clonetrace --system ARGS` runs in the background, started before the
    /// clock and stopped after it: what a machine-wide eBPF trace costs a program.
    SystemWide(&'static [&'static str]),
    /// `clonetrace ARGS -- true` whatever the workload: the engine's fixed cost of starting and
    /// stopping, timed in each round so that it can be taken out of that round's traced run.
    Startup(&'static [&'static str]),
}

pub struct Config {
    pub key: &'static str,
    /// Column header in the tables.
    pub title: &'static str,
    pub kind: Kind,
    /// `None` when the configuration can run here; otherwise why not (shown as n/a).
    pub unavailable: Option<String>,
}

pub const FOLLOW_FLOOR: &str = "--follow-floor";
pub const FOLLOW_PETE: &str = "--follow-pete";

const STRACE_SYSCALLS: &str = "trace=clone,clone3,fork,vfork,wait4,waitid,execve,exit_group";

/// Paths the configurations need.
pub struct Env {
    pub clonetrace: PathBuf,
    /// An earlier clonetrace to compare with (`CLONETRACE_BASELINE`), if given.
    pub baseline: Option<PathBuf>,
    pub bench_exe: PathBuf,
    pub json_out: PathBuf,
}

/// All configurations in column order; the untraced run comes first so that each round of
/// the alternation starts with the run the others are divided by.
pub fn all(env: &Env) -> Vec<Config> {
    let help = Command::new(&env.clonetrace).arg("--help").output();
    let help = help
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let has_syscalls = help.contains("--syscalls");
    let has_explain = help.contains("--backtrace") && help.contains("--stack-usage");
    let strace_ok = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "--seccomp-bpf"])
        .args(["-e", "trace=process", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let need = |ok: bool, why: &str| (!ok).then(|| why.to_string());
    // The eBPF engine needs root and BTF: ask it, once.
    let ebpf = Command::new(&env.clonetrace)
        .args(["--backend", "ebpf", "-o", "/dev/null", "--", "true"])
        .stderr(std::process::Stdio::piped())
        .output();
    let ebpf_unavailable = match ebpf {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("clonetrace --backend ebpf failed")
                .to_string(),
        ),
        Err(e) => Some(format!("cannot run clonetrace: {e}")),
    };

    let config = |key, title, kind, unavailable| Config {
        key,
        title,
        kind,
        unavailable,
    };
    vec![
        config("untraced", "untraced ms", Kind::Untraced, None),
        config("floor", "floor", Kind::Floor, None),
        config(
            "default",
            "clonetrace",
            Kind::Clonetrace(&["-o", "/dev/null"]),
            None,
        ),
        config(
            "tree",
            "`--tree`",
            Kind::Clonetrace(&["--tree", "-o", "/dev/null"]),
            None,
        ),
        config(
            "json",
            "`--json`",
            Kind::Clonetrace(&["--json", "-o", "{json}"]),
            None,
        ),
        config(
            "syscalls",
            "`--syscalls`",
            Kind::Clonetrace(&["--syscalls", "-o", "/dev/null"]),
            need(has_syscalls, "clonetrace --help has no --syscalls"),
        ),
        config(
            "backtrace",
            "`--backtrace`",
            Kind::Clonetrace(&["--backtrace", "-o", "/dev/null"]),
            need(has_explain, "clonetrace --help has no --backtrace"),
        ),
        config(
            "stack_usage",
            "`--stack-usage`",
            Kind::Clonetrace(&["--stack-usage", "-o", "/dev/null"]),
            need(has_explain, "clonetrace --help has no --stack-usage"),
        ),
        config(
            "strace",
            "strace process",
            Kind::Strace("trace=process"),
            need(strace_ok, "strace --seccomp-bpf not available"),
        ),
        config(
            "strace_syscalls",
            "strace syscalls",
            Kind::Strace(STRACE_SYSCALLS),
            need(strace_ok, "strace --seccomp-bpf not available"),
        ),
        config("pete", "pete", Kind::Pete, None),
        config(
            "ebpf",
            "eBPF",
            Kind::Clonetrace(&["--backend", "ebpf", "-o", "/dev/null"]),
            ebpf_unavailable.clone(),
        ),
        config(
            "ebpf_tree",
            "eBPF `--tree`",
            Kind::Clonetrace(&["--backend", "ebpf", "--tree", "-o", "/dev/null"]),
            ebpf_unavailable.clone(),
        ),
        config(
            "ebpf_json",
            "eBPF `--json`",
            Kind::Clonetrace(&["--backend", "ebpf", "--json", "-o", "{json}"]),
            ebpf_unavailable.clone(),
        ),
        config(
            "ebpf_start",
            "eBPF start ms",
            Kind::Startup(&["--backend", "ebpf", "-o", "/dev/null"]),
            ebpf_unavailable.clone(),
        ),
        config(
            "system_other",
            "`--system` (other comm)",
            Kind::SystemWide(&["--comm", "no-such-comm"]),
            ebpf_unavailable.clone(),
        ),
        config(
            "system_all",
            "`--system`",
            Kind::SystemWide(&[]),
            ebpf_unavailable,
        ),
    ]
    .into_iter()
    .chain(env.baseline.iter().flat_map(|_| {
        [
            config(
                "before",
                "before",
                Kind::Baseline(&["-o", "/dev/null"]),
                None,
            ),
            config(
                "before_tree",
                "before `--tree`",
                Kind::Baseline(&["--tree", "-o", "/dev/null"]),
                None,
            ),
        ]
    }))
    .collect()
}

impl Config {
    /// The argv that runs `workload` under this configuration.
    pub fn argv(&self, env: &Env, workload: &[OsString]) -> Vec<OsString> {
        let mut argv: Vec<OsString> = match self.kind {
            Kind::Untraced | Kind::SystemWide(_) => return workload.to_vec(),
            Kind::Startup(args) => {
                let mut argv = vec![env.clonetrace.clone().into_os_string()];
                argv.extend(args.iter().map(OsString::from));
                argv.extend(["--".into(), "true".into()]);
                return argv;
            }
            Kind::Clonetrace(args) | Kind::Baseline(args) => {
                let binary = match (&self.kind, &env.baseline) {
                    (Kind::Baseline(_), Some(baseline)) => baseline,
                    _ => &env.clonetrace,
                };
                let mut argv = vec![binary.clone().into_os_string()];
                for arg in args {
                    argv.push(match *arg {
                        "{json}" => env.json_out.clone().into_os_string(),
                        other => other.into(),
                    });
                }
                argv
            }
            Kind::Floor => vec![env.bench_exe.clone().into(), FOLLOW_FLOOR.into()],
            Kind::Pete => vec![env.bench_exe.clone().into(), FOLLOW_PETE.into()],
            Kind::Strace(set) => ["strace", "-f", "-qq", "-o", "/dev/null", "--seccomp-bpf"]
                .iter()
                .map(OsString::from)
                .chain(["-e".into(), set.into()])
                .collect(),
        };
        argv.push("--".into());
        argv.extend(workload.iter().cloned());
        argv
    }

    /// The exact command line shown in BENCHMARKS.md, as markdown (CMD for the workload).
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Untraced => "`CMD`".into(),
            Kind::Clonetrace(args) => {
                let args = args.join(" ").replace("{json}", "FILE");
                format!("`target/release/clonetrace {args} -- CMD`")
            }
            Kind::Baseline(args) => {
                format!(
                    "`$CLONETRACE_BASELINE {} -- CMD` (an earlier build)",
                    args.join(" ")
                )
            }
            Kind::Floor => {
                format!(
                    "`overhead {FOLLOW_FLOOR} -- CMD` (the bench binary; benches/overhead/floor.rs)"
                )
            }
            Kind::Pete => format!(
                "`overhead {FOLLOW_PETE} -- CMD` (the bench binary; benches/overhead/pete_follower.rs)"
            ),
            Kind::Strace(set) => {
                format!("`strace -f -qq -o /dev/null --seccomp-bpf -e {set} -- CMD`")
            }
            Kind::Startup(args) => format!(
                "`target/release/clonetrace {} -- true`, whatever the workload",
                args.join(" ")
            ),
            Kind::SystemWide(args) => format!(
                "`CMD` while `target/release/clonetrace --system {}--json -o FILE` runs (started \
                 before the clock, stopped after it)",
                args.iter().map(|a| format!("{a} ")).collect::<String>()
            ),
        }
    }
}
