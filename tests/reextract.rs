//! `[storage] keep_html` and `gleaner reextract`: a rule added after the
//! fact changes the stored text, without fetching anything again.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::pages::{article_page, rss_of_pages, story};
use common::{Gleaner, Route, TestServer, feed_block};
use gleaner::config::Config;
use gleaner::store::model::{Applied, Reextraction};
use gleaner::store::{Access, Store};

const EDITOR_NOTE: &str = "Editor's note: this story was updated with the reactions of the residents \
     who attended the meeting, and a correction to the time of the vote.";

fn serve(server: &TestServer) {
    serve_pages(server, &["a", "b"]);
}

fn serve_pages(server: &TestServer, ids: &[&str]) {
    server.set(
        "/feed.xml",
        Route::rss(rss_of_pages(|p| server.url(p), ids)),
    );
    for &id in ids {
        let mut paragraphs = story(&format!("the harbour {id}"));
        paragraphs.push(format!("<span class=\"editor-note\">{EDITOR_NOTE}</span>"));
        server.set(
            &format!("/{id}"),
            Route::html(article_page(id, &paragraphs, "")),
        );
    }
}

fn texts(gleaner: &Gleaner) -> Vec<String> {
    gleaner
        .export(&[])
        .iter()
        .map(|a| a["content_text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn reextract_applies_a_new_rule_to_kept_pages_without_fetching() {
    let server = TestServer::start();
    serve(&server);
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.edit_config("[storage]\n", "[storage]\nkeep_html = true\n");
    gleaner.poll();
    let before = texts(&gleaner);
    assert_eq!(before.len(), 2);
    assert!(
        before.iter().all(|t| t.contains("Editor's note")),
        "{before:?}"
    );
    let fetched = server.all_requests().len();

    // Nothing changed yet: a run changes nothing.
    let said = String::from_utf8(gleaner.ok(&["reextract"]).stdout).unwrap();
    assert!(
        said.starts_with("re-extracted 2 pages: 0 changed, 2 unchanged"),
        "{said}"
    );

    gleaner.edit_config(
        &format!("url = \"{}\"", server.url("/feed.xml")),
        &format!(
            "url = \"{}\"\nremove_selectors = [\".editor-note\"]",
            server.url("/feed.xml")
        ),
    );
    let said = String::from_utf8(gleaner.ok(&["reextract", "--feed", "f"]).stdout).unwrap();
    assert!(
        said.starts_with("re-extracted 2 pages: 2 changed"),
        "{said}"
    );
    let after = texts(&gleaner);
    for (old, new) in before.iter().zip(&after) {
        assert!(!new.contains("Editor's note"), "{new}");
        assert!(new.contains("the harbour"), "{new}");
        assert!(
            old.starts_with(new.as_str()),
            "only the note went:\n{old}\n---\n{new}"
        );
    }
    assert_eq!(
        server.all_requests().len(),
        fetched,
        "nothing was fetched again"
    );
    let search = gleaner.ok(&["search", "--format", "json", "correction"]);
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&search.stdout).unwrap();
    assert!(hits.is_empty(), "the search index follows: {hits:?}");
}

#[test]
fn without_keep_html_reextract_says_how_to_start() {
    let server = TestServer::start();
    serve(&server);
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();
    let said = String::from_utf8(gleaner.ok(&["reextract"]).stdout).unwrap();
    assert!(said.contains("set [storage] keep_html = true"), "{said}");
    assert_eq!(
        gleaner.sql("SELECT count(*) FROM pages"),
        Some(0),
        "pages are kept only when asked"
    );
}

#[test]
fn reextract_beside_a_writing_daemon_waits_for_the_lock_instead_of_failing() {
    let server = TestServer::start();
    let ids: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    serve_pages(&server, &ids);
    let url = server.url("/feed.xml");
    let gleaner = Gleaner::new(&feed_block("f", &url, ""));
    gleaner.edit_config("[storage]\n", "[storage]\nkeep_html = true\n");
    gleaner.poll();
    gleaner.edit_config(
        &format!("url = \"{url}\""),
        &format!("url = \"{url}\"\nremove_selectors = [\".editor-note\"]"),
    );

    // A writer that, like a polling daemon, keeps committing while
    // reextract reads what it is about to overwrite: it holds the write
    // lock a poll takes (SQLite's, or PostgreSQL's `gleaner write`) for
    // 20 ms at a time.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let mut write = writer(&gleaner);
        std::thread::spawn(move || {
            let mut commits = 0;
            while !stop.load(Ordering::Relaxed) {
                write();
                commits += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            commits
        })
    };
    let output = gleaner.command().arg("reextract").output().unwrap();
    stop.store(true, Ordering::Relaxed);
    let commits = writer.join().unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "reextract failed beside a writer: {said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.starts_with("re-extracted 40 pages: 40 changed"),
        "{said}"
    );
    assert!(commits > 0, "the writer ran alongside");
    assert!(
        texts(&gleaner).iter().all(|t| !t.contains("Editor's note")),
        "every page was re-extracted"
    );
}

