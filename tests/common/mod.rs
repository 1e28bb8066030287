//! Test harness: a scripted HTTP server on 127.0.0.1 and a gleaner instance
//! (config file + database in a temporary folder) driven through the binary.

#![allow(dead_code)]

pub mod pages;
pub mod postgres;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode};

/// What the server answers on one path (path and query, exactly).
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When set, a request with a matching `If-None-Match` gets a 304.
    pub etag: Option<String>,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Route {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            etag: None,
            delay: Duration::ZERO,
        }
    }

    pub fn html(body: impl Into<Vec<u8>>) -> Route {
        Route::new(200, "text/html; charset=utf-8", body)
    }

    pub fn rss(body: impl Into<Vec<u8>>) -> Route {
        Route::new(200, "application/rss+xml", body)
    }

    /// A 302 to `location`.
    pub fn redirect(location: &str) -> Route {
        let mut route = Route::new(302, "text/plain", "");
        route.headers.push(("location".into(), location.into()));
        route
    }

    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.into());
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Route {
        self.delay = delay;
        self
    }
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub at: std::time::Instant,
    /// When the server finished answering (or the client went away
    /// mid-answer); `None` while it is still answering.
    pub done: Option<std::time::Instant>,
}

/// Marks its request answered when dropped: at the end of [`answer`],
/// or when the connection closes before that and the answer is abandoned.
struct Answering {
    state: Arc<Mutex<State>>,
    index: usize,
}

impl Drop for Answering {
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.received[self.index].done = Some(std::time::Instant::now());
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    /// Answers for the next requests of a path, before its route.
    queued: HashMap<String, std::collections::VecDeque<Route>>,
    received: Vec<Received>,
}

