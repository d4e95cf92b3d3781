//! Delegated sign-in as a session: `Connect-MgGraph -Scopes` with the device code flow, in two
//! steps so the shim can show the code on the pipeline thread before waiting:
//! [`DeviceCodeSignIn::start`] asks Entra for the code, [`DeviceCodeSignIn::complete`] polls
//! until the user signed in and returns the session.

use std::sync::Arc;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::auth::delegated::{self, DEFAULT_CLIENT_ID, DEFAULT_TENANT, DelegatedGrant, GrantStore};
use crate::auth::device_code::{self, DeviceCode, DeviceCodePrompt};
use crate::auth::token_cache::binding::CacheBinding;
use crate::auth::token_cache::{CacheKey, CacheSettings, TokenCache};
use crate::auth::token_endpoint::{IssuedToken, life_left};
use crate::auth::{AppIdentity, Credential, TokenProvider};
use crate::environment::{Environment, EnvironmentRegistry};
use crate::error::GraphError;
use crate::http_client::HttpClients;
use crate::runtime::block_on_cancellable;
use crate::session::{ContextScope, Session, default_environment, unix_now};
use crate::token::AccessToken;
use crate::user_agent::user_agent;

/// What the caller chooses when signing in as a user (`-Scopes`, `-UseDeviceCode`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DelegatedSignInConfig {
    #[serde(default = "default_environment")]
    pub environment: String,
    #[serde(default)]
    pub host_description: Option<String>,
    /// The public client app (default: Microsoft Graph Command Line Tools).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Tenant id or domain (default `common`).
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Default CurrentUser, as the official module for delegated sign-in.
    #[serde(default)]
    pub context_scope: Option<ContextScope>,
    /// Where the token cache is kept.
    #[serde(default)]
    pub cache: CacheSettings,
}

/// The checked parts of a delegated configuration.
pub(crate) struct DelegatedTarget {
    pub environment: Environment,
    pub app: AppIdentity,
    pub scopes: Vec<String>,
    pub context_scope: ContextScope,
    pub cache: CacheSettings,
}

impl DelegatedSignInConfig {
    pub(crate) fn target(&self) -> Result<DelegatedTarget, GraphError> {
        let pick = |value: &Option<String>, default: &str| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .unwrap_or(default)
                .to_owned()
        };
        Ok(DelegatedTarget {
            environment: EnvironmentRegistry::global().get(&self.environment)?,
            app: AppIdentity::new(
                &pick(&self.client_id, DEFAULT_CLIENT_ID),
                &pick(&self.tenant_id, DEFAULT_TENANT),
            )?,
            scopes: delegated::normalize_scopes(&self.scopes),
            context_scope: self.context_scope.unwrap_or(ContextScope::CurrentUser),
            cache: self.cache.clone(),
        })
    }
}

/// A device code handed out, waiting for the user.
pub struct DeviceCodeSignIn {
    target: DelegatedTarget,
    clients: HttpClients,
    code: DeviceCode,
}

impl DeviceCodeSignIn {
    /// Asks Entra for a device code; nothing is kept when it refuses.
    pub fn start(
        config: &DelegatedSignInConfig,
        cancel: &CancellationToken,
    ) -> Result<DeviceCodeSignIn, GraphError> {
        let target = config.target()?;
        let clients = HttpClients::new(user_agent(config.host_description.as_deref()))?;
        let http = clients.for_url(&target.environment.azure_ad_endpoint)?;
        let scope = delegated::scope_parameter(&target.environment, &target.scopes);
        let code = block_on_cancellable(
            cancel,
            device_code::request(&http, &target.environment, &target.app, &scope),
        )?;
        Ok(DeviceCodeSignIn {
            target,
            clients,
            code,
        })
    }

    /// What to show the user.
    pub fn prompt(&self) -> &DeviceCodePrompt {
        &self.code.prompt
    }

    /// Polls until the user signed in; the session holds the refresh token, saved in the
    /// token cache for CurrentUser scope.
    pub fn complete(&self, cancel: &CancellationToken) -> Result<Session, GraphError> {
        let http = self
            .clients
            .for_url(&self.target.environment.azure_ad_endpoint)?;
        let granted = block_on_cancellable(
            cancel,
            device_code::poll(
                &http,
                &self.target.environment,
                &self.target.app,
                &self.code,
            ),
        )?;
        // A new sign-in (maybe another account than one saved under the same key before).
        let sign_in_id = uuid::Uuid::new_v4().to_string();
        let binding = self.target.binding(&self.target.scopes, sign_in_id);
        let store = binding
            .as_ref()
            .map(|binding| Arc::clone(binding) as Arc<dyn GrantStore>);
        let cache = binding.as_ref().map(|binding| Arc::clone(&binding.cache));
        let grant = DelegatedGrant::new(self.target.scopes.clone(), granted.refresh_token, store);
        grant.signed_in(&granted.issued);
        self.target
            .session(grant, granted.issued, self.clients.user_agent(), cache)
    }
}

