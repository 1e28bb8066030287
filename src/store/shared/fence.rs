//! Every write of a poll is fenced by its feed's lease, on both backends:
//! the first statement of the poll's transaction checks that the lease is
//! still the poll's claim and keeps it so until the transaction ends.

use crate::store::StoreError;
use crate::store::model::Claim;
use crate::store::sql::Conn;

/// Fails with [`StoreError::LeaseLost`] unless `feed_url`'s lease is still
/// `claim`: the same holder and the same claim (its `claimed_at`, which any
/// later claim changes). The row is locked `FOR SHARE` until the
/// transaction ends, and a claim skips locked rows, so no other instance
/// can take the feed between this check and the commit: a poll that lost
/// its feed (its instance paused past the lease) writes nothing, and one
/// that still holds it cannot be overtaken half-way. A lease that ran out
/// but that nobody took since is still the claim: nothing newer was
/// written. [`Claim::Sole`] (SQLite: one process per database) always holds.
pub(in crate::store) fn fence(
    tx: &mut dyn Conn,
    feed_url: &str,
    claim: &Claim,
) -> Result<(), StoreError> {
    let Claim::Shared { holder, at } = claim else {
        return Ok(());
    };
    let held = tx.row(
        "SELECT 1 AS held FROM gleaner_leases
         WHERE feed_url = ?1 AND holder = ?2
           AND (extract(epoch FROM claimed_at) * 1000000)::int8 = ?3
         FOR SHARE",
        &[feed_url.into(), holder.as_str().into(), (*at).into()],
    )?;
    match held {
        Some(_) => Ok(()),
        None => Err(StoreError::LeaseLost),
    }
}
