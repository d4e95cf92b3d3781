//! A faithful-enough Entra ID for signing in (graph-wire.md "Entra ID token endpoint" and
//! "Managed identity"): the v2.0 token and device-code endpoints under `/{tenant}/oauth2/v2.0/`,
//! and the managed-identity endpoints `/metadata/identity/oauth2/token` (IMDS) and `/msi/token`
//! (App Service). Tokens it issues are the mock's own JWTs, so the Graph routes accept them.
//!
//! These requests are journaled like Graph ones and queued faults apply to them (e.g.
//! `pathContains: "/metadata/identity"` to make IMDS answer 429 twice); chaos does not.

mod assertion;
mod certs;
mod device;
mod endpoint;
mod errors;
mod managed;
mod refresh;
mod registry;
mod scopes;
mod settings;
mod stats;

use std::time::Duration;

use axum::response::Response;
use http::{Method, StatusCode};
use parking_lot::Mutex;
use serde_json::json;
use time::OffsetDateTime;

use crate::pipeline::{self, Call, Decision, Intercept, Outcome, Surface};
use crate::state::AppState;
use errors::{AadError, EntraIds, json_answer};

pub use managed::{DEFAULT_IDENTITY_HEADER, ManagedIdentitiesBody, ManagedIdentity};
pub use registry::{AppRegistration, TenantRegistration};
pub use settings::{DeviceCodeOutcome, DeviceCodeScript, EntraSettings};
pub use stats::TokenStats;

/// Everything the sign-in side keeps; each part has its own short-held lock.
#[derive(Default)]
pub(crate) struct EntraState {
    pub registry: Mutex<registry::Registry>,
    pub devices: Mutex<device::DeviceCodes>,
    pub refresh: Mutex<refresh::RefreshStore>,
    pub settings: Mutex<EntraSettings>,
    pub script: Mutex<DeviceCodeScript>,
    pub managed: Mutex<managed::ManagedIdentities>,
    pub stats: Mutex<TokenStats>,
}

impl EntraState {
    pub fn reset(&self) {
        self.registry.lock().clear();
        self.devices.lock().clear();
        self.refresh.lock().clear();
        *self.settings.lock() = EntraSettings::default();
        *self.script.lock() = DeviceCodeScript::default();
        *self.managed.lock() = managed::ManagedIdentities::default();
        *self.stats.lock() = TokenStats::default();
    }

    /// Registers apps, all or none.
    pub fn register_apps(&self, apps: Vec<AppRegistration>) -> Result<usize, String> {
        let mut registry = self.registry.lock();
        let mut trial = registry::Registry::default();
        for app in &apps {
            trial.register(app.clone())?;
        }
        for app in apps {
            registry.register(app)?;
        }
        Ok(registry.apps().len())
    }

    /// Revokes refresh tokens (None matches all); how many were live.
    pub fn revoke_refresh_tokens(&self, upn: Option<&str>, app_id: Option<&str>) -> usize {
        self.refresh.lock().revoke(upn, app_id)
    }
}

/// A sign-in endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Token { tenant: String },
    DeviceCode { tenant: String },
    Imds,
    AppService,
}

/// Recognises the sign-in endpoints from the raw path.
pub(crate) fn route(raw_path: &str) -> Option<Route> {
    if raw_path == "/metadata/identity/oauth2/token" {
        return Some(Route::Imds);
    }
    if raw_path == "/msi/token" {
        return Some(Route::AppService);
    }
    let rest = raw_path.strip_prefix('/')?;
    let (tenant, endpoint) = rest.split_once('/')?;
    if tenant.is_empty() || tenant.starts_with('_') {
        return None;
    }
    let tenant = percent_encoding::percent_decode_str(tenant)
        .decode_utf8_lossy()
        .into_owned();
    match endpoint {
        "oauth2/v2.0/token" => Some(Route::Token { tenant }),
        "oauth2/v2.0/devicecode" => Some(Route::DeviceCode { tenant }),
        _ => None,
    }
}

