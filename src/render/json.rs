//! json: the JSON-lines record, one serialised `Event` per line (the format is documented in
//! `event`). It is what `clonetrace view` and `compare` read back.

use super::Stream;
use crate::event::Event;
use std::io::Write;

pub struct JsonLines;

impl Stream for JsonLines {
    fn event(&mut self, out: &mut dyn Write, event: &Event) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, event)?;
        out.write_all(b"\n")
    }
}
