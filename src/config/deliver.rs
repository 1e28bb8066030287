//! `[[deliver]]` blocks: named consumers the daemon pushes new articles to,
//! by webhook or by running a command.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{FeedConfig, Positions, Problem, in_range};

/// One `[[deliver]]` block.
#[derive(Debug, Clone)]
pub struct DeliverConfig {
    /// The consumer whose cursor the deliveries move (unique; shared with
    /// `export --consumer` of the same name).
    pub name: String,
    pub target: DeliverTarget,
    /// At most this many articles per POST or run.
    pub batch: usize,
    /// How long one POST or run may take before it counts as failed.
    pub timeout: Duration,
    /// Only articles seen in these feeds (URLs); empty = all.
    pub feed_urls: Vec<String>,
    /// Only articles with one of these tags; empty = all.
    pub tags: Vec<String>,
}

/// Where a batch goes.
#[derive(Debug, Clone)]
pub enum DeliverTarget {
    /// POSTed as JSON; a 2xx answer takes it.
    Webhook { url: Url, secret: Option<Secret> },
    /// Run with the batch as JSON lines on stdin; exit 0 takes it.
    Exec {
        argv: Vec<String>,
        /// The daemon's variables the command gets besides the few every
        /// command gets (its environment is otherwise clean: the daemon's
        /// holds secrets such as `PGPASSWORD`).
        env_keep: Vec<String>,
    },
}

/// A webhook's signing key, never shown (its `Debug` prints `***`).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RawDeliver {
    name: Spanned<String>,
    webhook: Option<Spanned<String>>,
    exec: Option<Spanned<Vec<String>>>,
    env_keep: Option<Spanned<Vec<Spanned<String>>>>,
    secret: Option<Spanned<String>>,
    secret_file: Option<Spanned<String>>,
    batch: Option<Spanned<i64>>,
    timeout_secs: Option<Spanned<i64>>,
    #[serde(default)]
    feeds: Vec<Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
}

/// The keys of a `[[deliver]]` block.
pub(super) const KEYS: &[&str] = &[
    "name",
    "webhook",
    "exec",
    "env_keep",
    "secret",
    "secret_file",
    "batch",
    "timeout_secs",
    "feeds",
    "tags",
];

const BATCH: RangeInclusive<i64> = 1..=10_000;
const TIMEOUT_SECS: RangeInclusive<i64> = 1..=3_600;
const DEFAULT_BATCH: usize = 100;
const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// Checks every block; `feeds` are the checked feeds (a block's `feeds`
/// name them by name or URL).
pub(super) fn check(
    raw: Vec<RawDeliver>,
    feeds: &[FeedConfig],
    allow_private_networks: bool,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<DeliverConfig> {
    let mut names: Vec<(String, usize)> = Vec::new();
    let mut checked = Vec::with_capacity(raw.len());
    for block in raw {
        let name = block.name.get_ref().trim().to_owned();
        if name.is_empty() {
            problems.push(at.at(&block.name, "[[deliver]] name must not be empty"));
        } else if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
            problems.push(at.at(
                &block.name,
                format!(
                    "duplicate [[deliver]] name {name:?} (first used on line {}); each block is its own consumer",
                    at.problem(*first, "").line
                ),
            ));
        } else {
            names.push((name.clone(), block.name.span().start));
        }
        let label = format!("[[deliver]] {name:?}");
        let target = target(&block, &label, allow_private_networks, at, problems);
        let advice = "or leave it out for the default";
        let batch = in_range(&block.batch, &label, "batch", BATCH, advice, at, problems)
            .map_or(DEFAULT_BATCH, |b| b.unsigned_abs() as usize);
        let timeout_secs = in_range(
            &block.timeout_secs,
            &label,
            "timeout_secs",
            TIMEOUT_SECS,
            advice,
            at,
            problems,
        )
        .map_or(DEFAULT_TIMEOUT_SECS, i64::unsigned_abs);
        let mut feed_urls = Vec::new();
        for wanted in &block.feeds {
            let text = wanted.get_ref();
            match feeds
                .iter()
                .find(|f| f.name == *text || f.url.as_str() == text)
            {
                Some(feed) => feed_urls.push(feed.url.to_string()),
                None => problems.push(at.at(
                    wanted,
                    format!("{label}: no [[feeds]] block is named {text:?} or has that URL"),
                )),
            }
        }
        if let Some(target) = target {
            checked.push(DeliverConfig {
                name,
                target,
                batch,
                timeout: Duration::from_secs(timeout_secs),
                feed_urls,
                tags: block.tags,
            });
        }
    }
    checked
}

