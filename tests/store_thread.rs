//! The thread that owns the daemon's database connection: a job that
//! panics stops it, every caller learns so at once, and the daemon is told
//! (it then exits 1; see `daemon::run`).

use std::time::Duration;

use gleaner::store::{Store, StoreError, StoreHandle};

#[tokio::test]
async fn a_panic_on_the_database_thread_stops_it_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("g.db")).unwrap();
    let (handle, thread) = StoreHandle::spawn(store);
    handle.call(|_| Ok(())).await.unwrap();

    let result = handle
        .call(|_| -> Result<(), StoreError> { panic!("DateTime - TimeDelta overflowed") })
        .await;
    assert!(matches!(result, Err(StoreError::WriterGone)), "{result:?}");
    let message = tokio::time::timeout(Duration::from_secs(5), handle.died())
        .await
        .expect("the handle says the thread died");
    assert!(message.contains("TimeDelta overflowed"), "{message}");
    // Later calls fail at once instead of waiting on a thread that is gone.
    let later = tokio::time::timeout(Duration::from_secs(5), handle.call(|_| Ok(())))
        .await
        .expect("a call after the panic returns");
    assert!(matches!(later, Err(StoreError::WriterGone)), "{later:?}");
    assert!(handle.first_failure().is_some());
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_orderly_stop_is_not_a_death() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("g.db")).unwrap();
    let (handle, thread) = StoreHandle::spawn(store);
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .unwrap();
    let died = tokio::time::timeout(Duration::from_millis(300), handle.died()).await;
    assert!(died.is_err(), "a joined thread is reported as dead");
}
