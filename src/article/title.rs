//! The article's own title out of the page's: "Headline - Site", "Site |
//! Headline" and "Section | Headline | Site" lose the parts that name the
//! site or its section, the way a reader names the article.
//!
//! When the page's `<h1>` is one part or a run of parts, that run is the
//! title; else a first or last part that is the site's declared name or
//! its host ("weinkenner.de", "Tegernseerstimme") goes. A title without
//! separators, or with no part to drop, is kept whole.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};
use url::Url;

/// The separators sites put between the headline and their name: a bar on
/// its own, or a dash, bullet, star, guillemet or colon between spaces.
static SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s+[-–—⋆•·»:|/]{1,2}\s+|\s*\|\s*").expect("a valid pattern"));

/// Letters and digits only, lower case: "Weinkenner.de" and "weinkenner de"
/// compare equal.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `title` without the parts that name the site (see the module doc).
/// `site_names` are the names the page declares for its site.
pub fn article_title(title: String, doc: &Html, site_names: &[String], url: &Url) -> String {
    // Byte ranges of the parts, in the title.
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for separator in SEPARATOR.find_iter(&title) {
        parts.push((start, separator.start()));
        start = separator.end();
    }
    parts.push((start, title.len()));
    parts.retain(|(a, b)| !title[*a..*b].trim().is_empty());
    if parts.len() < 2 {
        return title;
    }
    let run = |i: usize, j: usize| title[parts[i].0..parts[j].1].trim().to_owned();

    static H1: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("h1").expect("a valid selector"));
    let headings: Vec<String> = doc
        .select(&H1)
        .map(|h| squash(&h.text().collect::<String>()))
        .filter(|h| !h.is_empty())
        .collect();
    // The longest run of parts that is a heading, the whole title aside.
    for len in (1..parts.len()).rev() {
        for i in 0..=parts.len() - len {
            let text = run(i, i + len - 1);
            if headings.contains(&squash(&text)) {
                return text;
            }
        }
    }

    let host = url.host_str().unwrap_or("").trim_start_matches("www.");
    let host_name = squash(host.rsplit_once('.').map_or(host, |(name, _)| name));
    let host = squash(host);
    let sites: Vec<String> = site_names
        .iter()
        .map(|s| squash(s))
        .filter(|s| s.chars().count() >= 3)
        .collect();
    let names_the_site = |(a, b): (usize, usize)| {
        let part = squash(&title[a..b]);
        part.chars().count() >= 3
            && (sites
                .iter()
                .any(|s| s.contains(&part) || part.contains(s.as_str()))
                || (!host.is_empty() && host.contains(&part))
                || (host_name.len() >= 3 && part.contains(&host_name)))
    };
    let last = parts.len() - 1;
    if names_the_site(parts[last]) {
        run(0, last - 1)
    } else if names_the_site(parts[0]) {
        run(1, last)
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title(title: &str, body: &str, site: &[&str], url: &str) -> String {
        let doc = Html::parse_document(&format!("<html><body>{body}</body></html>"));
        let sites: Vec<String> = site.iter().map(|s| s.to_string()).collect();
        article_title(
            title.to_owned(),
            &doc,
            &sites,
            &Url::parse(url).expect("a test URL"),
        )
    }

    #[test]
    fn the_site_name_after_or_before_the_headline_goes() {
        let url = "https://www.weinkenner.de/a/1";
        assert_eq!(
            title(
                "St. Magdalener: Rotweine mit Eleganz | weinkenner.de",
                "",
                &[],
                url
            ),
            "St. Magdalener: Rotweine mit Eleganz"
        );
        assert_eq!(
            title(
                "Harper's Magazine - A Letter on Justice",
                "",
                &["Harper's Magazine"],
                url
            ),
            "A Letter on Justice"
        );
    }

    #[test]
    fn the_run_of_parts_that_is_the_pages_heading_is_the_title() {
        assert_eq!(
            title(
                "Durch die Gegend | Mit Musiker Voodoo Jürgens in Wien",
                "<h1>Mit Musiker Voodoo Jürgens in Wien</h1>",
                &[],
                "https://fluter.example/x"
            ),
            "Mit Musiker Voodoo Jürgens in Wien"
        );
        assert_eq!(
            title(
                "Parité en Tunisie : au-dessous de la moyenne | La Presse",
                "<h1>Parité en Tunisie : au-dessous de la moyenne</h1>",
                &[],
                "https://lapresse.example/x"
            ),
            "Parité en Tunisie : au-dessous de la moyenne"
        );
    }

    #[test]
    fn a_title_whose_parts_are_all_the_headline_stays_whole() {
        let url = "https://news.example/x";
        assert_eq!(
            title(
                "Cyber attacks: 20 percent - and rising",
                "",
                &["Other"],
                url
            ),
            "Cyber attacks: 20 percent - and rising"
        );
        assert_eq!(
            title("Plain headline", "", &["Plain"], url),
            "Plain headline"
        );
    }
}
