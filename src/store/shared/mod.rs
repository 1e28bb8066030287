//! The operations both backends run with the same SQL, written once over
//! the statement layer ([`super::sql`]): each file implements a part of
//! [`super::Backend`] for every [`SqlBackend`](super::sql::SqlBackend).
//! What the dialects say differently is in `sqlite/` and `postgres/`.

mod articles;
pub(in crate::store) mod consumers;
mod export;
mod feeds;
mod fence;
pub(super) mod near_dup;
mod pages;
mod poll;
mod upkeep;
