//! The schema, once: one numbered list of migrations for both backends, so
//! that a version means one schema on SQLite and on PostgreSQL. Most are
//! written once ([`Migration::Both`]), in PostgreSQL's types, with the few
//! words SQLite says otherwise named in [`DIALECT`]. Where the dialects
//! really differ (FTS5 against a tsvector, how a column gains NOT NULL) the
//! migration says so ([`Migration::Each`]).
//!
//! SQLite counts the migrations applied in `PRAGMA user_version`,
//! PostgreSQL in `gleaner_schema.version`; each backend runs them in its
//! `migrate`. Add a migration at the end, never change one that shipped.

use std::borrow::Cow;

use super::sql::Dialect;

/// One step of the schema.
pub(in crate::store) enum Migration {
    /// The same SQL on both, read through [`DIALECT`].
    Both(&'static str),
    /// Each dialect's own SQL for one change.
    Each {
        /// SQLite's.
        sqlite: &'static str,
        /// PostgreSQL's.
        postgres: &'static str,
    },
}

impl Migration {
    /// The SQL `dialect` runs.
    pub(in crate::store) fn sql(&self, dialect: Dialect) -> Cow<'static, str> {
        match (self, dialect) {
            (Migration::Both(sql), _) => Cow::Owned(DIALECT.iter().fold(
                sql.to_string(),
                |sql, (word, sqlite, postgres)| {
                    sql.replace(
                        word,
                        if dialect == Dialect::Sqlite {
                            sqlite
                        } else {
                            postgres
                        },
                    )
                },
            )),
            (Migration::Each { sqlite, .. }, Dialect::Sqlite) => Cow::Borrowed(sqlite),
            (Migration::Each { postgres, .. }, Dialect::Postgres) => Cow::Borrowed(postgres),
        }
    }
}

/// The words a [`Migration::Both`] is written with that SQLite says its own
/// way: `(word, SQLite's, PostgreSQL's)`. The braced ones are only names.
const DIALECT: &[(&str, &str, &str)] = &[
    // A key that counts up and never reuses a number (a deleted row's
    // included): `articles.seq`.
    (
        "{serial key}",
        "INTEGER PRIMARY KEY AUTOINCREMENT",
        "BIGSERIAL PRIMARY KEY",
    ),
    // A table that is its key: SQLite stores it without a rowid.
    ("{without rowid}", " WITHOUT ROWID", ""),
    // The order sightings were stored: SQLite's rowid, a column here.
    ("{source order}", "", "source_seq BIGSERIAL PRIMARY KEY,"),
    // Text compared by bytes, so that RFC 3339 text order is time order:
    // how SQLite always compares text.
    (" COLLATE \"C\"", "", " COLLATE \"C\""),
    // SQLite's INTEGER is 64 bits.
    ("BIGINT", "INTEGER", "BIGINT"),
    ("BYTEA", "BLOB", "BYTEA"),
];

/// Every migration, in order: entry N takes a database from version N to N + 1.
pub(in crate::store) const MIGRATIONS: &[Migration] = &[
    // 0
    Migration::Both(
        r#"
CREATE TABLE articles (
    seq            {serial key},
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
){without rowid};
CREATE INDEX article_keys_article ON article_keys (article_seq);

CREATE TABLE sources (
    {source order}
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
){without rowid};
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
    ),
    // 1
    Migration::Both(
        r#"
-- The repairs (space-separated names, see feed::Repair) the last parsed
-- fetch of a feed needed; '' for a healthy feed.
ALTER TABLE feeds ADD COLUMN repairs TEXT NOT NULL DEFAULT '';
"#,
    ),
    // 2
    Migration::Both(
        r#"
-- Where the feed's URL permanently redirects (301/308 on every hop) as of
-- its last successful fetch; NULL when it does not.
ALTER TABLE feeds ADD COLUMN moved_to TEXT;
"#,
    ),
    // 3
    Migration::Both(
        r#"
-- Adaptive schedules: the feed's RSS <ttl> as of its last parsed fetch, and
-- the interval its publications suggest (NULL for cron-scheduled feeds).
ALTER TABLE feeds ADD COLUMN ttl_secs BIGINT;
ALTER TABLE feeds ADD COLUMN poll_interval_secs BIGINT;
"#,
    ),
    // 4
    Migration::Each {
        sqlite: r#"
-- Full-text search over title and text (gleaner search), kept in step with
-- articles by triggers; existing articles are indexed once here.
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, content_text,
    content = 'articles', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, content_text)
    VALUES (new.seq, new.title, new.content_text);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, content_text)
    VALUES ('delete', old.seq, old.title, old.content_text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, content_text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, content_text)
    VALUES ('delete', old.seq, old.title, old.content_text);
    INSERT INTO articles_fts (rowid, title, content_text)
    VALUES (new.seq, new.title, new.content_text);
