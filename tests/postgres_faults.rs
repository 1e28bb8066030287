//! Instances sharing one PostgreSQL database under the faults a deployment
//! sees: an instance stalled (SIGSTOP: a paused VM) while it holds the
//! write lock, one paused past its leases, and instance clocks that are
//! wrong (an `LD_PRELOAD` shim built here shifts `CLOCK_REALTIME`). Each
//! test is skipped, loudly, without a server outside CI.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::pages::{Item, rss};
use common::postgres::{TestDatabase, server};
use common::{Gleaner, Route, TestServer, feed_block, growing_feed, signal, wait_for};

/// A fresh database, or `None` to skip.
fn database(test: &str) -> Option<TestDatabase> {
    Some(TestDatabase::create(&server(test)?))
}

/// One instance on `db`: a config of its own with `feeds`, its leases
/// running `lease_secs`, its connections named `name` (PostgreSQL's
/// `application_name`) and its requests by the user agent `name`.
fn instance(db: &TestDatabase, name: &str, feeds: &str, lease_secs: u64) -> Gleaner {
    let gleaner = Gleaner::with(None, feeds);
    gleaner.edit_config(
        "database = \"g.db\"",
        &format!("database = \"{}?application_name={name}\"", db.url()),
    );
    gleaner.edit_config(
        "[storage]\n",
        &format!("[storage]\nlease_secs = {lease_secs}\n"),
    );
    gleaner.edit_config(
        "[fetch]\ntimeout_secs = 5\n",
        &format!(
            "[fetch]\ntimeout_secs = 30\nper_host_concurrency = 16\nuser_agent = \"{name}\"\n"
        ),
    );
    gleaner.ok(&["check-config"]);
    gleaner
}

/// `gleaner run` of `gleaner`, its log in its folder (`run.log`), with
/// `env` set.
fn daemon(gleaner: &Gleaner, env: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(gleaner.dir.path().join("run.log")).unwrap();
    let mut command = gleaner.command();
    command.arg("run").env("GLEANER_LOG", "info").stderr(log);
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().expect("starting gleaner run")
}

fn log_of(gleaner: &Gleaner) -> String {
    std::fs::read_to_string(gleaner.dir.path().join("run.log")).unwrap_or_default()
}

/// Running daemons, stopped (and woken first) when dropped, so a failed
/// test leaves none behind.
struct Daemons(Vec<Child>);

impl std::ops::Deref for Daemons {
    type Target = Vec<Child>;
    fn deref(&self) -> &Vec<Child> {
        &self.0
    }
}

impl std::ops::DerefMut for Daemons {
    fn deref_mut(&mut self) -> &mut Vec<Child> {
        &mut self.0
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        stop_all(&mut self.0);
    }
}

/// Wakes (a stopped one) and kills every daemon still running.
fn stop_all(daemons: &mut [Child]) {
    for daemon in daemons {
        if matches!(daemon.try_wait(), Ok(Some(_))) {
            continue;
        }
        signal(daemon, libc::SIGCONT);
        let _ = daemon.kill();
        let _ = daemon.wait();
    }
}

fn count(db: &TestDatabase, sql: &str) -> i64 {
    db.query(sql).first().map_or(0, |row| row.get::<_, i64>(0))
}

/// The `application_name` of the session holding the `gleaner write`
/// lock, if one does.
fn write_lock_holder(db: &TestDatabase) -> Option<String> {
    db.query(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
           AND l.classid::bigint = (hashtextextended('gleaner write', 0) >> 32) & 4294967295
           AND l.objid::bigint = hashtextextended('gleaner write', 0) & 4294967295",
    )
    .first()
    .map(|row| row.get(0))
}

/// Requests to `path` made by the instance whose user agent is `agent`.
fn requests_by(server: &TestServer, path: &str, agent: &str) -> Vec<Instant> {
    server
        .requests(path)
        .iter()
        .filter(|r| {
            r.headers
                .get("user-agent")
                .is_some_and(|v| v.as_bytes() == agent.as_bytes())
        })
        .map(|r| r.at)
        .collect()
}

