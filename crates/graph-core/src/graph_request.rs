//! Any Graph call, for `Invoke-MgGraphRequest`: a method, a URI, headers and body bytes from
//! the caller; the status, headers and body bytes of Graph's answer back.
//!
//! The URI is resolved here, not in the shim, because where the token goes is the engine's
//! decision ([`resolve_request_url`]): a relative URI (`v1.0/users/x`, `/beta/me`) is placed
//! on the session's Graph endpoint; an absolute one must be on that endpoint's origin (scheme,
//! host, port), or it is refused before anything is sent (`OutsideGraphEndpoint`). The request
//! then goes through the same machinery as every Graph call ([`crate::send`]): retries and
//! throttling, the proxy, same-origin redirects only, timeouts, and a size cap that is larger
//! than the module's own calls need ([`MAX_GRAPH_REQUEST_ANSWER_BYTES`]), because a page of
//! users or a photo is bigger than a revocation answer.
//!
//! A non-success status is not an error of this call: the caller decides (`-SkipHttpErrorCheck`),
//! so the answer carries the status, and, for a status outside 2xx, Graph's error already
//! parsed and cleaned ([`GraphError::for_display`]). Not handled yet: following a redirect to
//! another origin (report downloads), streaming bodies larger than the cap.

use serde::{Deserialize, Serialize, Serializer};
use url::Url;
use uuid::Uuid;

use crate::error::{ErrorKind, GraphError};
use crate::exchange::{Exchange, PreparedRequest, RawResponse, find_header};
use crate::request_context::RequestContext;
use crate::request_options::RequestOptions;
use crate::send::{Outgoing, proxy_authentication_error, with_retries};
use crate::session::Session;

/// Largest answer body read for `Invoke-MgGraphRequest`: a page of 999 users with many
/// properties is a few MiB, a profile photo well under one. More is refused unread.
pub const MAX_GRAPH_REQUEST_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// The HTTP methods `Invoke-MgGraphRequest` sends (the official `GraphRequestMethod`).
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The API versions a relative URI must start with.
const API_VERSIONS: [&str; 2] = ["v1.0", "beta"];

/// What the caller wants sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphRequest {
    pub method: String,
    /// Relative (`v1.0/users/x`, `/beta/me`) or absolute on the session's Graph origin.
    pub uri: String,
    /// Extra headers, `Content-Type` included; validated like `-Headers` of every cmdlet.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// What Graph answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphAnswer {
    /// The URL the request was sent to, after resolution.
    pub url: String,
    pub status: u16,
    /// Every response header in the order received (names lower-case, values cleaned).
    pub headers: Vec<(String, String)>,
    /// The body exactly as received (base64 in JSON).
    #[serde(serialize_with = "as_base64")]
    pub body: Vec<u8>,
    pub client_request_id: String,
    /// Graph's error for a status outside 2xx, cleaned for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<GraphError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

/// Resolves `uri` against the Graph endpoint and checks it stays on that endpoint's origin.
///
/// A string with a scheme is absolute; anything else (including `/beta/me`, which .NET on Unix
/// would take for a file path) is a path whose first segment must be an API version, placed
/// under the endpoint (which may itself have a path, for a custom environment).
pub fn resolve_request_url(graph_endpoint: &str, uri: &str) -> Result<Url, GraphError> {
    let endpoint = Url::parse(graph_endpoint).map_err(|_| {
        GraphError::invalid_argument(format!(
            "the session's Graph endpoint '{graph_endpoint}' is not an absolute URL: run Connect-MgGraph again"
        ))
    })?;
    let uri = uri.trim();
    if uri.is_empty() {
        return Err(GraphError::invalid_argument(
            "the URI is empty: pass a Graph path such as v1.0/users or a URL on the connected Graph endpoint",
        ));
    }
    if uri.chars().any(char::is_control) {
        return Err(GraphError::invalid_argument(
            "the URI contains control characters: remove them",
        ));
    }
    let target = match Url::parse(uri) {
        Ok(absolute) if !uri.starts_with('/') => absolute,
        _ => relative_url(&endpoint, uri)?,
    };
    if !target.username().is_empty() || target.password().is_some() {
        // Never echoed: it may be a password. Sent, it would become a second Authorization.
        return Err(GraphError::invalid_argument(
            "the URI carries a user name or password before its host: remove it; requests are signed with the connected token",
        ));
    }
    if target.origin() != endpoint.origin() {
        return Err(outside_graph_endpoint(&target, &endpoint));
    }
    Ok(target)
}

