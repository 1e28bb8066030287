//! Replacing a file so that a reader, or a crash, sees the old file or the
//! new one, never a part of either: a private temporary file in the same
//! folder, synced, renamed over the target, then the folder synced so the
//! rename itself is durable.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A new version of a file, being written.
pub struct Replacement {
    file: NamedTempFile,
    path: PathBuf,
}

impl Replacement {
    /// Starts a replacement of `path`: a temporary file named `prefix…`
    /// beside it, with mode 0600 (as tempfile creates it).
    pub fn begin(path: &Path, prefix: &str) -> io::Result<Replacement> {
        let file = tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(folder(path))
            .map_err(without_temporary_path)?;
        Ok(Replacement {
            file,
            path: path.to_owned(),
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.file.as_file_mut()
    }

    /// Syncs the new content, renames it over the target and syncs the folder.
    pub fn commit(self) -> io::Result<()> {
        self.file.as_file().sync_all()?;
        let path = self.path;
        self.file.persist(&path).map_err(|e| e.error)?;
        File::open(folder(&path))?.sync_all()
    }
}

/// Replaces `path` with `contents`, keeping its permissions and its owner
/// and group (a new file stays private, 0600, and the writer's). A
/// symbolic link stays one: the file it points to is replaced (the
/// temporary file is made beside that file, so the rename stays in its
/// file system).
pub fn write(path: &Path, contents: &[u8], prefix: &str) -> io::Result<()> {
    let target = match std::fs::canonicalize(path) {
        Ok(target) => target,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_owned(),
        Err(e) => return Err(e),
    };
    let mut replacement = Replacement::begin(&target, prefix)?;
    replacement.file().write_all(contents)?;
    match std::fs::metadata(&target) {
        Ok(existing) => keep_owner_and_mode(replacement.file(), &existing)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    replacement.commit()
}

/// Gives `file` the owner, group and permissions of `existing`. The owner
/// is set first (changing it may clear set-id bits); only when it differs,
/// so that a user replacing a file of their own needs no privilege. A
/// user who cannot give the file its owner gets an error, not a file that
/// changed hands.
fn keep_owner_and_mode(file: &File, existing: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let now = file.metadata()?;
    if (now.uid(), now.gid()) != (existing.uid(), existing.gid()) {
        std::os::unix::fs::fchown(file, Some(existing.uid()), Some(existing.gid()))?;
    }
    file.set_permissions(existing.permissions())
}

fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// tempfile's error without the temporary file's name it appends ("at
/// path \"…/.gleaner-x1Yz\""): callers name the file being replaced, the
/// only one the user knows; the cause (the OS error) and its kind stay.
/// tempfile's wrapper gives its cause only through its message.
fn without_temporary_path(error: io::Error) -> io::Error {
    let text = error.to_string();
    match text.rsplit_once(" at path ") {
        Some((cause, _)) => io::Error::new(error.kind(), cause.to_owned()),
        None => error,
    }
}
