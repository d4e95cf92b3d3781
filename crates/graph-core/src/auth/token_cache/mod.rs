//! The CurrentUser token cache: delegated sign-ins persisted across processes, so a new
//! PowerShell signs in without a new device code. One file per user (see [`location`]), locked
//! and atomically replaced ([`file_store`]), encrypted with a key from the OS key store where
//! one works ([`protection`]). A damaged or undecryptable file is treated as empty (with a
//! note for -Verbose), never an error that blocks signing in.
//!
//! The cache trusts only what it wrote ([`trust`]): a file found in the cache's place that is a
//! symbolic link, not a regular file, another user's, hard-linked, or writable by others is not
//! read but removed, and so is a plaintext file while a key store works; Connect-MgGraph warns
//! about each. Such a file is never re-encrypted: whoever could plant it could plant refresh
//! tokens of their own account, and a sign-in adopted from it would send every revocation with
//! their tokens (to their tenant). A plaintext file the module wrote itself (the key store was
//! off) costs one new device code sign-in.

pub mod binding;
pub mod document;
pub mod file_store;
pub mod location;
pub mod protection;
pub(crate) mod trust;

use std::path::PathBuf;

use parking_lot::Mutex;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::environment::Environment;
use crate::error::GraphError;
use crate::session::unix_now;
use document::{CacheEntry, Document};
use file_store::{FileStore, Locked, Stored};
use protection::{DataKey, Envelope, KeyStore};

pub use location::DATA_DIR_VARIABLE;

const RENEWAL_LOCK: &str = "token-cache.renewal.lock";
pub use protection::KEY_STORE_VARIABLE;

/// Overrides of where and how the cache is kept, as the host's environment says
/// (`GRAPH_BETA_DATA_DIR`, `GRAPH_BETA_TOKEN_CACHE_KEYSTORE`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CacheSettings {
    #[serde(default)]
    pub data_dir: Option<String>,
    #[serde(default)]
    pub key_store: Option<String>,
}

/// What a persisted sign-in is filed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub authority: String,
    pub graph_endpoint: String,
    pub tenant: String,
    pub client_id: String,
    pub scopes: Vec<String>,
}

impl CacheKey {
    pub fn new(
        environment: &Environment,
        tenant: &str,
        client_id: &str,
        scopes: &[String],
    ) -> Self {
        CacheKey {
            authority: environment.azure_ad_endpoint.clone(),
            graph_endpoint: environment.graph_endpoint.clone(),
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            scopes: scopes.to_vec(),
        }
    }

    fn same_context(&self, entry: &CacheEntry) -> bool {
        self.authority.eq_ignore_ascii_case(&entry.authority)
            && self
                .graph_endpoint
                .eq_ignore_ascii_case(&entry.graph_endpoint)
            && self.tenant.eq_ignore_ascii_case(&entry.tenant)
            && self.client_id.eq_ignore_ascii_case(&entry.client_id)
    }

    fn is(&self, entry: &CacheEntry) -> bool {
        self.same_context(entry) && same_scopes(&self.scopes, &entry.scopes)
    }

    /// The entry grants every scope asked for (no scopes, `.default`, only matches itself).
    fn covered_by(&self, entry: &CacheEntry) -> bool {
        self.same_context(entry)
            && if self.scopes.is_empty() {
                entry.scopes.is_empty()
            } else {
                self.scopes.iter().all(|wanted| {
                    entry
                        .scopes
                        .iter()
                        .any(|granted| granted.eq_ignore_ascii_case(wanted))
                })
            }
    }
}

fn same_scopes(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// A persisted sign-in found for a key.
pub struct CachedSignIn {
    /// The entry's own key (its scopes may be a superset of those asked for).
    pub key: CacheKey,
    /// The entry's sign-in id ("" for an entry saved before ids existed).
    pub sign_in_id: String,
    pub account: Option<String>,
    pub refresh_token: Zeroizing<String>,
    pub access_token: Option<Zeroizing<String>>,
    pub expires_at: Option<i64>,
}

/// How the cache is protected, and what happened to it, for Connect-MgGraph to report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenCacheStatus {
    pub path: String,
    pub encrypted: bool,
    /// Why the file is not encrypted, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unencrypted_reason: Option<String>,
    /// Things worth a verbose line (a damaged file treated as empty...).
    pub notes: Vec<String>,
    /// Things the user must be told (a planted file removed, a folder made owner-only...).
    pub warnings: Vec<String>,
}

