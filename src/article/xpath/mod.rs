//! XPath 1.0 on scraper's tree: what site rules (Full-Text RSS's format)
//! are written in.
//!
//! Our own evaluator rather than a library: `sxd-xpath` and `skyscraper`
//! each need the page in their own DOM (a second parse of every page with a
//! rule), and the libxml bindings a C library and its parser's idea of the
//! HTML. This one evaluates on the tree the extractor already holds, so a
//! rule's `strip` removes exactly what the extractor then no longer sees.
//! It implements the whole expression language (all axes, the core function
//! library except `lang()`, the four value types and their comparisons)
//! except variables and namespaces, which HTML pages do not have; element
//! and attribute names are matched lower-cased, as HTML parsers give them.
//! `examples/site_rules.rs` measures the share of a rule library's
//! expressions that compile.

mod ast;
mod eval;
mod parse;
mod tokens;

use ego_tree::NodeId;
use scraper::Html;

use eval::{Evaluator, XNode};

/// A compiled XPath expression, with its source kept for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct XPath {
    source: String,
    expr: parse::Expr,
}

/// Why an expression does not compile.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid XPath (at {at}): {message}")]
pub struct XPathError {
    /// Where the problem was found: a character offset while tokenizing,
    /// a token index while parsing.
    pub at: usize,
    pub message: String,
}

impl XPathError {
    fn new(at: usize, message: impl Into<String>) -> Self {
        XPathError {
            at,
            message: message.into(),
        }
    }
}

/// One item of an expression's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// A node of the tree: an element, a text or a comment.
    Node(NodeId),
    /// An element's attribute.
    Attribute {
        owner: NodeId,
        name: String,
        value: String,
    },
    /// The expression gave a string, number or boolean, as a string.
    Value(String),
}

