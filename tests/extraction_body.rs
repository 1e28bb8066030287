//! Which part of a page is the article: `gleaner extract` on a saved page,
//! no network.

mod common;

use common::extract_text;

const PARAGRAPHS: [&str; 6] = [
    "The harbour board voted on Tuesday to dredge the old channel, after a winter in which three ships ran aground near the pier.",
    "The work starts in May and lasts six weeks, during which the ferry leaves from the north quay, the board said in a statement.",
    "Fishermen, who had asked for the dredging for years, welcomed the vote, though some worry about the noise during the spawning season.",
    "The board will pay for most of the work from its reserves, and the region has promised to cover the rest by the end of the year.",
    "A second vote, on the new lighthouse, was put off until the autumn, when the engineers will have finished their survey of the rocks.",
    "The harbour master said the channel would be marked with new buoys, lit at night, before the first ships come back in the summer.",
];

/// Visible prose under the story, enough to pass for an article when the
/// story itself is dropped.
fn more_from_the_coast() -> String {
    (0..4)
        .map(|i| {
            format!(
                "<p>More from the coast {i}: the ferry timetable and the lifeboat crew's open day \
                 and the fish market's new hall and the summer regatta in one place.</p>"
            )
        })
        .collect()
}

#[test]
fn an_article_streamed_in_hidden_pieces_is_read_where_the_page_shows_it() {
    // A page from a streaming server: the shell holds placeholders
    // (`<template id="B:n">` with a "Loading…" fallback between React's
    // comments, `<template id="P:n">`), the article comes later in hidden
    // pieces (`<div hidden id="S:n">`), none of them most of the page, and
    // the page's script (left out, as saved pages often do) would move each
    // piece into its place.
    let piece = |n: usize, paragraphs: &[&str]| {
        let ps: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
        format!("<div hidden id=\"S:{n}\">{ps}</div>")
    };
    // Visible prose enough to pass for an article when the pieces are
    // dropped as hidden.
    let more = more_from_the_coast();
    let page = format!(
        "<html><head><title>Harbour</title></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/local\">Local</a></nav>\
         <main><h1>The harbour will be dredged</h1><div class=\"story\">\
         <!--$?--><template id=\"B:0\"></template><div>Loading paragraph...</div><!--/$-->\
         <template id=\"P:1\"></template>\
         <!--$?--><template id=\"B:2\"></template><div>Loading paragraph...</div><!--/$-->\
         </div></main>\
         <div class=\"more\">{more}</div>\
         {}{}{}</body></html>",
        piece(0, &PARAGRAPHS[..2]),
        piece(1, &PARAGRAPHS[2..4]),
        piece(2, &PARAGRAPHS[4..]),
    );
    let text = extract_text(&page);
    let mut at = 0;
    for paragraph in PARAGRAPHS {
        let found = text[at..].find(paragraph);
        assert!(
            found.is_some(),
            "{paragraph} missing, or out of order, in {text}"
        );
        at += found.unwrap_or(0) + paragraph.len();
    }
    for not_article in ["Loading paragraph", "More from the coast"] {
        assert!(!text.contains(not_article), "{not_article} in {text}");
    }
}

#[test]
fn a_social_media_post_embedded_in_the_article_is_text() {
    let story: String = PARAGRAPHS.iter().map(|p| format!("<p>{p}</p>")).collect();
    let page = format!(
        "<html><head><title>Harbour</title></head><body><main><h1>Dredge it</h1>\
         <div class=\"story\">{story}<div class=\"social-media-embed\"><blockquote>\
         <p>The mayor wrote: we have waited twenty years for this channel, and now the work can start.</p>\
         </blockquote></div><p>Officials did not give any other details.</p></div>\
         <div class=\"share-bar\"><a href=\"/s/fb\">Facebook</a> <a href=\"/s/x\">X</a></div>\
         </main></body></html>"
    );
    let text = extract_text(&page);
    assert!(text.contains("The mayor wrote: we have waited"), "{text}");
    assert!(!text.contains("Facebook"), "{text}");
}
