//! The traced programs: what each workload runs, its size, and how it is built.
//!
//! C workloads are compiled on first use with `cc -O2 -pthread` into the target directory and
//! rebuilt whenever their source changes. Sizes are chosen so that an untraced run takes about
//! 50–150 ms on the 2-vCPU machines this was written on; `--quick` divides them.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One workload, ready to run.
pub struct Workload {
    pub key: &'static str,
    /// Human description for the table, with the size filled in.
    pub title: String,
    pub argv: Vec<OsString>,
    /// Run (untimed) before every run, e.g. `make clean`.
    pub before_each: Option<Vec<OsString>>,
}

/// Sizes at default settings; `--quick` divides each by `QUICK_DIVISOR` (at least 1).
const SH_TRUE: u64 = 150;
const FORK_WAIT: u64 = 1000;
const PTHREAD_JOIN: u64 = 4000;
const THREADS_ALIVE: u64 = 1000;
const THREADS_ALIVE_ROUNDS: u64 = 2;
const GETPPID: u64 = 500_000;
const POSIX_SPAWN: u64 = 150;
const VFORK_EXIT: u64 = 3000;
/// Files besides main.c: each is one cc run of ~45 ms here, so few keep make near 100 ms.
const MAKE_UNITS: u64 = 2;
const PYTHON_RUNS: u64 = 60;
const QUICK_DIVISOR: u64 = 10;

/// The C sources, embedded so that the bench binary is self-contained.
pub const C_SOURCES: &[(&str, &str)] = &[
    ("fork_wait", include_str!("../workloads/fork_wait.c")),
    ("pthread_join", include_str!("../workloads/pthread_join.c")),
    (
        "threads_alive",
        include_str!("../workloads/threads_alive.c"),
    ),
    (
        "children_alive",
        include_str!("../workloads/children_alive.c"),
    ),
    ("getppid", include_str!("../workloads/getppid.c")),
    ("posix_spawn", include_str!("../workloads/posix_spawn.c")),
    ("vfork_exit", include_str!("../workloads/vfork_exit.c")),
];

/// All workloads, in table order. `work_dir` holds the built programs and the make project.
pub fn all(work_dir: &Path, quick: bool) -> std::io::Result<Vec<Workload>> {
    let size = |n: u64| if quick { (n / QUICK_DIVISOR).max(1) } else { n };
    let bin = |name: &str| -> std::io::Result<OsString> { Ok(build_c(work_dir, name)?.into()) };
    let make_units = size(MAKE_UNITS).max(1);
    let make_dir = make_project(work_dir, make_units)?;

    let n = size(SH_TRUE);
    let sh_loop = format!("i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i+1)); done");
    let threads_rounds = if quick { 1 } else { THREADS_ALIVE_ROUNDS };
    let py_n = size(PYTHON_RUNS);
    let python =
        format!("import subprocess\nfor _ in range({py_n}):\n    subprocess.run(['/bin/true'])\n");

    let make = |target: Option<&str>| {
        let mut argv: Vec<OsString> = vec!["make".into(), "-s".into()];
        if target.is_none() {
            argv.push("-j2".into());
        }
        argv.push("-C".into());
        argv.push(make_dir.clone().into());
        argv.extend(target.map(OsString::from));
        argv
    };

    Ok(vec![
        Workload {
            key: "sh_true",
            title: format!("`sh` loop running `/bin/true` ×{n}"),
            argv: vec!["sh".into(), "-c".into(), sh_loop.into()],
            before_each: None,
        },
        c_workload(
            "fork_wait",
            format!("fork + wait, no exec ×{}", size(FORK_WAIT)),
            bin("fork_wait")?,
            &[size(FORK_WAIT)],
        ),
        c_workload(
            "pthread_join",
            format!("pthread_create + join ×{}", size(PTHREAD_JOIN)),
            bin("pthread_join")?,
            &[size(PTHREAD_JOIN)],
        ),
        c_workload(
            "threads_alive",
            format!(
                "{} threads alive at once ×{threads_rounds}",
                size(THREADS_ALIVE)
            ),
            bin("threads_alive")?,
            &[size(THREADS_ALIVE), threads_rounds],
        ),
        c_workload(
            "getppid",
            format!("`getppid()` ×{}, no creation", size(GETPPID)),
            bin("getppid")?,
            &[size(GETPPID)],
        ),
        c_workload(
            "posix_spawn",
            format!("posix_spawn `/bin/true` ×{}", size(POSIX_SPAWN)),
            bin("posix_spawn")?,
            &[size(POSIX_SPAWN)],
        ),
        c_workload(
            "vfork_exit",
            format!("vfork + `_exit` ×{}", size(VFORK_EXIT)),
            bin("vfork_exit")?,
            &[size(VFORK_EXIT)],
        ),
        Workload {
            key: "make",
            title: format!("`make -j2` of {} C files", make_units + 1),
            argv: make(None),
            before_each: Some(make(Some("clean"))),
        },
        Workload {
            key: "python",
            title: format!("python `subprocess.run` ×{py_n}"),
            argv: vec!["python3".into(), "-c".into(), python.into()],
            before_each: None,
        },
    ])
}

