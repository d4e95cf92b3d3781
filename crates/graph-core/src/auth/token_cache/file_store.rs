//! The cache file on disk: every read-modify-write happens under an exclusive lock on a
//! separate lock file (so the data file itself can be replaced), and a write goes to a temporary
//! file in the same folder, is flushed to disk, then atomically renamed over the old one. A
//! reader never sees a half-written file, and two processes never lose each other's entries.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::location::{create_private_file, io_error, open_private_file};
use crate::error::GraphError;

pub(crate) const FILE_NAME: &str = "token-cache.json";
const LOCK_NAME: &str = "token-cache.lock";

/// One locked, atomically replaced file of the data folder.
pub(crate) struct FileStore {
    dir: PathBuf,
    file_name: &'static str,
    lock_name: &'static str,
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
        let file = open_private_file(&path).map_err(|error| io_error(&path, "open", &error))?;
        file.lock()
            .map_err(|error| io_error(&path, "lock", &error))?;
        Ok(Locked { file })
    }

    /// The file's bytes, or `None` when there is no file. Call with the lock held.
    pub fn read(&self, _lock: &Locked) -> Result<Option<Zeroizing<Vec<u8>>>, GraphError> {
        let path = self.path();
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error(&path, "read", &error)),
        };
        let mut bytes = Zeroizing::new(Vec::new());
        file.read_to_end(&mut bytes)
            .map_err(|error| io_error(&path, "read", &error))?;
        Ok(Some(bytes))
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

    /// Removes the file (no entries left). Call with the lock held.
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
    let mut file = create_private_file(path)?;
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
