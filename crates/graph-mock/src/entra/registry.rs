//! The mock's Entra directory of applications and tenants: who may ask the token endpoint for what.
//! A tenant is known when an application is registered in it, when it is added explicitly, or when
//! it is the default tenant every minted token names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::certs::AppCert;
use crate::token::DEFAULT_TENANT_ID;

/// An application registration (the body of `POST /_mock/apps`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppRegistration {
    /// The client id.
    pub app_id: String,
    /// Its home tenant (default [`DEFAULT_TENANT_ID`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Client secrets it accepts.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Certificates it accepts client assertions from: PEM, or base64 of the DER.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Application permissions granted (the `roles` of its app-only tokens).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Every secret has expired (AADSTS7000222).
    #[serde(default)]
    pub secret_expired: bool,
    /// What a delegated `.default` scope expands to (default `User.Read`).
    #[serde(default)]
    pub delegated_scopes: Vec<String>,
}

impl AppRegistration {
    /// An app with one secret and these application permissions.
    pub fn with_secret<S: Into<String>>(
        app_id: impl Into<String>,
        secret: impl Into<String>,
        roles: impl IntoIterator<Item = S>,
    ) -> Self {
        AppRegistration {
            app_id: app_id.into(),
            secrets: vec![secret.into()],
            roles: roles.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }

    pub fn tenant(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or(DEFAULT_TENANT_ID)
    }
}

/// A tenant (the body of `POST /_mock/tenants`): its id and the domain names that also address it
/// in a token URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantRegistration {
    pub tenant_id: String,
    #[serde(default)]
    pub domains: Vec<String>,
}

/// A registered app with its certificates parsed.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub reg: AppRegistration,
    pub certs: Vec<AppCert>,
}

/// What the `{tenant}` segment of a token URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TenantRef {
    /// One known tenant, by id.
    Id(String),
    /// `common` / `organizations`: the app's home tenant decides.
    Multi,
}

#[derive(Default)]
pub(crate) struct Registry {
    /// By lower-cased app id.
    apps: BTreeMap<String, App>,
    /// By lower-cased tenant id.
    tenants: BTreeMap<String, TenantRegistration>,
}

impl Registry {
    pub fn register(&mut self, reg: AppRegistration) -> Result<(), String> {
        if reg.app_id.trim().is_empty() {
            return Err("appId is empty".to_owned());
        }
        let certs = reg
            .certificates
            .iter()
            .map(|c| AppCert::parse(c))
            .collect::<Result<Vec<_>, _>>()?;
        let tenant = reg.tenant().to_owned();
        self.tenants
            .entry(tenant.to_lowercase())
            .or_insert_with(|| TenantRegistration {
                tenant_id: tenant,
                domains: Vec::new(),
            });
        self.apps
            .insert(reg.app_id.to_lowercase(), App { reg, certs });
        Ok(())
    }

    pub fn add_tenant(&mut self, t: TenantRegistration) -> Result<(), String> {
        if t.tenant_id.trim().is_empty() {
            return Err("tenantId is empty".to_owned());
        }
        self.tenants.insert(t.tenant_id.to_lowercase(), t);
        Ok(())
    }

    pub fn apps(&self) -> Vec<AppRegistration> {
        self.apps.values().map(|a| a.reg.clone()).collect()
    }

    pub fn tenants(&self) -> Vec<TenantRegistration> {
        self.tenants.values().cloned().collect()
    }

    pub fn app(&self, app_id: &str) -> Option<&App> {
        self.apps.get(&app_id.to_lowercase())
    }

    /// Resolves a `{tenant}` path segment: a known id, a known domain, or a multi-tenant alias.
    pub fn resolve_tenant(&self, segment: &str) -> Option<TenantRef> {
        let s = segment.to_lowercase();
        if s == "common" || s == "organizations" {
            return Some(TenantRef::Multi);
        }
        if s == DEFAULT_TENANT_ID {
            return Some(TenantRef::Id(DEFAULT_TENANT_ID.to_owned()));
        }
        if let Some(t) = self.tenants.get(&s) {
            return Some(TenantRef::Id(t.tenant_id.clone()));
        }
        self.tenants
            .values()
            .find(|t| t.domains.iter().any(|d| d.eq_ignore_ascii_case(segment)))
            .map(|t| TenantRef::Id(t.tenant_id.clone()))
    }

    pub fn clear(&mut self) {
        self.apps.clear();
        self.tenants.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_by_id_domain_and_alias() {
        let mut r = Registry::default();
        assert!(
            r.register(AppRegistration {
                tenant_id: Some("T-1".into()),
                ..AppRegistration::with_secret("A", "s", ["x"])
            })
            .is_ok()
        );
        assert!(
            r.add_tenant(TenantRegistration {
                tenant_id: "t-2".into(),
                domains: vec!["fabrikam.com".into()],
            })
            .is_ok()
        );
        assert_eq!(r.resolve_tenant("t-1"), Some(TenantRef::Id("T-1".into())));
        assert_eq!(
            r.resolve_tenant("Fabrikam.com"),
            Some(TenantRef::Id("t-2".into()))
        );
        assert_eq!(r.resolve_tenant("organizations"), Some(TenantRef::Multi));
        assert!(r.resolve_tenant(DEFAULT_TENANT_ID).is_some());
        assert_eq!(r.resolve_tenant("nope"), None);
        assert!(r.app("a").is_some());
        assert!(
            r.register(AppRegistration {
                certificates: vec!["junk".into()],
                ..AppRegistration::with_secret("b", "s", ["x"])
            })
            .is_err()
        );
    }
}
