//! `exec = [...]`: a batch as JSON lines on a command's stdin; exit 0 takes it.
//!
//! The command's exit status decides, not its pipes: a command that exits 0
//! while a process it left in the background still holds its stderr has
//! taken the batch. It runs in a process group of its own, so that at its
//! timeout the whole group is killed (the command and whatever it started),
//! not only the process the daemon started. What it leaves running after
//! it exited is its own business: not waited for, not killed.
//!
//! Its environment is clean: [`PASSED`] from the daemon's, the variables
//! its block's `env_keep` names, and `GLEANER_CONSUMER`. The daemon's own
//! secrets (`PGPASSWORD`, systemd's `CREDENTIALS_DIRECTORY`) stay with it
//! unless the operator hands them on.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// How much of a failing command's stderr is kept for the log: its end.
const STDERR_KEPT: usize = 2_000;
/// How long stderr is still read once the command exited: a process it
/// left in the background may hold stderr open for good.
const STDERR_GRACE: Duration = Duration::from_millis(500);
/// The daemon's variables every command gets (when the daemon has them):
/// where programs are, the home folder, the locale and the time zone.
pub const PASSED: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TZ"];

/// Why a command did not take its batch.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} exited with {status}{}", stderr_suffix(.stderr))]
    Failed {
        program: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error(
        "{program} did not exit within {timeout:?} and was killed, with the processes it started (raise the block's timeout_secs if it is just slow)"
    )]
    Timeout { program: String, timeout: Duration },
    #[error("{0}")]
    Io(std::io::Error),
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; its stderr: {stderr}")
    }
}

/// Kills the command's process group when dropped while armed: at the
/// timeout, and when the delivery is abandoned (the daemon stops).
struct Group {
    pgid: Option<libc::pid_t>,
}

impl Group {
    /// The command exited by itself: what it left running is its own.
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take()
            && pgid > 0
        {
            // SAFETY: kill(2) with a negative pid signals the process
            // group; the group is the command's own (process_group(0)),
            // and its leader is not reaped yet, so the id is not reused.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

/// Runs `argv` with `lines` on stdin, in a clean environment ([`PASSED`],
/// `env_keep`, `GLEANER_CONSUMER=consumer`); `Ok` when it exits 0 within
/// `timeout` (its process group is killed after).
pub async fn run(
    argv: &[String],
    env_keep: &[String],
    consumer: &str,
    lines: Vec<u8>,
    timeout: Duration,
) -> Result<(), ExecError> {
    let program = argv.first().cloned().unwrap_or_default();
    let mut command = Command::new(&program);
    command.args(argv.get(1..).unwrap_or_default()).env_clear();
    for name in PASSED
        .iter()
        .copied()
        .chain(env_keep.iter().map(String::as_str))
    {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let mut child = command
        .env("GLEANER_CONSUMER", consumer)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ExecError::Spawn {
            program: program.clone(),
            source,
        })?;
    let mut group = Group {
        pgid: child.id().and_then(|id| libc::pid_t::try_from(id).ok()),
    };
    // Read while the command runs (so one that writes much to stderr
    // before reading stdin cannot deadlock with us), kept to its end.
    let stop = CancellationToken::new();
    let _stop_on_drop = stop.clone().drop_guard();
    let Some(stderr) = child.stderr.take() else {
        return Err(ExecError::Io(std::io::Error::other(
            "no pipe to the command's stderr",
        )));
    };
    let mut stderr = tokio::spawn(crate::capped::read_tail(stderr, STDERR_KEPT, stop.clone()));
    let stdin = child.stdin.take();
    let status = tokio::time::timeout(timeout, async {
        let feed = async move {
            if let Some(mut stdin) = stdin {
                // A command that exits without reading everything decides
                // by its exit status, not by our broken pipe.
                let _ = stdin.write_all(&lines).await;
                let _ = stdin.shutdown().await;
            }
        };
        tokio::pin!(feed);
        let mut fed = false;
        loop {
            tokio::select! {
                // The feed is given up when the command exits: a process
                // it left behind may hold stdin without reading it.
                () = &mut feed, if !fed => fed = true,
                status = child.wait() => break status,
            }
        }
    })
    .await;
    let Ok(status) = status else {
        // The group is killed as `group` drops, before the leader is
        // reaped by kill_on_drop.
        drop(group);
        return Err(ExecError::Timeout { program, timeout });
    };
    group.disarm();
    let status = status.map_err(ExecError::Io)?;
    if status.success() {
        return Ok(());
    }
    let tail = tokio::select! {
        tail = &mut stderr => tail,
        () = tokio::time::sleep(STDERR_GRACE) => {
            stop.cancel();
            stderr.await
        }
    }
    .unwrap_or_default();
    // The kept end may start inside a character: from the next one.
    let start = tail
        .bytes
        .iter()
        .take(3)
        .take_while(|b| tail.dropped > 0 && (**b & 0xC0) == 0x80)
        .count();
    let text = String::from_utf8_lossy(&tail.bytes[start..]);
    let text = text.trim();
    Err(ExecError::Failed {
        program,
        status,
        stderr: text.to_owned(),
    })
}
