//! The cache against real files in temporary folders: lookup, damage, permissions, concurrent
//! writers, refused refresh tokens.
use super::*;

fn key(scopes: &[&str]) -> CacheKey {
    let environment =
        Environment::user_defined("T", "https://graph.test", "https://login.test").expect("ok");
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    CacheKey::new(&environment, "common", "app", &scopes)
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graph-cache-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

#[test]
fn entries_are_found_by_key_or_covering_scopes_and_removed() {
    let dir = temp_dir();
    let cache = TokenCache::at(dir.clone(), None);
    cache
        .save(
            &key(&["A", "B"]),
            "s",
            Some("u@x"),
            "rt-1",
            Some(("at-1", 99)),
        )
        .expect("saved");
    let found = cache.find(&key(&["b"])).expect("read").expect("covered");
    assert_eq!(found.key.scopes, ["A", "B"]);
    assert_eq!(found.refresh_token.as_str(), "rt-1");
    assert!(cache.find(&key(&["C"])).expect("read").is_none());
    assert!(cache.find(&key(&[])).expect("read").is_none());
    cache.remove(&key(&["A", "B"])).expect("removed");
    assert!(!cache.path().exists(), "an empty cache leaves no file");
    std::fs::remove_dir_all(dir).expect("cleaned");
}

#[test]
fn a_refused_refresh_token_yields_a_newer_one_or_removes_the_entry() {
    let dir = temp_dir();
    let cache = TokenCache::at(dir.clone(), None);
    let key = key(&["A"]);
    // Another process redeemed rt-1 first and saved rt-2: retry with rt-2.
    cache.save(&key, "s", None, "rt-2", None).expect("saved");
    let newer = cache.refused(&key, "s", "rt-1").expect("read");
    assert_eq!(newer.as_deref().map(String::as_str), Some("rt-2"));
    assert!(cache.find(&key).expect("read").is_some(), "kept");
    // rt-2 itself refused: the sign-in is gone.
    assert!(cache.refused(&key, "s", "rt-2").expect("read").is_none());
    assert!(cache.find(&key).expect("read").is_none(), "removed");
    std::fs::remove_dir_all(dir).expect("cleaned");
}

#[test]
fn a_damaged_file_is_an_empty_cache_with_a_note() {
    let dir = temp_dir();
    std::fs::write(dir.join(file_store::FILE_NAME), b"{not json").expect("written");
    let cache = TokenCache::at(dir.clone(), None);
    assert!(cache.find(&key(&["A"])).expect("no error").is_none());
    assert!(cache.status().notes[0].contains("treated as empty"));
    cache
        .save(&key(&["A"]), "s", None, "rt", None)
        .expect("replaced");
    assert!(cache.find(&key(&["A"])).expect("read").is_some());
    std::fs::remove_dir_all(dir).expect("cleaned");
}

#[test]
fn concurrent_writers_never_lose_each_other_s_entries() {
    let dir = temp_dir();
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                // A cache of its own per thread: separate open files, so the file lock
                // (not a mutex of this process) is what keeps them apart.
                let cache = TokenCache::at(dir, None);
                let mine = key(&[&format!("S{worker}")]);
                for round in 0..40 {
                    cache
                        .save(&mine, "s", None, &format!("rt-{worker}-{round}"), None)
                        .expect("saved");
                    if round % 5 == 4 {
                        cache.remove(&mine).expect("removed");
                    }
                }
                cache
                    .save(&mine, "s", None, &format!("rt-{worker}-last"), None)
                    .expect("saved");
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no panic");
    }
    let cache = TokenCache::at(dir.clone(), None);
    for worker in 0..4 {
        let found = cache
            .find(&key(&[&format!("S{worker}")]))
            .expect("readable")
            .expect("present");
        assert_eq!(found.refresh_token.as_str(), format!("rt-{worker}-last"));
    }
    assert!(cache.status().notes.is_empty());
    std::fs::remove_dir_all(dir).expect("cleaned");
}

#[cfg(unix)]
#[test]
fn the_file_is_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let cache = TokenCache::at(dir.clone(), None);
    cache
        .save(&key(&["A"]), "s", None, "rt", None)
        .expect("saved");
    let mode = std::fs::metadata(cache.path())
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    std::fs::remove_dir_all(dir).expect("cleaned");
}

