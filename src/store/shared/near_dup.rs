//! The near-duplicate index (issue 26): the storage half of `near_dup`,
//! written once for both backends over the statement layer.
//!
//! Two tables (schema migrations 13 and 17): the signatures with all the
//! block keys of their texts (`near_dup_sketches`), and which articles of
//! which host have each of their [`INDEXED_BLOCKS`] largest blocks of text
//! (`near_dup_blocks`, keyed by the block). The block rows answer both
//! questions the lookup asks: which of the incoming text's blocks are its
//! host's boilerplate (among the largest blocks of [`BOILERPLATE_ARTICLES`]
//! other articles of the host), and which stored articles have one of its
//! other blocks among their largest, the candidates. `near_dup::same_story`
//! merges only a text with at least half its shingles in blocks the stored
//! text has verbatim, so a copy keeps some of the stored text's largest
//! blocks unless it changed most of it. No LSH band keys: their 32 rows of
//! random keys per article were most of the cost of writing the index (a
//! page each to write back), and the block rows, a few per article, find
//! more copies. Every row carries when it was stored: only rows of the last
//! [`WINDOW_SECS`] are looked at, and `gc` drops older ones with those of
//! purged articles.
//!
//! `dedup::record_sighting` asks [`NearDup::find`] once the exact keys
//! missed, inside the poll's transaction, and [`NearDup::index`] adds the
//! article's rows under the seq it is stored (or merged) as.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use url::Url;

use crate::near_dup::{
    BOILERPLATE_ARTICLES, INDEXED_BLOCKS, Incoming, Signature, Stored, same_story,
};
use crate::store::sql::{Conn, Value};
use crate::store::{StoreError, parse_time};

/// Only articles stored within this many seconds are candidates, and a
/// block is a host's boilerplate by the articles of this window: a week,
/// in which a story's copies appear, while the index stays a week's worth.
pub(in crate::store) const WINDOW_SECS: i64 = 7 * 24 * 3600;

/// At most this many candidates (those sharing the most text verbatim
/// first) are judged per article.
const MAX_CANDIDATES: usize = 16;

/// At most this many (block, article) rows are read per chunk of block keys
/// when looking for candidates: a block that many articles of the window
/// share is chrome of many hosts, not one story's text.
const MAX_BLOCK_ROWS: i64 = 1024;

/// Block keys per statement: the boilerplate lookup and the block rows go
/// in chunks of this many (the last padded with a repeat).
const CHUNK: usize = 16;

/// An incoming article's part in the index, for one sighting.
pub(in crate::store) struct NearDup<'a> {
    incoming: &'a Incoming,
    host: i64,
    now: i64,
    prepared: Option<Prepared>,
}

/// The incoming text as the host's stored articles make it: its
/// signature without the host's boilerplate blocks.
struct Prepared {
    boilerplate: HashSet<u64>,
    signature: Option<Signature>,
}