/// Answers a sign-in request (queued faults first, as for Graph).
pub(crate) fn answer(
    state: &AppState,
    call: &Call<'_>,
    route: &Route,
    query: Option<&str>,
    body: &[u8],
) -> Outcome {
    let slow = match pipeline::queued_fault(state, call, Surface::Direct) {
        Intercept::Done(outcome) => return outcome,
        Intercept::Slow(delay) => delay,
        Intercept::Pass => Duration::ZERO,
    };
    let ids = EntraIds::from_headers(call.headers);
    let response = match route {
        Route::Token { tenant } | Route::DeviceCode { tenant } => {
            token_side(state, call, route, tenant, body, &ids)
        }
        Route::Imds | Route::AppService => managed_side(state, call, route, query),
    };
    Outcome::Answer(Decision {
        extra_latency: slow,
        injected: (!slow.is_zero()).then_some("slow"),
        ..Decision::from(response)
    })
}

fn token_side(
    state: &AppState,
    call: &Call<'_>,
    route: &Route,
    tenant: &str,
    body: &[u8],
    ids: &EntraIds,
) -> Response {
    if call.method != Method::POST {
        return AadError::bad(
            "invalid_request",
            900_561,
            format!(
                "The endpoint only accepts POST, OPTIONS requests. Received a {} request.",
                call.method
            ),
        )
        .response(ids);
    }
    let host = call
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let ctx = endpoint::Ctx {
        state,
        tenant_segment: tenant,
        host,
        now: OffsetDateTime::now_utc().unix_timestamp(),
    };
    let form = endpoint::parse_form(body);
    let (kind, result) = match route {
        Route::DeviceCode { .. } => ("devicecode".to_owned(), endpoint::devicecode(&ctx, &form)),
        _ => endpoint::token(&ctx, &form),
    };
    state.entra.stats.lock().request(&kind);
    match result {
        Ok(body) => {
            state.entra.stats.lock().issue(&kind);
            json_answer(StatusCode::OK, &body, ids)
        }
        Err(e) => e.response(ids),
    }
}

fn managed_side(state: &AppState, call: &Call<'_>, route: &Route, query: Option<&str>) -> Response {
    let (flavor, kind) = match route {
        Route::AppService => (managed::Flavor::AppService, "appService"),
        _ => (managed::Flavor::Imds, "imds"),
    };
    state.entra.stats.lock().request(kind);
    let q = managed::Query::parse(query);
    let checked = managed::check(&state.entra.managed.lock(), flavor, call.headers, &q);
    let (req, resource) = match checked {
        Ok(ok) => ok,
        Err(body) => {
            return crate::wire::json_response(
                StatusCode::BAD_REQUEST,
                &body,
                "application/json; charset=utf-8",
            );
        }
    };
    let lifetime = state.entra.settings.lock().access_token_lifetime_seconds;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let minted = state.mint(&crate::token::TokenRequest {
        expires_in_seconds: Some(lifetime),
        ..req.clone()
    });
    state.entra.stats.lock().issue(kind);
    let client_id = req.app_id.unwrap_or_default();
    // Numbers as strings: that is what both endpoints really send.
    let body = match flavor {
        managed::Flavor::Imds => json!({
            "access_token": minted.access_token,
            "client_id": client_id,
            "expires_in": lifetime.to_string(),
            "expires_on": minted.expires_on.to_string(),
            "ext_expires_in": lifetime.to_string(),
            "not_before": now.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
        managed::Flavor::AppService => json!({
            "access_token": minted.access_token,
            "expires_on": minted.expires_on.to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id,
        }),
    };
    crate::wire::json_response(StatusCode::OK, &body, "application/json; charset=utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/contoso.onmicrosoft.com/oauth2/v2.0/token"),
            Some(Route::Token {
                tenant: "contoso.onmicrosoft.com".into()
            })
        );
        assert_eq!(
            route("/common/oauth2/v2.0/devicecode"),
            Some(Route::DeviceCode {
                tenant: "common".into()
            })
        );
        assert_eq!(route("/metadata/identity/oauth2/token"), Some(Route::Imds));
        assert_eq!(route("/msi/token"), Some(Route::AppService));
        assert_eq!(route("/beta/users/x/invalidateAllRefreshTokens"), None);
        assert_eq!(route("/_mock/oauth2/v2.0/token"), None);
        assert_eq!(route("/t/oauth2/token"), None);
    }
}
