//! recording: reads a JSON-lines trace back into events for `view` and `compare`, one at a time
//! (memory grows with what the model keeps, not with the file). Bad input is a one-line error
//! naming the file and line; a recording cut short (an interrupted trace) is read up to its last
//! complete line.

use crate::event::{Event, FORMAT_VERSION};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The longest line read, far above any real record (argv is at most a few MiB): past it the
/// file is refused rather than read into memory without end (`view /dev/zero`).
pub const MAX_LINE: usize = 16 << 20;

/// The record types this clonetrace knows, with the fields each may carry.
fn known_fields() -> HashMap<&'static str, &'static [&'static str]> {
    crate::event::RECORD_FIELDS
        .iter()
        .map(|(kind, fields)| (*kind, fields()))
        .collect()
}

/// A record's keys, its values skipped unparsed: all a check for unknown fields needs.
struct Keys<'a>(Vec<&'a str>);

impl<'de> Deserialize<'de> for Keys<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Keys<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Keys<'de>, M::Error> {
                let mut keys = Vec::with_capacity(32);
                while let Some(key) = map.next_key::<&'de str>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// Just a record's type, and a header's format: enough to tell a newer record from a bad one.
#[derive(Deserialize)]
struct Tag {
    #[serde(rename = "type")]
    kind: String,
    format: Option<u32>,
}

/// What was skipped while reading: each kind of thing once, with the first line it was on.
#[derive(Default)]
struct Skipped {
    record_types: BTreeMap<String, usize>,
    fields: BTreeMap<(String, String), usize>,
    /// Records of a known type that could not be read: first line and why.
    unreadable: BTreeMap<String, (usize, String)>,
}

impl Skipped {
    fn warnings(&self, path: &Path) -> Vec<String> {
        let file = path.display();
        let types = self.record_types.iter().map(|(kind, line)| {
            format!("{file}: line {line}: skipped records of a type this clonetrace does not know ({kind:?}), as a newer clonetrace writes them")
        });
        let fields = self.fields.iter().map(|((kind, field), line)| {
            format!("{file}: line {line}: ignored a field this clonetrace does not know ({field:?} in {kind:?} records)")
        });
        let unreadable = self.unreadable.iter().map(|(kind, (line, why))| {
            format!(
                "{file}: line {line}: skipped {kind:?} records this clonetrace cannot read ({why})"
            )
        });
        types.chain(fields).chain(unreadable).collect()
    }
}

/// Reads the recording at `path`, handing each event to `each` in order, until `each` answers
/// false (its reader has gone: `view --live | head`). Returns one warning per kind of thing it
/// skipped: format 1 grows by adding record types and fields, and an older reader shows what it
/// understands.
pub fn read_events(
    path: &Path,
    mut each: impl FnMut(usize, Event) -> bool,
) -> Result<Vec<String>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let known = known_fields();
    let mut skipped = Skipped::default();
    let mut count = 0usize;
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        number += 1;
        line.clear();
        let complete = match read_line(&mut reader, &mut line) {
            Ok(Some(complete)) => complete,
            Ok(None) => break,
            Err(e) => return Err(format!("{}: line {number}: {e}", path.display())),
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let event = match serde_json::from_slice::<Event>(&line) {
            Ok(event) => event,
            // The last line of an interrupted recording may be cut off mid-write: keep the rest.
            Err(e) if !complete && e.is_eof() => break,
            Err(e) => match serde_json::from_slice::<Tag>(&line) {
                Ok(tag) if tag.kind == "header" && tag.format > Some(FORMAT_VERSION) => {
                    return Err(newer_format(path, number, tag.format.unwrap_or(0)));
                }
                Ok(tag) if !known.contains_key(tag.kind.as_str()) && count > 0 => {
                    skipped.record_types.entry(tag.kind).or_insert(number);
                    continue;
                }
                // A record of a known type with a field it cannot read (an unknown flag or
                // signal name, a number that is text): skipped, the rest is still shown.
                Ok(tag) if tag.kind != "header" && count > 0 => {
                    skipped
                        .unreadable
                        .entry(tag.kind)
                        .or_insert((number, e.to_string()));
                    continue;
                }
                _ => {
                    return Err(format!(
                        "{}: line {number}: not a clonetrace event: {e}",
                        path.display()
                    ));
                }
            },
        };
        if let Event::Header(header) = &event {
            if header.format > FORMAT_VERSION {
                return Err(newer_format(path, number, header.format));
            }
        } else if count == 0 {
            return Err(format!(
                "{}: line {number}: not a clonetrace recording (it must start with a header line)",
                path.display()
            ));
        }
        note_unknown_fields(&line, &event, &known, number, &mut skipped);
        count += 1;
        if !each(number, event) {
            break;
        }
    }
    if count == 0 {
        return Err(format!("{}: empty recording", path.display()));
    }
    Ok(skipped.warnings(path))
}

