//! `kill -9` at random moments while the daemon polls 100 feeds that gain
//! entries between kills: the database stays intact, nothing is stored
//! twice, every published entry ends up stored once, and a consumer that
//! exports between the kills receives every article exactly once, even
//! though many of its exports are themselves killed in the middle of their
//! output (to stdout and to `--output`).

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{Gleaner, TestServer, growing_feed, next_random};

const FEEDS: usize = 100;
const KILLS: usize = 20;

/// Feed `f` at generation `g` lists entries 0..=g (newest first).
fn publish(server: &TestServer, generation: usize) {
    for f in 0..FEEDS {
        // About 1.5 kB per entry, so that a consumer's batch is several
        // times a pipe's buffer and its exports can be killed mid-write.
        server.set(
            &format!("/f{f}.xml"),
            growing_feed(server, f, generation, 50),
        );
    }
}

#[test]
fn kill_9_while_polling_loses_and_duplicates_nothing() {
    let server = TestServer::start();
    let feeds: String = (0..FEEDS)
        .map(|f| {
            format!(
                "[[feeds]]\nname = \"f{f}\"\nurl = \"{}\"\nschedule = \"* * * * * *\"\nfull_text = false\n",
                server.url(&format!("/f{f}.xml"))
            )
        })
        .collect();
    let gleaner = Gleaner::new(&feeds);
    let mut random = 0x9E37_79B9_7F4A_7C15u64;
    let mut consumer = Consumer::default();
    let out_dir = gleaner.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();

    for generation in 0..KILLS {
        publish(&server, generation);
        let stored_before = stored_articles(&gleaner);
        let mut daemon = gleaner.daemon();
        // A pass over 100 feeds takes a few hundred ms: the kill lands in its
        // middle, counted from its first stored article, so that a slow
        // (loaded) machine does not turn every kill into one before the pass.
        let started = std::time::Instant::now();
        while stored_articles(&gleaner) == stored_before
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(next_random(&mut random) % 200));
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();

        let db = gleaner.db();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "after kill {generation}");
        let (total, distinct): (i64, i64) = db
            .query_row(
                "SELECT count(*), count(DISTINCT url) FROM articles",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            total, distinct,
            "an article was stored twice (after kill {generation})"
        );
        drop(db);

        // Every other time, when two batches have piled up (so that each
        // export has a lot to write), to stdout or to a file.
        match generation % 4 {
            1 => consumer.take_new_articles(&gleaner, None, &mut random),
            3 => consumer.take_new_articles(&gleaner, Some(&out_dir), &mut random),
            _ => {}
        }
    }

    // A last, uninterrupted poll stores whatever the kills cut short.
    gleaner.poll();
    consumer.accept(&gleaner.export(&["--consumer", "archive", "--format", "jsonl"]));
    let received = consumer.received;

    let published = FEEDS * KILLS;
    let stored: i64 = gleaner
        .db()
        .query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored as usize, published,
        "every published entry is stored once"
    );
    let unique: HashSet<&String> = received.iter().collect();
    assert_eq!(
        unique.len(),
        received.len(),
        "the consumer got an article twice"
    );
    assert_eq!(received.len(), published, "the consumer missed articles");
    // The test means something only if kills landed in the middle of
    // output: each consumer's call cuts one export at a point the export
    // cannot pass (see `kill_mid_output`), so this holds on any machine.
    eprintln!(
        "exports killed mid-write: {} to stdout, {} to a file",
        consumer.killed_mid_write_stdout, consumer.killed_mid_write_file
    );
    // Into a pipe the cut is certain at every call; into a file only when
    // the test sees the file before the export has written all of it,
    // which a loaded machine can deny a few calls (at least 3 of 5 land).
    let calls = KILLS / 4;
    assert!(
        consumer.killed_mid_write_stdout >= calls && consumer.killed_mid_write_file >= 3,
        "too few exports were killed mid-write: {} to stdout, {} to a file",
        consumer.killed_mid_write_stdout,
        consumer.killed_mid_write_file
    );
}

/// Articles in the database (0 before the daemon created it).
fn stored_articles(gleaner: &Gleaner) -> i64 {
    if !gleaner.db_path().exists() {
        return 0;
    }
    gleaner
        .db()
        .query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
        .unwrap_or(0)
}

/// A consumer that takes a batch only from an export that exited 0, as a
/// script would; some of its exports are SIGKILLed at a random point of
/// their output.
#[derive(Default)]
struct Consumer {
    received: Vec<String>,
    killed_mid_write_stdout: usize,
    killed_mid_write_file: usize,
}

const EXPORT: [&str; 5] = ["export", "--consumer", "archive", "--format", "jsonl"];

