//! Finding the article body in a page's DOM: our own extractor.
//!
//! Three steps on the one parsed tree, each a function below:
//!
//! 1. `noise` detaches what is never text (scripts, styles, controls,
//!    hidden elements, unless one holds most of the page's prose: a streamed
//!    page parks its article in one), then `furniture` what is page furniture:
//!    navigation, asides, headers and footers (by tag, ARIA role, or a
//!    class/id of the boilerplate vocabulary), unless the element holds more
//!    than half of the page's text (some sites wrap everything in a `<form>`
//!    or a `<header>`); reader comments always go.
//! 2. `choose` scores text blocks (paragraphs, and containers with text of
//!    their own) by length and commas, damped by their link density, adds
//!    each score to the containers above (less the further up), weights them
//!    by the class/id vocabulary and picks the best one. It grows to its
//!    parent while the parent adds mostly prose, and takes siblings that
//!    score nearly as well or read like prose.
//! 3. `prune` removes link lists, galleries, link-heavy boxes and empty
//!    wrappers from inside the chosen subtrees.
//!
//! `find` runs these in `PASSES`, strictest first, until one leaves
//! `MIN_ARTICLE_CHARS` of text.
//!
//! Each rule and constant was measured with `cargo bench --bench extraction`
//! on both DEV sets, against trafilatura's and dom_smoothie's own text in the
//! same run. Change one only with that bench's figures for both sets.

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::{Html, Node, node::Element};

mod choose;
mod measure;
mod prune;

use choose::*;
pub(super) use measure::is_link;
use measure::*;
use prune::*;

/// Maps keyed by node. A node id is a small index: hashing it with SipHash
/// (the std default, built against collision attacks on untrusted keys) was
/// a tenth of extraction's time; these keys come from our own parser.
type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<NodeIdHasher>>;

/// Fibonacci hashing of the one integer a [`NodeId`] hashes.
#[derive(Default)]
pub(super) struct NodeIdHasher(u64);

impl Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// Elements whose content is never article text.
const NOISE_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed",
    "button", "select", "textarea", "input", "link", "meta", "dialog", "map", "audio", "video",
];

/// Elements that are page furniture, unless they hold most of the prose.
const FURNITURE_TAGS: &[&str] = &["nav", "aside", "footer", "header", "form", "menu"];

/// ARIA roles of page furniture.
const FURNITURE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "search",
    "toolbar",
];

/// Detaches what is never article text (see the module doc). An element that
/// holds more than half of the page's paragraph text is kept whatever its
/// name says.
/// How strict one attempt is. The strictest comes first; when it leaves too
/// little text, the page is read again with less removed (pages whose
/// article sits in a container named like boilerplate: `widget`, `sidebar-first`).
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Remove containers by their class or id.
    strip_by_class: bool,
    /// Judge containers inside the article ([`prune`]).
    prune: bool,
    /// Remove hidden elements. Pages rendered by script keep their article
    /// in a hidden element until the script moves it (`<div hidden id="S:0">`).
    strip_hidden: bool,
}

const PASSES: &[Pass] = &[
    Pass {
        strip_by_class: true,
        prune: true,
        strip_hidden: true,
    },
    Pass {
        strip_by_class: false,
        prune: true,
        strip_hidden: true,
    },
    Pass {
        strip_by_class: false,
        prune: false,
        strip_hidden: true,
    },
    Pass {
        strip_by_class: false,
        prune: true,
        strip_hidden: false,
    },
];

/// A looser pass replaces a stricter one only with this many times its text.
const LOOSER_PASS_GAIN: usize = 2;

/// An attempt is accepted when its text has this many characters…
const MIN_ARTICLE_CHARS: usize = 500;

/// Finds the article body: detaches everything else that [`prune`] and the
/// furniture rules judge boilerplate from `doc` and returns the body's
/// element(s), in document order; empty when the page has no prose.
pub(super) fn find(doc: &mut Html) -> Vec<NodeId> {
    let mut best: Option<(usize, Html, Vec<NodeId>)> = None;
    for pass in PASSES {
        let mut attempt = doc.clone();
        let noise = noise(&attempt, *pass);
        detach(&mut attempt, &noise);
        let furniture = furniture(&attempt, *pass);
        detach(&mut attempt, &furniture);
        let roots = choose(&attempt);
        if pass.prune {
            prune(&mut attempt, &roots);
        }
        let measures = measure_all(&attempt);
        let chars: usize = roots
            .iter()
            .filter_map(|r| measures.get(r))
            .map(|m| m.chars)
            .sum();
        let accepted = chars >= MIN_ARTICLE_CHARS;
        // A looser pass must find clearly more: a short article read by the
        // strict pass is not traded for the same text with its furniture.
        if best
            .as_ref()
            .is_none_or(|(most, _, _)| chars > most.saturating_mul(LOOSER_PASS_GAIN))
        {
            best = Some((chars, attempt, roots));
        }
        if accepted {
            break;
        }
    }
    match best {
        Some((_, attempt, roots)) => {
            *doc = attempt;
            roots
        }
        None => Vec::new(),
    }
}

