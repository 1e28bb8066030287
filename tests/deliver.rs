//! New articles pushed downstream as they arrive: `export --follow`, and the
//! daemon's `[[deliver]]` webhooks and commands. Every way keeps the
//! consumer's promise: each article once, in order, the cursor moved only
//! after the receiver took the batch.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::pages::{article_page, rss_of_pages, story};
use common::{
    Gleaner, Received, Route, TestServer, feed_block, free_port, get, sample, signal, wait_exit,
    wait_for,
};
use hmac::{Hmac, Mac};

/// Serves a feed of `ids`, oldest first (each an article page `/ID`), at
/// `/feed.xml`.
fn serve_feed(server: &TestServer, ids: &[&str]) {
    for id in ids {
        server.set(
            &format!("/{id}"),
            Route::html(article_page(id, &story(id), "")),
        );
    }
    let newest_first: Vec<&str> = ids.iter().rev().copied().collect();
    server.set(
        "/feed.xml",
        // Entries of one date are stored in reverse document order.
        Route::rss(rss_of_pages(|p| server.url(p), &newest_first)),
    );
}

/// `gleaner export --consumer CONSUMER --follow --format jsonl`, its
/// stdout a pipe.
fn spawn_follower(gleaner: &Gleaner, consumer: &str) -> Child {
    common::spawn_follower(gleaner.command(), consumer, Stdio::null())
}

/// [`spawn_follower`], its lines
/// (parsed, with the time each arrived) sent to the returned channel.
fn follower(
    gleaner: &Gleaner,
    consumer: &str,
) -> (Child, mpsc::Receiver<(serde_json::Value, Instant)>) {
    let mut child = spawn_follower(gleaner, consumer);
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let article = serde_json::from_str(&line).expect("each line is one JSON object");
            if lines.send((article, Instant::now())).is_err() {
                break;
            }
        }
    });
    (child, received)
}

fn titles(articles: &[serde_json::Value]) -> Vec<&str> {
    articles
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect()
}

#[test]
fn follow_gives_the_backlog_then_each_article_a_concurrent_poll_stores_once() {
    let server = TestServer::start();
    serve_feed(&server, &["a", "b"]);
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let (mut child, lines) = follower(&gleaner, "tail");
    let backlog: Vec<_> = (0..2)
        .map(|_| {
            lines
                .recv_timeout(Duration::from_secs(20))
                .expect("the backlog")
                .0
        })
        .collect();
    assert_eq!(titles(&backlog), ["a", "b"]);

    // A poll in another process stores a new article while the follower waits.
    serve_feed(&server, &["a", "b", "c"]);
    gleaner.poll();
    let stored = Instant::now();
    let (article, arrived) = lines
        .recv_timeout(Duration::from_secs(15))
        .expect("the new article reaches the follower");
    assert_eq!(article["title"], "c");
    assert!(article["content_markdown"].is_string(), "{article}");
    eprintln!(
        "follow: the article arrived {:?} after the poll exited",
        arrived.saturating_duration_since(stored)
    );
    // Exactly once: nothing more comes while nothing is stored.
    assert!(lines.recv_timeout(Duration::from_secs(1)).is_err());

    signal(&child, libc::SIGTERM);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
    // The cursor moved past everything the follower wrote.
    assert_eq!(
        gleaner.export(&["--consumer", "tail", "--format", "jsonl"]),
        Vec::<serde_json::Value>::new()
    );
}

#[test]
fn follow_ends_when_its_reader_goes_and_the_next_export_goes_on_from_there() {
    let server = TestServer::start();
    serve_feed(&server, &["a"]);
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let mut child = spawn_follower(&gleaner, "tail");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["title"], "a");
    // The reader goes away: the idle follower notices and ends.
    drop(reader);
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{status}");

    serve_feed(&server, &["a", "b"]);
    gleaner.poll();
    let next = gleaner.export(&["--consumer", "tail", "--format", "jsonl"]);
    assert_eq!(titles(&next), ["b"]);
}

