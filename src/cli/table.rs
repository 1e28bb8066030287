//! The tables `feeds` and `deliveries` print.

use super::outln;
use crate::controls::escape;

/// Prints a table of `rows` under `header`, every cell's control
/// characters escaped ([`escape`]): cells hold text from outside (remote
/// error messages, a hook's output, feeds' names for things), which must
/// not drive the operator's terminal nor break the table's lines.
pub(super) fn print_table<const N: usize>(
    header: [&str; N],
    rows: &[[String; N]],
) -> anyhow::Result<()> {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| row.clone().map(|cell| escape(&cell).into_owned()))
        .collect();
    let rows = &rows[..];
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        outln!("{}", padded.join("  ").trim_end())
    };
    line(header.to_vec())?;
    for row in rows {
        line(row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

/// `text` cut to `max` characters with an ellipsis (the table stays readable;
/// `--json` has the whole text).
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max - 1).collect();
    short.push('…');
    short
}
