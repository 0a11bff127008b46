//! compare: the summaries of several recordings side by side, one column per recording, one row
//! per role (thread creation, process spawn, fork), so that "how does A create threads" sits next
//! to "how does B". Rows whose calls differ are marked `≠` (and coloured when asked), and each
//! difference is then spelled out field by field. Pure: reads the models, writes text.

use super::vocabulary::{self as words, Paint, Style, cut, invocation, plain, wrap_flags};
use crate::event::{Kind, Syscall};
use crate::model::{Group, Model, Shape, Stack, basename};
use std::io::Write;

/// The width the table aims to fit.
const WIDTH: usize = 80;
/// No column gets narrower than this, however many recordings there are.
const MIN_COLUMN: usize = 26;
const LABEL: usize = 6;
const GAP: usize = 2;

/// One recording's calls of one role: each distinct shape with its count, first seen first.
type Cell = Vec<(Shape, usize)>;

pub fn write_compare(
    out: &mut dyn Write,
    traces: &[(String, Model)],
    style: &Style,
) -> std::io::Result<()> {
    let columns = traces.len().max(1);
    let width = (WIDTH.saturating_sub(LABEL + 3 + GAP * (columns - 1)) / columns).max(MIN_COLUMN);
    let letters: Vec<String> = (0..traces.len()).map(letter).collect();

    // Two header lines: letter and file name, then the recorded command.
    let names: Vec<String> = traces
        .iter()
        .zip(&letters)
        .map(|((path, _), letter)| cut(&format!("{letter}: {}", plain(basename(path))), width))
        .collect();
    let commands: Vec<String> = traces
        .iter()
        .map(|(_, model)| {
            // The program's name rather than its directory: the column is narrow.
            let command = model.header.as_ref().map_or_else(
                || "(no header)".to_string(),
                |h| {
                    let text = invocation(h, true);
                    let command = text.strip_prefix("clonetrace ").unwrap_or(&text);
                    // An attach keeps its options (`-p 42`); a command needs no `--` here.
                    command.strip_prefix("-- ").unwrap_or(command).to_string()
                },
            );
            cut(&command, width)
        })
        .collect();
    let header = format!("{:LABEL$}   {}", "", join_columns(&names, width))
        .trim_end()
        .to_string();
    let commands_line = format!("{:LABEL$}   {}", "", join_columns(&commands, width));
    writeln!(out, "{}", style.paint(&header, Paint::Call))?;
    writeln!(out, "{}", commands_line.trim_end())?;

    let summaries: Vec<Vec<Group>> = traces.iter().map(|(_, model)| model.groups()).collect();
    let mut notes: Vec<(Kind, String, bool)> = Vec::new();
    for role in words::KINDS {
        let cells: Vec<Cell> = summaries.iter().map(|g| cell(g, role)).collect();
        let shapes_differ = cells.iter().any(|c| !same_shapes(c, &cells[0]));
        let lines: Vec<Vec<String>> = cells.iter().map(|c| cell_lines(c, width)).collect();
        let height = lines.iter().map(Vec::len).max().unwrap_or(1);
        for row in 0..height {
            let label = if row == 0 { words::kind_word(role) } else { "" };
            let marker = if row == 0 && shapes_differ {
                "≠"
            } else {
                " "
            };
            let texts: Vec<String> = lines
                .iter()
                .map(|l| l.get(row).cloned().unwrap_or_default())
                .collect();
            let mut body = join_columns(&texts, width).trim_end().to_string();
            let mut marker = marker.to_string();
            if shapes_differ {
                body = style.paint(&body, Paint::Life);
                marker = style.paint(&marker, Paint::Bad);
            }
            let label = format!("{label:LABEL$}");
            let label = if row == 0 {
                style.paint(&label, words::kind_paint(role))
            } else {
                label
            };
            writeln!(out, "{}", format!("{label} {marker} {body}").trim_end())?;
        }
        for note in differences(&cells, &letters) {
            notes.push((role, note, true));
        }
        if !shapes_differ {
            let counts: Vec<usize> = cells
                .iter()
                .map(|c| c.iter().map(|(_, n)| n).sum())
                .collect();
            if counts.iter().any(|&n| n != counts[0]) {
                let text = counts
                    .iter()
                    .zip(&letters)
                    .map(|(n, l)| format!("{n} ({l})"))
                    .collect::<Vec<_>>()
                    .join(" vs ");
                notes.push((role, format!("same calls, counts {text}"), false));
            }
        }
    }

    // Namespace changes per recording, by way (clone, unshare, setns, unknown).
    let namespace_counts: Vec<String> = traces
        .iter()
        .map(|(_, model)| {
            let groups = model.namespace_groups();
            let total: usize = groups.iter().map(|g| g.count).sum();
            match total {
                0 => "none".to_string(),
                n => {
                    let mut ways: Vec<&str> = Vec::new();
                    for group in &groups {
                        let way = words::via_word(group.change.via);
                        if !ways.contains(&way) {
                            ways.push(way);
                        }
                    }
                    format!("{n} ({})", ways.join(", "))
                }
            }
        })
        .collect();
    let namespaces_differ = namespace_counts.windows(2).any(|w| w[0] != w[1]);
    let namespaces_line = namespace_counts
        .iter()
        .zip(&letters)
        .map(|(n, l)| format!("{n} in {l}"))
        .collect::<Vec<_>>()
        .join(" vs ");

    writeln!(out)?;
    if notes.iter().all(|(_, _, differs)| !differs) && !namespaces_differ {
        writeln!(out, "same kinds of creation calls in every recording")?;
    } else {
        writeln!(out, "differences:")?;
    }
    let mut previous: Option<Kind> = None;
    for (role, note, differs) in notes {
        let mark = if differs { "≠" } else { " " };
        let label = if previous == Some(role) {
            ""
        } else {
            words::kind_word(role)
        };
        previous = Some(role);
        let label = format!("{label:LABEL$}");
        writeln!(
            out,
            "  {} {} {note}",
            style.paint(mark, Paint::Bad),
            style.paint(&label, Paint::Strong)
        )?;
    }
    if namespace_counts.iter().any(|n| n != "none") {
        let mark = if namespaces_differ { "≠" } else { " " };
        writeln!(
            out,
            "  {} {} namespace changes: {namespaces_line}",
            style.paint(mark, Paint::Bad),
            style.paint(&format!("{:LABEL$}", "ns"), Paint::Strong)
        )?;
    }
    Ok(())
}

