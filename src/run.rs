//! run: wires a parsed command line to the tracer, the model and the renderers, and decides the
//! exit status. The only place that knows which outputs were asked for.

use crate::cli::{Cli, ColorChoice};
use crate::event::Event;
use crate::model::Model;
use crate::output::Output;
use crate::render::Stream;
use crate::render::json::JsonLines;
use crate::render::live::{Live, Timestamps};
use crate::render::tree::{TreeStyle, write_tree};
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
    let args = &cli.trace;
    let file = match &args.output {
        Some(path) => Some(Output::create(path).map_err(usage_error)?),
        None => None,
    };
    // Live lines go to the file unless it receives JSON; JSON goes to the file, else to stderr.
    let (mut live_out, mut json_out) = match (file, args.json) {
        (Some(file), true) => (Some(Output::stderr()), Some(file)),
        (Some(file), false) => (Some(file), None),
        (None, true) => (None, Some(Output::stderr())),
        (None, false) => (Some(Output::stderr()), None),
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && live_out.as_ref().is_some_and(Output::is_terminal_stderr)
        }
    };
    let timestamps = if args.timestamps > 0 {
        Timestamps::Wall(args.timestamps)
    } else if args.relative {
        Timestamps::Relative
    } else {
        Timestamps::None
    };
    let mut live = Live::new(color, timestamps, args.string_limit);
    let mut json = JsonLines;
    let mut model = args.tree.then(Model::new);

    let options = tracer::Options {
        reap_grace: Duration::from_millis(args.reap_grace),
    };
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
    };
    let exit_code = tracer::trace_command(&cli.command, &options, &mut sink)?;

    if let Some(model) = &model {
        let style = TreeStyle {
            ascii: args.ascii,
            color,
        };
        let out = live_out.as_mut().or(json_out.as_mut());
        if let Some(out) = out {
            out.write_with(|w| write_tree(w, model, &style));
        }
    }
    for out in [live_out.as_mut(), json_out.as_mut()].into_iter().flatten() {
        out.flush();
    }
    Ok(exit_code)
}
