//! output: where the record goes, and what happens when writing fails. A failing output never
//! stops the trace or harms the traced program: it warns once (silently for a closed pipe, as
//! any Unix filter would) and drops further writes.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

pub struct Output {
    writer: Box<dyn Write>,
    name: String,
    failed: bool,
    /// Flush after every record so a reader (a terminal, `tail -f`) sees it at once.
    line_buffered: bool,
}

impl Output {
    pub fn stderr() -> Self {
        Output {
            // Buffered and flushed per record: one write per line, not one per piece.
            writer: Box::new(BufWriter::with_capacity(16 * 1024, io::stderr())),
            name: "standard error".into(),
            failed: false,
            line_buffered: true,
        }
    }

    pub fn stdout() -> Self {
        Output {
            // Views write many short lines: one write(2) per 64 KiB, not per line.
            writer: Box::new(BufWriter::with_capacity(64 * 1024, io::stdout())),
            name: "standard output".into(),
            failed: false,
            line_buffered: false,
        }
    }

    /// Opens FILE for writing before anything runs, so an unwritable path is an error up front.
    /// The descriptor is close-on-exec (Rust's default), so the traced program never sees it.
    pub fn create(path: &Path) -> Result<Self, String> {
        let file =
            File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let line_buffered = file.is_terminal() || is_fifo(path);
        Ok(Output {
            writer: Box::new(BufWriter::with_capacity(64 * 1024, file)),
            name: PathBuf::from(path).display().to_string(),
            failed: false,
            line_buffered,
        })
    }

    pub fn is_terminal(&self) -> bool {
        match self.name.as_str() {
            "standard error" => io::stderr().is_terminal(),
            "standard output" => io::stdout().is_terminal(),
            _ => false,
        }
    }

    /// False once a write has failed.
    pub fn works(&self) -> bool {
        !self.failed
    }

    /// Runs one write; on failure warns once and turns the output off.
    pub fn write_with(&mut self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if self.failed {
            return;
        }
        let result = write(&mut *self.writer).and_then(|()| {
            if self.line_buffered {
                self.writer.flush()
            } else {
                Ok(())
            }
        });
        if let Err(error) = result {
            self.fail(error);
        }
    }

    pub fn flush(&mut self) {
        if !self.failed
            && let Err(error) = self.writer.flush()
        {
            self.fail(error);
        }
    }

    fn fail(&mut self, error: io::Error) {
        self.failed = true;
        if error.kind() != io::ErrorKind::BrokenPipe {
            // Standard error may be the one failing; then there is nowhere left to say it.
            let _ = writeln!(
                io::stderr(),
                "clonetrace: writing to {} failed: {error}; the trace goes on without it",
                self.name
            );
        }
    }
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    // A pipe has a reader waiting for each line; /dev/null (a character device) has none.
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}