impl Session {
    /// Sends one request for `Invoke-MgGraphRequest` and returns Graph's answer, whatever
    /// its status. 429 and 503 are retried as for every call; a 504 and a broken connection
    /// only for methods that can be repeated safely (GET, PUT, DELETE), because the request may
    /// have reached Graph and a resent POST or PATCH could create or change something twice.
    pub async fn graph_request(
        &self,
        request: &GraphRequest,
        body: &[u8],
        options: &RequestOptions,
    ) -> Result<GraphAnswer, GraphError> {
        let method = request.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(GraphError::invalid_argument(format!(
                "'{}' is not a method Invoke-MgGraphRequest sends: use GET, POST, PUT, PATCH or DELETE",
                request.method
            )));
        }
        let url = resolve_request_url(&self.environment.graph_endpoint, &request.uri)?;
        let caller_headers = RequestOptions::default()
            .with_headers(request.headers.iter().cloned())?
            .headers()
            .to_vec();
        let mut headers = vec![("client-request-id".to_owned(), Uuid::new_v4().to_string())];
        for (name, value) in caller_headers.iter().chain(options.headers()) {
            // A caller-chosen client-request-id replaces ours: it is how they correlate.
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        let client_request_id = find_header(&headers, "client-request-id")
            .unwrap_or_default()
            .to_owned();
        let outgoing = Outgoing {
            method: &method,
            url: url.as_str(),
            headers: &headers,
            body,
            cap: MAX_GRAPH_REQUEST_ANSWER_BYTES,
        };
        let context = RequestContext::current();
        let repeatable = matches!(method.as_str(), "GET" | "PUT" | "DELETE");
        let answered = with_retries(&context, repeatable, |attempt| {
            self.exchange_once(&outgoing, options, attempt, &context)
        })
        .await?;
        if answered.status == 407 {
            return Err(proxy_authentication_error(&client_request_id));
        }
        let error = (!(200..300).contains(&answered.status)).then(|| {
            let request_id = find_header(&answered.headers, "request-id").map(str::to_owned);
            GraphError::from_graph_response(
                answered.status,
                &answered.body,
                request_id,
                client_request_id.clone(),
            )
            .for_display()
        });
        let exchange = options.trace.then(|| {
            let prepared = PreparedRequest {
                method: method.clone(),
                url: url.to_string(),
                headers: headers.clone(),
                body: String::from_utf8_lossy(body).into_owned(),
            };
            // Not the body: answers to arbitrary Graph calls carry secrets no key list can
            // know (a new client secret's secretText, a LAPS passwordBase64, a BitLocker key),
            // and -Debug output ends up in transcripts and CI logs.
            let raw = RawResponse {
                status: answered.status,
                headers: answered.headers.clone(),
                body: format!(
                    "[{} bytes, not shown: answers may hold secrets]",
                    answered.body.len()
                ),
                exchange: None,
            };
            Exchange::record(&prepared, &answered.sent_headers, &raw, answered.elapsed_ms)
        });
        Ok(GraphAnswer {
            url: url.to_string(),
            status: answered.status,
            headers: answered.headers,
            body: answered.body,
            client_request_id,
            error,
            exchange,
        })
    }
}

/// `v1.0/users/x` or `/beta/me` under the endpoint; the first segment must be an API version,
/// so that `users/x` is a clear error here rather than Graph's "Invalid version" later.
fn relative_url(endpoint: &Url, uri: &str) -> Result<Url, GraphError> {
    let path = uri.trim_start_matches('/');
    let first = path.split(['/', '?', '#']).next().unwrap_or_default();
    if !API_VERSIONS
        .iter()
        .any(|version| first.eq_ignore_ascii_case(version))
    {
        return Err(GraphError::invalid_argument(format!(
            "the relative URI '{uri}' does not start with a Graph API version: write v1.0/{path} or beta/{path}"
        )));
    }
    let base = endpoint.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/{path}")).map_err(|_| {
        GraphError::invalid_argument(format!(
            "the relative URI '{uri}' does not make a valid URL on the Graph endpoint {base}"
        ))
    })
}

fn outside_graph_endpoint(target: &Url, endpoint: &Url) -> GraphError {
    GraphError::new(
        ErrorKind::OutsideGraphEndpoint,
        format!(
            "the URI names {}, which is not the connected Graph endpoint {}: the access token is only sent there, so nothing was sent; use a relative URI such as v1.0/users, or connect to the environment of that host",
            shown_origin(target),
            endpoint.origin().ascii_serialization()
        ),
    )
}

