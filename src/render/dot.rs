//! dot: the process tree as a Graphviz DOT graph.

use crate::model::Model;
use std::io::Write;

pub fn write_dot(_out: &mut dyn Write, _model: &Model) -> std::io::Result<()> {
    Err(std::io::Error::other("--dot is being written"))
}