/// How an export the consumer ran ended.
enum Ended {
    /// Exit 0: the output is the batch.
    Delivered(Vec<u8>),
    /// SIGKILLed after writing this many bytes (to stdout or to its
    /// temporary file) before its output was complete and in place.
    Killed { written: usize },
}

impl Consumer {
    fn accept(&mut self, batch: &[serde_json::Value]) {
        self.received
            .extend(batch.iter().map(|a| a["id"].as_str().unwrap().to_owned()));
    }

    /// One export killed mid-output, then up to four tries, to stdout or
    /// into `out_dir`, each likely to be killed mid-write; what is not
    /// delivered now is left for the next call.
    fn take_new_articles(&mut self, gleaner: &Gleaner, out_dir: Option<&Path>, random: &mut u64) {
        // The daemon is not running: the complete output is known in advance.
        let mut peek = EXPORT.to_vec();
        peek.push("--peek");
        let expected = gleaner.ok(&peek).stdout;
        if let Some(delivered) = self.kill_mid_output(gleaner, out_dir, &expected, random) {
            self.accept(&parse_jsonl(delivered));
            return;
        }
        for _ in 0..4 {
            // Anywhere in the output (a fifth of these tries run to the
            // end), or, to stdout, in its last 16 kB, where the cursor is
            // about to move.
            let near_end = out_dir.is_none() && next_random(random).is_multiple_of(2);
            let budget = match (expected.len(), near_end) {
                (0, _) => usize::MAX,
                (len, false) => (next_random(random) as usize) % (len * 5 / 4),
                (len, true) => len - 1 - (next_random(random) as usize) % len.min(16 * 1024),
            };
            let ended = match out_dir {
                Some(out_dir) => export_to_file_until(gleaner, out_dir, budget, &expected),
                None => export_to_stdout_until(gleaner, budget, &expected),
            };
            match ended {
                Ended::Delivered(output) => {
                    assert!(
                        output == expected,
                        "the delivered batch ({} bytes) is not the peeked one ({} bytes): did a killed export move the cursor?",
                        output.len(),
                        expected.len()
                    );
                    self.accept(&parse_jsonl(output));
                    return;
                }
                Ended::Killed { written } => {
                    self.count_kill(out_dir, written, &expected);
                }
            }
        }
    }

    fn count_kill(&mut self, out_dir: Option<&Path>, written: usize, expected: &[u8]) -> bool {
        let mid_write = written > 0 && written < expected.len();
        match out_dir {
            Some(_) => self.killed_mid_write_file += usize::from(mid_write),
            None => self.killed_mid_write_stdout += usize::from(mid_write),
        }
        mid_write
    }

    /// Kills an export in the middle of its output, at a point drawn from
    /// the output's size, which the export cannot get past on any machine:
    /// on stdout a pipe of one page stops it within a page of what the
    /// test has read; into a file the kernel kills it (SIGXFSZ) when it
    /// writes the point's byte (its file size limit, set once its file is
    /// there). So every call adds a kill mid-output, however fast or loaded
    /// the machine. Only an export that wrote its whole file before the
    /// test saw the file escapes: it is killed and run again, or, when it
    /// had put the file in place already, its batch is delivered (returned);
    /// after ten such tries this call cuts nothing.
    fn kill_mid_output(
        &mut self,
        gleaner: &Gleaner,
        out_dir: Option<&Path>,
        expected: &[u8],
        random: &mut u64,
    ) -> Option<Vec<u8>> {
        let Some(out_dir) = out_dir else {
            // Two generations' articles, at least one each, are several pages.
            assert!(
                expected.len() > pipe_size() + 1,
                "a batch of {} bytes is too small to be cut",
                expected.len()
            );
            let point = 1 + (next_random(random) as usize) % (expected.len() - pipe_size() - 1);
            match export_to_stdout_until(gleaner, point, expected) {
                Ended::Killed { written } => {
                    assert!(self.count_kill(None, written, expected), "{written} bytes");
                }
                Ended::Delivered(_) => panic!("an export got past its kill point at {point}"),
            }
            return None;
        };
        assert!(expected.len() > 1, "an empty batch cannot be cut");
        for _ in 0..10 {
            let point = 1 + (next_random(random) as usize) % (expected.len() - 1);
            match export_to_file_killed_at(gleaner, out_dir, point, expected) {
                Ended::Killed { written } => {
                    if self.count_kill(Some(out_dir), written, expected) {
                        return None;
                    }
                }
                Ended::Delivered(output) => return Some(output),
            }
        }
        // A loaded machine can let every try write its whole file before
        // the test sees it: the calls after this one and the final count
        // (which asks fewer kills into a file than calls) decide.
        None
    }
}

fn parse_jsonl(output: Vec<u8>) -> Vec<serde_json::Value> {
    String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The size of the pipe to an export's stdout: one page, the least.
fn pipe_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).unwrap_or(4096)
}

