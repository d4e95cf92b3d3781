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
fn a_plaintext_file_is_reported_as_such_and_encrypted_at_the_next_write() {
    let dir = temp_dir();
    TokenCache::at(dir.clone(), None)
        .save(&key(&["A"]), "s", None, "rt-1", None)
        .expect("saved");
    let (store, _memory) = memory_store();
    let cache = TokenCache::at(dir.clone(), Some(store));
    assert!(cache.find(&key(&["A"])).expect("read").is_some());
    assert!(!cache.status().encrypted, "what was read was plaintext");
    cache
        .save(&key(&["A"]), "s", None, "rt-2", None)
        .expect("saved");
    assert_eq!(protection_on_disk(&cache), "aes-256-gcm");
    assert!(cache.status().encrypted);
    let found = cache.find(&key(&["A"])).expect("read").expect("found");
    assert_eq!(found.refresh_token.as_str(), "rt-2");
    std::fs::remove_dir_all(dir).expect("cleaned");
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
