//! render: every way of showing a trace, one sibling module per output, all fed by the same
//! events or the model built from them. Views never import each other: the words they share come
//! from `vocabulary`. Renderers write to the `Write` they are handed and never call ptrace.

pub mod compare;
pub mod dot;
pub mod html;
pub mod json;
pub mod live;
pub mod summary;
pub mod timeline;
pub mod tree;
pub mod vocabulary;

use crate::event::Event;
use crate::model::Model;
use std::io::Write;
pub use vocabulary::Style;

/// A renderer that follows the trace as it happens (live lines, JSON lines).
pub trait Stream {
    fn event(&mut self, out: &mut dyn Write, event: &Event) -> std::io::Result<()>;
}

/// A view of the whole trace, written once the model is complete (tree, summary, DOT, timeline).
pub trait View {
    fn write(&self, out: &mut dyn Write, model: &Model, style: &Style) -> std::io::Result<()>;
}