#[test]
fn follow_wants_json_lines() {
    let gleaner = Gleaner::new("");
    let output = gleaner
        .command()
        .args(["export", "--consumer", "c", "--follow"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--format jsonl"));
}

/// A set-up whose feed (`/feed.xml`, articles `ids`) is polled only at the
/// daemon's start-up, with `deliver` (TOML) appended and webhooks to
/// 127.0.0.1 allowed.
fn delivering(server: &TestServer, ids: &[&str], deliver: &str) -> Gleaner {
    serve_feed(server, ids);
    let gleaner = Gleaner::new(&format!(
        "{}\n{deliver}",
        feed_block("f", &server.url("/feed.xml"), "schedule = \"0 0 0 1 1 *\"")
    ));
    gleaner.edit_config(
        "per_host_interval_ms = 0\n",
        "per_host_interval_ms = 0\nallow_private_networks = true\n",
    );
    gleaner
}

/// The ids and titles of a webhook POST's articles.
fn posted(request: &Received) -> Vec<(String, String)> {
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("a JSON body");
    assert_eq!(body["consumer"], "hook");
    body["articles"]
        .as_array()
        .expect("an articles array")
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn deliveries(gleaner: &Gleaner) -> serde_json::Value {
    let output = gleaner.ok(&["deliveries", "--json"]);
    serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()[0].clone()
}

#[test]
fn a_webhook_that_fails_twice_gets_every_article_once_in_order_signed() {
    let server = TestServer::start();
    server.set("/hook", Route::new(200, "text/plain", "ok"));
    server.queue(
        "/hook",
        vec![
            Route::new(500, "text/plain", "down"),
            Route::new(503, "text/plain", "still down"),
        ],
    );
    let gleaner = delivering(
        &server,
        &["a", "b", "c", "d", "e"],
        &format!(
            "[[deliver]]\nname = \"hook\"\nwebhook = \"{}\"\nsecret = \"s3cret\"\nbatch = 2\n",
            server.url("/hook")
        ),
    );
    let port = free_port();
    std::fs::write(
        gleaner.config_path(),
        format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n")
            + &std::fs::read_to_string(gleaner.config_path()).unwrap(),
    )
    .unwrap();
    let mut daemon = gleaner.daemon();
    // Two refusals, then three batches: [a, b] [c, d] [e].
    wait_for(Duration::from_secs(60), "five POSTs", || {
        server.requests("/hook").len() >= 5
    });
    wait_for(
        Duration::from_secs(10),
        "the metrics of the last batch",
        || {
            get(port, "/metrics").is_some_and(|(_, text)| {
                text.contains("gleaner_delivered_articles_total{consumer=\"hook\"} 5")
            })
        },
    );
    let (_, metrics) = get(port, "/metrics").unwrap();
    for (name, value) in [
        (
            "gleaner_delivery_batches_total{consumer=\"hook\",outcome=\"ok\"}",
            3.0,
        ),
        (
            "gleaner_delivery_batches_total{consumer=\"hook\",outcome=\"failed\"}",
            2.0,
        ),
        (
            "gleaner_delivery_consecutive_failures{consumer=\"hook\"}",
            0.0,
        ),
    ] {
        assert_eq!(sample(&metrics, name), value, "{name}");
    }
    signal(&daemon, libc::SIGTERM);
    assert!(wait_exit(&mut daemon, Duration::from_secs(20)).success());

    let requests = server.requests("/hook");
    assert_eq!(requests.len(), 5, "nothing more once all is delivered");
    for request in &requests {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(&request.body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            request.headers["x-gleaner-signature"].to_str().unwrap(),
            expected
        );
        assert_eq!(request.headers["content-type"], "application/json");
    }
    // The refused batch was sent again as it was.
    assert_eq!(posted(&requests[0]), posted(&requests[1]));
    assert_eq!(posted(&requests[1]), posted(&requests[2]));
    let taken: Vec<(String, String)> = requests[2..].iter().flat_map(posted).collect();
    let exported: Vec<(String, String)> = gleaner
        .export(&[])
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(taken, exported);
    let titles: Vec<&str> = taken.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(titles, ["a", "b", "c", "d", "e"]);
    // Retried after a back-off, not at once.
    assert!(requests[2].at - requests[0].at >= Duration::from_secs(2));

    let state = deliveries(&gleaner);
    assert_eq!(state["name"], "hook");
    assert_eq!(state["kind"], "webhook");
    assert_eq!(state["delivered"], 5);
    assert_eq!(state["pending"], 0);
    assert_eq!(state["consecutive_failures"], 0);
    assert!(state["last_error"].is_null());
}

#[test]
fn a_daemon_killed_before_the_webhook_answered_sends_that_batch_again() {
    let server = TestServer::start();
    server.set("/hook", Route::new(204, "text/plain", ""));
    // The first POST is answered only after the daemon is gone.
    server.queue(
        "/hook",
        vec![Route::new(200, "text/plain", "late").with_delay(Duration::from_secs(5))],
    );
    let gleaner = delivering(
        &server,
        &["a", "b", "c"],
        &format!(
            "[[deliver]]\nname = \"hook\"\nwebhook = \"{}\"\n",
            server.url("/hook")
        ),
    );
    // On PostgreSQL the killed daemon's lock on the consumer runs out
    // with its lease; on SQLite the kernel frees it with the process.
    if gleaner.postgres.is_some() {
        gleaner.edit_config("[storage]\n", "[storage]\nlease_secs = 2\n");
    }
    let mut daemon = gleaner.daemon();
    wait_for(Duration::from_secs(30), "the first POST", || {
        !server.requests("/hook").is_empty()
    });
    signal(&daemon, libc::SIGKILL);
    wait_exit(&mut daemon, Duration::from_secs(10));

    let mut daemon = gleaner.daemon();
    wait_for(Duration::from_secs(30), "the second POST", || {
        server.requests("/hook").len() >= 2
    });
    // Nothing more to send: wait for the cursor to be stored.
    wait_for(Duration::from_secs(10), "the cursor", || {
        deliveries(&gleaner)["pending"] == 0
    });
    signal(&daemon, libc::SIGTERM);
    assert!(wait_exit(&mut daemon, Duration::from_secs(20)).success());

    let requests = server.requests("/hook");
    assert_eq!(requests.len(), 2);
    let first = posted(&requests[0]);
    assert_eq!(first, posted(&requests[1]), "the same batch, the same ids");
    let titles: Vec<&str> = first.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(titles, ["a", "b", "c"]);
}

#[test]
fn a_command_that_exits_1_is_run_again_with_the_same_batch() {
    let server = TestServer::start();
    let gleaner = delivering(&server, &["a", "b"], "");
    let dir = gleaner.dir.path().display().to_string();
    // Fails its first run (saying why on stderr), takes the batch after.
    let script = r#"n=$(cat "$1/attempts" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1/attempts"
if [ "$n" -lt 2 ]; then cat > /dev/null; echo "not ready yet" >&2; exit 1; fi
echo "$GLEANER_CONSUMER" > "$1/consumer"; cat >> "$1/got.jsonl""#;
    let deliver = format!(
        "[[deliver]]\nname = \"ingest\"\nexec = [\"sh\", \"-c\", {}, \"sh\", {}]\ntimeout_secs = 10\n",
        serde_json::Value::from(script),
        serde_json::Value::from(dir.as_str()),
    );
    std::fs::write(
        gleaner.config_path(),
        std::fs::read_to_string(gleaner.config_path()).unwrap() + &deliver,
    )
    .unwrap();
    let got = gleaner.dir.path().join("got.jsonl");
    let mut daemon = gleaner.daemon();
    wait_for(Duration::from_secs(60), "the second run", || got.exists());
    wait_for(Duration::from_secs(10), "the cursor", || {
        deliveries(&gleaner)["pending"] == 0
    });
    signal(&daemon, libc::SIGTERM);
    assert!(wait_exit(&mut daemon, Duration::from_secs(20)).success());

    let attempts = std::fs::read_to_string(gleaner.dir.path().join("attempts")).unwrap();
    assert_eq!(attempts.trim(), "2");
    let consumer = std::fs::read_to_string(gleaner.dir.path().join("consumer")).unwrap();
    assert_eq!(consumer.trim(), "ingest");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&got)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(titles(&lines), ["a", "b"]);
    let state = deliveries(&gleaner);
    assert_eq!(state["kind"], "exec");
    assert_eq!(state["delivered"], 2);
}

#[test]
fn check_config_places_deliver_problems() {
    let gleaner = Gleaner::new(
        "[[deliver]]\nname = \"x\"\nwebhook = \"ftp://a.example/\"\nbatch = 0\n\n[[deliver]]\nname = \"x\"\nexec = []\nfeeds = [\"nope\"]\n",
    );
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = gleaner.config_path().display().to_string();
    for (line, column, words) in [
        (9, 11, "http or https"),
        (10, 9, "out of range"),
        (13, 8, "duplicate [[deliver]] name"),
        (14, 8, "`exec` needs"),
        (15, 10, "no [[feeds]] block"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("{path}:{line}:{column}: ")) && l.contains(words)),
            "{line}:{column} {words}: {stderr}"
        );
    }
}

