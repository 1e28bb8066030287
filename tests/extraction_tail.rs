//! What a page puts after the article's last paragraph, or above its
//! first, inside the same container: `gleaner extract` on a saved page, no
//! network.

mod common;

use common::extract_text;

/// A story in one container, `after` following its last paragraph there.
fn page(after: &str) -> String {
    page_around("", after)
}

/// A story in one container, `before` above its first paragraph and
/// `after` following its last.
fn page_around(before: &str, after: &str) -> String {
    let paragraphs: String = [
        "The harbour board voted on Tuesday to dredge the old channel, after a winter in which three ships ran aground near the pier.",
        "The work starts in May and lasts six weeks, during which the ferry leaves from the north quay, the board said in a statement.",
        "Fishermen, who had asked for the dredging for years, welcomed the vote, though some worry about the noise during the spawning season.",
        "The board will pay for most of the work from its reserves, and the region has promised to cover the rest by the end of the year.",
        "A second vote, on the new lighthouse, was put off until the autumn, when the engineers will have finished their survey of the rocks.",
        "Officials did not give any other details.",
    ]
    .iter()
    .map(|p| format!("<p>{p}</p>"))
    .collect();
    format!(
        "<html><head><title>Harbour</title></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/local\">Local</a></nav>\
         <div class=\"story\">{before}{paragraphs}{after}</div>\
         <footer><p>News of the coast, since 1901.</p></footer></body></html>"
    )
}

#[test]
fn the_short_lines_after_the_last_paragraph_go_and_a_closing_list_stays() {
    let text = extract_text(&page(
        "<p><strong>Press contact</strong></p><p>Jane Roe</p><p>+1 555 0100</p>\
         <p>Photo: J. Doe / Coast Agency</p>",
    ));
    assert!(text.contains("the rest by the end of the year."), "{text}");
    // A last paragraph of one short sentence is still prose.
    assert!(
        text.contains("Officials did not give any other details."),
        "{text}"
    );
    for tail in ["Press contact", "Jane Roe", "+1 555 0100", "Photo: J. Doe"] {
        assert!(!text.contains(tail), "{tail} in {text}");
    }
    // A list that closes the article is a structure it holds, kept.
    let text = extract_text(&page(
        "<ul><li>North quay</li><li>Old pier</li><li>Channel mouth</li></ul>",
    ));
    for item in ["North quay", "Old pier", "Channel mouth"] {
        assert!(text.contains(item), "{item} missing from {text}");
    }
}

#[test]
fn a_copyright_line_after_the_text_is_not_its_last_paragraph() {
    let text = extract_text(&page(
        "<p>Coast News, 12 Quay Street, Portsmouth | 555-0100 tel | 555-0101 fax</p>\
         <p>The contents of this site are \u{a9}2026 Coast News Publishing, a subsidiary of Harbour Media, Inc.</p>",
    ));
    assert!(
        text.contains("Officials did not give any other details."),
        "{text}"
    );
    for tail in ["12 Quay Street", "The contents of this site"] {
        assert!(!text.contains(tail), "{tail} in {text}");
    }
}

#[test]
fn the_byline_that_signs_the_article_stays_and_what_follows_it_goes() {
    for byline in ["Manar/Manal/ H. Said", "Reporting by Ann Lee and Tom Marsh"] {
        let text = extract_text(&page(&format!(
            "<p>{byline}</p><p>Follow us for more</p><p>Photo: J. Doe / Coast Agency</p>"
        )));
        assert!(text.contains(byline), "{byline} missing from {text}");
        for tail in ["Follow us for more", "Photo: J. Doe"] {
            assert!(!text.contains(tail), "{tail} in {text}");
        }
    }
}

