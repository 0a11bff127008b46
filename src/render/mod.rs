//! render: every way of showing a trace, one module per output, all fed by the same events or the
//! model built from them. Renderers write to the `Write` they are handed and never call ptrace.

pub mod compare;
pub mod dot;
pub mod json;
pub mod live;
pub mod summary;
pub mod timeline;
pub mod tree;

use crate::decode::flags::{join_flags, short_flag_name};
use crate::event::Create;
use std::io::Write;

/// A renderer that follows the trace as it happens (live lines, JSON lines).
pub trait Stream {
    fn event(&mut self, out: &mut dyn Write, event: &crate::event::Event) -> std::io::Result<()>;
}

/// Quotes a string for display as strace does: printable text as is, quotes and control
/// characters escaped (so nothing raw reaches a terminal), cut at `max` characters with `...`.
pub fn quote(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 2);
    out.push('"');
    let mut truncated = false;
    for (count, c) in text.chars().enumerate() {
        if count >= max {
            truncated = true;
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if ('\u{80}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
    out
}

/// Escapes control characters in free text (program names in the tree), without quoting.
pub fn plain(text: &str) -> String {
    let quoted = quote(text, usize::MAX);
    quoted[1..quoted.len() - 1].replace("\\\"", "\"")
}

/// A size in bytes the way people say it: `36 KiB`, `8 MiB`, `1.5 KiB`, `512 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            // One decimal at most: glibc's 8 MiB thread stack is 0x7fff80, 128 bytes short.
            let text = format!("{:.1}", bytes as f64 / unit as f64);
            return format!("{} {name}", text.trim_end_matches(".0"));
        }
    }
    format!("{bytes} B")
}

/// A duration in seconds the way people say it: `0.2 ms`, `301 ms`, `1.93 s`.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 0.000_001 {
        // The parent reaped it before we could look: no measurable zombie time.
        "<1 µs".to_string()
    } else if seconds < 0.001 {
        format!("{:.0} µs", seconds * 1e6)
    } else if seconds < 0.01 {
        format!("{:.1} ms", seconds * 1e3)
    } else if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
}

/// The creation call in short form for the tree: `clone(CHILD_CLEARTID|CHILD_SETTID, SIGCHLD)`,
/// `clone3(VM|VFORK, SIGCHLD, stack 36 KiB)`, `fork()`.
pub fn short_call(create: &Create) -> String {
    match create.syscall.as_str() {
        "fork" | "vfork" => format!("{}()", create.syscall),
        syscall => {
            let flags: Vec<String> = create
                .flags
                .iter()
                .map(|f| short_flag_name(f).to_string())
                .collect();
            let mut parts = vec![join_flags(&flags)];
            match (&create.exit_signal, create.kind) {
                (Some(signal), _) => parts.push(signal.clone()),
                (None, crate::event::Kind::Thread) => {}
                (None, _) => parts.push("exit_signal 0".into()),
            }
            if let Some(size) = create.stack_size.filter(|&s| s > 0) {
                parts.push(format!("stack {}", human_size(size)));
            }
            format!("{syscall}({})", parts.join(", "))
        }
    }
}
