//! Small fixtures written for these tests: feeds and article pages with the
//! boilerplate real news sites carry (navigation, share bar, "Check Also",
//! comments, footer).

/// One `<item>` of an RSS feed.
pub struct Item<'a> {
    pub guid: &'a str,
    pub title: &'a str,
    pub link: &'a str,
    pub description: &'a str,
    pub pub_date: &'a str,
}

pub fn rss(title: &str, items: &[Item<'_>]) -> String {
    let items: String = items
        .iter()
        .map(|i| {
            format!(
                "<item><guid isPermaLink=\"false\">{}</guid><title>{}</title><link>{}</link>\
                 <description>{}</description><pubDate>{}</pubDate></item>\n",
                escape(i.guid),
                escape(i.title),
                escape(i.link),
                escape(i.description),
                i.pub_date
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>{}</title><link>http://example.invalid/</link><description>test</description>\n{items}</channel></rss>\n",
        escape(title)
    )
}

/// A feed of `(id, link, text)` entries, in that order, each titled by its
/// id and published on the same day.
pub fn rss_entries(title: &str, entries: &[(String, String, String)]) -> String {
    let items: Vec<Item<'_>> = entries
        .iter()
        .map(|(id, link, text)| Item {
            guid: id,
            title: id,
            link,
            description: text,
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    rss(title, &items)
}

/// A feed whose entries are `/ID` pages of `server_url`, each titled and
/// identified by its ID, with a one-word teaser.
pub fn rss_of_pages(server_url: impl Fn(&str) -> String, ids: &[&str]) -> String {
    let entries: Vec<(String, String, String)> = ids
        .iter()
        .map(|id| {
            (
                id.to_string(),
                server_url(&format!("/{id}")),
                "teaser".into(),
            )
        })
        .collect();
    rss_entries("F", &entries)
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Four paragraphs of a made-up news story about `topic` (about 170 words).
pub fn story(topic: &str) -> Vec<String> {
    vec![
        format!(
            "The city council met on Thursday to discuss the future of {topic}, a question that has divided residents for the better part of a decade and filled the public gallery again this week."
        ),
        format!(
            "Supporters argued that {topic} would bring new jobs to the northern districts, while opponents warned that the costs had been underestimated and that the timetable presented to the council was unrealistic."
        ),
        format!(
            "After four hours of debate the members agreed to commission an independent review of {topic}, with a report due before the summer recess and a public consultation to follow in the autumn."
        ),
        format!(
            "The mayor said she was confident that the review would settle the matter of {topic} once and for all, and thanked the residents who had waited late into the evening to hear the outcome."
        ),
    ]
}

/// A complete article page in the style of a news site: the story inside
/// `<article>`, surrounded by the boilerplate an extractor must drop.
/// `head` is extra markup for `<head>` (e.g. a canonical link or meta charset).
pub fn article_page(title: &str, paragraphs: &[String], head: &str) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Daily Example</title>{head}</head>
<body>
<header class="site-header"><a href="/">Daily Example</a>
<nav class="main-menu"><ul><li><a href="/politics">Politics</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/culture">Culture</a></li><li><a href="/weather">Weather forecast</a></li></ul></nav></header>
<main>
<article class="post">
<h1 class="entry-title">{title}</h1>
<div class="entry-meta">Posted by the newsroom</div>
<div class="entry-content">
{body}</div>
<div class="share-bar">Share this: <a href="https://facebook.example/share">Facebook</a> <a href="https://twitter.example/share">Twitter</a> <a href="mailto:?subject=x">Email</a></div>
</article>
<div class="related-posts"><h3>Check Also</h3>
<div class="related-item"><a href="/other-story">Flooding closes the river road for a third day</a>
<p>Residents of the valley were told on Tuesday to expect further closures as the water keeps rising and more rain is on the way …</p></div></div>
<section id="comments" class="comments-area"><h2>12 comments</h2>
<div class="comment"><p>Commenter one says this is a disgrace and the council should resign immediately.</p></div>
<div class="comment"><p>Commenter two thinks everyone should calm down and wait for the independent review.</p></div>
<form id="commentform"><textarea name="comment"></textarea><button>Post comment</button></form></section>
</main>
<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/a">Local bakery wins national prize</a></li><li><a href="/b">New bus timetable announced</a></li></ul></aside>
<footer class="site-footer"><p>Copyright 2026 Daily Example. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
<script>window.analytics = {{ track: function() {{}} }};</script>
</body></html>"#
    )
}

/// Words that only occur in the boilerplate of [`article_page`].
pub const BOILERPLATE: &[&str] = &[
    "Check Also",
    "Flooding closes",
    "Commenter one",
    "Share this",
    "Most read",
    "Copyright 2026",
    "Weather forecast",
    "analytics",
    "Post comment",
];

/// Serves a feed at `/feed.xml` of one entry whose page `/a` is a story
/// about a harbour; returns the feed's URL.
pub fn serve_one_article(server: &super::TestServer) -> String {
    let link = server.url("/a");
    server.set(
        "/feed.xml",
        super::Route::rss(rss(
            "F",
            &[Item {
                guid: "1",
                title: "A",
                link: &link,
                description: "teaser",
                pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
            }],
        )),
    );
    server.set(
        "/a",
        super::Route::html(article_page("A", &story("the harbour"), "")),
    );
    server.url("/feed.xml")
}