/// `A`, `B`, … `Z`, then `AA`, `AB`…
fn letter(n: usize) -> String {
    let alphabet = |k: usize| char::from(b'A' + (k % 26) as u8);
    if n < 26 {
        alphabet(n).to_string()
    } else {
        format!("{}{}", alphabet(n / 26 - 1), alphabet(n))
    }
}

/// Pads each text to `width` (by characters) and joins them with the gap.
fn join_columns(texts: &[String], width: usize) -> String {
    texts
        .iter()
        .map(|t| {
            let pad = width.saturating_sub(t.chars().count());
            format!("{t}{:pad$}", "")
        })
        .collect::<Vec<_>>()
        .join(&" ".repeat(GAP))
}

/// The calls of one role in one recording, alike shapes merged across programs.
fn cell(groups: &[Group], kind: Kind) -> Cell {
    let mut cell: Cell = Vec::new();
    for group in groups.iter().filter(|g| g.shape.kind == kind) {
        match cell.iter_mut().find(|(shape, _)| *shape == group.shape) {
            Some((_, count)) => *count += group.count,
            None => cell.push((group.shape, group.count)),
        }
    }
    cell
}

fn same_shapes(a: &Cell, b: &Cell) -> bool {
    a.len() == b.len() && a.iter().all(|(shape, _)| b.iter().any(|(s, _)| s == shape))
}

/// `3× clone3, stack 8 MiB` then the flags wrapped under it; `-` when there are none.
fn cell_lines(cell: &Cell, width: usize) -> Vec<String> {
    if cell.is_empty() {
        return vec!["-".into()];
    }
    let mut lines = Vec::new();
    for (shape, count) in cell {
        let mut pieces = vec![format!("{count}× {}", shape.syscall.name())];
        match (shape.exit_signal, shape.kind) {
            (None, Kind::Thread) => {}
            _ => pieces.push(words::exit_signal_cell(shape)),
        }
        if shape.stack != Stack::Inherited {
            pieces.push(format!("stack {}", words::stack_cell(shape)));
        }
        // The call, its signal and stack on one line if they fit, else on the next ones.
        let mut line = String::new();
        for piece in pieces {
            if line.is_empty() {
                line = piece;
            } else if line.chars().count() + 2 + piece.chars().count() <= width {
                line = format!("{line}, {piece}");
            } else {
                lines.push(format!("{line},"));
                line = format!("  {piece}");
            }
        }
        lines.push(cut(&line, width));
        // fork and vfork take no flags; for clone and clone3 "-" says there were none.
        if !matches!(shape.syscall, Syscall::Fork | Syscall::Vfork) {
            for line in wrap_flags(&words::flags_cell(shape), width - 2) {
                lines.push(format!("  {line}"));
            }
        }
    }
    lines
}

