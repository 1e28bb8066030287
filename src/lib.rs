//! gleaner: a feed aggregator daemon.
//!
//! Modules are listed in the order data flows through them: the checked
//! [`config`], the [`schedule`] of polls, the network ([`fetch`]), feed
//! documents into entries ([`feed`]), article pages into clean text
//! ([`article`]), SQLite with deduplication ([`store`]) and JSON out
//! ([`export`]). [`poll`] runs one feed through all of them; [`daemon`] and
//! [`cli`] are the two ways of driving it. See ARCHITECTURE.md.

pub mod article;
pub mod atomic;
pub mod capped;
pub mod cli;
pub mod config;
pub mod controls;
pub mod daemon;
pub mod deliver;
pub mod encoding;
pub mod export;
pub mod feed;
pub mod fetch;
pub mod filter;
pub mod identity;
pub mod metrics;
pub mod near_dup;
pub mod pacing;
pub mod plural;
pub mod poll;
pub mod redact;
pub mod reextract;
pub mod retention;
pub mod schedule;
pub mod ssrf;
pub mod store;
pub mod subscribe;
