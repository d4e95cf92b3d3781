//! How one Graph call is answered, whether it came as its own HTTP request or as a `$batch` item,
//! in Graph's order: injected fault, chaos, route/method, authentication, throttling, permission,
//! user lookup, then success. Everything here is synchronous and holds each lock only briefly;
//! delays are returned to the caller to await outside any lock.

use std::time::{Duration, Instant};

use axum::response::Response;
use http::header::{ALLOW, AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use time::OffsetDateTime;

use crate::chaos::Mischief;
use crate::faults::{Fault, FaultKind};
use crate::route::{ApiVersion, Parsed, Target};
use crate::state::AppState;
use crate::throttle::{self, Cost, Verdict};
use crate::wire::{self, Correlation};

/// Where a call came from: only a call with its own connection can have it reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    Direct,
    BatchItem,
}

/// One Graph call to answer.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    pub raw_path: &'a str,
    pub parsed: &'a Parsed,
    pub corr: &'a Correlation,
}

/// A decided answer, before latency and the common headers are added.
pub(crate) struct Decision {
    pub response: Response,
    pub extra_latency: Duration,
    /// For `/me`: who the token resolved to, for the journal.
    pub resolved_user: Option<String>,
    /// What was injected, for the journal.
    pub injected: Option<&'static str>,
    /// The body is deliberately broken JSON (a `$batch` then breaks its whole answer).
    pub garbled: bool,
}

impl From<Response> for Decision {
    fn from(response: Response) -> Self {
        Decision {
            response,
            extra_latency: Duration::ZERO,
            resolved_user: None,
            injected: None,
            garbled: false,
        }
    }
}

/// The fate of a call.
pub(crate) enum Outcome {
    Answer(Decision),
    /// Drop the connection, after `delay`, without answering.
    Reset {
        delay: Duration,
    },
}

/// What happened at the front door, before the normal handling.
pub(crate) enum Intercept {
    /// Nothing: handle normally.
    Pass,
    /// Handle normally but answer late.
    Slow(Duration),
    /// Already answered.
    Done(Outcome),
}

/// Answers one call.
pub(crate) fn decide(state: &AppState, call: &Call<'_>, surface: Surface) -> Outcome {
    let intercept = match queued_fault(state, call, surface) {
        Intercept::Pass => chaos(state, call, surface),
        other => other,
    };
    match intercept {
        Intercept::Done(outcome) => outcome,
        Intercept::Slow(delay) => {
            let mut d = handle(state, call);
            d.extra_latency = d.extra_latency.saturating_add(delay);
            d.injected = d.injected.or(Some("slow"));
            Outcome::Answer(d)
        }
        Intercept::Pass => Outcome::Answer(handle(state, call)),
    }
}

/// Takes one use of the first queued fault matching the call and applies it.
pub(crate) fn queued_fault(state: &AppState, call: &Call<'_>, surface: Surface) -> Intercept {
    let Some(fault) = take_fault(state, call.raw_path, call.parsed) else {
        return Intercept::Pass;
    };
    let version = call.parsed.version().unwrap_or(ApiVersion::Beta);
    let latency = fault.latency();
    let answer = |response: Response, injected, garbled| {
        Intercept::Done(Outcome::Answer(Decision {
            response,
            extra_latency: latency,
            resolved_user: None,
            injected: Some(injected),
            garbled,
        }))
    };
    match fault.kind {
        FaultKind::Slow => Intercept::Slow(latency),
        FaultKind::Reset if surface == Surface::Direct => {
            Intercept::Done(Outcome::Reset { delay: latency })
        }
        // One item cannot drop the connection the whole batch shares: its gateway times out.
        FaultKind::Reset => answer(gateway_timeout(call.corr), "reset", false),
        FaultKind::MalformedJson => {
            answer(fault.malformed_response(version), "malformedJson", true)
        }
        FaultKind::Status => answer(fault.response(call.corr, version), "status", false),
    }
}

/// Draws from the chaos generator, if chaos is on.
fn chaos(state: &AppState, call: &Call<'_>, surface: Surface) -> Intercept {
    let Some((mischief, retry_after)) = state.chaos.lock().draw() else {
        return Intercept::Pass;
    };
    let answer = |response: Response, injected| {
        Intercept::Done(Outcome::Answer(Decision {
            injected: Some(injected),
            ..Decision::from(response)
        }))
    };
    match mischief {
        Mischief::Throttle => {
            let mut resp = wire::error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Please retry again later.",
                call.corr,
            );
            if let Ok(v) = HeaderValue::from_str(&seconds_text(retry_after)) {
                resp.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
            answer(resp, "chaos:throttle")
        }
        Mischief::ServiceUnavailable => {
            let status = StatusCode::SERVICE_UNAVAILABLE;
            let (code, message) = wire::default_error_for(status);
            answer(
                wire::error_response(status, code, message, call.corr),
                "chaos:serviceUnavailable",
            )
        }
        Mischief::GatewayTimeout => answer(gateway_timeout(call.corr), "chaos:gatewayTimeout"),
        Mischief::Reset if surface == Surface::Direct => Intercept::Done(Outcome::Reset {
            delay: Duration::ZERO,
        }),
        Mischief::Reset => answer(gateway_timeout(call.corr), "chaos:reset"),
    }
}

