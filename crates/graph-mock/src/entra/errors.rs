//! Entra ID's OAuth error answer, byte-compatible with the real one (graph-wire.md):
//! `{"error","error_description":"AADSTSnnnn: ...\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ...",
//! "error_codes":[n],"timestamp","trace_id","correlation_id","error_uri"}`, plus the headers Entra
//! sends with every token answer. The correlation id echoes the caller's `client-request-id`, as
//! Entra does, so a client can tie a failure to its own logs.

use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

/// One refusal: HTTP status, OAuth `error`, AADSTS number and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AadError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub message: String,
}

impl AadError {
    /// A 400.
    pub fn bad(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        AadError {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
        }
    }

    /// A 401 `invalid_client`.
    pub fn client(code: u32, message: impl Into<String>) -> Self {
        AadError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            code,
            message: message.into(),
        }
    }

    /// `AADSTS900144`: a required form parameter is missing.
    pub fn missing(parameter: &str) -> Self {
        AadError::bad(
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    pub fn response(&self, ids: &EntraIds) -> Response {
        let now = OffsetDateTime::now_utc();
        let timestamp = entra_timestamp(now);
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {timestamp}",
            self.code, self.message, ids.trace_id, ids.correlation_id
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": ids.trace_id,
            "correlation_id": ids.correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        json_answer(self.status, &body, ids)
    }
}

/// `trace_id` (new per request) and `correlation_id` (the caller's `client-request-id`, else new).
#[derive(Debug, Clone)]
pub(crate) struct EntraIds {
    pub trace_id: String,
    pub correlation_id: String,
}

impl EntraIds {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let correlation_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        EntraIds {
            trace_id: uuid::Uuid::new_v4().to_string(),
            correlation_id,
        }
    }
}

/// `2025-02-13 10:17:06Z`, Entra's timestamp format.
pub(crate) fn entra_timestamp(now: OffsetDateTime) -> String {
    now.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

/// A JSON answer with Entra's headers: no caching, and the ids a support case asks for.
pub(crate) fn json_answer(status: StatusCode, body: &Value, ids: &EntraIds) -> Response {
    let mut resp = crate::wire::json_response(status, body, "application/json; charset=utf-8");
    let h = resp.headers_mut();
    let pairs = [
        ("cache-control", "no-store, no-cache"),
        ("pragma", "no-cache"),
        ("x-ms-request-id", ids.trace_id.as_str()),
        ("client-request-id", ids.correlation_id.as_str()),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamp_shape() {
        assert_eq!(
            entra_timestamp(datetime!(2025-02-13 10:17:06 UTC)),
            "2025-02-13 10:17:06Z"
        );
    }
}
