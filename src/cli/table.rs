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

/// `text` cut to `max` characters by an ellipsis in its middle (the table
/// stays readable; `--json` has the whole text). The middle goes because
/// both ends matter: a cause starts with what failed and often ends with
/// what to do ("… (raise [fetch] timeout_secs …)").
pub(super) fn shorten(text: &str, max: usize) -> String {
    let length = text.chars().count();
    if length <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(1);
    let head = keep / 3;
    let tail = keep - head;
    let mut short: String = text.chars().take(head).collect();
    short.push('…');
    short.extend(text.chars().skip(length - tail));
    short
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn shortening_keeps_both_ends() {
        assert_eq!(shorten("short", 10), "short");
        let cut = shorten("HTTP 503 while fetching, retry later (raise [fetch] x)", 30);
        assert_eq!(cut.chars().count(), 30);
        assert!(cut.starts_with("HTTP 503"), "{cut}");
        assert!(cut.ends_with("(raise [fetch] x)"), "{cut}");
    }
}
