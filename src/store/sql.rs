//! The statement layer both backends share: SQL written once, in SQLite's
//! `?N` placeholders (rewritten to PostgreSQL's `$N` when prepared), values
//! bound as [`Value`]s and rows read by column name ([`Row`]).
//!
//! [`SqlBackend`] is what a backend gives this layer (a connection, a write
//! transaction, a read snapshot); the operations written once on top of it
//! are the `impl<B: SqlBackend>` blocks of `store::shared`. Where a
//! statement needs words the dialects spell differently, it is written once
//! as a macro of the dialect, with the words below ([`by_dialect!`] picks
//! the connection's). What only one dialect can say stays in its folder.

use std::borrow::Cow;
use std::ops::ControlFlow;

use super::StoreError;

/// Which SQL a connection speaks, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A value bound to a statement, typed so that PostgreSQL accepts a NULL
/// for a column of that type.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) enum Value<'a> {
    /// An integer (PostgreSQL `BIGINT`).
    Int(Option<i64>),
    /// Text.
    Text(Option<&'a str>),
    /// Bytes (PostgreSQL `BYTEA`).
    Blob(Option<&'a [u8]>),
    /// A list of texts: a JSON array for SQLite's `json_each`, an array
    /// (`text[]`) for PostgreSQL (see [`in_list!`]).
    Texts(&'a [String]),
    /// A list of integers, likewise (`bigint[]`).
    Ints(&'a [i64]),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(text: &'a str) -> Value<'a> {
        Value::Text(Some(text))
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(text: &'a String) -> Value<'a> {
        Value::Text(Some(text))
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(text: Option<&'a str>) -> Value<'a> {
        Value::Text(text)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(text: &'a Option<String>) -> Value<'a> {
        Value::Text(text.as_deref())
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Int(Some(n))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(n: Option<i64>) -> Self {
        Value::Int(n)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(bytes: &'a [u8]) -> Value<'a> {
        Value::Blob(Some(bytes))
    }
}

/// `text` as both backends store it: without NUL, which PostgreSQL refuses
/// in any text (one in one article would fail its feed's whole
/// transaction), so that every value bound, on every path (a poll, a
/// re-extraction, an error message quoting a server, a lookup), is
/// storable and both backends hold the same. No copy when there is none.
pub(in crate::store) fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', ""))
    } else {
        Cow::Borrowed(text)
    }
}

/// A list of texts as bound: each [`without_nul`].
fn texts_without_nul(list: &[String]) -> Vec<Cow<'_, str>> {
    list.iter().map(|t| without_nul(t)).collect()
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput;
        let json = |list: serde_json::Result<String>| {
            list.map(|text| ToSqlOutput::Owned(text.into()))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
        };
        match self {
            Value::Int(n) => n.to_sql(),
            Value::Text(None) => Ok(ToSqlOutput::Owned(rusqlite::types::Value::Null)),
            Value::Text(Some(t)) => Ok(match without_nul(t) {
                Cow::Borrowed(t) => ToSqlOutput::from(t),
                Cow::Owned(t) => ToSqlOutput::from(t),
            }),
            Value::Blob(b) => b.to_sql(),
            Value::Texts(list) => json(serde_json::to_string(&texts_without_nul(list))),
            Value::Ints(list) => json(serde_json::to_string(list)),
        }
    }
}

/// As the `postgres` client binds it: each value as its Rust type would
/// be, texts [`without_nul`].
impl postgres::types::ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Int(n) => n.to_sql(ty, out),
            Value::Text(t) => t.map(without_nul).as_deref().to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
            Value::Texts(list) => {
                let cleaned = texts_without_nul(list);
                let texts: Vec<&str> = cleaned.iter().map(AsRef::as_ref).collect();
                texts.to_sql(ty, out)
            }
            Value::Ints(list) => list.to_sql(ty, out),
        }
    }

    /// Any type its variant's Rust type takes: checked per value, in
    /// [`Self::to_sql_checked`].
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    fn to_sql_checked(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{ToSql, WrongType};
        let accepted = match self {
            Value::Int(_) => <Option<i64> as ToSql>::accepts(ty),
            Value::Text(_) => <Option<&str> as ToSql>::accepts(ty),
            Value::Blob(_) => <Option<&[u8]> as ToSql>::accepts(ty),
            Value::Texts(_) => <&[&str] as ToSql>::accepts(ty),
            Value::Ints(_) => <&[i64] as ToSql>::accepts(ty),
        };
        if !accepted {
            return Err(Box::new(WrongType::new::<Self>(ty.clone())));
        }
        self.to_sql(ty, out)
    }
}

/// One column's value as read.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::store) enum Cell {
    /// NULL.
    Null,
    /// An integer (or a boolean, as 0 or 1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// A row, its columns by name.
#[derive(Debug, Clone)]
pub(in crate::store) struct Row {
    pub(in crate::store) cells: Vec<(String, Cell)>,
}

impl Row {
    /// Column `name` as a `T`; an error names the column when it is missing
    /// or holds another type.
    pub(in crate::store) fn get<T: FromCell>(&self, name: &str) -> Result<T, StoreError> {
        let cell = self
            .cells
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .ok_or_else(|| StoreError::Inconsistent(format!("no column {name} in a row")))?;
        T::from_cell(cell).ok_or_else(|| {
            StoreError::Inconsistent(format!("column {name} holds {cell:?}, not what was asked"))
        })
    }
}

/// What a [`Cell`] can be read as.
pub(in crate::store) trait FromCell: Sized {
    /// `None` when the cell holds something else.
    fn from_cell(cell: &Cell) -> Option<Self>;
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Null => Some(None),
            cell => T::from_cell(cell).map(Some),
        }
    }
}

impl FromCell for i64 {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// Counts stored as `BIGINT` on PostgreSQL: a value past `u32` is read as
/// `u32::MAX` (and a negative one as 0) rather than refused.
impl FromCell for u32 {
    fn from_cell(cell: &Cell) -> Option<Self> {
        i64::from_cell(cell).map(|n| u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    }
}

impl FromCell for u64 {
    fn from_cell(cell: &Cell) -> Option<Self> {
        i64::from_cell(cell).map(|n| u64::try_from(n).unwrap_or(0))
    }
}

impl FromCell for bool {
    fn from_cell(cell: &Cell) -> Option<Self> {
        i64::from_cell(cell).map(|n| n != 0)
    }
}

impl FromCell for f64 {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Real(f) => Some(*f),
            Cell::Int(n) => Some(*n as f64),
            _ => None,
        }
    }
}

impl FromCell for String {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Text(t) => Some(t.clone()),
            _ => None,
        }
    }
}

