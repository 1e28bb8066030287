//! One export at a time per consumer.
//!
//! A consumer's export reads its cursor, writes a batch and only then moves
//! the cursor; two exports of one consumer running at once would both read
//! the same cursor and deliver the same batch. SQLite's own locks cannot
//! serialise them without holding the write lock for the whole export (and
//! stalling the daemon), so exports of a consumer take a POSIX record lock
//! on one byte of `DATABASE-consumers.lock`, chosen by a hash of the
//! consumer's name: another consumer's export does not wait, and the kernel
//! releases the lock when the process ends, however it ends.
//!
//! The lock file takes the database file's owner and group when root
//! creates it (as SQLite gives its -wal and -shm files): an `export` run as
//! root must not leave a file the daemon's user cannot open.
//!
//! The kernel's lock cannot be lost while its process lives, so the claim
//! taken under it (`store::consumer_lock`: the consumer's next token) is
//! always granted, and the cursor moves of its holder always find their
//! token. On PostgreSQL the lock is a lease in the consumer's row (see
//! `postgres::follow`): exports of one consumer on any machine take turns.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Sqlite;
use crate::store::backend::ConsumerLocks;
use crate::store::consumer_lock::{ConsumerLock, holder};
use crate::store::shared::consumers;
use crate::store::sql::SqlBackend;
use crate::store::{StoreError, format_time};

/// POSIX record locks belong to the process, and closing any descriptor of
/// the file drops all of them: a process must hold one of these locks at a
/// time (the daemon delivers to one consumer after another).
impl ConsumerLocks for Sqlite {
    fn lock_consumer(
        &mut self,
        consumer: &str,
        lease: Duration,
        waiting: &mut dyn FnMut(),
    ) -> Result<ConsumerLock, StoreError> {
        let (file, error) = self.consumer_lock_file()?;
        let byte = consumer_byte(consumer);
        if !record_lock(&file, byte, false).map_err(&error)? {
            waiting();
            record_lock(&file, byte, true).map_err(&error)?;
        }
        self.claim_locked(consumer, lease, file)
    }

    fn try_lock_consumer(
        &mut self,
        consumer: &str,
        lease: Duration,
    ) -> Result<Option<ConsumerLock>, StoreError> {
        let (file, error) = self.consumer_lock_file()?;
        if !record_lock(&file, consumer_byte(consumer), false).map_err(&error)? {
            return Ok(None);
        }
        self.claim_locked(consumer, lease, file).map(Some)
    }
}

impl Sqlite {
    /// Claims `consumer` under its file lock (`file`), which only a live
    /// process holds: whatever holder the row names is gone, so the claim
    /// is forced.
    fn claim_locked(
        &mut self,
        consumer: &str,
        lease: Duration,
        file: File,
    ) -> Result<ConsumerLock, StoreError> {
        let (holder, now) = (holder(), format_time(chrono::Utc::now()));
        let token = self
            .write(false, |c| {
                consumers::claim(c, consumer, &holder, lease, true, &now)
            })?
            .ok_or_else(|| {
                StoreError::Inconsistent(format!(
                    "the claim of consumer {consumer:?} under its file lock was refused"
                ))
            })?;
        Ok(ConsumerLock::new(consumer, token, lease, Box::new(file)))
    }

    /// The open lock file, and what its errors become (naming the file).
    fn consumer_lock_file(
        &self,
    ) -> Result<(File, impl Fn(std::io::Error) -> StoreError + use<>), StoreError> {
        let path = lock_path(&self.path);
        let file = open_lock_file(&path, &self.path);
        let error = move |source| StoreError::ConsumerLock {
            path: path.clone(),
            source,
        };
        Ok((file.map_err(&error)?, error))
    }
}

/// `gleaner.db` → `gleaner.db-consumers.lock`, beside SQLite's -wal and -shm.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-consumers.lock");
    PathBuf::from(name)
}

/// Opens (creating, mode 0600) the lock file at `path` beside `database`,
/// owned as the database is.
fn open_lock_file(path: &Path, database: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    owned_like(&file, database);
    Ok(file)
}

/// As root, gives `file` the owner and group of `database` (a lock file an
/// earlier root run left to root is given back too). Any other user can
/// only have created it as itself, and cannot give it away: nothing to do.
/// Best effort: when it fails, the daemon's user meets the lock file in a
/// message that says what to do.
fn owned_like(file: &File, database: &Path) {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let (Ok(database), Ok(own)) = (std::fs::metadata(database), file.metadata()) else {
        return;
    };
    if (own.uid(), own.gid()) != (database.uid(), database.gid()) {
        let _ = std::os::unix::fs::fchown(file, Some(database.uid()), Some(database.gid()));
    }
}

/// The byte of the lock file that stands for `consumer` (2^40 of them:
/// two names sharing one only make their exports take turns).
fn consumer_byte(consumer: &str) -> i64 {
    let digest = Sha256::digest(consumer.as_bytes());
    let mut bytes = [0u8; 8];
    bytes[3..].copy_from_slice(&digest[..5]);
    i64::from_be_bytes(bytes)
}

/// Takes a write lock on one byte of `file`: waiting for it when `wait`,
/// else `Ok(false)` when another process holds it.
fn record_lock(file: &File, byte: i64, wait: bool) -> std::io::Result<bool> {
    // SAFETY: an all-zero `flock` is a valid value of this plain C struct;
    // its fields are then set as fcntl(2) documents.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock.l_start = byte as libc::off_t;
    lock.l_len = 1;
    let command = if wait { libc::F_SETLKW } else { libc::F_SETLK };
    loop {
        // SAFETY: fcntl on a file descriptor we own, with a pointer to a
        // live, initialised flock.
        let result = unsafe { libc::fcntl(file.as_raw_fd(), command, &lock) };
        if result == 0 {
            return Ok(true);
        }
        let error = std::io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN | libc::EACCES) if !wait => return Ok(false),
            _ => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumers_get_distinct_bytes_and_the_lock_file_sits_beside_the_database() {
        assert_ne!(consumer_byte("mytool"), consumer_byte("other"));
        assert_eq!(consumer_byte("mytool"), consumer_byte("mytool"));
        assert!(consumer_byte("x") < 1 << 40);
        assert_eq!(
            lock_path(Path::new("/var/lib/gleaner/g.db")),
            Path::new("/var/lib/gleaner/g.db-consumers.lock")
        );
    }
}