impl DelegatedTarget {
    /// The cache binding for CurrentUser scope (`None` for Process, or when the cache folder
    /// cannot be used: the sign-in then lives in this process, and the status says why).
    fn binding(&self, scopes: &[String], sign_in_id: String) -> Option<Arc<CacheBinding>> {
        if self.context_scope != ContextScope::CurrentUser {
            return None;
        }
        let cache = TokenCache::open(&self.cache).ok()?;
        Some(Arc::new(CacheBinding {
            cache: Arc::new(cache),
            key: CacheKey::new(
                &self.environment,
                &self.app.tenant_id,
                &self.app.client_id,
                scopes,
            ),
            sign_in_id,
        }))
    }

    fn session(
        &self,
        grant: DelegatedGrant,
        issued: IssuedToken,
        user_agent: &str,
        cache: Option<Arc<TokenCache>>,
    ) -> Result<Session, GraphError> {
        let credential = Credential::Delegated {
            app: self.app.clone(),
            grant: Box::new(grant),
        };
        Ok(Session {
            environment: self.environment.clone(),
            provider: TokenProvider::with_issued(credential, self.environment.clone(), issued),
            clients: HttpClients::new(user_agent.to_owned())?,
            context_scope: self.context_scope,
            token_cache: cache,
        })
    }
}

/// The outcome of a silent sign-in from the token cache.
pub struct CachedOutcome {
    pub session: Option<Session>,
    /// What the user should know (a saved sign-in that was revoked, a damaged cache...).
    pub notes: Vec<String>,
    /// What the user must be told (the cache cannot be used, a planted file was removed...).
    pub warnings: Vec<String>,
}

impl CachedOutcome {
    fn nothing(notes: Vec<String>, warnings: Vec<String>) -> Result<CachedOutcome, GraphError> {
        Ok(CachedOutcome {
            session: None,
            notes,
            warnings,
        })
    }
}

/// Signs in from the CurrentUser token cache, without the user: the saved access token while it
/// has more than five minutes left, else a new one from the saved refresh token. `None` when
/// nothing usable is saved for this environment, tenant, client and scopes.
pub fn sign_in_from_cache(
    config: &DelegatedSignInConfig,
    cancel: &CancellationToken,
) -> Result<CachedOutcome, GraphError> {
    let target = config.target()?;
    let mut notes = Vec::new();
    if target.context_scope != ContextScope::CurrentUser {
        return CachedOutcome::nothing(notes, Vec::new());
    }
    // A cache that cannot be used (a folder or lock file that is not the user's own...) is
    // no reason to fail the sign-in: whoever planted it must not keep the user from signing
    // in, and nothing of it is used.
    let unusable = |error: GraphError| {
        format!(
            "the token cache cannot be used, so this sign-in stays in this process: {}",
            error.message
        )
    };
    let cache = match TokenCache::open(&target.cache) {
        Ok(cache) => Arc::new(cache),
        Err(error) => return CachedOutcome::nothing(notes, vec![unusable(error)]),
    };
    let wanted = CacheKey::new(
        &target.environment,
        &target.app.tenant_id,
        &target.app.client_id,
        &target.scopes,
    );
    let found = cache.find(&wanted);
    let status = cache.status();
    notes.extend(status.notes);
    let mut warnings = status.warnings;
    let found = match found {
        Ok(found) => found,
        Err(error) => {
            warnings.push(unusable(error));
            return CachedOutcome::nothing(notes, warnings);
        }
    };
    let Some(found) = found else {
        return CachedOutcome::nothing(notes, warnings);
    };
    let binding = Arc::new(CacheBinding {
        cache: Arc::clone(&cache),
        key: found.key.clone(),
        sign_in_id: found.sign_in_id.clone(),
    });
    let grant = DelegatedGrant::new(
        found.key.scopes.clone(),
        Some(found.refresh_token),
        Some(Arc::clone(&binding) as Arc<dyn GrantStore>),
    );
    let now = unix_now();
    let saved = found
        .access_token
        .zip(found.expires_at)
        .map(|(token, expires_at)| (token, life_left(expires_at, now)))
        .filter(|(_, left)| *left > SILENT_MARGIN_SECONDS)
        .and_then(|(token, left)| {
            AccessToken::issued(token.as_bytes())
                .ok()
                .map(|token| IssuedToken::new(token, now, left))
        });
    let user_agent = user_agent(config.host_description.as_deref());
    let issued = match saved {
        Some(issued) => issued,
        None => {
            let clients = HttpClients::new(user_agent.clone())?;
            let http = clients.for_url(&target.environment.azure_ad_endpoint)?;
            let renewed = block_on_cancellable(
                cancel,
                delegated::refresh(&http, &target.environment, &target.app, &grant),
            );
            match renewed {
                Ok(issued) => issued,
                Err(error) if !grant.has_refresh_token() => {
                    // Entra refused the saved refresh token; the entry is gone: sign in anew.
                    notes.push(format!(
                        "the saved sign-in can no longer be used ({}), so a new one is needed",
                        error
                            .service
                            .as_ref()
                            .and_then(|service| service.code.clone())
                            .unwrap_or_else(|| "invalid_grant".to_owned())
                    ));
                    return CachedOutcome::nothing(notes, warnings);
                }
                Err(error) => return Err(error),
            }
        }
    };
    let session = target.session(grant, issued, &user_agent, Some(cache))?;
    Ok(CachedOutcome {
        session: Some(session),
        notes,
        warnings,
    })
}

/// A saved access token is used at sign-in only with at least this much life left.
const SILENT_MARGIN_SECONDS: i64 = 300;
