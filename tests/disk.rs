//! The state directory misbehaves: a full disk (writes past a low
//! `RLIMIT_FSIZE` fail with EFBIG, as on a full file system) or a read-only
//! database. Each is a clear error naming the file, with exit code 1; nothing
//! stored is lost, a consumer's cursor does not move, and everything works
//! again once the disk does.

mod common;

use std::collections::HashSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::pages::rss_entries;
use common::{Gleaner, Route, TestServer, feed_block};

/// Serves the feed with entries `0..count`, each with about 2 kB of text.
fn publish(server: &TestServer, count: usize) {
    // Distinct texts: identical ones would be one article.
    let entries: Vec<(String, String, String)> = (0..count)
        .rev()
        .map(|e| {
            let id = format!("e{e}");
            let text =
                format!("Entry {id} from the feed, long enough to fill the disk. ").repeat(36);
            let link = server.url(&format!("/{id}"));
            (id, link, text)
        })
        .collect();
    server.set("/feed.xml", Route::rss(rss_entries("News", &entries)));
}

fn setup(server: &TestServer, entries: usize) -> Gleaner {
    publish(server, entries);
    Gleaner::new(&feed_block(
        "news",
        &server.url("/feed.xml"),
        "full_text = false",
    ))
}

/// `command` with writes limited to files of `bytes` bytes; SIGXFSZ is
/// ignored so that a write past the limit fails with EFBIG instead of
/// killing the process: what a full disk looks like to a program.
fn with_file_size_limit(mut command: Command, bytes: u64) -> Command {
    // SAFETY: setrlimit and signal are async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_fails_with_1(output: &Output, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "{what}: {}\nstderr: {}",
        output.status,
        stderr(output)
    );
}

fn stored_articles(gleaner: &Gleaner) -> i64 {
    let db = gleaner.db();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    db.query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
        .unwrap()
}

fn ids(articles: &[serde_json::Value]) -> HashSet<String> {
    articles
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Far below what 95 entries of 2 kB take, far above what a cursor takes.
const FILE_SIZE_LIMIT: u64 = 64 * 1024;

#[test]
fn a_full_disk_is_a_clear_error_and_loses_nothing() {
    let server = TestServer::start();
    let gleaner = setup(&server, 5);
    gleaner.poll();
    assert_eq!(gleaner.export(&["--consumer", "c"]).len(), 5);
    let db = gleaner.db_path().display().to_string();

    // 95 new entries do not fit: the poll's transaction fails as a whole.
    publish(&server, 100);
    let mut poll = gleaner.command();
    poll.arg("poll");
    let output = with_file_size_limit(poll, FILE_SIZE_LIMIT)
        .output()
        .unwrap();
    assert_fails_with_1(&output, "poll on a full disk");
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cannot record the poll in the database {db}")),
        "{message}"
    );
    assert!(message.contains("free space"), "says what to do: {message}");
    assert_eq!(stored_articles(&gleaner), 5, "nothing stored is lost");

    // Once there is room the same poll stores everything.
    gleaner.poll();
    assert_eq!(stored_articles(&gleaner), 100);

    // An export file that does not fit: exit 1, nothing at the destination,
    // no temporary file left, the cursor where it was.
    let out_dir = gleaner.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let target = out_dir.join("articles.json");
    let mut export = gleaner.command();
    export
        .args(["export", "--consumer", "c", "--output"])
        .arg(&target);
    let output = with_file_size_limit(export, FILE_SIZE_LIMIT)
        .output()
        .unwrap();
    assert_fails_with_1(&output, "export --output on a full disk");
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cannot write the export to {}", target.display())),
        "{message}"
    );
    assert!(message.contains("free space"), "says what to do: {message}");
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        0,
        "no partial or temporary file is left"
    );

    // No room even for the cursor: exit 1, and the consumer is told that
    // the articles come again. (An open connection keeps the -wal and -shm
    // files, so that only the cursor's write needs room.)
    let reader = gleaner.db();
    let count: i64 = reader
        .query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 100);
    let mut export = gleaner.command();
    export.args(["export", "--consumer", "c"]);
    let output = with_file_size_limit(export, 1).output().unwrap();
    drop(reader);
    assert_fails_with_1(&output, "export --consumer with no room for its cursor");
    let message = stderr(&output);
    let cursor = format!(
        "the cursor of consumer \"c\" could not be stored in the database {db}, so the next export gives these articles again"
    );
    let claim = format!(
        "cannot store the cursor of consumer \"c\" in the database {db}, so nothing was exported"
    );
    assert!(
        message.contains(&cursor) || (message.contains(&claim) && output.stdout.is_empty()),
        "{message}"
    );
    assert!(message.contains("free space"), "says what to do: {message}");

    let rest = gleaner.export(&["--consumer", "c", "--format", "jsonl"]);
    assert_eq!(rest.len(), 95, "the failed exports did not move the cursor");
    let expected: HashSet<String> = (5..100).map(|e| format!("e{e}")).collect();
    assert_eq!(ids(&rest), expected);
}

