//! session: runs one trace from a typed plan, for the command line and the demo alike: opens the
//! outputs, feeds each event to the live lines, the JSON record and the model, and writes the
//! end-of-trace views. Knows nothing of clap; never decodes or traces itself.

use crate::error::Error;
use crate::event::{Backend, Event, Pid};
use crate::model::Model;
use crate::output::Output;
use crate::render::json::JsonLines;
use crate::render::live::{Live, Timestamps};
use crate::render::{Stream, Style, View, dot, html, summary, timeline, tree};
use crate::tracer;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// What to trace.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start this command traced: `program` (found from `argv[0]` as a shell would, when
    /// `None`) with `argv`.
    Spawn {
        program: Option<PathBuf>,
        argv: Vec<OsString>,
    },
    /// Attach to running processes, with or without their running descendants.
    Attach { pids: Vec<Pid>, descendants: bool },
    /// The whole machine, or what the filters select (eBPF engine only).
    System(crate::ebpf::Filters),
}

/// When to colour text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    Always,
    Never,
}

/// How live lines look.
#[derive(Debug, Clone, Default)]
pub struct Display {
    pub color: Color,
    pub timestamps: Timestamps,
    /// argv strings are cut at this many characters.
    pub string_limit: usize,
    /// Long lines (live and tree) are wrapped at this width, never cut: the tour sets 80.
    pub width: Option<usize>,
}

/// The views computed from the whole trace.
#[derive(Debug, Clone, Default)]
pub struct Views {
    pub tree: bool,
    pub ascii: bool,
    pub summary: bool,
    pub dot: Option<PathBuf>,
    pub timeline: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

impl Views {
    pub fn need_model(&self) -> bool {
        self.tree
            || self.summary
            || self.dot.is_some()
            || self.timeline.is_some()
            || self.html.is_some()
    }
}

/// Everything one trace needs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    /// The record's file (live lines, or JSON lines with `json`); standard error without one.
    pub output: Option<PathBuf>,
    pub json: bool,
    pub views: Views,
    pub display: Display,
    pub syscalls: bool,
    pub reap_grace: Duration,
    pub kill_on_exit: bool,
    pub user: Option<String>,
    /// The engine that traces.
    pub backend: Backend,
    /// `--backtrace`: the creator's stack under each creation.
    pub backtrace: bool,
    /// `--stack-usage`: each task's touched stack at its end.
    pub stack_usage: bool,
}

