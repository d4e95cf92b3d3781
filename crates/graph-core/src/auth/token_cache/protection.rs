//! Encryption at rest: a random 256-bit key kept in the operating system's key store (the Linux
//! kernel's key retention service through keyutils, the macOS Keychain, the Windows Credential
//! Manager) and AES-256-GCM with a random nonce per write. The file names the key by a random id,
//! so each cache folder has its own key, and the key is deleted when the cache empties.
//!
//! Where no key store works (or `GRAPH_BETA_TOKEN_CACHE_KEYSTORE=none`), the file is written
//! unencrypted, protected only by its owner-only permissions, and Connect-MgGraph says so.
//! Keys in the Linux kernel store do not survive a reboot (nor, by default, three days without a
//! session of the user): the cache then cannot be decrypted, is treated as empty, and the next
//! Connect-MgGraph signs in with a device code again.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::document::{CacheEntry, Document};

/// Turns off the key store (the file is then protected by its permissions only).
pub const KEY_STORE_VARIABLE: &str = "GRAPH_BETA_TOKEN_CACHE_KEYSTORE";

const SERVICE: &str = "Microsoft.Graph.Beta.Users.Actions";
const AAD_PREFIX: &str = "Microsoft.Graph.Beta.Users.Actions token cache v1 ";

/// The file as stored: either encrypted, or (without a key store) the entries as they are.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    pub version: u32,
    /// `aes-256-gcm` or `none`.
    pub protection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_store: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<CacheEntry>>,
}

/// A data key and its id in the key store.
pub(crate) struct DataKey {
    pub id: String,
    key: Zeroizing<Vec<u8>>,
}

/// The operating system's key store, when it works.
pub(crate) struct KeyStore {
    pub name: &'static str,
    /// Tests: an in-memory store that can be broken on demand, instead of the system's.
    #[cfg(test)]
    pub memory: Option<std::sync::Arc<MemoryKeys>>,
}

/// An in-memory key store for tests (`broken` makes every call fail, as a key store that
/// stopped working would).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct MemoryKeys {
    pub keys: parking_lot::Mutex<std::collections::HashMap<String, Vec<u8>>>,
    pub broken: std::sync::atomic::AtomicBool,
}

fn store_name() -> &'static str {
    if cfg!(target_os = "linux") {
        "the Linux kernel key store (keyutils)"
    } else if cfg!(target_os = "macos") {
        "the macOS Keychain"
    } else if cfg!(windows) {
        "the Windows Credential Manager"
    } else {
        "the system key store"
    }
}

fn entry(id: &str) -> keyring::Result<keyring::Entry> {
    // On Linux, a process without a session keyring resolves "the session keyring" to the
    // user-session keyring, where it may not add keys (EACCES); building an entry links the
    // persistent keyring into the session keyring, which gives the process a session keyring of
    // its own. So the first entry of the process is built once and thrown away.
    static WARM_UP: std::sync::Once = std::sync::Once::new();
    WARM_UP.call_once(|| drop(keyring::Entry::new(SERVICE, "warm-up")));
    keyring::Entry::new(SERVICE, &format!("token-cache-key-{id}"))
}

impl KeyStore {
    /// The key store, unless turned off by [`KEY_STORE_VARIABLE`] (`configured` is its value as
    /// the host sees it; this process's environment is the fallback).
    pub fn configured(configured: Option<&str>) -> Option<KeyStore> {
        let value = configured
            .map(str::to_owned)
            .or_else(|| std::env::var(KEY_STORE_VARIABLE).ok())
            .unwrap_or_default();
        let off = value.trim().eq_ignore_ascii_case("none");
        (!off).then(|| KeyStore::os(store_name()))
    }

    pub fn os(name: &'static str) -> KeyStore {
        KeyStore {
            name,
            #[cfg(test)]
            memory: None,
        }
    }

    /// Whether the store works: a key is created, read back and deleted.
    pub fn probe(&self) -> Result<(), String> {
        let key = self.create()?;
        self.delete(&key.id);
        Ok(())
    }