/// Runs the consumer's export to stdout and reads `budget` bytes of it;
/// if it has not written its whole output by then, SIGKILLs it.
fn export_to_stdout_until(gleaner: &Gleaner, budget: usize, expected: &[u8]) -> Ended {
    // A pipe of one page, made before the export starts, so that where the
    // reader stops is where the writer blocks, give or take its size.
    let (mut stdout, write_end) = small_pipe();
    let (mut process, _child) = Process::spawn(
        gleaner
            .command()
            .args(EXPORT)
            .stdout(Stdio::from(write_end))
            .stderr(Stdio::null()),
    );
    let mut got = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    while got.len() < budget {
        let want = buffer.len().min(budget - got.len());
        match stdout.read(&mut buffer[..want]).unwrap() {
            0 => break,
            n => got.extend_from_slice(&buffer[..n]),
        }
    }
    // Frozen, it can tell us whether its output is complete: all it wrote
    // is in the pipe. Only then may it have stored its cursor.
    let running = process.stop();
    if running {
        set_nonblocking(&stdout, true);
        loop {
            match stdout.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(
            expected.starts_with(&got),
            "the output so far is the peeked one"
        );
        if got.len() < expected.len() {
            process.kill();
            return Ended::Killed { written: got.len() };
        }
        set_nonblocking(&stdout, false);
        process.signal(libc::SIGCONT);
    }
    stdout.read_to_end(&mut got).unwrap();
    if running {
        assert_eq!(process.wait(), Exit::Code(0));
    }
    Ended::Delivered(got)
}

/// Runs the consumer's export to a file and SIGKILLs it once the file it
/// writes has `budget` bytes, unless it has already put the whole file in
/// place; the destination is never partial.
fn export_to_file_until(
    gleaner: &Gleaner,
    out_dir: &Path,
    budget: usize,
    expected: &[u8],
) -> Ended {
    let target = out_dir.join("batch.jsonl");
    let (mut process, _child) = Process::spawn(
        gleaner
            .command()
            .args(EXPORT)
            .arg("--output")
            .arg(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let largest_file = || {
        std::fs::read_dir(out_dir)
            .unwrap()
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len() as usize)
            .max()
    };
    // Watch the file it writes (the first to appear) until it has `budget` bytes.
    let mut written_file = None;
    let stopped = loop {
        if let Some(exit) = process.try_wait() {
            assert_eq!(exit, Exit::Code(0));
            break false;
        }
        if written_file.is_none() {
            written_file = std::fs::read_dir(out_dir)
                .unwrap()
                .next()
                .map(|e| e.unwrap().path());
        }
        let size = written_file
            .as_ref()
            .and_then(|f| std::fs::metadata(f).ok())
            .map(|m| m.len() as usize);
        if size.is_some_and(|size| size >= budget) || (size.is_none() && written_file.is_some()) {
            break process.stop();
        }
        std::thread::yield_now();
    };
    if stopped && !target.exists() {
        let written = largest_file().unwrap_or(0);
        process.kill();
        assert!(
            !target.exists(),
            "a killed export left a file at the destination"
        );
        // What it leaves is its hidden temporary file, which the consumer
        // may delete.
        for entry in std::fs::read_dir(out_dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            assert!(name.starts_with(".gleaner-export-"), "{name}");
            std::fs::remove_file(entry.path()).unwrap();
        }
        return Ended::Killed { written };
    }
    if stopped {
        let in_place = std::fs::read(&target).unwrap();
        assert!(
            in_place == expected,
            "the destination has {} bytes of {}: it must only ever be the complete output",
            in_place.len(),
            expected.len()
        );
        process.signal(libc::SIGCONT);
        assert_eq!(process.wait(), Exit::Code(0));
    }
    let output = std::fs::read(&target).unwrap();
    std::fs::remove_file(&target).unwrap();
    Ended::Delivered(output)
}

/// Runs the consumer's export to a file, and has the kernel kill it when
/// it writes byte `point` of its file (SIGXFSZ): its file size limit is
/// set once the file is there, after the export's own writes to the
/// database. When the test first sees the file already complete, the
/// export is killed then (not mid-write), or, if the file is in place
/// already, let finish (its batch delivered).
fn export_to_file_killed_at(
    gleaner: &Gleaner,
    out_dir: &Path,
    point: usize,
    expected: &[u8],
) -> Ended {
    let target = out_dir.join("batch.jsonl");
    let (mut process, _child) = Process::spawn(
        gleaner
            .command()
            .args(EXPORT)
            .arg("--output")
            .arg(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let delivered = |target: &Path| {
        let output = std::fs::read(target).unwrap();
        assert!(output == expected, "a delivered batch is the peeked one");
        std::fs::remove_file(target).unwrap();
        Ended::Delivered(output)
    };
    let temporary = loop {
        if let Some(exit) = process.try_wait() {
            assert_eq!(exit, Exit::Code(0));
            return delivered(&target);
        }
        if let Some(entry) = std::fs::read_dir(out_dir).unwrap().next() {
            break entry.unwrap().path();
        }
        std::thread::yield_now();
    };
    if !process.stop() {
        return delivered(&target);
    }
    if target.exists() {
        process.signal(libc::SIGCONT);
        assert_eq!(process.wait(), Exit::Code(0));
        return delivered(&target);
    }
    let size = std::fs::metadata(&temporary).unwrap().len() as usize;
    let written = if size < point {
        process.limit_file_size(point);
        process.signal(libc::SIGCONT);
        assert_eq!(process.wait(), Exit::Signal(libc::SIGXFSZ));
        // At the limit, or short of it when the kernel stopped the export
        // at another file's write past the limit (its database's WAL
        // grows past small limits): then it was killed before its output
        // was complete all the same, and a kill at 0 bytes is tried again.
        let written = std::fs::metadata(&temporary).unwrap().len() as usize;
        assert!(
            written <= point,
            "{written} bytes written past the file size limit {point}"
        );
        written
    } else {
        process.kill();
        size
    };
    assert!(
        !target.exists(),
        "a killed export left a file at the destination"
    );
    std::fs::remove_file(&temporary).unwrap();
    Ended::Killed { written }
}

/// A pipe of [`pipe_size`] bytes: its reading end, and its writing end for a child.
fn small_pipe() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two descriptors, which we then own.
    unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        let (read, write) = (
            std::fs::File::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        );
        let size = pipe_size() as libc::c_int;
        assert_eq!(
            libc::fcntl(write.as_raw_fd(), libc::F_SETPIPE_SZ, size),
            size
        );
        (read, write)
    }
}
#[derive(Debug, PartialEq, Eq)]
enum Exit {
    Code(i32),
    Killed,
    Signal(i32),
    Other(i32),
}

fn exit_of(status: i32) -> Exit {
    if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL {
        Exit::Killed
    } else if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Other(status)
    }
}

/// A child we wait for with waitpid (which can see it stop); SIGKILLed
/// and reaped should the test panic while it runs or is stopped.
struct Process {
    pid: libc::pid_t,
    reaped: bool,
}

impl Process {
    #[allow(
        clippy::zombie_processes,
        reason = "reaped by Process::wait or its Drop"
    )]
    fn spawn(command: &mut std::process::Command) -> (Process, std::process::Child) {
        let child = command.spawn().unwrap();
        let process = Process {
            pid: child.id() as libc::pid_t,
            reaped: false,
        };
        (process, child)
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: our child, not yet reaped.
        assert_eq!(unsafe { libc::kill(self.pid, signal) }, 0);
    }

    fn waitpid(&mut self, options: libc::c_int) -> Option<i32> {
        let mut status = 0;
        // SAFETY: waits for our own child.
        match unsafe { libc::waitpid(self.pid, &mut status, options) } {
            0 => None,
            waited => {
                assert_eq!(waited, self.pid, "{}", std::io::Error::last_os_error());
                self.reaped = !libc::WIFSTOPPED(status);
                Some(status)
            }
        }
    }

    /// Stops it; false when it had ended already (then it has exited 0).
    fn stop(&mut self) -> bool {
        self.signal(libc::SIGSTOP);
        let status = self.waitpid(libc::WUNTRACED).unwrap();
        if libc::WIFSTOPPED(status) {
            return true;
        }
        assert_eq!(exit_of(status), Exit::Code(0));
        false
    }

    /// Its file size limit becomes `bytes` (and it dumps no core when it
    /// writes past them).
    fn limit_file_size(&self, bytes: usize) {
        for (resource, limit) in [(libc::RLIMIT_CORE, 0), (libc::RLIMIT_FSIZE, bytes as u64)] {
            let limit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            // SAFETY: sets a limit of our own child, which is stopped.
            let done = unsafe { libc::prlimit(self.pid, resource, &limit, std::ptr::null_mut()) };
            assert_eq!(done, 0, "{}", std::io::Error::last_os_error());
        }
    }

    fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        assert_eq!(self.wait(), Exit::Killed);
    }

    fn wait(&mut self) -> Exit {
        exit_of(self.waitpid(0).unwrap())
    }

    fn try_wait(&mut self) -> Option<Exit> {
        self.waitpid(libc::WNOHANG).map(exit_of)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: our child, not yet reaped.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

fn set_nonblocking(pipe: &impl AsRawFd, on: bool) {
    let fd = pipe.as_raw_fd();
    // SAFETY: fcntl on a pipe we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        let flags = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        assert_eq!(libc::fcntl(fd, libc::F_SETFL, flags), 0);
    }
}
