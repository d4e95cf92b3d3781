//! The one error type of the core: what went wrong, in terms a caller can act on.
//!
//! Errors are data until the PowerShell shim: every field a responder needs to trace a
//! failure with Microsoft support (HTTP status, Graph code, request-id, client-request-id,
//! date) is kept, and the shim picks the error id and category from [`ErrorKind`] and status.

use serde::{Deserialize, Serialize};

use crate::exchange::Exchange;
use crate::redact::clean;

/// The coarse class of a failure; stable, because the shim maps it to ErrorCategory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The caller passed something unusable (empty id, bad URL, malformed token).
    InvalidArgument,
    /// No sign-in context exists for the call.
    NotConnected,
    /// The credential cannot be used (expired or malformed token).
    Authentication,
    /// Graph answered with an error status; `status` and `code` say which.
    Graph,
    /// Graph could not be reached (DNS, connect, TLS, connection reset).
    Network,
    /// The proxy wants credentials, or refused the ones given (HTTP 407).
    ProxyAuthentication,
    /// Graph did not answer within the client timeout.
    Timeout,
    /// The caller cancelled the call (Ctrl+C).
    Cancelled,
    /// An answer that is not Graph's (or Entra's) answer to this request: a 2xx that is not
    /// the documented success, a body over the size cap. Never a success, never retried.
    UnexpectedResponse,
    /// A redirect that would have carried the request (and its credential, headers or body)
    /// to another origin, or any redirect of a token request.
    RedirectRefused,
    /// A `-Headers` entry the module cannot send (a reserved or malformed header).
    InvalidHeader,
    /// `-Verify` could not show that the revocation took effect: the user read back still has
    /// sessions valid from before it, the read failed, or the revocation time is unknown.
    RevocationNotConfirmed,
    /// A journal path the module refuses to write (a symbolic link, not a regular file).
    JournalRefused,
    /// The journal could not be read or written (permissions, disk full, missing folder).
    JournalIo,
    /// A request URL that is not on the session's Graph origin (`Invoke-MgGraphRequest -Uri`):
    /// refused before sending, because the token only ever goes to that origin.
    OutsideGraphEndpoint,
    /// A defect in this module; the message says what was caught.
    Internal,
}

/// A failure, with everything known about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphError {
    pub kind: ErrorKind,
    /// One sentence saying what happened and, where possible, what to do.
    pub message: String,
    /// What the service said, when a request was sent (boxed: errors travel in `Result`s
    /// on hot paths and should stay small).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub service: Option<Box<ServiceDetail>>,
}

/// The service-side facts of a failure: what support needs to find it in Graph's logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDetail {
    /// HTTP status Graph answered with, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Graph error code such as `Request_ResourceNotFound`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// Service time of the failure as Graph reported it (UTC, no zone suffix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The redacted exchange, when the caller asked for a trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

