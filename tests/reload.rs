//! What a reload of `gleaner run` leaves behind: nothing. Memory stays flat
//! over hundreds of reloads, and the retention purge, heavy on a large
//! database, does not run again at each one.

mod common;

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Gleaner, Route, TestServer, feed_block, signal, wait_exit, wait_for};

/// A daemon whose log goes to a file, so a test can count its lines.
struct Daemon {
    child: Child,
    log: PathBuf,
    reloads: usize,
}

impl Daemon {
    fn start(gleaner: &Gleaner) -> Daemon {
        let log = gleaner.dir.path().join("run.log");
        let child = gleaner
            .command()
            .arg("run")
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("starting gleaner run");
        let daemon = Daemon {
            child,
            log,
            reloads: 0,
        };
        wait_for(Duration::from_secs(30), "gleaner is running", || {
            daemon.count("gleaner is running") == 1
        });
        daemon
    }

    /// How many lines of the log contain `text`.
    fn count(&self, text: &str) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().filter(|line| line.contains(text)).count()
    }

    /// Sends SIGHUP `n` times, each after the previous reload is done.
    fn reload(&mut self, n: usize) {
        for _ in 0..n {
            signal(&self.child, libc::SIGHUP);
            self.reloads += 1;
            let expected = self.reloads;
            wait_for(Duration::from_secs(20), "the reload's log line", || {
                self.count("configuration reloaded") == expected
            });
        }
    }

    /// The daemon's resident memory, in kB.
    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    fn stop(mut self) {
        signal(&self.child, libc::SIGTERM);
        assert!(wait_exit(&mut self.child, Duration::from_secs(20)).success());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn one_feed(server: &TestServer) -> Gleaner {
    server.set(
        "/feed.xml",
        Route::rss("<rss version=\"2.0\"><channel><title>F</title></channel></rss>"),
    );
    // A schedule that does not tick during the test: only reloads run.
    Gleaner::new(&feed_block(
        "f",
        &server.url("/feed.xml"),
        "schedule = \"0 0 0 1 1 *\"",
    ))
}

/// Each reload used to leave a scheduler's tasks, channels and job stores
/// behind, about 200 KB: 900 reloads took a daemon from 21 to 200 MB.
#[test]
fn memory_stays_flat_over_hundreds_of_reloads() {
    let server = TestServer::start();
    let gleaner = one_feed(&server);
    let mut daemon = Daemon::start(&gleaner);
    // Allocator arenas and caches settle in the first reloads.
    daemon.reload(30);
    let before = daemon.rss_kb();
    let started = Instant::now();
    const RELOADS: usize = 300;
    daemon.reload(RELOADS);
    let after = daemon.rss_kb();
    let growth = after.saturating_sub(before);
    eprintln!(
        "{RELOADS} reloads in {:?}: {before} kB to {after} kB ({} kB per reload)",
        started.elapsed(),
        growth / RELOADS as u64
    );
    // A leak of 200 KB per reload would grow it by 60 MB; the bound leaves
    // room for the allocator's whims on a loaded machine.
    assert!(
        growth < 12 * 1024,
        "{RELOADS} reloads grew the daemon from {before} kB to {after} kB"
    );
    daemon.stop();
}

/// The purge runs when the daemon starts and then daily, not at every
/// reload (each `gleaner add` reloads).
#[test]
fn reloads_do_not_purge_again() {
    let server = TestServer::start();
    let gleaner = one_feed(&server);
    gleaner.edit_config("[fetch]", "keep_days = 30\n[fetch]");
    let mut daemon = Daemon::start(&gleaner);
    wait_for(Duration::from_secs(20), "the purge at start-up", || {
        daemon.count("purged old articles") == 1
    });
    daemon.reload(5);
    // A reload's purge would be under way by now: give it time to log.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        daemon.count("purged old articles"),
        1,
        "{}",
        std::fs::read_to_string(&daemon.log).unwrap()
    );
    daemon.stop();
}
