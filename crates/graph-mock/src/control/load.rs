//! Control endpoints for load behaviour: the throttling model and chaos.
//!
//! - `GET /_mock/throttling` -> `{"config":{...},"limits":[{"name","capacity","windowSeconds"}],
//!   "stats":{"accepted","throttled","throttledBy":{"<limit>":n}}}`
//! - `PUT /_mock/throttling` with a `ThrottleConfig` -> the same answer (buckets refilled, counters
//!   zeroed); `DELETE` switches throttling off (204).
//! - `GET /_mock/chaos` -> `{"config":{...}|null,"stats":{"requests","throttled",
//!   "serviceUnavailable","gatewayTimeout","reset"}}`
//! - `POST` (or `PUT`) `/_mock/chaos` with a `ChaosConfig` -> the same answer (generator reseeded,
//!   counters zeroed); `DELETE` switches chaos off (204).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use serde_json::{Value, json};

use super::{control_error, parse};
use crate::chaos::ChaosConfig;
use crate::state::AppState;
use crate::throttle::ThrottleConfig;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/_mock/throttling",
            get(get_throttling)
                .put(put_throttling)
                .delete(delete_throttling),
        )
        .route(
            "/_mock/chaos",
            get(get_chaos)
                .post(put_chaos)
                .put(put_chaos)
                .delete(delete_chaos),
        )
}

pub(crate) fn throttling_view(s: &AppState) -> Value {
    let users = s.directory.lock().len() as u64;
    let t = s.throttler.lock();
    json!({
        "config": t.config(),
        "limits": t.effective_limits(users),
        "stats": t.stats(),
    })
}

async fn get_throttling(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(throttling_view(&s))
}

async fn put_throttling(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let config: ThrottleConfig = match parse(&body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    if let Err(e) = config.validate() {
        return control_error(StatusCode::BAD_REQUEST, &e);
    }
    s.throttler.lock().configure(config);
    Json(throttling_view(&s)).into_response()
}

async fn delete_throttling(State(s): State<Arc<AppState>>) -> StatusCode {
    s.throttler.lock().configure(ThrottleConfig::default());
    StatusCode::NO_CONTENT
}

fn chaos_view(s: &AppState) -> Value {
    let c = s.chaos.lock();
    json!({"config": c.config(), "stats": c.stats()})
}

async fn get_chaos(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(chaos_view(&s))
}

async fn put_chaos(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let config: ChaosConfig = match parse(&body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    if let Err(e) = config.validate() {
        return control_error(StatusCode::BAD_REQUEST, &e);
    }
    s.chaos.lock().configure(Some(config));
    Json(chaos_view(&s)).into_response()
}

async fn delete_chaos(State(s): State<Arc<AppState>>) -> StatusCode {
    s.chaos.lock().configure(None);
    StatusCode::NO_CONTENT
}
