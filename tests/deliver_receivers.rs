//! `[[deliver]]` receivers that misbehave, through the daemon: a webhook
//! whose error body never ends, a command that floods its stderr, leaves a
//! process behind holding it, or outlives its timeout with children; and
//! the environment a command gets. The daemon's memory is capped
//! (`RLIMIT_DATA`) so that a regression fails the test instead of the
//! machine, and its peak is read from `/proc`.

mod common;

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::pages::{article_page, rss_of_pages, story};
use common::{Gleaner, Route, TestServer, feed_block, signal, wait_exit, wait_for};

/// What the daemon may use; far above what it needs, far below what
/// reading an endless stream for a few seconds takes.
const DAEMON_MEMORY: u64 = 1 << 30;
/// The peak resident size a delivery must stay under.
const PEAK_RESIDENT: u64 = 300 << 20;

/// A set-up whose feed (articles `ids`) is polled only at the daemon's
/// start-up, with `deliver` (TOML) appended and 127.0.0.1 allowed.
fn delivering(server: &TestServer, ids: &[&str], deliver: &str) -> Gleaner {
    for id in ids {
        server.set(
            &format!("/{id}"),
            Route::html(article_page(id, &story(id), "")),
        );
    }
    let newest_first: Vec<&str> = ids.iter().rev().copied().collect();
    server.set(
        "/feed.xml",
        Route::rss(rss_of_pages(|p| server.url(p), &newest_first)),
    );
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

/// An `exec` block running `sh -c SCRIPT sh DIR` (the test's folder as `$1`).
fn exec_block(gleaner: &Gleaner, name: &str, script: &str, extra: &str) -> String {
    format!(
        "[[deliver]]\nname = \"{name}\"\nexec = [\"sh\", \"-c\", {}, \"sh\", {}]\n{extra}\n",
        serde_json::Value::from(script),
        serde_json::Value::from(gleaner.dir.path().display().to_string()),
    )
}

fn append_config(gleaner: &Gleaner, text: &str) {
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
    std::fs::write(gleaner.config_path(), config + text).unwrap();
}

/// A running `gleaner run`, killed if the test fails before [`stop`].
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.0.try_wait().is_ok_and(|status| status.is_none()) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `gleaner run` with at most [`DAEMON_MEMORY`] of data and `env` added to
/// the environment, its log discarded.
fn daemon(gleaner: &Gleaner, env: &[(&str, &str)]) -> Daemon {
    let mut command = gleaner.command();
    command.arg("run").stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    // SAFETY: setrlimit is async-signal-safe; the closure allocates nothing.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: DAEMON_MEMORY as libc::rlim_t,
                rlim_max: DAEMON_MEMORY as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Daemon(command.spawn().expect("starting gleaner run"))
}

/// The peak resident size of a running process, from /proc.
fn peak_resident(daemon: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.0.id())).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kib * 1024
}

/// The `gleaner deliveries --json` row of `name`.
fn delivery(gleaner: &Gleaner, name: &str) -> serde_json::Value {
    let output = gleaner.ok(&["deliveries", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    rows.into_iter()
        .find(|row| row["name"] == name)
        .unwrap_or_else(|| panic!("no deliveries row {name}"))
}

/// Stops the daemon, which must still be running.
fn stop(mut daemon: Daemon) {
    if let Some(status) = daemon.0.try_wait().unwrap() {
        panic!("the daemon died: {status}");
    }
    signal(&daemon.0, libc::SIGTERM);
    assert!(wait_exit(&mut daemon.0, Duration::from_secs(20)).success());
}

/// Whether process `pid` runs (a zombie waiting for its parent does not).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

/// The pid a command wrote to `file` in the test's folder.
fn pid_in(gleaner: &Gleaner, file: &str) -> i32 {
    let path = gleaner.dir.path().join(file);
    wait_for(Duration::from_secs(30), file, || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.ends_with('\n'))
    });
    std::fs::read_to_string(&path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn kill(pid: i32) {
    // SAFETY: kill(2) of a process the test's command started.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// What one connection to [`endless_error_server`] came to.
#[derive(Debug, Clone, Copy)]
struct Streamed {
    written: u64,
    /// The client closed the connection before the server's cap.
    closed_by_client: bool,
}

/// A server on 127.0.0.1 answering every request with a 500 whose chunked
/// body goes on until the client closes the connection (or 2 GiB, or a
/// minute, whichever comes first).
fn endless_error_server() -> (String, Arc<Mutex<Vec<Streamed>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let streamed = stream_error(&mut stream);
            record.lock().unwrap().push(streamed);
        }
    });
    (url, seen)
}

