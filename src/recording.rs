//! recording: reads a JSON-lines trace back into events for `view` and `compare`, one at a time
//! (memory grows with what the model keeps, not with the file). Bad input is a one-line error
//! naming the file and line; a recording cut short (an interrupted trace) is read up to its last
//! complete line.

use crate::event::{Event, FORMAT_VERSION};
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Reads the recording at `path`, handing each event to `each` in order, until `each` answers
/// false (its reader has gone: `view --live | head`).
pub fn read_events(path: &Path, mut each: impl FnMut(Event) -> bool) -> Result<(), String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = BufReader::new(file).split(b'\n').enumerate().peekable();
    let mut count = 0usize;
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        let line = line.map_err(|e| format!("{}: line {number}: {e}", path.display()))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let is_last = lines.peek().is_none();
        let event = match serde_json::from_slice::<Event>(&line) {
            Ok(event) => event,
            // The last line of an interrupted recording may be cut off mid-write: keep the rest.
            Err(e) if is_last && e.is_eof() => break,
            Err(e) => {
                return Err(format!(
                    "{}: line {number}: not a clonetrace event: {e}",
                    path.display()
                ));
            }
        };
        if let Event::Header(header) = &event {
            if header.format > FORMAT_VERSION {
                return Err(format!(
                    "{}: line {number}: recording format {} is newer than this clonetrace reads ({FORMAT_VERSION}); upgrade clonetrace",
                    path.display(),
                    header.format
                ));
            }
        } else if count == 0 {
            return Err(format!(
                "{}: line {number}: not a clonetrace recording (it must start with a header line)",
                path.display()
            ));
        }
        count += 1;
        if !each(event) {
            break;
        }
    }
    if count == 0 {
        return Err(format!("{}: empty recording", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "clonetrace-recording-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    const HEADER: &str = r#"{"type":"header","format":1,"version":"0.1.0","command":["true"],"start":"2026-01-01T00:00:00.000Z","kernel":"6.18","arch":"x86_64","mode":"default","tracer_pid":1}"#;
    const EXIT: &str =
        r#"{"type":"exit","time":0.1,"pid":2,"tgid":2,"code":0,"signal":null,"core_dumped":false}"#;

    #[test]
    fn a_truncated_last_line_is_dropped() {
        let path = write(
            "cut",
            &format!("{HEADER}\n{EXIT}\n{{\"type\":\"exit\",\"ti"),
        );
        let mut count = 0;
        read_events(&path, |_| {
            count += 1;
            true
        })
        .unwrap();
        assert_eq!(count, 2);
    }

    #[test]
    fn a_corrupted_line_names_its_number() {
        let path = write("bad", &format!("{HEADER}\nnot json\n{EXIT}\n"));
        let error = read_events(&path, |_| true).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn a_newer_format_is_refused() {
        let path = write(
            "new",
            &format!("{}\n", HEADER.replace("\"format\":1", "\"format\":9")),
        );
        assert!(read_events(&path, |_| true).unwrap_err().contains("newer"));
    }
}
