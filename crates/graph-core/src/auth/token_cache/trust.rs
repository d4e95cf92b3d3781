//! What the cache trusts on disk: only what this user's processes left there. On Unix, the data
//! folder must belong to the user (one others could write to is made owner-only, one of another
//! user is refused), and every file in it is opened without following a symbolic link
//! (`O_NOFOLLOW`; `O_NONBLOCK` too, so a planted FIFO cannot hang the open; std adds
//! `O_CLOEXEC`), then checked on the open handle (`fstat`): a regular file of this user with one
//! name. Its mode is set on that handle (`fchmod`), never by path, so nothing outside the folder
//! is ever changed. New files are created with `O_CREAT | O_EXCL | O_NOFOLLOW`, 0600.
//!
//! The data folder's own path is followed, symbolic links included: it is the user's (their
//! home) or the folder they chose (`GRAPH_BETA_DATA_DIR`), and what is checked is the folder it
//! leads to. Only what is inside is never followed.
//!
//! Not handled yet: files are opened by path, not relative to the checked folder's handle
//! (`openat`), so someone who can write to a folder *above* the data folder could swap it
//! between the check and the use; on Windows (the folder is under `%LOCALAPPDATA%`, protected
//! by its ACL) files are only checked for being symbolic links before they are opened, and ACLs
//! are not inspected; POSIX ACLs on Unix are only narrowed as far as setting the mode does.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// A file of the data folder, opened.
pub(crate) enum Opened {
    /// This user's regular file with one name, now owner-only (0600).
    Own(File),
    /// Something the module never leaves in its folder, and why ("is a symbolic link"...): it
    /// was not followed, and its mode was not touched.
    Foreign(String),
}

/// What [`secure_dir`] found and did.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) enum Folder {
    /// The user's, and no one else can write to it (now).
    Private,
    /// Others could write to it (mode `was`): it is 0700 now.
    Tightened { was: u32 },
    /// It belongs to another user (`uid`): nothing was changed.
    OtherOwner { uid: u32 },
}

/// Opens a lock file, creating it (0600) if needed. A lock file others could write to is still
/// the user's own (its content does not matter): it is only made owner-only.
pub(crate) fn open_lock(path: &Path) -> io::Result<Opened> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    open_checked(path, options, false)
}

/// Opens an existing data file for reading (`None`: there is none). A file others could have
/// written to is foreign: the module always leaves its files owner-only.
pub(crate) fn open_data(path: &Path) -> io::Result<Option<Opened>> {
    let mut options = OpenOptions::new();
    options.read(true);
    match open_checked(path, options, true) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        other => other.map(Some),
    }
}

/// Creates a new owner-only file (0600 whatever the umask); fails if anything, a symbolic link
/// included, already has that name.
pub(crate) fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    make_owner_only(&file)?;
    Ok(file)
}

#[cfg(unix)]
fn open_checked(path: &Path, mut options: OpenOptions, refuse_shared: bool) -> io::Result<Opened> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    options
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let file = match options.open(path) {
        Ok(file) => file,
        Err(error) => {
            // O_NOFOLLOW fails with ELOOP on Linux and macOS, EMLINK on FreeBSD: look at the
            // name itself (without following it) to say why.
            return match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    Ok(Opened::Foreign("is a symbolic link".to_owned()))
                }
                _ => Err(error),
            };
        }
    };
    // fstat of what was opened: the name may have been swapped since any check by path.
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Ok(Opened::Foreign("is not a regular file".to_owned()));
    }
    if meta.uid() != effective_uid() {
        return Ok(Opened::Foreign(format!(
            "belongs to another user (uid {})",
            meta.uid()
        )));
    }
    if meta.nlink() != 1 {
        // Changing its mode would change the mode of the file's other names too.
        return Ok(Opened::Foreign(
            "has more than one name (a hard link)".to_owned(),
        ));
    }
    let mode = meta.mode() & 0o7777;
    if refuse_shared && mode & 0o022 != 0 {
        return Ok(Opened::Foreign(format!(
            "could be written by other users (mode {mode:04o})"
        )));
    }
    if mode != 0o600 {
        make_owner_only(&file)?;
    }
    Ok(Opened::Own(file))
}

#[cfg(not(unix))]
fn open_checked(path: &Path, options: OpenOptions, _refuse_shared: bool) -> io::Result<Opened> {
    // Best effort: checked by name before opening (a link made in between is followed).
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
        return Ok(Opened::Foreign("is a symbolic link".to_owned()));
    }
    options.open(path).map(Opened::Own)
}

/// Checks the (existing) data folder on an open handle: another user's is refused; one others
/// could write to is made 0700; `own` (the module's own folder, or one it just created) is made
/// 0700 whatever its mode. A folder the user named that others can only read is left as it is:
/// its files are owner-only, and no one else can add or swap any.
#[cfg(unix)]
pub(crate) fn secure_dir(dir: &Path, own: bool) -> io::Result<Folder> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let folder = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)?;
    let meta = folder.metadata()?;
    if meta.uid() != effective_uid() {
        return Ok(Folder::OtherOwner { uid: meta.uid() });
    }
    let mode = meta.mode() & 0o7777;
    let shared = mode & 0o022 != 0;
    if shared || (own && mode != 0o700) {
        use std::os::unix::fs::PermissionsExt;
        folder.set_permissions(std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(if shared {
        Folder::Tightened { was: mode }
    } else {
        Folder::Private
    })
}

#[cfg(not(unix))]
pub(crate) fn secure_dir(_dir: &Path, _own: bool) -> io::Result<Folder> {
    // Under %LOCALAPPDATA%, which only its user (and administrators) can read.
    Ok(Folder::Private)
}

/// fchmod 0600 on the handle (not subject to the umask, and never through a name).
#[cfg(unix)]
fn make_owner_only(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(unix)]
fn effective_uid() -> u32 {
    // SAFETY: geteuid takes no arguments, cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}
