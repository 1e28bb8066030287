//! Tests of the dialect rewrites, one small document each.

use super::*;

#[test]
fn atom_03_becomes_atom_10() {
    let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><issued>2004-01-01T00:00:00Z</issued><atom:modified>x</atom:modified><content type="text/html" mode="escaped">&lt;b&gt;</content></entry></feed>"#;
    let fixed = map_atom03(doc).unwrap();
    assert!(fixed.contains(r#"xmlns="http://www.w3.org/2005/Atom""#));
    assert!(fixed.contains("<published>2004-01-01T00:00:00Z</published>"));
    assert!(fixed.contains("<atom:updated>x</atom:updated>"));
    assert!(fixed.contains(r#"<content type="text/html" mode="escaped">"#));
    assert_eq!(
        map_atom03("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>"),
        None
    );
}

#[test]
fn legacy_namespaces_are_mapped() {
    let doc = r#"<rdf:RDF xmlns="http://my.netscape.com/rdf/simple/0.9/" xmlns:dc='http://purl.org/dc/elements/1.0/'/>"#;
    assert_eq!(
        map_legacy_namespaces(doc).as_deref(),
        Some(
            r#"<rdf:RDF xmlns="http://purl.org/rss/1.0/" xmlns:dc='http://purl.org/dc/elements/1.1/'/>"#
        )
    );
    assert_eq!(map_legacy_namespaces("<rss version=\"2.0\"/>"), None);
}

#[test]
fn rss_version_is_added_or_normalized() {
    assert_eq!(
        normalize_rss_version("<?xml version='1.0'?><rss><channel/></rss>").as_deref(),
        Some("<?xml version='1.0'?><rss version=\"2.0\"><channel/></rss>")
    );
    assert_eq!(
        normalize_rss_version("<rss version='0.94' xmlns:a='b'>").as_deref(),
        Some("<rss version='2.0' xmlns:a='b'>")
    );
    assert_eq!(normalize_rss_version("<rss version=\"0.91\">"), None);
    assert_eq!(normalize_rss_version("<feed>"), None);
}

#[test]
fn channel_is_added_around_bare_items() {
    assert_eq!(
        add_missing_channel(r#"<rss version="2.0"><item><title>t</title></item></rss>"#).as_deref(),
        Some(r#"<rss version="2.0"><channel><item><title>t</title></item></channel></rss>"#)
    );
    assert_eq!(add_missing_channel("<rss><channel></channel></rss>"), None);
}

#[test]
fn cdf_becomes_rss() {
    let doc = "<!-- c --><CHANNEL HREF=\"http://x.example/\"><TITLE>t</TITLE><ITEM HREF=\"/1\" LASTMOD=\"2004-04-06T23:05:43-05:00\"><ABSTRACT>a</ABSTRACT></ITEM></CHANNEL>";
    assert_eq!(
        cdf_as_rss(doc).as_deref(),
        Some(
            "<!-- c --><rss version=\"2.0\"><channel><link>http://x.example/</link><title>t</title><item><link>/1</link><pubDate>2004-04-06T23:05:43-05:00</pubDate><description>a</description></item></channel></rss>"
        )
    );
    assert_eq!(cdf_as_rss("<rss><channel/></rss>"), None);
}

#[test]
fn rdf_items_move_into_the_channel_with_their_about_as_link() {
    let doc = r#"<rdf:RDF xmlns="http://purl.org/rss/1.0/"><channel rdf:about="c"><title>T</title></channel><item rdf:about="http://x.example/1"><title>a</title></item><item><link>http://x.example/2</link></item></rdf:RDF>"#;
    assert_eq!(
        rdf_as_rss2(doc).as_deref(),
        Some(
            r#"<rss version="2.0" xmlns="http://purl.org/rss/1.0/"><channel><title>T</title><item><link>http://x.example/1</link><title>a</title></item><item><link>http://x.example/2</link></item></channel></rss>"#
        )
    );
}

#[test]
fn atom_items_become_entries() {
    assert_eq!(
        atom_items_as_entries("<feed><item a='1'><title>t</title></item></feed>").as_deref(),
        Some("<feed><entry a='1'><title>t</title></entry></feed>")
    );
    assert_eq!(atom_items_as_entries("<feed><entry/></feed>"), None);
}

#[test]
fn text_types_become_atom_keywords_outside_other_namespaces() {
    assert_eq!(
        normalize_text_types(r#"<title type="">a</title><content type="application/xhtml+xml" mode="xml">b</content><media:title type="plain">c</media:title>"#).as_deref(),
        Some(r#"<title type="text">a</title><content type="xhtml">b</content><media:title type="plain">c</media:title>"#)
    );
}