#[test]
fn a_closing_box_named_for_the_author_or_a_pitch_goes_with_the_tail() {
    // The author's bio and the call to action read like prose; only the
    // names of their containers say they are not the article.
    for closing in [
        "<div class=\"author-box\"><p>Jane Roe has covered the coast for twenty years and writes about fisheries and ferries.</p></div>",
        "<section class=\"c-letters-cta\"><p>We want to hear what you think about this article. Send a letter to the editor.</p></section>",
        "<div class=\"autorenbox\"><p>Jana Rohe schreibt seit zwanzig Jahren über die Küste, die Fischerei und die Fähren.</p></div>",
    ] {
        let text = extract_text(&page(&format!(
            "{closing}<p>Photo: J. Doe / Coast Agency</p>"
        )));
        assert!(
            text.contains("Officials did not give any other details."),
            "{text}"
        );
        for tail in [
            "twenty years",
            "letter to the editor",
            "zwanzig Jahren",
            "Photo: J. Doe",
        ] {
            assert!(!text.contains(tail), "{tail} in {text}");
        }
    }
    // The article's own short lines before the box are not the box's.
    let text = extract_text(&page(
        "<p>See the <a href=\"/ferry\">ferry timetable for the summer</a></p>\
         <div class=\"author-box\"><p>Jane Roe has covered the coast for twenty years and writes about fisheries and ferries.</p></div>",
    ));
    assert!(text.contains("ferry timetable for the summer"), "{text}");
    assert!(!text.contains("twenty years"), "{text}");
    // A section whose id is its heading's slug is named by its words, not
    // by the site's stylesheet: its paragraph is the article's.
    let text = extract_text(&page(
        "<section id=\"what-we-know-about-the-old-channel-so-far\"><p>The channel was last dredged in 1987, when the pier was built.</p></section>",
    ));
    assert!(text.contains("last dredged in 1987"), "{text}");
}

#[test]
fn a_portrait_set_apart_under_the_text_goes_and_one_in_the_text_stays() {
    // A company's or an author's portrait after a rule, in a box of its
    // own, or wholly in italics: it reads like prose, but it is no part of
    // the article.
    for closing in [
        "<hr><p>Coast Media is a regional publisher of newspapers and radio stations, headquartered in Portsmouth.</p>",
        "<div class=\"box\"><p>Jane Roe (jane@coast.example) is the harbour reporter of Coast News and writes about fisheries.</p></div>",
        "<p><em>Jana Rohe ist eine Journalistin aus Portsmouth, die seit zwanzig Jahren über die Küste schreibt.</em></p>",
        "<hr><p>Jeanne Roux est une journaliste de Portsmouth qui écrit sur la côte depuis vingt ans.</p>",
    ] {
        let text = extract_text(&page(closing));
        assert!(
            text.contains("Officials did not give any other details."),
            "{text}"
        );
        for portrait in ["Coast Media is", "Jane Roe", "Jana Rohe", "Jeanne Roux"] {
            assert!(!text.contains(portrait), "{portrait} in {text}");
        }
    }
    // The same sentence as the article's own last paragraph, in the run of
    // its text, is the article's.
    let text = extract_text(&page(
        "<p>Coast Media is a regional publisher that bought the pier's old warehouse last year, the board said.</p>",
    ));
    assert!(
        text.contains("Coast Media is a regional publisher"),
        "{text}"
    );
}

#[test]
fn a_call_to_subscribe_or_follow_under_the_text_goes() {
    // It ends a sentence and reads like prose, in the story's own container.
    for call in [
        "<p>Follow @CoastNews on Twitter and Instagram, and send us your news on WhatsApp at any time of the day.</p>",
        "<p>¿Ya sabías que tenemos canal de Telegram? Únete desde tu celular en este enlace de invitación.</p>",
        "<p>Ihnen hat der Artikel gefallen? Dann abonnieren Sie unseren Newsletter und verpassen Sie nichts mehr.</p>",
    ] {
        let text = extract_text(&page(call));
        assert!(
            text.contains("Officials did not give any other details."),
            "{text}"
        );
        for words in ["@CoastNews", "Telegram", "Newsletter"] {
            assert!(!text.contains(words), "{words} in {text}");
        }
    }
    // The same words inside the story stay: only the text's end is asked.
    let text = extract_text(&page(
        "<p>Follow @CoastNews on Twitter, the mayor told the fishermen, and the board will tell you when the work starts.</p>\
         <p>The dredging itself will take six weeks, and the ferry will leave from the north quay until it is done.</p>",
    ));
    assert!(
        text.contains("Follow @CoastNews on Twitter, the mayor"),
        "{text}"
    );
}

