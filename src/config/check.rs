//! The file's sections checked into the settings the rest of gleaner reads:
//! `[storage]`, `[fetch]`, `[schedule]`, `[extraction]`, `[metrics]` and
//! `[filter]`, each value in its range or a [`Problem`] at its position.
//! The feeds are checked in [`feeds`](super::feeds).

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use reqwest::header::USER_AGENT;
use toml::Spanned;

use super::proxy;
use super::{
    Config, DEFAULT_LEASE, DEFAULT_MAX_RETRY_AFTER, DEFAULT_PER_HOST_INTERVAL_MS, DEFAULT_SCHEDULE,
    DEFAULT_USER_AGENT, Database, ExtractionConfig, FeedDefaults, FeedRequest, FetchConfig,
    OneOrMany, Positions, Problem, RawConfig, RawExtraction, RawFetch, RawRequest, RawSchedule,
    ScheduleConfig, StorageConfig, check_feeds, database, deliver, request,
};
use crate::retention::Retention;
use crate::schedule::{AdaptiveBounds, FRESHNESS_CAP, FeedSchedule, parse_duration};

impl RawConfig {
    pub(super) fn check(self, at: &Positions<'_>) -> Result<Config, Vec<Problem>> {
        let mut problems = Vec::new();

        let relative = |raw: &str| {
            let raw = PathBuf::from(raw);
            if raw.is_absolute() {
                raw
            } else {
                at.path.parent().unwrap_or(Path::new("")).join(raw)
            }
        };
        let password_file = self.storage.password_file.as_ref();
        let database = match &self.storage.database {
            Some(url) if database::is_postgres_url(url.get_ref()) => {
                let file = password_file.map(|f| relative(f.get_ref()));
                match database::check_postgres_url(url.get_ref(), file) {
                    Ok(target) => match &self.storage.ca_file {
                        None => Database::Postgres(target),
                        Some(ca) => match target.with_ca_file(relative(ca.get_ref())) {
                            Ok(target) => Database::Postgres(target),
                            Err(message) => {
                                problems.push(at.at(ca, format!("[storage].ca_file: {message}")));
                                Database::Sqlite(PathBuf::new())
                            }
                        },
                    },
                    Err(message) => {
                        problems.push(at.at(url, format!("[storage].database: {message}")));
                        Database::Sqlite(PathBuf::new())
                    }
                }
            }
            Some(url) if database::unknown_scheme(url.get_ref()).is_some() => {
                let scheme = database::unknown_scheme(url.get_ref()).unwrap_or_default();
                problems.push(at.at(
                    url,
                    format!(
                        "[storage].database: {}",
                        database::unknown_scheme_message(scheme)
                    ),
                ));
                Database::Sqlite(PathBuf::new())
            }
            other => {
                let storage = &self.storage;
                for (place, key) in [
                    (password_file.map(|v| v.span()), "password_file"),
                    (storage.ca_file.as_ref().map(|v| v.span()), "ca_file"),
                    (storage.lease_secs.as_ref().map(|v| v.span()), "lease_secs"),
                ] {
                    if let Some(place) = place {
                        problems.push(at.problem(
                            place.start,
                            format!("[storage].{key} is only for a PostgreSQL database (a postgres:// URL in [storage].database): remove it"),
                        ));
                    }
                }
                Database::Sqlite(relative(
                    other
                        .as_ref()
                        .map(|d| d.get_ref().as_str())
                        .unwrap_or("gleaner.db"),
                ))
            }
        };
        let lease = in_range(
            &self.storage.lease_secs,
            "storage",
            "lease_secs",
            LEASE_SECS,
            "leave it out for 600",
            at,
            &mut problems,
        )
        .and_then(|secs| u64::try_from(secs).ok())
        .map_or(DEFAULT_LEASE, Duration::from_secs);
        // Its connections bound their waits by the lease (see `store::postgres`).
        let database = match database {
            Database::Postgres(target) => Database::Postgres(target.with_lease(lease)),
            sqlite => sqlite,
        };

        let mut kept = |value: &Option<Spanned<i64>>, key: &str, range| {
            let advice = "leave it out to keep everything";
            in_range(value, "storage", key, range, advice, at, &mut problems)
                .and_then(|v| u32::try_from(v).ok())
        };
        let retention = Retention {
            keep_days: kept(&self.storage.keep_days, "keep_days", KEEP_DAYS),
            max_articles_per_feed: kept(
                &self.storage.max_articles_per_feed,
                "max_articles_per_feed",
                MAX_ARTICLES_PER_FEED,
            ),
        };

        let fetch = self.fetch.check(at, &mut problems);
        let metrics_listen = self.metrics.listen.as_ref().and_then(|listen| {
            listen
                .get_ref()
                .trim()
                .parse()
                .map_err(|e| {
                    problems.push(at.at(
                        listen,
                        format!(
                            "[metrics].listen {:?}: {e} (write an address and port, e.g. \"127.0.0.1:9464\")",
                            listen.get_ref()
                        ),
                    ))
                })
                .ok()
        });

        let extraction = self.extraction.check(at, &mut problems);
        let dedup = self.dedup.check(at, &mut problems);

        let default_schedule = match &self.schedule.default {
            Some(s) => FeedSchedule::from_str(s.get_ref()).unwrap_or_else(|e| {
                problems.push(at.at(s, format!("[schedule].default: {e}")));
                fallback_schedule()
            }),
            None => fallback_schedule(),
        };
        let adaptive = self.schedule.adaptive_bounds(at, &mut problems);

        let global_filter = self.filter.check(at, &mut problems);
        let defaults = FeedDefaults {
            schedule: &default_schedule,
            request: &fetch.request,
            filter: &global_filter,
        };
        let feeds = check_feeds(self.feeds, &defaults, at, &mut problems);
        let deliver = deliver::check(
            self.deliver,
            &feeds,
            fetch.allow_private_networks,
            at,
            &mut problems,
        );

        if problems.is_empty() {
            Ok(Config {
                path: at.path.to_owned(),
                storage: StorageConfig {
                    database,
                    retention,
                    keep_html: self.storage.keep_html.unwrap_or(false),
                    lease,
                },
                fetch,
                schedule: ScheduleConfig {
                    default: default_schedule,
                    adaptive,
                },
                extraction,
                metrics_listen,
                feeds,
                deliver,
                dedup,
            })
        } else {
            problems.sort_by_key(|p| (p.line, p.column));
            Err(problems)
        }
    }
}

