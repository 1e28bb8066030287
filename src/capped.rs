//! Reads of what the other side controls, bounded in bytes and in time.
//!
//! A server can answer with a body that never ends, a command can write to
//! its stderr forever: every read of a response body or of a child's pipe
//! goes through here, and keeps at most a given number of bytes. A response
//! body is read from its start and the read *stops* at the cap (the caller
//! drops the response, which closes the connection); a pipe is read to its
//! end or until the caller says stop, and only its *last* bytes are kept
//! (where a failing command says why).
//!
//! Time: a response's read ends within the request's timeout (reqwest
//! applies it until the body is read); a pipe's read ends at end of file or
//! when `stop` is cancelled, which the caller does at its own deadline.

use std::collections::VecDeque;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::sync::CancellationToken;

/// The start of a body, and whether that was all of it.
#[derive(Debug, Default)]
pub struct Head {
    /// At most the limit's bytes.
    pub bytes: Vec<u8>,
    /// `false` when the body went on past the limit (the rest is not read).
    pub complete: bool,
}

/// Reads `response`'s body up to `limit` bytes, and stops as soon as more
/// arrives: the rest is never read, so a body that does not end costs
/// `limit` bytes and one chunk.
pub async fn response_head(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Head, reqwest::Error> {
    let declared = response.content_length().unwrap_or(0);
    // The declared length is the other side's word: a hint, capped.
    let hint = usize::try_from(declared).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(hint.min(limit).min(1 << 20));
    let complete = read_head_into(response, limit, &mut bytes).await?;
    Ok(Head { bytes, complete })
}

/// [`response_head`] into `bytes`, which keeps what was read when the
/// caller gives up early (a time-out drops this future, not the bytes):
/// `false` when the body went on past `limit`.
pub async fn read_head_into(
    response: &mut reqwest::Response,
    limit: usize,
    bytes: &mut Vec<u8>,
) -> Result<bool, reqwest::Error> {
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(false);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(true)
}

/// The end of a stream, and how much came before it.
#[derive(Debug, Default)]
pub struct Tail {
    /// The last bytes read, at most the `keep` of [`read_tail`].
    pub bytes: Vec<u8>,
    /// How many bytes were read and dropped before those.
    pub dropped: u64,
}

/// Reads `reader` until its end, a read error, or `stop` is cancelled,
/// keeping only its last `keep` bytes: however much the other side
/// writes, this holds `keep` bytes and one read's buffer.
pub async fn read_tail(
    mut reader: impl AsyncRead + Unpin,
    keep: usize,
    stop: CancellationToken,
) -> Tail {
    let mut kept: VecDeque<u8> = VecDeque::with_capacity(keep);
    let mut dropped = 0u64;
    let mut buffer = vec![0u8; 8 * 1024];
    loop {
        let read = tokio::select! {
            // A pipe's read is cancel-safe: nothing read is lost but the
            // bytes not wanted anyway.
            read = reader.read(&mut buffer) => read,
            () = stop.cancelled() => break,
        };
        let n = match read {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // Only the chunk's end can survive.
        let chunk = &buffer[n.saturating_sub(keep)..n];
        dropped = dropped.saturating_add((n - chunk.len()) as u64);
        let excess = (kept.len() + chunk.len()).saturating_sub(keep);
        kept.drain(..excess);
        dropped = dropped.saturating_add(excess as u64);
        kept.extend(chunk);
    }
    Tail {
        bytes: kept.into(),
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tail_keeps_the_last_bytes_of_any_amount() {
        let text: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for keep in [0, 1, 10, 8 * 1024, 20_000, 200_000] {
            let tail = read_tail(&text[..], keep, CancellationToken::new()).await;
            let start = text.len().saturating_sub(keep);
            assert_eq!(tail.bytes, &text[start..], "keep {keep}");
            assert_eq!(tail.dropped, start as u64, "keep {keep}");
        }
    }

    #[tokio::test]
    async fn a_tail_stops_when_told_though_the_writer_goes_on() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let stop = CancellationToken::new();
        let reading = tokio::spawn(read_tail(reader, 4, stop.clone()));
        tokio::io::AsyncWriteExt::write_all(&mut writer, b"abcdef")
            .await
            .unwrap();
        stop.cancel();
        // The writer is still open: only `stop` can end the read.
        let tail = reading.await.unwrap();
        assert!(tail.bytes.len() <= 4, "{:?}", tail.bytes);
        drop(writer);
    }
}