END;
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
"#,
        // Full-text search: SQLite's FTS5 table; here a generated tsvector.
        postgres: "ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS
         (setweight(to_tsvector('simple', coalesce(title, '')), 'A')
          || to_tsvector('simple', coalesce(content_text, ''))) STORED;
     CREATE INDEX articles_search ON articles USING gin (search);",
    },
    // 5
    Migration::Both(
        r#"
-- Retention: a purged article keeps its row (id, links, dates), its sources
-- and its dedup keys as a tombstone, so it is never stored as new again;
-- its body and title are gone and exports and search skip it.
ALTER TABLE articles ADD COLUMN purged_at TEXT COLLATE "C";
"#,
    ),
    // 6
    Migration::Both(
        r#"
-- [storage] keep_html: each article's page as fetched, zstd-compressed, so
-- gleaner reextract can run a newer extractor without fetching again.
CREATE TABLE pages (
    article_seq  BIGINT PRIMARY KEY REFERENCES articles (seq),
    url          TEXT NOT NULL,
    content_type TEXT,
    fetched_at   TEXT NOT NULL,
    body_zstd    BYTEA NOT NULL
);
"#,
    ),
    // 7
    Migration::Both(
        r#"
-- [[deliver]]: how each consumer's pushes went (the cursor itself is in
-- consumers), for gleaner deliveries.
CREATE TABLE deliveries (
    name                 TEXT COLLATE "C" PRIMARY KEY,
    last_attempt_at      TEXT COLLATE "C" NOT NULL,
    last_success_at      TEXT COLLATE "C",
    last_error           TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    delivered            BIGINT NOT NULL DEFAULT 0
);
"#,
    ),
    // 8
    Migration::Both(
        r#"
-- How many entries the feed's filter rules (block/keep) dropped in its last
-- fetched poll.
ALTER TABLE feeds ADD COLUMN filtered BIGINT NOT NULL DEFAULT 0;
"#,
    ),
    // 9
    Migration::Both(
        r#"
-- The entry's own categories and its media files (feed::Enclosure), as
-- JSON arrays; NULL when it has none.
ALTER TABLE articles ADD COLUMN categories TEXT;
ALTER TABLE articles ADD COLUMN enclosures TEXT;
"#,
    ),
    // 10
    Migration::Each {
        sqlite: r#"
-- PostgreSQL's search column now splits words at punctuation, as FTS5's
-- unicode61 tokenizer here always has: nothing changes in SQLite, but a
-- version still means one schema on both backends.
SELECT 1;
"#,
        // Words split at ASCII punctuation, as SQLite's unicode61 splits them:
        // PostgreSQL's parser kept `www.example.com`, `a@b.org` and URLs as one
        // token each, so `example` did not find them. (`translate` is immutable
        // and knows no locale; the typed words get the same, see `pg::search`.)
        postgres: r##"ALTER TABLE articles DROP COLUMN search;
     ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS
         (setweight(to_tsvector('simple', translate(coalesce(title, ''),
              '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                ')), 'A')
          || to_tsvector('simple', translate(coalesce(content_text, ''),
              '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '))) STORED;
     CREATE INDEX articles_search ON articles USING gin (search);"##,
    },
    // 11
    Migration::Each {
        sqlite: r#"
-- Exactly-once export to filtered consumers: the position at which each
-- source and tag was added to its article (the article's seq when stored
-- with it, a later number of the same counter when another sighting added
-- it), so that an article entering a consumer's selection after the
-- consumer passed its seq is still given (see read::for_each_article).
-- Rows stored before came with their article.
ALTER TABLE sources ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
UPDATE sources SET pos = article_seq;
CREATE INDEX sources_pos ON sources (pos);
ALTER TABLE article_tags ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
UPDATE article_tags SET pos = article_seq;
CREATE INDEX article_tags_pos ON article_tags (pos);
"#,
        postgres: "ALTER TABLE sources ADD COLUMN pos BIGINT;
     UPDATE sources SET pos = article_seq;
     ALTER TABLE sources ALTER COLUMN pos SET NOT NULL;
     CREATE INDEX sources_pos ON sources (pos);
     ALTER TABLE article_tags ADD COLUMN pos BIGINT;
     UPDATE article_tags SET pos = article_seq;
     ALTER TABLE article_tags ALTER COLUMN pos SET NOT NULL;
     CREATE INDEX article_tags_pos ON article_tags (pos);",
    },
    // 12
    Migration::Both(
        r#"
-- article::verdict: how many article pages the feed's last fetched poll
-- judged and how many were interstitials of each kind ('pages=5 consent=3').
ALTER TABLE feeds ADD COLUMN interstitials TEXT NOT NULL DEFAULT '';
-- Entries whose page was an interstitial, stored with the feed's text: the
-- page is tried again at next_at (at most store::retries::MAX_RETRIES times).
CREATE TABLE page_retries (
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (feed_url, entry_id)
);
"#,
    ),
    // 13
    Migration::Both(
        r#"
-- Near-duplicates (store::shared::near_dup). Every row carries when it was
-- stored (unix seconds): only rows of the window are looked at, and gc
-- drops older ones. The LSH band keys of each article's signatures:
CREATE TABLE near_dup_bands (
    band_key    BIGINT NOT NULL,
    article_seq BIGINT NOT NULL REFERENCES articles (seq),
    stored_at   BIGINT NOT NULL,
    PRIMARY KEY (band_key, article_seq)
) {without rowid};
-- Each signature (of the article's text and of the copies merged into it)
-- with the sorted block keys of its text and the host they were counted
-- under (rows near a kilobyte: a rowid table on SQLite, which packs them).
CREATE TABLE near_dup_sketches (
    article_seq BIGINT NOT NULL REFERENCES articles (seq),
    sketch_key  BIGINT NOT NULL,
    host        BIGINT NOT NULL,
    stored_at   BIGINT NOT NULL,
    signature   BYTEA NOT NULL,
    blocks      BYTEA NOT NULL,
    PRIMARY KEY (article_seq, sketch_key)
);
-- Which articles of a host (a hash of its name) have each block of text:
-- a block in several is the host's boilerplate.
CREATE TABLE near_dup_blocks (
    host        BIGINT NOT NULL,
    block_key   BIGINT NOT NULL,
    article_seq BIGINT NOT NULL REFERENCES articles (seq),
    stored_at   BIGINT NOT NULL,
    PRIMARY KEY (host, block_key, article_seq)
) {without rowid};
-- Sightings of the feed merged into a stored article as near-duplicates.
ALTER TABLE feeds ADD COLUMN near_duplicates BIGINT NOT NULL DEFAULT 0;
"#,
    ),
    // 14
    Migration::Both(
        r#"
-- The feed's own title and what its document was (feed::FeedFormat), as of
-- its last parsed fetch: `feeds --json` and `export-opml` show them.
ALTER TABLE feeds ADD COLUMN title TEXT;
ALTER TABLE feeds ADD COLUMN format TEXT;
"#,
    ),
    // 15
    Migration::Both(
        r#"
-- A consumer's lock as a lease with a fencing token (store::consumer_lock):
-- every claim of the consumer adds one to claim_token, and a cursor moves
-- only while the token is still the mover's, in the same statement. The
-- lease (holder, and until when in the server's clock, as milliseconds
-- since 1970) is what instances sharing a PostgreSQL database wait on;
-- SQLite's file lock cannot be lost, so a claim there always takes it.
ALTER TABLE consumers ADD COLUMN claim_token BIGINT NOT NULL DEFAULT 0;
ALTER TABLE consumers ADD COLUMN claim_holder TEXT;
ALTER TABLE consumers ADD COLUMN claim_until_ms BIGINT;
"#,
    ),
    // 16
    Migration::Each {
        sqlite: r#"
-- PostgreSQL's search column is now made of the words SQLite's tokenizer
-- finds (store::search): nothing changes here, but a version still means
-- one schema on both backends.
SELECT 1;
"#,
        // The words come from gleaner (postgres::search::index_pending), not
        // from the parser and lower(), which follow the database's locale: a
        // C database folded no non-ASCII letter, C.UTF-8 dropped `½`. A row
        // whose title or text changes is left for gleaner to index again.
        postgres: r#"ALTER TABLE articles DROP COLUMN search;
     ALTER TABLE articles ADD COLUMN search tsvector;
     CREATE INDEX articles_search ON articles USING gin (search);
     CREATE INDEX articles_unindexed ON articles (seq) WHERE search IS NULL;
     CREATE FUNCTION gleaner_search_stale() RETURNS trigger LANGUAGE plpgsql AS
         'BEGIN NEW.search := NULL; RETURN NEW; END';
     CREATE TRIGGER articles_search_stale BEFORE UPDATE OF title, content_text ON articles
         FOR EACH ROW EXECUTE FUNCTION gleaner_search_stale();"#,
    },
    // 17
    Migration::Each {
        // Near-duplicate candidates are found by the blocks of text they
        // share verbatim (store::shared::near_dup), not by LSH band keys:
        // the bands go, and the blocks are keyed by block first, so that
        // one index answers "which articles have this block" and "how many
        // of this host's do". Every block row is kept (new articles add
        // rows for their 4 largest blocks only). The signatures are
        // now one-permutation MinHash, which the old ones cannot be compared
        // with: they go, so articles stored before this version count for
        // their hosts' boilerplate but are no longer merged into (a copy of
        // one is delivered as an article of its own).
        sqlite: r#"
DROP TABLE near_dup_bands;
CREATE TABLE near_dup_blocks_by_key (
    block_key   INTEGER NOT NULL,
    host        INTEGER NOT NULL,
    article_seq INTEGER NOT NULL REFERENCES articles (seq),
    stored_at   INTEGER NOT NULL,
    PRIMARY KEY (block_key, host, article_seq)
) WITHOUT ROWID;
INSERT INTO near_dup_blocks_by_key (block_key, host, article_seq, stored_at)
    SELECT block_key, host, article_seq, stored_at FROM near_dup_blocks;
DROP TABLE near_dup_blocks;
ALTER TABLE near_dup_blocks_by_key RENAME TO near_dup_blocks;
DELETE FROM near_dup_sketches;
"#,
        postgres: r#"
DROP TABLE near_dup_bands;
ALTER TABLE near_dup_blocks DROP CONSTRAINT near_dup_blocks_pkey,
    ADD PRIMARY KEY (block_key, host, article_seq);
DELETE FROM near_dup_sketches;
"#,
    },
    // 18
    Migration::Each {
        // A new article is indexed for search when its write transaction
        // commits, all of them in one statement (`sqlite::flush_search`),
        // not by a trigger as it is stored. FTS5 writes what it holds in
        // memory to a segment of its own at every statement savepoint
        // (SQLite opens one for each statement that writes through a
        // trigger or several rows, so for each article a poll stored after
        // the first), and merges those segments later: a segment per
        // article was 3 % of the first pass's instructions. The pending
        // articles are listed in `articles_fts_pending`; an update or delete
        // of one of them leaves the index alone, since it does not hold it
        // yet (deleting from an external-content index what it never held
        // corrupts it).
        sqlite: r#"
DROP TRIGGER articles_fts_insert;
DROP TRIGGER articles_fts_update;
DROP TRIGGER articles_fts_delete;
CREATE TABLE articles_fts_pending (seq INTEGER PRIMARY KEY);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT OR IGNORE INTO articles_fts_pending (seq) VALUES (new.seq);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, content_text ON articles
WHEN NOT EXISTS (SELECT 1 FROM articles_fts_pending WHERE seq = old.seq) BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, content_text)
    VALUES ('delete', old.seq, old.title, old.content_text);
    INSERT INTO articles_fts (rowid, title, content_text)
    VALUES (new.seq, new.title, new.content_text);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, content_text)
    SELECT 'delete', old.seq, old.title, old.content_text
    WHERE NOT EXISTS (SELECT 1 FROM articles_fts_pending WHERE seq = old.seq);
    DELETE FROM articles_fts_pending WHERE seq = old.seq;
END;
"#,
        // PostgreSQL's tsvector is a column of the row: nothing to change.
        postgres: "",
    },
];
