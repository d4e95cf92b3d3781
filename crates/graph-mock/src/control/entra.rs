//! Control endpoints of the sign-in side (see `entra`):
//!
//! - `GET /_mock/apps` -> `{"apps":[AppRegistration...]}`; `POST` one registration or an array
//!   (all or none; same `appId` replaces) -> `{"registered":n,"total":m}`; `DELETE` -> 204.
//! - `GET /_mock/tenants` -> `{"tenants":[{"tenantId","domains"}]}`; `POST` one or an array ->
//!   `{"total":n}`.
//! - `GET` / `POST /_mock/devicecode` -> the `DeviceCodeScript` (POST replaces it; omitted fields
//!   take their defaults).
//! - `POST /_mock/refresh-tokens/revoke` `{"upn"?,"appId"?}` -> `{"revoked":n}`.
//! - `GET` / `POST` / `DELETE /_mock/managed-identities` with `ManagedIdentitiesBody` ->
//!   the body view / `{"total":n}` / 204.
//! - `GET` / `PUT /_mock/entra` -> `EntraSettings` (lifetimes, refresh grace, clock skew).
//! - `GET` / `DELETE /_mock/token-stats` -> `TokenStats` / 204.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{control_error, parse};
use crate::entra::{
    AppRegistration, DeviceCodeScript, EntraSettings, ManagedIdentitiesBody, TenantRegistration,
    TokenStats,
};
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/_mock/apps",
            get(get_apps).post(add_apps).delete(clear_apps),
        )
        .route("/_mock/tenants", get(get_tenants).post(add_tenants))
        .route("/_mock/devicecode", get(get_script).post(set_script))
        .route("/_mock/refresh-tokens/revoke", post(revoke_refresh))
        .route(
            "/_mock/managed-identities",
            get(get_identities)
                .post(add_identities)
                .delete(clear_identities),
        )
        .route("/_mock/entra", get(get_settings).put(set_settings))
        .route("/_mock/token-stats", get(get_stats).delete(clear_stats))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(Box<T>),
}

fn one_or_many<T: DeserializeOwned>(body: &Bytes) -> Result<Vec<T>, Box<Response>> {
    Ok(match parse(body)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(one) => vec![*one],
    })
}

async fn get_apps(State(s): State<Arc<AppState>>) -> Response {
    Json(json!({"apps": s.entra.registry.lock().apps()})).into_response()
}

async fn add_apps(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let apps: Vec<AppRegistration> = match one_or_many(&body) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let n = apps.len();
    match s.entra.register_apps(apps) {
        Ok(total) => Json(json!({"registered": n, "total": total})).into_response(),
        Err(e) => control_error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn clear_apps(State(s): State<Arc<AppState>>) -> StatusCode {
    s.entra.registry.lock().clear();
    StatusCode::NO_CONTENT
}

async fn get_tenants(State(s): State<Arc<AppState>>) -> Response {
    Json(json!({"tenants": s.entra.registry.lock().tenants()})).into_response()
}

async fn add_tenants(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let tenants: Vec<TenantRegistration> = match one_or_many(&body) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    if tenants.iter().any(|t| t.tenant_id.trim().is_empty()) {
        return control_error(StatusCode::BAD_REQUEST, "tenantId is empty");
    }
    let mut registry = s.entra.registry.lock();
    for t in tenants {
        if let Err(e) = registry.add_tenant(t) {
            return control_error(StatusCode::BAD_REQUEST, &e);
        }
    }
    Json(json!({"total": registry.tenants().len()})).into_response()
}

async fn get_script(State(s): State<Arc<AppState>>) -> Json<DeviceCodeScript> {
    Json(s.entra.script.lock().clone())
}

async fn set_script(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    match parse::<DeviceCodeScript>(&body) {
        Ok(script) => {
            *s.entra.script.lock() = script.clone();
            Json(script).into_response()
        }
        Err(r) => *r,
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevokeBody {
    #[serde(default)]
    upn: Option<String>,
    #[serde(default)]
    app_id: Option<String>,
}

async fn revoke_refresh(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: RevokeBody = if body.iter().all(u8::is_ascii_whitespace) {
        RevokeBody::default()
    } else {
        match parse(&body) {
            Ok(r) => r,
            Err(r) => return *r,
        }
    };
    let n = s
        .entra
        .revoke_refresh_tokens(req.upn.as_deref(), req.app_id.as_deref());
    Json(json!({"revoked": n})).into_response()
}

async fn get_identities(State(s): State<Arc<AppState>>) -> Json<ManagedIdentitiesBody> {
    Json(s.entra.managed.lock().view())
}

async fn add_identities(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: ManagedIdentitiesBody = match parse(&body) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match s.entra.managed.lock().apply(req) {
        Ok(total) => Json(json!({"total": total})).into_response(),
        Err(e) => control_error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn clear_identities(State(s): State<Arc<AppState>>) -> StatusCode {
    *s.entra.managed.lock() = Default::default();
    StatusCode::NO_CONTENT
}

async fn get_settings(State(s): State<Arc<AppState>>) -> Json<EntraSettings> {
    Json(s.entra.settings.lock().clone())
}

async fn set_settings(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    match parse::<EntraSettings>(&body) {
        Ok(settings) => {
            *s.entra.settings.lock() = settings.clone();
            Json(settings).into_response()
        }
        Err(r) => *r,
    }
}

async fn get_stats(State(s): State<Arc<AppState>>) -> Json<TokenStats> {
    Json(s.entra.stats.lock().clone())
}

async fn clear_stats(State(s): State<Arc<AppState>>) -> StatusCode {
    *s.entra.stats.lock() = TokenStats::default();
    StatusCode::NO_CONTENT
}
