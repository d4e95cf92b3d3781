//! Answering one `$batch` item: it is journaled as a request of its own, checked for what only a
//! batch item can get wrong (a write without `body` or `Content-Type`, a failed dependency), then
//! answered by the same pipeline as a direct request, inheriting the batch's `Authorization`.

use std::time::Duration;

use axum::body::to_bytes;
use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Map, Value, json};

use super::envelope::Item;
use crate::pipeline::{self, Call, Decision, Outcome, Surface};
use crate::recording::{Arrival, BatchRef, Departure};
use crate::route::{self, ApiVersion};
use crate::state::AppState;
use crate::wire::{self, Correlation};

/// One item's answer, as it goes into `responses`.
pub(crate) struct ItemAnswer {
    pub id: String,
    pub status: u16,
    pub headers: Map<String, Value>,
    pub body: Option<Value>,
    pub extra_latency: Duration,
    pub garbled: bool,
}

impl ItemAnswer {
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({"id": self.id, "status": self.status, "headers": self.headers});
        if let (Some(body), Some(obj)) = (&self.body, v.as_object_mut()) {
            obj.insert("body".to_owned(), body.clone());
        }
        v
    }
}

/// What the item inherits from its batch.
pub(crate) struct BatchContext<'a> {
    pub version: ApiVersion,
    pub headers: &'a HeaderMap,
    pub batch_seq: u64,
}

/// Answers `item`; `failed_dependency` names a dependency that did not succeed, if any.
pub(crate) async fn answer(
    state: &AppState,
    ctx: &BatchContext<'_>,
    item: &Item,
    failed_dependency: Option<&str>,
) -> ItemAnswer {
    let own_headers = header_map(&item.headers);
    let (raw_path, query) = item_path(ctx.version, &item.url);
    let parsed = route::parse(&raw_path);
    let body_text = item.body.as_ref().map(Value::to_string).unwrap_or_default();
    let ticket = state.recorder.lock().begin(&Arrival {
        method: &item.method,
        raw_path: &raw_path,
        query: query.as_deref(),
        headers: &own_headers,
        body: body_text.as_bytes(),
        user_id: parsed.user_id(),
        batch: Some(BatchRef {
            batch_id: ctx.batch_seq,
            item_id: &item.id,
        }),
    });

    // The batch's headers (its token above all) with the item's own on top.
    let mut headers = ctx.headers.clone();
    headers.remove(http::header::CONTENT_TYPE);
    headers.remove(http::header::CONTENT_LENGTH);
    for (name, value) in &own_headers {
        headers.insert(name.clone(), value.clone());
    }
    let corr = Correlation::from_headers(&headers);
    let bad_request = |message: String| {
        Decision::from(wire::error_response(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &message,
            &corr,
        ))
    };

    let decision = if let Some(dep) = failed_dependency {
        Decision::from(wire::error_response(
            StatusCode::FAILED_DEPENDENCY,
            "FailedDependency",
            &format!("The request depends on request '{dep}', which failed."),
            &corr,
        ))
    } else if item.is_write() && (item.body.is_none() || item.header("content-type").is_none()) {
        bad_request(format!(
            "Write request id : {} does not contain Content-Type header or body.",
            item.id
        ))
    } else if raw_path.is_empty() {
        bad_request(format!("Invalid request URL '{}'.", item.url))
    } else {
        let method =
            Method::from_bytes(item.method.to_ascii_uppercase().as_bytes()).unwrap_or(Method::POST);
        let call = Call {
            method: &method,
            headers: &headers,
            raw_path: &raw_path,
            parsed: &parsed,
            corr: &corr,
        };
        match pipeline::decide(state, &call, Surface::BatchItem) {
            Outcome::Answer(d) => d,
            // Items never get resets (the pipeline turns them into 504s); be safe anyway.
            Outcome::Reset { .. } => Decision::from(wire::error_response(
                StatusCode::GATEWAY_TIMEOUT,
                "GatewayTimeout",
                "The gateway did not receive a timely response.",
                &corr,
            )),
        }
    };

    let status = decision.response.status().as_u16();
    state.recorder.lock().finish(
        ticket,
        Departure {
            status: Some(status),
            user_id: decision.resolved_user.as_deref(),
            injected: decision.injected,
        },
    );
    let (headers, body) = split_response(decision.response).await;
    ItemAnswer {
        id: item.id.clone(),
        status,
        headers,
        body,
        extra_latency: decision.extra_latency,
        garbled: decision.garbled,
    }
}

/// The raw path an item's relative url names under the batch's version, and its query. Graph
/// resolves item urls against the version (`/users/x/...` or `users/x/...`), parses them as URIs
/// (so an unencoded `#` starts a fragment) and refuses absolute urls (empty path here).
fn item_path(version: ApiVersion, url: &str) -> (String, Option<String>) {
    if url.contains("://") {
        return (String::new(), None);
    }
    let url = url.split('#').next().unwrap_or_default();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (url, None),
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    (format!("/{}/{path}", version.as_str()), query)
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
    }
    map
}

/// The item's `headers` (canonical casing, as Graph writes them) and `body` (the JSON answer; a
/// non-JSON one as a string; none when empty).
async fn split_response(response: Response) -> (Map<String, Value>, Option<Value>) {
    let (parts, body) = response.into_parts();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(canonical(name.as_str()), Value::String(value));
    }
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let body = if bytes.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        )
    };
    (headers, body)
}

/// `retry-after` -> `Retry-After`; Graph's own `x-ms-*` headers stay lower-case.
fn canonical(name: &str) -> String {
    if name.starts_with("x-ms-") {
        return name.to_owned();
    }
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_urls_resolve_under_the_version() {
        let beta = ApiVersion::Beta;
        assert_eq!(
            item_path(beta, "/users/a/invalidateAllRefreshTokens"),
            ("/beta/users/a/invalidateAllRefreshTokens".to_owned(), None)
        );
        assert_eq!(
            item_path(beta, "users('a')/x?y=1"),
            ("/beta/users('a')/x".to_owned(), Some("y=1".to_owned()))
        );
        assert_eq!(
            item_path(ApiVersion::V1, "/users/a#EXT#@t/x").0,
            "/v1.0/users/a"
        );
        assert_eq!(item_path(beta, "https://graph.microsoft.com/beta/x").0, "");
    }

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical("retry-after"), "Retry-After");
        assert_eq!(canonical("content-type"), "Content-Type");
        assert_eq!(canonical("x-ms-throttle-scope"), "x-ms-throttle-scope");
    }
}