impl<'a> NearDup<'a> {
    /// `None` when the article brings no sketch (`[dedup] near_duplicates`
    /// off). The host is the link's (else the feed's); `now` the poll's
    /// stored time.
    pub(in crate::store) fn of(
        article: &'a crate::store::model::ArticleRecord,
        link: Option<&Url>,
        feed_url: &str,
        now: &str,
    ) -> Option<NearDup<'a>> {
        let incoming = article.near_dup.as_ref()?;
        Some(NearDup::new(
            incoming,
            link.or(article.url.as_ref()),
            feed_url,
            now,
        ))
    }

    fn new(incoming: &'a Incoming, link: Option<&Url>, feed_url: &str, now: &str) -> Self {
        // The feed's URL is parsed only when there is no link.
        let feed = || Url::parse(feed_url).ok();
        let host = match link {
            Some(link) => host_key(link.host_str().unwrap_or(feed_url)),
            None => host_key(feed().as_ref().and_then(Url::host_str).unwrap_or(feed_url)),
        };
        NearDup {
            incoming,
            host,
            now: parse_time(now).map_or(0, |t| t.timestamp()),
            prepared: None,
        }
    }

    fn since(&self) -> i64 {
        self.now.saturating_sub(WINDOW_SECS)
    }

    /// Works out the boilerplate and the signature once; `except`: an
    /// article whose own blocks do not count (the one being updated).
    fn prepare(&mut self, tx: &mut dyn Conn, except: Option<i64>) -> Result<(), StoreError> {
        if self.prepared.is_some() {
            return Ok(());
        }
        let keys: Vec<u64> = distinct(self.incoming.sketch.block_keys());
        let mut boilerplate = HashSet::new();
        for chunk in keys.chunks(CHUNK) {
            let mut params: Vec<Value<'_>> = vec![
                self.host.into(),
                self.since().into(),
                except.unwrap_or(-1).into(),
            ];
            params.extend(padded(chunk, CHUNK));
            params.push(i64::from(BOILERPLATE_ARTICLES).into());
            for row in tx.rows(&BOILERPLATE_SQL, &params)? {
                boilerplate.insert(row.get::<i64>("block_key")? as u64);
            }
        }
        let signature = self
            .incoming
            .sketch
            .signature(|k| !boilerplate.contains(&k));
        self.prepared = Some(Prepared {
            boilerplate,
            signature,
        });
        Ok(())
    }

    /// The stored article (within the window, not another entry of
    /// `feed_url`) that the incoming text is the same story as by
    /// `near_dup::same_story`; counted as the feed's near-duplicate merge.
    pub(in crate::store) fn find(
        &mut self,
        tx: &mut dyn Conn,
        feed_url: &str,
        entry_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.prepare(tx, None)?;
        let Some(prepared) = &self.prepared else {
            return Ok(None);
        };
        if prepared.signature.is_none() {
            return Ok(None);
        }
        let candidates = self.candidates(tx, &prepared.boilerplate)?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut params: Vec<Value<'_>> = padded_seqs(&candidates).collect();
        params.extend([Value::from(feed_url), Value::from(entry_id)]);
        let mut rows = tx.rows(&SKETCHES_SQL, &params)?;
        // Best candidate first (the most text verbatim), then oldest.
        rows.sort_by_key(|row| {
            let seq = row.get::<i64>("article_seq").unwrap_or(i64::MAX);
            candidates.iter().position(|c| *c == seq)
        });
        let boilerplate = |k: u64| prepared.boilerplate.contains(&k);
        for row in rows {
            let (Some(stored), Some(blocks)) = (
                Signature::from_bytes(&row.get::<Vec<u8>>("signature")?),
                keys_of(&row.get::<Vec<u8>>("blocks")?),
            ) else {
                continue;
            };
            let stored = Stored {
                signature: &stored,
                blocks: &blocks,
            };
            let verdict = same_story(
                &self.incoming.sketch,
                &boilerplate,
                stored,
                self.incoming.similarity,
            );
            if verdict.same {
                tx.run(
                    "UPDATE feeds SET near_duplicates = near_duplicates + 1 WHERE url = ?1",
                    &[feed_url.into()],
                )?;
                return row.get("article_seq").map(Some);
            }
        }
        Ok(None)
    }

    /// The stored articles (within the window) that have any of the
    /// incoming text's blocks outside `boilerplate` among their indexed
    /// ones: those sharing the most of its shingles first, at most
    /// [`MAX_CANDIDATES`].
    fn candidates(
        &self,
        tx: &mut dyn Conn,
        boilerplate: &HashSet<u64>,
    ) -> Result<Vec<i64>, StoreError> {
        // Each kept block's shingles (a block repeated in the text counts
        // each time, as the signature counts it).
        let mut weights: HashMap<u64, u32> = HashMap::new();
        for (key, n) in self.incoming.sketch.blocks() {
            if !boilerplate.contains(&key) {
                let weight = weights.entry(key).or_default();
                *weight = weight.saturating_add(n);
            }
        }
        let keys = distinct(weights.keys().copied());
        let mut shared: HashMap<i64, u32> = HashMap::new();
        for chunk in keys.chunks(CHUNK) {
            let mut params: Vec<Value<'_>> = vec![self.since().into()];
            params.extend(padded(chunk, CHUNK));
            for row in tx.rows(&SHARED_BLOCKS_SQL, &params)? {
                let key = row.get::<i64>("block_key")? as u64;
                let n = weights.get(&key).copied().unwrap_or(0);
                let total = shared.entry(row.get("article_seq")?).or_default();
                *total = total.saturating_add(n);
            }
        }
        let mut found: Vec<(i64, u32)> = shared.into_iter().collect();
        found.sort_by_key(|(seq, n)| (std::cmp::Reverse(*n), *seq));
        Ok(found
            .into_iter()
            .take(MAX_CANDIDATES)
            .map(|(seq, _)| seq)
            .collect())
    }

    /// Adds the incoming text to the index as article `seq`'s: its
    /// signature with all its block keys (when it has one), and its
    /// [`INDEXED_BLOCKS`] largest blocks under the host.
    pub(in crate::store) fn index(
        &mut self,
        tx: &mut dyn Conn,
        seq: i64,
    ) -> Result<(), StoreError> {
        self.prepare(tx, Some(seq))?;
        let Some(prepared) = &self.prepared else {
            return Ok(());
        };
        let blocks = distinct(self.incoming.sketch.block_keys());
        let indexed = self.incoming.sketch.largest_blocks(INDEXED_BLOCKS);
        if let Some(signature) = &prepared.signature {
            let bytes = signature.to_bytes();
            let packed: Vec<u8> = blocks.iter().flat_map(|k| k.to_le_bytes()).collect();
            tx.run(
                "INSERT INTO near_dup_sketches
                     (article_seq, sketch_key, host, stored_at, signature, blocks)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                &[
                    seq.into(),
                    sketch_key(&bytes).into(),
                    self.host.into(),
                    self.now.into(),
                    bytes.as_slice().into(),
                    packed.as_slice().into(),
                ],
            )?;
        }
        if !indexed.is_empty() {
            let mut params: Vec<Value<'_>> = vec![self.host.into(), seq.into(), self.now.into()];
            params.extend(padded(&indexed, INDEXED_BLOCKS));
            tx.run(&BLOCKS_INSERT_SQL, &params)?;
        }
        Ok(())
    }
}

