//! A consumer's lock on PostgreSQL outlives the connections it is held
//! over, through the binaries: the server ends an instance's connections
//! (`pg_terminate_backend`, what a restart, a pooler's idle timeout or an
//! administrator does) while its slow `[[deliver]]` command runs, beside a
//! second instance delivering to the same consumer; the lock's connection
//! of an `export --follow` is ended beside a one-shot export of its
//! consumer; a follower's connections are all ended while it follows.
//! Every article is given once. Skipped, loudly, without a PostgreSQL
//! server outside CI (see tests/common/postgres.rs).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::postgres::{TestDatabase, server};
use common::{Gleaner, TestServer, feed_block, growing_feed, signal, wait_exit, wait_for};

/// A set-up on a fresh PostgreSQL database, or `None` to skip.
fn on_postgres(test: &str, feeds: &str) -> Option<Gleaner> {
    let database = TestDatabase::create(&server(test)?);
    Some(Gleaner::with(Some(database), feeds))
}

/// A copy of the set-up's config whose connections the server shows as
/// `name` (`application_name`), so that a test can end them.
fn config_named(gleaner: &Gleaner, name: &str) -> PathBuf {
    let url = gleaner.database_setting();
    let config = std::fs::read_to_string(gleaner.config_path())
        .unwrap()
        .replace(&url, &format!("{url}?application_name={name}"));
    let path = gleaner.dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, config).unwrap();
    path
}

/// The connections that hold a consumer's lock: the keeper's (named so),
/// or one holding an advisory lock (how gleaner held it before, a session
/// lock on a connection of its own).
const LOCK_CONNECTIONS: &str = "application_name LIKE '%consumer lock%' \
     OR pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)";

/// A gleaner process, killed and reaped when dropped, so that a failing
/// test leaves none behind (a stopped one included).
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `id` of each JSON line of `text`.
fn ids(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let article: serde_json::Value =
                serde_json::from_str(line).expect("each line is one JSON object");
            article["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// `export --consumer tail --follow` as JSON lines on a pipe, on a config of
/// its own (its connections are told apart by their application name).
fn tail_follower(gleaner: &Gleaner) -> Daemon {
    Daemon(common::spawn_follower(
        gleaner.command_on(&config_named(gleaner, "follower")),
        "tail",
        Stdio::null(),
    ))
}

/// How many times each id was given.
fn counts<'a>(ids: impl IntoIterator<Item = &'a String>) -> HashMap<&'a str, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    counts
}

#[test]
fn ending_a_delivering_instances_connections_gives_no_batch_to_the_other() {
    const ARTICLES: usize = 8;
    let server = TestServer::start();
    server.set("/feed.xml", growing_feed(&server, 0, ARTICLES - 1, 1));
    let Some(gleaner) = on_postgres(
        "ended connections under a slow command",
        &feed_block(
            "f",
            &server.url("/feed.xml"),
            "schedule = \"* * * * * *\"\nfull_text = false",
        ),
    ) else {
        return;
    };
    gleaner.poll();
    // A slow receiver: it takes each batch (appending it to the file of
    // the instance that ran it), then works on it for 5 s before it
    // exits 0, longer than the lock's lease.
    let dir = gleaner.dir.path().display().to_string();
    let script = r#"cat >> "$1/got-$GLEANER_INSTANCE.jsonl"; sleep 5"#;
    gleaner.edit_config("[storage]\n", "[storage]\nlease_secs = 4\n");
    std::fs::write(
        gleaner.config_path(),
        std::fs::read_to_string(gleaner.config_path()).unwrap()
            + &format!(
                "[[deliver]]\nname = \"slow\"\nexec = [\"sh\", \"-c\", {}, \"sh\", {}]\n\
                 env_keep = [\"GLEANER_INSTANCE\"]\nbatch = 2\ntimeout_secs = 60\n",
                serde_json::Value::from(script),
                serde_json::Value::from(dir.as_str()),
            ),
    )
    .unwrap();
    gleaner.ok(&["check-config"]);
    let start = |name: &str| {
        let config = config_named(&gleaner, name);
        let log = gleaner.dir.path().join(format!("{name}.log"));
        let mut command = gleaner.command_on(&config);
        command
            .env("GLEANER_INSTANCE", name)
            .args(["--log-level", "info", "run"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap());
        Daemon(command.spawn().expect("starting gleaner run"))
    };
    let got = |name: &str| {
        std::fs::read_to_string(gleaner.dir.path().join(format!("got-{name}.jsonl")))
            .map(|text| ids(&text))
            .unwrap_or_default()
    };

    let a = start("instance-a");
    wait_for(Duration::from_secs(30), "a's first batch", || {
        !got("instance-a").is_empty()
    });
    // b is up and tries the consumer every second (after each poll pass).
    let b = start("instance-b");
    // While a's command runs, the server ends all of a's connections, a
    // few times, whoever delivers meanwhile.
    let mut ended = 0;
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2_500));
        ended += gleaner
            .postgres
            .as_ref()
            .unwrap()
            .end_connections("application_name LIKE 'instance-a%'");
        let given = got("instance-a").len() + got("instance-b").len();
        if given >= ARTICLES {
            break;
        }
    }
    assert!(ended > 0, "a was connected");
    // Anything given twice would come within a batch's time.
    std::thread::sleep(Duration::from_secs(8));
    drop((a, b));

    let (by_a, by_b) = (got("instance-a"), got("instance-b"));
    let counts = counts(by_a.iter().chain(&by_b));
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "given more than once: {twice:?} (a got {by_a:?}, b got {by_b:?}; {ended} connections ended)"
    );
    assert_eq!(counts.len(), ARTICLES, "a got {by_a:?}, b got {by_b:?}");
}

