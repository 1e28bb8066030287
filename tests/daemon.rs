//! `gleaner run`: the first poll at start-up, SIGHUP with a bad config,
//! SIGTERM in the middle of a poll leaving a consistent database, and
//! exports running in a tight loop beside it.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::pages::{Item, article_page, rss, story};
use common::{Gleaner, Route, TestServer, feed_block, signal, wait_exit, wait_for};

fn items(server: &TestServer, n: usize) -> String {
    feed_of(server, "", n)
}

/// A feed of `n` stories whose links, ids and titles start with `prefix`.
fn feed_of(server: &TestServer, prefix: &str, n: usize) -> String {
    let links: Vec<String> = (0..n)
        .map(|i| server.url(&format!("/story/{prefix}{i}")))
        .collect();
    let ids: Vec<String> = (0..n).map(|i| format!("id-{prefix}{i}")).collect();
    let titles: Vec<String> = (0..n).map(|i| format!("Story {prefix}{i}")).collect();
    let items: Vec<Item<'_>> = (0..n)
        .map(|i| Item {
            guid: &ids[i],
            title: &titles[i],
            link: &links[i],
            description: "teaser",
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    rss("F", &items)
}

#[test]
fn the_daemon_polls_at_start_up_keeps_its_config_on_a_bad_reload_and_stops_on_sigterm() {
    let server = TestServer::start();
    server.set("/feed.xml", Route::rss(items(&server, 2)));
    for i in 0..2 {
        server.set(
            &format!("/story/{i}"),
            Route::html(article_page("S", &story(&format!("topic {i}")), "")),
        );
    }
    // A schedule that never fires during the test: only the start-up poll runs.
    let gleaner = Gleaner::new(&feed_block(
        "f",
        &server.url("/feed.xml"),
        "schedule = \"0 0 0 1 1 *\"",
    ));
    // Stand in for systemd's notification socket.
    let socket_path = gleaner.dir.path().join("notify.sock");
    let systemd = UnixDatagram::bind(&socket_path).unwrap();
    systemd
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut child = gleaner
        .command()
        .arg("run")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut notifications = String::new();
    let mut receive_until = |wanted: &str| {
        let mut buffer = [0u8; 4096];
        while !notifications.contains(wanted) {
            let n = systemd.recv(&mut buffer).expect(wanted);
            notifications.push_str(&String::from_utf8_lossy(&buffer[..n]));
            notifications.push('\n');
        }
    };
    receive_until("READY=1");
    receive_until("STATUS=polling 1 feed\n");
    receive_until("WATCHDOG=1");

    wait_for(Duration::from_secs(20), "the start-up poll", || {
        server.requests("/story/1").len() == 1
    });
    wait_for(Duration::from_secs(20), "the articles to be stored", || {
        gleaner
            .db()
            .query_row("SELECT count(*) FROM articles", [], |r| r.get::<_, i64>(0))
            .unwrap_or(0)
            == 2
    });

    // An invalid config on SIGHUP is logged and the daemon keeps running.
    gleaner.write_config("[[feeds]]\nurl = \"not a url\"\n");
    signal(&child, libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "a bad reload must not stop the daemon"
    );

    // The watchdog keeps being fed (every 200 ms here) while the scheduler
    // ticks and the database answers, through the reload too, and past the
    // 3 s after which a silent scheduler would stop the pings.
    let watching = Instant::now();
    let mut late_pings = 0;
    let mut buffer = [0u8; 4096];
    while watching.elapsed() < Duration::from_millis(3600) {
        let n = systemd.recv(&mut buffer).expect("watchdog pings");
        let late = watching.elapsed() > Duration::from_secs(3);
        if late && String::from_utf8_lossy(&buffer[..n]).contains("WATCHDOG=1") {
            late_pings += 1;
        }
    }
    assert!(late_pings >= 1, "the watchdog pings stopped");

    signal(&child, libc::SIGTERM);
    receive_until("STOPPING=1");
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("invalid"),
        "the bad config is logged: {stderr}"
    );
    assert!(stderr.contains("not a url"), "{stderr}");
}

#[test]
fn sigterm_during_a_poll_leaves_a_consistent_database() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        Route::rss(items(&server, 6)).with_etag("\"e1\""),
    );
    for i in 0..6 {
        // Slow article pages: the poll is in flight when SIGTERM arrives.
        let page = Route::html(article_page("S", &story(&format!("topic {i}")), ""));
        server.set(
            &format!("/story/{i}"),
            page.with_delay(Duration::from_secs(3)),
        );
    }
    let gleaner = Gleaner::new(&feed_block(
        "f",
        &server.url("/feed.xml"),
        "schedule = \"0 0 0 1 1 *\"",
    ));
    let mut child = gleaner.daemon();
    wait_for(Duration::from_secs(20), "article fetches to start", || {
        !server.requests("/story/0").is_empty()
    });

    let started = Instant::now();
    signal(&child, libc::SIGTERM);
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{status}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "shutdown took {:?}",
        started.elapsed()
    );

    let db = gleaner.db();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // The abandoned poll recorded nothing: no validators without their articles.
    let etag: Option<String> = db
        .query_row(
            "SELECT etag FROM feeds WHERE url = ?1",
            [server.url("/feed.xml")],
            |r| r.get(0),
        )
        .unwrap_or(None);
    let stored: i64 = db
        .query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
        .unwrap();
    assert!(
        etag.is_none() || stored == 6,
        "etag {etag:?} with {stored} articles"
    );
    drop(db);

    // The next poll completes the work, with no duplicates.
    for i in 0..6 {
        server.set(
            &format!("/story/{i}"),
            Route::html(article_page("S", &story(&format!("topic {i}")), "")),
        );
    }
    gleaner.poll();
    assert_eq!(gleaner.export(&[]).len(), 6);
}

