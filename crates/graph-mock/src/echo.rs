//! Generic routes for `Invoke-MgGraphRequest` tests, under `/{beta|v1.0}/mock/`: they answer
//! whatever a generic Graph client needs to see (an echo of the request, a plain-text and a
//! binary body, an empty answer, an error with a chosen status) behind the same token check as
//! the Graph routes. Queued faults apply to them (the fallback handler runs them first);
//! throttling and chaos do not.
//!
//! - `ANY /{v}/mock/echo`: 200, Graph's JSON content type, `x-mock-echo: echoed`, a body naming
//!   the method, the raw path and query, the request headers (without `authorization`, whose
//!   presence is `authorized`), the body as text, and a few typed values (a date, a number, a
//!   nested object, an array) for conversion tests.
//! - `GET /{v}/mock/text`: `text/plain` `plain text answer`.
//! - `GET /{v}/mock/bytes`: `application/octet-stream`, the 256 byte values in order, with a
//!   `Content-Disposition` file name of `../escape/bytes.bin`.
//! - `ANY /{v}/mock/empty`: 204 without a body.
//! - `ANY /{v}/mock/status/{code}`: that status with a Graph error document, code
//!   `Mock_Status{code}`.

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::state::AppState;
use crate::wire::{self, Correlation};

/// A route of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EchoRoute {
    Echo,
    Text,
    Bytes,
    Empty,
    Status(u16),
}

/// The route a raw path names, if it is one of these.
pub(crate) fn route(raw_path: &str) -> Option<EchoRoute> {
    let rest = raw_path
        .strip_prefix("/beta/mock/")
        .or_else(|| raw_path.strip_prefix("/v1.0/mock/"))?;
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["echo"] => Some(EchoRoute::Echo),
        ["text"] => Some(EchoRoute::Text),
        ["bytes"] => Some(EchoRoute::Bytes),
        ["empty"] => Some(EchoRoute::Empty),
        ["status", code] => code
            .parse::<u16>()
            .ok()
            .filter(|code| (200..600).contains(code))
            .map(EchoRoute::Status),
        _ => None,
    }
}

/// What the request brought.
pub(crate) struct EchoCall<'a> {
    pub method: &'a Method,
    pub raw_path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub corr: &'a Correlation,
}

/// Answers one request to a route of this module.
pub(crate) fn answer(state: &AppState, route: &EchoRoute, call: &EchoCall<'_>) -> Response {
    let authorization = call
        .headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if let Err(error) = state.signer.verify(authorization, now) {
        return wire::error_response(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            error.message(),
            call.corr,
        );
    }
    match route {
        EchoRoute::Echo => echo(call),
        EchoRoute::Text => plain(
            StatusCode::OK,
            "text/plain",
            Body::from("plain text answer"),
        ),
        EchoRoute::Bytes => {
            let mut response = plain(
                StatusCode::OK,
                "application/octet-stream",
                Body::from((0..=255u8).collect::<Vec<u8>>()),
            );
            // A file name that tries to leave the folder: clients must keep only the name.
            response.headers_mut().insert(
                CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"../escape/bytes.bin\""),
            );
            response
        }
        EchoRoute::Empty => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        EchoRoute::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_REQUEST);
            wire::error_response(
                status,
                &format!("Mock_Status{code}"),
                &format!("The mock answered {code} as asked."),
                call.corr,
            )
        }
    }
}

fn echo(call: &EchoCall<'_>) -> Response {
    let mut headers = Map::new();
    for (name, value) in call.headers {
        if name != AUTHORIZATION {
            headers.insert(
                name.as_str().to_owned(),
                Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            );
        }
    }
    let body = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#mockEcho",
        "method": call.method.as_str(),
        "path": call.raw_path,
        "query": call.query,
        "authorized": call.headers.contains_key(AUTHORIZATION),
        "headers": Value::Object(headers),
        "body": String::from_utf8_lossy(call.body),
        "bodyLength": call.body.len(),
        "createdDateTime": "2024-05-01T10:20:30Z",
        "count": 42,
        "ratio": 0.5,
        "nested": {"inner": {"leaf": "deep"}},
        "list": [1, "two", {"three": 3}],
        "nothing": null,
    });
    let mut response = wire::json_response(StatusCode::OK, &body, wire::ODATA_JSON);
    response
        .headers_mut()
        .insert("x-mock-echo", HeaderValue::from_static("echoed"));
    response
}

fn plain(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_recognised_under_both_versions() {
        assert_eq!(route("/v1.0/mock/echo"), Some(EchoRoute::Echo));
        assert_eq!(route("/beta/mock/bytes"), Some(EchoRoute::Bytes));
        assert_eq!(route("/beta/mock/status/404"), Some(EchoRoute::Status(404)));
        assert_eq!(route("/beta/mock/status/99"), None);
        assert_eq!(route("/beta/users/mock"), None);
        assert_eq!(route("/v2/mock/echo"), None);
    }
}
