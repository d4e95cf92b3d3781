//! What the cache holds: one entry per delegated sign-in, keyed by environment (authority and
//! Graph endpoint), tenant, client id and scopes. Secrets are wiped from memory when an entry
//! is dropped.

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// The decrypted content of the cache file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Document {
    #[serde(default)]
    pub entries: Vec<CacheEntry>,
}

/// One persisted sign-in.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CacheEntry {
    pub authority: String,
    pub graph_endpoint: String,
    pub tenant: String,
    pub client_id: String,
    /// Normalized (see `delegated::normalize_scopes`).
    pub scopes: Vec<String>,
    /// Which sign-in this is: set when a device-code sign-in completes and kept across
    /// rotations, so a process never adopts tokens another sign-in (maybe another user) saved
    /// under the same key. Absent in files written before it existed (matched as "").
    #[serde(default)]
    pub sign_in_id: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    pub refresh_token: String,
    #[serde(default)]
    pub access_token: Option<String>,
    /// Seconds since the epoch when the access token expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    pub saved_at: i64,
}

impl CacheEntry {
    pub fn belongs_to(&self, sign_in_id: &str) -> bool {
        self.sign_in_id.as_deref().unwrap_or("") == sign_in_id
    }
}

impl Drop for CacheEntry {
    fn drop(&mut self) {
        self.refresh_token.zeroize();
        if let Some(token) = self.access_token.as_mut() {
            token.zeroize();
        }
    }
}

impl std::fmt::Debug for CacheEntry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CacheEntry")
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("tokens", &"[redacted]")
            .finish()
    }
}
