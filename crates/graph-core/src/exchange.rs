//! Requests and responses as plain data: what a script's pipeline steps see and change, and
//! the redacted record of an exchange that `-Debug` shows.

use serde::{Deserialize, Serialize};

use crate::redact::clean;

/// A request the module is about to send, without its credential (added at send time only,
/// so neither a pipeline step nor a trace ever holds the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreparedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: String,
}

impl PreparedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: String,
    /// The redacted exchange, when the caller asked for a trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// One request and its answer, safe to print: credentials replaced by `[redacted]`, body cut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
    pub elapsed_ms: u64,
}

/// Longest body excerpt kept in a trace.
const TRACE_BODY_CHARS: usize = 2048;

/// Headers whose values are credentials in any context.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

impl Exchange {
    pub(crate) fn record(
        request: &PreparedRequest,
        request_headers: &[(String, String)],
        response: &RawResponse,
        elapsed_ms: u64,
    ) -> Exchange {
        Exchange {
            method: request.method.clone(),
            url: request.url.clone(),
            request_headers: redact_headers(request_headers),
            status: response.status,
            response_headers: redact_headers(&response.headers),
            response_body: clean(
                &response
                    .body
                    .chars()
                    .take(TRACE_BODY_CHARS)
                    .collect::<String>(),
            ),
            elapsed_ms,
        }
    }
}

fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = if SECRET_HEADERS
                .iter()
                .any(|secret| name.eq_ignore_ascii_case(secret))
            {
                match value.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} [redacted]"),
                    None => "[redacted]".to_owned(),
                }
            } else {
                clean(value)
            };
            (name.clone(), value)
        })
        .collect()
}

pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_a_trace() {
        let request = PreparedRequest {
            method: "POST".into(),
            url: "https://graph.microsoft.com/beta/users/a/invalidateAllRefreshTokens".into(),
            headers: vec![],
            body: String::new(),
        };
        let sent = vec![
            (
                "authorization".to_owned(),
                "Bearer eyJ0.eyJ1.c2ln".to_owned(),
            ),
            ("proxy-authorization".to_owned(), "Basic dTpw".to_owned()),
            ("x-custom".to_owned(), "visible".to_owned()),
        ];
        let response = RawResponse {
            status: 200,
            headers: vec![("set-cookie".into(), "session=abc".into())],
            body: "{\"value\":true}".into(),
            exchange: None,
        };
        let exchange = Exchange::record(&request, &sent, &response, 3);
        let text = serde_json::to_string(&exchange).expect("json");
        assert!(text.contains("Bearer [redacted]"), "{text}");
        assert!(text.contains("Basic [redacted]"), "{text}");
        assert!(
            !text.contains("eyJ0") && !text.contains("dTpw") && !text.contains("abc"),
            "{text}"
        );
        assert!(text.contains("visible"));
    }
}
