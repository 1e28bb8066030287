//! `[storage] keep_html` and `gleaner reextract`: a rule added after the
//! fact changes the stored text, without fetching anything again.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::pages::{article_page, rss_of_pages, story};
use common::{Gleaner, Route, TestServer, feed_block};

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
