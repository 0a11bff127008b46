//! timeline: a Chrome trace-event JSON timeline (Perfetto, chrome://tracing).

use crate::model::Model;
use std::io::Write;

pub fn write_timeline(_out: &mut dyn Write, _model: &Model) -> std::io::Result<()> {
    Err(std::io::Error::other("--timeline is being written"))
}
