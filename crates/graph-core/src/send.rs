//! Sending a request with the session's credential, retrying what is worth retrying.
//!
//! The token is added here and nowhere else, and only ever sent to the session's own Graph
//! endpoint (same scheme, host and port), whatever a script's pipeline step did to the URL.
//! It comes from the session's token provider (renewed before expiry); a 401 is retried once
//! with a renewed token when the credential allows it.
//! Retries follow [`crate::retry`] and the process's [`RequestContext`]; each retry carries
//! a `Retry-Attempt` header. Redirects are followed only within the session's Graph origin
//! ([`crate::redirect`]); the answer's body is read up to a size cap.

use std::time::{Instant, SystemTime};

use url::Url;

use crate::error::{ErrorKind, GraphError, ServiceDetail};
use crate::exchange::{Exchange, PreparedRequest, RawResponse, find_header};
use crate::http_client::{BodyError, MAX_ANSWER_BYTES, read_capped, too_large};
use crate::redact::clean;
use crate::redirect;
use crate::request_context::RequestContext;
use crate::request_options::{RequestOptions, is_reserved_header};
use crate::retry::{MIN_RETRY_AFTER, RetryClass, backoff, classify_status, parse_retry_after};
use crate::session::Session;

impl Session {
    /// Sends a request, retrying throttling (429), 503, 504 and broken connections as the
    /// request context allows. Returns the last answer when retries run out: at the latest
    /// when `RetriesTimeLimit` of wall time (attempts and waits together) would be exceeded.
    pub async fn send(
        &self,
        request: &PreparedRequest,
        options: &RequestOptions,
    ) -> Result<RawResponse, GraphError> {
        let context = RequestContext::current();
        with_retries(&context, true, |attempt| {
            self.send_once(request, options, attempt, &context)
        })
        .await
    }

    pub(crate) async fn send_once(
        &self,
        request: &PreparedRequest,
        options: &RequestOptions,
        attempt: u32,
        context: &RequestContext,
    ) -> Result<RawResponse, GraphError> {
        let outgoing = Outgoing {
            method: &request.method,
            url: &request.url,
            headers: &request.headers,
            body: request.body.as_bytes(),
            cap: MAX_ANSWER_BYTES,
        };
        let answered = self
            .exchange_once(&outgoing, options, attempt, context)
            .await?;
        let mut raw = RawResponse {
            status: answered.status,
            headers: answered.headers,
            body: String::from_utf8_lossy(&answered.body).into_owned(),
            exchange: None,
        };
        if options.trace {
            raw.exchange = Some(Exchange::record(
                request,
                &answered.sent_headers,
                &raw,
                answered.elapsed_ms,
            ));
        }
        Ok(raw)
    }

    /// One exchange with the session's Graph origin: the token added, a 401 retried once with a
    /// renewed token, same-origin redirects followed, the answer's body read up to `cap`.
    pub(crate) async fn exchange_once(
        &self,
        request: &Outgoing<'_>,
        options: &RequestOptions,
        attempt: u32,
        context: &RequestContext,
    ) -> Result<Answered, GraphError> {
        let mut url = self.checked_url(request.url)?;
        let mut method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            GraphError::invalid_argument(format!("'{}' is not an HTTP method", request.method))
        })?;
        let client_request_id = find_header(request.headers, "client-request-id")
            .unwrap_or_default()
            .to_owned();
        let client = self.clients.for_target(&url, options.proxy.as_ref())?;
        // Token requests use the session's own client (system proxy), whatever -Proxy says.
        let token_client = self.clients.for_url(&self.environment.azure_ad_endpoint)?;
        let mut authorization = self.provider.authorization(&token_client).await?;
        let mut sent_headers = request.headers.to_vec();
        if attempt > 0 {
            sent_headers.push(("Retry-Attempt".to_owned(), attempt.to_string()));
        }
        let mut renewed = false;
        let mut redirects = 0;
        let (response, started) = loop {
            let mut authorization_value = reqwest::header::HeaderValue::from_str(&authorization)
                .map_err(|_| {
                    GraphError::new(
                        ErrorKind::Authentication,
                        "the access token cannot be sent in an HTTP header",
                    )
                })?;
            authorization_value.set_sensitive(true);

            let mut builder = client
                .request(method.clone(), url.clone())
                .timeout(context.client_timeout())
                .header(reqwest::header::AUTHORIZATION, authorization_value);
            // A GET carries no body unless the caller gave one (Invoke-MgGraphRequest may).
            if method != reqwest::Method::GET || !request.body.is_empty() {
                builder = builder.body(request.body.to_vec());
            }
            for (name, value) in &sent_headers {
                // The body's length is computed here; the credential and routing are ours alone.
                if name.eq_ignore_ascii_case("content-length") {
                    continue;
                }
                if is_reserved_header(name) {
                    return Err(GraphError::new(
                        ErrorKind::InvalidHeader,
                        format!(
                            "the request carries a '{name}' header, which only the module may set: remove it in the pipeline step"
                        ),
                    ));
                }
                builder = builder.header(name.as_str(), value.as_str());
            }
            let started = Instant::now();
            let response = builder
                .send()
                .await
                .map_err(|error| transport_error(&error, &client_request_id))?;
            let status = response.status().as_u16();
            // One silent retry when Graph rejects the token (expired or revoked early), with a
            // renewed one; a user-provided token cannot be renewed, so its 401 is the answer.
            if status == 401 && !renewed {
                renewed = true;
                if let Some(fresh) = self
                    .provider
                    .renew_after_rejection(&token_client, &authorization)
                    .await?
                {
                    authorization = fresh;
                    continue;
                }
            }
            if let Some(redirect) = redirect::Redirect::of(&response) {
                let (target, next_method) = redirect
                    .follow(&url, &method, redirects)
                    .map_err(|error| with_client_request_id(error, &client_request_id))?;
                redirects += 1;
                url = target;
                method = next_method;
                continue;
            }
            break (response, started);
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    clean(&String::from_utf8_lossy(value.as_bytes())),
                )
            })
            .collect();
        let body = read_capped(response, request.cap)
            .await
            .map_err(|error| match error {
                BodyError::TooLarge => with_client_request_id(
                    too_large("Graph", status, request.cap),
                    &client_request_id,
                ),
                BodyError::Transport(error) => transport_error(&error, &client_request_id),
            })?;
        if options.trace {
            sent_headers.insert(
                0,
                ("authorization".to_owned(), "Bearer [redacted]".to_owned()),
            );
        }
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(Answered {
            status,
            headers,
            body,
            sent_headers,
            elapsed_ms,
        })
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