#[test]
fn a_dateline_above_the_first_paragraph_goes_and_a_dated_sentence_stays() {
    for line in [
        "By Jane Roe - 11/18/26 11:04 PM EST",
        "Posted: Fri 6:45 PM, Feb 16, 2026 | Updated: Sat 8:31",
        "segunda-feira, 22 de janeiro de 2026 às 0:13",
        "Von Hans Meier | 16. Oktober 2025",
        "By Staff | November 18, 2025 at 2:26 PM HST - Updated November 18 at 4:46 PM",
        "PTI, Washington, Nov 20 2025, 10:18am IST",
    ] {
        let text = extract_text(&page_around(&format!("<p>{line}</p>"), ""));
        assert!(text.contains("The harbour board voted"), "{text}");
        assert!(!text.contains(line), "{line} in {text}");
    }
    // A sentence with a date in it is the article's, and so is a line of
    // a list above the text (a timetable, a calendar).
    for kept in [
        "<p>On 16 May 2026 it rained.</p>",
        "<ul><li>Monday 16 May 2026, 10:00</li><li>Tuesday 17 May 2026</li></ul>",
    ] {
        let text = extract_text(&page_around(kept, ""));
        assert!(text.contains("16 May 2026"), "{kept} missing from {text}");
    }
}

#[test]
fn a_loose_line_after_the_last_paragraph_goes_and_loose_sections_keep_their_headings() {
    // A link and a label standing in the story's container beside its
    // paragraphs, in no block of their own.
    for (after, words) in [
        (
            "<a href=\"/press\">Back to the list</a>",
            "Back to the list",
        ),
        ("<span>Tags</span> harbour, ferry", "harbour, ferry"),
    ] {
        let text = extract_text(&page(after));
        assert!(
            text.contains("Officials did not give any other details."),
            "{text}"
        );
        assert!(!text.contains(words), "{words} in {text}");
    }
    // Sections whose text stands loose between their headings: the
    // headings are the article's, not short lines after its text.
    let sections: String = [
        ("The vote", "The harbour board voted on Tuesday to dredge the old channel, after a winter in which three ships ran aground near the pier."),
        ("The works", "The work starts in May and lasts six weeks, during which the ferry leaves from the north quay, the board said in a statement."),
        ("The cost", "The board will pay for most of the work from its reserves, and the region has promised to cover the rest by the end of the year."),
        ("What comes next", "A second vote, on the new lighthouse, was put off until the autumn, when the engineers will have finished their survey."),
    ]
    .iter()
    .map(|(heading, text)| format!("<h2>{heading}</h2>{text}<br><br>"))
    .collect();
    let text = extract_text(&format!(
        "<html><head><title>Harbour</title></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/local\">Local</a></nav>\
         <div class=\"story\">{sections}</div></body></html>"
    ));
    for heading in ["The works", "The cost", "What comes next"] {
        assert!(text.contains(heading), "{heading} missing from {text}");
    }
    assert!(
        text.contains("survey of the rocks") || text.contains("their survey."),
        "{text}"
    );
}

#[test]
fn a_caption_named_by_its_class_goes_outside_a_figure_too() {
    let text = extract_text(&page_around(
        "<div class=\"image\"><img src=\"/channel.jpg\" alt=\"\">\
         <p class=\"wp-caption-text\">The old channel at low tide, seen from the north quay on a winter morning</p></div>",
        "<div class=\"photo-credit\">Coast Agency / J. Doe</div>",
    ));
    assert!(text.contains("The harbour board voted"), "{text}");
    for caption in ["The old channel at low tide", "Coast Agency"] {
        assert!(!text.contains(caption), "{caption} in {text}");
    }
    // A class that styles the captions inside a container (a utility
    // class), or a film's credits section, does not make it a caption.
    let story = page("").replace(
        "class=\"story\"",
        "class=\"story [&_figcaption]:mt-xs\" id=\"section_credits\"",
    );
    let text = extract_text(&story);
    assert!(text.contains("The harbour board voted"), "{text}");
    assert!(text.contains("survey of the rocks."), "{text}");
}