/// A local HTTP server whose answers the test sets, and which records what it got.
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_on("127.0.0.1:0").expect("bind 127.0.0.1")
    }

    /// A server on another local address, e.g. `[::1]:0`.
    pub fn start_on(address: &str) -> std::io::Result<TestServer> {
        let state = Arc::new(Mutex::new(State::default()));
        let listener = std::net::TcpListener::bind(address)?;
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(move |request: Request<Body>| {
                    let state = shared.clone();
                    async move { answer(state, request).await }
                });
                axum::serve(listener, app).await.unwrap();
            });
        });
        Ok(TestServer { addr, state })
    }

    /// `http://ADDRESS:PORT` + `path` (`127.0.0.1` unless started elsewhere).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.state.lock().unwrap().routes.insert(path.into(), route);
    }

    /// The next requests of `path` get `answers`, one each, in order; later
    /// ones get its route again.
    pub fn queue(&self, path: &str, answers: Vec<Route>) {
        self.state
            .lock()
            .unwrap()
            .queued
            .entry(path.into())
            .or_default()
            .extend(answers);
    }

    /// Every request received for `path`, in order.
    pub fn requests(&self, path: &str) -> Vec<Received> {
        let state = self.state.lock().unwrap();
        state
            .received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Whether any request received so far satisfies `test` (without
    /// copying them all, for a test that asks often).
    pub fn any_request(&self, test: impl Fn(&Received) -> bool) -> bool {
        self.state.lock().unwrap().received.iter().any(test)
    }

    pub fn all_requests(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

async fn answer(state: Arc<Mutex<State>>, request: Request<Body>) -> Response<Body> {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers = request.headers().clone();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let request = Request::from_parts(parts, ());
    let (route, _answering) = {
        let shared = state.clone();
        let mut state = state.lock().unwrap();
        state.received.push(Received {
            path: path.clone(),
            headers,
            body,
            at: std::time::Instant::now(),
            done: None,
        });
        let index = state.received.len() - 1;
        let queued = state.queued.get_mut(&path).and_then(|q| q.pop_front());
        let route = queued.or_else(|| state.routes.get(&path).cloned());
        (
            route,
            Answering {
                state: shared,
                index,
            },
        )
    };
    let Some(route) = route else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("not found"))
            .unwrap();
    };
    tokio::time::sleep(route.delay).await;
    if let Some(etag) = &route.etag {
        let matches = request
            .headers()
            .get("if-none-match")
            .is_some_and(|v| v.as_bytes() == etag.as_bytes());
        if matches {
            // A 304 repeats the headers a 200 would carry, but not its body's type.
            let mut response = Response::builder()
                .status(StatusCode::NOT_MODIFIED)
                .header("etag", etag);
            for (name, value) in route.headers.iter().filter(|(n, _)| n != "content-type") {
                response = response.header(name, value);
            }
            return response.body(Body::empty()).unwrap();
        }
    }
    let mut response = Response::builder().status(route.status);
    for (name, value) in &route.headers {
        response = response.header(name, value);
    }
    if let Some(etag) = &route.etag {
        response = response.header("etag", etag);
    }
    response.body(Body::from(route.body)).unwrap()
}

/// A gleaner set-up: a config file and its database in a temporary folder
/// (or, with `GLEANER_TEST_BACKEND=postgres`, a PostgreSQL database of its own).
pub struct Gleaner {
    pub dir: tempfile::TempDir,
    pub postgres: Option<postgres::TestDatabase>,
}

impl Gleaner {
    /// A config whose `[[feeds]]` part is `feeds` (TOML), database `g.db`
    /// (or the test's PostgreSQL database, see [`postgres`]).
    pub fn new(feeds: &str) -> Gleaner {
        let database = postgres::backend_is_postgres()
            .then(|| postgres::server("Gleaner::new"))
            .flatten()
            .map(|server| postgres::TestDatabase::create(&server));
        Gleaner::with(database, feeds)
    }

    /// [`Gleaner::new`] on this PostgreSQL database, or SQLite's `g.db` for `None`.
    pub fn with(postgres: Option<postgres::TestDatabase>, feeds: &str) -> Gleaner {
        let dir = tempfile::tempdir().unwrap();
        let gleaner = Gleaner { dir, postgres };
        gleaner.write_config(feeds);
        gleaner
    }

    /// The `[storage] database` value of the config.
    pub fn database_setting(&self) -> String {
        match &self.postgres {
            Some(database) => database.url().to_string(),
            None => "g.db".to_owned(),
        }
    }

    pub fn write_config(&self, feeds: &str) {
        let config =
            // Six lines before the feeds (config tests count on it); no
            // spacing between requests to 127.0.0.1 unless a test asks.
            format!("[storage]\ndatabase = \"{}\"\n[fetch]\ntimeout_secs = 5\nper_host_interval_ms = 0\n\n{feeds}\n", self.database_setting());
        std::fs::write(self.config_path(), config).unwrap();
    }

    /// Rewrites the config file: `from` (which must be there) becomes `to`.
    pub fn edit_config(&self, from: &str, to: &str) {
        let config = std::fs::read_to_string(self.config_path()).unwrap();
        assert!(config.contains(from), "{from:?} is not in the config");
        std::fs::write(self.config_path(), config.replace(from, to)).unwrap();
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("gleaner.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("g.db")
    }

    pub fn command(&self) -> Command {
        self.command_of(Path::new(env!("CARGO_BIN_EXE_gleaner")))
    }

    /// [`Gleaner::command`] with the gleaner binary at `binary`.
    pub fn command_of(&self, binary: &Path) -> Command {
        self.command_with(binary, &self.config_path())
    }

    /// [`Gleaner::command`] on another config file (another instance's).
    pub fn command_on(&self, config: &Path) -> Command {
        self.command_with(Path::new(env!("CARGO_BIN_EXE_gleaner")), config)
    }

    fn command_with(&self, binary: &Path, config: &Path) -> Command {
        let mut command = Command::new(binary);
        command
            .arg("--config")
            .arg(config)
            .env_remove("GLEANER_CONFIG")
            .env_remove("GLEANER_LOG")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("JOURNAL_STREAM");
        // Tests choose their proxies themselves.
        for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
            command
                .env_remove(proxy)
                .env_remove(proxy.to_ascii_lowercase());
        }
        command
    }

    /// Starts `gleaner run` in the background, its log discarded.
    pub fn daemon(&self) -> std::process::Child {
        self.command()
            .arg("run")
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting gleaner run")
    }

    /// Runs gleaner with `args`; panics with its output unless it exits 0.
    pub fn ok(&self, args: &[&str]) -> Output {
        let output = self.command().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "gleaner {args:?} failed: {}\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// `gleaner check-config` on a config it must refuse: asserts that each
    /// of `expected` is a line's start (`PATH:` is prefixed) and returns
    /// the whole message.
    pub fn config_problems(&self, expected: &[&str]) -> String {
        let output = self.command().arg("check-config").output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let path = self.config_path().display().to_string();
        for expected in expected {
            let line = format!("{path}:{expected}");
            assert!(
                stderr.lines().any(|l| l.starts_with(&line)),
                "missing {line:?} in:\n{stderr}"
            );
        }
        stderr
    }

    pub fn poll(&self) -> String {
        String::from_utf8(self.ok(&["poll"]).stdout).unwrap()
    }

    /// `gleaner export ARGS…` parsed as a JSON array.
    pub fn export(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let mut all = vec!["export"];
        all.extend_from_slice(args);
        let output = self.ok(&all);
        let stdout = String::from_utf8(output.stdout).expect("export is UTF-8");
        if args.contains(&"jsonl") {
            return stdout
                .lines()
                .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
                .collect();
        }
        let value: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("export is not JSON ({e}): {stdout}"));
        value.as_array().expect("export is a JSON array").clone()
    }

    /// `gleaner feeds --json` for a set-up that never polled: `feeds`
    /// refuses a database that does not exist, so an empty one is made first.
    pub fn feeds_before_any_poll(&self) -> HashMap<String, serde_json::Value> {
        drop(self.db());
        self.feeds()
    }

    /// `gleaner feeds --json`, as a map from feed name to its row.
    pub fn feeds(&self) -> HashMap<String, serde_json::Value> {
        let output = self.ok(&["feeds", "--json"]);
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
        rows.into_iter()
            .map(|r| (r["name"].as_str().unwrap().to_owned(), r))
            .collect()
    }

    /// The SQLite database (for what is SQLite's alone; see [`Gleaner::sql`]
    /// for checks either backend answers).
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).unwrap()
    }

    /// Runs `sql` (one statement both backends understand, e.g. to age an
    /// article a test cannot wait for) on this set-up's database, whichever
    /// it is; returns the first column of its first row as a number, when
    /// it gives one.
    pub fn sql(&self, sql: &str) -> Option<i64> {
        match &self.postgres {
            Some(database) => database.query(sql).first().map(|r| r.get(0)),
            None => {
                let db = self.db();
                let mut stmt = db.prepare(sql).unwrap();
                let columns = stmt.column_count();
                let mut rows = stmt.query([]).unwrap();
                let first = rows.next().unwrap();
                first.filter(|_| columns > 0).map(|r| r.get(0).unwrap())
            }
        }
    }

    /// Whether gleaner has set the database up yet (SQLite: its file
    /// exists; PostgreSQL: its schema does).
    pub fn database_exists(&self) -> bool {
        match &self.postgres {
            Some(database) => !database
                .query("SELECT 1 WHERE to_regclass('gleaner_schema') IS NOT NULL")
                .is_empty(),
            None => self.db_path().exists(),
        }
    }
}