#[test]
fn a_reload_polls_added_feeds_and_ticks_never_overlap_a_running_poll() {
    let server = TestServer::start();
    // Every second, but each answer takes 2.5 s: most ticks find the poll running.
    server.set(
        "/slow.xml",
        Route::rss(items(&server, 0)).with_delay(Duration::from_millis(2500)),
    );
    server.set("/added.xml", Route::rss(items(&server, 0)));
    let slow = feed_block(
        "slow",
        &server.url("/slow.xml"),
        "schedule = \"* * * * * *\"",
    );
    let gleaner = Gleaner::new(&slow);
    let mut child = gleaner.daemon();

    std::thread::sleep(Duration::from_millis(5500));
    let polls = server.requests("/slow.xml").len();
    assert!(
        (2..=3).contains(&polls),
        "{polls} polls in 5.5 s: ticks overlapped a running poll (or none ran)"
    );

    let added = feed_block(
        "added",
        &server.url("/added.xml"),
        "schedule = \"0 0 0 1 1 *\"",
    );
    gleaner.write_config(&format!("{slow}{added}"));
    signal(&child, libc::SIGHUP);
    wait_for(
        Duration::from_secs(10),
        "the added feed's first poll",
        || server.requests("/added.xml").len() == 1,
    );
    signal(&child, libc::SIGTERM);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}

#[test]
fn an_edited_config_is_picked_up_without_a_signal_and_the_log_says_what_changed() {
    let server = TestServer::start();
    server.set("/first.xml", Route::rss(items(&server, 0)));
    server.set("/second.xml", Route::rss(items(&server, 0)));
    let yearly = "schedule = \"0 0 0 1 1 *\"";
    let gleaner = Gleaner::new(&feed_block("first", &server.url("/first.xml"), yearly));
    let log = gleaner.dir.path().join("daemon.log");
    let mut child = gleaner
        .command()
        .arg("run")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(20), "the start-up poll", || {
        server.requests("/first.xml").len() == 1
    });

    // `gleaner add` edits the file; no SIGHUP follows.
    let said = gleaner.ok(&["add", &server.url("/second.xml"), "--name", "second"]);
    let said = String::from_utf8(said.stdout).unwrap();
    assert!(said.contains(" 0 entries)"), "{said}");
    assert!(said.contains("picks it up"), "{said}");
    wait_for(
        Duration::from_secs(20),
        "the added feed's first poll",
        || server.requests("/second.xml").len() == 1,
    );
    let read_log = || std::fs::read_to_string(&log).unwrap();
    wait_for(Duration::from_secs(10), "the reload's log line", || {
        read_log().contains("configuration reloaded: 1 feed added (second)")
    });
    gleaner.edit_config(yearly, "schedule = \"0 0 0 1 2 *\"");
    wait_for(Duration::from_secs(10), "the second reload", || {
        read_log().contains("configuration reloaded: 1 feed rescheduled (first)")
    });
    signal(&child, libc::SIGTERM);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());

    let log = read_log();
    assert!(
        !log.contains("0 feeds"),
        "a reload polls only added feeds:\n{log}"
    );
    // Off a terminal and outside journald, every line says when.
    for line in log.lines() {
        let stamp = line.split_whitespace().next().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "no timestamp: {line}"
        );
    }
}

/// What one `gleaner export` printed, parsed: ids, in order.
fn parse_export(stdout: &[u8], jsonl: bool) -> Vec<String> {
    let text = std::str::from_utf8(stdout).expect("export is UTF-8");
    let articles: Vec<serde_json::Value> = if jsonl {
        assert!(text.is_empty() || text.ends_with('\n'), "a cut line");
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    } else {
        let value: serde_json::Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("not one JSON array ({e})"));
        value.as_array().expect("one JSON array").clone()
    };
    articles
        .iter()
        .map(|a| a["id"].as_str().expect("every object has an id").to_owned())
        .collect()
}

