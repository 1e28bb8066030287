//! `gleaner reextract`'s writes: new bodies for kept pages.

use crate::store::backend::Reextractions;
use crate::store::model::{Applied, Reextraction};
use crate::store::sql::SqlBackend;
use crate::store::{StoreError, nul};

/// The article `?1` is still as its page `?2`..`?5` (URL, kept at, bytes,
/// the body's origin) was read with: not purged (`gc` since), the same
/// kept page (a poll since replaced it when the entry's link changed), the
/// body from the same origin.
macro_rules! still_as_read {
    () => {
        "a.seq = ?1 AND a.purged_at IS NULL AND a.content_source = ?5
         AND EXISTS (SELECT 1 FROM pages p WHERE p.article_seq = a.seq
                     AND p.url = ?2 AND p.fetched_at = ?3 AND p.body_zstd = ?4)"
    };
}

/// Under the write lock (SQLite's taken first, PostgreSQL's `gleaner
/// write`), so that a poll or a `gc` of any instance waits rather than
/// interleaving; the check is in the UPDATE too.
impl<B: SqlBackend> Reextractions for B {
    fn apply_reextractions(&mut self, new: &[Reextraction]) -> Result<Applied, StoreError> {
        let new = nul::reextractions(new);
        self.write(true, |c| {
            let mut applied = Applied::default();
            for r in new.iter() {
                let page = &r.page;
                let read_as = [
                    page.seq.into(),
                    (&page.url).into(),
                    (&page.fetched_at).into(),
                    page.body_zstd.as_slice().into(),
                    (&page.content_source).into(),
                ];
                let Some(stored) = c.row(
                    concat!(
                        "SELECT a.content_html, a.content_text FROM articles a WHERE ",
                        still_as_read!()
                    ),
                    &read_as,
                )?
                else {
                    applied.changed_meanwhile += 1;
                    continue;
                };
                if stored.get::<Option<String>>("content_html")?.as_deref()
                    == Some(r.content_html.as_str())
                    && stored.get::<Option<String>>("content_text")?.as_deref()
                        == Some(r.content_text.as_str())
                {
                    continue;
                }
                let updated = c.run(
                    concat!(
                        "UPDATE articles AS a SET content_html = ?6, content_text = ?7,
                             word_count = ?8, content_source = 'article'
                         WHERE ",
                        still_as_read!()
                    ),
                    &[
                        &read_as[..],
                        &[
                            (&r.content_html).into(),
                            (&r.content_text).into(),
                            i64::from(r.word_count).into(),
                        ],
                    ]
                    .concat(),
                )?;
                if updated > 0 {
                    if let Some(incoming) = &r.near_dup {
                        super::near_dup::reindex(c, page.seq, incoming, &page.url)?;
                    }
                    applied.changed += 1;
                } else {
                    applied.changed_meanwhile += 1;
                }
            }
            Ok(applied)
        })
    }
}