#[test]
fn a_one_shot_export_waits_for_a_follower_whose_lock_connection_was_ended() {
    const ARTICLES: usize = 20;
    let server = TestServer::start();
    // Long texts: the follower's first batch is more than a pipe holds.
    server.set("/feed.xml", growing_feed(&server, 0, ARTICLES - 1, 300));
    let Some(gleaner) = on_postgres(
        "a one-shot export beside a follower",
        &feed_block("f", &server.url("/feed.xml"), "full_text = false"),
    ) else {
        return;
    };
    gleaner.edit_config("[storage]\n", "[storage]\nlease_secs = 3\n");
    gleaner.poll();

    // The follower writes its backlog to a pipe nobody reads yet: it is
    // alive, mid-batch, its cursor not moved.
    let mut follower = tail_follower(&gleaner);
    wait_for(
        Duration::from_secs(20),
        "the connection holding the follower's lock",
        || {
            !gleaner
                .postgres
                .as_ref()
                .unwrap()
                .query(&format!(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                     AND ({LOCK_CONNECTIONS})"
                ))
                .is_empty()
        },
    );
    assert!(
        gleaner
            .postgres
            .as_ref()
            .unwrap()
            .end_connections(LOCK_CONNECTIONS)
            > 0
    );

    // A one-shot export of the same consumer meanwhile.
    let mut once = Daemon(
        gleaner
            .command()
            .args(["export", "--consumer", "tail", "--format", "jsonl"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting export"),
    );
    let mut once_out = once.0.stdout.take().unwrap();
    let once_read = std::thread::spawn(move || {
        let mut text = String::new();
        once_out.read_to_string(&mut text).unwrap();
        text
    });
    // Twice the lease: the follower is alive and keeps its consumer.
    std::thread::sleep(Duration::from_secs(6));

    let (lines, received) = mpsc::channel();
    let stdout = follower.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut followed = Vec::new();
    while followed.len() < ARTICLES {
        match received.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => followed.extend(ids(&line)),
            Err(_) => break,
        }
    }
    // Give the follower time to store its cursor, then stop it: the
    // one-shot export gets the consumer then.
    std::thread::sleep(Duration::from_secs(1));
    signal(&follower.0, libc::SIGTERM);
    assert!(wait_exit(&mut follower.0, Duration::from_secs(20)).success());
    let status = wait_exit(&mut once.0, Duration::from_secs(20));
    assert!(status.success(), "{status}");
    let exported = ids(&once_read.join().unwrap());

    let both: Vec<&String> = followed.iter().filter(|id| exported.contains(id)).collect();
    assert!(
        both.is_empty(),
        "in both streams: {both:?} (followed {}, exported {})",
        followed.len(),
        exported.len()
    );
    let counts = counts(followed.iter().chain(&exported));
    assert_eq!(counts.len(), ARTICLES);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[test]
fn follow_goes_on_across_ended_connections_and_gives_each_article_once() {
    const ROUNDS: usize = 3;
    let server = TestServer::start();
    server.set("/feed.xml", growing_feed(&server, 0, 0, 1));
    let Some(gleaner) = on_postgres(
        "follow across ended connections",
        &feed_block("f", &server.url("/feed.xml"), "full_text = false"),
    ) else {
        return;
    };
    gleaner.edit_config("[storage]\n", "[storage]\nlease_secs = 3\n");
    gleaner.poll();
    let mut follower = tail_follower(&gleaner);
    let (lines, received) = mpsc::channel();
    let stdout = follower.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut followed: Vec<String> = Vec::new();
    let mut take = |want: usize, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while followed.len() < want {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) => followed.extend(ids(&line)),
                Err(_) => panic!("{what}: the follower gave {followed:?}"),
            }
        }
    };
    take(1, "the backlog");
    for round in 1..=ROUNDS {
        // The server ends every connection of the follower (as a restart
        // does), then a poll stores a new article.
        assert!(
            gleaner
                .postgres
                .as_ref()
                .unwrap()
                .end_connections("application_name LIKE 'follower%'")
                > 0,
            "the follower was connected"
        );
        std::thread::sleep(Duration::from_millis(500));
        server.set("/feed.xml", growing_feed(&server, 0, round, 1));
        gleaner.poll();
        take(round + 1, &format!("round {round}"));
    }
    signal(&follower.0, libc::SIGTERM);
    let status = wait_exit(&mut follower.0, Duration::from_secs(20));
    assert!(status.success(), "{status}");
    let counts = counts(&followed);
    assert_eq!(counts.len(), ROUNDS + 1, "{followed:?}");
    assert!(counts.values().all(|n| *n == 1), "{followed:?}");
    // The cursor is past all of it.
    assert!(
        gleaner
            .export(&["--consumer", "tail", "--format", "jsonl"])
            .is_empty()
    );
}