fn memory_store() -> (KeyStore, std::sync::Arc<protection::MemoryKeys>) {
    let memory = std::sync::Arc::new(protection::MemoryKeys::default());
    let mut store = KeyStore::os("memory");
    store.memory = Some(std::sync::Arc::clone(&memory));
    (store, memory)
}

fn protection_on_disk(cache: &TokenCache) -> String {
    let bytes = std::fs::read(cache.path()).expect("file");
    let envelope: Envelope = serde_json::from_slice(&bytes).expect("envelope");
    envelope.protection.clone()
}

#[test]
fn a_key_store_failing_after_open_never_leads_to_plaintext() {
    let dir = temp_dir();
    let (store, memory) = memory_store();
    let cache = TokenCache::at(dir.clone(), Some(store));
    cache
        .save(&key(&["A"]), "s", None, "rt-1", None)
        .expect("saved");
    assert_eq!(protection_on_disk(&cache), "aes-256-gcm");
    let _ = cache.status();
    // The key is gone and no new one can be made: the file is left as it was.
    memory
        .broken
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = cache.save(&key(&["A"]), "s", None, "rt-2", None);
    assert!(failed.is_err());
    assert_eq!(protection_on_disk(&cache), "aes-256-gcm");
    let bytes = std::fs::read_to_string(cache.path()).expect("file");
    assert!(!bytes.contains("rt-2") && !bytes.contains("rt-1"));
    let status = cache.status();
    assert!(status.encrypted);
    assert!(
        status
            .notes
            .iter()
            .any(|note| note.contains("not written unencrypted")),
        "{:?}",
        status.notes
    );
    // Without any file either: nothing is written.
    std::fs::remove_file(cache.path()).expect("removed");
    assert!(cache.save(&key(&["A"]), "s", None, "rt-3", None).is_err());
    assert!(!cache.path().exists());
    std::fs::remove_dir_all(dir).expect("cleaned");
}

#[test]
fn a_removal_that_fails_is_reported_with_the_file_s_path() {
    use crate::auth::delegated::GrantStore;
    let dir = temp_dir();
    let cache = std::sync::Arc::new(TokenCache::at(dir.clone(), None));
    cache
        .save(&key(&["A"]), "s", None, "rt", None)
        .expect("saved");
    let binding = binding::CacheBinding {
        cache: std::sync::Arc::clone(&cache),
        key: key(&["A"]),
        sign_in_id: "s".to_owned(),
    };
    // A folder where the lock file should be: the cache cannot be locked, so not changed.
    std::fs::remove_file(dir.join("token-cache.lock")).expect("lock file");
    std::fs::create_dir(dir.join("token-cache.lock")).expect("blocked");
    let error = binding.forget().expect_err("reported");
    assert!(
        error.message.contains("could not be removed"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains(&cache.path().display().to_string()),
        "{}",
        error.message
    );
    std::fs::remove_dir(dir.join("token-cache.lock")).expect("unblocked");
    binding.forget().expect("removed");
    assert!(!cache.path().exists());
    std::fs::remove_dir_all(dir).expect("cleaned");
}

// ---- A hostile file system (issue 11, points 7 and 8) ----

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .expect("meta")
        .permissions()
        .mode()
        & 0o7777
}

/// The warnings gathered since the last call, one string.
fn warnings(cache: &TokenCache) -> String {
    cache.status().warnings.join("\n")
}

/// A genuine plaintext cache (what the module writes with the key store off) in `dir`.
fn plaintext_cache(dir: &std::path::Path, refresh_token: &str) -> Vec<u8> {
    TokenCache::at(dir.to_path_buf(), None)
        .save(&key(&["A"]), "s", Some("planted@x"), refresh_token, None)
        .expect("saved");
    std::fs::read(dir.join(file_store::FILE_NAME)).expect("written")
}