/// One write transaction that holds the database's write lock for 20 ms,
/// as a poll's does, each time it is called.
fn writer(gleaner: &Gleaner) -> Box<dyn FnMut() + Send> {
    const HOLD: Duration = Duration::from_millis(20);
    match &gleaner.postgres {
        Some(database) => {
            let url = database.url();
            let mut client = None;
            Box::new(move || {
                let client = client.get_or_insert_with(|| {
                    postgres::Client::connect(url.as_str(), postgres::NoTls).unwrap()
                });
                let mut tx = client.transaction().unwrap();
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended('gleaner write', 0))",
                    &[],
                )
                .unwrap();
                tx.execute("UPDATE feeds SET name = name", &[]).unwrap();
                std::thread::sleep(HOLD);
                tx.commit().unwrap();
            })
        }
        None => {
            let db = gleaner.db();
            db.busy_timeout(Duration::from_secs(10)).unwrap();
            Box::new(move || {
                db.execute_batch("BEGIN IMMEDIATE; UPDATE feeds SET name = name;")
                    .unwrap();
                std::thread::sleep(HOLD);
                db.execute_batch("COMMIT").unwrap();
            })
        }
    }
}

/// The set-up's store, opened through the library as `gleaner` opens it.
fn open_store(gleaner: &Gleaner) -> Store {
    let config = Config::load(&gleaner.config_path()).unwrap();
    Store::open_for(&config.storage.database, Access::Update).unwrap()
}

/// What `gleaner reextract` holds between reading a batch of kept pages and
/// storing their new bodies: the pages as read, each with a new body.
/// (The binary cannot be stopped in between without a hook in the
/// product, so the race is driven through the library: read, let `gc` or
/// a poll run through the binary, then store.)
fn read_batch(store: &Store) -> Vec<Reextraction> {
    store
        .kept_pages_after(0, 64, &[])
        .unwrap()
        .into_iter()
        .map(|page| Reextraction {
            page,
            content_html: "<p>Re-extracted from the page as it was read.</p>".into(),
            content_text: "Re-extracted from the page as it was read.".into(),
            word_count: 8,
            near_dup: None,
        })
        .collect()
}

#[test]
fn a_reextraction_read_before_gc_purged_its_article_restores_no_body() {
    let server = TestServer::start();
    serve(&server);
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.edit_config(
        "[storage]\n",
        "[storage]\nkeep_html = true\nkeep_days = 30\n",
    );
    gleaner.poll();
    let mut store = open_store(&gleaner);
    let batch = read_batch(&store);
    assert_eq!(batch.len(), 2);

    // `gc` purges both while the batch is being extracted.
    gleaner.sql("UPDATE articles SET fetched_at = '2000-01-01T00:00:00Z'");
    let said = String::from_utf8(gleaner.ok(&["gc"]).stdout).unwrap();
    assert!(said.starts_with("purged 2 articles"), "{said}");

    let applied = store.apply_reextractions(&batch).unwrap();
    assert_eq!(
        applied,
        Applied {
            changed: 0,
            changed_meanwhile: 2
        }
    );
    assert_eq!(
        gleaner.sql(
            "SELECT count(*) FROM articles
             WHERE content_html IS NOT NULL OR content_text IS NOT NULL OR word_count IS NOT NULL"
        ),
        Some(0),
        "a tombstone got a body back"
    );
    assert!(gleaner.export(&[]).is_empty());
}

#[test]
fn a_reextraction_of_a_page_a_poll_replaced_meanwhile_keeps_the_new_pages_body() {
    let server = TestServer::start();
    serve(&server);
    server.set(
        "/a2",
        Route::html(article_page("a", &story("the lighthouse"), "")),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.edit_config("[storage]\n", "[storage]\nkeep_html = true\n");
    gleaner.poll();
    let mut store = open_store(&gleaner);
    let batch = read_batch(&store);
    assert_eq!(batch.len(), 2);

    // Entry a now links to another page: a poll stores that page's body.
    let feed = rss_of_pages(|p| server.url(p), &["a", "b"]).replace(
        &format!("{}</link>", server.url("/a")),
        &format!("{}</link>", server.url("/a2")),
    );
    server.set("/feed.xml", Route::rss(feed));
    gleaner.poll();

    let applied = store.apply_reextractions(&batch).unwrap();
    assert_eq!(
        applied,
        Applied {
            changed: 1,
            changed_meanwhile: 1
        }
    );
    let articles = gleaner.export(&[]);
    let text = |title: &str| {
        articles
            .iter()
            .find(|a| a["title"] == title)
            .and_then(|a| a["content_text"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(text("a").contains("the lighthouse"), "{}", text("a"));
    assert!(text("b").starts_with("Re-extracted"), "{}", text("b"));
}
