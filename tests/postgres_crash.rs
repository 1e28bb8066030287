//! Feed leases across `gleaner run` instances on one PostgreSQL database,
//! through the binaries: a poll that outlasts its lease keeps renewing it,
//! an instance killed mid-poll loses its feeds to another when its leases
//! run out, and three instances `kill -9`ed and restarted at random while
//! their feeds grow store and deliver every entry exactly once without
//! ever polling one feed twice at a time, while an `export --follow`
//! beside them has its connections ended at random and still gives every
//! entry once, while now and then an instance stalls past its lease and
//! resumes. Skipped, loudly, without a
//! PostgreSQL server outside CI (see tests/common/postgres.rs).

mod common;

use std::collections::{HashMap, HashSet};
use std::ops::{Deref, DerefMut};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::pages::rss_of_pages;
use common::postgres::{TestDatabase, server};
use common::{
    Gleaner, Received, Route, TestServer, feed_block, growing_feed, next_random, wait_exit,
    wait_for,
};

/// A set-up on a fresh PostgreSQL database, or `None` to skip.
fn on_postgres(test: &str, feeds: &str) -> Option<Gleaner> {
    let database = TestDatabase::create(&server(test)?);
    Some(Gleaner::with(Some(database), feeds))
}

/// A `gleaner run` process, SIGKILLed and reaped when dropped, so that a
/// failing test leaves no daemon behind.
struct Daemon(Child);

