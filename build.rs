//! build: stamps `--version` with the git revision when built from a checkout.

use std::process::Command;

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let revision = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|rev| rev.trim().to_string())
        .filter(|rev| !rev.is_empty());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|out| out.status.success() && !out.stdout.is_empty());
    let full = match revision {
        Some(rev) if dirty => format!("{version} (git {rev}, modified)"),
        Some(rev) => format!("{version} (git {rev})"),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=CLONETRACE_VERSION={full}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}
