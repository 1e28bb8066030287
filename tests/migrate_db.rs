//! `gleaner migrate-db` run again: after SQLite changed (new articles, a
//! consumer's cursor, a purge, a feed's validators), after a copy killed
//! midway, and after a copy that finished. PostgreSQL must then answer as
//! SQLite does (`export`, `feeds --json`, consumers), or the copy refuses
//! and says why. Skipped, loudly, without a PostgreSQL server outside CI.

mod common;

use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::pages::{Item, article_page, rss, rss_of_pages, story};
use common::postgres::{TestDatabase, server};
use common::{Gleaner, Route, TestServer, feed_block};

/// Feed `a` lists article pages `ids` (fetched and kept: `keep_html`).
fn publish_pages(site: &TestServer, ids: &[&str]) {
    for id in ids {
        site.set(
            &format!("/{id}"),
            Route::html(article_page(id, &story(id), "")),
        );
    }
    site.set("/a.xml", Route::rss(rss_of_pages(|p| site.url(p), ids)));
}

/// Feed `b`: `count` items, served with `etag` (a 304 when it matches).
fn publish_b(site: &TestServer, count: usize, etag: &str) {
    let links: Vec<String> = (0..count)
        .map(|i| format!("https://b.example/{i}"))
        .collect();
    let items: Vec<Item<'_>> = links
        .iter()
        .map(|link| Item {
            guid: link,
            title: link,
            link,
            description: "A short item of feed b.",
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    site.set("/b.xml", Route::rss(rss("B", &items)).with_etag(etag));
}

fn feeds(site: &TestServer) -> String {
    format!(
        "{}{}",
        feed_block("a", &site.url("/a.xml"), ""),
        feed_block("b", &site.url("/b.xml"), "full_text = false")
    )
}

/// A SQLite set-up and a PostgreSQL one with the same feeds.
fn set_ups(site: &TestServer, postgres: TestDatabase) -> (Gleaner, Gleaner) {
    let sqlite = Gleaner::with(None, &feeds(site));
    sqlite.edit_config("[storage]\n", "[storage]\nkeep_html = true\n");
    let on_postgres = Gleaner::with(Some(postgres), &feeds(site));
    (sqlite, on_postgres)
}

fn url(on_postgres: &Gleaner) -> String {
    on_postgres.postgres.as_ref().unwrap().url().to_string()
}

fn migrate(sqlite: &Gleaner, on_postgres: &Gleaner) -> String {
    let output = sqlite.ok(&["migrate-db", "--to", &url(on_postgres)]);
    String::from_utf8(output.stdout).unwrap()
}

/// Consumers' cursors, by name.
type Cursors = Vec<(String, i64)>;

/// Every consumer's cursor as each database holds it.
fn cursors(sqlite: &Gleaner, on_postgres: &Gleaner) -> (Cursors, Cursors) {
    let mut on_sqlite: Vec<(String, i64)> = sqlite
        .db()
        .prepare("SELECT name, cursor_seq FROM consumers ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    on_sqlite.sort();
    let on_pg = on_postgres
        .postgres
        .as_ref()
        .unwrap()
        .query("SELECT name, cursor_seq FROM consumers ORDER BY name")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    (on_sqlite, on_pg)
}

/// PostgreSQL answers as SQLite does.
fn assert_same(sqlite: &Gleaner, on_postgres: &Gleaner, after: &str) {
    assert_eq!(
        on_postgres.export(&[]),
        sqlite.export(&[]),
        "export after {after}"
    );
    assert_eq!(on_postgres.feeds(), sqlite.feeds(), "feeds after {after}");
    let (on_sqlite, on_pg) = cursors(sqlite, on_postgres);
    assert_eq!(on_pg, on_sqlite, "cursors after {after}");
}

#[test]
fn migrate_db_run_again_brings_each_change_over_and_knows_a_finished_copy() {
    let Some(postgres) = server("migrate-db again") else {
        return;
    };
    let site = TestServer::start();
    publish_pages(&site, &["p0", "p1", "p2", "p3"]);
    publish_b(&site, 3, "\"v1\"");
    let (sqlite, on_postgres) = set_ups(&site, TestDatabase::create(&postgres));
    sqlite.poll();
    sqlite.export(&["--consumer", "c"]);
    let said = migrate(&sqlite, &on_postgres);
    assert!(said.contains("copied"), "{said}");
    assert_same(&sqlite, &on_postgres, "the first copy");
    let said = migrate(&sqlite, &on_postgres);
    assert!(said.contains("nothing changed since"), "{said}");

    // Each kind of change on SQLite, each followed by the copy again.
    let changes: [(&str, &dyn Fn()); 4] = [
        ("a poll with new articles", &|| {
            publish_pages(&site, &["p0", "p1", "p2", "p3", "p4", "p5"]);
            sqlite.poll();
        }),
        ("an export that moves a cursor", &|| {
            assert_eq!(sqlite.export(&["--consumer", "c"]).len(), 2);
            assert_eq!(sqlite.export(&["--consumer", "late"]).len(), 9);
        }),
        ("a purge", &|| {
            sqlite.edit_config("[storage]\n", "[storage]\nmax_articles_per_feed = 2\n");
            let said = String::from_utf8(sqlite.ok(&["gc"]).stdout).unwrap();
            assert!(said.contains("purged 5 articles"), "{said}");
        }),
        ("new validators of a feed", &|| {
            publish_b(&site, 3, "\"v2\"");
            sqlite.poll();
        }),
    ];
    for (change, apply) in changes {
        apply();
        let said = migrate(&sqlite, &on_postgres);
        assert!(
            said.contains("brought the copy") && said.contains("changed since the last copy"),
            "after {change}: {said}"
        );
        assert_same(&sqlite, &on_postgres, change);
        let said = migrate(&sqlite, &on_postgres);
        assert!(
            said.contains("nothing changed since"),
            "after {change}: {said}"
        );
    }

    // On PostgreSQL, consumers carry on where SQLite's were, and the feed is
    // asked with the validators SQLite had last.
    assert!(on_postgres.export(&["--consumer", "c"]).is_empty());
    let before = site.all_requests().len();
    on_postgres.poll();
    let asked_b: Vec<_> = site.all_requests()[before..]
        .iter()
        .filter(|r| r.path == "/b.xml")
        .map(|r| r.headers.get("if-none-match").cloned())
        .collect();
    assert_eq!(asked_b.len(), 1);
    assert_eq!(
        asked_b[0].as_ref().and_then(|v| v.to_str().ok()),
        Some("\"v2\"")
    );

    // PostgreSQL is in use now: a copy of a changed SQLite refuses to undo it.
    let kept = on_postgres.export(&[]);
    publish_b(&site, 4, "\"v3\"");
    sqlite.poll();
    let refused = sqlite
        .command()
        .args(["migrate-db", "--to", &url(&on_postgres)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("changed since migrate-db finished copying")
            && stderr.contains("was written to since as well")
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(on_postgres.export(&[]), kept, "nothing changed");

    // A copy finished by a version that copied other columns (its digest
    // of another layout) cannot be judged: it is refused as such.
    on_postgres
        .postgres
        .as_ref()
        .unwrap()
        .batch("UPDATE gleaner_copied_from SET digest = 'older:' || digest");
    let refused = sqlite
        .command()
        .args(["migrate-db", "--to", &url(&on_postgres)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("copied other columns"), "{stderr}");
}

#[test]
fn migrate_db_killed_midway_goes_on_with_what_changed_since() {
    let Some(postgres) = server("migrate-db killed") else {
        return;
    };
    let site = TestServer::start();
    publish_pages(&site, &["p0"]);
    publish_b(&site, 50, "\"v1\"");
    let (sqlite, on_postgres) = set_ups(&site, TestDatabase::create(&postgres));
    sqlite.poll();
    sqlite.export(&["--consumer", "c"]);

    // Killed while it waits to write the consumers: the articles are in,
    // the cursors not yet. (A poll of no feed sets the schema up, so that
    // the table can be locked before the copy starts.)
    on_postgres.write_config("");
    on_postgres.poll();
    on_postgres.write_config(&feeds(&site));
    let database = url(&on_postgres);
    let (locked, wait_locked) = mpsc::channel();
    let (release, wait_release) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut client = ::postgres::Client::connect(&database, ::postgres::NoTls).unwrap();
        let mut tx = client.transaction().unwrap();
        tx.batch_execute("LOCK TABLE consumers IN SHARE MODE")
            .unwrap();
        locked.send(()).unwrap();
        wait_release.recv().ok();
    });
    wait_locked.recv().unwrap();
    let mut copy = sqlite
        .command()
        .args(["migrate-db", "--to", &url(&on_postgres)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let db = on_postgres.postgres.as_ref().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while db.query(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'consumers'::regclass
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )[0]
    .get::<_, i64>(0)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the copy never reached the consumers"
        );
        assert!(copy.try_wait().unwrap().is_none(), "the copy ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    copy.kill().unwrap();
    copy.wait().unwrap();
    release.send(()).unwrap();
    holder.join().unwrap();
    let count = |sql: &str| db.query(sql)[0].get::<_, i64>(0);
    assert_eq!(count("SELECT count(*) FROM articles"), 51);
    assert_eq!(count("SELECT count(*) FROM consumers"), 0);

    // SQLite goes on meanwhile: new articles, a cursor moved, a purge.
    publish_b(&site, 60, "\"v2\"");
    sqlite.poll();
    assert_eq!(sqlite.export(&["--consumer", "c"]).len(), 10);
    // And a purge, of articles the killed copy had whole.
    sqlite.edit_config("[storage]\n", "[storage]\nmax_articles_per_feed = 55\n");
    let said = String::from_utf8(sqlite.ok(&["gc"]).stdout).unwrap();
    assert!(said.contains("purged 5 articles"), "{said}");

    let said = migrate(&sqlite, &on_postgres);
    assert!(said.contains("articles: 61 rows"), "{said}");
    assert_same(&sqlite, &on_postgres, "a copy killed midway");
    let said = migrate(&sqlite, &on_postgres);
    assert!(said.contains("nothing changed since"), "{said}");
    assert!(on_postgres.export(&["--consumer", "c"]).is_empty());
}
