//! The session's access token: reused until shortly before it expires, then renewed from the
//! credential; renewed once more when Graph rejects it (401). The token sits behind one async
//! mutex, so concurrent callers that find it stale wait for a single renewal and share it.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex as SyncMutex;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::credential::Credential;
use super::delegated;
use super::managed_identity;
use super::token_endpoint::{self, IssuedToken};
use crate::environment::Environment;
use crate::error::{ErrorKind, GraphError};
use crate::session::unix_now;
use crate::token::{AccessToken, TokenClaims};

/// A new token from the credential: Entra's token endpoint (through `http`, the session's
/// client) or the managed identity endpoint (always direct, never through a proxy).
async fn acquire(
    http: &reqwest::Client,
    environment: &Environment,
    credential: &Credential,
) -> Result<IssuedToken, GraphError> {
    match credential {
        Credential::ManagedIdentity {
            client_id,
            endpoint,
        } => {
            let direct = managed_identity::direct_client()?;
            managed_identity::acquire(&direct, endpoint, client_id.as_deref(), environment).await
        }
        Credential::Delegated { app, grant } => {
            delegated::refresh(http, environment, app, grant).await
        }
        _ => token_endpoint::client_credentials(http, environment, credential).await,
    }
}

/// Hands out access tokens for one session.
pub struct TokenProvider {
    credential: Credential,
    environment: Environment,
    current: Mutex<IssuedToken>,
    /// The claims of the current token, readable without waiting for a renewal.
    claims: SyncMutex<TokenClaims>,
    /// Whether the current token is a JWT whose claims could be read (tokens are opaque).
    claims_readable: AtomicBool,
}

impl TokenProvider {
    /// A provider for a token obtained elsewhere: used until it expires, never renewed.
    pub fn with_access_token(token: AccessToken, environment: Environment) -> TokenProvider {
        let claims = token.claims().clone();
        let claims_readable = AtomicBool::new(token.claims_readable());
        let expires_at = claims.expires_on.unwrap_or(i64::MAX);
        TokenProvider {
            credential: Credential::AccessToken,
            environment,
            current: Mutex::new(IssuedToken {
                token,
                expires_at,
                refresh_at: i64::MAX,
            }),
            claims: SyncMutex::new(claims),
            claims_readable,
        }
    }

    /// A provider for a token already obtained for `credential` (device code, token cache).
    pub fn with_issued(
        credential: Credential,
        environment: Environment,
        issued: IssuedToken,
    ) -> TokenProvider {
        let claims = issued.token.claims().clone();
        let claims_readable = AtomicBool::new(issued.token.claims_readable());
        TokenProvider {
            credential,
            environment,
            current: Mutex::new(issued),
            claims: SyncMutex::new(claims),
            claims_readable,
        }
    }

    /// Gets a first token for an app-only credential, so a wrong secret, tenant or
    /// certificate fails here, before anything is kept.
    pub async fn sign_in(
        credential: Credential,
        environment: Environment,
        http: &reqwest::Client,
    ) -> Result<TokenProvider, GraphError> {
        let issued = acquire(http, &environment, &credential).await?;
        let claims = issued.token.claims().clone();
        let claims_readable = AtomicBool::new(issued.token.claims_readable());
        Ok(TokenProvider {
            credential,
            environment,
            current: Mutex::new(issued),
            claims: SyncMutex::new(claims),
            claims_readable,
        })
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The claims of the current token.
    pub fn claims(&self) -> TokenClaims {
        self.claims.lock().clone()
    }

    /// Whether the current token's claims could be read (it is a JWT).
    pub fn claims_readable(&self) -> bool {
        self.claims_readable.load(Ordering::Relaxed)
    }

    /// The `Authorization` header value for the next request, renewing the token first when
    /// it is due. A failed early renewal falls back to the current token while it is valid.
    pub async fn authorization(
        &self,
        http: &reqwest::Client,
    ) -> Result<Zeroizing<String>, GraphError> {
        let mut current = self.current.lock().await;
        let now = unix_now();
        if !self.credential.can_refresh() && now >= current.expires_at {
            // Sending it would only earn a 401: say what to do instead.
            return Err(GraphError::new(
                ErrorKind::Authentication,
                format!(
                    "the access token given to Connect-MgGraph expired {} seconds ago and cannot be renewed: get a new token and run Connect-MgGraph -AccessToken again",
                    now.saturating_sub(current.expires_at)
                ),
            ));
        }
        if now >= current.refresh_at && self.credential.can_refresh() {
            match self.renew(http).await {
                Ok(issued) => self.replace(&mut current, issued),
                Err(error) if now >= current.expires_at => return Err(error),
                Err(_) => {}
            }
        }
        Ok(current.token.authorization_header())
    }

    /// After Graph answered 401 to `rejected`: a renewed header, or `None` when the credential
    /// cannot be renewed (a user-provided token). When another caller already renewed the
    /// token, its result is shared instead of asking Entra again.
    pub async fn renew_after_rejection(
        &self,
        http: &reqwest::Client,
        rejected: &str,
    ) -> Result<Option<Zeroizing<String>>, GraphError> {
        if !self.credential.can_refresh() {
            return Ok(None);
        }
        let mut current = self.current.lock().await;
        let header = current.token.authorization_header();
        if header.as_str() != rejected {
            return Ok(Some(header));
        }
        let issued = self.renew(http).await?;
        self.replace(&mut current, issued);
        Ok(Some(current.token.authorization_header()))
    }

    async fn renew(&self, http: &reqwest::Client) -> Result<IssuedToken, GraphError> {
        acquire(http, &self.environment, &self.credential).await
    }

    fn replace(&self, current: &mut IssuedToken, issued: IssuedToken) {
        *self.claims.lock() = issued.token.claims().clone();
        self.claims_readable
            .store(issued.token.claims_readable(), Ordering::Relaxed);
        *current = issued;
    }
}
