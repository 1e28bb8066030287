//! An article's metadata from what the page declares: JSON-LD, Open Graph
//! and other `<meta>` tags, `<link rel=canonical>`, `<time datetime>`,
//! `<html lang>`; without a declared date, the dateline a reader sees by the
//! headline and then the address's date ([`dates`]). A "© 2019" footer, a
//! comment's or a teaser's date is not a publication date.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use scraper::{Html, Selector};
use serde_json::Value;
use url::Url;

use super::{authors, dates};

/// What the page says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub canonical_url: Option<Url>,
    pub language: Option<String>,
    pub image: Option<Url>,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid built-in selector")
}

/// Reads the metadata of a parsed page. `url` resolves relative addresses.
pub fn read(doc: &Html, url: &Url) -> Metadata {
    static H1: LazyLock<Selector> = LazyLock::new(|| selector("h1"));
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("title"));
    static TIMES: LazyLock<Selector> = LazyLock::new(|| {
        selector("[itemprop=datePublished], time[pubdate], article time[datetime], time[datetime]")
    });
    static CANONICAL: LazyLock<Selector> = LazyLock::new(|| selector("link[rel=canonical]"));
    let ld = json_ld(doc);
    // The page's <meta> elements, found once for the dozen names asked.
    let metas = metas(doc);
    let meta = |names: &[&str]| meta_content(&metas, names);
    let absolute = |s: Option<String>| {
        s.and_then(|s| url.join(s.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    };

    let title = meta(&["og:title", "twitter:title"])
        .or_else(|| ld.iter().find_map(|v| text_field(v, "headline")))
        .or_else(|| first_text(doc, &H1))
        .or_else(|| first_text(doc, &TITLE));
    let declared = ld
        .iter()
        .find_map(|v| person_names(v.get("author")?))
        .or_else(|| {
            meta(&[
                "author",
                "article:author",
                "byl",
                "dc.creator",
                "parsely-author",
            ])
        });
    let sites = site_names(&metas, &ld);
    let author = authors::author(doc, declared, &sites);
    let title = title.map(|t| super::title::article_title(t, doc, &sites, url));
    let language = doc
        .root_element()
        .value()
        .attr("lang")
        .or_else(|| doc.root_element().value().attr("xml:lang"))
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .or_else(|| meta(&["content-language", "og:locale", "dc.language"]));
    let published = ld
        .iter()
        .find_map(|v| text_field(v, "datePublished"))
        .and_then(|d| publishers_day(&d))
        .or_else(|| {
            meta(&[
                "article:published_time",
                "article:published",
                "og:published_time",
                "published_time",
                "pubdate",
                "publishdate",
                "publish-date",
                "date",
                "dc.date",
                "dc.date.issued",
                "dcterms.created",
                "dcterms.date",
                "sailthru.date",
                "parsely-pub-date",
                "datepublished",
            ])
            .and_then(|d| publishers_day(&d))
        })
        .or_else(|| {
            doc.select(&TIMES).find_map(|e| {
                e.value()
                    .attr("datetime")
                    .or_else(|| e.value().attr("content"))
                    .and_then(publishers_day)
            })
        })
        // A timestamp a day off the address's date is the same moment seen
        // from another time zone: the address says the publisher's day.
        .map(|declared| match dates::in_url(url) {
            Some(day) if (declared.date_naive() - day).num_days().abs() <= 1 => {
                midnight(day).unwrap_or(declared)
            }
            _ => declared,
        })
        // What a reader sees: the dateline by the headline, then the address.
        .or_else(|| {
            let order = dates::Order::for_language(language.as_deref());
            dates::page::dateline(doc, title.as_deref(), order)
                .or_else(|| dates::in_url(url))
                .and_then(midnight)
        });
    let canonical_url = absolute(
        doc.select(&CANONICAL)
            .find_map(|e| e.value().attr("href").map(str::to_owned)),
    )
    .or_else(|| absolute(meta(&["og:url"])));
    let image = absolute(meta(&[
        "og:image",
        "og:image:url",
        "twitter:image",
        "twitter:image:src",
    ]))
    .or_else(|| absolute(ld.iter().find_map(|v| image_url(v.get("image")?))));
    Metadata {
        title,
        author,
        published,
        canonical_url,
        language,
        image,
    }
}

/// Names the site declares it goes by (its own, its publisher's), which
/// are never its articles' author.
fn site_names(metas: &[Meta<'_>], ld: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    names.extend(meta_content(metas, &["og:site_name"]));
    names.extend(meta_content(metas, &["application-name"]));
    for v in ld {
        names.extend(v.get("publisher").and_then(person_names));
        let is_site = matches!(
            v.get("@type").and_then(Value::as_str),
            Some("WebSite" | "Organization" | "NewsMediaOrganization")
        );
        if is_site {
            names.extend(text_field(v, "name"));
        }
    }
    names
}

/// A declared timestamp, as [`parse_date`] reads it, except that when the
/// publisher's own time zone (the offset it was written with) puts it on
/// another day than UTC does, the publisher's day is kept: "22:46 -03:00 on
/// 3 May" was published on 3 May for its readers, not on 4 May.
fn publishers_day(text: &str) -> Option<DateTime<Utc>> {
    let utc = parse_date(text)?;
    let text = text.trim();
    let local = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%z"))
        .ok()
        .map(|d| d.date_naive());
    match local {
        Some(day) if day != utc.date_naive() => midnight(day).or(Some(utc)),
        _ => Some(utc),
    }
}

fn midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    day.and_hms_opt(0, 0, 0).map(|d| d.and_utc())
}

/// A `<meta>` element as [`meta_content`] asks it: the words of its
/// `property`, `name`, `itemprop` and `http-equiv` (`itemprop` may list
/// several properties: "datePublished dateCreated"), and its `content`.
struct Meta<'a> {
    keys: Vec<&'a str>,
    content: &'a str,
}

