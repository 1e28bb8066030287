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
