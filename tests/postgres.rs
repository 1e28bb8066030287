//! What only a PostgreSQL database has: its URL and password in the config,
//! migrations under a lock when instances start together, and several
//! instances polling the same feeds into one database with dedup and
//! exactly-once export across them. (The storage suites run against
//! PostgreSQL as a whole with `GLEANER_TEST_BACKEND=postgres`: see
//! tests/common/postgres.rs.) Each test is skipped, loudly, without a
//! server outside CI.

mod common;

use std::collections::HashMap;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use common::pages::{article_page, rss_of_pages, story};
use common::postgres::{TestDatabase, server, tls_ca};
use common::{Gleaner, Route, TestServer, feed_block};

/// A set-up on a fresh PostgreSQL database, or `None` to skip.
fn on_postgres(test: &str, feeds: &str) -> Option<Gleaner> {
    Some(Gleaner::with(Some(server_database(test)?), feeds))
}

fn database(gleaner: &Gleaner) -> &TestDatabase {
    gleaner.postgres.as_ref().expect("a PostgreSQL set-up")
}

/// `count` feeds on `server`, feed `i` listing pages `p0`…`p{entries}` of
/// which the first half are shared by every feed (the same articles under
/// other feeds: dedup across feeds and instances).
fn shared_feeds(server: &TestServer, count: usize, entries: usize) -> String {
    let mut blocks = String::new();
    for feed in 0..count {
        let ids: Vec<String> = (0..entries)
            .map(|e| {
                if e < entries / 2 {
                    format!("shared-{e}")
                } else {
                    format!("f{feed}-{e}")
                }
            })
            .collect();
        for id in &ids {
            server.set(
                &format!("/{id}"),
                Route::html(article_page(id, &story(id), "")),
            );
        }
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let path = format!("/feed-{feed}.xml");
        server.set(&path, Route::rss(rss_of_pages(|p| server.url(p), &refs)));
        blocks.push_str(&feed_block(&format!("f{feed}"), &server.url(&path), ""));
    }
    blocks
}

