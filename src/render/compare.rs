//! compare: the summaries of several recordings side by side, aligned by role.

use crate::model::Model;
use std::io::Write;

pub fn write_compare(
    _out: &mut dyn Write,
    _traces: &[(String, Model)],
    _color: bool,
) -> std::io::Result<()> {
    Err(std::io::Error::other("compare is being written"))
}
