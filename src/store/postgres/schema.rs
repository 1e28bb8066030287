//! PostgreSQL's schema: the numbered migrations (one for one with SQLite's,
//! so a version means one schema on both backends) and the tables only
//! instances sharing a database need.

use std::path::Path;

use postgres::Client;

use crate::store::StoreError;

/// Schema migrations; `gleaner_schema.version` counts those applied. Entry
/// N is SQLite's migration N for PostgreSQL, so a version means one schema.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE articles (
    seq            BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    title          TEXT,
    url            TEXT,
    canonical_url  TEXT,
    author         TEXT,
    published      TEXT COLLATE "C",
    updated        TEXT COLLATE "C",
    fetched_at     TEXT COLLATE "C" NOT NULL,
    summary        TEXT,
    content_html   TEXT,
    content_text   TEXT,
    content_source TEXT NOT NULL CHECK (content_source IN ('article', 'feed', 'none')),
    word_count     BIGINT,
    language       TEXT,
    image          TEXT
);
CREATE INDEX articles_fetched_at ON articles (fetched_at);

CREATE TABLE article_keys (
    key         TEXT COLLATE "C" PRIMARY KEY,
    article_seq BIGINT NOT NULL REFERENCES articles (seq)
);
CREATE INDEX article_keys_article ON article_keys (article_seq);

CREATE TABLE sources (
    -- The order sightings were stored (SQLite's rowid).
    source_seq  BIGSERIAL PRIMARY KEY,
    feed_url    TEXT COLLATE "C" NOT NULL,
    entry_id    TEXT COLLATE "C" NOT NULL,
    article_seq BIGINT NOT NULL REFERENCES articles (seq),
    url         TEXT,
    entry_hash  TEXT NOT NULL,
    first_seen  TEXT COLLATE "C" NOT NULL,
    UNIQUE (feed_url, entry_id)
);
CREATE INDEX sources_article ON sources (article_seq);

CREATE TABLE article_tags (
    article_seq BIGINT NOT NULL REFERENCES articles (seq),
    tag         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (article_seq, tag)
);
CREATE INDEX article_tags_tag ON article_tags (tag, article_seq);

CREATE TABLE feeds (
    url                TEXT COLLATE "C" PRIMARY KEY,
    name               TEXT NOT NULL,
    etag               TEXT,
    last_modified      TEXT,
    last_poll_at       TEXT COLLATE "C",
    last_success_at    TEXT COLLATE "C",
    state              TEXT,
    last_error         TEXT,
    consecutive_errors BIGINT NOT NULL DEFAULT 0,
    next_attempt_at    TEXT COLLATE "C"
);

CREATE TABLE consumers (
    name       TEXT COLLATE "C" PRIMARY KEY,
    cursor_seq BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
"#,
    "ALTER TABLE feeds ADD COLUMN repairs TEXT NOT NULL DEFAULT '';",
    "ALTER TABLE feeds ADD COLUMN moved_to TEXT;",
    "ALTER TABLE feeds ADD COLUMN ttl_secs BIGINT;
     ALTER TABLE feeds ADD COLUMN poll_interval_secs BIGINT;",
    // Full-text search: SQLite's FTS5 table; here a generated tsvector.
    "ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS
         (setweight(to_tsvector('simple', coalesce(title, '')), 'A')
          || to_tsvector('simple', coalesce(content_text, ''))) STORED;
     CREATE INDEX articles_search ON articles USING gin (search);",
    "ALTER TABLE articles ADD COLUMN purged_at TEXT COLLATE \"C\";",
    r#"
CREATE TABLE pages (
    article_seq  BIGINT PRIMARY KEY REFERENCES articles (seq),
    url          TEXT NOT NULL,
    content_type TEXT,
    fetched_at   TEXT NOT NULL,
    body_zstd    BYTEA NOT NULL
);
"#,
    r#"
CREATE TABLE deliveries (
    name                 TEXT COLLATE "C" PRIMARY KEY,
    last_attempt_at      TEXT COLLATE "C" NOT NULL,
    last_success_at      TEXT COLLATE "C",
    last_error           TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    delivered            BIGINT NOT NULL DEFAULT 0
);
"#,
    "ALTER TABLE feeds ADD COLUMN filtered BIGINT NOT NULL DEFAULT 0;",
    "ALTER TABLE articles ADD COLUMN categories TEXT;
     ALTER TABLE articles ADD COLUMN enclosures TEXT;",
    // Words split at ASCII punctuation, as SQLite's unicode61 splits them:
    // PostgreSQL's parser kept `www.example.com`, `a@b.org` and URLs as one
    // token each, so `example` did not find them. (`translate` is immutable
    // and knows no locale; the typed words get the same, see `pg::search`.)
    r##"ALTER TABLE articles DROP COLUMN search;
     ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS
         (setweight(to_tsvector('simple', translate(coalesce(title, ''),
              '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                ')), 'A')
          || to_tsvector('simple', translate(coalesce(content_text, ''),
              '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '))) STORED;
     CREATE INDEX articles_search ON articles USING gin (search);"##,
    "ALTER TABLE sources ADD COLUMN pos BIGINT;
     UPDATE sources SET pos = article_seq;
     ALTER TABLE sources ALTER COLUMN pos SET NOT NULL;
     CREATE INDEX sources_pos ON sources (pos);
     ALTER TABLE article_tags ADD COLUMN pos BIGINT;
     UPDATE article_tags SET pos = article_seq;
     ALTER TABLE article_tags ALTER COLUMN pos SET NOT NULL;
     CREATE INDEX article_tags_pos ON article_tags (pos);",
    r#"
ALTER TABLE feeds ADD COLUMN interstitials TEXT NOT NULL DEFAULT '';
CREATE TABLE page_retries (
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (feed_url, entry_id)
);
"#,
];

/// `gleaner_schema.version`, or `None` before gleaner set the database up.
pub(super) fn schema_version(client: &mut Client) -> Result<Option<i64>, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('gleaner_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client.query_opt("SELECT version FROM gleaner_schema", &[])?;
    Ok(Some(row.map_or(0, |r| r.get(0))))
}

/// Whether the tables of instances sharing the work exist (they are made
/// after the numbered migrations, see [`migrate_locked`]).
fn has_sharing_tables(client: &mut Client) -> Result<bool, StoreError> {
    Ok(client
        .query_one(
            "SELECT to_regclass('gleaner_leases') IS NOT NULL
                AND to_regclass('gleaner_hosts') IS NOT NULL",
            &[],
        )?
        .get(0))
}

pub(super) fn migrate(client: &mut Client, shown: &Path) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as i64;
    if schema_version(client)?.is_some_and(|v| v == supported) && has_sharing_tables(client)? {
        return Ok(());
    }
    // Instances starting together take turns; the later ones find it done.
    client.execute(
        "SELECT pg_advisory_lock(hashtextextended('gleaner migrate', 0))",
        &[],
    )?;
    let result = migrate_locked(client, shown, supported);
    let unlocked = client.execute(
        "SELECT pg_advisory_unlock(hashtextextended('gleaner migrate', 0))",
        &[],
    );
    result?;
    unlocked?;
    Ok(())
}