#[cfg(unix)]
#[test]
fn a_plaintext_file_found_while_the_key_store_works_is_not_used_and_is_removed() {
    // Open to others, the file is not the cache's whatever it holds; owner-only, it is still
    // not what the cache writes while a key store works.
    for (planted_mode, why) in [
        (0o666, "could be written by other users (mode 0666)"),
        (0o600, "was not encrypted although memory works here"),
    ] {
        let dir = temp_dir();
        plaintext_cache(&dir, "rt-planted");
        set_mode(&dir.join(file_store::FILE_NAME), planted_mode);
        let (store, _memory) = memory_store();
        let cache = TokenCache::at(dir.clone(), Some(store));
        assert!(
            cache.find(&key(&["A"])).expect("read").is_none(),
            "a plaintext file ({planted_mode:o}) is never used while the key store works"
        );
        assert!(!cache.path().exists(), "it is removed");
        let status = cache.status();
        assert!(status.encrypted, "nothing unencrypted is in use");
        assert!(status.unencrypted_reason.is_none());
        let warning = status.warnings.join("\n");
        assert!(
            warning.starts_with(&format!(
                "the token cache '{}' {why}",
                cache.path().display()
            )) && warning.contains("was not used")
                && warning.contains("has been removed"),
            "{warning}"
        );
        cache
            .save(&key(&["A"]), "s", None, "rt-mine", None)
            .expect("saved");
        assert_eq!(protection_on_disk(&cache), "aes-256-gcm");
        assert_eq!(mode_of(&cache.path()), 0o600);
        std::fs::remove_dir_all(dir).expect("cleaned");
    }
}

#[cfg(unix)]
#[test]
fn a_file_others_could_write_is_never_used_encrypted_or_not() {
    // Without a key store, plaintext is the format, but a file others could write is not ours.
    let dir = temp_dir();
    plaintext_cache(&dir, "rt-planted");
    set_mode(&dir.join(file_store::FILE_NAME), 0o666);
    let cache = TokenCache::at(dir.clone(), None);
    assert!(cache.find(&key(&["A"])).expect("read").is_none());
    assert!(!cache.path().exists(), "it is removed");
    let warning = warnings(&cache);
    assert!(
        warning.contains("could be written by other users (mode 0666)")
            && warning.contains("was not used and has been removed"),
        "{warning}"
    );
    std::fs::remove_dir_all(dir).expect("cleaned");
    // Encrypted: the content may be authentic, the file is still not what the cache left.
    let dir = temp_dir();
    let (store, _memory) = memory_store();
    let cache = TokenCache::at(dir.clone(), Some(store));
    cache
        .save(&key(&["A"]), "s", None, "rt", None)
        .expect("saved");
    set_mode(&cache.path(), 0o646);
    assert!(cache.find(&key(&["A"])).expect("read").is_none());
    assert!(!cache.path().exists(), "it is removed");
    assert!(warnings(&cache).contains("(mode 0646)"));
    std::fs::remove_dir_all(dir).expect("cleaned");
}

#[cfg(unix)]
#[test]
fn a_file_only_readable_by_others_is_used_and_made_owner_only() {
    let dir = temp_dir();
    plaintext_cache(&dir, "rt-mine");
    set_mode(&dir.join(file_store::FILE_NAME), 0o644);
    let cache = TokenCache::at(dir.clone(), None);
    let found = cache.find(&key(&["A"])).expect("read").expect("used");
    assert_eq!(found.refresh_token.as_str(), "rt-mine");
    assert_eq!(mode_of(&cache.path()), 0o600);
    let status = cache.status();
    assert!(!status.encrypted, "it says it is plaintext");
    assert!(status.warnings.is_empty(), "{:?}", status.warnings);
    std::fs::remove_dir_all(dir).expect("cleaned");
}

#[cfg(unix)]
#[test]
fn a_cache_file_that_is_a_symbolic_link_is_not_followed_and_is_replaced() {
    // The link points at a valid cache elsewhere (the attacker's tokens): it must not be read,
    // and the file it points at must keep its content and mode.
    let elsewhere = temp_dir();
    let planted = plaintext_cache(&elsewhere, "rt-planted");
    let target = elsewhere.join(file_store::FILE_NAME);
    set_mode(&target, 0o644);
    let dir = temp_dir();
    std::os::unix::fs::symlink(&target, dir.join(file_store::FILE_NAME)).expect("link");
    let cache = TokenCache::at(dir.clone(), None);
    assert!(
        cache.find(&key(&["A"])).expect("read").is_none(),
        "not followed"
    );
    assert!(
        std::fs::symlink_metadata(cache.path()).is_err(),
        "the link is removed"
    );
    let warning = warnings(&cache);
    assert!(
        warning.contains(&format!(
            "the token cache '{}' is a symbolic link",
            cache.path().display()
        )),
        "{warning}"
    );
    cache
        .save(&key(&["A"]), "s", None, "rt-mine", None)
        .expect("saved");
    assert!(
        std::fs::symlink_metadata(cache.path())
            .expect("file")
            .is_file()
    );
    assert_eq!(std::fs::read(&target).expect("target"), planted);
    assert_eq!(mode_of(&target), 0o644);
    std::fs::remove_dir_all(dir).expect("cleaned");
    std::fs::remove_dir_all(elsewhere).expect("cleaned");
}

