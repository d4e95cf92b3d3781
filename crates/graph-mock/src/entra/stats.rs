//! Counters of sign-in traffic, so a test can assert how often a client asked for tokens (e.g.
//! that it refreshed once, not on every call). Keys: the `grant_type` of token requests
//! (`client_credentials`, `refresh_token`, `urn:ietf:params:oauth:grant-type:device_code`, or
//! `missing`), `devicecode` for `/devicecode`, and `imds` / `appService` for managed identity.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The answer of `GET /_mock/token-stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenStats {
    /// Requests received, by kind.
    pub requests: BTreeMap<String, u64>,
    /// Successful answers (tokens or a device code handed out), by kind.
    pub issued: BTreeMap<String, u64>,
}

impl TokenStats {
    pub(crate) fn request(&mut self, kind: &str) {
        *self.requests.entry(kind.to_owned()).or_default() += 1;
    }

    pub(crate) fn issue(&mut self, kind: &str) {
        *self.issued.entry(kind.to_owned()).or_default() += 1;
    }

    /// Requests of one kind.
    pub fn requests_of(&self, kind: &str) -> u64 {
        self.requests.get(kind).copied().unwrap_or(0)
    }

    /// Successful answers of one kind.
    pub fn issued_of(&self, kind: &str) -> u64 {
        self.issued.get(kind).copied().unwrap_or(0)
    }
}
