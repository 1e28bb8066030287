//! Sanitized article HTML as Markdown (the export's `content_markdown`), for
//! tools that read Markdown better than HTML (LLM pipelines, notes, mail).
//!
//! The conversion is htmd's (CommonMark with GitHub tables), set to ATX
//! headings, `-` bullets and fenced code. Its input is always our own
//! sanitized HTML, so the few elements ammonia lets through are all that
//! needs converting. Markup nested deeper than [`limits::MAX_DEPTH`] is
//! refused (the converter recurses per level), and a panic in the converter
//! gives no Markdown rather than failing the export.

use std::panic::{AssertUnwindSafe, catch_unwind};

use htmd::HtmlToMarkdown;
use htmd::options::{BulletListMarker, Options};

use super::limits;

thread_local! {
    static CONVERTER: HtmlToMarkdown = HtmlToMarkdown::builder()
        .options(Options {
            bullet_list_marker: BulletListMarker::Dash,
            ul_bullet_spacing: 1,
            ol_number_spacing: 1,
            ..Options::default()
        })
        .build();
}

/// `html` (sanitized) as Markdown; `None` when it has no text, nests too
/// deeply or the converter fails.
pub fn from_html(html: &str) -> Option<String> {
    if limits::nesting(html.as_bytes()).too_deep_at.is_some() {
        return None;
    }
    let converted = catch_unwind(AssertUnwindSafe(|| {
        CONVERTER.with(|converter| converter.convert(html))
    }));
    let markdown = converted.ok()?.ok()?;
    let markdown = markdown.trim();
    (!markdown.is_empty()).then(|| markdown.to_owned())
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