/// Traces as `plan` says; returns the status to exit with (the command's, or 128+signal).
pub fn trace(plan: &Plan) -> Result<i32, Error> {
    let file = match &plan.output {
        Some(path) => Some(Output::create(path).map_err(Error::usage)?),
        None => None,
    };
    let files = ViewFiles::open(&plan.views)?;
    // Live lines go to the file unless it receives JSON; JSON goes to the file, else to stderr.
    let (mut live_out, mut json_out) = match (file, plan.json) {
        (Some(file), true) => (Some(Output::stderr()), Some(file)),
        (Some(file), false) => (Some(file), None),
        (None, true) => (None, Some(Output::stderr())),
        (None, false) => (Some(Output::stderr()), None),
    };
    let style = Style {
        color: use_color(plan.display.color, live_out.as_ref()),
        ascii: plan.views.ascii,
        width: plan.display.width,
    };
    let mut live = live_renderer(&plan.display, style.color);
    let mut json = JsonLines;
    let mut model = plan.views.need_model().then(Model::new);

    let options = tracer::Options {
        reap_grace: plan.reap_grace,
        syscalls: plan.syscalls,
        kill_on_exit: plan.kill_on_exit,
        user: plan.user.clone(),
        backtrace: plan.backtrace,
        stack_usage: plan.stack_usage,
    };
    let keeps_model = model.is_some();
    let mut sink = |event: Event| {
        if let Some(out) = live_out.as_mut() {
            out.write_with(|w| live.event(w, &event));
        }
        if let Some(out) = json_out.as_mut() {
            out.write_with(|w| json.event(w, &event));
            if matches!(event, Event::Header(_)) {
                // On disk as soon as tracing has begun: a reader (or a script waiting to start
                // its workload under --system) can tell it has.
                out.flush();
            }
        }
        if let Some(model) = model.as_mut() {
            model.apply(&event);
        }
        keeps_model
            || live_out.as_ref().is_some_and(Output::works)
            || json_out.as_ref().is_some_and(Output::works)
    };
    let ebpf = plan.backend == Backend::Ebpf || matches!(plan.target, Target::System(_));
    if ebpf && (plan.backtrace || plan.stack_usage) {
        // Both read the task while it is stopped: the eBPF engine stops nothing.
        let option = if plan.backtrace {
            "--backtrace"
        } else {
            "--stack-usage"
        };
        return Err(Error::usage(format!(
            "{option} needs the ptrace engine (it reads each task while it is stopped)"
        )));
    }
    let exit_code = match (&plan.target, plan.backend) {
        (Target::Spawn { program, argv }, Backend::Ebpf) => crate::ebpf::trace(
            crate::ebpf::Target::Spawn {
                program: program.as_deref(),
                argv,
            },
            &options,
            &mut sink,
        )?,
        (Target::System(filters), _) => {
            crate::ebpf::trace(crate::ebpf::Target::System(filters), &options, &mut sink)?
        }
        (Target::Attach { pids, descendants }, Backend::Ebpf) => crate::ebpf::trace(
            crate::ebpf::Target::Attach {
                pids,
                descendants: *descendants,
            },
            &options,
            &mut sink,
        )?,
        (Target::Spawn { program, argv }, Backend::Ptrace) => tracer::trace(
            tracer::Target::Spawn {
                program: program.as_deref(),
                argv,
            },
            &options,
            &mut sink,
        )?,
        (Target::Attach { pids, descendants }, Backend::Ptrace) => tracer::trace(
            tracer::Target::Attach {
                pids,
                descendants: *descendants,
            },
            &options,
            &mut sink,
        )?,
    };

    if let Some(model) = &model {
        // End-of-trace views go where the live lines went (or the JSON, when there are none).
        if let Some(out) = live_out.as_mut().or(json_out.as_mut()) {
            write_views(out, model, &plan.views, &style);
        }
        files.write(model, &style);
    }
    for out in [live_out.as_mut(), json_out.as_mut()].into_iter().flatten() {
        out.flush();
    }
    Ok(exit_code)
}

/// Prints the views that go with the record: the tree and the summary.
pub fn write_views(out: &mut Output, model: &Model, views: &Views, style: &Style) {
    if views.tree {
        out.write_with(|w| tree::Tree.write(w, model, style));
    }
    if views.summary {
        out.write_with(|w| summary::Summary.write(w, model, style));
    }
}

/// The views written to files of their own, opened before the trace starts so an unwritable
/// path is an error before anything runs.
pub struct ViewFiles {
    dot: Option<Output>,
    timeline: Option<Output>,
    html: Option<Output>,
}

impl ViewFiles {
    pub fn open(views: &Views) -> Result<Self, Error> {
        let open = |path: &Option<PathBuf>| -> Result<Option<Output>, Error> {
            path.as_deref()
                .map(Output::create)
                .transpose()
                .map_err(Error::usage)
        };
        Ok(ViewFiles {
            dot: open(&views.dot)?,
            timeline: open(&views.timeline)?,
            html: open(&views.html)?,
        })
    }

    pub fn write(mut self, model: &Model, style: &Style) {
        let files: [(&mut Option<Output>, &dyn View); 3] = [
            (&mut self.dot, &dot::Dot),
            (&mut self.timeline, &timeline::Timeline),
            (&mut self.html, &html::Html),
        ];
        for (file, view) in files {
            if let Some(out) = file.as_mut() {
                out.write_with(|w| view.write(w, model, style));
                out.flush();
            }
        }
    }
}

/// Whether to colour what goes to `out`.
pub fn use_color(color: Color, out: Option<&Output>) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && out.is_some_and(Output::is_terminal)
        }
    }
}

pub fn live_renderer(display: &Display, color: bool) -> Live {
    let mut live = Live::new(color, display.timestamps, display.string_limit);
    live.width = display.width;
    live
}