fn target(
    block: &RawDeliver,
    label: &str,
    allow_private_networks: bool,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> Option<DeliverTarget> {
    match (&block.webhook, &block.exec) {
        (Some(_), Some(exec)) => {
            problems.push(at.at(exec, format!("{label}: give `webhook` or `exec`, not both")));
            None
        }
        (None, None) => {
            problems.push(at.at(
                &block.name,
                format!("{label}: say where to deliver: `webhook = \"https://…\"` or `exec = [\"/path/to/command\", …]`"),
            ));
            None
        }
        (None, Some(exec)) => {
            if let Some(secret) = block.secret.as_ref().or(block.secret_file.as_ref()) {
                problems.push(at.at(
                    secret,
                    format!("{label}: a secret signs webhooks only; a command gets no signature"),
                ));
            }
            let env_keep = env_keep(block, label, at, problems);
            match exec.get_ref().first() {
                Some(program) if !program.trim().is_empty() => Some(DeliverTarget::Exec {
                    argv: exec.get_ref().clone(),
                    env_keep,
                }),
                _ => {
                    problems.push(at.at(
                        exec,
                        format!("{label}: `exec` needs the command's path as its first element"),
                    ));
                    None
                }
            }
        }
        (Some(webhook), None) => {
            let url = match Url::parse(webhook.get_ref().trim()) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                    // A name is resolved and checked at each delivery; an
                    // address written out can be refused now.
                    match crate::ssrf::check_literal(&url) {
                        Err(refused) if !allow_private_networks => {
                            problems.push(at.at(
                                webhook,
                                format!(
                                    "{label}: webhook {:?} is the non-public address {}, where \
                                     gleaner does not deliver unless [fetch] \
                                     allow_private_networks = true",
                                    webhook.get_ref(),
                                    refused.ip
                                ),
                            ));
                            None
                        }
                        _ => Some(url),
                    }
                }
                Ok(_) => {
                    problems.push(at.at(
                        webhook,
                        format!(
                            "{label}: webhook {:?} must be an http or https URL with a host",
                            webhook.get_ref()
                        ),
                    ));
                    None
                }
                Err(e) => {
                    problems.push(at.at(
                        webhook,
                        format!("{label}: invalid webhook URL {:?}: {e}", webhook.get_ref()),
                    ));
                    None
                }
            };
            if let Some(keep) = &block.env_keep {
                problems.push(at.at(
                    keep,
                    format!(
                        "{label}: env_keep is for a command's environment; a webhook runs none"
                    ),
                ));
            }
            let secret = secret(block, label, at, problems);
            url.map(|url| DeliverTarget::Webhook { url, secret })
        }
    }
}

/// The block's `env_keep`: names of variables, each checked.
fn env_keep(
    block: &RawDeliver,
    label: &str,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let mut names = Vec::new();
    for name in block.env_keep.iter().flat_map(|keep| keep.get_ref()) {
        let text = name.get_ref();
        let mut bytes = text.bytes();
        let valid = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            names.push(text.clone());
        } else {
            problems.push(at.at(
                name,
                format!(
                    "{label}: env_keep {text:?} is not a variable's name (letters, digits and _, \
                     not starting with a digit); write the names of the daemon's variables the \
                     command gets"
                ),
            ));
        }
    }
    names
}

/// The block's `secret`, or the first line of its `secret_file` (relative
/// to the config's folder).
fn secret(
    block: &RawDeliver,
    label: &str,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Secret> {
    let (text, place) = match (&block.secret, &block.secret_file) {
        (Some(_), Some(file)) => {
            problems.push(at.at(
                file,
                format!("{label}: give `secret` or `secret_file`, not both"),
            ));
            return None;
        }
        (Some(secret), None) => (secret.get_ref().clone(), secret),
        (None, Some(file)) => {
            let path = PathBuf::from(file.get_ref());
            let path = if path.is_absolute() {
                path
            } else {
                at.path.parent().unwrap_or(Path::new("")).join(path)
            };
            match std::fs::read_to_string(&path) {
                Ok(text) => (text.lines().next().unwrap_or("").to_owned(), file),
                Err(e) => {
                    problems.push(at.at(
                        file,
                        format!("{label}: cannot read secret_file {}: {e}", path.display()),
                    ));
                    return None;
                }
            }
        }
        (None, None) => return None,
    };
    if text.trim().is_empty() {
        problems.push(at.at(place, format!("{label}: the secret is empty")));
        return None;
    }
    Some(Secret(text.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    #[test]
    fn a_secret_file_beside_the_config_is_read_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hook.secret"), "k3y\n").unwrap();
        let text = "[[deliver]]\nname = \"hook\"\nwebhook = \"https://h.example/in\"\nsecret_file = \"hook.secret\"\n\
                    [[deliver]]\nname = \"cmd\"\nexec = [\"/bin/true\"]\nbatch = 5\ntimeout_secs = 9\n";
        let config = Config::from_str_at(text, &dir.path().join("g.toml")).unwrap();
        let DeliverTarget::Webhook { url, secret } = &config.deliver[0].target else {
            panic!("a webhook")
        };
        assert_eq!(url.as_str(), "https://h.example/in");
        let secret = secret.as_ref().unwrap();
        assert_eq!(secret.expose(), b"k3y");
        assert!(!format!("{:?}", config.deliver).contains("k3y"));
        assert_eq!(config.deliver[0].batch, DEFAULT_BATCH);
        let cmd = &config.deliver[1];
        assert_eq!((cmd.batch, cmd.timeout), (5, Duration::from_secs(9)));
        assert!(
            matches!(&cmd.target, DeliverTarget::Exec { argv, env_keep } if argv == &["/bin/true"] && env_keep.is_empty())
        );
    }

    #[test]
    fn a_block_needs_one_target_and_secrets_only_sign_webhooks() {
        let text = "[[deliver]]\nname = \"a\"\n\
                    [[deliver]]\nname = \"b\"\nwebhook = \"https://h.example/\"\nexec = [\"x\"]\n\
                    [[deliver]]\nname = \"c\"\nexec = [\"x\"]\nsecret = \"s\"\n";
        let Err(super::super::ConfigError::Invalid(problems)) =
            Config::from_str_at(text, Path::new("/g.toml"))
        else {
            panic!("invalid")
        };
        let found: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].0 == 2 && found[0].1.contains("say where to deliver"));
        assert!(found[1].0 == 6 && found[1].1.contains("not both"));
        assert!(found[2].0 == 10 && found[2].1.contains("signs webhooks only"));
    }
}
