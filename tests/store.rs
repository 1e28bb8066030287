//! The store through the library, as the commands open it: on SQLite, or on
//! PostgreSQL with `GLEANER_TEST_BACKEND=postgres` (see `common::postgres`).
//! What the `gleaner` binary cannot show alone: the file a new database is
//! made as, a newer schema refused, and the delivery state's arithmetic.

mod common;

use std::os::unix::fs::PermissionsExt;

use chrono::Utc;
use common::Gleaner;
use gleaner::config::Config;
use gleaner::store::{Access, Store, StoreError};

/// The set-up's store, created as `gleaner poll` creates it.
fn create_store(gleaner: &Gleaner) -> Store {
    let config = Config::load(&gleaner.config_path()).unwrap();
    Store::open_for(&config.storage.database, Access::Create).unwrap()
}

#[test]
fn a_new_sqlite_database_is_private_and_migrated_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.db");
    drop(Store::open(&path).unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let version = |path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    let migrated = version(&path);
    assert!(migrated > 0);
    // Re-opening is a no-op migration.
    drop(Store::open(&path).unwrap());
    assert_eq!(version(&path), migrated);
}

#[test]
fn a_newer_sqlite_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.db");
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}

#[test]
fn delivery_failures_count_up_and_a_success_clears_them() {
    let gleaner = Gleaner::new("");
    let mut store = create_store(&gleaner);
    let now = Utc::now();
    store.record_delivery("hook", now, 3, Err("503")).unwrap();
    store
        .record_delivery("hook", now, 3, Err("timeout"))
        .unwrap();
    let failing = &store.delivery_statuses().unwrap()["hook"];
    assert_eq!(failing.consecutive_failures, 2);
    assert_eq!(failing.last_error.as_deref(), Some("timeout"));
    assert_eq!(failing.delivered, 0);
    store.record_delivery("hook", now, 3, Ok(())).unwrap();
    store.record_delivery("hook", now, 2, Ok(())).unwrap();
    let ok = &store.delivery_statuses().unwrap()["hook"];
    assert_eq!(ok.consecutive_failures, 0);
    assert_eq!(ok.last_error, None);
    assert_eq!(ok.delivered, 5);
    assert!(ok.last_success_at.is_some());
}

/// PostgreSQL refuses a NUL in any text, and the refusal would fail the
/// whole transaction: every text the store binds, on whichever path,
/// loses its NULs, and both backends hold the same.
#[test]
fn no_text_reaches_the_store_with_a_nul() {
    use gleaner::store::model::{ArticleRecord, Claim, ContentSource, Sighting};
    let gleaner = Gleaner::new(&common::feed_block("nul", "http://127.0.0.1:9/nul.xml", ""));
    let mut store = create_store(&gleaner);
    let now = Utc::now();
    // A message quoting a server.
    store
        .record_delivery("hook", now, 1, Err("HTTP 503: bu\0sy"))
        .unwrap();
    assert_eq!(
        store.delivery_statuses().unwrap()["hook"]
            .last_error
            .as_deref(),
        Some("HTTP 503: busy")
    );
    // An article's texts, lists among them.
    let claim = store
        .claim_feed(
            "http://127.0.0.1:9/nul.xml",
            "test",
            std::time::Duration::from_secs(60),
            None,
        )
        .unwrap()
        .unwrap_or(Claim::Sole);
    let article = ArticleRecord {
        title: Some("Harbour\0 reopens".into()),
        url: Some("http://127.0.0.1:9/a/1".parse().unwrap()),
        author: Some("Ann\0".into()),
        content_html: Some("<p>The harbour\0 reopens.</p>".into()),
        content_text: Some("The harbour\0 reopens.".into()),
        content_source: Some(ContentSource::Feed),
        categories: vec!["ne\0ws".into()],
        ..ArticleRecord::default()
    };
    let sighting = Sighting {
        entry_id: "id-\0-1".into(),
        url: article.url.clone(),
        entry_hash: "h".into(),
        article: Some(article),
        feed_only: false,
        tags: vec!["t\0ag".into()],
    };
    store
        .record_sightings(
            "http://127.0.0.1:9/nul.xml",
            "nul",
            now,
            &[sighting],
            &claim,
        )
        .unwrap();
    drop(store);
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1, "{articles:#?}");
    let a = &articles[0];
    assert_eq!(a["title"], "Harbour reopens");
    assert_eq!(a["author"], "Ann");
    assert_eq!(a["content_text"], "The harbour reopens.");
    assert_eq!(a["categories"], serde_json::json!(["news"]));
    assert_eq!(a["sources"][0]["entry_id"], "id--1");
    assert!(!a.to_string().contains("\\u0000"), "{a:#}");
}
