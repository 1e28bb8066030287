//! Entries as their feed means them, through [`super::super::parse`], on
//! small feeds written for each case.

use url::Url;

use crate::feed::{Entry, parse};

fn base() -> Url {
    Url::parse("https://news.example/feed.xml").unwrap()
}

/// The entries of an RSS 2.0 channel holding `items`, in document order.
fn rss(items: &str) -> Vec<Entry> {
    let doc = format!(
        r#"<rss version="2.0" xmlns:a10="http://www.w3.org/2005/Atom"
             xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
             xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
             xmlns:media="http://search.yahoo.com/mrss/"><channel><title>c</title>{items}</channel></rss>"#
    );
    let mut entries = parse(doc.as_bytes(), None, &base()).unwrap().entries;
    // Back from storage order (oldest first) to document order: every item
    // of these tests has a distinct <guid>.
    entries.sort_by_key(|e| doc.find(&format!(">{}</guid>", e.id)));
    entries
}

fn link(entry: &Entry) -> Option<&str> {
    entry.url.as_ref().map(Url::as_str)
}

fn date(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    Some(text.parse().unwrap())
}

#[test]
fn a_permalink_guid_is_the_link_when_there_is_none() {
    let entries = rss(r#"
        <item><guid>https://news.example/a</guid></item>
        <item><guid isPermaLink="true">https://news.example/b</guid></item>
        <item><guid isPermaLink="false">https://news.example/c</guid></item>
        <item><guid>12345</guid></item>
        <item><guid>https://news.example/guid</guid><link>https://news.example/link</link></item>"#);
    let links: Vec<Option<&str>> = entries.iter().map(link).collect();
    assert_eq!(
        links,
        [
            Some("https://news.example/a"),
            Some("https://news.example/b"),
            None,
            None,
            Some("https://news.example/link")
        ]
    );
}

#[test]
fn comments_and_enclosures_are_not_the_article() {
    let entries = rss(r#"
        <item><guid isPermaLink="false">1</guid><comments>https://news.example/1#comments</comments></item>
        <item><guid isPermaLink="false">2</guid><link>https://news.example/2</link>
          <comments>https://news.example/2/comments</comments></item>"#);
    assert_eq!(link(&entries[0]), None);
    assert_eq!(link(&entries[1]), Some("https://news.example/2"));

    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>f</title>
        <entry><id>urn:x:1</id><title>t</title><link rel="enclosure" href="https://news.example/a.mp3"/>
          <link rel="replies" href="https://news.example/c"/></entry></feed>"#;
    let feed = parse(atom.as_bytes(), None, &base()).unwrap();
    assert_eq!(link(&feed.entries[0]), None);
}

#[test]
fn atom_elements_inside_rss_are_read() {
    let entries = rss(r#"<item><guid isPermaLink="false">1</guid>
        <a10:link rel="self" href="https://news.example/self"/>
        <a10:link href="https://news.example/page"/>
        <a10:author><a10:name>John Doe</a10:name><a10:email>jd@news.example</a10:email></a10:author>
        <a10:updated>2024-03-01T10:00:00Z</a10:updated></item>"#);
    assert_eq!(link(&entries[0]), Some("https://news.example/page"));
    assert_eq!(entries[0].author.as_deref(), Some("John Doe"));
    assert_eq!(entries[0].updated, date("2024-03-01T10:00:00Z"));
}

#[test]
fn authors_by_name_by_address_and_from_other_elements() {
    let entries = rss(r#"
        <item><guid>https://news.example/1</guid><author>desk@news.example (Angela Leucci)</author></item>
        <item><guid>https://news.example/2</guid><author>desk@news.example</author></item>
        <item><guid>https://news.example/3</guid><itunes:author>The Show</itunes:author></item>
        <item><guid>https://news.example/4</guid><author><name>Diane</name><title>PM</title></author></item>
        <item><guid>https://news.example/5</guid><dc:creator>Ann</dc:creator><itunes:author>Show</itunes:author></item>"#);
    let authors: Vec<Option<&str>> = entries.iter().map(|e| e.author.as_deref()).collect();
    assert_eq!(
        authors,
        [
            Some("Angela Leucci"),
            Some("desk@news.example"),
            Some("The Show"),
            Some("Diane"),
            Some("Ann")
        ]
    );
}

#[test]
fn pub_date_wins_over_dc_date_and_updated_is_only_a_modification() {
    let entries = rss(r#"
        <item><guid>https://news.example/1</guid><pubDate>Mon, 16 Oct 2017 15:10:00 +0000</pubDate>
          <dc:date>1518478934</dc:date></item>
        <item><guid>https://news.example/2</guid><dc:date>2002-09-28T20:01:19Z</dc:date></item>
        <item><guid>https://news.example/3</guid>
          <dcterms:modified>2002-09-29T20:01:19Z</dcterms:modified></item>"#);
    assert_eq!(entries[0].published, date("2017-10-16T15:10:00Z"));
    assert_eq!(entries[0].updated, None, "unknown stays unknown");
    assert_eq!(entries[1].published, date("2002-09-28T20:01:19Z"));
    assert_eq!(entries[1].updated, None);
    assert_eq!(entries[2].published, None);
    assert_eq!(entries[2].updated, date("2002-09-29T20:01:19Z"));
}

#[test]
fn titles_are_plain_text_however_they_are_written() {
    let entries = rss(r#"
        <item><guid>https://news.example/1</guid><title><![CDATA[<b>Bold</b> &amp; brave]]></title></item>
        <item><guid>https://news.example/2</guid><title>Fish &amp; chips &lt;cheap&gt; &lt; 5 pounds</title></item>
        <item><guid>https://news.example/3</guid><media:title>From the media</media:title></item>"#);
    let titles: Vec<Option<&str>> = entries.iter().map(|e| e.title.as_deref()).collect();
    assert_eq!(
        titles,
        [
            Some("Bold & brave"),
            Some("Fish & chips <cheap> < 5 pounds"),
            Some("From the media")
        ]
    );

    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>f</title>
        <entry><id>urn:x:1</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">An <em>xhtml</em> title</div></title></entry></feed>"#;
    let feed = parse(atom.as_bytes(), None, &base()).unwrap();
    assert_eq!(feed.entries[0].title.as_deref(), Some("An xhtml title"));
}

#[test]
fn an_atom_id_that_is_a_web_address_is_the_link_of_an_entry_without_one() {
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>f</title>
        <entry><id>https://news.example/post</id><title>a</title><updated>2024-01-02T00:00:00Z</updated></entry>
        <entry><id>urn:uuid:1225c695</id><title>b</title><updated>2024-01-01T00:00:00Z</updated></entry></feed>"#;
    let feed = parse(atom.as_bytes(), None, &base()).unwrap();
    assert_eq!(link(&feed.entries[1]), Some("https://news.example/post"));
    assert_eq!(link(&feed.entries[0]), None);
}

#[test]
fn entries_that_are_anchors_of_one_page_share_it() {
    let entries = rss(r#"
        <item><guid isPermaLink="false">a</guid><link>https://news.example/day#a</link></item>
        <item><guid isPermaLink="false">b</guid><link>https://news.example/day#b</link></item>
        <item><guid isPermaLink="false">c</guid><link>https://news.example/other</link></item>"#);
    let shared: Vec<bool> = entries.iter().map(|e| e.shares_page).collect();
    assert_eq!(shared, [true, true, false]);
}

#[test]
fn a_feed_element_that_cannot_be_read_does_not_fail_the_feed() {
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>f</title>
        <subtitle type="application/octet-stream">RXhhbXBsZQ==</subtitle>
        <entry><id>urn:x:1</id><title>kept</title></entry></feed>"#;
    let feed = parse(atom.as_bytes(), None, &base()).unwrap();
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].title.as_deref(), Some("kept"));
}