#[test]
fn exports_in_a_tight_loop_beside_the_daemon_see_no_lock_and_miss_nothing() {
    const FEEDS: usize = 20;
    let server = TestServer::start();
    let publish = |n: usize| {
        for f in 0..FEEDS {
            server.set(
                &format!("/f{f}.xml"),
                Route::rss(feed_of(&server, &format!("f{f}-"), n)),
            );
        }
    };
    publish(1);
    let feeds: String = (0..FEEDS)
        .map(|f| {
            feed_block(
                &format!("f{f}"),
                &server.url(&format!("/f{f}.xml")),
                "schedule = \"* * * * * *\"\nfull_text = false",
            )
        })
        .collect();
    let gleaner = Gleaner::new(&feeds);
    let log = gleaner.dir.path().join("daemon.log");
    let mut daemon = gleaner
        .command()
        .arg("run")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // Exports refuse a database that does not exist yet: let the daemon create it.
    // (Opened only once there: opening it would create it.)
    wait_for(Duration::from_secs(20), "the first poll", || {
        gleaner.db_path().exists()
            && gleaner
                .db()
                .query_row("SELECT count(*) FROM feeds", [], |r| r.get::<_, i64>(0))
                .is_ok_and(|n| n > 0)
    });

    // For four seconds the feeds grow while the daemon polls them every
    // second, and exports of every kind run back to back.
    let kinds: [&[&str]; 4] = [
        &["--format", "jsonl", "--consumer", "loop"],
        &["--format", "json", "--consumer", "loop"],
        &["--format", "jsonl", "--consumer", "loop", "--peek"],
        &["--format", "json"],
    ];
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut received: Vec<String> = Vec::new();
    let (mut runs, mut batches) = (0, 0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut n = 1;
            while Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
                n += 1;
                publish(n);
            }
        });
        while Instant::now() < deadline {
            let args = kinds[runs % kinds.len()];
            runs += 1;
            let output = gleaner.command().arg("export").args(args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr).to_lowercase();
            assert!(output.status.success(), "{args:?}: {stderr}");
            assert!(
                !stderr.contains("locked") && !stderr.contains("busy"),
                "{args:?}: {stderr}"
            );
            let ids = parse_export(&output.stdout, args[1] == "jsonl");
            if args.contains(&"--consumer") && !args.contains(&"--peek") {
                batches += usize::from(!ids.is_empty());
                received.extend(ids);
            }
        }
    });
    signal(&daemon, libc::SIGTERM);
    let status = wait_exit(&mut daemon, Duration::from_secs(10));
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status}: {log}");
    assert!(
        !log.to_lowercase().contains("locked"),
        "the daemon met a lock: {log}"
    );

    received.extend(
        gleaner
            .export(&["--consumer", "loop", "--format", "jsonl"])
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned()),
    );
    let stored: Vec<String> = gleaner
        .export(&["--format", "jsonl"])
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let unique: std::collections::HashSet<&String> = received.iter().collect();
    assert_eq!(
        unique.len(),
        received.len(),
        "the consumer got an article twice"
    );
    let missed = stored.iter().filter(|id| !unique.contains(id)).count();
    assert_eq!(
        missed,
        0,
        "the consumer missed {missed} of {}",
        stored.len()
    );
    assert!(received == stored, "the consumer got them out of order");
    assert!(
        stored.len() >= FEEDS * 10,
        "the daemon stored {}",
        stored.len()
    );
    assert!(
        runs >= 20 && batches >= 3,
        "{runs} exports, {batches} non-empty batches: too few to mean much"
    );
}

/// The daemon's threads whose name starts with `prefix` (Linux keeps the
/// first 15 bytes of a thread's name).
fn threads_named(child: &Child, prefix: &str) -> usize {
    let tasks = std::fs::read_dir(format!("/proc/{}/task", child.id())).unwrap();
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[test]
fn reloads_do_not_leak_extraction_threads() {
    let server = TestServer::start();
    server.set("/feed.xml", Route::rss(items(&server, 1)));
    server.set(
        "/story/0",
        Route::html(article_page("S", &story("the market"), "")),
    );
    let gleaner = Gleaner::new(&feed_block(
        "f",
        &server.url("/feed.xml"),
        "schedule = \"0 0 0 1 1 *\"",
    ));
    let mut child = gleaner.daemon();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    wait_for(Duration::from_secs(20), "the first poll", || {
        !server.requests("/story/0").is_empty()
    });
    for _ in 0..5 {
        signal(&child, libc::SIGHUP);
        std::thread::sleep(Duration::from_millis(300));
    }
    // Each configuration starts its own threads; a replaced one's end.
    let mut last = 0;
    wait_for(
        Duration::from_secs(10),
        "the extraction threads of replaced configurations to end",
        || {
            last = threads_named(&child, "gleaner-extract");
            last == cores
        },
    );
    assert_eq!(last, cores);
    signal(&child, libc::SIGTERM);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}