fn newer_format(path: &Path, number: usize, format: u32) -> String {
    format!(
        "{}: line {number}: recording format {format} is newer than this clonetrace reads ({FORMAT_VERSION}); it needs a clonetrace that reads format {format}",
        path.display()
    )
}

/// Records fields of a known record type that this reader does not know (a newer writer's).
/// Keys only: the values were parsed already, and skipping them costs little.
fn note_unknown_fields(
    line: &[u8],
    event: &Event,
    known: &HashMap<&'static str, &'static [&'static str]>,
    number: usize,
    skipped: &mut Skipped,
) {
    let kind = event.kind();
    let Some(fields) = known.get(kind) else {
        return;
    };
    let Ok(Keys(keys)) = serde_json::from_slice::<Keys>(line) else {
        return;
    };
    for key in keys
        .iter()
        .filter(|&&k| k != "type" && !fields.contains(&k))
    {
        skipped
            .fields
            .entry((kind.to_string(), key.to_string()))
            .or_insert(number);
    }
}

/// Reads one line (without its newline) into `line`: `Some(true)` for a complete line,
/// `Some(false)` for a last line with no newline, `None` at the end. A line longer than
/// [`MAX_LINE`] is an error, before it is held in memory.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((!line.is_empty()).then_some(false));
        }
        let (taken, done) = match memchr(buffer) {
            Some(at) => (at + 1, true),
            None => (buffer.len(), false),
        };
        let content = if done { taken - 1 } else { taken };
        if line.len() + content > MAX_LINE {
            return Err(std::io::Error::other(format!(
                "a line longer than {} MiB: not a clonetrace recording",
                MAX_LINE >> 20
            )));
        }
        line.extend_from_slice(&buffer[..content]);
        reader.consume(taken);
        if done {
            return Ok(Some(true));
        }
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
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
        read_events(&path, |_, _| {
            count += 1;
            true
        })
        .unwrap();
        assert_eq!(count, 2);
    }

    #[test]
    fn unknown_record_types_and_fields_are_skipped_with_one_warning_each() {
        let later = r#"{"type":"from_the_future","time":0.2,"pid":2}"#;
        let extra = EXIT.replace(
            "\"core_dumped\":false",
            "\"core_dumped\":false,\"via\":\"x\"",
        );
        let path = write(
            "newer",
            &format!("{HEADER}\n{later}\n{extra}\n{later}\n{extra}\n{EXIT}\n"),
        );
        let mut count = 0;
        let warnings = read_events(&path, |_, _| {
            count += 1;
            true
        })
        .unwrap();
        assert_eq!(count, 4);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("line 2") && warnings[0].contains("from_the_future"));
        assert!(warnings[1].contains("line 3") && warnings[1].contains("\"via\""));
    }

    #[test]
    fn an_endless_line_is_refused_not_read() {
        let path = write("long", &format!("{HEADER}\n{}", "x".repeat(MAX_LINE + 10)));
        let error = read_events(&path, |_, _| true).unwrap_err();
        assert!(
            error.contains("line 2") && error.contains("longer than"),
            "{error}"
        );
    }

    #[test]
    fn a_corrupted_line_names_its_number() {
        let path = write("bad", &format!("{HEADER}\nnot json\n{EXIT}\n"));
        let error = read_events(&path, |_, _| true).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn a_newer_format_is_refused() {
        let path = write(
            "new",
            &format!("{}\n", HEADER.replace("\"format\":1", "\"format\":9")),
        );
        assert!(
            read_events(&path, |_, _| true)
                .unwrap_err()
                .contains("newer")
        );
    }
}
