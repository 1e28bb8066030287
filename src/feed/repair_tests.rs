//! Tests of the lenient pre-pass, one small document per step.

use super::*;

#[test]
fn feed_is_cut_out_of_an_html_page() {
    let page = r#"<?xml version="1.0"?><html><body><feed xmlns="http://www.w3.org/2005/Atom"><entry/></feed></body></html>"#;
    assert_eq!(
        cut_out_feed(page).as_deref(),
        Some(r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry/></feed>"#)
    );
    assert_eq!(cut_out_feed("<rss><channel/></rss>"), None);
}

#[test]
fn control_characters_are_removed() {
    assert_eq!(
        strip_control_chars("<t>a\u{1}b\u{c}\tc\n</t>").as_deref(),
        Some("<t>ab\tc\n</t>")
    );
    assert_eq!(strip_control_chars("<t>fine</t>"), None);
}

#[test]
fn truncated_documents_are_closed() {
    assert_eq!(
        close_truncated("<rss><channel><item><title>a</title></item><item><ti").as_deref(),
        Some("<rss><channel><item><title>a</title></item></channel></rss>")
    );
    assert_eq!(
        close_truncated("<feed><title><![CDATA[half").as_deref(),
        Some("<feed><title><![CDATA[half]]></title></feed>")
    );
    assert_eq!(
        close_truncated("<feed><entry><content><![CDATA[half").as_deref(),
        Some("<feed><entry><content><![CDATA[half]]></content></entry></feed>")
    );
    assert_eq!(
        close_truncated("<feed><entry/><entry><id>1</id></entry><entry><content><![CDATA[half")
            .as_deref(),
        Some("<feed><entry/><entry><id>1</id></entry></feed>")
    );
    assert_eq!(close_truncated("<?xml version='1.0'?><a><b/></a>"), None);
}

#[test]
fn empty_text_constructs_are_dropped() {
    assert_eq!(
        drop_empty_text_elements(
            "<entry><title/><summary type=\"html\"> </summary><titles>x</titles></entry>"
        )
        .as_deref(),
        Some("<entry><titles>x</titles></entry>")
    );
    assert_eq!(drop_empty_text_elements("<title>t</title>"), None);
}

#[test]
fn unreadable_date_elements_are_dropped() {
    let doc =
        "<item><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate><dc:date>soon</dc:date></item>";
    assert_eq!(
        drop_elements_with_text(doc, &["soon".to_owned()]).as_deref(),
        Some("<item><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate></item>")
    );
}

#[test]
fn root_element_skips_prolog_and_doctype() {
    let doc =
        "<?xml version='1.0'?><!-- c --><!DOCTYPE rss [<!ENTITY a 'b'>]><rss version=\"2.0\">";
    let (start, name, end) = root_element(doc).unwrap();
    assert_eq!(name, "rss");
    assert_eq!(&doc[start..end], "<rss version=\"2.0\">");
}

#[test]
fn repair_xml_reports_each_step_once() {
    let doc = "<rss><item><title>Caf&eacute; & bar</title></item>";
    let (fixed, repairs) = repair_xml(doc);
    assert_eq!(
        fixed,
        "<rss version=\"2.0\"><channel><item><title>Caf\u{e9} &amp; bar</title></item></channel></rss>"
    );
    assert_eq!(
        repairs,
        [
            Repair::Truncated,
            Repair::RssVersion,
            Repair::MissingChannel,
            Repair::HtmlEntities,
            Repair::BareAmpersands
        ]
    );
}

#[test]
fn unclosed_elements_end_before_the_next_item_or_their_parent() {
    assert_eq!(
        balance_end_tags("<channel><cat text='a'><item>x</item></channel>").as_deref(),
        Some("<channel><cat text='a'></cat><item>x</item></channel>")
    );
    assert_eq!(
        balance_end_tags("<item><description>a<br>b</description></item></p>").as_deref(),
        Some("<item><description>a<br>b</br></description></item>")
    );
    assert_eq!(balance_end_tags("<a><b/><c>t</c></a>"), None);
}
