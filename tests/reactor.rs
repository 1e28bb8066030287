//! "The reactor only waits": a poll's CPU work (parsing, sanitizing,
//! extraction) runs off the async threads, so one heavy feed does not stall
//! the other feeds of its pass. Driven through the library on a
//! single-threaded runtime, where any CPU work on the reactor shows up as a
//! late timer.

mod common;

use std::cell::Cell;
use std::time::{Duration, Instant};

use common::pages::{Item, rss};
use common::{Gleaner, Route, TestServer, feed_block};
use gleaner::article::{sanitize::sanitize, text::html_to_text};
use gleaner::config::Config;
use gleaner::poll::{FeedLocks, Pipeline, PollMode, ReportOutcome};
use gleaner::store::{Access, Store, StoreHandle};
use tokio_util::sync::CancellationToken;
use url::Url;

/// About 400 kB of inline-heavy HTML, distinct per `seed`.
fn heavy_html(seed: usize) -> String {
    (0..4000)
        .map(|i| {
            format!("<p>Entry {seed} paragraph {i} has <b>bold</b>, <i>italic</i> and <a href=\"/x/{i}\">a link</a>.</p>")
        })
        .collect()
}

#[test]
fn the_feeds_own_content_is_sanitized_off_the_reactor() {
    let server = TestServer::start();
    let bodies: Vec<String> = (0..3).map(heavy_html).collect();
    let links: Vec<String> = (0..3).map(|i| server.url(&format!("/e/{i}"))).collect();
    let ids: Vec<String> = (0..3).map(|i| format!("e{i}")).collect();
    let items: Vec<Item<'_>> = (0..3)
        .map(|i| Item {
            guid: &ids[i],
            title: &ids[i],
            link: &links[i],
            description: &bodies[i],
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    server.set("/feed.xml", Route::rss(rss("Heavy", &items)));
    let gleaner = Gleaner::new(&feed_block(
        "heavy",
        &server.url("/feed.xml"),
        "full_text = false",
    ));

    // What one entry's text costs here (the poll does it twice per entry:
    // summary and body).
    let base = Url::parse(&links[0]).unwrap();
    let started = Instant::now();
    let text = html_to_text(&sanitize(&bodies[0], &base));
    let one_entry = started.elapsed();
    assert!(text.contains("paragraph 3999"));

    let config = Config::load(&gleaner.config_path()).unwrap();
    let store = Store::open_for(&config.storage.database, Access::Create).unwrap();
    let (store, store_thread) = StoreHandle::spawn(store);
    let pipeline = Pipeline::new(
        &config,
        store,
        FeedLocks::default(),
        CancellationToken::new(),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let latest = Cell::new(Duration::ZERO);
    let report = runtime.block_on(async {
        let ticks = async {
            loop {
                let before = Instant::now();
                tokio::time::sleep(Duration::from_millis(2)).await;
                latest.set(latest.get().max(before.elapsed()));
            }
        };
        tokio::select! {
            report = pipeline.poll_feed(&config.feeds[0], PollMode::Manual) => report,
            () = ticks => unreachable!(),
        }
    });
    drop(pipeline);
    drop(runtime);
    store_thread.join();

    match report.outcome {
        ReportOutcome::Fetched(summary) => assert_eq!(summary.new, 3),
        other => panic!("{other:?}"),
    }
    let latest = latest.get();
    assert!(
        latest < one_entry,
        "a timer fired {latest:?} late; one entry's sanitizing takes {one_entry:?}"
    );
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 3);
    assert_eq!(articles[0]["content_source"], "feed");
}
