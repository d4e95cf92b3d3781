//! The Graph side of the server: one fallback handler that sees every request the control API does
//! not claim, parses its raw path itself (see `route`), journals it, has it answered (see
//! `pipeline`, `batch` for `$batch`, `entra` for sign-in), then adds the common headers and the
//! latency.

use std::sync::Arc;

use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::StatusCode;

use crate::batch;
use crate::control;
use crate::echo;
use crate::entra;
use crate::pipeline::{self, Call, Decision, Outcome, Surface};
use crate::recording::{Arrival, Departure};
use crate::route::{self, Parsed};
use crate::serve;
use crate::state::AppState;
use crate::wire::{self, Correlation};

/// Bodies above this are refused: the revoke actions take none, a full `$batch` is a few KiB, and
/// the journal keeps them all.
const MAX_BODY_BYTES: usize = 1024 * 1024;

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
    let ticket = state.recorder.lock().begin(&Arrival {
        method: parts.method.as_str(),
        raw_path: &raw_path,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
        user_id: parsed.user_id(),
        batch: None,
    });

    let call = Call {
        method: &parts.method,
        headers: &parts.headers,
        raw_path: &raw_path,
        parsed: &parsed,
        corr: &corr,
    };
    let entra_route = entra::route(&raw_path);
    let outcome = if !body_ok {
        Outcome::Answer(Decision::from(wire::error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request_BadRequest",
            "The request body is too large.",
            &corr,
        )))
    } else if let Some(route) = &entra_route {
        entra::answer(&state, &call, route, parts.uri.query(), &body)
    } else if let Some(echo_route) = echo::route(&raw_path) {
        let echo_call = echo::EchoCall {
            method: &parts.method,
            raw_path: &raw_path,
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
            corr: &corr,
        };
        match pipeline::queued_fault(&state, &call, Surface::Direct) {
            pipeline::Intercept::Done(outcome) => outcome,
            _ => Outcome::Answer(Decision::from(echo::answer(
                &state,
                &echo_route,
                &echo_call,
            ))),
        }
    } else if matches!(parsed, Parsed::Batch { .. }) {
        batch::answer(&state, &call, &body, ticket.seq()).await
    } else {
        pipeline::decide(&state, &call, Surface::Direct)
    };

    let decision = match outcome {
        Outcome::Answer(d) => d,
        Outcome::Reset { delay } => {
            state.recorder.lock().finish(
                ticket,
                Departure {
                    status: None,
                    user_id: None,
                    injected: Some("reset"),
                },
            );
            sleep(state.latency().saturating_add(delay)).await;
            return serve::reset_response();
        }
    };
    let mut response = decision.response;
    // Entra answers carry their own ids (`x-ms-request-id`, `client-request-id`), not Graph's.
    if entra_route.is_none() {
        wire::add_common_headers(response.headers_mut(), &corr);
    }
    // Journaled as soon as decided, so a client that gives up during the delay still leaves the
    // status behind (the revocation, if any, has happened too, as it would on the real service).
    state.recorder.lock().finish(
        ticket,
        Departure {
            status: Some(response.status().as_u16()),
            user_id: decision.resolved_user.as_deref(),
            injected: decision.injected,
        },
    );
    sleep(state.latency().saturating_add(decision.extra_latency)).await;
    response
}

async fn sleep(delay: std::time::Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}