/// The user's token cache.
pub struct TokenCache {
    files: FileStore,
    key_store: Option<KeyStore>,
    state: Mutex<Status>,
}

#[derive(Default)]
struct Status {
    encrypted: Option<bool>,
    unencrypted_reason: Option<String>,
    notes: Vec<String>,
    warnings: Vec<String>,
}

impl TokenCache {
    /// The cache of this user (or of `GRAPH_BETA_DATA_DIR`).
    /// The key store is tried once here: only when it does not work now (or is turned off) is
    /// the file written unencrypted, which Connect-MgGraph warns about. A key store that
    /// worked here and fails later never leads to a plaintext file (see [`TokenCache::write`]).
    pub fn open(settings: &CacheSettings) -> Result<TokenCache, GraphError> {
        let dir = location::data_dir(settings.data_dir.as_deref())?;
        let configured = KeyStore::configured(settings.key_store.as_deref());
        let failed = configured.as_ref().and_then(|store| store.probe().err());
        let cache = TokenCache::at(dir, configured.filter(|_| failed.is_none()));
        {
            let mut state = cache.state.lock();
            // What was done to the folder, maybe by the saved environments opening it first.
            state.warnings = location::take_warnings(cache.files.dir());
            if let Some(why) = failed {
                state.unencrypted_reason = Some(why);
            }
        }
        Ok(cache)
    }

