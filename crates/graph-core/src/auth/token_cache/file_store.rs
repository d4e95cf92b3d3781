//! The cache file on disk: every read-modify-write happens under an exclusive lock on a
//! separate lock file (so the data file itself can be replaced), and a write goes to a temporary
//! file in the same folder, is flushed to disk, then atomically renamed over the old one. A
//! reader never sees a half-written file, and two processes never lose each other's entries.
//! Files are opened through [`super::trust`]: never through a symbolic link, and only when they
//! are the user's own; what to do with a data file that is not is up to the caller (it holds
//! the lock, so it may remove it), a lock file that is not is refused.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::location::io_error;
use super::trust::{self, Opened};
use crate::error::{ErrorKind, GraphError};

pub(crate) const FILE_NAME: &str = "token-cache.json";
const LOCK_NAME: &str = "token-cache.lock";

/// One locked, atomically replaced file of the data folder.
pub(crate) struct FileStore {
    dir: PathBuf,
    file_name: &'static str,
    lock_name: &'static str,
}

/// What [`FileStore::read`] found.
pub(crate) enum Stored {
    Missing,
    /// The content of the user's own file, which only they could have written.
    Own(Zeroizing<Vec<u8>>),
    /// A file (or link...) the module never leaves there, and why: not read, not followed.
    Foreign(String),
}

/// Held while a read-modify-write runs; released on drop.
pub(crate) struct Locked {
    file: File,
}

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl FileStore {
    /// The token cache file of a data folder.
    pub fn new(dir: PathBuf) -> FileStore {
        FileStore::named(dir, FILE_NAME, LOCK_NAME)
    }

    pub fn named(dir: PathBuf, file_name: &'static str, lock_name: &'static str) -> FileStore {
        FileStore {
            dir,
            file_name,
            lock_name,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(self.file_name)
    }

    /// Waits for the exclusive lock (other processes hold it only for a read-modify-write).
    pub fn lock(&self) -> Result<Locked, GraphError> {
        let path = self.dir.join(self.lock_name);
        // Replacing a foreign lock file is no way out: two processes replacing it at once
        // would each hold a lock on a file of their own.
        let file = match trust::open_lock(&path).map_err(|error| io_error(&path, "open", &error))? {
            Opened::Own(file) => file,
            Opened::Foreign(why) => {
                return Err(GraphError::new(
                    ErrorKind::Internal,
                    format!(
                        "the lock file '{}' {why}, unlike any file the module makes (it may have been planted), so it was not used: remove it and try again",
                        path.display()
                    ),
                ));
            }
        };
        file.lock()
            .map_err(|error| io_error(&path, "lock", &error))?;
        Ok(Locked { file })
    }

    /// What the file holds, if it is the user's own. Call with the lock held.
    pub fn read(&self, _lock: &Locked) -> Result<Stored, GraphError> {
        let path = self.path();
        let mut file =
            match trust::open_data(&path).map_err(|error| io_error(&path, "read", &error))? {
                None => return Ok(Stored::Missing),
                Some(Opened::Foreign(why)) => return Ok(Stored::Foreign(why)),
                Some(Opened::Own(file)) => file,
            };
        let mut bytes = Zeroizing::new(Vec::new());
        file.read_to_end(&mut bytes)
            .map_err(|error| io_error(&path, "read", &error))?;
        Ok(Stored::Own(bytes))
    }

    /// Replaces the file atomically. Call with the lock held.
    pub fn write(&self, _lock: &Locked, bytes: &[u8]) -> Result<(), GraphError> {
        let path = self.path();
        let temporary = self.dir.join(format!(
            "{}.{}.tmp",
            self.file_name,
            uuid::Uuid::new_v4().simple()
        ));
        let result = write_new(&temporary, bytes).and_then(|()| {
            std::fs::rename(&temporary, &path)?;
            sync_dir(&self.dir)
        });
        if let Err(error) = result {
            let _ = std::fs::remove_file(&temporary);
            return Err(io_error(&path, "write", &error));
        }
        Ok(())
    }

    /// Removes the file (no entries left, or not one to trust); a symbolic link is removed, not
    /// what it points at. Call with the lock held.
    pub fn remove(&self, _lock: &Locked) -> Result<(), GraphError> {
        let path = self.path();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io_error(&path, "remove", &error)),
        }
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = trust::create_new(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes the rename durable (Unix); Windows has no directory handles to flush.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