/// What one exchange sends: borrowed, so a retry sends the same bytes again.
pub(crate) struct Outgoing<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// Largest answer body read.
    pub cap: usize,
}

/// What came back from one exchange, with what was sent (the credential redacted) for a trace.
pub(crate) struct Answered {
    pub status: u16,
    /// Names lower-case, values through [`clean`].
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub sent_headers: Vec<(String, String)>,
    pub elapsed_ms: u64,
}

/// An answer the retry loop can judge: its status and its `Retry-After`.
pub(crate) trait RetryableAnswer {
    fn status(&self) -> u16;
    fn retry_after(&self) -> Option<&str>;
}

impl RetryableAnswer for RawResponse {
    fn status(&self) -> u16 {
        self.status
    }
    fn retry_after(&self) -> Option<&str> {
        self.header("retry-after")
    }
}

impl RetryableAnswer for Answered {
    fn status(&self) -> u16 {
        self.status
    }
    fn retry_after(&self) -> Option<&str> {
        find_header(&self.headers, "retry-after")
    }
}

/// Runs `once` until its answer is final: 429 waits as Graph asks without spending
/// `MaxRetry`; 503 spends it, and so do 504 and broken connections when the request is
/// `repeatable` (sending it twice does no harm: a revocation, a GET, PUT or DELETE);
/// everything must fit in `RetriesTimeLimit`. Returns the last answer when retries run out.
pub(crate) async fn with_retries<T, Fut>(
    context: &RequestContext,
    repeatable: bool,
    mut once: impl FnMut(u32) -> Fut,
) -> Result<T, GraphError>
where
    T: RetryableAnswer,
    Fut: std::future::Future<Output = Result<T, GraphError>>,
{
    let started = Instant::now();
    let mut transient_retries = 0;
    let mut attempt = 0;
    loop {
        let result = once(attempt).await;
        let (class, retry_after) = match &result {
            Ok(response) => (
                match classify_status(response.status()) {
                    // A gateway that gave up may have let the request through to Graph.
                    RetryClass::Transient if !repeatable && response.status() == 504 => {
                        RetryClass::Final
                    }
                    class => class,
                },
                response
                    .retry_after()
                    .and_then(|value| parse_retry_after(value, SystemTime::now())),
            ),
            Err(error)
                if repeatable && matches!(error.kind, ErrorKind::Network | ErrorKind::Timeout) =>
            {
                (RetryClass::Transient, None)
            }
            Err(_) => (RetryClass::Final, None),
        };
        let wait = match class {
            RetryClass::Final => return result,
            RetryClass::Transient if transient_retries >= context.max_retry => return result,
            RetryClass::Transient => {
                transient_retries += 1;
                retry_after.unwrap_or_else(|| backoff(context.retry_delay(), transient_retries - 1))
            }
            RetryClass::Throttled => retry_after
                .unwrap_or_else(|| backoff(context.retry_delay(), attempt))
                .max(MIN_RETRY_AFTER),
        };
        if started.elapsed() + wait > context.retries_time_limit() {
            return result;
        }
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

pub(crate) fn proxy_authentication_error(client_request_id: &str) -> GraphError {
    with_client_request_id(
        GraphError::new(
            ErrorKind::ProxyAuthentication,
            "the proxy refused the request with HTTP 407 Proxy Authentication Required: pass the proxy's user name and password with -ProxyCredential, or check them",
        ),
        client_request_id,
    )
}

pub(crate) fn with_client_request_id(mut error: GraphError, client_request_id: &str) -> GraphError {
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
