//! Site rules in Full-Text RSS's format (the `fivefilters/ftr-site-config`
//! library, or one's own): one file per host, read from the folders of
//! `[extraction] site_config_dir`.
//!
//! Matching is Full-Text RSS's: for `www.news.example.com` the files tried are
//! `news.example.com.txt` (a leading `www.` is dropped), then the leading-dot
//! file of each parent domain, nearest first: `.example.com.txt` (a dot file
//! matches every subdomain, never the domain itself). The most specific file
//! that exists is the site's, and `global.txt` is added after it. A
//! file in a later folder replaces the file of the same name in an earlier
//! one, so a folder of one's own rules listed after the library overrides
//! single sites.

pub(crate) mod apply;
mod file;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use apply::PageLinks;
pub use file::{SiteConfig, Warning};

/// Every rule file of the configured folders, loaded and compiled.
#[derive(Debug, Default)]
pub struct SiteConfigs {
    /// By file name without `.txt`: `example.com`, `.example.com`.
    sites: HashMap<String, Arc<SiteConfig>>,
    global: Option<Arc<SiteConfig>>,
    /// The combined rules of a host, worked out once per host.
    combined: std::sync::Mutex<HashMap<String, Option<Arc<SiteConfig>>>>,
}

/// Why a folder of rules could not be read.
#[derive(Debug, thiserror::Error)]
#[error("site_config_dir {path}: {source} (check the path in [extraction] site_config_dir)")]
pub struct LoadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl SiteConfigs {
    /// Reads every `*.txt` of `dirs`, later folders overriding earlier ones.
    /// Rules that do not parse come back as warnings and are skipped; only a
    /// folder that cannot be listed is an error.
    pub fn load(dirs: &[PathBuf]) -> Result<(SiteConfigs, Vec<Warning>), LoadError> {
        let mut configs = SiteConfigs::default();
        let mut warnings = Vec::new();
        for dir in dirs {
            let error = |source| LoadError {
                path: dir.clone(),
                source,
            };
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(error)?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "txt") && p.is_file())
                .collect();
            paths.sort();
            for path in paths {
                let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let stem = stem.to_ascii_lowercase();
                // The library's own notes, not a host.
                if matches!(stem.as_str(), "license" | "readme") {
                    continue;
                }
                let text = match std::fs::read(&path) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(e) => {
                        warnings.push(Warning {
                            path: path.clone(),
                            line: 0,
                            message: format!("cannot read it: {e}"),
                        });
                        continue;
                    }
                };
                let (config, mut found) = SiteConfig::parse(&text, &path);
                warnings.append(&mut found);
                let config = Arc::new(config);
                if stem == "global" {
                    configs.global = Some(config);
                } else {
                    configs.sites.insert(stem, config);
                }
            }
        }
        Ok((configs, warnings))
    }

    /// Built from files already parsed (tests and benchmarks).
    pub fn from_files(files: impl IntoIterator<Item = (String, SiteConfig)>) -> SiteConfigs {
        let mut configs = SiteConfigs::default();
        for (name, config) in files {
            let name = name.trim_end_matches(".txt").to_ascii_lowercase();
            if name == "global" {
                configs.global = Some(Arc::new(config));
            } else {
                configs.sites.insert(name, Arc::new(config));
            }
        }
        configs
    }

    /// How many site files (not counting `global.txt`) are loaded.
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty() && self.global.is_none()
    }

    /// The file that is `host`'s own (not `global.txt`), and its name.
    pub fn site_file(&self, host: &str) -> Option<(&str, &SiteConfig)> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host);
        if let Some((name, config)) = self.sites.get_key_value(host) {
            return Some((name, config));
        }
        // `.example.com` for `news.example.com`, then `.com` is never a site.
        let mut rest = host;
        while let Some((_, parent)) = rest.split_once('.') {
            if !parent.contains('.') {
                break;
            }
            if let Some((name, config)) = self.sites.get_key_value(&format!(".{parent}")) {
                return Some((name, config));
            }
            rest = parent;
        }
        None
    }

    /// The rules for `host`: its own file's, then `global.txt`'s.
    pub fn for_host(&self, host: &str) -> Option<Arc<SiteConfig>> {
        let key = host.to_ascii_lowercase();
        let mut cache = self.combined.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = cache.get(&key) {
            return found.clone();
        }
        let combined = match (self.site_file(&key).map(|(_, c)| c), &self.global) {
            (None, None) => None,
            (None, Some(global)) => Some(global.clone()),
            (Some(site), global) => {
                let mut config = site.clone();
                if let Some(global) = global {
                    config.then(global);
                }
                Some(Arc::new(config))
            }
        };
        // Bounded: a daemon sees a few thousand hosts, not millions.
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(key, combined.clone());
        combined
    }
}

