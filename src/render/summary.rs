//! summary: a table of creation calls grouped by program, syscall, flag set, exit signal and
//! stack, with counts: how a runtime creates its processes and threads. The groups come from the
//! model, the words from the vocabulary. Pure: reads the model, writes text.

use super::View;
use super::vocabulary::{self as words, Paint, Style};
use crate::model::{Group, Model};
use std::io::Write;

/// The width the table aims to fit.
const WIDTH: usize = 80;
/// Program names longer than this are cut with `…`.
const PROGRAM_MAX: usize = 20;

pub struct Summary;

/// A group's program for a table cell: its base name, `?` when unknown.
fn program_cell(group: &Group) -> String {
    group.program.map_or_else(|| "?".into(), words::plain)
}

impl View for Summary {
    fn write(&self, out: &mut dyn Write, model: &Model, style: &Style) -> std::io::Result<()> {
        write_summary(out, model, style)
    }
}

fn write_summary(out: &mut dyn Write, model: &Model, style: &Style) -> std::io::Result<()> {
    let groups = model.groups();
    // The library calls behind the groups (recordings before `via` have none, and keep their
    // table as it was), counted apart; the table groups alike calls whatever made them.
    let mut vias: Vec<(crate::event::Via, usize)> = Vec::new();
    for group in &groups {
        if let Some(via) = group.shape.via {
            match vias.iter_mut().find(|(v, _)| *v == via) {
                Some((_, count)) => *count += group.count,
                None => vias.push((via, group.count)),
            }
        }
    }
    let groups = merge_vias(groups);
    if groups.is_empty() {
        return writeln!(out, "{}", words::NOTHING_CREATED);
    }
    let headers = [
        "calls", "role", "program", "syscall", "signal", "stack", "flags",
    ];
    let cells: Vec<[String; 6]> = groups
        .iter()
        .map(|g| {
            [
                g.count.to_string(),
                words::kind_word(g.shape.kind).to_string(),
                words::cut(&program_cell(g), PROGRAM_MAX),
                g.shape.syscall.name().to_string(),
                words::exit_signal_cell(&g.shape),
                words::stack_cell(&g.shape),
            ]
        })
        .collect();
    let mut widths = [0usize; 6];
    for (column, width) in widths.iter_mut().enumerate() {
        *width = cells
            .iter()
            .map(|row| row[column].chars().count())
            .chain([headers[column].len()])
            .max()
            .unwrap_or(0);
    }
    let indent: usize = widths.iter().map(|w| w + 2).sum();
    let flags_width = WIDTH.saturating_sub(indent).max(24);

    let header = format!(
        "{:>w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:<w4$}  {:<w5$}  {}",
        headers[0],
        headers[1],
        headers[2],
        headers[3],
        headers[4],
        headers[5],
        headers[6],
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2],
        w3 = widths[3],
        w4 = widths[4],
        w5 = widths[5],
    );
    writeln!(out, "{}", style.paint(&header, Paint::Call))?;
    for (group, row) in groups.iter().zip(&cells) {
        let flags = words::wrap_flags(&words::flags_cell(&group.shape), flags_width);
        let count = format!("{:>w$}", row[0], w = widths[0]);
        let count = style.paint(&count, Paint::Strong);
        let kind = format!("{:<w$}", row[1], w = widths[1]);
        writeln!(
            out,
            "{count}  {}  {:<w2$}  {:<w3$}  {:<w4$}  {:<w5$}  {}",
            style.paint(&kind, words::kind_paint(group.shape.kind)),
            row[2],
            row[3],
            row[4],
            row[5],
            flags[0],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5],
        )?;
        for line in &flags[1..] {
            writeln!(out, "{:indent$}{line}", "")?;
        }
    }
    if !vias.is_empty() {
        let list: Vec<String> = vias
            .iter()
            .map(|(via, count)| format!("{} ×{count}", words::via_name(*via)))
            .collect();
        let line = format!("library calls: {}", list.join(", "));
        writeln!(out, "{}", words::wrap_line(&line, WIDTH, "  ").join("\n"))?;
    }
    writeln!(out, "{}", words::creation_totals(&groups))?;
    let namespaces = model.namespace_groups();
    if !namespaces.is_empty() {
        writeln!(out, "{}", style.paint("namespaces", Paint::Call))?;
        for group in namespaces {
            writeln!(
                out,
                "{:>w$}  {}: {}",
                style.paint(&group.count.to_string(), Paint::Strong),
                group.program.map_or_else(|| "?".to_string(), words::plain),
                words::namespaces_change(group.change, model.tracer_pid()),
                w = widths[0],
            )?;
        }
    }
    Ok(())
}

/// Groups that differ only in the library call behind them, as one row.
fn merge_vias(groups: Vec<Group<'_>>) -> Vec<Group<'_>> {
    let mut merged: Vec<Group> = Vec::new();
    for mut group in groups {
        group.shape.via = None;
        match merged
            .iter_mut()
            .find(|g| g.program == group.program && g.shape == group.shape)
        {
            Some(row) => row.count += group.count,
            None => merged.push(group),
        }
    }
    merged.sort_by_key(|g| std::cmp::Reverse(g.count));
    merged
}
