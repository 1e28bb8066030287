//! `migrate-db`'s rows: each table read in key order from both databases
//! at once (SQLite's snapshot, a PostgreSQL cursor of [`FETCH`] rows at a
//! time), merged row by row, so that a table of any size is compared in
//! bounded memory, and the writes that make PostgreSQL's rows SQLite's.

use std::cmp::Ordering;
use std::collections::VecDeque;

use postgres::types::ToSql;
use rusqlite::types::Value;
use sha2::{Digest, Sha256};

use super::{Kind, Table};
use crate::store::StoreError;

/// Rows fetched from PostgreSQL per round trip.
const FETCH: i32 = 500;

/// One value, as both databases hold it once copied.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Cell {
    /// SQLite's value as PostgreSQL stores it (the same rules as the copy:
    /// a NUL, which PostgreSQL refuses, removed; a number in a text column
    /// as text).
    fn from_sqlite(value: Value, kind: Kind) -> Cell {
        match (kind, value) {
            (Kind::Int, Value::Integer(n)) => Cell::Int(n),
            (Kind::Text, Value::Text(t)) if t.contains('\0') => Cell::Text(t.replace('\0', "")),
            (Kind::Text, Value::Text(t)) => Cell::Text(t),
            (Kind::Text, Value::Integer(n)) => Cell::Text(n.to_string()),
            (Kind::Blob, Value::Blob(b)) => Cell::Blob(b),
            _ => Cell::Null,
        }
    }

    fn from_postgres(row: &postgres::Row, i: usize, kind: Kind) -> Result<Cell, StoreError> {
        Ok(match kind {
            Kind::Int => row.try_get::<_, Option<i64>>(i)?.map(Cell::Int),
            Kind::Text => row.try_get::<_, Option<String>>(i)?.map(Cell::Text),
            Kind::Blob => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Blob),
        }
        .unwrap_or(Cell::Null))
    }

    /// As a statement's parameter.
    pub(super) fn param(&self, kind: Kind) -> Box<dyn ToSql + Sync> {
        match (self, kind) {
            (Cell::Int(n), _) => Box::new(Some(*n)),
            (Cell::Text(t), _) => Box::new(Some(t.clone())),
            (Cell::Blob(b), _) => Box::new(Some(b.clone())),
            (Cell::Null, Kind::Int) => Box::new(None::<i64>),
            (Cell::Null, Kind::Text) => Box::new(None::<String>),
            (Cell::Null, Kind::Blob) => Box::new(None::<Vec<u8>>),
        }
    }

    /// Fed to a digest: a tag, the length, the bytes.
    fn digest(&self, hash: &mut Sha256) {
        let (tag, bytes): (u8, &[u8]) = match self {
            Cell::Null => (0, &[]),
            Cell::Int(n) => (1, &n.to_be_bytes()),
            Cell::Text(t) => (2, t.as_bytes()),
            Cell::Blob(b) => (3, b),
        };
        hash.update([tag]);
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    }
}

/// A row: its cells in the table's column order, the key first.
pub(super) type Row = Vec<Cell>;