/// Cleans a body that a site rule chose: what is never text goes (the
/// strictest pass's [`noise`]), and with `prune` the link lists and empty
/// wrappers [`prune`] judges boilerplate inside it.
pub(super) fn clean_chosen(doc: &mut Html, roots: &[NodeId], prune_too: bool) {
    let noise = noise(doc, PASSES[0]);
    detach(doc, &noise);
    if prune_too {
        prune(doc, roots);
    }
}

/// Elements that are never text: scripts, styles, controls, hidden ones.
/// A hidden element that holds most of the page's prose stays: it is the
/// article, parked there until a script shows it (streamed pages render
/// into `<div hidden id="S:0">` and move it later).
fn noise(doc: &Html, pass: Pass) -> Vec<NodeId> {
    let never_text = |el: &Element| NOISE_TAGS.contains(&el.name());
    if !pass.strip_hidden {
        return outermost_matching(doc, |_, el| never_text(el));
    }
    let found = outermost_matching(doc, |_, el| never_text(el) || is_hidden(el));
    let hidden = |id: &NodeId| {
        doc.tree
            .get(*id)
            .as_ref()
            .and_then(element)
            .is_some_and(|el| !never_text(el))
    };
    if !found.iter().any(hidden) {
        return found;
    }
    let prose = prose_all(doc);
    let page_prose = prose.get(&doc.root_element().id()).copied().unwrap_or(0);
    let article: Vec<NodeId> = found
        .iter()
        .filter(|id| hidden(id) && prose.get(id).copied().unwrap_or(0) * 2 > page_prose)
        .copied()
        .collect();
    if article.is_empty() {
        return found;
    }
    outermost_matching(doc, |node, el| {
        never_text(el) || (is_hidden(el) && !article.contains(&node.id()))
    })
}

/// Navigation, asides, footers, boilerplate containers: measured after the
/// noise is gone, so that scripts do not make the page look larger than it is.
fn furniture(doc: &Html, pass: Pass) -> Vec<NodeId> {
    let measures = measure_all(doc);
    let page_chars = measures
        .get(&doc.root_element().id())
        .map_or(0, |m| m.chars);
    outermost_matching(doc, |node, el| {
        let name = el.name();
        let furniture = FURNITURE_TAGS.contains(&name)
            || el
                .attr("role")
                .is_some_and(|r| FURNITURE_ROLES.contains(&r))
            || (pass.strip_by_class
                && !matches!(name, "article" | "main")
                && looks_like_furniture(el));
        let comments = !matches!(name, "article" | "main")
            && [el.attr("class"), el.attr("id")]
                .into_iter()
                .flatten()
                .any(|n| n.split_whitespace().any(|w| COMMENTS.is_match(w)));
        comments || (furniture && measures.get(&node.id()).map_or(0, |m| m.chars) * 2 < page_chars)
    })
}

/// The outermost elements below `<body>` for which `doomed` holds (nothing
/// inside a doomed element is looked at).
fn outermost_matching(
    doc: &Html,
    doomed: impl Fn(&NodeRef<'_, Node>, &Element) -> bool,
) -> Vec<NodeId> {
    let mut found = Vec::new();
    let mut stack: Vec<NodeRef<'_, Node>> = doc.root_element().children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let Some(el) = element(&node) else { continue };
        if !matches!(el.name(), "html" | "body") && doomed(&node, el) {
            found.push(node.id());
            continue;
        }
        let mut children: Vec<_> = node.children().collect();
        children.reverse();
        stack.extend(children);
    }
    found
}

