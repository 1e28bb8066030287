//! `gleaner import-opml`: add the feeds of an OPML subscription list.

use anyhow::Context;
use url::Url;

use super::outln;
use crate::subscribe::{self, ConfigFile, NewFeed};

pub(super) fn import_opml(path: &std::path::Path, opml: &std::path::Path) -> anyhow::Result<()> {
    let xml =
        std::fs::read_to_string(opml).with_context(|| format!("cannot read {}", opml.display()))?;
    let outlines = subscribe::parse_opml(opml, &xml)?;
    let mut file = ConfigFile::load(path)?;
    let config = file.config();
    let mut names: Vec<String> = config.feeds.iter().map(|f| f.name.clone()).collect();
    let mut urls: Vec<Url> = config.feeds.iter().map(|f| f.url.clone()).collect();
    let (mut added, mut known) = (0, 0);
    for outline in outlines {
        let url = match Url::parse(&outline.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            _ => {
                eprintln!("skipped {:?}: not an http(s) URL", outline.url);
                continue;
            }
        };
        if outline.is_page() {
            let url = crate::redact::url(&url);
            eprintln!(
                "skipped {url}: the list says it is a page read with rules (type {:?}), not a \
                 feed, and it does not carry the rules; add it with `gleaner add --scrape {url}`",
                outline.kind.as_deref().unwrap_or_default()
            );
            continue;
        }
        if urls.contains(&url) {
            known += 1;
            continue;
        }
        // The outline's title names the feed unless another feed has it.
        let name = outline.title.filter(|t| !names.contains(t));
        names.extend(name.clone());
        urls.push(url.clone());
        file.add(&NewFeed {
            url,
            name,
            tags: outline.tags,
        })?;
        added += 1;
    }
    if added > 0 {
        file.save()?;
    }
    outln!(
        "imported {} into {} ({known} already configured)",
        crate::plural::count(added, "feed", "feeds"),
        path.display()
    )?;
    if added > 0 {
        outln!(
            "a running daemon picks {} up within seconds (or on `systemctl reload gleaner`)",
            if added == 1 { "it" } else { "them" }
        )?;
    }
    Ok(())
}