impl FromCell for Vec<u8> {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}

/// A connection (or a transaction on one) that runs the shared statements.
pub(in crate::store) trait Conn {
    /// Which SQL it speaks.
    fn dialect(&self) -> Dialect;

    /// Runs `sql` with `params`; how many rows it changed.
    fn run(&mut self, sql: &'static str, params: &[Value<'_>]) -> Result<u64, StoreError>;

    /// The rows `sql` returns with `params`.
    fn rows(&mut self, sql: &'static str, params: &[Value<'_>]) -> Result<Vec<Row>, StoreError>;

    /// The first row `sql` returns, if any.
    fn row(&mut self, sql: &'static str, params: &[Value<'_>]) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// The one integer `sql` returns in its column `name`, if a row came.
    fn number(
        &mut self,
        sql: &'static str,
        params: &[Value<'_>],
        name: &str,
    ) -> Result<Option<i64>, StoreError> {
        match self.row(sql, params)? {
            Some(row) => row.get(name),
            None => Ok(None),
        }
    }
}

/// What a backend gives the statements written once: a connection to read
/// with, and a write transaction.
pub(in crate::store) trait SqlBackend {
    /// Runs `f` on the connection (each statement its own snapshot).
    fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;

    /// Runs `f` in one write transaction, committed when it succeeds.
    /// `serialized`: it may store articles, sources or keys, which
    /// instances sharing a database must take turns at (see `postgres`).
    fn write<T>(
        &mut self,
        serialized: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;

    /// Runs `f` in one read-only transaction: every statement sees one
    /// snapshot (SQLite: WAL's; PostgreSQL: REPEATABLE READ).
    fn snapshot<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Snapshot) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;
}