/// What differs in one role, in words: who has no such calls, and field by field when each
/// recording makes one kind of call.
fn differences(cells: &[Cell], letters: &[String]) -> Vec<String> {
    if cells.iter().all(|c| same_shapes(c, &cells[0])) {
        return Vec::new();
    }
    let empty: Vec<&str> = letters
        .iter()
        .zip(cells)
        .filter(|(_, c)| c.is_empty())
        .map(|(l, _)| l.as_str())
        .collect();
    let mut notes = Vec::new();
    if !empty.is_empty() {
        notes.push(format!("none in {}", empty.join(", ")));
    }
    let made: Vec<(&str, &Cell)> = letters
        .iter()
        .zip(cells)
        .filter(|(_, c)| !c.is_empty())
        .map(|(l, c)| (l.as_str(), c))
        .collect();
    if made.len() < 2 || made.iter().all(|(_, c)| same_shapes(c, made[0].1)) {
        return notes;
    }
    if made.iter().any(|(_, c)| c.len() != 1) {
        notes.push(format!(
            "different mixes of calls in {}",
            made.iter().map(|(l, _)| *l).collect::<Vec<_>>().join(", ")
        ));
        return notes;
    }
    let shapes: Vec<(&str, &Shape)> = made.iter().map(|(l, c)| (*l, &c[0].0)).collect();
    let field = |name: &str, value: &dyn Fn(&Shape) -> String| -> Option<String> {
        let values: Vec<(&str, String)> = shapes.iter().map(|(l, s)| (*l, value(s))).collect();
        if values.iter().all(|(_, v)| *v == values[0].1) {
            return None;
        }
        // Each distinct value once, with the recordings that have it.
        let mut distinct: Vec<(String, Vec<&str>)> = Vec::new();
        for (letter, v) in values {
            match distinct.iter_mut().find(|(d, _)| *d == v) {
                Some((_, who)) => who.push(letter),
                None => distinct.push((v, vec![letter])),
            }
        }
        let parts: Vec<String> = distinct
            .iter()
            .map(|(v, who)| format!("{v} ({})", who.join(", ")))
            .collect();
        Some(format!("{name} {}", parts.join(" vs ")))
    };
    notes.extend(field("syscall", &|s| s.syscall.name().to_string()));
    notes.extend(field("via", &|s| words::via_cell(s)));
    notes.extend(field("exit signal", &|s| words::exit_signal_cell(s)));
    notes.extend(field("stack", &|s| words::stack_cell(s)));
    // Flags: each one not common to all, with who sets it.
    let flag_sets: Vec<Vec<String>> = shapes
        .iter()
        .map(|(_, s)| words::short_flags(s.flags))
        .collect();
    let mut all_flags: Vec<&str> = Vec::new();
    for flags in &flag_sets {
        for flag in flags {
            if !all_flags.contains(&flag.as_str()) {
                all_flags.push(flag);
            }
        }
    }
    let mut by_who: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for flag in all_flags {
        let who: Vec<&str> = shapes
            .iter()
            .zip(&flag_sets)
            .filter(|(_, flags)| flags.iter().any(|f| f == flag))
            .map(|((l, _), _)| *l)
            .collect();
        if who.len() == shapes.len() {
            continue;
        }
        match by_who.iter_mut().find(|(w, _)| *w == who) {
            Some((_, flags)) => flags.push(flag),
            None => by_who.push((who, vec![flag])),
        }
    }
    for (who, flags) in by_who {
        let word = if flags.len() == 1 { "flag" } else { "flags" };
        notes.push(format!(
            "{word} {} only in {}",
            flags.join("|"),
            who.join(", ")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_lettered_past_z() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
    }
}