fn migrate_locked(client: &mut Client, shown: &Path, supported: i64) -> Result<(), StoreError> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS gleaner_schema (
             one     BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
             version BIGINT NOT NULL
         );
         INSERT INTO gleaner_schema (version) VALUES (0) ON CONFLICT DO NOTHING;",
    )?;
    let version = schema_version(client)?.unwrap_or(0);
    if version > supported {
        return Err(StoreError::TooNew {
            path: shown.to_owned(),
            found: version,
            supported,
        });
    }
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        let mut tx = client.transaction()?;
        tx.batch_execute(sql)?;
        tx.execute(
            "UPDATE gleaner_schema SET version = $1",
            &[&(index as i64 + 1)],
        )?;
        tx.commit()?;
    }
    // How instances share the work: PostgreSQL's alone, outside the
    // numbered migrations (which stay SQLite's, one for one).
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS gleaner_leases (
             feed_url   TEXT COLLATE \"C\" PRIMARY KEY,
             holder     TEXT,
             claimed_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
             expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
         );
         CREATE TABLE IF NOT EXISTS gleaner_hosts (
             host       TEXT COLLATE \"C\" PRIMARY KEY,
             next_start TIMESTAMPTZ NOT NULL
         );",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sqlite_migration_has_its_postgresql_twin() {
        // A version number means one schema on both backends: a migration
        // added to SQLite's list needs its PostgreSQL form here.
        assert_eq!(
            super::MIGRATIONS.len(),
            crate::store::sqlite::MIGRATIONS.len()
        );
    }
}
