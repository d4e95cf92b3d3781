//! Ties a delegated sign-in to its entry in the token cache: every rotated refresh token (and
//! the access token that came with it) is saved there, and a refused refresh token or
//! Disconnect-MgGraph removes the entry.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::{CacheKey, TokenCache};
use crate::auth::delegated::{GrantStore, SavedGrant};
use crate::auth::token_endpoint::IssuedToken;
use crate::error::GraphError;

pub struct CacheBinding {
    pub cache: Arc<TokenCache>,
    pub key: CacheKey,
    /// The sign-in this process holds: only its entry is read, rotated or removed on refusal.
    pub sign_in_id: String,
}

impl GrantStore for CacheBinding {
    fn save_new(&self, refresh_token: &str, issued: &IssuedToken) {
        let account = issued.token.claims().account.clone();
        // A failed write leaves the sign-in working in this process; the next process then
        // signs in with a device code, which is the worst that can happen.
        let _ = self.cache.save(
            &self.key,
            &self.sign_in_id,
            account.as_deref(),
            refresh_token,
            Some((issued.token.secret(), issued.expires_at)),
        );
    }

    fn save(&self, refresh_token: &str, issued: &IssuedToken) {
        let account = issued.token.claims().account.clone();
        // Not written when the entry is gone (a Disconnect elsewhere) or belongs to another
        // sign-in now: the sign-in goes on in this process only.
        let _ = self.cache.update(
            &self.key,
            &self.sign_in_id,
            account.as_deref(),
            refresh_token,
            Some((issued.token.secret(), issued.expires_at)),
        );
    }

    fn forget(&self) -> Result<(), GraphError> {
        self.cache.remove(&self.key).map_err(|error| GraphError {
            message: format!(
                "The saved sign-in could not be removed from the token cache '{}' ({}). Delete that file to forget it.",
                self.cache.path().display(),
                error.message
            ),
            ..error
        })
    }

    fn refused(&self, refused: &str) -> Option<Zeroizing<String>> {
        self.cache
            .refused(&self.key, &self.sign_in_id, refused)
            .ok()
            .flatten()
    }

    fn renewal_lock(&self) -> Option<Box<dyn Send>> {
        self.cache
            .renewal_lock()
            .ok()
            .map(|guard| Box::new(guard) as Box<dyn Send>)
    }

    fn saved(&self) -> Option<SavedGrant> {
        let found = self.cache.find_exact(&self.key).ok()??;
        if found.sign_in_id != self.sign_in_id {
            return None;
        }
        Some(SavedGrant {
            refresh_token: found.refresh_token,
            access_token: found.access_token.zip(found.expires_at),
        })
    }
}
