//! Managed identity endpoints as graph-wire.md describes them: the Azure VM one (IMDS,
//! `GET /metadata/identity/oauth2/token`, header `Metadata: true`) and the App Service one
//! (`GET /msi/token`, header `X-IDENTITY-HEADER`). Both answer with numbers as strings, as the
//! real ones do. Without `client_id` / `object_id` / `msi_res_id` (`mi_res_id`) the
//! system-assigned identity answers, or the only user-assigned one when there is no system one.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::errors::AadError;
use crate::token::{GRAPH_APP_ID, GRAPH_AUDIENCE, TokenRequest};

/// The `X-IDENTITY-HEADER` secret accepted until another is configured.
pub const DEFAULT_IDENTITY_HEADER: &str = "graph-mock-identity-header";

/// One managed identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedIdentity {
    /// Its client (application) id: the `appid` of its tokens.
    pub client_id: String,
    /// Its object (principal) id: the `oid` of its tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Its Azure resource id (`msi_res_id` / `mi_res_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Its tenant (default the mock's default tenant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Application permissions granted.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The system-assigned identity (at most one is meant to be).
    #[serde(default)]
    pub system_assigned: bool,
}

/// The body of `POST /_mock/managed-identities` and answer of `GET`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedIdentitiesBody {
    /// Identities to add (same `clientId` replaces).
    #[serde(default)]
    pub identities: Vec<ManagedIdentity>,
    /// The App Service `X-IDENTITY-HEADER` secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_header: Option<String>,
}

pub(crate) struct ManagedIdentities {
    list: Vec<ManagedIdentity>,
    header: String,
}

impl Default for ManagedIdentities {
    fn default() -> Self {
        ManagedIdentities {
            list: Vec::new(),
            header: DEFAULT_IDENTITY_HEADER.to_owned(),
        }
    }
}

/// Which endpoint asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Imds,
    AppService,
}

impl ManagedIdentities {
    pub fn apply(&mut self, body: ManagedIdentitiesBody) -> Result<usize, String> {
        if body
            .identities
            .iter()
            .any(|i| i.client_id.trim().is_empty())
        {
            return Err("an identity has no clientId".to_owned());
        }
        for id in body.identities {
            self.list
                .retain(|i| !i.client_id.eq_ignore_ascii_case(&id.client_id));
            self.list.push(id);
        }
        if let Some(h) = body.identity_header {
            self.header = h;
        }
        Ok(self.list.len())
    }

    pub fn view(&self) -> ManagedIdentitiesBody {
        ManagedIdentitiesBody {
            identities: self.list.clone(),
            identity_header: Some(self.header.clone()),
        }
    }

    fn select(&self, query: &Query) -> Option<&ManagedIdentity> {
        let eq =
            |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
        if let Some(c) = &query.client_id {
            return self
                .list
                .iter()
                .find(|i| i.client_id.eq_ignore_ascii_case(c));
        }
        if let Some(o) = &query.object_id {
            return self.list.iter().find(|i| eq(&i.object_id, o));
        }
        if let Some(r) = &query.resource_id {
            return self.list.iter().find(|i| eq(&i.resource_id, r));
        }
        self.list.iter().find(|i| i.system_assigned).or_else(|| {
            let user: Vec<&ManagedIdentity> = self.list.iter().collect();
            (user.len() == 1).then(|| user[0])
        })
    }
}

/// The query parameters both endpoints take.
#[derive(Debug, Default)]
pub(crate) struct Query {
    api_version: Option<String>,
    resource: Option<String>,
    client_id: Option<String>,
    object_id: Option<String>,
    resource_id: Option<String>,
}

impl Query {
    pub fn parse(query: Option<&str>) -> Query {
        let mut q = Query::default();
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let v = Some(v.into_owned());
            match k.as_ref() {
                "api-version" => q.api_version = v,
                "resource" => q.resource = v,
                "client_id" => q.client_id = v,
                "object_id" | "principal_id" => q.object_id = v,
                "msi_res_id" | "mi_res_id" => q.resource_id = v,
                _ => {}
            }
        }
        q
    }
}

/// A refusal in the endpoints' own `{"error","error_description"}` shape.
pub(crate) fn refusal(error: &str, description: &str) -> serde_json::Value {
    json!({"error": error, "error_description": description})
}

/// Either the token request to mint (with the identity's client id and the resource asked for),
/// or the refusal body.
pub(crate) fn check(
    ids: &ManagedIdentities,
    flavor: Flavor,
    headers: &http::HeaderMap,
    query: &Query,
) -> Result<(TokenRequest, String), serde_json::Value> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match flavor {
        Flavor::Imds if !header("metadata").is_some_and(|v| v.eq_ignore_ascii_case("true")) => {
            return Err(refusal(
                "invalid_request",
                "Required metadata header not specified",
            ));
        }
        Flavor::AppService if header("x-identity-header") != Some(ids.header.as_str()) => {
            return Err(refusal(
                "invalid_request",
                "The X-IDENTITY-HEADER header is missing or does not match.",
            ));
        }
        _ => {}
    }
    if query.api_version.as_deref().is_none_or(str::is_empty) {
        return Err(refusal(
            "invalid_request",
            "Required query variable 'api-version' is missing",
        ));
    }
    let Some(resource) = query.resource.as_deref().filter(|r| !r.is_empty()) else {
        return Err(refusal(
            "invalid_request",
            "Required audience parameter not specified",
        ));
    };
    let graph = resource
        .trim_end_matches('/')
        .eq_ignore_ascii_case(GRAPH_AUDIENCE)
        || resource.eq_ignore_ascii_case(GRAPH_APP_ID);
    if !graph {
        let e = AadError::bad(
            "invalid_resource",
            500_011,
            format!("The resource principal named {resource} was not found in the tenant."),
        );
        return Err(refusal(
            e.error,
            &format!("AADSTS{}: {}", e.code, e.message),
        ));
    }
    let Some(identity) = ids.select(query) else {
        return Err(refusal("invalid_request", "Identity not found"));
    };
    let req = TokenRequest {
        roles: Some(identity.roles.clone()),
        app_id: Some(identity.client_id.clone()),
        tenant_id: identity.tenant_id.clone(),
        oid: identity.object_id.clone(),
        ..Default::default()
    };
    Ok((req, resource.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identities() -> ManagedIdentities {
        let mut m = ManagedIdentities::default();
        let user = |id: &str| ManagedIdentity {
            client_id: id.into(),
            object_id: Some(format!("oid-{id}")),
            ..Default::default()
        };
        assert!(
            m.apply(ManagedIdentitiesBody {
                identities: vec![user("u1"), user("u2")],
                identity_header: None,
            })
            .is_ok()
        );
        m
    }

    #[test]
    fn selection() {
        let m = identities();
        let q = |s: &str| Query::parse(Some(s));
        assert!(
            m.select(&q("client_id=U2"))
                .is_some_and(|i| i.client_id == "u2")
        );
        assert!(
            m.select(&q("object_id=oid-u1"))
                .is_some_and(|i| i.client_id == "u1")
        );
        // Two user-assigned and no system-assigned: which one is ambiguous.
        assert!(m.select(&q("")).is_none());
        assert!(m.select(&q("client_id=nope")).is_none());
    }
}
