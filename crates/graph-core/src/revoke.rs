//! The operation itself: `POST {graph}/beta/users/{id}/invalidateAllRefreshTokens`.
//!
//! Three steps, public so the shim can run a script's pipeline steps between them:
//! [`Session::prepare_revocation`] builds the request (no credential), [`Session::send`]
//! adds the token and sends it (only to the session's own Graph endpoint), and
//! [`interpret_revocation`] reads the answer. Success is any 2xx: Graph documents 204 but
//! really answers 200 with an `Edm.Boolean` body, and the official module crashed on that
//! mismatch for years. Each request carries a fresh `client-request-id`.
//!
//! Not handled yet: retries and throttling.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::address::UserId;
use crate::error::{ErrorKind, GraphError, ServiceDetail};
use crate::exchange::{Exchange, PreparedRequest, RawResponse, find_header};
use crate::request_options::{RequestOptions, is_reserved_header};
use crate::session::Session;

/// What Graph answered to a successful revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationOutcome {
    /// The `value` of the answer; `true` for a bodyless 2xx.
    pub value: bool,
    pub status: u16,
    pub request_id: Option<String>,
    pub client_request_id: String,
    /// Every response header, in the order received (names lower-case).
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

#[derive(Deserialize)]
struct BooleanAnswer {
    value: Option<bool>,
}

impl Session {
    /// Invalidates every refresh token and session cookie of one user.
    pub async fn invalidate_all_refresh_tokens(
        &self,
        user: &UserId,
        options: &RequestOptions,
    ) -> Result<RevocationOutcome, GraphError> {
        let request = self.prepare_revocation(user, options);
        let response = self.send(&request, options).await?;
        interpret_revocation(&request, response)
    }

    /// The request for one user, with a new client-request-id and the caller's extra headers.
    pub fn prepare_revocation(&self, user: &UserId, options: &RequestOptions) -> PreparedRequest {
        let mut headers = vec![("client-request-id".to_owned(), Uuid::new_v4().to_string())];
        for (name, value) in options.headers() {
            // A caller-chosen client-request-id replaces ours: it is how they correlate.
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        PreparedRequest {
            method: "POST".to_owned(),
            url: format!(
                "{}/beta/{}/invalidateAllRefreshTokens",
                self.environment.graph_endpoint,
                user.users_path()
            ),
            headers,
            body: String::new(),
        }
    }

    /// Sends a request with the session's token. The token only ever goes to the session's
    /// Graph endpoint (same scheme, host and port), whatever a pipeline step did to the URL.
    pub async fn send(
        &self,
        request: &PreparedRequest,
        options: &RequestOptions,
    ) -> Result<RawResponse, GraphError> {
        let url = self.checked_url(&request.url)?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            GraphError::invalid_argument(format!("'{}' is not an HTTP method", request.method))
        })?;
        let client_request_id = request
            .header("client-request-id")
            .unwrap_or_default()
            .to_owned();
        let client = self.clients.get(options.proxy.as_ref())?;
        let authorization = self.token.authorization_header();
        let mut authorization_value = reqwest::header::HeaderValue::from_str(&authorization)
            .map_err(|_| {
                GraphError::new(
                    ErrorKind::Authentication,
                    "the access token cannot be sent in an HTTP header",
                )
            })?;
        authorization_value.set_sensitive(true);

        let mut builder = client
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, authorization_value)
            .body(request.body.clone());
        for (name, value) in &request.headers {
            // The body's length is computed here; the credential and routing are ours alone.
            if name.eq_ignore_ascii_case("content-length") {
                continue;
            }
            if is_reserved_header(name) {
                return Err(GraphError::invalid_argument(format!(
                    "the request carries a '{name}' header, which only the module may set"
                )));
            }
            builder = builder.header(name.as_str(), value.as_str());
        }
        let started = Instant::now();
        let response = builder
            .send()
            .await
            .map_err(|error| transport_error(&error, &client_request_id))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_error(&error, &client_request_id))?;
        let mut raw = RawResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            exchange: None,
        };
        if options.trace {
            let mut sent = request.headers.clone();
            sent.insert(
                0,
                ("authorization".to_owned(), "Bearer [redacted]".to_owned()),
            );
            let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            raw.exchange = Some(Exchange::record(request, &sent, &raw, elapsed));
        }
        Ok(raw)
    }

    fn checked_url(&self, url: &str) -> Result<Url, GraphError> {
        let wrong_place = || {
            GraphError::invalid_argument(format!(
                "the request URL '{url}' is outside the Graph endpoint {} of this session: the access token is only sent there",
                self.environment.graph_endpoint
            ))
        };
        let target = Url::parse(url).map_err(|_| wrong_place())?;
        let endpoint = Url::parse(&self.environment.graph_endpoint).map_err(|_| wrong_place())?;
        if target.origin() == endpoint.origin() {
            Ok(target)
        } else {
            Err(wrong_place())
        }
    }
}

/// Reads Graph's answer to a revocation request.
pub fn interpret_revocation(
    request: &PreparedRequest,
    response: RawResponse,
) -> Result<RevocationOutcome, GraphError> {
    let client_request_id = request
        .header("client-request-id")
        .unwrap_or_default()
        .to_owned();
    let request_id = find_header(&response.headers, "request-id").map(str::to_owned);
    if response.status == 407 {
        return Err(proxy_authentication_error(&client_request_id));
    }
    if !(200..300).contains(&response.status) {
        let mut error = GraphError::from_graph_response(
            response.status,
            response.body.as_bytes(),
            request_id,
            client_request_id,
        );
        if let Some(service) = error.service.as_mut() {
            service.exchange = response.exchange;
        }
        return Err(error);
    }
    let value = serde_json::from_str::<BooleanAnswer>(&response.body)
        .ok()
        .and_then(|answer| answer.value)
        .unwrap_or(true);
    Ok(RevocationOutcome {
        value,
        status: response.status,
        request_id,
        client_request_id,
        headers: response.headers,
        exchange: response.exchange,
    })
}

fn proxy_authentication_error(client_request_id: &str) -> GraphError {
    with_client_request_id(
        GraphError::new(
            ErrorKind::ProxyAuthentication,
            "the proxy refused the request with HTTP 407 Proxy Authentication Required: pass the proxy's user name and password with -ProxyCredential, or check them",
        ),
        client_request_id,
    )
}

fn with_client_request_id(mut error: GraphError, client_request_id: &str) -> GraphError {
    error.service = Some(Box::new(ServiceDetail {
        client_request_id: Some(client_request_id.to_owned()),
        ..ServiceDetail::default()
    }));
    error
}

fn transport_error(error: &reqwest::Error, client_request_id: &str) -> GraphError {
    // Through a proxy, https goes in a CONNECT tunnel: a 407 surfaces as a tunnel error.
    let mut chain: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = chain {
        if cause
            .to_string()
            .to_ascii_lowercase()
            .contains("proxy auth")
        {
            return proxy_authentication_error(client_request_id);
        }
        chain = cause.source();
    }
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    let mut message = if error.is_timeout() {
        "Graph did not answer within the client timeout".to_owned()
    } else if error.is_connect() {
        "could not connect to Graph".to_owned()
    } else {
        "the request to Graph failed".to_owned()
    };
    // The chain names the real cause (DNS, refused, certificate, proxy); it holds no secret.
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    with_client_request_id(GraphError::new(kind, message), client_request_id)
}
