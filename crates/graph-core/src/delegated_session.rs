//! Delegated sign-in as a session: `Connect-MgGraph -Scopes` with the device code flow, in two
//! steps so the shim can show the code on the pipeline thread before waiting:
//! [`DeviceCodeSignIn::start`] asks Entra for the code, [`DeviceCodeSignIn::complete`] polls
//! until the user signed in and returns the session.

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::auth::delegated::{self, DEFAULT_CLIENT_ID, DEFAULT_TENANT, DelegatedGrant};
use crate::auth::device_code::{self, DeviceCode, DeviceCodePrompt};
use crate::auth::{AppIdentity, Credential, TokenProvider};
use crate::environment::{Environment, EnvironmentRegistry};
use crate::error::GraphError;
use crate::http_client::HttpClients;
use crate::runtime::block_on_cancellable;
use crate::session::{ContextScope, Session, default_environment};
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
}

/// The checked parts of a delegated configuration.
pub(crate) struct DelegatedTarget {
    pub environment: Environment,
    pub app: AppIdentity,
    pub scopes: Vec<String>,
    pub context_scope: ContextScope,
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
        let http = clients.get(None)?;
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

    /// Polls until the user signed in; the session holds the refresh token.
    pub fn complete(&self, cancel: &CancellationToken) -> Result<Session, GraphError> {
        let http = self.clients.get(None)?;
        let granted = block_on_cancellable(
            cancel,
            device_code::poll(
                &http,
                &self.target.environment,
                &self.target.app,
                &self.code,
            ),
        )?;
        let grant = DelegatedGrant::new(self.target.scopes.clone(), granted.refresh_token, None);
        let credential = Credential::Delegated {
            app: self.target.app.clone(),
            grant: Box::new(grant),
        };
        Ok(Session {
            environment: self.target.environment.clone(),
            provider: TokenProvider::with_issued(
                credential,
                self.target.environment.clone(),
                granted.issued,
            ),
            clients: HttpClients::new(self.clients.user_agent().to_owned())?,
            context_scope: self.target.context_scope,
        })
    }
}
