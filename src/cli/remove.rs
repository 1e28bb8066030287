//! `gleaner remove`: unsubscribe, removing a feed's block from the config.

use super::{find_feed, outln};
use crate::redact;
use crate::subscribe::ConfigFile;

pub(super) fn remove(path: &std::path::Path, name_or_url: &str) -> anyhow::Result<()> {
    let mut file = ConfigFile::load(path)?;
    let feed = find_feed(file.config(), name_or_url)?.clone();
    if !file.remove(&feed.url)? {
        anyhow::bail!(
            "{} is not a [[feeds]] block of {}; edit it by hand",
            redact::url(&feed.url),
            path.display()
        );
    }
    file.save()?;
    outln!(
        "removed {} ({}) from {}; its articles stay in the database",
        feed.name,
        redact::url(&feed.url),
        path.display()
    )?;
    Ok(())
}
