//! The Graph side of the server: one fallback handler that sees every request the control API does
//! not claim, parses its raw path itself (see `route`), journals it, and answers in Graph's order:
//! injected fault, route/method, authentication, permission, user lookup, then success.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::header::{ALLOW, AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use time::OffsetDateTime;

use crate::control;
use crate::route::{self, ApiVersion, Parsed, Target};
use crate::state::AppState;
use crate::wire::{self, Correlation};

/// Bodies above this are refused: the revoke actions take none, and the journal keeps them all.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the handler decided, before latency and the common headers are added.
struct Decision {
    response: Response,
    extra_latency: Duration,
    /// For `/me`: who the token resolved to, for the journal.
    resolved_user: Option<String>,
}

impl From<Response> for Decision {
    fn from(response: Response) -> Self {
        Decision {
            response,
            extra_latency: Duration::ZERO,
            resolved_user: None,
        }
    }
}

/// Axum fallback: every non-control request lands here.
pub(crate) async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let raw_path = parts.uri.path().to_owned();
    if control::is_control_path(&raw_path) {
        return control::unknown_endpoint();
    }
    let corr = Correlation::from_headers(&parts.headers);
    let (body, body_ok) = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => (b, true),
        Err(_) => (Bytes::new(), false),
    };
    let parsed = route::parse(&raw_path);
    let ticket = state.recorder.lock().begin(
        parts.method.as_str(),
        &raw_path,
        parts.uri.query(),
        &parts.headers,
        &body,
        parsed.user_id(),
    );

    let decision = if body_ok {
        decide(
            &state,
            &parts.method,
            &parts.headers,
            &raw_path,
            &parsed,
            &corr,
        )
    } else {
        Decision::from(wire::error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request_BadRequest",
            "The request body is too large.",
            &corr,
        ))
    };
    let mut response = decision.response;
    wire::add_common_headers(response.headers_mut(), &corr);
    // Journaled as soon as decided, so a client that gives up during the delay still leaves the
    // status behind (the revocation, if any, has happened too, as it would on the real service).
    state.recorder.lock().finish(
        ticket,
        response.status().as_u16(),
        decision.resolved_user.as_deref(),
    );

    let delay = state.latency().saturating_add(decision.extra_latency);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

fn decide(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    raw_path: &str,
    parsed: &Parsed,
    corr: &Correlation,
) -> Decision {
    let version = parsed.version().unwrap_or(ApiVersion::Beta);

    // Faults come first: a throttled or failing front end answers before anything is checked.
    if let Some(fault) = take_fault(state, raw_path, parsed) {
        return Decision {
            response: fault.response(corr, version),
            extra_latency: fault.latency(),
            resolved_user: None,
        };
    }

    if *parsed == Parsed::NotFound {
        let message = format!("No Graph route of this mock matches '{method} {raw_path}'.");
        return wire::error_response(StatusCode::NOT_FOUND, "UnknownError", &message, corr).into();
    }
    if method != Method::POST {
        let mut resp = wire::error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
            corr,
        );
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return resp.into();
    }

    // Authentication, then authorization, both before the user is looked up: Graph never tells an
    // unauthenticated caller whether a user exists.
    let authorization = headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = match state.signer.verify(authorization, now) {
        Ok(c) => c,
        Err(e) => {
            return wire::error_response(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                e.message(),
                corr,
            )
            .into();
        }
    };
    if !claims.may_revoke() {
        return wire::error_response(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
            corr,
        )
        .into();
    }

    let (version, id, resolved_user) = match parsed {
        Parsed::Revoke {
            version,
            target: Target::User(id),
        } => (*version, id.clone(), None),
        Parsed::Revoke {
            version,
            target: Target::Me,
        } => {
            let me = claims
                .is_delegated()
                .then(|| claims.upn.clone().or_else(|| claims.oid.clone()))
                .flatten();
            let Some(me) = me else {
                return wire::error_response(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                    corr,
                )
                .into();
            };
            (*version, me.clone(), Some(me))
        }
        Parsed::InvalidId { id, .. } => {
            return wire::error_response(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                &format!("Invalid object identifier '{id}'."),
                corr,
            )
            .into();
        }
        Parsed::NotFound => {
            return wire::error_response(StatusCode::NOT_FOUND, "UnknownError", "", corr).into();
        }
    };

    let response = {
        let mut directory = state.directory.lock();
        match directory.find(&id).map(|u| u.id.clone()) {
            Some(user_id) => {
                directory.revoke(&user_id);
                wire::success_response(version)
            }
            None => wire::error_response(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                &format!(
                    "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
                ),
                corr,
            ),
        }
    };
    Decision {
        response,
        extra_latency: Duration::ZERO,
        resolved_user,
    }
}

/// Takes one use of the first fault matching this request, if any is queued.
fn take_fault(state: &AppState, raw_path: &str, parsed: &Parsed) -> Option<crate::faults::Fault> {
    if state.faults.lock().is_empty() {
        return None;
    }
    // The user is cloned out so the directory and fault locks are never held together.
    let user = parsed
        .user_id()
        .and_then(|id| state.directory.lock().find(id).cloned());
    state
        .faults
        .lock()
        .take(raw_path, parsed.user_id(), user.as_ref())
}