/// A statement and its arguments.
pub(in crate::store) type Query<'a> = (&'static str, &'a [Value<'a>]);

/// How many rows [`Snapshot::batches`] hands over at a time (PostgreSQL:
/// per round trip).
pub(in crate::store) const BATCH: usize = 256;

/// What [`Snapshot::batches`] hands each batch to: the snapshot to read
/// more in, and the rows; it breaks to stop.
pub(in crate::store) type EachBatch<'a> =
    dyn FnMut(&mut dyn Conn, Vec<Row>) -> Result<ControlFlow<()>, StoreError> + 'a;

/// A read snapshot, which can hand a long result over in batches.
pub(in crate::store) trait Snapshot: Conn {
    /// Gives `each` the rows of `query` [`BATCH`] at a time, with the
    /// snapshot to read more in, until they run out or `each` breaks: one
    /// statement, never more than a batch in memory.
    fn batches(&mut self, query: Query<'_>, each: &mut EachBatch<'_>) -> Result<(), StoreError>;
}

/// The statement `$text!(Sqlite)` or `$text!(Postgres)`, as `conn` speaks.
macro_rules! by_dialect {
    ($conn:expr, $text:ident) => {
        match $conn.dialect() {
            $crate::store::sql::Dialect::Sqlite => $text!(Sqlite),
            $crate::store::sql::Dialect::Postgres => $text!(Postgres),
        }
    };
}

/// `$x` is one of the list `$list` (a [`Value::Texts`] or [`Value::Ints`]).
macro_rules! in_list {
    (Sqlite, $x:literal, $list:literal) => {
        concat!($x, " IN (SELECT value FROM json_each(", $list, "))")
    };
    (Postgres, $x:literal, $list:literal) => {
        concat!($x, " = ANY (", $list, ")")
    };
}

/// The list of texts `$list` is empty.
macro_rules! no_texts {
    (Sqlite, $list:literal) => {
        concat!("json_array_length(", $list, ") = 0")
    };
    (Postgres, $list:literal) => {
        concat!("cardinality(", $list, "::text[]) = 0")
    };
}

/// The largest of the (not NULL) values given to it.
macro_rules! greatest {
    (Sqlite) => {
        "max"
    };
    (Postgres) => {
        "GREATEST"
    };
}

/// The column of `sources` that orders them as they were stored.
macro_rules! source_order {
    (Sqlite) => {
        "rowid"
    };
    (Postgres) => {
        "source_seq"
    };
}

/// A `$ty` of the row `$row`'s columns named as its fields (each read by
/// [`Row::get`], so each column's name is written once), and the other
/// fields as given: `columns!(r, Page { url, seq: r.get("article_seq")? })`.
macro_rules! columns {
    ($row:expr, $ty:ident { $($column:ident),* $(,)? $(; $($field:ident: $value:expr),* $(,)?)? }) => {
        $ty {
            $($column: $row.get(stringify!($column))?,)*
            $($($field: $value,)*)?
        }
    };
}

pub(in crate::store) use {by_dialect, columns, greatest, in_list, no_texts, source_order};

/// `sql` with SQLite's `?N` placeholders as PostgreSQL's `$N`.
pub(in crate::store) fn dollars(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_become_dollars_and_nothing_else_changes() {
        assert_eq!(
            super::dollars("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 AND d = '?'"
        );
    }
}