/// As root (CI), file permissions do not apply: the folder is handed to
/// `nobody` and gleaner runs as `nobody`.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

/// The gleaner binary where `nobody` may run it: the build folder may be
/// in root's private home.
fn binary_for_nobody(dir: &Path) -> PathBuf {
    let built = Path::new(env!("CARGO_BIN_EXE_gleaner"));
    let runs = Command::new(built)
        .arg("--version")
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return built.to_owned();
    }
    let copy = dir.join("gleaner-bin");
    if std::fs::hard_link(built, &copy).is_err() {
        std::fs::copy(built, &copy).unwrap();
    }
    copy
}

fn unprivileged(gleaner: &Gleaner, binary: &Path, args: &[&str]) -> Output {
    let mut command = gleaner.command_of(binary);
    if is_root() {
        command.uid(NOBODY).gid(NOBODY);
    }
    command.args(args).output().unwrap()
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_read_only_database_is_a_clear_error_and_moves_no_cursor() {
    let server = TestServer::start();
    let gleaner = setup(&server, 5);
    let binary = match is_root() {
        true => {
            let binary = binary_for_nobody(gleaner.dir.path());
            chown_tree(gleaner.dir.path(), NOBODY);
            binary
        }
        false => PathBuf::from(env!("CARGO_BIN_EXE_gleaner")),
    };
    let ok = |args: &[&str]| {
        let output = unprivileged(&gleaner, &binary, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        output
    };
    ok(&["poll"]);
    let first = ok(&["export", "--consumer", "c", "--format", "jsonl"]);
    assert_eq!(first.stdout.split(|b| *b == b'\n').count(), 6, "5 lines");
    publish(&server, 8);

    let dir = gleaner.dir.path();
    let db_path = gleaner.db_path();
    let db = db_path.display().to_string();
    // The database file alone, then its folder too.
    for (case, dir_mode) in [("read-only file", 0o700), ("read-only folder", 0o555)] {
        set_mode(&db_path, 0o400);
        set_mode(dir, dir_mode);

        let output = unprivileged(&gleaner, &binary, &["poll"]);
        assert_fails_with_1(&output, &format!("poll, {case}"));
        let message = stderr(&output);
        assert!(message.contains(&db), "{case}: names the file: {message}");
        assert!(
            message.contains("check that this user may write")
                || message.contains("check their owner and permissions"),
            "{case}: says what to do: {message}"
        );

        let output = unprivileged(&gleaner, &binary, &["export", "--consumer", "c"]);
        assert_fails_with_1(&output, &format!("export --consumer, {case}"));
        assert!(
            output.stdout.is_empty(),
            "{case}: nothing is exported without a cursor to store"
        );
        assert!(stderr(&output).contains(&db), "{case}: {}", stderr(&output));

        set_mode(dir, 0o700);
        set_mode(&db_path, 0o600);
    }

    // Writable again: nothing was lost, and the consumer gets exactly what
    // it has not had.
    ok(&["poll"]);
    let rest = ok(&["export", "--consumer", "c", "--format", "jsonl"]);
    let rest: Vec<serde_json::Value> = String::from_utf8(rest.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: HashSet<String> = ["e5", "e6", "e7"].map(String::from).into();
    assert_eq!(ids(&rest), expected);
    assert_eq!(stored_articles(&gleaner), 8);
}

/// `gleaner.db-consumers.lock` beside the set-up's database.
fn lock_file(gleaner: &Gleaner) -> PathBuf {
    gleaner.dir.path().join("g.db-consumers.lock")
}

/// The database polled by `nobody` in a folder `nobody` owns, the way the
/// service keeps it (SQLite: the lock file is SQLite's). `None` unless root.
fn owned_by_nobody(server: &TestServer) -> Option<(Gleaner, PathBuf)> {
    if !is_root() {
        eprintln!("skipped: needs root to run gleaner as another user");
        return None;
    }
    publish(server, 5);
    let gleaner = Gleaner::with(
        None,
        &feed_block("news", &server.url("/feed.xml"), "full_text = false"),
    );
    let binary = binary_for_nobody(gleaner.dir.path());
    chown_tree(gleaner.dir.path(), NOBODY);
    let output = unprivileged(&gleaner, &binary, &["poll"]);
    assert!(output.status.success(), "{}", stderr(&output));
    Some((gleaner, binary))
}

fn owner(path: &Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).unwrap();
    (metadata.uid(), metadata.gid())
}

#[test]
fn an_export_as_root_leaves_the_lock_file_to_the_database_owner() {
    let server = TestServer::start();
    let Some((gleaner, binary)) = owned_by_nobody(&server) else {
        return;
    };
    // As root, as the README's examples run it.
    let first = gleaner.export(&["--consumer", "c", "--format", "jsonl"]);
    assert_eq!(first.len(), 5);
    assert_eq!(owner(&lock_file(&gleaner)), owner(&gleaner.db_path()));
    assert_eq!(owner(&gleaner.db_path()), (NOBODY, NOBODY));

    // The daemon's user goes on from there.
    publish(&server, 8);
    let output = unprivileged(&gleaner, &binary, &["poll"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = unprivileged(
        &gleaner,
        &binary,
        &["export", "--consumer", "c", "--format", "jsonl"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(output.stdout.split(|b| *b == b'\n').count(), 4, "3 lines");
}

#[test]
fn a_lock_file_the_daemon_cannot_open_is_named_with_what_to_do() {
    let server = TestServer::start();
    let Some((gleaner, binary)) = owned_by_nobody(&server) else {
        return;
    };
    // What an earlier version's export as root left.
    let lock = lock_file(&gleaner);
    std::fs::write(&lock, "").unwrap();
    std::os::unix::fs::chown(&lock, Some(0), Some(0)).unwrap();
    set_mode(&lock, 0o600);
    let shown = lock.display().to_string();

    let output = unprivileged(&gleaner, &binary, &["export", "--consumer", "c"]);
    assert_fails_with_1(&output, "export --consumer");
    let message = stderr(&output);
    for words in [
        shown.as_str(),
        "Permission denied",
        "chown it to the database file's owner",
    ] {
        assert!(message.contains(words), "{words}: {message}");
    }

    // The daemon's delivery says the same, and no batch of 0 articles.
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap()
        + "[[deliver]]\nname = \"c\"\nexec = [\"true\"]\n";
    std::fs::write(gleaner.config_path(), config).unwrap();
    let log = gleaner.dir.path().join("daemon.log");
    let mut daemon = gleaner
        .command_of(&binary)
        .arg("run")
        .uid(NOBODY)
        .gid(NOBODY)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    common::wait_for(Duration::from_secs(60), "the refused delivery", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("[[deliver]]"))
    });
    common::signal(&daemon, libc::SIGTERM);
    common::wait_exit(&mut daemon, Duration::from_secs(20));
    let message = std::fs::read_to_string(&log).unwrap();
    let line = message.lines().find(|l| l.contains("[[deliver]]")).unwrap();
    for words in [
        shown.as_str(),
        "Permission denied",
        "chown it to the database file's owner",
    ] {
        assert!(line.contains(words), "{words}: {line}");
    }
    assert!(!line.contains("a batch of 0 articles"), "{line}");
    eprintln!("the daemon's log: {line}");
}
