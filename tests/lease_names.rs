//! The name under which an instance holds a feed's lease on a shared
//! PostgreSQL database says which machine and process it is, even where
//! `/proc/sys` is hidden (the shipped unit's `ProcSubset=pid`): reading the
//! host name from `/proc/sys/kernel/hostname` made every sandboxed instance
//! "localhost".

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::postgres::{TestDatabase, server};
use common::{Gleaner, Route, TestServer, feed_block, wait_for};

/// Whether this machine lets an unprivileged user hide `/proc/sys` in a
/// mount namespace of its own (`unshare -rm`).
fn can_hide_proc_sys() -> bool {
    Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs none /proc/sys"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `command` run where `/proc/sys` is an empty folder.
fn without_proc_sys(command: &Command) -> Command {
    let mut hidden = Command::new("unshare");
    hidden
        .args([
            "-rm",
            "sh",
            "-c",
            "mount -t tmpfs none /proc/sys && exec \"$0\" \"$@\"",
        ])
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => hidden.env(name, value),
            None => hidden.env_remove(name),
        };
    }
    hidden
}

/// The host name as the test (not sandboxed) reads it.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the test reads /proc/sys/kernel/hostname")
        .trim()
        .to_owned()
}

#[test]
fn two_sandboxed_instances_hold_leases_under_the_host_name_and_their_pids() {
    let test = "two_sandboxed_instances_hold_leases_under_the_host_name_and_their_pids";
    let Some(server_url) = server(test) else {
        return;
    };
    if !can_hide_proc_sys() {
        eprintln!("\n!!! SKIPPED {test}: `unshare -rm` cannot hide /proc/sys here !!!\n");
        return;
    }
    let site = TestServer::start();
    let empty = "<rss version=\"2.0\"><channel><title>F</title></channel></rss>";
    // Slow answers keep both polls, and their leases, running while the
    // test reads the leases.
    for path in ["/a.xml", "/b.xml"] {
        site.set(path, Route::rss(empty).with_delay(Duration::from_secs(4)));
    }
    let feeds = [
        feed_block("a", &site.url("/a.xml"), ""),
        feed_block("b", &site.url("/b.xml"), ""),
    ]
    .join("\n");
    let gleaner = Gleaner::with(Some(TestDatabase::create(&server_url)), &feeds);
    let database = gleaner.postgres.as_ref().unwrap();
    let poll = |feed: &str| -> Child {
        let mut command = gleaner.command();
        command.args(["poll", "--feed", feed]);
        without_proc_sys(&command)
            .stdout(Stdio::null())
            .spawn()
            .expect("starting gleaner poll under unshare")
    };
    let mut a = poll("a");
    let mut b = poll("b");
    wait_for(Duration::from_secs(30), "both polls' requests", || {
        !site.requests("/a.xml").is_empty() && !site.requests("/b.xml").is_empty()
    });
    let holders: Vec<(String, String)> = database
        .query("SELECT feed_url, holder FROM gleaner_leases WHERE holder IS NOT NULL")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let host = host_name();
    assert_ne!(host, "localhost", "the test needs a machine with a name");
    // `unshare` and `sh` exec gleaner: it keeps their pid.
    for (child, path) in [(&a, "/a.xml"), (&b, "/b.xml")] {
        let holder = holders
            .iter()
            .find(|(url, _)| url.ends_with(path))
            .map(|(_, holder)| holder.as_str())
            .unwrap_or_else(|| panic!("no lease held for {path}: {holders:?}"));
        let expected = format!("{host}:{}:", child.id());
        assert!(
            holder.starts_with(&expected),
            "the lease of {path} is held by {holder:?}, not by {expected}…"
        );
    }
    for child in [&mut a, &mut b] {
        let status = child.wait().unwrap();
        assert!(status.success(), "gleaner poll exited with {status}");
    }
}