/// The page's `<meta>` elements that have a content and a name, in
/// document order, their attributes read once for the dozen names asked.
fn metas(doc: &Html) -> Vec<Meta<'_>> {
    static META: LazyLock<Selector> = LazyLock::new(|| selector("meta"));
    doc.select(&META)
        .filter_map(|m| {
            let e = m.value();
            let keys: Vec<&str> = ["property", "name", "itemprop", "http-equiv"]
                .iter()
                .filter_map(|attribute| e.attr(attribute))
                .flat_map(str::split_whitespace)
                .collect();
            let content = e.attr("content")?;
            (!keys.is_empty()).then_some(Meta { keys, content })
        })
        .collect()
}

/// The content of the first of `metas` whose `property`, `name`, `itemprop` or
/// `http-equiv` is one of `names` (case-insensitive), in the order of `names`.
fn meta_content(metas: &[Meta<'_>], names: &[&str]) -> Option<String> {
    names.iter().find_map(|wanted| {
        metas
            .iter()
            .filter(|m| m.keys.iter().any(|key| key.eq_ignore_ascii_case(wanted)))
            .find_map(|m| clean(m.content))
    })
}

/// Whitespace collapsed; `None` when nothing is left.
fn clean(text: &str) -> Option<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn first_text(doc: &Html, selector: &Selector) -> Option<String> {
    doc.select(selector)
        .find_map(|e| clean(&e.text().collect::<String>()))
}

/// Every JSON-LD object of the page, `@graph` members included, articles first.
fn json_ld(doc: &Html) -> Vec<Value> {
    static LD: LazyLock<Selector> =
        LazyLock::new(|| selector(r#"script[type="application/ld+json"]"#));
    let mut objects = Vec::new();
    for script in doc.select(&LD) {
        let text: String = script.text().collect();
        let Ok(value) = serde_json::from_str::<Value>(text.trim()) else {
            continue;
        };
        flatten(value, &mut objects, 0);
    }
    objects.sort_by_key(|v| !is_article(v));
    objects
}

fn flatten(value: Value, out: &mut Vec<Value>, depth: usize) {
    if depth > 4 {
        return;
    }
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| flatten(v, out, depth + 1)),
        Value::Object(mut map) => {
            if let Some(graph) = map.remove("@graph") {
                flatten(graph, out, depth + 1);
            }
            out.push(Value::Object(map));
        }
        _ => {}
    }
}

fn is_article(value: &Value) -> bool {
    let is = |t: &str| t.ends_with("Article") || t == "BlogPosting" || t == "Report";
    match value.get("@type") {
        Some(Value::String(t)) => is(t),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).any(is),
        _ => false,
    }
}

fn text_field(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().and_then(clean)
}

