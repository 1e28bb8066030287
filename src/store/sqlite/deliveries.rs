//! What the daemon's `[[deliver]]` pushes did, per consumer: shown by
//! `gleaner deliveries`. The cursor itself is the consumer's (`consumers`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Sqlite, time_column};
use crate::store::backend::Deliveries;
use crate::store::model::DeliveryStatus;
use crate::store::{StoreError, format_time};

impl Deliveries for Sqlite {
    fn record_delivery(
        &mut self,
        name: &str,
        at: DateTime<Utc>,
        articles: u64,
        outcome: Result<(), &str>,
    ) -> Result<(), StoreError> {
        let at = format_time(at);
        let articles = i64::try_from(articles).unwrap_or(i64::MAX);
        match outcome {
            Ok(()) => self.conn.execute(
                "INSERT INTO deliveries (name, last_attempt_at, last_success_at, delivered)
                 VALUES (?1, ?2, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET
                     last_attempt_at = ?2, last_success_at = ?2, last_error = NULL,
                     consecutive_failures = 0, delivered = delivered + ?3",
                params![name, at, articles],
            )?,
            Err(error) => self.conn.execute(
                "INSERT INTO deliveries (name, last_attempt_at, last_error, consecutive_failures)
                 VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (name) DO UPDATE SET
                     last_attempt_at = ?2, last_error = ?3,
                     consecutive_failures = consecutive_failures + 1",
                params![name, at, error],
            )?,
        };
        Ok(())
    }

    fn delivery_statuses(&self) -> Result<HashMap<String, DeliveryStatus>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, last_attempt_at, last_success_at, last_error,
                    consecutive_failures, delivered FROM deliveries",
        )?;
        let rows = stmt.query_map([], |r| {
            let time = |i: usize| time_column(r, i);
            Ok((
                r.get(0)?,
                DeliveryStatus {
                    last_attempt_at: time(1)?,
                    last_success_at: time(2)?,
                    last_error: r.get(3)?,
                    consecutive_failures: r.get(4)?,
                    delivered: r.get::<_, i64>(5)?.unsigned_abs(),
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_up_and_a_success_clears_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Sqlite::open(&dir.path().join("g.db")).unwrap();
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
}