    fn at(dir: PathBuf, key_store: Option<KeyStore>) -> TokenCache {
        let unencrypted_reason = key_store
            .is_none()
            .then(|| format!("the key store is turned off ({KEY_STORE_VARIABLE}=none)"));
        TokenCache {
            files: FileStore::new(dir),
            key_store,
            state: Mutex::new(Status {
                unencrypted_reason,
                ..Status::default()
            }),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.files.path()
    }

    /// The persisted sign-in for `key`: the exact entry, else one whose scopes cover it.
    pub fn find(&self, key: &CacheKey) -> Result<Option<CachedSignIn>, GraphError> {
        self.lookup(key, true)
    }

    /// The entry filed under exactly `key`.
    pub fn find_exact(&self, key: &CacheKey) -> Result<Option<CachedSignIn>, GraphError> {
        self.lookup(key, false)
    }

    /// Serializes renewals of the cache's sign-ins across processes (a lock file of its own,
    /// so reads and writes of the cache go on while it is held).
    pub(crate) fn renewal_lock(&self) -> Result<file_store::Locked, GraphError> {
        FileStore::named(
            self.files.dir().to_path_buf(),
            file_store::FILE_NAME,
            RENEWAL_LOCK,
        )
        .lock()
    }

    fn lookup(&self, key: &CacheKey, covering: bool) -> Result<Option<CachedSignIn>, GraphError> {
        let lock = self.files.lock()?;
        let (document, _) = self.read(&lock)?;
        let found = document
            .entries
            .iter()
            .find(|entry| key.is(entry))
            .or_else(|| {
                covering
                    .then(|| document.entries.iter().find(|entry| key.covered_by(entry)))
                    .flatten()
            });
        Ok(found.map(|entry| CachedSignIn {
            key: CacheKey {
                authority: entry.authority.clone(),
                graph_endpoint: entry.graph_endpoint.clone(),
                tenant: entry.tenant.clone(),
                client_id: entry.client_id.clone(),
                scopes: entry.scopes.clone(),
            },
            sign_in_id: entry.sign_in_id.clone().unwrap_or_default(),
            account: entry.account.clone(),
            refresh_token: Zeroizing::new(entry.refresh_token.clone()),
            access_token: entry.access_token.clone().map(Zeroizing::new),
            expires_at: entry.expires_at,
        }))
    }

    /// Saves a new sign-in under `key`, replacing whatever was filed there.
    pub fn save(
        &self,
        key: &CacheKey,
        sign_in_id: &str,
        account: Option<&str>,
        refresh_token: &str,
        access_token: Option<(&str, i64)>,
    ) -> Result<(), GraphError> {
        let lock = self.files.lock()?;
        let (mut document, data_key) = self.read(&lock)?;
        document.entries.retain(|entry| !key.is(entry));
        document.entries.push(new_entry(
            key,
            sign_in_id,
            account,
            refresh_token,
            access_token,
        ));
        self.write(&lock, &document, data_key)
    }

    /// Records rotated tokens of the sign-in `sign_in_id`, only while its entry is still filed
    /// under `key`: an entry removed (Disconnect-MgGraph elsewhere) is not recreated, and one
    /// replaced by another sign-in is left alone. Returns whether anything was written.
    pub fn update(
        &self,
        key: &CacheKey,
        sign_in_id: &str,
        account: Option<&str>,
        refresh_token: &str,
        access_token: Option<(&str, i64)>,
    ) -> Result<bool, GraphError> {
        let lock = self.files.lock()?;
        let (mut document, data_key) = self.read(&lock)?;
        let Some(position) = document
            .entries
            .iter()
            .position(|entry| key.is(entry) && entry.belongs_to(sign_in_id))
        else {
            return Ok(false);
        };
        let account = account
            .map(str::to_owned)
            .or_else(|| document.entries[position].account.clone());
        document.entries[position] = new_entry(
            key,
            sign_in_id,
            account.as_deref(),
            refresh_token,
            access_token,
        );
        self.write(&lock, &document, data_key)?;
        Ok(true)
    }

    /// Forgets the sign-in filed under `key`.
    pub fn remove(&self, key: &CacheKey) -> Result<(), GraphError> {
        let lock = self.files.lock()?;
        let (mut document, data_key) = self.read(&lock)?;
        let before = document.entries.len();
        document.entries.retain(|entry| !key.is(entry));
        if document.entries.len() == before {
            return Ok(());
        }
        self.write(&lock, &document, data_key)
    }

    /// Entra refused `refused` for the sign-in `sign_in_id`: a different refresh token of the
    /// same sign-in saved meanwhile (by a process that redeemed the same one first) is
    /// returned; otherwise its entry is removed. Another sign-in's entry is never returned nor
    /// removed.
    pub fn refused(
        &self,
        key: &CacheKey,
        sign_in_id: &str,
        refused: &str,
    ) -> Result<Option<Zeroizing<String>>, GraphError> {
        let lock = self.files.lock()?;
        let (mut document, data_key) = self.read(&lock)?;
        let ours = |entry: &CacheEntry| key.is(entry) && entry.belongs_to(sign_in_id);
        if let Some(entry) = document.entries.iter().find(|entry| ours(entry))
            && entry.refresh_token != refused
        {
            return Ok(Some(Zeroizing::new(entry.refresh_token.clone())));
        }
        let before = document.entries.len();
        document.entries.retain(|entry| !ours(entry));
        if document.entries.len() != before {
            self.write(&lock, &document, data_key)?;
        }
        Ok(None)
    }

    /// How the cache is protected, and the notes gathered since the last call.
    pub fn status(&self) -> TokenCacheStatus {
        let mut state = self.state.lock();
        TokenCacheStatus {
            path: self.path().display().to_string(),
            encrypted: state.encrypted.unwrap_or(self.key_store.is_some()),
            unencrypted_reason: state.unencrypted_reason.clone(),
            notes: std::mem::take(&mut state.notes),
            warnings: std::mem::take(&mut state.warnings),
        }
    }

    fn note(&self, note: String) {
        self.state.lock().notes.push(note);
    }

    /// Removes a file the cache does not trust (a link itself, not what it points at) and says
    /// so: nothing in it is used. A key it names stays in the key store: the name comes from an
    /// untrusted file and could be that of another cache's key.
    fn discard(
        &self,
        lock: &Locked,
        warning: String,
    ) -> Result<(Document, Option<DataKey>), GraphError> {
        self.files.remove(lock)?;
        self.state.lock().warnings.push(warning);
        Ok((Document::default(), None))
    }

    /// Reads the document and its key; anything unreadable counts as an empty cache, anything
    /// untrusted is removed.
    fn read(&self, lock: &Locked) -> Result<(Document, Option<DataKey>), GraphError> {
        let path = self.path();
        let bytes = match self.files.read(lock)? {
            Stored::Missing => return Ok((Document::default(), None)),
            Stored::Foreign(why) => {
                return self.discard(lock, format!(
                    "the token cache '{}' {why}, unlike any file the module writes (it may have been planted), so it was not used and has been removed: the next sign-in saves a new one",
                    path.display()
                ));
            }
            Stored::Own(bytes) => bytes,
        };
        let damaged = |why: &str| {
            format!(
                "the token cache '{}' {why}: it is treated as empty and will be replaced at the next sign-in",
                path.display()
            )
        };
        let envelope: Envelope = match serde_json::from_slice(&bytes) {
            Ok(envelope) => envelope,
            Err(_) => {
                self.note(damaged("is not a token cache file (damaged?)"));
                return Ok((Document::default(), None));
            }
        };
        match envelope.protection.as_str() {
            "none" => {
                if let Some(store) = &self.key_store {
                    // This module writes plaintext only when no key store works: trusted, this
                    // file could hand the user someone else's sign-in (see the module's doc).
                    return self.discard(lock, format!(
                        "the token cache '{}' was not encrypted although {} works here, so it may have been planted (or saved while the key store was off) and was not used: it has been removed, and the next sign-in saves a new, encrypted one",
                        path.display(),
                        store.name
                    ));
                }
                self.state.lock().encrypted = Some(false);
                Ok((
                    Document {
                        entries: envelope.entries.unwrap_or_default(),
                    },
                    None,
                ))
            }
            "aes-256-gcm" => {
                self.state.lock().encrypted = Some(true);
                let Some(store) = &self.key_store else {
                    let why = self
                        .state
                        .lock()
                        .unencrypted_reason
                        .clone()
                        .unwrap_or_default();
                    self.note(damaged(&format!(
                        "is encrypted but the key store cannot be used ({why})"
                    )));
                    return Ok((Document::default(), None));
                };
                let id = envelope.key_id.clone().unwrap_or_default();
                let key = match store.load(&id) {
                    Ok(key) => key,
                    Err(why) => {
                        self.note(damaged(&format!(
                            "cannot be decrypted ({why}; keys in the Linux kernel store do not survive a reboot)"
                        )));
                        return Ok((Document::default(), None));
                    }
                };
                match protection::open(&envelope, &key) {
                    Ok(document) => Ok((document, Some(key))),
                    Err(why) => {
                        self.note(damaged(&format!("cannot be decrypted: {why}")));
                        Ok((Document::default(), Some(key)))
                    }
                }
            }
            other => {
                self.note(damaged(&format!("uses an unknown protection '{other}'")));
                Ok((Document::default(), None))
            }
        }
    }

    /// Writes the document, encrypted where a key store works; an empty cache removes the
    /// file and its key.
    fn write(
        &self,
        lock: &Locked,
        document: &Document,
        data_key: Option<DataKey>,
    ) -> Result<(), GraphError> {
        if document.entries.is_empty() {
            self.files.remove(lock)?;
            if let (Some(store), Some(key)) = (&self.key_store, data_key) {
                store.delete(&key.id);
            }
            return Ok(());
        }
        let envelope = match &self.key_store {
            Some(store) => {
                let key = match data_key {
                    Some(key) => Ok(key),
                    None => store.create(),
                };
                match key.and_then(|key| protection::seal(document, &key, store)) {
                    Ok(envelope) => {
                        self.state.lock().encrypted = Some(true);
                        envelope
                    }
                    Err(why) => {
                        // The key store worked when the cache was opened: a failure now is
                        // no reason to put refresh tokens on disk in plaintext (maybe over an
                        // encrypted file). The sign-in goes on in this process only.
                        let message = format!(
                            "the token cache '{}' was not updated ({why}): the key store worked before, so the sign-in is not written unencrypted and lasts only as long as this process",
                            self.path().display()
                        );
                        self.note(message.clone());
                        return Err(GraphError::new(crate::error::ErrorKind::Internal, message));
                    }
                }
            }
            None => {
                self.state.lock().encrypted = Some(false);
                plain(document)
            }
        };
        let bytes = Zeroizing::new(serde_json::to_vec_pretty(&envelope).map_err(|error| {
            GraphError::new(
                crate::error::ErrorKind::Internal,
                format!("the token cache could not be serialized: {error}"),
            )
        })?);
        self.files.write(lock, &bytes)
    }
}

fn new_entry(
    key: &CacheKey,
    sign_in_id: &str,
    account: Option<&str>,
    refresh_token: &str,
    access_token: Option<(&str, i64)>,
) -> CacheEntry {
    CacheEntry {
        authority: key.authority.clone(),
        graph_endpoint: key.graph_endpoint.clone(),
        tenant: key.tenant.clone(),
        client_id: key.client_id.clone(),
        scopes: key.scopes.clone(),
        sign_in_id: Some(sign_in_id.to_owned()),
        account: account.map(str::to_owned),
        refresh_token: refresh_token.to_owned(),
        access_token: access_token.map(|(token, _)| token.to_owned()),
        expires_at: access_token.map(|(_, expires_at)| expires_at),
        saved_at: unix_now(),
    }
}

fn plain(document: &Document) -> Envelope {
    Envelope {
        version: 1,
        protection: "none".to_owned(),
        key_store: None,
        key_id: None,
        nonce: None,
        ciphertext: None,
        entries: Some(document.entries.clone()),
    }
}

#[cfg(test)]
mod tests;