/// `"Name"`, `{"name": …}` or a list of them, joined with "; ".
fn person_names(value: &Value) -> Option<String> {
    let names: Vec<String> = match value {
        Value::String(s) => clean(s).into_iter().collect(),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .and_then(clean)
            .into_iter()
            .collect(),
        Value::Array(items) => items.iter().filter_map(person_names).collect(),
        _ => Vec::new(),
    };
    (!names.is_empty()).then(|| names.join("; "))
}

fn image_url(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => clean(s),
        Value::Object(o) => o.get("url").and_then(Value::as_str).and_then(clean),
        Value::Array(items) => items.iter().find_map(image_url),
        _ => None,
    }
}

/// An RFC 3339 / ISO 8601 timestamp, an RFC 2822 one, or a bare date (taken
/// as midnight UTC). Years outside 1990–2100 are refused as typos.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%z"))
        .or_else(|_| DateTime::parse_from_rfc2822(text))
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|d| d.and_utc())
        })
        .or_else(|| {
            let day = text.get(..10)?;
            NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })?;
    let year = chrono::Datelike::year(&parsed);
    (1990..=2100).contains(&year).then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://site.example/news/story").unwrap()
    }

    #[test]
    fn a_copyright_year_is_not_a_publication_date() {
        let doc = Html::parse_document(
            "<html><body><article><p>Text.</p></article><footer>© 2019 Site</footer></body></html>",
        );
        assert_eq!(read(&doc, &url()).published, None);
    }

    #[test]
    fn dates_come_from_meta_then_time_elements() {
        let doc = Html::parse_document(
            r#"<html><head><meta property="article:published_time" content="2024-05-06T07:08:09Z"></head>
            <body><time datetime="2020-01-01">old</time></body></html>"#,
        );
        assert_eq!(
            read(&doc, &url()).published.unwrap().to_rfc3339(),
            "2024-05-06T07:08:09+00:00"
        );
        let doc = Html::parse_document(
            r#"<html><body><article><time datetime="2023-02-03T10:00:00+02:00">3 Feb</time></article></body></html>"#,
        );
        assert_eq!(
            read(&doc, &url()).published.unwrap().to_rfc3339(),
            "2023-02-03T08:00:00+00:00"
        );
    }

    #[test]
    fn a_timestamp_keeps_the_day_its_publisher_wrote_it_on() {
        let doc = Html::parse_document(
            r#"<html><head><meta property="article:published_time" content="2022-05-03T22:46:08-03:00"></head></html>"#,
        );
        assert_eq!(
            read(&doc, &url()).published.unwrap().to_rfc3339(),
            "2022-05-03T00:00:00+00:00"
        );
    }

    #[test]
    fn a_meta_tag_is_found_by_any_of_its_names() {
        let doc = Html::parse_document(
            r#"<html><head><meta property="article:modified" itemprop="dateModified" content="2019-11-20T00:00:00Z">
            <meta property="og:type" itemprop="datePublished dateCreated" content="2019-11-19T11:00:09.000Z"></head></html>"#,
        );
        assert_eq!(
            read(&doc, &url()).published.unwrap().to_rfc3339(),
            "2019-11-19T11:00:09+00:00"
        );
    }

    #[test]
    fn json_ld_graphs_and_author_lists_are_read() {
        let doc = Html::parse_document(
            r#"<html><head><script type="application/ld+json">{"@graph":[{"@type":"WebSite","name":"Site"},
              {"@type":["NewsArticle"],"headline":"H","datePublished":"2022-10-11",
               "author":[{"name":"A One"},{"name":"B Two"}],"image":{"url":"/i.jpg"}}]}</script></head></html>"#,
        );
        let meta = read(&doc, &url());
        assert_eq!(meta.author.as_deref(), Some("A One; B Two"));
        assert_eq!(meta.title.as_deref(), Some("H"));
        assert_eq!(
            meta.published.unwrap().to_rfc3339(),
            "2022-10-11T00:00:00+00:00"
        );
        assert_eq!(meta.image.unwrap().as_str(), "https://site.example/i.jpg");
    }

    #[test]
    fn broken_json_ld_and_odd_dates_are_ignored() {
        let doc = Html::parse_document(
            r#"<html><head><script type="application/ld+json">{"@type": </script>
            <meta name="date" content="0000-00-00"></head></html>"#,
        );
        assert_eq!(read(&doc, &url()), Metadata::default());
    }
}