#[test]
fn a_webhook_on_a_private_address_is_refused_unless_the_operator_allows_it() {
    let server = TestServer::start();
    server.set("/hook", Route::new(200, "text/plain", "ok"));
    serve_feed(&server, &["a"]);
    let literal = server.url("/hook");
    let gleaner = Gleaner::new(&format!(
        "{}\n[[deliver]]\nname = \"hook\"\nwebhook = \"{literal}\"\n",
        feed_block("f", &server.url("/feed.xml"), "schedule = \"0 0 0 1 1 *\""),
    ));
    // A private address written out is refused by check-config, at its place.
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
    let line = 1 + config
        .lines()
        .position(|l| l.starts_with("webhook"))
        .unwrap();
    let problems = gleaner.config_problems(&[&format!("{line}:11: [[deliver]] \"hook\"")]);
    assert!(
        problems.contains("non-public address 127.0.0.1"),
        "{problems}"
    );
    gleaner.edit_config(
        "per_host_interval_ms = 0\n",
        "per_host_interval_ms = 0\nallow_private_networks = true\n",
    );
    gleaner.ok(&["check-config"]);
    gleaner.edit_config("allow_private_networks = true\n", "");

    // A name is resolved when delivering, and refused then.
    let named = literal.replace("127.0.0.1", "localhost");
    gleaner.edit_config(&literal, &named);
    gleaner.ok(&["check-config"]);
    let mut daemon = gleaner.daemon();
    wait_for(Duration::from_secs(30), "a recorded refusal", || {
        gleaner.database_exists() && deliveries(&gleaner)["last_error"].is_string()
    });
    signal(&daemon, libc::SIGTERM);
    assert!(wait_exit(&mut daemon, Duration::from_secs(20)).success());
    let state = deliveries(&gleaner);
    let error = state["last_error"].as_str().unwrap();
    assert!(error.contains("non-public address"), "{error}");
    assert_eq!(state["pending"], 1, "nothing skipped");
    assert!(server.requests("/hook").is_empty());
}
