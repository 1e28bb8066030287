//! What `gleaner` says when a command fails: the error with each cause said
//! once, and what the operator can do about it when the cause tells.

/// The error and its causes, each said once (many messages already embed
/// their cause), then what the operator can do about it when the cause tells.
pub fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    if let Some(advice) = advice(error) {
        text.push_str(&format!(" ({advice})"));
    }
    text
}

const ADVICE_WRITABLE: &str = "gleaner must be able to write the database file and its folder, where it keeps the -wal and -shm files: check their owner and permissions";
/// What to do when a write fails for want of room.
pub const ADVICE_SPACE: &str = "check the free space on the disk";

/// What to do about a failed database or file operation, from its cause.
fn advice(error: &anyhow::Error) -> Option<&'static str> {
    use rusqlite::ErrorCode;
    use std::io::ErrorKind;
    error.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<rusqlite::Error>() {
            return match e.sqlite_error_code()? {
                ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied => {
                    Some(ADVICE_WRITABLE)
                }
                ErrorCode::DiskFull | ErrorCode::SystemIoFailure => Some(ADVICE_SPACE),
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    Some("another gleaner process was writing the database; try again")
                }
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    Some("the file is damaged or not a gleaner database; restore it from a backup")
                }
                _ => None,
            };
        }
        let e = cause.downcast_ref::<std::io::Error>()?;
        match e.kind() {
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
                Some("check that this user may write there")
            }
            ErrorKind::StorageFull | ErrorKind::FileTooLarge | ErrorKind::QuotaExceeded => {
                Some(ADVICE_SPACE)
            }
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot write the export to out.json: {source}")]
    struct Embeds {
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once_then_what_to_do() {
        let full = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
        let error = anyhow::Error::new(Embeds { source: full }).context("export");
        assert_eq!(
            describe(&error),
            "export: cannot write the export to out.json: disk full (check the free space on the disk)"
        );
        let plain = anyhow::anyhow!("no feed named \"x\"");
        assert_eq!(describe(&plain), "no feed named \"x\"");
    }
}
