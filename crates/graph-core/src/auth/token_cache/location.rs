//! Where the module keeps its files for the current user: `GRAPH_BETA_DATA_DIR` when set (tests
//! and unusual setups point it at a folder of their own), else
//! `<local data dir>/Microsoft.Graph.Beta.Users.Actions` (`~/.local/share/...` on Linux,
//! `~/Library/Application Support/...` on macOS, `%LOCALAPPDATA%\...` on Windows). Never the
//! official module's MSAL cache files.
//!
//! The folder must be the user's own: another user's is refused; one others could write to
//! (where they could have planted files or links) is made owner-only (0700), which is reported
//! by the next Connect-MgGraph; the module's own folder is always 0700. See [`super::trust`].

use std::io;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use super::trust::{self, Folder};
use crate::error::{ErrorKind, GraphError};

/// The environment variable that overrides the data folder.
pub const DATA_DIR_VARIABLE: &str = "GRAPH_BETA_DATA_DIR";

const FOLDER_NAME: &str = "Microsoft.Graph.Beta.Users.Actions";

/// Changes made to data folders in this process and not reported yet. The saved environments
/// open the folder first (every environment cmdlet and Connect-MgGraph load them) but have no
/// way to warn, so the token cache reports these when it opens the same folder.
static UNREPORTED: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

/// The module's data folder for this user, created owner-only if missing, and refused when it
/// is another user's. `configured` is the value of [`DATA_DIR_VARIABLE`] as the host sees it
/// (PowerShell's `$env:` is not always visible to native code); this process's own environment
/// is the fallback.
pub fn data_dir(configured: Option<&str>) -> Result<PathBuf, GraphError> {
    let configured = configured
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .or_else(|| {
            std::env::var(DATA_DIR_VARIABLE)
                .ok()
                .filter(|value| !value.trim().is_empty())
        });
    // A folder the user named and that already exists keeps a mode that only lets others read
    // it (it may be shared on purpose); the module's own folder is always owner-only.
    let (dir, own) = match configured {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let own = !dir.exists();
            (dir, own)
        }
        None => (
            dirs::data_local_dir()
            .ok_or_else(|| {
                GraphError::new(
                    ErrorKind::Internal,
                    format!(
                        "this user has no local data folder (HOME is not set?): set {DATA_DIR_VARIABLE} to a folder for the token cache, or use -ContextScope Process"
                    ),
                )
            })?
            .join(FOLDER_NAME),
            true,
        ),
    };
    create_dir(&dir).map_err(|error| io_error(&dir, "create", &error))?;
    match trust::secure_dir(&dir, own).map_err(|error| io_error(&dir, "secure", &error))? {
        Folder::Private => {}
        Folder::Tightened { was } => UNREPORTED.lock().push((
            dir.clone(),
            format!(
                "the data folder '{}' could be written by other users (mode {was:04o}), so files could have been planted in it: it is owner-only (0700) now, and no file in it that others could have written is used",
                dir.display()
            ),
        )),
        Folder::OtherOwner { uid } => {
            return Err(GraphError::new(
                ErrorKind::Internal,
                format!(
                    "the data folder '{}' belongs to another user (uid {uid}), so nothing in it is used: set {DATA_DIR_VARIABLE} to a folder of your own, or use -ContextScope Process",
                    dir.display()
                ),
            ));
        }
    }
    Ok(dir)
}

/// What [`data_dir`] did to `dir` in this process that is not reported yet (once).
pub(crate) fn take_warnings(dir: &Path) -> Vec<String> {
    let mut taken = Vec::new();
    UNREPORTED.lock().retain(|(folder, warning)| {
        let mine = folder == dir;
        if mine {
            taken.push(warning.clone());
        }
        !mine
    });
    taken
}

/// An error about a file of the cache, naming it (never its content).
pub(crate) fn io_error(path: &Path, action: &str, error: &io::Error) -> GraphError {
    GraphError::new(
        ErrorKind::Internal,
        format!(
            "could not {action} '{}': {error}; check the folder's owner and permissions, or use -ContextScope Process",
            path.display()
        ),
    )
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    // The mode is reduced by the umask, and an existing folder keeps its own:
    // [`trust::secure_dir`] sets it on the folder's handle.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> io::Result<()> {
    // Under %LOCALAPPDATA%, which only its user (and administrators) can read.
    std::fs::create_dir_all(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn a_named_folder_is_made_owner_only_only_when_the_module_creates_it() {
        let base = std::env::temp_dir().join(format!("graph-location-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&base).expect("base");
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        data_dir(Some(&base.display().to_string())).expect("existing");
        assert_eq!(mode(&base), 0o755, "an existing folder keeps its mode");
        let created = base.join("new");
        data_dir(Some(&created.display().to_string())).expect("created");
        assert_eq!(mode(&created), 0o700);
        std::fs::remove_dir_all(base).expect("cleaned");
    }

    #[test]
    fn a_data_folder_others_can_write_is_made_owner_only() {
        for planted in [0o777, 0o1777, 0o770] {
            let base =
                std::env::temp_dir().join(format!("graph-location-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&base).expect("base");
            std::fs::set_permissions(&base, std::fs::Permissions::from_mode(planted))
                .expect("chmod");
            data_dir(Some(&base.display().to_string())).expect("tightened");
            let now = std::fs::metadata(&base).expect("meta").permissions().mode() & 0o7777;
            assert_eq!(now, 0o700, "was {planted:o}");
            let warnings = take_warnings(&base);
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(
                warnings[0].starts_with(&format!(
                    "the data folder '{}' could be written by other users (mode {planted:04o})",
                    base.display()
                )),
                "{}",
                warnings[0]
            );
            assert!(take_warnings(&base).is_empty(), "reported once");
            data_dir(Some(&base.display().to_string())).expect("private");
            assert!(take_warnings(&base).is_empty(), "nothing more to report");
            std::fs::remove_dir_all(base).expect("cleaned");
        }
    }

    #[test]
    fn a_data_folder_of_another_user_is_refused() {
        use std::os::unix::fs::MetadataExt;
        let base = std::env::temp_dir().join(format!("graph-location-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&base).expect("base");
        if std::fs::metadata(&base).expect("meta").uid() != 0 {
            eprintln!("NOTE: not root, so no folder can be given to another user: not tested");
            std::fs::remove_dir_all(base).expect("cleaned");
            return;
        }
        std::os::unix::fs::chown(&base, Some(65534), Some(65534)).expect("chown");
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let error = data_dir(Some(&base.display().to_string())).expect_err("refused");
        assert!(
            error.message.contains(&base.display().to_string())
                && error.message.contains("another user")
                && error.message.contains(DATA_DIR_VARIABLE),
            "{}",
            error.message
        );
        assert_eq!(mode(&base), 0o777, "another user's folder is not changed");
        assert!(take_warnings(&base).is_empty());
        std::fs::remove_dir_all(base).expect("cleaned");
    }
}