    fn put(&self, id: &str, secret: &[u8]) -> Result<(), String> {
        #[cfg(test)]
        if let Some(memory) = &self.memory {
            if memory.broken.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("broken".to_owned());
            }
            memory.keys.lock().insert(id.to_owned(), secret.to_vec());
            return Ok(());
        }
        entry(id)
            .and_then(|entry| entry.set_secret(secret))
            .map_err(|error| error.to_string())
    }

    fn get(&self, id: &str) -> Result<Vec<u8>, String> {
        #[cfg(test)]
        if let Some(memory) = &self.memory {
            if memory.broken.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("broken".to_owned());
            }
            return memory
                .keys
                .lock()
                .get(id)
                .cloned()
                .ok_or_else(|| "no such key".to_owned());
        }
        entry(id)
            .and_then(|entry| entry.get_secret())
            .map_err(|error| error.to_string())
    }

    /// A new random key, saved in the store and read back (proving the store works).
    pub fn create(&self) -> Result<DataKey, String> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let key: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
        self.put(&id, key.as_slice())
            .map_err(|error| format!("{} refused a new key: {error}", self.name))?;
        let loaded = self.load(&id)?;
        if loaded.key.as_slice() != key.as_slice() {
            self.delete(&id);
            return Err(format!("{} gave back a different key", self.name));
        }
        Ok(loaded)
    }

    pub fn load(&self, id: &str) -> Result<DataKey, String> {
        let secret = self
            .get(id)
            .map_err(|error| format!("the key is not in {}: {error}", self.name))?;
        let key = Zeroizing::new(secret);
        if key.len() != 32 {
            return Err(format!("the key in {} has the wrong length", self.name));
        }
        Ok(DataKey {
            id: id.to_owned(),
            key,
        })
    }

    pub fn delete(&self, id: &str) {
        // Best effort: a key left behind protects nothing anyone still has.
        #[cfg(test)]
        if let Some(memory) = &self.memory {
            memory.keys.lock().remove(id);
            return;
        }
        if let Ok(entry) = entry(id) {
            let _ = entry.delete_credential();
        }
    }
}

/// Encrypts the document.
pub(crate) fn seal(
    document: &Document,
    key: &DataKey,
    store: &KeyStore,
) -> Result<Envelope, String> {
    let plain = Zeroizing::new(serde_json::to_vec(document).map_err(|error| error.to_string())?);
    let cipher = Aes256Gcm::new_from_slice(&key.key).map_err(|error| error.to_string())?;
    let nonce: [u8; 12] = rand::random();
    let aad = format!("{AAD_PREFIX}{}", key.id);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| "encryption failed".to_owned())?;
    Ok(Envelope {
        version: 1,
        protection: "aes-256-gcm".to_owned(),
        key_store: Some(store.name.to_owned()),
        key_id: Some(key.id.clone()),
        nonce: Some(STANDARD.encode(nonce)),
        ciphertext: Some(STANDARD.encode(sealed)),
        entries: None,
    })
}

/// Decrypts an encrypted envelope with its key.
pub(crate) fn open(envelope: &Envelope, key: &DataKey) -> Result<Document, String> {
    let decode = |value: &Option<String>, what: &str| {
        STANDARD
            .decode(value.as_deref().unwrap_or_default())
            .map_err(|_| format!("its {what} is not base64"))
    };
    let nonce = decode(&envelope.nonce, "nonce")?;
    if nonce.len() != 12 {
        return Err("its nonce has the wrong length".to_owned());
    }
    let sealed = decode(&envelope.ciphertext, "ciphertext")?;
    let cipher = Aes256Gcm::new_from_slice(&key.key).map_err(|error| error.to_string())?;
    let aad = format!("{AAD_PREFIX}{}", key.id);
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| "it does not decrypt with its key (changed or damaged)".to_owned())?,
    );
    serde_json::from_slice(&plain).map_err(|_| "its decrypted content is not a cache".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn the_kernel_key_store_keeps_a_key_and_forgets_it() {
        // Where keyutils is unavailable (some sandboxes, CI containers) the cache falls back to
        // permissions only, so the test cannot demand a working store; it then checks that the
        // failure is one the user can act on, and says loudly that the store was not tested.
        let store = KeyStore::os("test");
        let key = match store.create() {
            Ok(key) => key,
            Err(why) => {
                eprintln!(
                    "NOTE: no working kernel key store here, only its error was checked: {why}"
                );
                assert!(why.starts_with("test refused a new key: "), "{why}");
                assert!(store.probe().is_err());
                return;
            }
        };
        assert_eq!(
            store.load(&key.id).expect("loaded").key.as_slice(),
            key.key.as_slice()
        );
        store.delete(&key.id);
        assert!(store.load(&key.id).is_err(), "deleted");
    }

    #[test]
    fn sealed_documents_open_with_their_key_only() {
        let store = KeyStore::os("test");
        let key = DataKey {
            id: "a".into(),
            key: Zeroizing::new(vec![7; 32]),
        };
        let document = Document::default();
        let envelope = seal(&document, &key, &store).expect("sealed");
        assert!(open(&envelope, &key).expect("opened").entries.is_empty());
        let other = DataKey {
            id: "a".into(),
            key: Zeroizing::new(vec![8; 32]),
        };
        assert!(open(&envelope, &other).is_err());
        let renamed = DataKey {
            id: "b".into(),
            key: Zeroizing::new(vec![7; 32]),
        };
        assert!(
            open(&envelope, &renamed).is_err(),
            "the key id is authenticated"
        );
    }
}
