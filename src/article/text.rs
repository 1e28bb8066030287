//! HTML to plain text: paragraphs separated by one blank line, whitespace
//! inside a paragraph collapsed, words of adjacent blocks never glued together.

use ego_tree::NodeRef;
use scraper::{Html, Node};

use super::limits;

/// What a sentence's text ends with, closing quotes included (the body
/// chooser's test of a sibling, the dateline's test of a line).
pub(crate) const SENTENCE_END: &[char] = &['.', '!', '?', '。', '！', '？', '"', '”', '»'];

/// Elements that start a new paragraph (and the units the clean-up judges).
pub(crate) const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Elements whose content is never text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "head", "title", "iframe", "object", "svg", "math",
    "button", "select", "textarea",
];

/// The plain text of an HTML fragment or document; markup past
/// [`limits::MAX_DEPTH`] levels is cut off there (the parser's cost grows
/// with the square of the depth).
pub fn html_to_text(html: &str) -> String {
    fragment_text(&Html::parse_fragment(limits::within_depth(html)))
}

/// The text of several subtrees of one page, in order, as one text.
pub fn subtrees_text(roots: &[scraper::ElementRef<'_>]) -> String {
    let mut out = TextBuilder::default();
    for root in roots {
        out.end_paragraph();
        if SKIPPED.contains(&root.value().name()) {
            continue;
        }
        walk(**root, &mut out, root.value().name() == "pre");
        out.end_paragraph();
    }
    out.finish()
}

/// [`html_to_text`] of an already parsed fragment.
pub fn fragment_text(fragment: &Html) -> String {
    let mut out = TextBuilder::default();
    walk(fragment.tree.root(), &mut out, false);
    out.finish()
}

#[derive(Default)]
struct TextBuilder {
    paragraphs: Vec<String>,
    current: String,
    /// A space is owed before the next word of the current paragraph.
    space: bool,
}

impl TextBuilder {
    fn push_text(&mut self, text: &str, preformatted: bool) {
        if preformatted {
            self.current.push_str(text);
            self.space = false;
            return;
        }
        if text.starts_with(char::is_whitespace) {
            self.space = true;
        }
        for (i, word) in text.split_whitespace().enumerate() {
            if (i > 0 || self.space) && !self.current.is_empty() && !self.current.ends_with('\n') {
                self.current.push(' ');
            }
            self.current.push_str(word);
            self.space = false;
        }
        if text.ends_with(char::is_whitespace) {
            self.space = true;
        }
    }

    fn line_break(&mut self) {
        let trimmed = self.current.trim_end().len();
        self.current.truncate(trimmed);
        if !self.current.is_empty() {
            self.current.push('\n');
        }
        self.space = false;
    }

    fn end_paragraph(&mut self) {
        let paragraph = self.current.trim();
        if !paragraph.is_empty() {
            self.paragraphs.push(paragraph.to_owned());
        }
        self.current.clear();
        self.space = false;
    }

    /// The paragraphs, without control characters (a stray bell or NUL in a
    /// page is noise downstream and not valid in XML).
    fn finish(mut self) -> String {
        self.end_paragraph();
        let text = self.paragraphs.join("\n\n");
        if text.contains(|c: char| c.is_control() && c != '\n' && c != '\t') {
            return text
                .chars()
                .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                .collect();
        }
        text
    }
}

/// Appends the text under `node` (not `node` itself) to `out`. Iterative:
/// how deep a tree is does not matter to the thread's stack.
fn walk(node: NodeRef<'_, Node>, out: &mut TextBuilder, preformatted: bool) {
    enum Step<'a> {
        /// A node and the siblings after it, in order.
        From(NodeRef<'a, Node>, bool),
        /// The end of a block element.
        EndBlock,
    }
    let mut todo: Vec<Step<'_>> = node
        .first_child()
        .map(|first| Step::From(first, preformatted))
        .into_iter()
        .collect();
    while let Some(step) = todo.pop() {
        let (first, preformatted) = match step {
            Step::From(first, preformatted) => (first, preformatted),
            Step::EndBlock => {
                out.end_paragraph();
                continue;
            }
        };
        // Siblings are handled in order until an element needs its own
        // children walked first: the rest wait on the stack.
        let mut next = Some(first);
        while let Some(current) = next {
            next = current.next_sibling();
            match current.value() {
                Node::Text(text) => out.push_text(text, preformatted),
                Node::Element(element) => {
                    let name = element.name();
                    if SKIPPED.contains(&name) {
                        continue;
                    }
                    if name == "br" {
                        out.line_break();
                        continue;
                    }
                    if name == "img" {
                        // An image separates words like a space would.
                        out.space = true;
                        continue;
                    }
                    let block = BLOCKS.contains(&name);
                    if block {
                        out.end_paragraph();
                    }
                    if let Some(rest) = next {
                        todo.push(Step::From(rest, preformatted));
                    }
                    if block {
                        todo.push(Step::EndBlock);
                    }
                    if let Some(child) = current.first_child() {
                        todo.push(Step::From(child, preformatted || name == "pre"));
                    }
                    break;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_separated_by_a_blank_line() {
        let html = "<h1>Title</h1><p>First  para\n graph.</p><div>Second<p>Third</p>tail</div>";
        assert_eq!(
            html_to_text(html),
            "Title\n\nFirst para graph.\n\nSecond\n\nThird\n\ntail"
        );
    }

    #[test]
    fn adjacent_blocks_never_glue_words() {
        assert_eq!(html_to_text("<li>one</li><li>two</li>"), "one\n\ntwo");
        assert_eq!(
            html_to_text("<table><tr><td>a</td><td>b</td></tr></table>"),
            "a\n\nb"
        );
        assert_eq!(html_to_text("end.<div>Next</div>"), "end.\n\nNext");
    }

    #[test]
    fn inline_markup_keeps_spacing_as_written() {
        assert_eq!(
            html_to_text("<p>an <b>important</b> word</p>"),
            "an important word"
        );
        assert_eq!(html_to_text("<p>un<b>broken</b></p>"), "unbroken");
        assert_eq!(html_to_text("<p>line<br>break</p>"), "line\nbreak");
    }

    #[test]
    fn scripts_and_styles_are_not_text() {
        assert_eq!(
            html_to_text("<p>a<script>var x;</script><style>p{}</style> b</p>"),
            "a b"
        );
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(
            html_to_text("<p>bell\u{7} and\u{0} nul</p><pre>a\tb</pre>"),
            "bell and nul\n\na\tb"
        );
    }

    #[test]
    fn a_deep_tree_is_walked_without_recursion() {
        // Built by hand: the parser itself is never given such depth.
        let deep = || {
            let mut doc = Html::parse_fragment("<div></div>");
            let mut id = doc.root_element().first_child().unwrap().id();
            for _ in 0..100_000 {
                let element = Node::Element(doc.root_element().value().clone());
                id = doc.tree.get_mut(id).unwrap().append(element).id();
            }
            doc.tree
                .get_mut(id)
                .unwrap()
                .append(Node::Text(scraper::node::Text {
                    text: "deep".into(),
                }));
            fragment_text(&doc)
        };
        let text = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(deep)
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(text, "deep");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            html_to_text("<p>caf&eacute; &amp; bar&nbsp;x</p>"),
            "café & bar x"
        );
    }
}