/// Replaces article `seq`'s rows by those of its re-extracted text
/// (`incoming`, from its page at `page_url`), stored as of the article's
/// first storage: a re-extraction does not make an old article a
/// candidate again. Articles already stored apart stay apart; later
/// copies are judged against the new text.
pub(in crate::store) fn reindex(
    tx: &mut dyn Conn,
    seq: i64,
    incoming: &Incoming,
    page_url: &str,
) -> Result<(), StoreError> {
    forget(tx, seq)?;
    let Some(row) = tx.row(
        "SELECT a.fetched_at, (SELECT s.feed_url FROM sources s WHERE s.article_seq = a.seq
                                ORDER BY s.pos LIMIT 1) AS feed_url
         FROM articles a WHERE a.seq = ?1",
        &[seq.into()],
    )?
    else {
        return Ok(());
    };
    let stored: String = row.get("fetched_at")?;
    let feed_url: String = row.get::<Option<String>>("feed_url")?.unwrap_or_default();
    let link = Url::parse(page_url).ok();
    NearDup::new(incoming, link.as_ref(), &feed_url, &stored).index(tx, seq)
}

/// Forgets article `seq`'s rows (its text was re-extracted: the new
/// text's come next).
fn forget(tx: &mut dyn Conn, seq: i64) -> Result<(), StoreError> {
    let rows = tx.rows(
        "SELECT host, blocks FROM near_dup_sketches WHERE article_seq = ?1",
        &[seq.into()],
    )?;
    for row in rows {
        let host: i64 = row.get("host")?;
        for chunk in keys_of(&row.get::<Vec<u8>>("blocks")?)
            .unwrap_or_default()
            .chunks(CHUNK)
        {
            let mut params: Vec<Value<'_>> = vec![host.into(), seq.into()];
            params.extend(padded(chunk, CHUNK));
            tx.run(&BLOCKS_DELETE_SQL, &params)?;
        }
    }
    tx.run(
        "DELETE FROM near_dup_sketches WHERE article_seq = ?1",
        &[seq.into()],
    )?;
    Ok(())
}

/// Drops the rows of purged articles and those stored before the window
/// (never candidates again), for `gc` and the daemon's retention.
pub(in crate::store) fn forget_purged(tx: &mut dyn Conn, now: i64) -> Result<(), StoreError> {
    let since = now.saturating_sub(WINDOW_SECS);
    tx.run(
        "DELETE FROM near_dup_sketches WHERE stored_at < ?1 OR EXISTS (SELECT 1 FROM articles a
             WHERE a.seq = near_dup_sketches.article_seq AND a.purged_at IS NOT NULL)",
        &[since.into()],
    )?;
    tx.run(
        "DELETE FROM near_dup_blocks WHERE stored_at < ?1 OR EXISTS (SELECT 1 FROM articles a
             WHERE a.seq = near_dup_blocks.article_seq AND a.purged_at IS NOT NULL)",
        &[since.into()],
    )?;
    Ok(())
}

