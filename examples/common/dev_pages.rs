//! The pages of a DEV set of the extraction bench (`../shared/bench/…`), as
//! the examples read them: each page's id and address from the set's
//! answers (`ground-truth.json` or `expectations.json`), its HTML from
//! `html/ID.html.gz`.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use url::Url;

/// Each page's id and URL, in id order.
pub fn urls(dir: &Path) -> Result<Vec<(String, Url)>, String> {
    let path = ["ground-truth.json", "expectations.json"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .ok_or("neither ground-truth.json nor expectations.json")?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let entries: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut urls = entries
        .into_iter()
        .map(|(id, entry)| {
            // A page saved without its address is read as if at a placeholder.
            let url = entry["url"]
                .as_str()
                .and_then(|u| Url::parse(u).ok())
                .or_else(|| Url::parse(&format!("https://unknown.invalid/{id}")).ok())
                .ok_or_else(|| format!("{id}: no valid url"))?;
            Ok((id, url))
        })
        .collect::<Result<Vec<_>, String>>()?;
    urls.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(urls)
}

/// Page `id`'s HTML, unpacked.
pub fn html(dir: &Path, id: &str) -> Result<Vec<u8>, String> {
    let path = dir.join("html").join(format!("{id}.html.gz"));
    let mut html = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| flate2::read::GzDecoder::new(f).read_to_end(&mut html))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(html)
}
