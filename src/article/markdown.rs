//! Sanitized article HTML as Markdown (the export's `content_markdown`), for
//! tools that read Markdown better than HTML (LLM pipelines, notes, mail).
//!
//! CommonMark with GitHub tables: ATX headings, `-` bullets, fenced code.
//! Its input is always our own sanitized HTML, so the few elements ammonia
//! lets through are all that needs converting, and they are read on the
//! tree the rest of the crate parses with (one HTML parser in the build).
//! Markup nested deeper than [`limits::MAX_DEPTH`] is refused (the
//! converter recurses per level).

use ego_tree::NodeRef;
use scraper::{Html, Node};

use super::limits;

/// `html` (sanitized) as Markdown; `None` when it has no text or nests too
/// deeply.
pub fn from_html(html: &str) -> Option<String> {
    if limits::nesting(html.as_bytes()).too_deep_at.is_some() {
        return None;
    }
    let fragment = Html::parse_fragment(html);
    let mut blocks = Vec::new();
    container(*fragment.root_element(), &mut blocks);
    let markdown = blocks.join("\n\n");
    let markdown = markdown.trim();
    (!markdown.is_empty()).then(|| markdown.to_owned())
}

/// Elements that make blocks of their own.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
    "figure",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "table",
    "hr",
    "dl",
    "dt",
    "dd",
    "address",
    "details",
    "summary",
    "center",
    "html",
    "body",
];

fn name<'a>(node: &NodeRef<'a, Node>) -> Option<&'a str> {
    node.value().as_element().map(|e| e.name())
}

fn is_block(node: &NodeRef<'_, Node>) -> bool {
    name(node).is_some_and(|n| BLOCK_TAGS.contains(&n))
}

/// The blocks of a container's children: runs of inline content become
/// paragraphs, block children their own blocks.
fn container(node: NodeRef<'_, Node>, out: &mut Vec<String>) {
    let mut line = String::new();
    for child in node.children() {
        if is_block(&child) {
            flush(&mut line, out);
            block(child, out);
        } else {
            inline(child, &mut line);
        }
    }
    flush(&mut line, out);
}

/// A paragraph of inline Markdown, tidied, when it has any text.
fn flush(line: &mut String, out: &mut Vec<String>) {
    let text = tidy(line);
    if !text.is_empty() {
        out.push(escape_line_start(&text));
    }
    line.clear();
}

/// Runs of spaces collapsed, each line trimmed (a hard break keeps its two
/// spaces).
fn tidy(text: &str) -> String {
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let hard = raw.ends_with("  ") && !raw.trim().is_empty();
        let mut collapsed = raw
            .split(' ')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if hard {
            collapsed.push_str("  ");
        }
        lines.push(collapsed);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let text = lines.join("\n");
    text.trim_start().trim_end_matches([' ', '\n']).to_owned()
}

/// A line that would read as a heading, quote or list item gets its first
/// character escaped.
fn escape_line_start(text: &str) -> String {
    let starts_marker = text.starts_with(['#', '>', '+']) || text.starts_with("- ") || {
        let digits = text.chars().take_while(char::is_ascii_digit).count();
        digits > 0 && text[digits..].starts_with(". ")
    };
    if !starts_marker {
        return text.to_owned();
    }
    match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) if text.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("{}\\{}", &text[..at], &text[at..])
        }
        _ => format!("\\{text}"),
    }
}

fn block(node: NodeRef<'_, Node>, out: &mut Vec<String>) {
    let Some(tag) = name(&node) else { return };
    match tag {
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
            let level = usize::from(tag.as_bytes()[1] - b'0');
            let mut text = String::new();
            children_inline(node, &mut text);
            let text = tidy(&text.replace('\n', " "));
            if !text.is_empty() {
                out.push(format!("{} {text}", "#".repeat(level)));
            }
        }
        "ul" | "ol" => {
            let list = list(node, tag == "ol");
            if !list.is_empty() {
                out.push(list);
            }
        }
        "blockquote" => {
            let mut inner = Vec::new();
            container(node, &mut inner);
            let quoted: Vec<String> = inner
                .join("\n\n")
                .lines()
                .map(|l| format!("> {l}"))
                .collect();
            if !quoted.is_empty() {
                out.push(quoted.join("\n"));
            }
        }
        "pre" => {
            let code: String = node
                .descendants()
                .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
                .collect();
            let language = node
                .descendants()
                .filter_map(|n| n.value().as_element()?.attr("class"))
                .flat_map(str::split_whitespace)
                .find_map(|c| c.strip_prefix("language-"))
                .unwrap_or("");
            let fence = "`".repeat(longest_run(&code, '`').max(2) + 1);
            out.push(format!(
                "{fence}{language}\n{}\n{fence}",
                code.trim_end_matches('\n')
            ));
        }
        "table" => {
            let table = table(node);
            if !table.is_empty() {
                out.push(table);
            }
        }
        "hr" => out.push("* * *".to_owned()),
        _ => container(node, out),
    }
}

