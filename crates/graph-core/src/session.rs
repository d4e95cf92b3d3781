//! A sign-in context: which cloud, which credential, and the HTTP client that uses them.
//!
//! One session is what `Connect-MgGraph` creates and `Disconnect-MgGraph` drops. It owns a
//! set of HTTP clients (see [`crate::http_client`]) so consecutive calls reuse connections.
//!
//! Not handled yet: credentials other than a caller-supplied access token, token refresh.

use serde::{Deserialize, Serialize};

use crate::environment::{Environment, EnvironmentRegistry};
use crate::error::GraphError;
use crate::http_client::HttpClients;
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
}

fn default_environment() -> String {
    "Global".to_owned()
}

/// What `Get-MgContext` shows: never a secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    pub environment: String,
    pub auth_type: &'static str,
    pub token_credential_type: &'static str,
    #[serde(flatten)]
    pub claims: TokenClaims,
}

/// A connected sign-in context.
pub struct Session {
    pub(crate) environment: Environment,
    pub(crate) token: AccessToken,
    pub(crate) clients: HttpClients,
}

impl Session {
    /// Connects with a token the caller obtained elsewhere (`Connect-MgGraph -AccessToken`).
    pub fn connect_with_access_token(
        config: &SessionConfig,
        token: &[u8],
    ) -> Result<Session, GraphError> {
        let environment = EnvironmentRegistry::global().get(&config.environment)?;
        let token = AccessToken::parse(token, unix_now())?;
        let clients = HttpClients::new(user_agent(config.host_description.as_deref()))?;
        Ok(Session {
            environment,
            token,
            clients,
        })
    }

    pub fn context(&self) -> SessionContext {
        SessionContext {
            environment: self.environment.name.clone(),
            auth_type: "UserProvidedAccessToken",
            token_credential_type: "UserProvidedAccessToken",
            claims: self.token.claims().clone(),
        }
    }

    pub fn environment(&self) -> &Environment {
        &self.environment
    }
}

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
