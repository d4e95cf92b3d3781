//! A sign-in context: which cloud, which credential, and the HTTP client that uses them.
//!
//! One session is what `Connect-MgGraph` creates and `Disconnect-MgGraph` drops. It owns a
//! set of HTTP clients (see [`crate::http_client`]) so consecutive calls reuse connections.
//!
//! The credential and its tokens live in the session's [`TokenProvider`]; `send` asks it for
//! the `Authorization` header of every request.
//!
//! Delegated sign-in (device code, the CurrentUser cache) lives in [`crate::delegated_session`].

use serde::{Deserialize, Serialize};

use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use crate::auth::{AppIdentity, CertificateSigner, Credential, ManagedEndpoint, TokenProvider};
use crate::environment::{Environment, EnvironmentRegistry};
use crate::error::GraphError;
use crate::http_client::HttpClients;
use crate::runtime::block_on_cancellable;
use crate::token::{AccessToken, TokenClaims};
use crate::user_agent::user_agent;

/// What the caller chooses when connecting.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionConfig {
    /// Name of a registered environment (`Global` when absent).
    #[serde(default = "default_environment")]
    pub environment: String,
    /// Appended to the User-Agent, e.g. `PowerShell/7.6.9`.
    #[serde(default)]
    pub host_description: Option<String>,
    /// The Graph endpoint itself, for a token that another module's connection handed over
    /// (the official Microsoft.Graph.Authentication's environment, which this process's
    /// registry may not know): `environment` is then only the name shown, the endpoint is
    /// checked like one given to `Add-MgEnvironment`, and the token goes to that origin only.
    #[serde(default)]
    pub graph_endpoint: Option<String>,
}

/// What the caller chooses when signing in app-only (`-ClientSecretCredential`, certificate).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSignInConfig {
    /// Name of a registered environment (`Global` when absent).
    #[serde(default = "default_environment")]
    pub environment: String,
    /// Appended to the User-Agent, e.g. `PowerShell/7.6.9`.
    #[serde(default)]
    pub host_description: Option<String>,
    /// Application (client) id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Tenant id or domain.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Certificate sign-in: the certificate's DER, base64.
    #[serde(default)]
    pub certificate: Option<String>,
    /// Certificate sign-in: the issuers' DER, base64, leaf excluded.
    #[serde(default)]
    pub certificate_chain: Vec<String>,
    /// Certificate sign-in: send the chain in the assertion's `x5c` header.
    #[serde(default)]
    pub send_certificate_chain: bool,
    /// Managed identity: `IDENTITY_ENDPOINT` (App Service and friends).
    #[serde(default)]
    pub identity_endpoint: Option<String>,
    /// Managed identity: `AZURE_POD_IDENTITY_AUTHORITY_HOST`, the base URL of IMDS.
    #[serde(default)]
    pub imds_host: Option<String>,
}

impl AppSignInConfig {
    fn app(&self) -> Result<AppIdentity, GraphError> {
        AppIdentity::new(
            self.client_id.as_deref().unwrap_or_default(),
            self.tenant_id.as_deref().unwrap_or_default(),
        )
    }
}

/// Where a context lives: this process only, or also the user's token cache on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContextScope {
    #[default]
    Process,
    CurrentUser,
}

impl ContextScope {
    pub fn name(self) -> &'static str {
        match self {
            ContextScope::Process => "Process",
            ContextScope::CurrentUser => "CurrentUser",
        }
    }
}

pub(crate) fn default_environment() -> String {
    "Global".to_owned()
}

/// What `Get-MgContext` shows: never a secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    pub environment: String,
    pub auth_type: &'static str,
    pub token_credential_type: &'static str,
    pub context_scope: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_thumbprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_identity_id: Option<String>,
    /// CurrentUser scope: where the sign-in is saved and how it is protected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_cache: Option<crate::auth::token_cache::TokenCacheStatus>,
    /// False when the token is not a JWT: it is used as it is, but its claims (tenant, app,
    /// account, scopes, expiry) cannot be shown.
    pub claims_readable: bool,
    #[serde(flatten)]
    pub claims: TokenClaims,
}

/// A connected sign-in context.
pub struct Session {
    pub(crate) environment: Environment,
    pub(crate) provider: TokenProvider,
    pub(crate) clients: HttpClients,
    pub(crate) context_scope: ContextScope,
    /// The CurrentUser token cache this session's sign-in is saved in.
    pub(crate) token_cache: Option<std::sync::Arc<crate::auth::token_cache::TokenCache>>,
}

