//! The Microsoft Graph wire format as the mock writes it: the error envelope, the success body of
//! the revoke actions, and the correlation headers every Graph answer carries. Kept apart from the
//! routing so that faults, throttling and `$batch` (later) all produce byte-identical answers.

use axum::body::Body;
use axum::response::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, DATE, HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, header};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::route::ApiVersion;

/// Content type of a successful OData action answer, exactly as Graph sends it.
pub const ODATA_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// `WWW-Authenticate` challenge Graph attaches to every 401.
pub const WWW_AUTHENTICATE_VALUE: &str = "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";

/// A diagnostic blob shaped like the real one; clients log it, none parse it.
const AGS_DIAGNOSTIC: &str = r#"{"ServerInfo":{"DataCenter":"Loopback","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"GRAPH-MOCK"}}"#;

/// The ids that tie one answer to the service's logs: `request-id` is new for every request, and
/// `client-request-id` echoes the caller's (Graph invents one when the caller sent none).
#[derive(Debug, Clone)]
pub(crate) struct Correlation {
    pub request_id: String,
    pub client_request_id: String,
}

impl Correlation {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        Correlation {
            request_id: uuid::Uuid::new_v4().to_string(),
            client_request_id,
        }
    }
}

/// `2025-02-13T10:17:06`: Graph's `innerError.date` is UTC without any zone suffix.
pub(crate) fn inner_error_date(now: OffsetDateTime) -> String {
    now.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    ))
    .unwrap_or_default()
}

/// RFC 7231 IMF-fixdate for the `Date` header (`time` has no well-known format for it).
pub(crate) fn http_date(now: OffsetDateTime) -> String {
    now.format(format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    ))
    .unwrap_or_default()
}

/// The Graph error envelope. `inner_extra` goes first inside `innerError` (throttling answers carry
/// `code`/`status` there before the date and ids).
pub(crate) fn error_body(
    code: &str,
    message: &str,
    corr: &Correlation,
    inner_extra: &[(&str, &str)],
) -> Value {
    let mut inner = Map::new();
    for (k, v) in inner_extra {
        inner.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    inner.insert(
        "date".to_owned(),
        Value::String(inner_error_date(OffsetDateTime::now_utc())),
    );
    inner.insert(
        "request-id".to_owned(),
        Value::String(corr.request_id.clone()),
    );
    inner.insert(
        "client-request-id".to_owned(),
        Value::String(corr.client_request_id.clone()),
    );
    json!({"error": {"code": code, "message": message, "innerError": Value::Object(inner)}})
}

/// A complete Graph error answer; a 401 also gets the `WWW-Authenticate` challenge.
pub(crate) fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    corr: &Correlation,
) -> Response {
    let extra: &[(&str, &str)] = if status == StatusCode::TOO_MANY_REQUESTS {
        &[("code", "429"), ("status", "429")]
    } else {
        &[]
    };
    let body = error_body(code, message, corr, extra);
    let mut resp = json_response(status, &body, "application/json");
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(WWW_AUTHENTICATE_VALUE),
        );
    }
    resp
}

/// The answer of a successful revoke: 200 with an `Edm.Boolean` OData payload.
pub(crate) fn success_response(version: ApiVersion) -> Response {
    let body = json!({
        "@odata.context": format!("https://graph.microsoft.com/{}/$metadata#Edm.Boolean", version.as_str()),
        "value": true,
    });
    json_response(StatusCode::OK, &body, ODATA_JSON)
}

/// The success body of the revoke action cut in the middle of a literal: what a client sees when
/// a proxy or a crashing front end truncates the answer.
pub(crate) fn truncated_success_body(version: ApiVersion) -> String {
    let full = format!(
        r#"{{"@odata.context":"https://graph.microsoft.com/{}/$metadata#Edm.Boolean","value":true}}"#,
        version.as_str()
    );
    full.get(..full.len() - 4).unwrap_or_default().to_owned()
}

/// Serialises `body` with the given content type.
pub(crate) fn json_response(status: StatusCode, body: &Value, content_type: &str) -> Response {
    let text = serde_json::to_string(body).unwrap_or_default();
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(CONTENT_TYPE, v);
    }
    resp
}

/// The default error (code, message) Graph uses for a bare status, for faults queued without a body.
pub(crate) fn default_error_for(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("BadRequest", "Bad request."),
        401 => (
            "InvalidAuthenticationToken",
            "Access token validation failure.",
        ),
        403 => (
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        404 => ("Request_ResourceNotFound", "Resource not found."),
        409 => ("Conflict", "The request conflicts with the current state."),
        429 => ("TooManyRequests", "Please retry again later."),
        500 => ("InternalServerError", "An internal server error occurred."),
        502 => ("BadGateway", "Bad gateway."),
        503 => (
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry later.",
        ),
        504 => (
            "GatewayTimeout",
            "The gateway did not receive a timely response.",
        ),
        _ => ("UnknownError", ""),
    }
}

/// Adds the headers every Graph answer carries, without overriding any an injected fault set on
/// purpose (a fault may want to send a broken `request-id`, for instance).
pub(crate) fn add_common_headers(headers: &mut HeaderMap, corr: &Correlation) {
    let now = OffsetDateTime::now_utc();
    let pairs: [(HeaderName, String); 5] = [
        (
            HeaderName::from_static("request-id"),
            corr.request_id.clone(),
        ),
        (
            HeaderName::from_static("client-request-id"),
            corr.client_request_id.clone(),
        ),
        (DATE, http_date(now)),
        (
            HeaderName::from_static("x-ms-ags-diagnostic"),
            AGS_DIAGNOSTIC.to_owned(),
        ),
        (CACHE_CONTROL, "no-cache".to_owned()),
    ];
    for (name, value) in pairs {
        if headers.contains_key(&name) {
            continue;
        }
        // A client-request-id that was a valid header value stays valid; anything else is skipped
        // rather than failing the whole answer.
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_have_graph_shapes() {
        let t = datetime!(2025-02-13 10:17:06 UTC);
        assert_eq!(inner_error_date(t), "2025-02-13T10:17:06");
        assert_eq!(http_date(t), "Thu, 13 Feb 2025 10:17:06 GMT");
    }

    #[test]
    fn error_body_has_exact_key_order() {
        let corr = Correlation {
            request_id: "r".into(),
            client_request_id: "c".into(),
        };
        let body = error_body("X", "m", &corr, &[]);
        let text = serde_json::to_string(&body).unwrap_or_default();
        assert!(
            text.starts_with(r#"{"error":{"code":"X","message":"m","innerError":{"date":""#),
            "{text}"
        );
        assert!(
            text.ends_with(r#""request-id":"r","client-request-id":"c"}}}"#),
            "{text}"
        );
    }
}