/// A key as a message shows it.
pub(super) fn shown_key(table: &Table, row: &[Cell]) -> String {
    row[..table.key]
        .iter()
        .map(|c| match c {
            Cell::Null => "NULL".to_owned(),
            Cell::Int(n) => n.to_string(),
            Cell::Text(t) => format!("{t:?}"),
            Cell::Blob(_) => "(bytes)".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a row of one side stands against the other's.
pub(super) enum Step<'a> {
    /// Only in SQLite.
    Missing(&'a Row),
    /// Only in PostgreSQL.
    Extra(&'a Row),
    /// The same key, other values: SQLite's row, then PostgreSQL's.
    Changed(&'a Row, &'a Row),
    /// The same in both.
    Same(&'a Row),
}

/// Reads `table` from SQLite's snapshot and from PostgreSQL (`reader`, in
/// a transaction of its own) in key order, and hands `each` every step of
/// the merge: neither side is ever held whole.
pub(super) fn merge(
    table: &Table,
    snapshot: &rusqlite::Transaction<'_>,
    reader: &mut postgres::Client,
    mut each: impl FnMut(Step<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let read: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
    let written: Vec<&str> = table.columns.iter().map(|c| c.1).collect();
    // Both in byte order of their text keys (SQLite compares text by
    // bytes; PostgreSQL's "C" collation too), numbers by value.
    let order = |names: &[&str], collate: &str| -> String {
        names[..table.key]
            .iter()
            .zip(table.columns)
            .map(|(name, (_, _, kind))| match kind {
                Kind::Text => format!("{name}{collate}"),
                _ => (*name).to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut select = snapshot.prepare(&format!(
        "SELECT {} FROM {} ORDER BY {}",
        read.join(", "),
        table.name,
        order(&read, "")
    ))?;
    let mut source = select.query_map([], |r| {
        table
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, _, kind))| Ok(Cell::from_sqlite(r.get::<_, Value>(i)?, *kind)))
            .collect::<Result<Row, rusqlite::Error>>()
    })?;
    let mut tx = reader
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let portal = tx.bind(
        &format!(
            "SELECT {} FROM {} ORDER BY {}",
            written.join(", "),
            table.name,
            order(&written, " COLLATE \"C\"")
        ),
        &[],
    )?;
    let mut fetched = VecDeque::new();
    let mut exhausted = false;
    let mut target = || -> Result<Option<Row>, StoreError> {
        if fetched.is_empty() && !exhausted {
            let rows = tx.query_portal(&portal, FETCH)?;
            exhausted = rows.len() < FETCH as usize;
            for row in &rows {
                fetched.push_back(
                    table
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(i, (_, _, kind))| Cell::from_postgres(row, i, *kind))
                        .collect::<Result<Row, StoreError>>()?,
                );
            }
        }
        Ok(fetched.pop_front())
    };
    let mut a = source.next().transpose()?;
    let mut b = target()?;
    loop {
        let order = match (&a, &b) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x[..table.key].cmp(&y[..table.key]),
        };
        match (order, &a, &b) {
            (Ordering::Less, Some(x), _) => each(Step::Missing(x))?,
            (Ordering::Greater, _, Some(y)) => each(Step::Extra(y))?,
            (Ordering::Equal, Some(x), Some(y)) if x == y => each(Step::Same(y))?,
            (Ordering::Equal, Some(x), Some(y)) => each(Step::Changed(x, y))?,
            _ => unreachable!("an order is only taken with the rows it compares"),
        }
        if order != Ordering::Greater {
            a = source.next().transpose()?;
        }
        if order != Ordering::Less {
            b = target()?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// What a merge of one table found.
#[derive(Debug, Default, Clone)]
pub(super) struct Survey {
    /// Rows in SQLite.
    pub sqlite: i64,
    /// Rows in PostgreSQL.
    pub postgres: i64,
    /// Rows only in SQLite.
    pub missing: u64,
    /// Rows only in PostgreSQL.
    pub extra: u64,
    /// Rows whose values differ.
    pub changed: u64,
    /// The first key that differs, as shown.
    pub first: Option<String>,
}

impl Survey {
    pub(super) fn differs(&self) -> bool {
        self.missing + self.extra + self.changed > 0
    }

    /// How the table differs, for a message.
    pub(super) fn detail(&self) -> String {
        format!(
            "{} rows only in SQLite, {} only in PostgreSQL, {} changed, the first at key {}",
            self.missing,
            self.extra,
            self.changed,
            self.first.as_deref().unwrap_or("-")
        )
    }
}

/// Compares `table` on both sides, adding PostgreSQL's rows to `digest`.
pub(super) fn survey(
    table: &Table,
    snapshot: &rusqlite::Transaction<'_>,
    reader: &mut postgres::Client,
    digest: &mut Sha256,
) -> Result<Survey, StoreError> {
    let mut survey = Survey::default();
    merge(table, snapshot, reader, |step| {
        let (counted, differs) = match step {
            Step::Missing(s) => {
                survey.sqlite += 1;
                survey.missing += 1;
                (None, Some(s))
            }
            Step::Extra(t) => {
                survey.postgres += 1;
                survey.extra += 1;
                (Some(t), Some(t))
            }
            Step::Changed(s, t) => {
                survey.sqlite += 1;
                survey.postgres += 1;
                survey.changed += 1;
                (Some(t), Some(s))
            }
            Step::Same(t) => {
                survey.sqlite += 1;
                survey.postgres += 1;
                (Some(t), None)
            }
        };
        if let Some(row) = counted {
            for cell in row {
                cell.digest(digest);
            }
        }
        if let (Some(row), None) = (differs, &survey.first) {
            survey.first = Some(shown_key(table, row));
        }
        Ok(())
    })?;
    Ok(survey)
}

/// Deletes these keys (whole rows, the key first) from `table`, in one
/// transaction of `writer`.
pub(super) fn delete(
    writer: &mut postgres::Client,
    table: &Table,
    rows: &[Row],
) -> Result<(), StoreError> {
    let keys = names(table)[..table.key].join(", ");
    write_bound(writer, table, rows, table.key, |tuples| {
        format!("DELETE FROM {} WHERE ({keys}) IN ({tuples})", table.name)
    })
}

/// Writes these rows into `table`, each new or replacing the row of its
/// key, in one transaction of `writer`.
pub(super) fn upsert(
    writer: &mut postgres::Client,
    table: &Table,
    rows: &[Row],
) -> Result<(), StoreError> {
    let written = names(table);
    let updates: Vec<String> = written[table.key..]
        .iter()
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    write_bound(writer, table, rows, table.columns.len(), |tuples| {
        format!(
            "INSERT INTO {} ({}) VALUES {tuples} ON CONFLICT ({}) DO UPDATE SET {}",
            table.name,
            written.join(", "),
            written[..table.key].join(", "),
            updates.join(", ")
        )
    })
}

/// The names of `table`'s columns, the key's first.
fn names(table: &Table) -> Vec<&'static str> {
    table.columns.iter().map(|c| c.1).collect()
}

/// Runs the statement `sql` makes of the rows' tuples of placeholders (see
/// [`bound`]), the first `width` cells of each row bound, in one
/// transaction of `writer`; nothing for no rows.
fn write_bound(
    writer: &mut postgres::Client,
    table: &Table,
    rows: &[Row],
    width: usize,
    sql: impl FnOnce(&str) -> String,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let (params, tuples) = bound(table, rows, width);
    let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
    let mut tx = writer.transaction()?;
    tx.execute(&sql(&tuples), &params)?;
    tx.commit()?;
    Ok(())
}

/// The first `width` cells of each row as parameters, and the rows as a
/// list of SQL tuples of their placeholders (`($1, $2), ($3, $4)`).
fn bound(table: &Table, rows: &[Row], width: usize) -> (Vec<Box<dyn ToSql + Sync>>, String) {
    let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    let mut tuples = Vec::new();
    for row in rows {
        let mut tuple = Vec::new();
        for (cell, (_, _, kind)) in row.iter().take(width).zip(table.columns) {
            params.push(cell.param(*kind));
            tuple.push(format!("${}", params.len()));
        }
        tuples.push(format!("({})", tuple.join(", ")));
    }
    (params, tuples.join(", "))
}
