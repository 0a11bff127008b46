//! run: turns a parsed command line into work: a typed plan for `session`, a replay for `view`
//! and `compare`, the demo, completions and the man page; and decides the exit status. The only
//! place that knows clap's structs and the session's plan both.

use crate::cli::{
    BackendChoice, Cli, ColorChoice, CompareCommand, DisplayArgs, Subcommand, TraceArgs, ViewArgs,
    ViewCommand,
};
use crate::error::Error;
use crate::event::{Backend, Event};
use crate::model::{Model, Problem};
use crate::output::Output;
use crate::recording;
use crate::render::live::Timestamps;
use crate::render::vocabulary;
use crate::render::{Stream, Style, compare};
use crate::session::{self, Color, Display, Plan, Target, Views};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

pub fn run(cli: Cli) -> Result<i32, Error> {
    match cli.subcommand {
        Some(Subcommand::View(view)) => run_view(&view),
        Some(Subcommand::Compare(compare)) => run_compare(&compare),
        Some(Subcommand::Demo(demo)) => {
            if !demo.trace.attach.is_empty() || demo.trace.system {
                return Err(Error::usage(
                    "the demo runs its own scenarios: it cannot attach (-p) to a process or trace the whole system",
                ));
            }
            let base = plan(&[], &demo.trace);
            crate::demo::run(&demo.names, demo.list, &base)
        }
        Some(Subcommand::Completions(c)) => {
            // Made in memory first: clap_complete panics when its writer fails.
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(c.shell, &mut command, "clonetrace", &mut text);
            print_page(&text, "the completions")
        }
        Some(Subcommand::Man) => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut text)
                .map_err(|e| Error::new(format!("cannot make the man page: {e}"), 1))?;
            print_page(&text, "the man page")
        }
        None => session::trace(&plan(&cli.command, &cli.trace)),
    }
}

/// Reads a recording into a model, one event at a time (each also handed to `each`, until it
/// answers false), and warns on standard error once per kind of thing it skipped or that did not
/// fit, with the first line it was seen on.
fn replay(file: &Path, mut each: impl FnMut(&Event) -> bool) -> Result<Model, Error> {
    let mut model = Model::new();
    let mut problems: BTreeMap<Problem, usize> = BTreeMap::new();
    let skipped = recording::read_events(file, |line, event| {
        if let Some(problem) = model.problem(&event) {
            problems.entry(problem).or_insert(line);
        }
        let more = each(&event);
        model.apply(&event);
        more
    })
    .map_err(Error::usage)?;
    for warning in skipped {
        eprintln!("clonetrace: warning: {warning}");
    }
    for (&problem, line) in &problems {
        eprintln!(
            "clonetrace: warning: {}: line {line}: {}",
            file.display(),
            vocabulary::problem(problem)
        );
    }
    Ok(model)
}

/// Writes a finished page to standard output; a reader that stopped reading ends it quietly.
fn print_page(text: &[u8], what: &str) -> Result<i32, Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::new(format!("cannot write {what}: {e}"), 1))
        }
        _ => Ok(0),
    }
}

/// The session's plan for tracing `command` (or attaching) with these options.
fn plan(command: &[OsString], args: &TraceArgs) -> Plan {
    let target = if args.system {
        Target::System(crate::ebpf::Filters {
            comm: args.comm.clone(),
            cgroup: args.cgroup.clone(),
            pid_tree: args.pid_tree,
        })
    } else if args.attach.is_empty() {
        Target::Spawn {
            program: None,
            argv: command.to_vec(),
        }
    } else {
        Target::Attach {
            pids: args.attach.clone(),
            descendants: args.descendants,
        }
    };
    Plan {
        target,
        output: args.output.clone(),
        json: args.json,
        views: views(&args.views),
        display: display(&args.display),
        syscalls: args.syscalls,
        reap_grace: Duration::from_millis(args.reap_grace),
        kill_on_exit: args.kill_on_exit,
        user: args.user.clone(),
        backend: if args.system || args.backend == BackendChoice::Ebpf {
            Backend::Ebpf
        } else {
            Backend::Ptrace
        },
        backtrace: args.backtrace,
        stack_usage: args.stack_usage,
    }
}

fn views(args: &ViewArgs) -> Views {
    Views {
        tree: args.tree,
        ascii: args.ascii,
        summary: args.summary,
        dot: args.dot.clone(),
        timeline: args.timeline.clone(),
        html: args.html.clone(),
    }
}

fn display(args: &DisplayArgs) -> Display {
    let timestamps = if args.timestamps > 0 {
        Timestamps::Wall(args.timestamps)
    } else if args.relative {
        Timestamps::Relative
    } else {
        Timestamps::None
    };
    Display {
        color: match args.color {
            ColorChoice::Auto => Color::Auto,
            ColorChoice::Always => Color::Always,
            ColorChoice::Never => Color::Never,
        },
        timestamps,
        string_limit: args.string_limit,
        width: None,
    }
}

fn run_view(view: &ViewCommand) -> Result<i32, Error> {
    let mut views = views(&view.views);
    if !views.need_model() && !view.live {
        views.tree = true;
    }
    let files = session::ViewFiles::open(&views)?;
    let mut out = Output::stdout();
    let display = display(&view.display);
    let style = Style {
        color: session::use_color(display.color, Some(&out)),
        ascii: views.ascii,
        width: None,
    };
    let mut live = view
        .live
        .then(|| session::live_renderer(&display, style.color));
    let model = replay(&view.file, |event| {
        if let Some(live) = live.as_mut() {
            out.write_with(|w| live.event(w, event));
        }
        out.works()
    })?;
    session::write_views(&mut out, &model, &views, &style);
    files.write(&model, &style);
    out.flush();
    Ok(0)
}

fn run_compare(command: &CompareCommand) -> Result<i32, Error> {
    let mut traces = Vec::new();
    for path in &command.files {
        let model = replay(path, |_| true)?;
        traces.push((path.display().to_string(), model));
    }
    let mut out = Output::stdout();
    let display = display(&command.display);
    let style = Style {
        color: session::use_color(display.color, Some(&out)),
        ascii: false,
        width: None,
    };
    out.write_with(|w| compare::write_compare(w, &traces, &style));
    out.flush();
    Ok(0)
}