fn list(node: NodeRef<'_, Node>, ordered: bool) -> String {
    let mut items = Vec::new();
    for (number, item) in (1..).zip(node.children().filter(|c| name(c) == Some("li"))) {
        let marker = if ordered {
            format!("{number}. ")
        } else {
            "- ".to_owned()
        };
        let mut blocks = Vec::new();
        container(item, &mut blocks);
        let indent = " ".repeat(marker.len());
        let body = blocks.join("\n");
        let mut lines = body.lines();
        let first = lines.next().unwrap_or("");
        let mut text = format!("{marker}{first}");
        for line in lines {
            text.push('\n');
            if !line.is_empty() {
                text.push_str(&indent);
                text.push_str(line);
            }
        }
        items.push(text.trim_end().to_owned());
    }
    items.join("\n")
}

fn table(node: NodeRef<'_, Node>) -> String {
    let rows: Vec<Vec<String>> = node
        .descendants()
        .filter(|n| name(n) == Some("tr"))
        .map(|row| {
            row.children()
                .filter(|c| matches!(name(c), Some("td" | "th")))
                .map(|cell| {
                    let mut text = String::new();
                    children_inline(cell, &mut text);
                    tidy(&text.replace('\n', " ")).replace('|', "\\|")
                })
                .collect()
        })
        .filter(|cells: &Vec<String>| !cells.is_empty())
        .collect();
    let Some(width) = rows.iter().map(Vec::len).max() else {
        return String::new();
    };
    let line = |cells: &[String]| {
        let mut text = String::from("|");
        for i in 0..width {
            text.push(' ');
            text.push_str(cells.get(i).map_or("", String::as_str));
            text.push_str(" |");
        }
        text
    };
    let mut lines = vec![line(&rows[0]), line(&vec!["---".to_owned(); width])];
    lines.extend(rows[1..].iter().map(|r| line(r)));
    lines.join("\n")
}

fn children_inline(node: NodeRef<'_, Node>, out: &mut String) {
    for child in node.children() {
        inline(child, out);
    }
}

/// Inline Markdown of a node, appended to `out` (a block inside inline
/// content reads as a line of its own).
fn inline(node: NodeRef<'_, Node>, out: &mut String) {
    match node.value() {
        Node::Text(text) => {
            let text: String = text
                .chars()
                .map(|c| if c.is_whitespace() { ' ' } else { c })
                .collect();
            out.push_str(&escape(&text));
        }
        Node::Element(el) => match el.name() {
            "br" => out.push_str("  \n"),
            "em" | "i" => wrap(node, "*", out),
            "strong" | "b" => wrap(node, "**", out),
            "del" | "s" | "strike" => wrap(node, "~~", out),
            "code" | "kbd" | "samp" => {
                let code: String = node
                    .descendants()
                    .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
                    .collect();
                let fence = "`".repeat(longest_run(&code, '`') + 1);
                let pad = if code.starts_with('`') || code.ends_with('`') {
                    " "
                } else {
                    ""
                };
                out.push_str(&format!("{fence}{pad}{code}{pad}{fence}"));
            }
            "a" => {
                let mut text = String::new();
                children_inline(node, &mut text);
                let text = tidy(&text.replace('\n', " "));
                match el.attr("href") {
                    Some(href) if !text.is_empty() => {
                        out.push_str(&format!("[{text}]({})", destination(href)));
                    }
                    _ => out.push_str(&text),
                }
            }
            "img" => {
                if let Some(src) = el.attr("src") {
                    let alt = escape(el.attr("alt").unwrap_or(""));
                    out.push_str(&format!("![{alt}]({})", destination(src)));
                }
            }
            _ if BLOCK_TAGS.contains(&el.name()) => {
                let mut blocks = Vec::new();
                block(node, &mut blocks);
                out.push('\n');
                out.push_str(&blocks.join("\n"));
                out.push('\n');
            }
            _ => children_inline(node, out),
        },
        _ => {}
    }
}