impl Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Already gone when the test killed it or it exited.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `gleaner run` with its log (info and up) in `log`.
fn daemon(gleaner: &Gleaner, log: &std::path::Path) -> Daemon {
    let log = std::fs::File::create(log).unwrap();
    Daemon(
        gleaner
            .command()
            .args(["--log-level", "info", "run"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting gleaner run"),
    )
}

/// Requests of `path` sent by the instance whose user agent is `agent`.
fn requests_by(server: &TestServer, path: &str, agent: &str) -> Vec<Received> {
    server
        .requests(path)
        .into_iter()
        .filter(|r| r.headers.get("user-agent").is_some_and(|ua| ua == agent))
        .collect()
}

#[test]
fn a_poll_longer_than_its_lease_keeps_it_and_a_killed_instance_loses_it() {
    const SLOW: usize = 3;
    const LEASE: Duration = Duration::from_secs(2);
    const SLOW_ANSWER: Duration = Duration::from_secs(9);
    let server = TestServer::start();
    let slow_feed = |i: usize| format!("/slow-{i}.xml");
    let mut feeds = String::new();
    for i in 0..SLOW {
        let pages = [format!("slow-{i}-a"), format!("slow-{i}-b")];
        let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
        server.set(
            &slow_feed(i),
            Route::rss(rss_of_pages(|p| server.url(p), &pages)).with_delay(SLOW_ANSWER),
        );
        feeds.push_str(&feed_block(
            &format!("slow{i}"),
            &server.url(&slow_feed(i)),
            "schedule = \"* * * * * *\"\nfull_text = false",
        ));
    }
    let Some(a) = on_postgres("lease renewal and take-over", &feeds) else {
        return;
    };
    // The same feeds on a second "machine", told apart by its user agent,
    // and one quick feed of its own: it is alive and ticking while it
    // keeps off the slow feeds.
    server.set(
        "/ping.xml",
        Route::rss(rss_of_pages(|p| server.url(p), &["ping"])),
    );
    let ping = feed_block(
        "ping",
        &server.url("/ping.xml"),
        "schedule = \"* * * * * *\"\nfull_text = false",
    );
    let b = Gleaner::with(None, &format!("{feeds}{ping}"));
    b.edit_config(
        "database = \"g.db\"",
        &format!("database = \"{}\"", a.database_setting()),
    );
    for (gleaner, agent) in [(&a, "instance-a"), (&b, "instance-b")] {
        gleaner.edit_config(
            "[storage]\n",
            &format!("[storage]\nlease_secs = {}\n", LEASE.as_secs()),
        );
        gleaner.edit_config(
            "[fetch]\ntimeout_secs = 5\n",
            &format!(
                "[fetch]\ntimeout_secs = 30\nper_host_concurrency = 8\nuser_agent = \"{agent}\"\n"
            ),
        );
        gleaner.ok(&["check-config"]);
    }

    let mut first = daemon(&a, &a.dir.path().join("a.log"));
    wait_for(
        Duration::from_secs(20),
        "a's polls of the slow feeds",
        || (0..SLOW).all(|i| !requests_by(&server, &slow_feed(i), "instance-a").is_empty()),
    );
    let claimed = Instant::now();
    let mut second = daemon(&b, &b.dir.path().join("b.log"));
    wait_for(Duration::from_secs(20), "b's first poll", || {
        !requests_by(&server, "/ping.xml", "instance-b").is_empty()
    });
    // Well past the lease, a's polls still running: b has ticked every
    // second and found each slow feed's lease renewed.
    std::thread::sleep((claimed + 2 * LEASE + LEASE / 2).saturating_duration_since(Instant::now()));
    assert!(
        requests_by(&server, "/ping.xml", "instance-b").len() >= 2,
        "b polls its other feed meanwhile"
    );
    for i in 0..SLOW {
        let polls = requests_by(&server, &slow_feed(i), "instance-a");
        assert!(
            polls.iter().all(|r| r.done.is_none()),
            "a's poll of slow feed {i} is still running"
        );
        assert!(
            requests_by(&server, &slow_feed(i), "instance-b").is_empty(),
            "b polled slow feed {i} while a's poll of it, older than its lease, was running"
        );
    }

    // Killed mid-poll, a renews nothing more: its leases run out and b
    // takes its feeds, no sooner.
    first.kill().unwrap();
    let killed = Instant::now();
    first.wait().unwrap();
    for i in 0..SLOW {
        let pages = [format!("slow-{i}-a"), format!("slow-{i}-b")];
        let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
        server.set(
            &slow_feed(i),
            Route::rss(rss_of_pages(|p| server.url(p), &pages)),
        );
    }
    wait_for(Duration::from_secs(20), "b's polls of a's feeds", || {
        (0..SLOW).all(|i| {
            requests_by(&server, &slow_feed(i), "instance-b")
                .iter()
                .any(|r| r.done.is_some())
        })
    });
    for i in 0..SLOW {
        let taken = requests_by(&server, &slow_feed(i), "instance-b")[0].at - killed;
        // The last renewal was at most a third of the lease before the kill.
        assert!(
            taken >= LEASE / 2,
            "b took slow feed {i} {taken:?} after a's kill, before a's lease ran out"
        );
        assert!(
            taken <= LEASE + Duration::from_secs(4),
            "b took slow feed {i} only {taken:?} after a's kill"
        );
    }
    wait_for(Duration::from_secs(10), "b's stored polls", || {
        b.export(&[]).len() == 2 * SLOW + 1
    });
    second.kill().unwrap();
    second.wait().unwrap();
}

#[test]
fn a_lost_connection_fails_renewals_loudly_and_the_instance_connects_again() {
    let server = TestServer::start();
    server.set(
        "/slow.xml",
        Route::rss(rss_of_pages(|p| server.url(p), &["slow"])).with_delay(Duration::from_secs(8)),
    );
    let feeds = feed_block(
        "slow",
        &server.url("/slow.xml"),
        "schedule = \"* * * * * *\"\nfull_text = false",
    );
    let Some(gleaner) = on_postgres("a failed renewal", &feeds) else {
        return;
    };
    gleaner.edit_config("[storage]\n", "[storage]\nlease_secs = 2\n");
    gleaner.edit_config("timeout_secs = 5", "timeout_secs = 30");
    let log = gleaner.dir.path().join("run.log");
    let mut run = daemon(&gleaner, &log);
    wait_for(Duration::from_secs(20), "the poll", || {
        !server.requests("/slow.xml").is_empty()
    });
    // The database goes away under the running poll: the server ends
    // gleaner's connections.
    let ended = gleaner.postgres.as_ref().unwrap().query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'gleaner'",
    );
    assert!(!ended.is_empty(), "gleaner was connected");
    wait_for(
        Duration::from_secs(10),
        "the failed renewal in the log",
        || {
            std::fs::read_to_string(&log).is_ok_and(|text| {
                text.lines().any(|l| {
                    l.contains("WARN")
                        && l.contains("feed=slow")
                        && l.contains("could not renew the feed's lease")
                })
            })
        },
    );
    // The next polls connect again and store what the lost one could not.
    server.set(
        "/slow.xml",
        Route::rss(rss_of_pages(|p| server.url(p), &["slow"])),
    );
    wait_for(
        Duration::from_secs(20),
        "a poll after the connection's end",
        || gleaner.export(&[]).len() == 1,
    );
    run.kill().unwrap();
    run.wait().unwrap();
}

const FEEDS: usize = 200;
const KILLS: usize = 20;
const INSTANCES: usize = 3;
/// Every feed is on 127.0.0.1: fewer than the instances' `concurrency`
/// together, so that it holds only if they share it.
const PER_HOST: usize = 48;
/// Short, so that a killed instance's feeds are taken over within the test.
const CRASH_LEASE_SECS: u64 = 4;

/// Feed `f` at generation `g` lists entries 0..=g (newest first).
fn publish(server: &TestServer, generation: usize) {
    for f in 0..FEEDS {
        // Each answer takes a while, so that two instances' polls of one
        // feed at once would overlap at the server.
        let route = growing_feed(server, f, generation, 4).with_delay(Duration::from_millis(100));
        server.set(&format!("/f{f}.xml"), route);
    }
}

/// Milliseconds since the Unix epoch (the instances' cron clock).
fn epoch_millis() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    now.as_millis() as u64
}