impl Session {
    /// Connects with a token the caller obtained elsewhere (`Connect-MgGraph -AccessToken`).
    pub fn connect_with_access_token(
        config: &SessionConfig,
        token: &[u8],
    ) -> Result<Session, GraphError> {
        let environment = match config.graph_endpoint.as_deref() {
            // Only ever used to send Graph requests with this token: no authority is needed.
            Some(endpoint) => Environment::user_defined(&config.environment, endpoint, endpoint)?,
            None => EnvironmentRegistry::global().get(&config.environment)?,
        };
        let token = AccessToken::parse(token, unix_now())?;
        let clients = HttpClients::new(user_agent(config.host_description.as_deref()))?;
        Ok(Session {
            provider: TokenProvider::with_access_token(token, environment.clone()),
            environment,
            clients,
            context_scope: ContextScope::Process,
            token_cache: None,
        })
    }

    /// Signs in app-only with a client secret (`-ClientSecretCredential`): the first token is
    /// fetched now, so a wrong secret or tenant fails here and nothing is kept.
    pub fn connect_with_client_secret(
        config: &AppSignInConfig,
        secret: &[u8],
        cancel: &CancellationToken,
    ) -> Result<Session, GraphError> {
        let app = config.app()?;
        let secret = std::str::from_utf8(secret)
            .map_err(|_| GraphError::invalid_argument("the client secret is not valid text"))?;
        if secret.is_empty() {
            return Err(GraphError::invalid_argument(
                "the client secret is empty: pass the secret's value as the password of -ClientSecretCredential",
            ));
        }
        let credential = Credential::ClientSecret {
            app,
            secret: Zeroizing::new(secret.to_owned()),
        };
        Session::sign_in(config, credential, cancel)
    }

    /// Signs in app-only with a certificate: `private_key_pkcs8` is its RSA private key.
    pub fn connect_with_certificate(
        config: &AppSignInConfig,
        private_key_pkcs8: &[u8],
        cancel: &CancellationToken,
    ) -> Result<Session, GraphError> {
        use base64::Engine;
        let app = config.app()?;
        let decode = |text: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| GraphError::invalid_argument("the certificate is not base64 DER"))
        };
        let certificate = decode(config.certificate.as_deref().unwrap_or_default())?;
        let chain = config
            .certificate_chain
            .iter()
            .map(|der| decode(der))
            .collect::<Result<Vec<_>, _>>()?;
        let signer = CertificateSigner::new(
            certificate,
            chain,
            config.send_certificate_chain,
            private_key_pkcs8,
        )?;
        Session::sign_in(
            config,
            Credential::Certificate {
                app,
                signer: Box::new(signer),
            },
            cancel,
        )
    }

    /// Signs in with the Azure resource's managed identity (`-Identity [-ClientId]`);
    /// `identity_header` is the `IDENTITY_HEADER` secret (empty outside App Service).
    pub fn connect_with_managed_identity(
        config: &AppSignInConfig,
        identity_header: &[u8],
        cancel: &CancellationToken,
    ) -> Result<Session, GraphError> {
        let client_id = config
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        let credential = Credential::ManagedIdentity {
            client_id,
            endpoint: ManagedEndpoint::choose(
                config.identity_endpoint.as_deref(),
                identity_header,
                config.imds_host.as_deref(),
            )?,
        };
        Session::sign_in(config, credential, cancel)
    }

    fn sign_in(
        config: &AppSignInConfig,
        credential: Credential,
        cancel: &CancellationToken,
    ) -> Result<Session, GraphError> {
        let environment = EnvironmentRegistry::global().get(&config.environment)?;
        let clients = HttpClients::new(user_agent(config.host_description.as_deref()))?;
        let http = clients.for_url(&environment.azure_ad_endpoint)?;
        let provider = block_on_cancellable(
            cancel,
            TokenProvider::sign_in(credential, environment.clone(), &http),
        )?;
        Ok(Session {
            environment,
            provider,
            clients,
            context_scope: ContextScope::Process,
            token_cache: None,
        })
    }

    pub fn context(&self) -> SessionContext {
        let credential = self.provider.credential();
        let mut claims = self.provider.claims();
        if let Some(app) = credential.app() {
            claims
                .client_id
                .get_or_insert_with(|| app.client_id.clone());
            claims
                .tenant_id
                .get_or_insert_with(|| app.tenant_id.clone());
        }
        SessionContext {
            environment: self.environment.name.clone(),
            auth_type: credential.auth_type(),
            token_credential_type: credential.token_credential_type(),
            context_scope: self.context_scope.name(),
            certificate_thumbprint: credential.certificate_thumbprint(),
            managed_identity_id: credential.managed_identity_id(),
            token_cache: self.token_cache.as_ref().map(|cache| cache.status()),
            claims_readable: self.provider.claims_readable(),
            claims,
        }
    }

    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// Signs out: a delegated sign-in forgets its refresh token, in the token cache too (the
    /// error says why the cache entry could not be removed; the session forgot it anyway).
    pub fn forget(&self) -> Result<(), GraphError> {
        match self.provider.credential().delegated() {
            Some(grant) => grant.forget(),
            None => Ok(()),
        }
    }
}

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