fn stream_error(stream: &mut std::net::TcpStream) -> Streamed {
    const CAP: u64 = 2 << 30;
    let started = Instant::now();
    // The request's head, then its declared body.
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        request.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let length: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let _ = std::io::copy(&mut (&mut *stream).take(length), &mut std::io::sink());
    let mut written = 0u64;
    let head = "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return Streamed {
            written,
            closed_by_client: true,
        };
    }
    let mut chunk = b"overloaded, try later\n".repeat(3000);
    chunk.truncate(64 * 1024);
    let framed = [
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk,
        b"\r\n".to_vec(),
    ]
    .concat();
    while written < CAP && started.elapsed() < Duration::from_secs(60) {
        if stream.write_all(&framed).is_err() {
            return Streamed {
                written,
                closed_by_client: true,
            };
        }
        written += framed.len() as u64;
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    Streamed {
        written,
        closed_by_client: false,
    }
}

#[test]
fn a_webhook_answering_an_endless_error_is_read_only_as_far_as_it_is_shown() {
    let server = TestServer::start();
    let (url, seen) = endless_error_server();
    let gleaner = delivering(
        &server,
        &["a"],
        &format!("[[deliver]]\nname = \"hook\"\nwebhook = \"{url}\"\ntimeout_secs = 20\n"),
    );
    let daemon = daemon(&gleaner, &[]);
    wait_for(Duration::from_secs(60), "a recorded failure", || {
        gleaner.database_exists() && delivery(&gleaner, "hook")["last_error"].is_string()
    });
    let peak = peak_resident(&daemon);
    stop(daemon);

    let state = delivery(&gleaner, "hook");
    let error = state["last_error"].as_str().unwrap();
    assert!(error.contains("answered 500"), "{error}");
    assert!(error.contains("overloaded, try later"), "{error}");
    assert!(error.len() < 400, "{} bytes: {error}", error.len());
    assert_eq!(state["pending"], 1, "nothing skipped");
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    for streamed in &seen {
        // The start of the body, then the connection closed: what the
        // server wrote is what the socket buffers took.
        assert!(streamed.closed_by_client, "{seen:?}");
        assert!(streamed.written < 64 << 20, "{seen:?}");
    }
    assert!(peak < PEAK_RESIDENT, "the daemon peaked at {peak} bytes");
}