/// The origin of a URL as a message shows it (`https://evil.example:8443`, `file://`).
fn shown_origin(url: &Url) -> String {
    match url.host_str() {
        Some(host) => match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        },
        None => format!("a {} URL", url.scheme()),
    }
}

fn as_base64<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAPH: &str = "https://graph.microsoft.com";

    fn resolved(endpoint: &str, uri: &str) -> String {
        resolve_request_url(endpoint, uri)
            .unwrap_or_else(|error| panic!("{uri}: {}", error.message))
            .to_string()
    }

    #[test]
    fn relative_uris_are_placed_on_the_graph_endpoint() {
        for (uri, expected) in [
            ("v1.0/users/x", "https://graph.microsoft.com/v1.0/users/x"),
            ("beta/me", "https://graph.microsoft.com/beta/me"),
            ("/beta/me", "https://graph.microsoft.com/beta/me"),
            (
                "v1.0/users?$filter=startswith(displayName,'a')&$top=5",
                "https://graph.microsoft.com/v1.0/users?$filter=startswith(displayName,%27a%27)&$top=5",
            ),
            ("V1.0/users", "https://graph.microsoft.com/V1.0/users"),
        ] {
            assert_eq!(resolved(GRAPH, uri), expected, "{uri}");
        }
        assert_eq!(
            resolved("http://127.0.0.1:8123/", "beta/users/a"),
            "http://127.0.0.1:8123/beta/users/a"
        );
        assert_eq!(
            resolved("https://example.test/graph", "/v1.0/me"),
            "https://example.test/graph/v1.0/me"
        );
    }

    #[test]
    fn a_relative_uri_without_an_api_version_is_refused() {
        let error = resolve_request_url(GRAPH, "users/x").expect_err("no version");
        assert_eq!(error.kind, ErrorKind::InvalidArgument);
        assert!(error.message.contains("v1.0/users/x"), "{}", error.message);
    }

    #[test]
    fn absolute_uris_must_be_on_the_endpoint_origin() {
        assert_eq!(
            resolved(GRAPH, "https://graph.microsoft.com/v1.0/me"),
            "https://graph.microsoft.com/v1.0/me"
        );
        assert_eq!(
            resolved(GRAPH, "https://GRAPH.microsoft.com:443/beta/me"),
            "https://graph.microsoft.com/beta/me"
        );
        for uri in [
            "https://evil.example/v1.0/me",
            "http://graph.microsoft.com/v1.0/me",
            "https://graph.microsoft.com:8443/v1.0/me",
            "https://graph.microsoft.com.evil.example/v1.0/me",
            "file:///etc/passwd",
            "ftp://graph.microsoft.com/v1.0/me",
        ] {
            let error = resolve_request_url(GRAPH, uri).expect_err(uri);
            assert_eq!(error.kind, ErrorKind::OutsideGraphEndpoint, "{uri}");
            assert!(
                error.message.contains("https://graph.microsoft.com"),
                "{}",
                error.message
            );
        }
        let error = resolve_request_url(GRAPH, "https://evil.example:8443/v1.0/me").expect_err("x");
        assert!(
            error.message.contains("https://evil.example:8443"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_user_name_or_password_in_the_uri_is_refused_and_never_shown() {
        for uri in [
            "https://user@graph.microsoft.com/v1.0/me",
            "https://:hunter2@graph.microsoft.com/v1.0/me",
            "https://admin:hunter2@graph.microsoft.com/v1.0/me",
        ] {
            let error = resolve_request_url(GRAPH, uri).expect_err(uri);
            assert_eq!(error.kind, ErrorKind::InvalidArgument, "{uri}");
            assert!(!error.message.contains("hunter2"), "{}", error.message);
        }
    }

    #[test]
    fn a_relative_uri_cannot_climb_to_another_origin() {
        // `//host/path` would be a network-path reference in RFC 3986: here it is a path.
        let error = resolve_request_url(GRAPH, "//evil.example/v1.0/me").expect_err("x");
        assert_eq!(error.kind, ErrorKind::InvalidArgument, "{}", error.message);
        assert_eq!(
            resolved("http://127.0.0.1:8123", "v1.0/../../beta/me"),
            "http://127.0.0.1:8123/beta/me"
        );
    }

    #[test]
    fn empty_and_control_character_uris_are_refused() {
        for uri in ["", "  ", "v1.0/me\r\nHost: evil"] {
            let error = resolve_request_url(GRAPH, uri).expect_err(uri);
            assert_eq!(error.kind, ErrorKind::InvalidArgument, "{uri:?}");
        }
    }
}
