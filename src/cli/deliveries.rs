//! `gleaner deliveries`: every `[[deliver]]` block, its cursor, what it
//! still has to deliver and how its last attempts went.

use serde::Serialize;

use super::{open_store, outln, print_table, shorten};
use crate::config::{Config, DeliverTarget};
use crate::redact;
use crate::store::model::ExportFilter;
use crate::store::{Access, format_time};

/// One row of `gleaner deliveries --json`.
#[derive(Debug, Serialize)]
struct DeliveryRow {
    name: String,
    /// `webhook` or `exec`.
    kind: &'static str,
    /// The webhook URL (credentials hidden) or the command.
    target: String,
    /// The highest position given (a seq, or where an article entered its
    /// selection; 0: nothing yet).
    cursor: i64,
    /// Articles of its selection stored after the cursor.
    pending: u64,
    delivered: u64,
    last_attempt: Option<String>,
    last_success: Option<String>,
    /// The error of the last attempt when it failed.
    last_error: Option<String>,
    consecutive_failures: u32,
}

pub(super) fn deliveries(config: &Config, json: bool) -> anyhow::Result<()> {
    let store = open_store(config, Access::Read)?;
    let mut statuses = store.delivery_statuses()?;
    let mut rows = Vec::with_capacity(config.deliver.len());
    for block in &config.deliver {
        let cursor = store.consumer_cursor(&block.name)?;
        let pending = store.count_articles(&ExportFilter {
            after_seq: cursor,
            feed_urls: block.feed_urls.clone(),
            tags: block.tags.clone(),
            ..ExportFilter::default()
        })?;
        let status = statuses.remove(&block.name).unwrap_or_default();
        let (kind, target) = match &block.target {
            DeliverTarget::Webhook { url, .. } => ("webhook", redact::url(url).to_string()),
            DeliverTarget::Exec { argv, .. } => ("exec", argv.join(" ")),
        };
        rows.push(DeliveryRow {
            name: block.name.clone(),
            kind,
            target,
            cursor,
            pending,
            delivered: status.delivered,
            last_attempt: status.last_attempt_at.map(format_time),
            last_success: status.last_success_at.map(format_time),
            last_error: status.last_error,
            consecutive_failures: status.consecutive_failures,
        });
    }
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let status = match (&r.last_error, &r.last_success) {
                (Some(error), _) => format!(
                    "failing ({}×): {}",
                    r.consecutive_failures,
                    shorten(error, 60)
                ),
                (None, Some(at)) => format!("ok at {at}"),
                (None, None) => "never delivered".to_owned(),
            };
            [
                r.name.clone(),
                format!("{} {}", r.kind, r.target),
                r.cursor.to_string(),
                r.pending.to_string(),
                r.delivered.to_string(),
                status,
                r.last_attempt.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(
        [
            "NAME",
            "TARGET",
            "CURSOR",
            "PENDING",
            "DELIVERED",
            "STATUS",
            "LAST ATTEMPT",
        ],
        &table,
    )
}