/// A host's name as the index keys it: the first 8 bytes of its SHA-256.
fn host_key(host: &str) -> i64 {
    first_i64(&Sha256::digest(host.to_ascii_lowercase().as_bytes()))
}

/// Which signature a row is, among an article's (so a text seen twice is
/// stored once).
fn sketch_key(signature: &[u8]) -> i64 {
    first_i64(&Sha256::digest(signature))
}

fn first_i64(digest: &[u8]) -> i64 {
    let mut bytes = [0u8; 8];
    for (b, d) in bytes.iter_mut().zip(digest) {
        *b = *d;
    }
    i64::from_le_bytes(bytes)
}

/// A chunk of block keys as [`CHUNK`] values, the last key repeated to
/// fill it, as the databases' signed 64-bit integers keep them (the same
/// bits).
fn padded(chunk: &[u64], size: usize) -> impl Iterator<Item = Value<'static>> + '_ {
    let last = chunk.last().copied().unwrap_or(0);
    (0..size).map(move |i| Value::from(chunk.get(i).copied().unwrap_or(last) as i64))
}

/// Up to [`MAX_CANDIDATES`] article seqs as that many values, the last
/// repeated to fill them.
fn padded_seqs(seqs: &[i64]) -> impl Iterator<Item = Value<'static>> + '_ {
    let last = seqs.last().copied().unwrap_or(-1);
    (0..MAX_CANDIDATES).map(move |i| Value::from(seqs.get(i).copied().unwrap_or(last)))
}

fn distinct(keys: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut keys: Vec<u64> = keys.collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Reads a stored block list (sorted little-endian u64s); `None` when the
/// bytes are not one.
fn keys_of(bytes: &[u8]) -> Option<Vec<u64>> {
    if !bytes.len().is_multiple_of(8) {
        return None;
    }
    let keys: Vec<u64> = bytes
        .chunks_exact(8)
        .filter_map(|b| b.try_into().ok().map(u64::from_le_bytes))
        .collect();
    keys.is_sorted().then_some(keys)
}

/// `?first`, `?first+1`, … `count` placeholders, comma-separated.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements with a list of keys, made once (a `&'static str` each,
/// like every statement: the backends cache them prepared).
///
/// Which of a chunk of block keys `?4`… are in at least `?20` articles of
/// host `?1` stored since `?2`, article `?3` aside.
static BOILERPLATE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT block_key FROM near_dup_blocks
         WHERE host = ?1 AND stored_at >= ?2 AND article_seq <> ?3 AND block_key IN ({})
         GROUP BY block_key HAVING count(*) >= ?{}",
        placeholders(4, CHUNK),
        4 + CHUNK
    )
});

/// Which articles stored since `?1` have which of a chunk of block keys
/// `?2`…, at most [`MAX_BLOCK_ROWS`] rows. The limit is written into the
/// statement, not bound: SQLite treats a bound LIMIT as a constant of the
/// plan and compiles the statement again each time it is bound, which was
/// a third of what looking up an article's candidates cost.
static SHARED_BLOCKS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT DISTINCT block_key, article_seq FROM near_dup_blocks
         WHERE block_key IN ({}) AND stored_at >= ?1 LIMIT {MAX_BLOCK_ROWS}",
        placeholders(2, CHUNK)
    )
});

/// The signatures of the candidate articles `?1`… that are no other entry
/// (`?{entry}`) of the incoming one's feed (`?{feed}`).
static SKETCHES_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT k.article_seq, k.signature, k.blocks FROM near_dup_sketches k
         WHERE k.article_seq IN ({})
           AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
                           AND s.feed_url = ?{feed} AND s.entry_id <> ?{entry})
         ORDER BY k.article_seq, k.sketch_key",
        placeholders(1, MAX_CANDIDATES),
        feed = MAX_CANDIDATES + 1,
        entry = MAX_CANDIDATES + 2,
    )
});

static BLOCKS_INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    let values: Vec<String> = (4..4 + INDEXED_BLOCKS)
        .map(|i| format!("(?1, ?{i}, ?2, ?3)"))
        .collect();
    format!(
        "INSERT INTO near_dup_blocks (host, block_key, article_seq, stored_at) VALUES {}
         ON CONFLICT DO NOTHING",
        values.join(", ")
    )
});

static BLOCKS_DELETE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "DELETE FROM near_dup_blocks WHERE host = ?1 AND article_seq = ?2 AND block_key IN ({})",
        placeholders(3, CHUNK)
    )
});