#[test]
fn an_instance_stalled_holding_the_write_lock_holds_the_others_up_for_less_than_a_lease() {
    const FEEDS: usize = 30;
    const LEASE_SECS: u64 = 3;
    let server = TestServer::start();
    let mut feeds = String::new();
    for f in 0..FEEDS {
        let path = format!("/stall-{f}.xml");
        server.set(&path, growing_feed(&server, f, 39, 3));
        feeds.push_str(&feed_block(
            &format!("s{f}"),
            &server.url(&path),
            "schedule = \"*/2 * * * * *\"\nfull_text = false",
        ));
    }
    let Some(db) = database("stalled writer") else {
        return;
    };
    let a = instance(&db, "gleaner-a", &feeds, LEASE_SECS);
    let b = instance(&db, "gleaner-b", &feeds, LEASE_SECS);
    let mut daemons = Daemons(vec![daemon(&a, &[]), daemon(&b, &[])]);

    // Stop whichever instance holds the write lock, caught holding it
    // (its transaction goes on after the lock is seen: check again).
    let deadline = Instant::now() + Duration::from_secs(60);
    let (stopped, stopped_at) = loop {
        assert!(
            Instant::now() < deadline,
            "never saw an instance hold the write lock"
        );
        let Some(holder) = write_lock_holder(&db) else {
            continue;
        };
        let index = usize::from(holder == "gleaner-b");
        signal(&daemons[index], libc::SIGSTOP);
        let stopped_at = Instant::now();
        if write_lock_holder(&db).as_deref() == Some(holder.as_str()) {
            break (index, stopped_at);
        }
        signal(&daemons[index], libc::SIGCONT);
    };
    // The other instance has more to store: every feed grows.
    for f in 0..FEEDS {
        server.set(&format!("/stall-{f}.xml"), growing_feed(&server, f, 59, 3));
    }
    let stopped_name = if stopped == 0 {
        "gleaner-a"
    } else {
        "gleaner-b"
    };
    // How long the others wait: until the stalled instance no longer holds
    // the write lock (the server ended its session: from then on it can
    // store nothing, so whatever is stored after is the other's); and
    // until the other instance stores again.
    let sources = "SELECT count(*) FROM sources";
    let (mut released, mut stored_again) = (None, None);
    let mut at_release = 0;
    while stopped_at.elapsed() < Duration::from_secs(8 * LEASE_SECS) {
        if released.is_none() {
            if write_lock_holder(&db).as_deref() != Some(stopped_name) {
                released = Some(stopped_at.elapsed());
                at_release = count(&db, sources);
            }
        } else if count(&db, sources) > at_release {
            stored_again = Some(stopped_at.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(&daemons[stopped], libc::SIGCONT);
    eprintln!(
        "the stalled instance's write lock was freed {released:?} after the stop; \
         the other instance stored again {stored_again:?} after the stop"
    );
    let (Some(released), Some(stored_again)) = (released, stored_again) else {
        stop_all(&mut daemons);
        panic!(
            "{} s after an instance holding the write lock stopped, its lock was freed \
             after {released:?} and the other stored again after {stored_again:?}\n{}",
            8 * LEASE_SECS,
            log_of(if stopped == 0 { &b } else { &a })
        );
    };
    // The lock goes a third of a lease after the stall; the other
    // instance's next tick (every 2 s) stores the new entries.
    let (freed_within, stored_within) = (
        Duration::from_secs(2 * LEASE_SECS),
        Duration::from_secs(4 * LEASE_SECS),
    );
    assert!(
        released < freed_within,
        "the write lock was freed {released:?} after the stop (bound {freed_within:?})"
    );
    assert!(
        stored_again < stored_within,
        "the other instance stored again {stored_again:?} after the stop (bound {stored_within:?})"
    );

    // Nothing was lost: the stalled transaction's poll is done again, and
    // every entry is stored once.
    let all = (FEEDS * 60) as i64;
    let waited = Instant::now();
    while count(&db, "SELECT count(*) FROM articles") < all
        && waited.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let stored = count(&db, "SELECT count(*) FROM articles");
    stop_all(&mut daemons);
    assert_eq!(stored, all, "{}\n{}", log_of(&a), log_of(&b));
}

/// Entries per feed of the paused-instance test.
const REVISED_ENTRIES: usize = 4;

/// A feed whose entries' titles and summaries, and its ETag, carry the
/// revision `rev`; it takes a second to answer, so that polls are in
/// flight when an instance is paused.
fn revise(server: &TestServer, f: usize, rev: usize) {
    let entries: Vec<(String, String, String, String)> = (0..REVISED_ENTRIES)
        .map(|e| {
            (
                format!("p{f}-e{e}"),
                format!("story {f}-{e} rev {rev}"),
                server.url(&format!("/p/{f}/{e}")),
                format!("The text of story {f}-{e}, rev {rev}."),
            )
        })
        .collect();
    let items: Vec<Item<'_>> = entries
        .iter()
        .map(|(guid, title, link, description)| Item {
            guid,
            title,
            link,
            description,
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    server.set(
        &format!("/rev-{f}.xml"),
        Route::rss(rss(&format!("Feed {f}"), &items))
            .with_etag(&format!("\"r{rev}\""))
            .with_delay(Duration::from_millis(1000)),
    );
}

/// Records in `audit` every update that makes a feed's `last_poll_at` or
/// ETag revision, or an article's title revision, go backwards.
fn install_audit(db: &TestDatabase) {
    for sql in [
        "CREATE TABLE audit (what TEXT, key TEXT, old TEXT, new TEXT)",
        "CREATE FUNCTION rev(text) RETURNS int LANGUAGE sql IMMUTABLE
             AS $$ SELECT substring($1 FROM 'r(?:ev )?([0-9]+)')::int $$",
        "CREATE FUNCTION audit_feed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             IF NEW.last_poll_at < OLD.last_poll_at THEN
                 INSERT INTO audit VALUES ('last_poll_at', NEW.url, OLD.last_poll_at, NEW.last_poll_at);
             END IF;
             IF rev(NEW.etag) < rev(OLD.etag) THEN
                 INSERT INTO audit VALUES ('etag', NEW.url, OLD.etag, NEW.etag);
             END IF;
             RETURN NEW;
         END $$",
        "CREATE TRIGGER audit_feed BEFORE UPDATE ON feeds FOR EACH ROW EXECUTE FUNCTION audit_feed()",
        "CREATE FUNCTION audit_article() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             IF rev(NEW.title) < rev(OLD.title) THEN
                 INSERT INTO audit VALUES ('title', NEW.id, OLD.title, NEW.title);
             END IF;
             IF rev(NEW.summary) < rev(OLD.summary) THEN
                 INSERT INTO audit VALUES ('summary', NEW.id, OLD.summary, NEW.summary);
             END IF;
             RETURN NEW;
         END $$",
        "CREATE TRIGGER audit_article BEFORE UPDATE ON articles FOR EACH ROW EXECUTE FUNCTION audit_article()",
    ] {
        db.query(sql);
    }
}

#[test]
fn an_instance_paused_past_its_leases_writes_nothing_older_over_the_others() {
    const FEEDS: usize = 12;
    const LEASE_SECS: u64 = 3;
    let server = Arc::new(TestServer::start());
    let rev = Arc::new(AtomicUsize::new(1));
    let mut feeds = String::new();
    for f in 0..FEEDS {
        revise(&server, f, 1);
        feeds.push_str(&feed_block(
            &format!("r{f}"),
            &server.url(&format!("/rev-{f}.xml")),
            "schedule = \"*/2 * * * * *\"\nfull_text = false",
        ));
    }
    let Some(db) = database("paused past the lease") else {
        return;
    };
    let a = instance(&db, "gleaner-a", &feeds, LEASE_SECS);
    let b = instance(&db, "gleaner-b", &feeds, LEASE_SECS);
    a.edit_config("timeout_secs = 30", "timeout_secs = 5");
    // The schema, then the audit on it.
    a.ok(&["poll"]);
    install_audit(&db);

    // Every feed is revised five times a second, whoever asks.
    let revising = Arc::new(AtomicBool::new(true));
    let reviser = {
        let (server, rev, revising) = (server.clone(), rev.clone(), revising.clone());
        std::thread::spawn(move || {
            while revising.load(Ordering::Relaxed) {
                let now = rev.fetch_add(1, Ordering::Relaxed) + 1;
                for f in 0..FEEDS {
                    revise(&server, f, now);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    // a runs alone until it is paused: two instances firing one tick
    // split its feeds by whose scheduler looks first, which can be b's
    // every time, and then a would never be caught polling.
    let mut daemons = Daemons(vec![daemon(&a, &[])]);

    // Pause a while its polls are in flight (a feed asked for less than
    // its one-second answer ago), past its leases and its requests'
    // timeout: a poll's fetch fails as it resumes, and its failure is
    // written unless the lease fences it. b starts as a stops, and takes
    // a's feeds over as a's leases run out.
    let in_flight = |since: Instant| {
        (0..FEEDS)
            .filter(|f| {
                requests_by(&server, &format!("/rev-{f}.xml"), "gleaner-a")
                    .iter()
                    .any(|&at| at > since)
            })
            .count()
    };
    wait_for(Duration::from_secs(30), "a poll of a in flight", || {
        in_flight(Instant::now() - Duration::from_millis(300)) > 0
    });
    signal(&daemons[0], libc::SIGSTOP);
    let paused = Instant::now();
    let polling = in_flight(paused - Duration::from_millis(900));
    daemons.0.push(daemon(&b, &[]));
    std::thread::sleep(Duration::from_secs(8));
    let taken_over = (0..FEEDS)
        .filter(|f| {
            requests_by(&server, &format!("/rev-{f}.xml"), "gleaner-b")
                .iter()
                .any(|&at| at > paused)
        })
        .count();
    signal(&daemons[0], libc::SIGCONT);
    std::thread::sleep(Duration::from_secs(5));
    revising.store(false, Ordering::Relaxed);
    reviser.join().unwrap();
    stop_all(&mut daemons);

    let dropped = log_of(&a)
        .lines()
        .filter(|l| l.contains("lease was taken by another instance"))
        .count();
    eprintln!(
        "a was polling {polling} feeds when paused; b polled {taken_over} while a was paused; \
         a dropped {dropped} polls' writes"
    );
    assert!(polling > 0 && taken_over > 0);
    let backwards: Vec<String> = db
        .query("SELECT what, key, old, new FROM audit")
        .iter()
        .map(|r| {
            format!(
                "{} of {}: {} → {}",
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
                r.get::<_, String>(3)
            )
        })
        .collect();
    assert!(
        backwards.is_empty(),
        "{} writes went backwards:\n{}\n--- a's log:\n{}",
        backwards.len(),
        backwards.join("\n"),
        log_of(&a)
    );
}

/// A shared library that shifts `CLOCK_REALTIME` (`clock_gettime`,
/// `gettimeofday`, `time`) by `CLOCK_SHIFT_SECS` seconds, for
/// `LD_PRELOAD`; `None` (said on stderr) without a C compiler outside CI.
fn clock_shim(dir: &Path) -> Option<PathBuf> {
    let source = dir.join("shift.c");
    std::fs::write(
        &source,
        r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long shift(void) {
    const char *s = getenv("CLOCK_SHIFT_SECS");
    return s ? atol(s) : 0;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int done = real(id, ts);
    if (done == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += shift();
    return done;
}

int gettimeofday(struct timeval *tv, void *tz) {
    static int (*real)(struct timeval *, void *);
    if (!real) real = (int (*)(struct timeval *, void *))dlsym(RTLD_NEXT, "gettimeofday");
    int done = real(tv, tz);
    if (done == 0 && tv) tv->tv_sec += shift();
    return done;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
"#,
    )
    .unwrap();
    let library = dir.join("shift.so");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .status();
    match built {
        Ok(status) if status.success() => Some(library),
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "cannot build the clock shim with cc: {other:?}"
            );
            eprintln!("\n!!! SKIPPED a skewed clock: no C compiler ({other:?}) !!!\n");
            None
        }
    }
}

/// `count` feeds of one entry each, on `schedule`, answered after `delay`.
fn tick_feeds(
    server: &TestServer,
    prefix: &str,
    count: usize,
    schedule: &str,
    delay: u64,
) -> String {
    let mut feeds = String::new();
    for f in 0..count {
        let path = format!("/{prefix}-{f}.xml");
        server.set(
            &path,
            growing_feed(server, f, 0, 1).with_delay(Duration::from_millis(delay)),
        );
        feeds.push_str(&feed_block(
            &format!("{prefix}{f}"),
            &server.url(&path),
            &format!("schedule = \"{schedule}\"\nfull_text = false"),
        ));
    }
    feeds
}

/// The shifted clock the shim gives: the shim works, or the test proves nothing.
fn check_shim(shim: &Path, shift: &str) {
    let output = Command::new("date")
        .arg("+%s")
        .env("LD_PRELOAD", shim)
        .env("CLOCK_SHIFT_SECS", shift)
        .output()
        .unwrap();
    let shown: i64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let expected: i64 = shift.parse().unwrap();
    assert!(
        (shown - now - expected).abs() <= 2,
        "the clock shim shifts by {} s, not {expected} s",
        shown - now
    );
}

#[test]
fn an_instance_whose_clock_is_two_minutes_behind_polls_at_every_tick() {
    const FEEDS: usize = 3;
    let server = TestServer::start();
    let feeds = tick_feeds(&server, "behind", FEEDS, "*/2 * * * * *", 0);
    let Some(db) = database("a clock behind") else {
        return;
    };
    let a = instance(&db, "gleaner-a", &feeds, 10);
    let Some(shim) = clock_shim(a.dir.path()) else {
        return;
    };
    check_shim(&shim, "-120");
    let shim = shim.to_string_lossy().into_owned();
    let started = Instant::now();
    let mut daemons = Daemons(vec![daemon(
        &a,
        &[("LD_PRELOAD", &shim), ("CLOCK_SHIFT_SECS", "-120")],
    )]);
    std::thread::sleep(Duration::from_secs(13));
    stop_all(&mut daemons);

    // Past the start-up pass, a tick every 2 s: five or six in the window.
    let window = (
        started + Duration::from_secs(2),
        started + Duration::from_secs(12),
    );
    for f in 0..FEEDS {
        let polls = requests_by(&server, &format!("/behind-{f}.xml"), "gleaner-a")
            .into_iter()
            .filter(|&at| at > window.0 && at < window.1)
            .count();
        assert!(
            polls >= 4,
            "feed {f} was polled {polls} times in 10 s of ticks every 2 s\n{}",
            log_of(&a)
        );
    }
}

#[test]
fn two_instances_one_clock_five_seconds_ahead_poll_each_feed_once_per_tick() {
    const FEEDS: usize = 4;
    let server = TestServer::start();
    // Each poll takes a while, so that the instances' polls of one tick
    // would follow each other closely.
    let feeds = tick_feeds(&server, "ahead", FEEDS, "*/3 * * * * *", 300);
    let Some(db) = database("a clock ahead") else {
        return;
    };
    let a = instance(&db, "gleaner-a", &feeds, 10);
    let b = instance(&db, "gleaner-b", &feeds, 10);
    let Some(shim) = clock_shim(b.dir.path()) else {
        return;
    };
    check_shim(&shim, "5");
    let shim = shim.to_string_lossy().into_owned();
    let started = Instant::now();
    let mut daemons = Daemons(vec![
        daemon(&a, &[]),
        daemon(&b, &[("LD_PRELOAD", &shim), ("CLOCK_SHIFT_SECS", "5")]),
    ]);
    std::thread::sleep(Duration::from_secs(22));
    stop_all(&mut daemons);

    // Past the start-up passes, ticks every 3 s, each one poll of each
    // feed by one instance: two polls closer than half that are one tick
    // polled twice.
    let settled = started + Duration::from_secs(4);
    let mut twice = Vec::new();
    for f in 0..FEEDS {
        let path = format!("/ahead-{f}.xml");
        let mut starts: Vec<Instant> = server
            .requests(&path)
            .iter()
            .map(|r| r.at)
            .filter(|&at| at > settled)
            .collect();
        starts.sort();
        assert!(
            starts.len() >= 4,
            "feed {f} was polled {} times in 18 s",
            starts.len()
        );
        twice.extend(
            starts
                .windows(2)
                .filter(|pair| pair[1] - pair[0] < Duration::from_millis(1500))
                .map(|pair| format!("feed {f}: {:?} apart", pair[1] - pair[0])),
        );
    }
    assert!(
        twice.is_empty(),
        "{} ticks were polled twice:\n{}",
        twice.len(),
        twice.join("\n")
    );
}