/// Loads `dirs` for a command that needs the rules: warnings are logged.
pub fn load_logged(dirs: &[PathBuf]) -> Result<Option<Arc<SiteConfigs>>, LoadError> {
    if dirs.is_empty() {
        return Ok(None);
    }
    let (configs, warnings) = SiteConfigs::load(dirs)?;
    for warning in &warnings {
        tracing::debug!("{warning}; the rule is skipped");
    }
    if !warnings.is_empty() {
        tracing::info!(
            skipped = warnings.len(),
            "some site rules do not parse and are skipped (`gleaner check-config` lists them)"
        );
    }
    Ok(Some(Arc::new(configs)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn library() -> SiteConfigs {
        let file =
            |title: &str| SiteConfig::parse(&format!("title: //{title}"), Path::new("t.txt")).0;
        SiteConfigs::from_files([
            ("example.com.txt".to_owned(), file("exact")),
            (".example.com.txt".to_owned(), file("dot")),
            ("sport.example.com.txt".to_owned(), file("sport")),
            (".deep.other.org".to_owned(), file("deep")),
            ("global.txt".to_owned(), file("global")),
        ])
    }

    fn titles(configs: &SiteConfigs, host: &str) -> Vec<String> {
        configs
            .for_host(host)
            .map(|c| c.title.iter().map(|x| x.as_str().to_owned()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn hosts_match_as_full_text_rss_matches_them() {
        let configs = library();
        assert_eq!(titles(&configs, "example.com"), ["//exact", "//global"]);
        assert_eq!(titles(&configs, "www.example.com"), ["//exact", "//global"]);
        assert_eq!(titles(&configs, "news.example.com"), ["//dot", "//global"]);
        assert_eq!(titles(&configs, "a.b.example.com"), ["//dot", "//global"]);
        assert_eq!(
            titles(&configs, "sport.example.com"),
            ["//sport", "//global"]
        );
        assert_eq!(titles(&configs, "x.deep.other.org"), ["//deep", "//global"]);
        assert_eq!(titles(&configs, "deep.other.org"), ["//global"]);
        assert_eq!(titles(&configs, "unknown.net"), ["//global"]);
    }

    #[test]
    fn a_later_folder_overrides_a_site_and_broken_rules_are_skipped() {
        let root = tempfile::tempdir().unwrap();
        let (library, own) = (root.path().join("library"), root.path().join("own"));
        std::fs::create_dir_all(&library).unwrap();
        std::fs::create_dir_all(&own).unwrap();
        std::fs::write(library.join("a.example.txt"), "body: //article\n").unwrap();
        std::fs::write(
            library.join("b.example.txt"),
            "body: //main\nstrip: //div[\n",
        )
        .unwrap();
        std::fs::write(own.join("a.example.txt"), "body: //div[@id='mine']\n").unwrap();
        let (configs, warnings) = SiteConfigs::load(&[library.clone(), own]).unwrap();
        assert_eq!(configs.len(), 2);
        let body = |host: &str| configs.for_host(host).unwrap().body[0].as_str().to_owned();
        assert_eq!(body("a.example"), "//div[@id='mine']");
        assert_eq!(body("b.example"), "//main");
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, 2);
        assert!(warnings[0].to_string().starts_with(&format!(
            "{}:2: strip: invalid XPath",
            library.join("b.example.txt").display()
        )));
        assert!(SiteConfigs::load(&[root.path().join("missing")]).is_err());
    }
}