impl RawExtraction {
    fn check(self, at: &Positions<'_>, problems: &mut Vec<Problem>) -> ExtractionConfig {
        let Some(dirs) = self.site_config_dir else {
            return ExtractionConfig::default();
        };
        let list = match dirs.get_ref() {
            OneOrMany::One(dir) => vec![dir.clone()],
            OneOrMany::Many(list) => list.clone(),
        };
        let base = at.path.parent().unwrap_or(Path::new(""));
        let mut site_config_dirs = Vec::new();
        for dir in list {
            if dir.trim().is_empty() {
                problems.push(at.at(
                    &dirs,
                    "[extraction].site_config_dir: an empty path (write the folder of the site rules, e.g. \"/var/lib/gleaner/ftr-site-config\")",
                ));
                continue;
            }
            let path = base.join(&dir);
            if !path.is_dir() {
                problems.push(at.at(
                    &dirs,
                    format!(
                        "[extraction].site_config_dir: {} is not a folder (clone https://github.com/fivefilters/ftr-site-config there, or fix the path)",
                        path.display()
                    ),
                ));
                continue;
            }
            site_config_dirs.push(path);
        }
        ExtractionConfig { site_config_dirs }
    }
}

fn fallback_schedule() -> FeedSchedule {
    FeedSchedule::from_str(DEFAULT_SCHEDULE).expect("the built-in default schedule is valid")
}

impl RawSchedule {
    fn adaptive_bounds(&self, at: &Positions<'_>, problems: &mut Vec<Problem>) -> AdaptiveBounds {
        let defaults = AdaptiveBounds::default();
        let mut duration = |value: &Option<Spanned<String>>, key: &str, default| match value {
            Some(v) => match parse_duration(v.get_ref()) {
                Ok(d) if d.is_zero() => {
                    problems.push(at.at(v, format!("[schedule].{key} must be longer than zero")));
                    default
                }
                Ok(d) if d > FRESHNESS_CAP => {
                    problems.push(at.at(
                        v,
                        format!("[schedule].{key} must be at most 7d (use a cron schedule for rarer polls)"),
                    ));
                    default
                }
                Ok(d) => d,
                Err(e) => {
                    problems.push(at.at(v, format!("[schedule].{key}: {e}")));
                    default
                }
            },
            None => default,
        };
        let min = duration(&self.adaptive_min, "adaptive_min", defaults.min);
        let max = duration(&self.adaptive_max, "adaptive_max", defaults.max);
        if let (Some(v), true) = (&self.adaptive_max, max < min) {
            problems.push(at.at(
                v,
                "[schedule].adaptive_max must not be shorter than adaptive_min",
            ));
        }
        AdaptiveBounds { min, max }
    }
}

