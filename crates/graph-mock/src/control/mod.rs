//! The control API under `/_mock/`: how tests (Rust or Pester, in or out of process) set the
//! server up and inspect what it saw. These requests are never journaled, so a test's own set-up
//! never shows up among the client's requests.
//!
//! Bodies are parsed by hand rather than with axum's `Json` extractor so that every mistake in a
//! test's JSON comes back as a 400 with serde's explanation, whatever the content type.

mod entra;
mod load;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::faults::Fault;
use crate::recording::RecordedRequest;
use crate::state::AppState;
use crate::token::{MintedToken, TokenRequest};
use crate::users::{SessionBehavior, User};

/// Prefix of every control endpoint.
pub const CONTROL_PREFIX: &str = "/_mock";

/// Body of `POST /_mock/users` and answer of `GET /_mock/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsersBody {
    /// The users.
    pub users: Vec<User>,
}

/// Body of `PUT /_mock/latency` and answer of `GET /_mock/latency`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyBody {
    /// Milliseconds added to every Graph answer.
    pub ms: u64,
}

/// `POST /_mock/faults` takes one fault or an array of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<Fault>),
    One(Box<Fault>),
}

pub(crate) fn is_control_path(raw_path: &str) -> bool {
    raw_path == CONTROL_PREFIX
        || raw_path
            .strip_prefix(CONTROL_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Any `/_mock/...` path that is not an endpoint.
pub(crate) fn unknown_endpoint() -> Response {
    control_error(StatusCode::NOT_FOUND, "no such control endpoint")
}

pub(super) fn control_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": "MockControlError", "message": message}})),
    )
        .into_response()
}

/// Parses a control body; the error is the ready 400 answer (boxed: responses are large).
pub(super) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(control_error(
            StatusCode::BAD_REQUEST,
            &format!("invalid JSON body: {e}"),
        ))
    })
}

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/_mock/users",
            get(get_users).post(add_users).delete(clear_users),
        )
        .route("/_mock/tokens", post(mint_token))
        .route(
            "/_mock/faults",
            get(get_faults).post(add_faults).delete(clear_faults),
        )
        .route("/_mock/latency", put(set_latency).get(get_latency))
        .route("/_mock/requests", get(get_requests).delete(clear_requests))
        .route("/_mock/revocations", get(get_revocations))
        .route("/_mock/sessions", put(set_sessions).get(get_sessions))
        .route("/_mock/reset", post(reset))
        .merge(load::routes())
        .merge(entra::routes())
}

async fn get_users(State(s): State<Arc<AppState>>) -> Json<UsersBody> {
    Json(UsersBody {
        users: s.directory.lock().users(),
    })
}

async fn add_users(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let body: UsersBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let result = s.directory.lock().upsert(&body.users);
    match result {
        Ok(total) => Json(json!({"added": body.users.len(), "total": total})).into_response(),
        Err(e) => control_error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn clear_users(State(s): State<Arc<AppState>>) -> StatusCode {
    s.directory.lock().clear_users();
    StatusCode::NO_CONTENT
}

async fn mint_token(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    // An empty body mints the default (app-only, no roles) token.
    let req: TokenRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TokenRequest::default()
    } else {
        match parse(&body) {
            Ok(r) => r,
            Err(r) => return *r,
        }
    };
    let minted: MintedToken = s.mint(&req);
    Json(minted).into_response()
}

async fn get_faults(State(s): State<Arc<AppState>>) -> Json<Vec<Fault>> {
    Json(s.faults.lock().pending())
}

async fn add_faults(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let faults = match parse(&body) {
        Ok(OneOrMany::Many(v)) => v,
        Ok(OneOrMany::One(f)) => vec![*f],
        Err(r) => return *r,
    };
    // Validate all before queueing any, so a bad batch leaves the queue untouched.
    if let Some(e) = faults.iter().find_map(|f| f.validate().err()) {
        return control_error(StatusCode::BAD_REQUEST, &e);
    }
    let mut queue = s.faults.lock();
    let mut queued = 0;
    for f in faults {
        match queue.push(f) {
            Ok(n) => queued = n,
            Err(e) => return control_error(StatusCode::BAD_REQUEST, &e),
        }
    }
    Json(json!({"queued": queued})).into_response()
}

async fn clear_faults(State(s): State<Arc<AppState>>) -> StatusCode {
    s.faults.lock().clear();
    StatusCode::NO_CONTENT
}

async fn set_latency(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    match parse::<LatencyBody>(&body) {
        Ok(l) => {
            s.set_latency(Duration::from_millis(l.ms));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => *r,
    }
}

async fn get_latency(State(s): State<Arc<AppState>>) -> Json<LatencyBody> {
    let ms = u64::try_from(s.latency().as_millis()).unwrap_or(u64::MAX);
    Json(LatencyBody { ms })
}

async fn get_requests(State(s): State<Arc<AppState>>) -> Json<Vec<RecordedRequest>> {
    Json(s.recorder.lock().snapshot())
}

async fn clear_requests(State(s): State<Arc<AppState>>) -> StatusCode {
    s.recorder.lock().clear();
    StatusCode::NO_CONTENT
}

async fn get_revocations(State(s): State<Arc<AppState>>) -> Json<BTreeMap<String, u32>> {
    Json(s.directory.lock().all_revocations())
}

async fn set_sessions(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    match parse::<SessionBehavior>(&body) {
        Ok(behavior) => {
            s.directory.lock().set_session_behavior(behavior);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => *r,
    }
}

async fn get_sessions(State(s): State<Arc<AppState>>) -> Json<SessionBehavior> {
    Json(s.directory.lock().session_behavior())
}

async fn reset(State(s): State<Arc<AppState>>) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_prefix_is_exact() {
        assert!(is_control_path("/_mock"));
        assert!(is_control_path("/_mock/users"));
        assert!(!is_control_path("/_mockery"));
        assert!(!is_control_path("/beta/_mock/users"));
    }
}