impl XPath {
    pub fn compile(source: &str) -> Result<XPath, XPathError> {
        Ok(XPath {
            source: source.to_owned(),
            expr: parse::parse(source)?,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The result on `doc`: a node-set's nodes in document order, or the
    /// one value.
    pub fn find(&self, doc: &Html) -> Vec<Found> {
        let evaluator = Evaluator::new(doc);
        let value = evaluator.evaluate(&self.expr);
        Self::found(doc, &evaluator, value)
    }

    /// [`XPath::find`] from each of `contexts` as the context node, so
    /// that a relative expression (`.//h2`) reads inside each: how a
    /// scraped feed's per-item expressions are evaluated. One evaluation's
    /// frame serves them all: the document order a result's sorting needs
    /// is worked out once, not once per item (quadratic in the page).
    pub fn find_each(&self, doc: &Html, contexts: &[NodeId]) -> Vec<Vec<Found>> {
        let evaluator = Evaluator::new(doc);
        contexts
            .iter()
            .map(|&context| {
                let value = evaluator.evaluate_from(&self.expr, context);
                Self::found(doc, &evaluator, value)
            })
            .collect()
    }

    fn found(doc: &Html, evaluator: &Evaluator<'_>, value: eval::Value) -> Vec<Found> {
        match value {
            eval::Value::Nodes(nodes) => nodes
                .into_iter()
                .map(|node| match node {
                    XNode::Tree(id) => Found::Node(id),
                    XNode::Attribute(owner, index) => {
                        let (name, value) = doc
                            .tree
                            .get(owner)
                            .and_then(|n| n.value().as_element())
                            .and_then(|e| e.attrs().nth(index))
                            .unwrap_or_default();
                        Found::Attribute {
                            owner,
                            name: name.to_owned(),
                            value: value.to_owned(),
                        }
                    }
                })
                .collect(),
            other => vec![Found::Value(evaluator.string(other))],
        }
    }

    /// The elements the expression selects (nothing when it gives a value).
    pub fn elements(&self, doc: &Html) -> Vec<NodeId> {
        self.find(doc)
            .into_iter()
            .filter_map(|f| match f {
                Found::Node(id) if doc.tree.get(id).is_some_and(|n| n.value().is_element()) => {
                    Some(id)
                }
                _ => None,
            })
            .collect()
    }

    /// XPath's `string()` of the result: the first node's text, or the value.
    pub fn string(&self, doc: &Html) -> String {
        let evaluator = Evaluator::new(doc);
        let value = evaluator.evaluate(&self.expr);
        evaluator.string(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<html><head><meta property="og:title" content="The Title"></head><body>
        <div id="main" class="story  body-text">
          <p class="lead">One</p><p>Two</p><p>Three <a href="/next?page=2">next</a></p>
        </div>
        <div class="story-sidebar"><p>Side</p></div>
        <ul><li>a</li><li>b</li></ul><ul><li>c</li></ul>
        </body></html>"#;

    fn texts(doc: &Html, xpath: &str) -> Vec<String> {
        let xpath = XPath::compile(xpath).unwrap();
        xpath
            .find(doc)
            .into_iter()
            .map(|f| match f {
                Found::Node(id) => {
                    let node = doc.tree.get(id).unwrap();
                    scraper::ElementRef::wrap(node)
                        .map(|e| e.text().collect::<String>().trim().to_owned())
                        .unwrap_or_else(|| node.value().as_text().unwrap().to_string())
                }
                Found::Attribute { value, .. } => value,
                Found::Value(v) => v,
            })
            .collect()
    }

    #[test]
    fn the_common_forms_of_site_rules_select_what_they_say() {
        let doc = Html::parse_document(PAGE);
        let cases: &[(&str, &[&str])] = &[
            ("//p[@class='lead']", &["One"]),
            ("//div[@id=\"main\"]/p[2]", &["Two"]),
            ("//div[contains(@class, 'story')]/p[1]", &["One", "Side"]),
            (
                "//div[contains(concat(' ',normalize-space(@class),' '),' story ')]/p[last()]",
                &["Three next"],
            ),
            ("//li[1]", &["a", "c"]),
            ("(//li)[1]", &["a"]),
            ("//ul[2]/li | //p[@class='lead']", &["One", "c"]),
            ("//meta[@property='og:title']/@content", &["The Title"]),
            ("//a[contains(., 'next')]/@href", &["/next?page=2"]),
            ("//p[starts-with(., 'Th')]/text()", &["Three "]),
            ("//p[not(@class)][position() > 1]", &["Three next"]),
            ("//a/ancestor::div[1]/@id", &["main"]),
            ("//p[@class='lead']/following-sibling::p[1]", &["Two"]),
            ("//p[.='Two']/preceding-sibling::*", &["One"]),
            ("count(//li)", &["3"]),
            (
                "substring-after(//meta[@property='og:title']/@content, 'The ')",
                &["Title"],
            ),
            ("//*[@id='main']//A", &["next"]),
            ("//div[p[.='Side']]/@class", &["story-sidebar"]),
        ];
        for (xpath, want) in cases {
            assert_eq!(texts(&doc, xpath), *want, "{xpath}");
        }
    }

    #[test]
    fn values_and_conversions_follow_xpath_1() {
        let doc = Html::parse_document(PAGE);
        let string = |x: &str| XPath::compile(x).unwrap().string(&doc);
        assert_eq!(string("concat('a', 1, true())"), "a1true");
        assert_eq!(string("1 + 2 * 3"), "7");
        assert_eq!(string("7 mod 3 = 1 and 6 div 4 = 1.5"), "true");
        assert_eq!(string("number('x')"), "NaN");
        assert_eq!(string("translate('abc', 'ab', 'B')"), "Bc");
        assert_eq!(string("substring('12345', 2, 3)"), "234");
        assert_eq!(string("//li = 'c'"), "true");
        assert_eq!(string("//li != 'c'"), "true");
        assert_eq!(string("//p[1]"), "One");
    }
}