impl GraphError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> GraphError {
        GraphError {
            kind,
            message: message.into(),
            service: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> GraphError {
        GraphError::new(ErrorKind::InvalidArgument, message)
    }

    pub fn cancelled() -> GraphError {
        GraphError::new(ErrorKind::Cancelled, "the operation was cancelled")
    }

    /// Builds the error for a non-success answer from Graph. The body is parsed as a Graph
    /// error document when it is one; otherwise a short, redacted excerpt is kept.
    pub fn from_graph_response(
        status: u16,
        body: &[u8],
        header_request_id: Option<String>,
        client_request_id: String,
    ) -> GraphError {
        let parsed = serde_json::from_slice::<GraphErrorDocument>(body).ok();
        let (code, message, inner) = match parsed {
            Some(document) => (
                document.error.code,
                document.error.message,
                document.error.inner_error,
            ),
            None => (
                None,
                non_graph_body_message(status, body),
                InnerError::default(),
            ),
        };
        GraphError {
            kind: ErrorKind::Graph,
            message: message.unwrap_or_else(|| format!("Graph answered HTTP {status}")),
            service: Some(Box::new(ServiceDetail {
                status: Some(status),
                code: Some(code.unwrap_or_else(|| "UnknownError".to_owned())),
                request_id: inner.request_id.or(header_request_id),
                client_request_id: Some(inner.client_request_id.unwrap_or(client_request_id)),
                date: inner.date,
                exchange: None,
            })),
        }
    }

    /// The error as it may be shown: the message through [`clean`] (no secret, no terminal
    /// control), the Graph code reduced to the characters of an identifier (it becomes part of
    /// PowerShell's `FullyQualifiedErrorId`), the trace fields cleaned and kept short. Applied
    /// once, where an error leaves the engine (the C ABI, a bulk completion).
    pub fn for_display(mut self) -> GraphError {
        self.message = clean(&self.message);
        if let Some(service) = self.service.as_deref_mut() {
            service.code = service.code.take().map(|code| identifier(&code));
            for field in [
                &mut service.request_id,
                &mut service.client_request_id,
                &mut service.date,
            ] {
                *field = field
                    .take()
                    .map(|value| clean(&value).chars().take(TRACE_FIELD_CHARS).collect());
            }
        }
        self
    }

    /// The service-side facts, empty when no request reached Graph.
    pub fn service(&self) -> ServiceDetail {
        self.service.as_deref().cloned().unwrap_or_default()
    }
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for GraphError {}

/// Longest request-id, client-request-id or date kept (a GUID or a timestamp is far shorter).
const TRACE_FIELD_CHARS: usize = 64;

/// Longest Graph code kept (Graph's are a few dozen characters).
const CODE_CHARS: usize = 80;

/// A Graph code as an identifier: letters, digits, `_`, `.` and `-`; anything else becomes `_`.
fn identifier(code: &str) -> String {
    let code: String = code
        .chars()
        .take(CODE_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if code.is_empty() {
        "UnknownError".to_owned()
    } else {
        code
    }
}

/// Graph's error document: `{"error":{"code","message","innerError":{...}}}`.
#[derive(Deserialize)]
struct GraphErrorDocument {
    error: GraphErrorBody,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    code: Option<String>,
    message: Option<String>,
    #[serde(rename = "innerError", default)]
    inner_error: InnerError,
}

#[derive(Deserialize, Default)]
struct InnerError {
    date: Option<String>,
    #[serde(rename = "request-id")]
    request_id: Option<String>,
    #[serde(rename = "client-request-id")]
    client_request_id: Option<String>,
}

/// A proxy or gateway may answer with HTML or plain text; keep enough to diagnose it,
/// never the whole page, and never anything that looks like a credential.
fn non_graph_body_message(status: u16, body: &[u8]) -> Option<String> {
    const EXCERPT_CHARS: usize = 200;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return Some(format!("Graph answered HTTP {status} with an empty body"));
    }
    let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
    Some(format!(
        "Graph answered HTTP {status} with a body that is not a Graph error: {}",
        clean(&excerpt)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_error_document_is_parsed_into_fields() {
        let body = br#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"2025-02-13T10:17:06","request-id":"11111111-1111-1111-1111-111111111111","client-request-id":"22222222-2222-2222-2222-222222222222"}}}"#;
        let error = GraphError::from_graph_response(404, body, None, "ignored".into());
        assert_eq!(error.kind, ErrorKind::Graph);
        let service = error.service();
        assert_eq!(service.status, Some(404));
        assert_eq!(service.code.as_deref(), Some("Request_ResourceNotFound"));
        assert!(error.message.starts_with("Resource 'x' does not exist"));
        assert_eq!(
            service.request_id.as_deref(),
            Some("11111111-1111-1111-1111-111111111111")
        );
        assert_eq!(
            service.client_request_id.as_deref(),
            Some("22222222-2222-2222-2222-222222222222")
        );
        assert_eq!(service.date.as_deref(), Some("2025-02-13T10:17:06"));
    }

    #[test]
    fn headers_fill_in_what_the_body_lacks() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#;
        let error =
            GraphError::from_graph_response(403, body, Some("req-1".into()), "client-1".into());
        let service = error.service();
        assert_eq!(service.request_id.as_deref(), Some("req-1"));
        assert_eq!(service.client_request_id.as_deref(), Some("client-1"));
        assert_eq!(service.date, None);
    }

    #[test]
    fn non_json_body_keeps_a_redacted_excerpt() {
        let body = format!(
            "<html>bad gateway Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl {}</html>",
            "x".repeat(500)
        );
        let error = GraphError::from_graph_response(502, body.as_bytes(), None, "c".into());
        assert_eq!(error.service().code.as_deref(), Some("UnknownError"));
        assert!(error.message.contains("HTTP 502"), "{}", error.message);
        assert!(!error.message.contains("eyJ"), "{}", error.message);
        assert!(error.message.len() < 400, "{}", error.message);
    }

    #[test]
    fn errors_leave_the_engine_without_secrets_or_terminal_control() {
        let body = "{\"error\":{\"code\":\"Bad\\u001b[31m,Code\\r\\nX\",\"message\":\"token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln \\u001b]0;owned\\u0007\\r\\nforged\"}}";
        let error = GraphError::from_graph_response(
            400,
            body.as_bytes(),
            Some("id\u{1b}[2J".into()),
            "c".into(),
        )
        .for_display();
        assert!(!error.message.contains("eyJ"), "{}", error.message);
        assert!(
            !error.message.chars().any(char::is_control),
            "{:?}",
            error.message
        );
        let service = error.service();
        assert_eq!(service.code.as_deref(), Some("Bad__31m_Code__X"));
        assert!(!service.request_id.unwrap_or_default().contains('\u{1b}'));
    }

    #[test]
    fn empty_body_says_so() {
        let error = GraphError::from_graph_response(500, b"", None, "c".into());
        assert!(error.message.contains("empty body"));
    }

    #[test]
    fn error_serializes_camel_case_without_absent_fields() {
        let json = serde_json::to_value(GraphError::invalid_argument("bad")).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"kind":"InvalidArgument","message":"bad"})
        );
    }
}