fn c_workload(key: &'static str, title: String, bin: OsString, args: &[u64]) -> Workload {
    let mut argv = vec![bin];
    argv.extend(args.iter().map(|a| OsString::from(a.to_string())));
    Workload {
        key,
        title,
        argv,
        before_each: None,
    }
}

/// Compiles `name`'s embedded source into `work_dir/bin/name` unless the same source was
/// already built there.
pub fn build_c(work_dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let source = C_SOURCES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("no workload source named {name}"));
    let dir = work_dir.join("bin");
    fs::create_dir_all(&dir)?;
    let src_path = dir.join(format!("{name}.c"));
    let bin_path = dir.join(name);
    let unchanged = fs::read_to_string(&src_path).is_ok_and(|old| old == source);
    if unchanged && bin_path.exists() {
        return Ok(bin_path);
    }
    fs::write(&src_path, source)?;
    let status = Command::new("cc")
        .args(["-O2", "-pthread", "-o"])
        .arg(&bin_path)
        .arg(&src_path)
        .status()?;
    if !status.success() {
        let _ = fs::remove_file(&bin_path);
        return Err(std::io::Error::other(format!("cc failed for {name}.c")));
    }
    Ok(bin_path)
}

/// Writes a small C project (`units` files plus main.c, one object each, one link) and
/// returns its directory. Each unit has a few functions so that cc1 does some real work.
fn make_project(work_dir: &Path, units: u64) -> std::io::Result<PathBuf> {
    let dir = work_dir.join(format!("make-project-{units}"));
    fs::create_dir_all(&dir)?;
    let mut main_c = String::from("#include <stdio.h>\n");
    let mut calls = String::new();
    let mut objects = vec!["main.o".to_string()];
    for u in 0..units {
        let mut unit = format!("/* generated unit {u} */\n#include <string.h>\n");
        for f in 0..6 {
            unit.push_str(&format!(
                "int unit{u}_f{f}(const char *s) {{\n    int h = {f};\n    \
                 for (size_t i = 0; i < strlen(s); i++) h = h * 31 + s[i] + {u};\n    \
                 return h;\n}}\n"
            ));
            main_c.push_str(&format!("int unit{u}_f{f}(const char *s);\n"));
            calls.push_str(&format!("    h ^= unit{u}_f{f}(\"clonetrace\");\n"));
        }
        fs::write(dir.join(format!("unit{u}.c")), unit)?;
        objects.push(format!("unit{u}.o"));
    }
    main_c.push_str(&format!(
        "int main(void) {{\n    int h = 0;\n{calls}    printf(\"%d\\n\", h);\n    return 0;\n}}\n"
    ));
    fs::write(dir.join("main.c"), main_c)?;
    let objects = objects.join(" ");
    let makefile = format!(
        "CC = cc\nCFLAGS = -O2\n\nprog: {objects}\n\t$(CC) -o $@ {objects}\n\n\
         %.o: %.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\n\
         clean:\n\trm -f prog *.o\n\n.PHONY: clean\n"
    );
    fs::write(dir.join("Makefile"), makefile)?;
    Ok(dir)
}
