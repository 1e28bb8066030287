//! `exec = [...]`: a batch as JSON lines on a command's stdin; exit 0 takes it.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// How much of a failing command's stderr is kept for the log.
const STDERR_KEPT: usize = 2_000;

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
    #[error("{program} did not finish within {timeout:?} and was killed")]
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

/// Runs `argv` with `lines` on stdin and `GLEANER_CONSUMER=consumer` in its
/// environment; `Ok` when it exits 0 within `timeout` (it is killed after).
pub async fn run(
    argv: &[String],
    consumer: &str,
    lines: Vec<u8>,
    timeout: Duration,
) -> Result<(), ExecError> {
    let program = argv.first().cloned().unwrap_or_default();
    let mut child = Command::new(&program)
        .args(&argv[1..])
        .env("GLEANER_CONSUMER", consumer)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ExecError::Spawn {
            program: program.clone(),
            source,
        })?;
    let mut stdin = child.stdin.take();
    let mut stderr = child.stderr.take();
    let finished = tokio::time::timeout(timeout, async {
        // Fed while its stderr is read, so a command that writes much to
        // stderr before reading stdin cannot deadlock with us.
        let feed = async {
            if let Some(mut stdin) = stdin.take() {
                // A command that exits without reading everything decides
                // by its exit status, not by our broken pipe.
                let _ = stdin.write_all(&lines).await;
                let _ = stdin.shutdown().await;
            }
        };
        let read = async {
            let mut text = Vec::new();
            if let Some(stderr) = stderr.as_mut() {
                let _ = stderr.read_to_end(&mut text).await;
            }
            text
        };
        let ((), text) = tokio::join!(feed, read);
        (child.wait().await, text)
    })
    .await;
    let Ok((status, text)) = finished else {
        // Dropping the child kills it (kill_on_drop).
        return Err(ExecError::Timeout { program, timeout });
    };
    let status = status.map_err(ExecError::Io)?;
    if status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&text);
    let text = text.trim();
    let mut start = text.len().saturating_sub(STDERR_KEPT);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    Err(ExecError::Failed {
        program,
        status,
        stderr: text[start..].to_owned(),
    })
}
