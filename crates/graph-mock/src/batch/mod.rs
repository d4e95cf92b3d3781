//! JSON batching (`POST /{version}/$batch`), as graph-wire.md describes it: up to 20 items, each
//! authorized, throttled, routed and answered on its own (a 429 item inside a 200 batch), answers
//! in an order other than the request order, `dependsOn` honoured (a failed dependency makes its
//! dependents 424). The batch request itself is journaled (by the caller) and so is every item,
//! marked with the batch's `seq`.

mod envelope;
mod item;
mod order;

use std::time::Duration;

use http::header::ALLOW;
use http::{HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use crate::pipeline::{self, Call, Decision, Intercept, Outcome, Surface};
use crate::route::ApiVersion;
use crate::state::AppState;
use crate::wire;
use item::{BatchContext, ItemAnswer};

/// Answers a `$batch` request whose journal entry has number `batch_seq`.
pub(crate) async fn answer(
    state: &AppState,
    call: &Call<'_>,
    body: &[u8],
    batch_seq: u64,
) -> Outcome {
    // Queued faults can hit the batch request itself (e.g. `pathContains: "$batch"`); chaos only
    // ever hits its items, where real throttling happens.
    let mut slow = Duration::ZERO;
    match pipeline::queued_fault(state, call, Surface::Direct) {
        Intercept::Done(outcome) => return outcome,
        Intercept::Slow(delay) => slow = delay,
        Intercept::Pass => {}
    }
    let bad_request = |message: &str| {
        Outcome::Answer(Decision::from(wire::error_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            message,
            call.corr,
        )))
    };
    if call.method != Method::POST {
        let mut resp = wire::error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
            call.corr,
        );
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return Outcome::Answer(resp.into());
    }
    let items = match envelope::parse(body) {
        Ok(items) => items,
        Err(message) => return bad_request(&message),
    };
    let execution = match order::execution_order(&items) {
        Ok(o) => o,
        Err(message) => return bad_request(&message),
    };

    let ctx = BatchContext {
        version: call.parsed.version().unwrap_or(ApiVersion::Beta),
        headers: call.headers,
        batch_seq,
    };
    let mut answers: Vec<Option<ItemAnswer>> = (0..items.len()).map(|_| None).collect();
    for i in execution {
        let item = &items[i];
        let failed = item.depends_on.iter().find(|dep| {
            items
                .iter()
                .position(|other| other.id.eq_ignore_ascii_case(dep))
                .and_then(|p| answers[p].as_ref())
                .is_some_and(|a| !a.succeeded())
        });
        answers[i] = Some(item::answer(state, &ctx, item, failed.map(String::as_str)).await);
    }
    let answers: Vec<ItemAnswer> = answers.into_iter().flatten().collect();

    // Items run side by side on the service: the batch waits for the slowest one.
    let extra = answers
        .iter()
        .map(|a| a.extra_latency)
        .max()
        .unwrap_or_default();
    let garbled = answers.iter().any(|a| a.garbled);
    let responses: Vec<Value> = order::answer_order(answers.len(), batch_seq)
        .into_iter()
        .filter_map(|i| answers.get(i).map(ItemAnswer::to_json))
        .collect();
    let body = json!({ "responses": responses });
    let mut response = wire::json_response(StatusCode::OK, &body, wire::ODATA_JSON);
    if garbled {
        // A broken item breaks the one stream that carries every answer.
        let text = body.to_string();
        let cut = text
            .get(..text.len() * 2 / 3)
            .unwrap_or_default()
            .to_owned();
        *response.body_mut() = axum::body::Body::from(cut);
    }
    Outcome::Answer(Decision {
        extra_latency: slow.saturating_add(extra),
        injected: (!slow.is_zero()).then_some("slow"),
        garbled,
        ..Decision::from(response)
    })
}