fn gateway_timeout(corr: &Correlation) -> Response {
    let status = StatusCode::GATEWAY_TIMEOUT;
    let (code, message) = wire::default_error_for(status);
    wire::error_response(status, code, message, corr)
}

/// `1`, `0.25`: whole seconds without a fraction, else up to milliseconds.
fn seconds_text(secs: f64) -> String {
    if secs.fract() == 0.0 {
        format!("{secs}")
    } else {
        let text = format!("{secs:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The normal handling: route, method, authentication, throttling, permission, lookup.
fn handle(state: &AppState, call: &Call<'_>) -> Decision {
    let corr = call.corr;
    let parsed = call.parsed;
    if matches!(parsed, Parsed::NotFound | Parsed::Batch { .. }) {
        let message = format!(
            "No Graph route of this mock matches '{} {}'.",
            call.method, call.raw_path
        );
        return wire::error_response(StatusCode::NOT_FOUND, "UnknownError", &message, corr).into();
    }
    let read = matches!(parsed, Parsed::ReadUser { .. });
    let allowed = if read { Method::GET } else { Method::POST };
    if *call.method != allowed {
        let mut resp = wire::error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
            corr,
        );
        resp.headers_mut().insert(
            ALLOW,
            HeaderValue::from_static(if read { "GET" } else { "POST" }),
        );
        return resp.into();
    }

    // Authentication, then authorization, both before the user is looked up: Graph never tells an
    // unauthenticated caller whether a user exists.
    let authorization = call
        .headers
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

    // Throttling is keyed by who is calling, so it comes right after authentication.
    let app = claims.appid.as_deref().unwrap_or("unknown");
    let tenant = claims.tid.as_deref().unwrap_or("unknown");
    let users = state.directory.lock().len() as u64;
    let verdict = state.throttler.lock().check(
        app,
        tenant,
        if read { Cost::READ } else { Cost::REVOKE },
        users,
        Instant::now(),
    );
    let usage = match verdict {
        Verdict::Accepted { usage } => usage,
        Verdict::Throttled(t) => {
            return Decision {
                injected: Some("throttled"),
                ..Decision::from(t.response(corr))
            };
        }
    };
    let mut decision = if read {
        authorize_and_read(state, call, &claims)
    } else {
        authorize_and_revoke(state, call, &claims)
    };
    throttle::add_accepted_headers(decision.response.headers_mut(), usage);
    decision
}

fn authorize_and_revoke(state: &AppState, call: &Call<'_>, claims: &crate::Claims) -> Decision {
    let corr = call.corr;
    if !claims.may_revoke() {
        return wire::error_response(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
            corr,
        )
        .into();
    }

    let (version, id, resolved_user) = match call.parsed {
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
        Parsed::NotFound | Parsed::Batch { .. } | Parsed::ReadUser { .. } => {
            return wire::error_response(StatusCode::NOT_FOUND, "UnknownError", "", corr).into();
        }
    };

    let found = {
        let mut directory = state.directory.lock();
        let user = directory.find(&id).cloned();
        if let Some(u) = &user {
            directory.revoke(&u.id);
        }
        user
    };
    let response = match found {
        Some(user) => {
            // As on the real service, the user's refresh tokens die with the sessions.
            state
                .entra
                .revoke_refresh_tokens(Some(&user.user_principal_name), None);
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
    };
    Decision {
        resolved_user,
        ..Decision::from(response)
    }
}

/// A user read back: id, UPN and `signInSessionsValidFromDateTime` as replication shows it.
fn authorize_and_read(state: &AppState, call: &Call<'_>, claims: &crate::Claims) -> Decision {
    let corr = call.corr;
    if !claims.may_read_users() {
        return wire::error_response(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
            corr,
        )
        .into();
    }
    let Parsed::ReadUser { version, id } = call.parsed else {
        return wire::error_response(StatusCode::NOT_FOUND, "UnknownError", "", corr).into();
    };
    let directory = state.directory.lock();
    let Some(user) = directory.find(id) else {
        return wire::error_response(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
            corr,
        )
        .into();
    };
    let valid_from = directory
        .sessions_valid_from(&user.id)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let body = serde_json::json!({
        "@odata.context": format!(
            "https://graph.microsoft.com/{}/$metadata#users(id,userPrincipalName,signInSessionsValidFromDateTime)/$entity",
            version.as_str()
        ),
        "id": user.id,
        "userPrincipalName": user.user_principal_name,
        "signInSessionsValidFromDateTime": valid_from,
    });
    wire::json_response(StatusCode::OK, &body, wire::ODATA_JSON).into()
}

/// Takes one use of the first fault matching this request, if any is queued.
fn take_fault(state: &AppState, raw_path: &str, parsed: &Parsed) -> Option<Fault> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_texts() {
        assert_eq!(seconds_text(1.0), "1");
        assert_eq!(seconds_text(0.25), "0.25");
        assert_eq!(seconds_text(0.0), "0");
    }
}