/// `marker` around the node's inline text, outside its spaces.
fn wrap(node: NodeRef<'_, Node>, marker: &str, out: &mut String) {
    let mut text = String::new();
    children_inline(node, &mut text);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        out.push_str(&text);
        return;
    }
    let lead = &text[..text.len() - text.trim_start().len()];
    let trail = &text[text.trim_end().len()..];
    out.push_str(&format!("{lead}{marker}{trimmed}{marker}{trail}"));
}

/// A link's destination, in angle brackets when it has spaces or
/// parentheses that would end it.
fn destination(url: &str) -> String {
    if url.contains([' ', '(', ')', '<', '>']) {
        format!("<{}>", url.replace('<', "%3C").replace('>', "%3E"))
    } else {
        url.to_owned()
    }
}

/// Markdown's inline punctuation escaped in text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '[' | ']' | '`' | '<') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn longest_run(text: &str, wanted: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == wanted { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(html: &str) -> String {
        from_html(html).unwrap_or_default()
    }

    #[test]
    fn headings_are_atx_and_paragraphs_blank_line_separated() {
        assert_eq!(
            md("<h2>Harbour &amp; town</h2><p>First.</p><h3>Later</h3><p>Second.</p>"),
            "## Harbour & town\n\nFirst.\n\n### Later\n\nSecond."
        );
    }

    #[test]
    fn lists_nest_and_number() {
        assert_eq!(
            md(
                "<ul><li>one</li><li>two<ul><li>inner</li></ul></li></ul><ol><li>first</li><li>second</li></ol>"
            ),
            "- one\n- two\n  - inner\n\n1. first\n2. second"
        );
    }

    #[test]
    fn links_images_and_emphasis_keep_their_targets() {
        assert_eq!(
            md(
                "<p>See <a href=\"https://a.example/x?y=1\">the <em>report</em></a>, <strong>now</strong>.</p>\
                 <p><img src=\"https://a.example/i.png\" alt=\"A pier\"></p>"
            ),
            "See [the *report*](https://a.example/x?y=1), **now**.\n\n![A pier](https://a.example/i.png)"
        );
    }

    #[test]
    fn markdown_characters_in_text_are_escaped() {
        assert_eq!(md("<p>a_b*c [d]</p>"), "a\\_b\\*c \\[d\\]");
    }

    #[test]
    fn quotes_are_prefixed_on_every_line() {
        assert_eq!(
            md("<blockquote><p>Said once.</p><p>Said twice.</p></blockquote>"),
            "> Said once.\n> \n> Said twice."
        );
    }

    #[test]
    fn code_blocks_are_fenced_with_their_language_and_inline_code_survives_backticks() {
        assert_eq!(
            md(
                "<pre><code class=\"language-rust\">fn main() {\n    go();\n}</code></pre><p>Run <code>a`b</code>.</p>"
            ),
            "```rust\nfn main() {\n    go();\n}\n```\n\nRun ``a`b``."
        );
    }

    #[test]
    fn tables_become_pipe_tables() {
        let markdown = md("<table><thead><tr><th>City</th><th>Rain</th></tr></thead>\
             <tbody><tr><td>Bergen</td><td>2,250 mm</td></tr></tbody></table>");
        let lines: Vec<&str> = markdown.lines().map(str::trim_end).collect();
        assert_eq!(lines.len(), 3, "{markdown}");
        assert!(lines[0].starts_with("| City") && lines[0].contains("| Rain"));
        assert!(lines[1].starts_with("| -") && lines[1].ends_with('|'));
        assert!(lines[2].starts_with("| Bergen") && lines[2].contains("| 2,250 mm"));
    }

    #[test]
    fn empty_or_too_deep_markup_gives_none() {
        assert_eq!(from_html("<p> </p>"), None);
        let deep = "<div>".repeat(limits::MAX_DEPTH + 1) + "x";
        assert_eq!(from_html(&deep), None);
    }
}