#[test]
fn a_follower_stopped_past_its_lease_loses_its_consumer_and_gives_nothing_more() {
    let server = TestServer::start();
    server.set("/feed.xml", growing_feed(&server, 0, 2, 1));
    let Some(gleaner) = on_postgres(
        "a follower stopped past its lease",
        &feed_block("f", &server.url("/feed.xml"), "full_text = false"),
    ) else {
        return;
    };
    gleaner.edit_config("[storage]\n", "[storage]\nlease_secs = 2\n");
    gleaner.poll();
    let mut follower = Daemon(common::spawn_follower(
        gleaner.command(),
        "tail",
        Stdio::piped(),
    ));
    let (lines, received) = mpsc::channel();
    let stdout = follower.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut followed = Vec::new();
    while followed.len() < 3 {
        let line = received
            .recv_timeout(Duration::from_secs(20))
            .expect("the backlog");
        followed.extend(ids(&line));
    }
    // Its cursor stored, the follower is stopped (a VM stall) for longer
    // than its lease; a new article comes meanwhile.
    std::thread::sleep(Duration::from_secs(1));
    signal(&follower.0, libc::SIGSTOP);
    std::thread::sleep(Duration::from_secs(5));
    server.set("/feed.xml", growing_feed(&server, 0, 3, 1));
    gleaner.poll();
    // A one-shot export takes the consumer over: the stopped follower's
    // lease ran out.
    let mut once = Daemon(
        gleaner
            .command()
            .args(["export", "--consumer", "tail", "--format", "jsonl"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting export"),
    );
    let status = wait_exit(&mut once.0, Duration::from_secs(20));
    assert!(status.success(), "{status}");
    let mut text = String::new();
    once.0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let exported = ids(&text);
    assert_eq!(exported.len(), 1, "the new article: {exported:?}");

    // Resumed, the follower finds its lock lost: it gives nothing more and
    // fails, saying so.
    signal(&follower.0, libc::SIGCONT);
    let status = wait_exit(&mut follower.0, Duration::from_secs(20));
    assert_eq!(status.code(), Some(1), "{status}");
    let mut stderr = String::new();
    follower
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("lock of consumer \"tail\" was lost"),
        "{stderr}"
    );
    while let Ok(line) = received.recv_timeout(Duration::from_secs(1)) {
        followed.extend(ids(&line));
    }
    assert_eq!(followed.len(), 3, "the follower gave more: {followed:?}");
    assert!(!followed.contains(&exported[0]));
}
