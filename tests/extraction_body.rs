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