#[cfg(unix)]
#[test]
fn lock_files_linked_to_another_file_are_refused_and_that_file_is_left_alone() {
    let elsewhere = temp_dir();
    let victim = elsewhere.join("victim.txt");
    std::fs::write(&victim, b"precious").expect("victim");
    set_mode(&victim, 0o644);
    let dir = temp_dir();
    let cache = TokenCache::at(dir.clone(), None);
    for lock in ["token-cache.lock", RENEWAL_LOCK] {
        for hard in [false, true] {
            let path = dir.join(lock);
            if hard {
                std::fs::hard_link(&victim, &path).expect("hard link");
            } else {
                std::os::unix::fs::symlink(&victim, &path).expect("symlink");
            }
            let error = if lock == RENEWAL_LOCK {
                cache.renewal_lock().err().expect("refused")
            } else {
                cache.find(&key(&["A"])).err().expect("refused")
            };
            let why = if hard {
                "has more than one name (a hard link)"
            } else {
                "is a symbolic link"
            };
            assert!(
                error.message.starts_with(&format!(
                    "the lock file '{}' {why}, unlike any file the module makes",
                    path.display()
                )) && error.message.ends_with("remove it and try again"),
                "{}",
                error.message
            );
            assert_eq!(mode_of(&victim), 0o644, "{lock} (hard link: {hard})");
            assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
            std::fs::remove_file(&path).expect("unlinked");
        }
    }
    std::fs::remove_dir_all(dir).expect("cleaned");
    std::fs::remove_dir_all(elsewhere).expect("cleaned");
}

#[cfg(unix)]
#[test]
fn a_fifo_in_place_of_the_cache_file_does_not_hang_it() {
    let dir = temp_dir();
    let fifo = dir.join(file_store::FILE_NAME);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let (sender, receiver) = std::sync::mpsc::channel();
    let worker_dir = dir.clone();
    std::thread::spawn(move || {
        let cache = TokenCache::at(worker_dir, None);
        let found = cache.find(&key(&["A"])).map(|found| found.is_some());
        let _ = sender.send((found, warnings(&cache)));
    });
    let (found, warning) = receiver
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the cache did not wait for a writer on the FIFO");
    assert!(!found.expect("no error"), "nothing read from a FIFO");
    assert!(std::fs::symlink_metadata(&fifo).is_err(), "removed");
    assert!(warning.contains("is not a regular file"), "{warning}");
    std::fs::remove_dir_all(dir).expect("cleaned");
}

/// Whether this process runs as root (a folder it just made is root's), so it can give files to
/// another user.
#[cfg(unix)]
fn running_as_root(dir: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).expect("meta").uid() == 0
}

#[cfg(unix)]
#[test]
fn files_of_another_user_are_not_used() {
    let dir = temp_dir();
    if !running_as_root(&dir) {
        eprintln!("NOTE: not root, so no file can be given to another user: not tested");
        std::fs::remove_dir_all(dir).expect("cleaned");
        return;
    }
    plaintext_cache(&dir, "rt-planted");
    let cache = TokenCache::at(dir.clone(), None);
    std::os::unix::fs::chown(cache.path(), Some(65534), Some(65534)).expect("chown");
    set_mode(&cache.path(), 0o600);
    assert!(cache.find(&key(&["A"])).expect("read").is_none());
    assert!(!cache.path().exists(), "removed");
    assert!(warnings(&cache).contains("belongs to another user (uid 65534)"));
    let lock = dir.join("token-cache.lock");
    std::os::unix::fs::chown(&lock, Some(65534), Some(65534)).expect("chown");
    let error = cache.find(&key(&["A"])).err().expect("refused");
    assert!(error.message.contains("another user"), "{}", error.message);
    std::fs::remove_dir_all(dir).expect("cleaned");
}
