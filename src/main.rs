//! clonetrace: parse the command line, run, and exit with the traced command's status.

mod cli;
mod decode;
mod demo;
mod ebpf;
mod error;
mod event;
mod explain;
mod model;
mod output;
mod recording;
mod render;
mod run;
mod session;
mod tracer;

use clap::Parser;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The tour re-executes clonetrace as `fork-demo`: run that scenario's program.
    if let Some(scenario) = args.first().and_then(|a| demo::scenario_of(a)) {
        std::process::exit(demo::run_scenario(scenario));
    }
    if let Some(hint) = cli::strace_hint(&args) {
        eprintln!("clonetrace: {hint}");
        std::process::exit(2);
    }
    let cli = cli::Cli::parse_from(args);
    match run::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            if !error.message.is_empty() {
                eprintln!("clonetrace: {}", error.message);
            }
            std::process::exit(error.exit_code);
        }
    }
}