/// `GLEANER_CRASH_SEED`, or one from the clock.
fn seed() -> u64 {
    match std::env::var("GLEANER_CRASH_SEED") {
        Ok(seed) => seed.parse().expect("GLEANER_CRASH_SEED is a number"),
        Err(_) => epoch_millis().wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
    }
}

/// Instance `n` (a count of starts): `gleaner run` on the set-up's config
/// with its own user agent, so the server can tell whose request it got;
/// its log (info and up) in `instance-N.log`.
fn instance(gleaner: &Gleaner, n: usize) -> Daemon {
    let config = std::fs::read_to_string(gleaner.config_path())
        .unwrap()
        .replace(
            "[fetch]\n",
            &format!("[fetch]\nuser_agent = \"{}\"\n", agent(n)),
        );
    let path = gleaner.dir.path().join(format!("instance-{n}.toml"));
    std::fs::write(&path, config).unwrap();
    let log = std::fs::File::create(gleaner.dir.path().join(format!("instance-{n}.log"))).unwrap();
    Daemon(
        gleaner
            .command_on(&path)
            .args(["--log-level", "info", "run"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting gleaner run"),
    )
}

/// `export --consumer stream --follow` on the set-up, its connections
/// named `follower` on the server; the id of each line it writes, sent to
/// the returned channel. Killed when dropped.
fn follower(gleaner: &Gleaner) -> (Daemon, std::sync::mpsc::Receiver<String>) {
    let url = gleaner.database_setting();
    let config = std::fs::read_to_string(gleaner.config_path())
        .unwrap()
        .replace(&url, &format!("{url}?application_name=follower"));
    let path = gleaner.dir.path().join("follower.toml");
    std::fs::write(&path, config).unwrap();
    let log = std::fs::File::create(gleaner.dir.path().join("follower.log")).unwrap();
    let mut child = Daemon(
        gleaner
            .command_on(&path)
            .args(["--log-level", "info", "export", "--consumer", "stream"])
            .args(["--follow", "--format", "jsonl"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("starting export --follow"),
    );
    let stdout = child.stdout.take().unwrap();
    let (ids, followed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let article: serde_json::Value = serde_json::from_str(&line).unwrap();
            if ids
                .send(article["id"].as_str().unwrap().to_owned())
                .is_err()
            {
                break;
            }
        }
    });
    (child, followed)
}

fn agent(n: usize) -> String {
    format!("instance-{n}")
}

/// Whether the request is `agent`'s and was being answered at `at`.
fn in_flight(request: &Received, agent: &str, at: Instant) -> bool {
    request.at <= at
        && request.done.is_none_or(|done| done > at)
        && request
            .headers
            .get("user-agent")
            .is_some_and(|ua| ua == agent)
}

#[test]
fn three_instances_killed_at_random_store_and_deliver_every_entry_once() {
    let server = TestServer::start();
    let feeds: String = (0..FEEDS)
        .map(|f| {
            feed_block(
                &format!("f{f}"),
                &server.url(&format!("/f{f}.xml")),
                "schedule = \"*/2 * * * * *\"\nfull_text = false",
            )
        })
        .collect();
    let Some(gleaner) = on_postgres("three instances killed at random", &feeds) else {
        return;
    };
    gleaner.edit_config(
        "[storage]\n",
        &format!("[storage]\nlease_secs = {CRASH_LEASE_SECS}\n"),
    );
    gleaner.edit_config(
        "[fetch]\n",
        &format!("[fetch]\nconcurrency = 32\nper_host_concurrency = {PER_HOST}\n"),
    );
    gleaner.ok(&["check-config"]);
    let seed = seed();
    // Shown with the failure (the harness prints a failing test's output).
    println!("seed {seed}: replay with GLEANER_CRASH_SEED={seed}");
    let mut random = seed;
    let started = Instant::now();

    publish(&server, 0);
    // Slot i runs instance number running[i]; each restart, a new number.
    let mut running: Vec<usize> = (0..INSTANCES).collect();
    let mut instances: Vec<Daemon> = running.iter().map(|&n| instance(&gleaner, n)).collect();
    let mut received: Vec<String> = Vec::new();
    // A follower of another consumer runs throughout; the server ends its
    // connections at random (all of them, or the one its lock is renewed
    // on), as a restart or an idle timeout would.
    // (Once the instances have set the database up: an export does not.)
    wait_for(Duration::from_secs(20), "the database's schema", || {
        gleaner.database_exists()
    });
    let (mut follower, followed) = follower(&gleaner);
    let mut ended = 0;
    let mut pauses = 0;
    let mut kills_mid_poll = 0;
    let mut kills: Vec<(String, Instant)> = Vec::new();
    // When an instance was stopped past its lease.
    let mut stalls: Vec<(String, Instant)> = Vec::new();
    let consume = |received: &mut Vec<String>| {
        let batch = gleaner.export(&["--consumer", "archive", "--format", "jsonl"]);
        received.extend(batch.iter().map(|a| a["id"].as_str().unwrap().to_owned()));
    };

    for generation in 0..KILLS {
        // The kill comes while the victim is polling (at a random point
        // of its requests), or after waiting 3 s for that.
        let victim = (next_random(&mut random) % INSTANCES as u64) as usize;
        let agent = agent(running[victim]);
        let waiting = Instant::now();
        while waiting.elapsed() < Duration::from_secs(3)
            && !server.any_request(|r| in_flight(r, &agent, Instant::now()))
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(next_random(&mut random) % 150));
        instances[victim].kill().unwrap(); // SIGKILL
        let killed = Instant::now();
        instances[victim].wait().unwrap();
        kills.push((agent.clone(), killed));
        kills_mid_poll += usize::from(server.any_request(|r| in_flight(r, &agent, killed)));
        // The feeds grow while it is down; the consumer takes what is new.
        publish(&server, generation + 1);
        consume(&mut received);
        let fault = match next_random(&mut random) % 3 {
            0 => "application_name LIKE 'follower%'",
            1 => "application_name LIKE 'follower%consumer lock%'",
            _ => "false",
        };
        ended += gleaner.postgres.as_ref().unwrap().end_connections(fault);
        // Now and then another instance stalls past its lease (a VM
        // paused, SIGSTOP) and resumes: its leases are taken over meanwhile,
        // and what it then writes of its stale polls is fenced off.
        if next_random(&mut random).is_multiple_of(3) {
            let slot = (victim + 1) % INSTANCES;
            let stalled = &instances[slot];
            common::signal(stalled, libc::SIGSTOP);
            stalls.push((crate::agent(running[slot]), Instant::now()));
            std::thread::sleep(Duration::from_secs(CRASH_LEASE_SECS + 1));
            common::signal(stalled, libc::SIGCONT);
            pauses += 1;
        }
        std::thread::sleep(Duration::from_millis(next_random(&mut random) % 1000));
        running[victim] = INSTANCES + generation;
        instances[victim] = instance(&gleaner, running[victim]);
    }
    let published = FEEDS * (KILLS + 1);

    // The last quiet pass: the instances stop (SIGTERM: their polls end
    // and give their leases back), the killed ones' leases run out, and
    // one uninterrupted poll stores whatever the kills cut short.
    std::thread::sleep(Duration::from_secs(2));
    for instance in &mut instances {
        common::signal(instance, libc::SIGTERM);
    }
    for instance in &mut instances {
        assert!(wait_exit(instance, Duration::from_secs(20)).success());
    }
    std::thread::sleep(Duration::from_secs(CRASH_LEASE_SECS + 1));
    let last = gleaner.poll();
    assert!(
        last.contains(&format!("{FEEDS} feeds: "))
            && last.contains(" 0 failed")
            && !last.contains("skipped"),
        "the last pass polled every feed (seed {seed}): {last}"
    );
    consume(&mut received);
    let mut streamed: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while streamed.len() < published {
        match followed.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(id) => streamed.push(id),
            Err(_) => break,
        }
    }
    common::signal(&follower, libc::SIGTERM);
    let status = wait_exit(&mut follower, Duration::from_secs(20));
    let log = std::fs::read_to_string(gleaner.dir.path().join("follower.log")).unwrap_or_default();
    assert!(
        status.success(),
        "the follower failed ({status}; seed {seed}):\n{log}"
    );

    // Every published entry stored once...
    let stored = gleaner.export(&["--format", "jsonl"]);
    let mut urls: Vec<&str> = stored.iter().map(|a| a["url"].as_str().unwrap()).collect();
    urls.sort_unstable();
    let mut expected: Vec<String> = (0..FEEDS)
        .flat_map(|f| (0..=KILLS).map(move |e| (f, e)))
        .map(|(f, e)| server.url(&format!("/a/{f}/{e}")))
        .collect();
    expected.sort_unstable();
    assert_eq!(urls.len(), published, "stored articles (seed {seed})");
    assert!(
        urls.iter().copied().eq(expected.iter().map(String::as_str)),
        "every published entry is stored once (seed {seed})"
    );
    // ...delivered to the consumer once...
    let unique: HashSet<&String> = received.iter().collect();
    assert_eq!(
        unique.len(),
        received.len(),
        "the consumer got an article twice (seed {seed})"
    );
    let ids: HashSet<&str> = stored.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(
        unique.len() == ids.len() && unique.iter().all(|id| ids.contains(id.as_str())),
        "the consumer got {} of {} articles (seed {seed})",
        unique.len(),
        ids.len()
    );
    // ...and followed once, whatever connections of the follower ended.
    let streamed_unique: HashSet<&String> = streamed.iter().collect();
    assert_eq!(
        streamed_unique.len(),
        streamed.len(),
        "the follower gave an article twice ({ended} connections ended; seed {seed})"
    );
    assert!(
        streamed_unique.len() == ids.len()
            && streamed_unique.iter().all(|id| ids.contains(id.as_str())),
        "the follower gave {} of {} articles ({ended} connections ended; seed {seed})",
        streamed_unique.len(),
        ids.len()
    );
    // ...and no feed polled by two instances at once.
    let requests = server.all_requests();
    let mut by_feed: HashMap<&str, Vec<&Received>> = HashMap::new();
    for request in &requests {
        by_feed.entry(&request.path).or_default().push(request);
    }
    let who = |r: &Received| {
        r.headers
            .get("user-agent")
            .map_or_else(String::new, |ua| ua.to_str().unwrap_or_default().to_owned())
    };
    // A request ends for its instance when the instance is killed,
    // whatever the server still does.
    let end = |request: &Received| {
        let done = request.done.expect("every request was answered");
        kills
            .iter()
            .filter(|(agent, killed)| in_flight(request, agent, *killed))
            .fold(done, |end, (_, killed)| end.min(*killed))
    };
    // A lease is exclusive while it lasts: an instance stopped past it
    // after starting a request (its answer then waits for the instance to
    // read it) has lost the feed, and another may poll it meanwhile; what
    // the stopped one writes is fenced off (checked above: every entry
    // stored and delivered once).
    let lease_lost = |request: &Received, before: Instant| {
        stalls
            .iter()
            .any(|(agent, at)| *agent == who(request) && request.at <= *at && *at < before)
    };
    for (feed, mut polls) in by_feed {
        polls.sort_by_key(|r| r.at);
        for pair in polls.windows(2) {
            let done = end(pair[0]);
            assert!(
                pair[1].at >= done || lease_lost(pair[0], pair[1].at),
                "{feed} was polled twice at once: {} started {:?} before {}'s request ended (seed {seed})",
                who(pair[1]),
                done - pair[1].at,
                who(pair[0]),
            );
        }
    }
    // The host's limit held across instances: at no moment more requests
    // in flight than per_host_concurrency (a killed instance's slot is
    // free once it is killed).
    let mut edges: Vec<(Instant, i32)> = Vec::new();
    for request in &requests {
        edges.push((request.at, 1));
        edges.push((end(request), -1));
    }
    // Ends before starts at the same instant.
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    assert!(
        most <= PER_HOST as i32,
        "{most} requests to the host at once, per_host_concurrency = {PER_HOST} (seed {seed})"
    );
    println!(
        "{KILLS} kills ({kills_mid_poll} mid-request), {pauses} instances paused past their lease, {ended} follower connections ended, at most {most} requests at once, {} feed requests, {published} articles, {:.1} s",
        requests.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        kills_mid_poll >= KILLS / 2,
        "too few kills landed while the victim was polling: {kills_mid_poll} (seed {seed})"
    );
}