#[test]
fn a_command_flooding_its_stderr_fails_with_the_end_of_it() {
    let server = TestServer::start();
    let gleaner = delivering(&server, &["a"], "");
    // Writes 20 MB to stderr, then exits 3 while what it started goes on
    // writing there without end.
    let script = r#"cat > /dev/null; yes "flooding stderr" | head -c 20000000 >&2
(yes "flooding stderr" >&2; echo) & echo $! > "$1/yes.pid"; exit 3"#;
    append_config(
        &gleaner,
        &exec_block(&gleaner, "ingest", script, "timeout_secs = 10"),
    );
    let daemon = daemon(&gleaner, &[]);
    wait_for(Duration::from_secs(60), "a recorded failure", || {
        gleaner.database_exists() && delivery(&gleaner, "ingest")["last_error"].is_string()
    });
    let peak = peak_resident(&daemon);
    let flooder = pid_in(&gleaner, "yes.pid");
    stop(daemon);
    // Once the daemon stopped reading, the writer met a closed pipe.
    wait_for(Duration::from_secs(10), "the flooder gone", || {
        !alive(flooder)
    });

    let error = delivery(&gleaner, "ingest")["last_error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("exit status: 3"), "{error}");
    assert!(error.contains("flooding stderr"), "{error}");
    assert!(error.len() < 2_500, "{} bytes", error.len());
    assert!(peak < PEAK_RESIDENT, "the daemon peaked at {peak} bytes");
}

#[test]
fn a_command_that_exits_0_took_its_batch_though_what_it_left_holds_stderr() {
    let server = TestServer::start();
    let gleaner = delivering(&server, &["a", "b"], "");
    let script = r#"cat >> "$1/got.jsonl"; echo run >> "$1/runs"; sleep 300 & echo $! > "$1/sleep.pid"; exit 0"#;
    // Long enough that waiting for it would show.
    append_config(
        &gleaner,
        &exec_block(&gleaner, "ingest", script, "timeout_secs = 120"),
    );
    let daemon = daemon(&gleaner, &[]);
    let sleeper = pid_in(&gleaner, "sleep.pid");
    wait_for(Duration::from_secs(60), "the cursor moved", || {
        gleaner.database_exists() && delivery(&gleaner, "ingest")["delivered"] == 2
    });
    stop(daemon);
    // Left running: the command's business, not the daemon's.
    let was_alive = alive(sleeper);
    kill(sleeper);

    let state = delivery(&gleaner, "ingest");
    assert_eq!(state["delivered"], 2, "{state}");
    assert_eq!(state["consecutive_failures"], 0, "{state}");
    assert!(state["last_error"].is_null(), "{state}");
    let runs = std::fs::read_to_string(gleaner.dir.path().join("runs")).unwrap();
    assert_eq!(runs, "run\n", "delivered once");
    let got = std::fs::read_to_string(gleaner.dir.path().join("got.jsonl")).unwrap();
    assert_eq!(got.lines().count(), 2);
    assert!(was_alive, "a process the command left is not killed");
}

#[test]
fn a_command_past_its_timeout_is_killed_with_the_processes_it_started() {
    let server = TestServer::start();
    let gleaner = delivering(&server, &["a"], "");
    let script = r#"sleep 300 & echo $! > "$1/child.pid"; cat > /dev/null; exec sleep 301"#;
    append_config(
        &gleaner,
        &exec_block(&gleaner, "ingest", script, "timeout_secs = 1"),
    );
    let daemon = daemon(&gleaner, &[]);
    let child = pid_in(&gleaner, "child.pid");
    wait_for(Duration::from_secs(60), "a recorded timeout", || {
        gleaner.database_exists() && delivery(&gleaner, "ingest")["last_error"].is_string()
    });
    // Every run's processes are gone, the latest's included.
    let gone = {
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive(child) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        !alive(child)
    };
    if !gone {
        kill(child);
    }
    stop(daemon);

    let error = delivery(&gleaner, "ingest")["last_error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("did not exit within 1s"), "{error}");
    assert!(gone, "the command's child outlived its timeout");
}

#[test]
fn a_command_gets_a_clean_environment_and_the_variables_its_block_keeps() {
    let server = TestServer::start();
    let gleaner = delivering(&server, &["a"], "");
    let script = r#"cat > /dev/null; env > "$1/env.$GLEANER_CONSUMER""#;
    let blocks = exec_block(&gleaner, "plain", script, "")
        + &exec_block(&gleaner, "keeps", script, "env_keep = [\"PGPASSWORD\"]");
    append_config(&gleaner, &blocks);
    gleaner.ok(&["check-config"]);
    let daemon = daemon(
        &gleaner,
        &[
            ("PGPASSWORD", "pg-secret-marker"),
            ("CREDENTIALS_DIRECTORY", "/run/credentials/gleaner.service"),
            ("LANG", "C.UTF-8"),
        ],
    );
    for name in ["plain", "keeps"] {
        wait_for(Duration::from_secs(60), name, || {
            gleaner.database_exists() && delivery(&gleaner, name)["delivered"] == 1
        });
    }
    stop(daemon);

    let env = |name: &str| -> Vec<String> {
        std::fs::read_to_string(gleaner.dir.path().join(format!("env.{name}")))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let names = |lines: &[String]| -> Vec<String> {
        let mut names: Vec<String> = lines
            .iter()
            .filter_map(|l| l.split_once('=').map(|(n, _)| n.to_owned()))
            // What sh sets by itself.
            .filter(|n| !["PWD", "SHLVL", "_", "OLDPWD"].contains(&n.as_str()))
            .collect();
        names.sort();
        names
    };
    let plain = env("plain");
    assert!(
        !plain.iter().any(|l| l.contains("pg-secret-marker")),
        "{plain:?}"
    );
    assert!(plain.contains(&"GLEANER_CONSUMER=plain".to_owned()));
    assert!(plain.contains(&"LANG=C.UTF-8".to_owned()));
    let allowed = ["GLEANER_CONSUMER", "HOME", "LANG", "LC_ALL", "PATH", "TZ"];
    for name in names(&plain) {
        assert!(allowed.contains(&name.as_str()), "{name} in {plain:?}");
    }
    let keeps = env("keeps");
    assert!(keeps.contains(&"PGPASSWORD=pg-secret-marker".to_owned()));
    assert!(
        !keeps
            .iter()
            .any(|l| l.starts_with("CREDENTIALS_DIRECTORY="))
    );
}

#[test]
fn check_config_places_env_keep_problems() {
    let gleaner = Gleaner::new(
        "[[deliver]]\nname = \"x\"\nexec = [\"true\"]\nenv_keep = [\"OK_1\", \"NOT=A NAME\"]\n\n[[deliver]]\nname = \"y\"\nwebhook = \"https://h.example/\"\nenv_keep = [\"HOME\"]\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .arg("--config")
        .arg(gleaner.config_path())
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = gleaner.config_path().display().to_string();
    for (line, column, words) in [
        (10, 21, "is not a variable's name"),
        (15, 12, "a webhook runs none"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("{path}:{line}:{column}: ")) && l.contains(words)),
            "{line}:{column} {words}: {stderr}"
        );
    }
}