impl RawFetch {
    fn check(mut self, at: &Positions<'_>, problems: &mut Vec<Problem>) -> FetchConfig {
        let defaults = RawRequest {
            headers: self.headers.take(),
            cookies: self.cookies.take(),
            proxy: self.proxy.take(),
            ..RawRequest::default()
        };
        // Sent with every request: refused here, not by each poll.
        let user_agent = match self.user_agent.take() {
            Some(agent) => {
                match request::header_value(agent.get_ref(), "[fetch].user_agent", &USER_AGENT) {
                    Ok(_) => agent.into_inner(),
                    Err(problem) => {
                        problems.push(at.at(&agent, problem));
                        DEFAULT_USER_AGENT.to_owned()
                    }
                }
            }
            None => DEFAULT_USER_AGENT.to_owned(),
        };
        let request = request::check(
            &defaults,
            &FeedRequest::default(),
            "[fetch]",
            config_folder(at),
            at,
            problems,
        );
        let mut number = |value: &Option<Spanned<i64>>, key: &str, range, default: i64| {
            let advice = "or leave it out for the default";
            let checked = in_range(value, "fetch", key, range, advice, at, problems);
            // In range, hence non-negative.
            checked.map_or(default, |v| v).unsigned_abs()
        };
        let timeout_secs = number(&self.timeout_secs, "timeout_secs", TIMEOUT_SECS, 20);
        let max_feed_bytes = number(
            &self.max_feed_bytes,
            "max_feed_bytes",
            BODY_BYTES,
            5_000_000,
        );
        let max_article_bytes = number(
            &self.max_article_bytes,
            "max_article_bytes",
            BODY_BYTES,
            5_000_000,
        );
        let concurrency = number(&self.concurrency, "concurrency", CONCURRENCY, 16);
        let per_host_concurrency = number(
            &self.per_host_concurrency,
            "per_host_concurrency",
            PER_HOST_CONCURRENCY,
            2,
        );
        let per_host_interval_ms = number(
            &self.per_host_interval_ms,
            "per_host_interval_ms",
            PER_HOST_INTERVAL_MS,
            DEFAULT_PER_HOST_INTERVAL_MS as i64,
        );
        let max_retry_after = match &self.max_retry_after {
            Some(v) => match parse_duration(v.get_ref()) {
                Ok(d) if (MIN_RETRY_AFTER..=FRESHNESS_CAP).contains(&d) => d,
                Ok(_) => {
                    problems.push(at.at(v, "[fetch].max_retry_after must be between 1m and 7d"));
                    DEFAULT_MAX_RETRY_AFTER
                }
                Err(e) => {
                    problems.push(at.at(v, format!("[fetch].max_retry_after: {e}")));
                    DEFAULT_MAX_RETRY_AFTER
                }
            },
            None => DEFAULT_MAX_RETRY_AFTER,
        };
        FetchConfig {
            user_agent,
            timeout: Duration::from_secs(timeout_secs),
            max_feed_bytes,
            max_article_bytes,
            // Both at most a few thousand (checked above).
            concurrency: concurrency as usize,
            per_host_concurrency: per_host_concurrency as usize,
            per_host_interval: Duration::from_millis(per_host_interval_ms),
            allow_private_networks: self.allow_private_networks.unwrap_or(false),
            max_retry_after,
            request,
            env_proxies: proxy::EnvProxies::from_env(),
        }
    }
}

/// The folder relative paths of the config are read from.
pub(super) fn config_folder<'a>(at: &Positions<'a>) -> &'a Path {
    at.path.parent().unwrap_or(Path::new(""))
}

/// The ranges of the numeric keys. Wide enough for any real use, narrow
/// enough that nothing downstream overflows (dates a hundred years back,
/// semaphores, `concurrency + 2 × cores` pages in hand).
const KEEP_DAYS: RangeInclusive<i64> = 1..=36_500;
const MAX_ARTICLES_PER_FEED: RangeInclusive<i64> = 1..=100_000_000;
/// `[storage].lease_secs`: from a test's few seconds (the lease is renewed
/// every third of it, so it must outlast a few database round trips) to a day.
const LEASE_SECS: RangeInclusive<i64> = 2..=86_400;
const TIMEOUT_SECS: RangeInclusive<i64> = 1..=3_600;
const BODY_BYTES: RangeInclusive<i64> = 1..=1_000_000_000;
const CONCURRENCY: RangeInclusive<i64> = 1..=1_024;
const PER_HOST_CONCURRENCY: RangeInclusive<i64> = 1..=64;
const PER_HOST_INTERVAL_MS: RangeInclusive<i64> = 0..=3_600_000;
/// The shortest `[fetch] max_retry_after`.
const MIN_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The value of `[section].key` when it lies in `range`; else a problem at
/// the value (saying the range and `advice`) and `None`.
pub(super) fn in_range(
    value: &Option<Spanned<i64>>,
    section: &str,
    key: &str,
    range: RangeInclusive<i64>,
    advice: &str,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> Option<i64> {
    let value = value.as_ref()?;
    let number = *value.get_ref();
    if range.contains(&number) {
        return Some(number);
    }
    // A section's key (`[fetch].concurrency`), or a block's, whose label
    // says which of its kind (`[[deliver]] "hook": batch`).
    let place = match section.starts_with('[') {
        true => format!("{section}: {key}"),
        false => format!("[{section}].{key}"),
    };
    problems.push(at.at(
        value,
        format!(
            "{place} = {number} is out of range: write a number from {} to {} ({advice})",
            range.start(),
            range.end()
        ),
    ));
    None
}
