//! `[[deliver]]` state on PostgreSQL (see [`crate::store::backend::Deliveries`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Postgres, prepared};
use crate::store::backend::Deliveries;
use crate::store::model::DeliveryStatus;
use crate::store::{StoreError, format_time, parse_time};

impl Deliveries for Postgres {
    fn record_delivery(
        &mut self,
        name: &str,
        at: DateTime<Utc>,
        articles: u64,
        outcome: Result<(), &str>,
    ) -> Result<(), StoreError> {
        let at = format_time(at);
        let articles = i64::try_from(articles).unwrap_or(i64::MAX);
        self.with_client(|client, cache| {
            match outcome {
                Ok(()) => {
                    let stmt = prepared(
                        cache,
                        client,
                        "INSERT INTO deliveries (name, last_attempt_at, last_success_at, delivered)
                         VALUES ($1, $2, $2, $3)
                         ON CONFLICT (name) DO UPDATE SET
                             last_attempt_at = $2, last_success_at = $2, last_error = NULL,
                             consecutive_failures = 0,
                             delivered = deliveries.delivered + EXCLUDED.delivered",
                    )?;
                    client.execute(&stmt, &[&name, &at, &articles])?
                }
                Err(error) => {
                    let stmt = prepared(
                        cache,
                        client,
                        "INSERT INTO deliveries (name, last_attempt_at, last_error, consecutive_failures)
                         VALUES ($1, $2, $3, 1)
                         ON CONFLICT (name) DO UPDATE SET
                             last_attempt_at = $2, last_error = $3,
                             consecutive_failures = deliveries.consecutive_failures + 1",
                    )?;
                    client.execute(&stmt, &[&name, &at, &error])?
                }
            };
            Ok(())
        })
    }

    fn delivery_statuses(&self) -> Result<HashMap<String, DeliveryStatus>, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                "SELECT name, last_attempt_at, last_success_at, last_error,
                        consecutive_failures, delivered FROM deliveries",
            )?;
            Ok(client
                .query(&stmt, &[])?
                .iter()
                .map(|r| {
                    let time = |i: usize| r.get::<_, Option<&str>>(i).and_then(parse_time);
                    let status = DeliveryStatus {
                        last_attempt_at: time(1),
                        last_success_at: time(2),
                        last_error: r.get(3),
                        consecutive_failures: u32::try_from(r.get::<_, i64>(4)).unwrap_or(u32::MAX),
                        delivered: r.get::<_, i64>(5).unsigned_abs(),
                    };
                    (r.get(0), status)
                })
                .collect())
        })
    }
}