fn detach(doc: &mut Html, ids: &[NodeId]) {
    for id in ids {
        if let Some(mut node) = doc.tree.get_mut(*id) {
            node.detach();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of the seed article: headline, dateline, paragraphs, a
    /// byline, then the site's "Check Also" teaser, comments and footer.
    const NEWS_PAGE: &str = r#"<html><body>
      <header class="site-header"><a href="/">Home</a> <a href="/politics">Politics</a> <a href="/world">World</a></header>
      <div class="layout">
        <div class="main-col">
          <div class="entry-content">
            <h1>The council approves the new bridge</h1>
            <p>Springfield, NEWS – The town council voted on Thursday to build a new bridge over the river, ending years of debate.</p>
            <p>“It is a good day for the town,” said the mayor, who had argued for the project since her election, and thanked the residents.</p>
            <p>The bridge will cost 12 million, paid by the region, the state and, for a small part, the town itself.</p>
            <p>Work starts in spring, and the old ferry keeps running until the bridge opens, probably in two years.</p>
            <p>Reporting by A. Writer</p>
            <div class="sharedaddy"><a href="/s/fb">Facebook</a> <a href="/s/tw">Twitter</a></div>
          </div>
          <div class="related-posts"><h3>Check Also</h3><a href="/other">Another story about something else, with its own teaser text</a></div>
          <div id="comments"><p>Great news, finally, after all these years of waiting for it, thanks.</p></div>
        </div>
        <aside class="sidebar"><ul><li><a href="/a">Most read one</a></li><li><a href="/b">Most read two</a></li></ul></aside>
      </div>
      <footer><p>© 2019 News, all rights reserved, and more words in the footer.</p></footer>
    </body></html>"#;

    fn body_text(html: &str) -> String {
        let mut doc = Html::parse_document(html);
        let roots = find(&mut doc);
        let subtrees: Vec<_> = roots
            .iter()
            .filter_map(|id| doc.tree.get(*id))
            .filter_map(scraper::ElementRef::wrap)
            .collect();
        super::super::text::subtrees_text(&subtrees)
    }

    #[test]
    fn the_article_is_kept_and_the_furniture_around_it_dropped() {
        let text = body_text(NEWS_PAGE);
        assert!(
            text.contains("Springfield, NEWS – The town council"),
            "{text}"
        );
        assert!(text.contains("probably in two years."), "{text}");
        assert!(text.contains("Reporting by A. Writer"), "{text}");
        for boilerplate in [
            "Home",
            "Facebook",
            "Check Also",
            "Great news",
            "Most read",
            "© 2019",
        ] {
            assert!(!text.contains(boilerplate), "{boilerplate} in {text}");
        }
    }

    #[test]
    fn a_page_wrapped_in_a_form_still_has_its_article() {
        let page = NEWS_PAGE
            .replace("<body>", "<body><form id=\"aspnetForm\">")
            .replace("</body>", "</form></body>");
        assert!(body_text(&page).contains("The bridge will cost 12 million"));
    }

    #[test]
    fn hidden_elements_and_scripts_are_not_text() {
        let page = NEWS_PAGE.replace(
            "<p>The bridge",
            "<p style=\"display: none\">Hidden promo text that nobody sees on the page at all.</p><script>var a = 'script words, many, many, many';</script><p>The bridge",
        );
        let text = body_text(&page);
        assert!(!text.contains("Hidden promo"), "{text}");
        assert!(!text.contains("script words"), "{text}");
    }

    #[test]
    fn a_block_hidden_by_its_class_is_not_text() {
        // A comma-separated list a script reads (the site's locales): its
        // commas make it score like prose, and only its class says it is
        // hidden.
        let locales: Vec<String> = (0..60).map(|i| format!("l{i}")).collect();
        let page = NEWS_PAGE.replace(
            "<div class=\"layout\">",
            &format!(
                "<div class=\"site-locales hidden\">{}</div><div class=\"layout\">",
                locales.join(",")
            ),
        );
        let text = body_text(&page);
        assert!(!text.contains("l1,l2"), "{text}");
        assert!(text.contains("The bridge will cost 12 million"), "{text}");
    }

    #[test]
    fn a_class_hidden_on_small_screens_only_is_text() {
        let page = NEWS_PAGE.replace(
            "<div class=\"entry-content\">",
            "<div class=\"entry-content hidden md:block\">",
        );
        assert!(body_text(&page).contains("The bridge will cost 12 million"));
    }

    #[test]
    fn a_streamed_article_parked_in_a_hidden_element_is_the_body() {
        // The server sends a shell with a visible teaser, then the article
        // in `<div hidden id="S:0">` for a script to move into place.
        let paragraph = "The committee met again on Monday, and after a long debate, with many \
            objections, it approved the plan, the budget and the calendar for next year.";
        let article: String = (0..8)
            .map(|i| format!("<p>Part {i}. {paragraph}</p>"))
            .collect();
        let teaser: String = (0..9)
            .map(|i| format!("<p>Teaser {i}: read our other stories from the newsroom and more of everything</p>"))
            .collect();
        let page = format!(
            "<html><body><main><div class=\"shell\"><div class=\"teasers\">{teaser}</div></div></main>\
             <div hidden id=\"S:0\"><article>{article}</article></div></body></html>"
        );
        let text = body_text(&page);
        assert!(text.contains("Part 7. The committee"), "{text}");
        assert!(!text.contains("Teaser"), "{text}");
    }

    #[test]
    fn a_box_beside_the_article_that_scores_far_less_is_left_out() {
        let page = NEWS_PAGE.replace(
            "<div class=\"related-posts\">",
            "<div class=\"box\"><p>Springfield News, 1 Main St, Springfield, open Monday to Friday, call us.</p></div>\
             <div class=\"related-posts\">",
        );
        let text = body_text(&page);
        assert!(text.contains("probably in two years."), "{text}");
        assert!(!text.contains("1 Main St"), "{text}");
    }

    #[test]
    fn a_block_named_for_related_articles_is_not_the_article() {
        // `related-articles` holds an article word: it must not count as one.
        let teaser = "<p>Read next: the mayor, the council, the budget, the ferry, the river, \
                      the bridge, and the town, all in one place.</p>";
        let page = NEWS_PAGE.replace(
            "<footer>",
            &format!(
                "<div class=\"below\"><div class=\"related-articles\">{}</div></div><footer>",
                teaser.repeat(5)
            ),
        );
        let text = body_text(&page);
        assert!(text.contains("probably in two years."), "{text}");
        assert!(!text.contains("Read next"), "{text}");
    }

    #[test]
    fn a_page_without_prose_has_no_body() {
        assert!(
            choose(&Html::parse_document(
                "<html><body><a href=/>Home</a></body></html>"
            ))
            .is_empty()
        );
    }
}