fn spawn(gleaner: &Gleaner, args: &[&str]) -> Child {
    gleaner
        .command()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn finished_ok(child: Child) -> Output {
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn the_password_comes_from_a_file_or_pgpassword_and_is_never_shown() {
    let server = TestServer::start();
    let feeds = shared_feeds(&server, 1, 2);
    let Some(gleaner) = on_postgres("password sources", &feeds) else {
        return;
    };
    let (url, password) = database(&gleaner).url_and_password();
    assert!(
        !password.is_empty(),
        "the test server's role has a password"
    );
    let storage = |lines: &str| {
        gleaner.edit_config(
            &format!("database = \"{}\"", gleaner.database_setting()),
            lines,
        );
    };

    // From [storage] password_file (relative to the config's folder).
    std::fs::write(
        gleaner.dir.path().join("pg-password"),
        format!("{password}\n"),
    )
    .unwrap();
    storage(&format!(
        "database = \"{url}\"\npassword_file = \"pg-password\""
    ));
    let poll = gleaner.ok(&["--log-level", "debug", "poll"]);
    assert!(String::from_utf8_lossy(&poll.stdout).contains("2 new articles"));
    let mut shown = vec![String::from_utf8_lossy(&poll.stderr).into_owned()];

    // From PGPASSWORD.
    gleaner.edit_config("password_file = \"pg-password\"", "");
    let feeds = gleaner
        .command()
        .args(["feeds", "--json"])
        .env("PGPASSWORD", &password)
        .output()
        .unwrap();
    assert!(feeds.status.success(), "{feeds:?}");

    // A wrong password fails, naming the database but not the password.
    let wrong = gleaner
        .command()
        .args(["--log-level", "debug", "export"])
        .env("PGPASSWORD", "not-the-password")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong.stderr).into_owned();
    assert!(
        stderr.contains("cannot connect to the PostgreSQL database"),
        "{stderr}"
    );
    assert!(stderr.contains(url.host_str().unwrap()), "{stderr}");
    assert!(!stderr.contains("not-the-password"), "{stderr}");
    shown.push(stderr);
    shown.push(String::from_utf8_lossy(&feeds.stdout).into_owned());
    for text in &shown {
        assert!(!text.contains(&password), "the password is shown:\n{text}");
    }
}

#[test]
fn check_config_validates_the_url_without_connecting() {
    // Nothing listens on port 9 of loopback: a connection attempt would fail.
    let Some(gleaner) = on_postgres("check-config", "") else {
        return;
    };
    gleaner.edit_config(
        &gleaner.database_setting(),
        "postgres://reader:pw-42@127.0.0.1:9/news",
    );
    gleaner.ok(&["check-config"]);

    gleaner.edit_config(
        "postgres://reader:pw-42@127.0.0.1:9/news",
        "postgres://reader:pw-42@127.0.0.1:9/news?colour=blue",
    );
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = gleaner.config_path().display().to_string();
    assert!(
        stderr.contains(&format!(
            "{path}:2:12: [storage].database: postgres://***@127.0.0.1:9/news?colour=blue"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("pw-42"), "{stderr}");
}

#[test]
fn a_database_gleaner_never_set_up_is_refused_by_reading_commands() {
    let Some(gleaner) = on_postgres("unset database", "") else {
        return;
    };
    let output = gleaner.command().args(["feeds"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not exist yet"), "{stderr}");
    // ...and nothing was created by looking.
    let tables = database(&gleaner)
        .query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0]
        .get::<_, i64>(0);
    assert_eq!(tables, 0);
}

#[test]
fn instances_polling_together_migrate_once_and_store_each_article_once() {
    let server = TestServer::start();
    let feeds = shared_feeds(&server, 12, 6);
    let Some(gleaner) = on_postgres("instances together", &feeds) else {
        return;
    };
    // Four instances start at once on an empty database: the migrations
    // take turns under their lock, and the polls of the same feeds (same
    // entries, same shared pages) race on every article.
    let polls: Vec<Child> = (0..4).map(|_| spawn(&gleaner, &["poll"])).collect();
    for poll in polls {
        finished_ok(poll);
    }
    let version: i64 = database(&gleaner).query("SELECT version FROM gleaner_schema")[0].get(0);
    assert!(version >= 7, "{version}");

    // 3 shared articles + 12 feeds × 3 of their own, each stored once.
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 3 + 12 * 3);
    let mut ids: Vec<&str> = articles.iter().map(|a| a["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), articles.len());
    let shared = articles
        .iter()
        .find(|a| a["title"] == "shared-0")
        .expect("a shared article");
    assert_eq!(shared["sources"].as_array().unwrap().len(), 12);
}

#[test]
fn a_consumer_exporting_from_several_instances_gets_every_article_once() {
    let server = TestServer::start();
    let feeds = shared_feeds(&server, 8, 4);
    let Some(gleaner) = on_postgres("consumer across instances", &feeds) else {
        return;
    };
    // Two pollers and, meanwhile, exports of one consumer from two
    // "machines" at once (separate processes): together they must deliver
    // each stored article exactly once.
    // A first feed sets the database up (an export refuses a database
    // gleaner never set up, as it refuses a missing SQLite file).
    gleaner.ok(&["poll", "--feed", "f0"]);
    let pollers: Vec<Child> = (0..2).map(|_| spawn(&gleaner, &["poll"])).collect();
    let mut delivered: HashMap<String, usize> = HashMap::new();
    let mut exports = Vec::new();
    for _ in 0..6 {
        exports.push(spawn(
            &gleaner,
            &["export", "--consumer", "sink", "--format", "jsonl"],
        ));
        exports.push(spawn(
            &gleaner,
            &["export", "--consumer", "sink", "--format", "jsonl"],
        ));
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    for poller in pollers {
        finished_ok(poller);
    }
    exports.push(spawn(
        &gleaner,
        &["export", "--consumer", "sink", "--format", "jsonl"],
    ));
    for export in exports {
        let output = finished_ok(export);
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            let article: serde_json::Value = serde_json::from_str(line).unwrap();
            *delivered
                .entry(article["id"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    let stored = gleaner.export(&[]);
    assert_eq!(stored.len(), 2 + 8 * 2);
    assert_eq!(delivered.len(), stored.len(), "every article delivered");
    assert!(
        delivered.values().all(|&n| n == 1),
        "delivered more than once: {delivered:?}"
    );
}

#[test]
fn two_daemons_on_one_database_poll_each_feed_once_per_tick() {
    const FEEDS: usize = 10;
    let server = TestServer::start();
    let mut feeds = String::new();
    for i in 0..FEEDS {
        let path = format!("/tick-{i}.xml");
        // Each poll takes a while, so that two instances' polls of one
        // feed in one tick would overlap or follow each other closely.
        server.set(
            &path,
            Route::rss(rss_of_pages(|p| server.url(p), &["a", "b"]))
                .with_delay(std::time::Duration::from_millis(300)),
        );
        feeds.push_str(&feed_block(
            &format!("t{i}"),
            &server.url(&path),
            "schedule = \"*/3 * * * * *\"\nfull_text = false",
        ));
    }
    let Some(gleaner) = on_postgres("two daemons", &feeds) else {
        return;
    };
    gleaner.ok(&["check-config"]);
    let spawned = std::time::Instant::now();
    let mut daemons: Vec<Child> = (0..2).map(|_| gleaner.daemon()).collect();
    std::thread::sleep(std::time::Duration::from_millis(11_000));
    for daemon in &mut daemons {
        daemon.kill().unwrap();
        daemon.wait().unwrap();
    }

    // Past both start-up passes (which poll whatever nobody polled in the
    // last second), the ticks are 3 s apart and each is one poll, by one
    // instance: two polls of a feed closer than that are one tick twice.
    let settled = spawned + std::time::Duration::from_millis(3500);
    for i in 0..FEEDS {
        let mut starts: Vec<std::time::Instant> = server
            .requests(&format!("/tick-{i}.xml"))
            .iter()
            .map(|r| r.at)
            .filter(|&at| at > settled)
            .collect();
        starts.sort();
        assert!(starts.len() >= 2, "feed {i} polled {} times", starts.len());
        for pair in starts.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= std::time::Duration::from_millis(1500),
                "feed {i} was polled twice {gap:?} apart: two instances took one tick"
            );
        }
    }
    // Both stored into one database, each entry once.
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 2, "one link pair, shared by every feed");
}

#[test]
fn migrate_db_copies_everything_and_consumers_carry_on() {
    let server = TestServer::start();
    let feeds = shared_feeds(&server, 3, 4);
    let Some(postgres) = server_database("migrate-db") else {
        return;
    };
    let gleaner = Gleaner::with(None, &feeds);
    gleaner.poll();
    // A consumer that has had everything so far, one that has had nothing.
    let first = gleaner.export(&["--consumer", "early"]);
    assert_eq!(first.len(), 2 + 3 * 2);
    let on_sqlite = gleaner.export(&[]);
    let feeds_before = gleaner.feeds();

    let url = postgres.url().to_string();
    let copy = gleaner.ok(&["migrate-db", "--to", &url]);
    let stdout = String::from_utf8_lossy(&copy.stdout);
    assert!(stdout.contains("articles: 8 rows"), "{stdout}");
    assert!(stdout.contains("sources: 12 rows"), "{stdout}");
    assert!(
        !stdout.contains(postgres.url().password().unwrap()),
        "{stdout}"
    );
    // A second copy finds the first one complete.
    let again = gleaner.ok(&["migrate-db", "--to", &url]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("nothing changed since"),
        "{again:?}"
    );

    gleaner.edit_config("database = \"g.db\"", &format!("database = \"{url}\""));
    assert_eq!(gleaner.export(&[]), on_sqlite, "the same export from both");
    assert_eq!(gleaner.feeds(), feeds_before);
    assert!(gleaner.export(&["--consumer", "early"]).is_empty());
    assert_eq!(gleaner.export(&["--consumer", "late"]).len(), 8);

    // New articles continue after the copied ones.
    server.set(
        "/feed-0.xml",
        Route::rss(rss_of_pages(|p| server.url(p), &["shared-0", "fresh"])),
    );
    server.set(
        "/fresh",
        Route::html(article_page("fresh", &story("fresh"), "")),
    );
    gleaner.poll();
    let new = gleaner.export(&["--consumer", "early"]);
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["title"], "fresh");
}

#[test]
fn tls_is_verified_against_the_ca_file_and_a_server_that_requires_it_refuses_plain_text() {
    let Some(ca) = tls_ca("TLS") else {
        return;
    };
    let admin = server("TLS").expect("checked by tls_ca");
    {
        let mut client = ::postgres::Client::connect(admin.as_str(), ::postgres::NoTls).unwrap();
        for sql in [
            "DROP DATABASE IF EXISTS gleaner_tls WITH (FORCE)",
            "CREATE DATABASE gleaner_tls",
        ] {
            client.batch_execute(sql).unwrap();
        }
    }
    let password = admin.password().unwrap().to_owned();
    let mut plain = admin.clone();
    plain.set_path("/gleaner_tls");
    let mut tls = plain.clone();
    tls.set_query(Some("sslmode=require"));

    let site = TestServer::start();
    let feeds = shared_feeds(&site, 1, 2);
    let gleaner = Gleaner::with(None, &feeds);
    let storage = |lines: &str| {
        let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
        let start = config.find("database = ").unwrap();
        let end = start + config[start..].find("\n[fetch]").unwrap();
        let config = format!("{}{lines}{}", &config[..start], &config[end..]);
        std::fs::write(gleaner.config_path(), config).unwrap();
    };
    let failure = |args: &[&str]| {
        let output = gleaner.command().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_ne!(output.status.code(), Some(0), "{stderr}");
        assert!(
            !stderr.contains(&password),
            "the password is shown: {stderr}"
        );
        stderr
    };

    // Encrypted, the certificate checked against the cluster's CA.
    storage(&format!("database = \"{tls}\"\nca_file = \"{ca}\""));
    gleaner.ok(&["check-config"]);
    let poll = gleaner.ok(&["poll"]);
    assert!(String::from_utf8_lossy(&poll.stdout).contains("2 new articles"));
    assert_eq!(gleaner.export(&[]).len(), 2);

    // The same database in plain text is refused by the server: what
    // succeeded above was encrypted.
    storage(&format!("database = \"{plain}\""));
    let stderr = failure(&["feeds"]);
    assert!(
        stderr.contains("cannot connect to the PostgreSQL database"),
        "{stderr}"
    );

    // Encrypted without the CA: the system does not trust the throwaway
    // CA, so the certificate is refused.
    storage(&format!("database = \"{tls}\""));
    let stderr = failure(&["feeds"]);
    assert!(
        stderr.contains("cannot connect to the PostgreSQL database"),
        "{stderr}"
    );
    assert!(
        stderr.contains("certificate is refused") && stderr.contains("[storage] ca_file"),
        "{stderr}"
    );

    // A CA file for a connection that is not encrypted is a config error.
    storage(&format!("database = \"{plain}\"\nca_file = \"{ca}\""));
    let stderr = failure(&["check-config"]);
    assert!(
        stderr.contains(":3:11: [storage].ca_file:") && stderr.contains("sslmode=require"),
        "{stderr}"
    );
}

/// `count` feeds on one host, without full text: the only requests are
/// the feeds', each answered after `delay`.
fn feeds_of_one_host(server: &TestServer, count: usize, delay: Duration) -> String {
    let mut feeds = String::new();
    for i in 0..count {
        let path = format!("/host-{i}.xml");
        server.set(
            &path,
            Route::rss(rss_of_pages(|p| server.url(p), &[&format!("h{i}")])).with_delay(delay),
        );
        feeds.push_str(&feed_block(
            &format!("h{i}"),
            &server.url(&path),
            "full_text = false",
        ));
    }
    feeds
}

/// When each feed request reached the server, in order.
fn request_starts(server: &TestServer) -> Vec<Instant> {
    let mut starts: Vec<Instant> = server.all_requests().iter().map(|r| r.at).collect();
    starts.sort();
    starts
}

#[test]
fn two_instances_keep_the_per_host_interval_between_them() {
    const FEEDS: usize = 30;
    const INTERVAL: Duration = Duration::from_millis(600);
    let server = TestServer::start();
    let feeds = feeds_of_one_host(&server, FEEDS, Duration::ZERO);
    let Some(gleaner) = on_postgres("per-host interval across instances", &feeds) else {
        return;
    };
    gleaner.edit_config(
        "per_host_interval_ms = 0",
        &format!("per_host_interval_ms = {}", INTERVAL.as_millis()),
    );
    gleaner.ok(&["check-config"]);
    // Both instances poll every feed of the one host at once (each feed
    // once, by whichever claims it): alone, each would space only its own
    // requests, and the host would see the two streams interleaved.
    let polls: Vec<Child> = (0..2).map(|_| spawn(&gleaner, &["poll"])).collect();
    let mut per_instance = Vec::new();
    for poll in polls {
        let output = finished_ok(poll);
        per_instance.push(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    // The instances reserve starts the interval and a tenth of it apart
    // (fetch::shared::margin); what reaches the host also carries each
    // process's lateness in sending, which on a loaded machine (a test
    // run beside others on two cores) reached 200 ms: a third of the
    // interval absorbs it. Each instance on its own spacing interleaves
    // the two streams, so that every other gap is at most half the
    // interval and a tenth (132 ms apart in a run with the shared ledger
    // off, at 300 ms): under two thirds of it whatever their phase.
    let least = INTERVAL * 2 / 3;
    let starts = request_starts(&server);
    assert!(starts.len() >= FEEDS, "{} requests", starts.len());
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= least,
            "two requests to the host {gap:?} apart, under per_host_interval_ms: {per_instance:#?}"
        );
    }
    assert_eq!(gleaner.export(&[]).len(), FEEDS);
}

#[test]
fn two_instances_keep_per_host_concurrency_between_them() {
    const FEEDS: usize = 16;
    const SLOW: Duration = Duration::from_millis(400);
    let server = TestServer::start();
    let feeds = feeds_of_one_host(&server, FEEDS, SLOW);
    let Some(gleaner) = on_postgres("per-host concurrency across instances", &feeds) else {
        return;
    };
    gleaner.edit_config(
        "per_host_interval_ms = 0",
        "per_host_interval_ms = 0\nper_host_concurrency = 2\nconcurrency = 4",
    );
    // (Four feeds at a time per instance: neither claims every feed at once.)
    let polls: Vec<Child> = (0..2).map(|_| spawn(&gleaner, &["poll"])).collect();
    for poll in polls {
        finished_ok(poll);
    }
    // A request holds its slot until its answer, at least `SLOW` after it
    // arrived: with two slots among both instances, no three requests
    // arrive within less than that (four would, were each instance on its
    // own).
    let starts = request_starts(&server);
    assert!(starts.len() >= FEEDS, "{} requests", starts.len());
    let window = SLOW - Duration::from_millis(20);
    for (i, first) in starts.iter().enumerate() {
        let within = starts[i..]
            .iter()
            .take_while(|&&at| at - *first < window)
            .count();
        assert!(
            within <= 2,
            "{within} requests to the host within {window:?}: per_host_concurrency is 2"
        );
    }
    assert_eq!(gleaner.export(&[]).len(), FEEDS);
}

fn server_database(test: &str) -> Option<TestDatabase> {
    Some(TestDatabase::create(&server(test)?))
}
