use super::*;
use scraper::Html;

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn day_first(text: &str) -> Option<NaiveDate> {
    find_in_text(text, Order::DayFirst)
}

#[test]
fn each_language_writes_the_same_day_its_own_way() {
    let day = date(2019, 10, 16);
    for text in [
        "October 16, 2019",
        "Oct. 16th, 2019",
        "Wednesday 16 October 2019",
        "16. Oktober 2019",
        "am 16.10.2019 um 10:15 Uhr",
        "16 octobre 2019",
        "16 de octubre de 2019",
        "16 ottobre 2019",
        "16 de outubro de 2019",
        "16 oktober 2019",
        "16 października 2019 r.",
        "16 oktober 2019 kl. 10.00",
        "16 октября 2019 г.",
        "16 Ekim 2019 Çarşamba",
        "16. lokakuuta 2019",
        "16. října 2019",
        "2019. október 16.",
        "2019-10-16T08:00:00",
        "2019/10/16",
        "16/10/2019",
        "16-Oct-2019",
        "2019年10月16日",
        "2019년 10월 16일",
    ] {
        assert_eq!(day_first(text), day, "{text}");
    }
}

#[test]
fn the_pages_language_decides_an_ambiguous_numeric_date() {
    assert_eq!(
        find_in_text("03/04/2019", Order::DayFirst),
        date(2019, 4, 3)
    );
    assert_eq!(
        find_in_text("03/04/2019", Order::MonthFirst),
        date(2019, 3, 4)
    );
    // A part above 12 can only be the day, whatever the language.
    assert_eq!(
        find_in_text("10/16/2019", Order::DayFirst),
        date(2019, 10, 16)
    );
    assert_eq!(Order::for_language(Some("en-US")), Order::MonthFirst);
    assert_eq!(Order::for_language(Some("en_GB")), Order::DayFirst);
    assert_eq!(Order::for_language(Some("de")), Order::DayFirst);
    assert_eq!(Order::for_language(None), Order::DayFirst);
}

#[test]
fn what_is_not_a_date_gives_none() {
    for text in [
        "© 2019 Example Media",
        "Copyright 2005-2019",
        "Call 0211 16.10.2019123",
        "31 February 2019",
        "Version 16.10.2019.4",
        "October 2019",
        "vor 3 Tagen",
        "16 Monday 2019",
        "16.10.1899",
        "1 January 2999",
    ] {
        assert_eq!(day_first(text), None, "{text}");
    }
}

#[test]
fn the_published_date_comes_before_the_updated_one() {
    assert_eq!(
        day_first("Aktualisiert am 17.10.2019, veröffentlicht am 16.10.2019"),
        date(2019, 10, 16)
    );
    assert_eq!(
        day_first("Updated: Oct 20, 2019 | Originally posted October 16, 2019"),
        date(2019, 10, 16)
    );
    // Unmarked dates are taken over one marked as an update …
    assert_eq!(
        day_first("mis à jour le 20/10/2019 · 16/10/2019"),
        date(2019, 10, 16)
    );
    // … and an update alone is the only date the reader has.
    assert_eq!(day_first("Updated 20 Oct 2019"), date(2019, 10, 20));
}

#[test]
fn an_address_dates_its_page_only_with_a_day() {
    let url = |s: &str| Url::parse(s).unwrap();
    assert_eq!(
        in_url(&url("https://x.example/2019/10/16/title/")),
        date(2019, 10, 16)
    );
    assert_eq!(
        in_url(&url("https://x.example/news/2019-10-16-title")),
        date(2019, 10, 16)
    );
    assert_eq!(
        in_url(&url("https://x.example/a/20191016/title.html")),
        date(2019, 10, 16)
    );
    assert_eq!(in_url(&url("https://x.example/2019/10/title/")), None);
    assert_eq!(in_url(&url("https://x.example/item/12345678901")), None);
    assert_eq!(in_url(&url("https://x.example/2019/13/45/x")), None);
}

fn dateline_of(body: &str) -> Option<NaiveDate> {
    let html = format!("<html><head><title>The Story</title></head><body>{body}</body></html>");
    page::dateline(
        &Html::parse_document(&html),
        Some("The Story"),
        Order::DayFirst,
    )
}

#[test]
fn the_dateline_by_the_headline_is_read() {
    assert_eq!(
        dateline_of(
            "<nav><a>Home</a> 1 January 2019</nav><article><h1>The Story</h1>\
             <p class=\"byline\">By Ann Lee <span>16</span> <span>Oct</span> <span>2019</span></p>\
             <p>Text of the story, which mentions 3 May 2001.</p></article>"
        ),
        date(2019, 10, 16)
    );
    // Above the headline, as many news sites print it.
    assert_eq!(
        dateline_of("<article><p>Politik · 16.10.2019</p><h1>The Story</h1><p>Text.</p></article>"),
        date(2019, 10, 16)
    );
    // A date element anywhere near wins over a date in the text.
    assert_eq!(
        dateline_of(
            "<h1>The Story</h1><p>On 2 March 2018 it began.</p>\
             <div class=\"entry-meta\">Posted on 16 October 2019</div>"
        ),
        date(2019, 10, 16)
    );
}

#[test]
fn comments_teasers_sidebars_and_footers_date_nothing() {
    assert_eq!(
        dateline_of(
            "<h1>The Story</h1><p>Text without a date.</p>\
             <div class=\"comments\"><p>Max, 17. Oktober 2019</p></div>\
             <aside><p>Older: 3 May 2018</p></aside>\
             <div class=\"related-posts\"><a>Other story</a> 12.10.2019</div>\
             <div class=\"teaser\"><a>More</a> <time>11.10.2019</time></div>\
             <footer>© 2019 Site · 01.01.2019</footer>"
        ),
        None
    );
}
