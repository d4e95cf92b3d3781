//! User-defined environments persisted across processes, as the official module keeps them in
//! `~/.mg/mg.context.json` (its `EnvironmentTable`, rewritten on every Add/Remove-MgEnvironment
//! under an exclusive write lock and read when the module loads). Here they live in
//! `environments.json` in the module's own owner-only data folder (see
//! [`crate::auth::token_cache::location`]), locked while updated and replaced atomically. The
//! file holds no secret. Built-in clouds are never written.
//!
//! The file is trusted only as the token cache trusts its own (see
//! [`crate::auth::token_cache::trust`]): a symbolic link, another user's file or one others
//! could write to is ignored like a damaged one (it could point a saved environment at someone
//! else's authority) and replaced at the next save; a lock file that is not the user's own is
//! refused. Nothing says so yet: only the token cache's warnings reach Connect-MgGraph.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::auth::token_cache::CacheSettings;
use crate::auth::token_cache::file_store::{FileStore, Locked, Stored};
use crate::auth::token_cache::location::data_dir;
use crate::environment::{Environment, EnvironmentRegistry};
use crate::error::{ErrorKind, GraphError};

const FILE_NAME: &str = "environments.json";
const LOCK_NAME: &str = "environments.lock";

#[derive(Debug, Default, Serialize, Deserialize)]
struct EnvironmentFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    environments: Vec<SavedEnvironment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedEnvironment {
    name: String,
    #[serde(rename = "azureADEndpoint")]
    azure_ad_endpoint: String,
    graph_endpoint: String,
}

fn store(settings: &CacheSettings) -> Result<FileStore, GraphError> {
    Ok(FileStore::named(
        data_dir(settings.data_dir.as_deref())?,
        FILE_NAME,
        LOCK_NAME,
    ))
}

fn read(store: &FileStore, lock: &Locked) -> EnvironmentFile {
    store.read(lock).map(parse).unwrap_or_default()
}

/// The saved environments: none from a damaged file (it must not stop anyone from signing in
/// to the built-in clouds) nor from one the user's processes did not write.
fn parse(stored: Stored) -> EnvironmentFile {
    match stored {
        Stored::Own(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Stored::Missing | Stored::Foreign(_) => EnvironmentFile::default(),
    }
}

fn write(store: &FileStore, lock: &Locked, file: &EnvironmentFile) -> Result<(), GraphError> {
    let bytes = serde_json::to_vec_pretty(file).map_err(|error| {
        GraphError::new(
            ErrorKind::Internal,
            format!("the environments could not be serialized: {error}"),
        )
    })?;
    store.write(lock, &bytes)
}

/// Loads the saved environments into the process's registry, once per process (like the
/// official module at import). Unreadable entries are skipped.
pub fn load_once(settings: &CacheSettings) {
    static LOADED: AtomicBool = AtomicBool::new(false);
    if LOADED.load(Ordering::SeqCst) {
        return;
    }
    let Ok(store) = store(settings) else {
        return;
    };
    let Ok(lock) = store.lock() else {
        return;
    };
    // Done only once the file could be read: a folder, lock or read that failed is tried again
    // at the next sign-in. (Two first callers at once both add: adding is idempotent.) A
    // damaged or untrusted file counts as read: it would not get better.
    let Ok(stored) = store.read(&lock) else {
        return;
    };
    drop(lock);
    LOADED.store(true, Ordering::SeqCst);
    let file = parse(stored);
    let registry = EnvironmentRegistry::global();
    for saved in file.environments {
        if let Ok(environment) =
            Environment::user_defined(&saved.name, &saved.graph_endpoint, &saved.azure_ad_endpoint)
        {
            let _ = registry.add(environment);
        }
    }
}

/// Saves (adds or replaces) a user-defined environment.
pub fn save(settings: &CacheSettings, environment: &Environment) -> Result<(), GraphError> {
    let store = store(settings)?;
    let lock = store.lock()?;
    let mut file = read(&store, &lock);
    file.version = 1;
    file.environments
        .retain(|saved| !saved.name.eq_ignore_ascii_case(&environment.name));
    file.environments.push(SavedEnvironment {
        name: environment.name.clone(),
        azure_ad_endpoint: environment.azure_ad_endpoint.clone(),
        graph_endpoint: environment.graph_endpoint.clone(),
    });
    write(&store, &lock, &file)
}

/// Forgets a saved environment.
pub fn forget(settings: &CacheSettings, name: &str) -> Result<(), GraphError> {
    let store = store(settings)?;
    let lock = store.lock()?;
    let mut file = read(&store, &lock);
    let before = file.environments.len();
    file.environments
        .retain(|saved| !saved.name.eq_ignore_ascii_case(name));
    if file.environments.len() == before {
        return Ok(());
    }
    file.version = 1;
    write(&store, &lock, &file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("graph-environments-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    fn settings(dir: &Path) -> CacheSettings {
        CacheSettings {
            data_dir: Some(dir.display().to_string()),
            key_store: Some("none".to_owned()),
        }
    }

    fn environment(name: &str) -> Environment {
        Environment::user_defined(name, "https://graph.test", "https://login.test").expect("ok")
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("meta").permissions().mode() & 0o7777
    }

    #[test]
    fn an_environments_file_that_is_a_symbolic_link_is_neither_read_nor_written_through() {
        let elsewhere = temp_dir();
        let target = elsewhere.join(FILE_NAME);
        let planted = br#"{"version":1,"environments":[{"name":"Planted","azureADEndpoint":"https://evil.test","graphEndpoint":"https://evil.test"}]}"#;
        std::fs::write(&target, planted).expect("target");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let dir = temp_dir();
        std::os::unix::fs::symlink(&target, dir.join(FILE_NAME)).expect("link");
        save(&settings(&dir), &environment("Mine")).expect("saved");
        let saved = dir.join(FILE_NAME);
        assert!(std::fs::symlink_metadata(&saved).expect("file").is_file());
        let text = std::fs::read_to_string(&saved).expect("read");
        assert!(text.contains("Mine") && !text.contains("Planted"), "{text}");
        assert_eq!(std::fs::read(&target).expect("target"), planted);
        assert_eq!(mode(&target), 0o644);
        std::fs::remove_dir_all(dir).expect("cleaned");
        std::fs::remove_dir_all(elsewhere).expect("cleaned");
    }

    #[test]
    fn an_environments_lock_that_is_a_symbolic_link_is_refused_and_its_target_left_alone() {
        let elsewhere = temp_dir();
        let victim = elsewhere.join("victim.txt");
        std::fs::write(&victim, b"precious").expect("victim");
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let dir = temp_dir();
        std::os::unix::fs::symlink(&victim, dir.join(LOCK_NAME)).expect("link");
        let error = save(&settings(&dir), &environment("Mine")).expect_err("refused");
        assert!(error.message.contains("symbolic link"), "{}", error.message);
        assert_eq!(mode(&victim), 0o644);
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert!(!dir.join(FILE_NAME).exists(), "nothing saved");
        std::fs::remove_dir_all(dir).expect("cleaned");
        std::fs::remove_dir_all(elsewhere).expect("cleaned");
    }
}
