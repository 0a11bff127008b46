//! run: wires a parsed command line to the tracer (or a recording), the model and the renderers,
//! and decides the exit status. The only place that knows which outputs were asked for.

use crate::cli::{
    Cli, ColorChoice, CompareCommand, DisplayArgs, Subcommand, TraceArgs, ViewArgs, ViewCommand,
};
use crate::event::Event;
use crate::model::Model;
use crate::output::Output;
use crate::recording;
use crate::render::Stream;
use crate::render::json::JsonLines;
use crate::render::live::{Live, Timestamps};
use crate::render::tree::{TreeStyle, write_tree};
use crate::render::{compare, dot, summary, timeline};
use crate::tracer;
use std::time::Duration;

/// A failure before or instead of tracing, with the exit status to use.
pub struct RunError {
    pub message: String,
    pub exit_code: i32,
}

impl From<tracer::SpawnError> for RunError {
    fn from(e: tracer::SpawnError) -> Self {
        RunError {
            message: e.message,
            exit_code: e.exit_code,
        }
    }
}

fn usage_error(message: String) -> RunError {
    RunError {
        message,
        exit_code: 2,
    }
}

pub fn run(cli: Cli) -> Result<i32, RunError> {
    match cli.subcommand {
        Some(Subcommand::View(view)) => run_view(&view),
        Some(Subcommand::Compare(compare)) => run_compare(&compare),
        Some(Subcommand::Demo(demo)) => crate::demo::run(&demo),
        Some(Subcommand::Scenario { name }) => Ok(crate::demo::run_scenario(&name)),
        Some(Subcommand::Completions(c)) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(c.shell, &mut command, "clonetrace", &mut std::io::stdout());
            Ok(0)
        }
        Some(Subcommand::Man) => {
            let command = <Cli as clap::CommandFactory>::command();
            match clap_mangen::Man::new(command).render(&mut std::io::stdout()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(usage_error(format!("cannot write the man page: {e}")))
                }
                _ => Ok(0),
            }
        }
        None => run_trace(&cli.command, &cli.trace),
    }
}

/// Traces `command` with the outputs `args` asks for; returns the command's exit status.
pub fn run_trace(command: &[std::ffi::OsString], args: &TraceArgs) -> Result<i32, RunError> {
    let file = match &args.output {
        Some(path) => Some(Output::create(path).map_err(usage_error)?),
        None => None,
    };
    let files = ViewFiles::open(&args.views)?;
    // Live lines go to the file unless it receives JSON; JSON goes to the file, else to stderr.
    let (mut live_out, mut json_out) = match (file, args.json) {
        (Some(file), true) => (Some(Output::stderr()), Some(file)),
        (Some(file), false) => (Some(file), None),
        (None, true) => (None, Some(Output::stderr())),
        (None, false) => (Some(Output::stderr()), None),
    };
    let color = use_color(&args.display, live_out.as_ref());
    let mut live = live_renderer(&args.display, color);
    let mut json = JsonLines;
    let mut model = args.views.needs_model().then(Model::new);

    let options = tracer::Options {
        reap_grace: Duration::from_millis(args.reap_grace),
        syscalls: args.syscalls,
        kill_on_exit: args.kill_on_exit,
        user: args.user.clone(),
    };
    let keeps_model = model.is_some();
    let mut sink = |event: Event| {
        if let Some(out) = live_out.as_mut() {
            out.write_with(|w| live.event(w, &event));
        }
        if let Some(out) = json_out.as_mut() {
            out.write_with(|w| json.event(w, &event));
        }
        if let Some(model) = model.as_mut() {
            model.apply(&event);
        }
        keeps_model
            || live_out.as_ref().is_some_and(Output::works)
            || json_out.as_ref().is_some_and(Output::works)
    };
    let target = if args.attach.is_empty() {
        tracer::Target::Spawn(command)
    } else {
        tracer::Target::Attach {
            pids: &args.attach,
            descendants: args.descendants,
        }
    };
    let exit_code = tracer::trace(target, &options, &mut sink)?;

    if let Some(model) = &model {
        // End-of-trace views go where the live lines went (or the JSON, when there are none).
        let out = live_out.as_mut().or(json_out.as_mut());
        if let Some(out) = out {
            write_views(out, model, &args.views, color);
        }
        files.write(model);
    }
    for out in [live_out.as_mut(), json_out.as_mut()].into_iter().flatten() {
        out.flush();
    }
    Ok(exit_code)
}

fn run_view(view: &ViewCommand) -> Result<i32, RunError> {
    let events = recording::read_events(&view.file).map_err(usage_error)?;
    let mut views = view.views.clone();
    let any_view = views.needs_model() || view.live;
    if !any_view {
        views.tree = true;
    }
    let files = ViewFiles::open(&views)?;
    let mut out = Output::stdout();
    let color = use_color(&view.display, Some(&out));
    if view.live {
        let mut live = live_renderer(&view.display, color);
        for event in &events {
            out.write_with(|w| live.event(w, event));
        }
    }
    let model = Model::from_events(&events);
    write_views(&mut out, &model, &views, color);
    files.write(&model);
    out.flush();
    Ok(0)
}

fn run_compare(command: &CompareCommand) -> Result<i32, RunError> {
    let mut traces = Vec::new();
    for path in &command.files {
        let events = recording::read_events(path).map_err(usage_error)?;
        traces.push((path.display().to_string(), Model::from_events(&events)));
    }
    let mut out = Output::stdout();
    let color = use_color(&command.display, Some(&out));
    out.write_with(|w| compare::write_compare(w, &traces, color));
    out.flush();
    Ok(0)
}

/// Prints the views that go to the record's output: the tree and the summary.
fn write_views(out: &mut Output, model: &Model, views: &ViewArgs, color: bool) {
    if views.tree {
        let style = TreeStyle {
            ascii: views.ascii,
            color,
        };
        out.write_with(|w| write_tree(w, model, &style));
    }
    if views.summary {
        out.write_with(|w| summary::write_summary(w, model, color));
    }
}

/// The views written to files of their own, opened before the trace starts so an unwritable
/// path is an error before anything runs.
struct ViewFiles {
    dot: Option<Output>,
    timeline: Option<Output>,
}

impl ViewFiles {
    fn open(views: &ViewArgs) -> Result<Self, RunError> {
        let open = |path: &Option<std::path::PathBuf>| -> Result<Option<Output>, RunError> {
            path.as_deref()
                .map(Output::create)
                .transpose()
                .map_err(usage_error)
        };
        Ok(ViewFiles {
            dot: open(&views.dot)?,
            timeline: open(&views.timeline)?,
        })
    }

    fn write(mut self, model: &Model) {
        if let Some(out) = self.dot.as_mut() {
            out.write_with(|w| dot::write_dot(w, model));
            out.flush();
        }
        if let Some(out) = self.timeline.as_mut() {
            out.write_with(|w| timeline::write_timeline(w, model));
            out.flush();
        }
    }
}

fn use_color(display: &DisplayArgs, out: Option<&Output>) -> bool {
    match display.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && out.is_some_and(Output::is_terminal)
        }
    }
}

fn live_renderer(display: &DisplayArgs, color: bool) -> Live {
    let timestamps = if display.timestamps > 0 {
        Timestamps::Wall(display.timestamps)
    } else if display.relative {
        Timestamps::Relative
    } else {
        Timestamps::None
    };
    Live::new(color, timestamps, display.string_limit)
}