/// A `[[feeds]]` block.
pub fn feed_block(name: &str, url: &str, extra: &str) -> String {
    format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n")
}

/// Waits until `condition` holds (polling every 50 ms), or panics after `timeout`.
pub fn wait_for(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Sends `signal` to a child process.
pub fn signal(child: &std::process::Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a pid we spawned and a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits for `child` to exit; kills it and panics after `timeout`.
pub fn wait_exit(child: &mut std::process::Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("gleaner did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET path` on 127.0.0.1:port: (status, body).
pub fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    use std::io::{Read, Write};
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

/// The value of the sample `name` (with its labels, exactly) in `text`.
pub fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
}

/// A port on 127.0.0.1 nothing listens on (just now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Growing feed `f` of `server` at `generation`: entries 0..=generation
/// (newest first), entry `e` linking `/a/f/e` with a text of its own
/// (`repeat` sentences: identical texts would be one article), the
/// generation as its ETag.
pub fn growing_feed(server: &TestServer, f: usize, generation: usize, repeat: usize) -> Route {
    let entries: Vec<(String, String, String)> = (0..=generation)
        .rev()
        .map(|e| {
            let id = format!("f{f}-e{e}");
            let text = format!("Entry {id}: text from the feed. ").repeat(repeat);
            (id, server.url(&format!("/a/{f}/{e}")), text)
        })
        .collect();
    Route::rss(pages::rss_entries(&format!("Feed {f}"), &entries))
        .with_etag(&format!("\"g{generation}\""))
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
pub fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// `command` running `export --consumer CONSUMER --follow --format jsonl`,
/// its stdout a pipe and its stderr `stderr`.
pub fn spawn_follower(mut command: Command, consumer: &str, stderr: Stdio) -> Child {
    command
        .args([
            "export",
            "--consumer",
            consumer,
            "--follow",
            "--format",
            "jsonl",
        ])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("starting export --follow")
}

/// The text `gleaner extract` makes of `page`, read as if from
/// `https://news.example/2026/harbour`.
pub fn extract_text(page: &str) -> String {
    extract_stdin(
        &[
            "--url",
            "https://news.example/2026/harbour",
            "--format",
            "text",
        ],
        page,
    )
}

/// `gleaner extract ARGS -` with `page` on stdin (no config, no network):
/// its stdout, after checking that it exited 0.
pub fn extract_stdin(args: &[&str], page: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(["--config", "/nonexistent/g.toml", "extract"])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}
