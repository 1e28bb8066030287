//! A page that declares no date and no author still shows both to a reader:
//! `gleaner extract --format json` reports the dateline's date and the
//! byline's name, not the comment's, the teaser's or the site's.

mod common;

use common::extract_stdin;

fn extract_json(url: &str, page: &str) -> serde_json::Value {
    serde_json::from_str(&extract_stdin(&["--format", "json", "--url", url], page)).unwrap()
}

fn story() -> String {
    "<p>The council met on Tuesday to discuss the new bridge over the river, which \
     has been planned for many years and will finally be built next spring.</p>"
        .repeat(6)
}

#[test]
fn the_dateline_and_byline_a_reader_sees_are_reported() {
    let page = format!(
        "<html lang=\"de\"><head><title>Neue Brücke | Stadtblatt</title>\
         <meta property=\"og:site_name\" content=\"Stadtblatt\">\
         <meta name=\"author\" content=\"Stadtblatt\"></head><body>\
         <nav><a href=\"/\">Start</a> <span class=\"date\">Heute, 1. Januar 2020</span></nav>\
         <article><h1>Neue Brücke</h1>\
         <div class=\"article-meta\"><span class=\"author\">Von Erika Mustermann</span> \
         <span>16. Oktober 2019</span></div>{}</article>\
         <aside class=\"related\"><a href=\"/b\">Andere Nachricht</a> 12.10.2019</aside>\
         <div class=\"comments\"><span class=\"comment-author\">Max</span> 17.10.2019</div>\
         <footer>© 2019 Stadtblatt</footer></body></html>",
        story()
    );
    let article = extract_json("https://stadtblatt.example/lokales/neue-bruecke", &page);
    assert_eq!(article["published"], "2019-10-16T00:00:00Z", "{article:#}");
    assert_eq!(article["author"], "Erika Mustermann", "{article:#}");
}

#[test]
fn without_a_dateline_the_address_dates_the_page() {
    let page = format!(
        "<html><head><title>Bridge</title></head><body><article><h1>Bridge</h1>{}</article>\
         <footer>Copyright 2021</footer></body></html>",
        story()
    );
    let article = extract_json("https://blog.example/2019/10/16/bridge/", &page);
    assert_eq!(article["published"], "2019-10-16T00:00:00Z", "{article:#}");
    assert_eq!(article["author"], serde_json::Value::Null, "{article:#}");
}
