//! What a session signs in with. Secrets live in zeroizing memory, are never serialized, and
//! their `Debug` output is redacted.

use zeroize::Zeroizing;

use super::client_assertion::CertificateSigner;
use super::delegated::DelegatedGrant;
use super::managed_identity::ManagedEndpoint;
use crate::error::GraphError;

/// The application and tenant an app-only credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIdentity {
    pub client_id: String,
    pub tenant_id: String,
}

impl AppIdentity {
    /// Checks the ids before they are put in a URL or a form: a tenant must be one path segment.
    pub fn new(client_id: &str, tenant_id: &str) -> Result<AppIdentity, GraphError> {
        let client_id = client_id.trim();
        let tenant_id = tenant_id.trim();
        if client_id.is_empty() {
            return Err(GraphError::invalid_argument(
                "the client id is empty: pass the application (client) id of the app registration",
            ));
        }
        if client_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(GraphError::invalid_argument(format!(
                "the client id '{client_id}' contains spaces or control characters: pass the application (client) id of the app registration"
            )));
        }
        if tenant_id.is_empty() {
            return Err(GraphError::invalid_argument(
                "the tenant id is empty: pass -TenantId with the tenant's id or a verified domain such as contoso.onmicrosoft.com",
            ));
        }
        if !tenant_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return Err(GraphError::invalid_argument(format!(
                "the tenant id '{tenant_id}' is not a tenant id or domain name: pass the tenant's id (a GUID) or a verified domain such as contoso.onmicrosoft.com"
            )));
        }
        Ok(AppIdentity {
            client_id: client_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
        })
    }
}

/// A credential the token provider can use.
pub enum Credential {
    /// A token obtained elsewhere (`-AccessToken`): used as is, never refreshed.
    AccessToken,
    /// App-only with a client secret (`-ClientSecretCredential`).
    ClientSecret {
        app: AppIdentity,
        secret: Zeroizing<String>,
    },
    /// App-only with a certificate (`-Certificate`, `-CertificateThumbprint`, ...).
    Certificate {
        app: AppIdentity,
        signer: Box<CertificateSigner>,
    },
    /// A signed-in user (`-Scopes`, device code): renewed with the refresh token.
    Delegated {
        app: AppIdentity,
        grant: Box<DelegatedGrant>,
    },
    /// The Azure resource's managed identity (`-Identity`); a user-assigned one by client id.
    ManagedIdentity {
        client_id: Option<String>,
        endpoint: ManagedEndpoint,
    },
}

impl Credential {
    /// `AuthType` as Get-MgContext shows it.
    pub fn auth_type(&self) -> &'static str {
        match self {
            Credential::AccessToken => "UserProvidedAccessToken",
            Credential::ClientSecret { .. } | Credential::Certificate { .. } => "AppOnly",
            Credential::Delegated { .. } => "Delegated",
            Credential::ManagedIdentity { .. } => "ManagedIdentity",
        }
    }

    /// `TokenCredentialType` as Get-MgContext shows it.
    pub fn token_credential_type(&self) -> &'static str {
        match self {
            Credential::AccessToken => "UserProvidedAccessToken",
            Credential::ClientSecret { .. } => "ClientSecret",
            Credential::Certificate { .. } => "ClientCertificate",
            Credential::Delegated { .. } => "DeviceCode",
            Credential::ManagedIdentity { .. } => "ManagedIdentity",
        }
    }

    pub fn app(&self) -> Option<&AppIdentity> {
        match self {
            Credential::AccessToken | Credential::ManagedIdentity { .. } => None,
            Credential::ClientSecret { app, .. }
            | Credential::Certificate { app, .. }
            | Credential::Delegated { app, .. } => Some(app),
        }
    }

    /// Whether a new token can be obtained without the user.
    pub fn can_refresh(&self) -> bool {
        !matches!(self, Credential::AccessToken)
    }

    /// The delegated grant, for a signed-in user.
    pub fn delegated(&self) -> Option<&DelegatedGrant> {
        match self {
            Credential::Delegated { grant, .. } => Some(grant),
            _ => None,
        }
    }

    /// The client id of a user-assigned managed identity, for Get-MgContext.
    pub fn managed_identity_id(&self) -> Option<String> {
        match self {
            Credential::ManagedIdentity { client_id, .. } => client_id.clone(),
            _ => None,
        }
    }

    /// The SHA-1 thumbprint (upper-case hex) of the certificate, for Get-MgContext.
    pub fn certificate_thumbprint(&self) -> Option<String> {
        match self {
            Credential::Certificate { signer, .. } => Some(signer.thumbprint_sha1_hex()),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credential")
            .field("type", &self.token_credential_type())
            .field("app", &self.app())
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_must_be_one_path_segment() {
        assert!(AppIdentity::new("app", "contoso.onmicrosoft.com").is_ok());
        assert!(AppIdentity::new("app", "6f1c2d3e-0000-4000-8000-000000000001").is_ok());
        for bad in ["", "a/b", "x?y", "a b", "../x%2f"] {
            let error = AppIdentity::new("app", bad).expect_err(bad);
            assert!(error.message.contains("tenant"), "{}", error.message);
        }
        assert!(AppIdentity::new(" ", "t").is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let credential = Credential::ClientSecret {
            app: AppIdentity::new("app", "t").expect("valid"),
            secret: Zeroizing::new("hunter2-very-secret".to_owned()),
        };
        assert!(!format!("{credential:?}").contains("hunter2"));
    }
}
