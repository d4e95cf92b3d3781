//! Managed identity (`Connect-MgGraph -Identity [-ClientId]`): tokens from the Azure resource's
//! own endpoint, never through a proxy. App Service, Functions and Container Apps publish
//! `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`; elsewhere the VM's IMDS at 169.254.169.254
//! answers (`AZURE_POD_IDENTITY_AUTHORITY_HOST` overrides its base URL, as in Azure.Identity).
//! 404, 410, 429 and 5xx answers are retried after 2, 4, 8 and 16 seconds (`Retry-After` wins);
//! a connection that cannot be made is not, so a machine without the endpoint fails fast.
//!
//! Not handled yet: Azure Arc, Service Fabric and Cloud Shell endpoints; object or resource ids.

use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use super::token_endpoint::{IssuedToken, graph_resource};
use crate::environment::Environment;
use crate::error::{ErrorKind, GraphError, ServiceDetail};
use crate::http_client::{BodyError, MAX_ANSWER_BYTES, read_capped, too_large};
use crate::redact::clean;
use crate::request_context::RequestContext;
use crate::session::unix_now;
use crate::token::AccessToken;

const IMDS_DEFAULT: &str = "http://169.254.169.254";
const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
/// Waits before each retry.
const RETRY_WAITS: [u64; 4] = [2, 4, 8, 16];

/// Where the identity's tokens come from.
pub enum ManagedEndpoint {
    /// App Service and friends: `IDENTITY_ENDPOINT` with the `X-IDENTITY-HEADER` secret.
    AppService {
        url: String,
        header: Zeroizing<String>,
    },
    /// The VM's Instance Metadata Service.
    Imds { url: String },
}

impl ManagedEndpoint {
    /// Chooses the endpoint from the values of `IDENTITY_ENDPOINT`, `IDENTITY_HEADER` and
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST`, as the caller read them (PowerShell's `$env:` is
    /// not the native environment on every platform, so the shim passes them).
    pub fn choose(
        identity_endpoint: Option<&str>,
        identity_header: &[u8],
        imds_host: Option<&str>,
    ) -> Result<ManagedEndpoint, GraphError> {
        let present = |value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let header = std::str::from_utf8(identity_header)
            .map_err(|_| GraphError::invalid_argument("IDENTITY_HEADER is not valid text"))?
            .trim();
        match present(identity_endpoint) {
            Some(url) if !header.is_empty() => Ok(ManagedEndpoint::AppService {
                url,
                header: Zeroizing::new(header.to_owned()),
            }),
            _ => {
                let base = present(imds_host).unwrap_or_else(|| IMDS_DEFAULT.to_owned());
                Ok(ManagedEndpoint::Imds {
                    url: format!("{}{IMDS_PATH}", base.trim_end_matches('/')),
                })
            }
        }
    }

    fn url(&self) -> &str {
        match self {
            ManagedEndpoint::AppService { url, .. } | ManagedEndpoint::Imds { url } => url,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            ManagedEndpoint::AppService { .. } => "the App Service managed identity endpoint",
            ManagedEndpoint::Imds { .. } => "the Azure Instance Metadata Service (IMDS)",
        }
    }
}

/// A client that never uses a proxy: the endpoint is local to the Azure resource, and its
/// answer is a token nobody else should see.
pub fn direct_client() -> Result<reqwest::Client, GraphError> {
    crate::runtime::runtime()?;
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(2))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| {
            GraphError::new(
                ErrorKind::Internal,
                format!("the HTTP client for managed identity could not be created: {error}"),
            )
        })
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    expires_on: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct Refusal {
    error: Option<String>,
    error_description: Option<String>,
}

fn number(value: Option<&serde_json::Value>) -> Option<i64> {
    match value? {
        serde_json::Value::Number(number) => number.as_i64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Gets a token for Graph from the managed identity endpoint.
pub async fn acquire(
    http: &reqwest::Client,
    endpoint: &ManagedEndpoint,
    client_id: Option<&str>,
    environment: &Environment,
) -> Result<IssuedToken, GraphError> {
    let resource = graph_resource(environment);
    let mut query: Vec<(&str, &str)> = vec![("resource", resource.as_str())];
    match endpoint {
        ManagedEndpoint::AppService { .. } => query.push(("api-version", "2019-08-01")),
        ManagedEndpoint::Imds { .. } => query.push(("api-version", "2018-02-01")),
    }
    if let Some(client_id) = client_id {
        query.push(("client_id", client_id));
    }
    let context = RequestContext::current();
    let mut attempt = 0;
    loop {
        let mut request = http
            .get(endpoint.url())
            .query(&query)
            .timeout(context.client_timeout());
        request = match endpoint {
            ManagedEndpoint::AppService { header, .. } => {
                let mut value = reqwest::header::HeaderValue::from_str(header).map_err(|_| {
                    GraphError::invalid_argument("IDENTITY_HEADER cannot be sent in an HTTP header")
                })?;
                value.set_sensitive(true);
                request.header("X-IDENTITY-HEADER", value)
            }
            ManagedEndpoint::Imds { .. } => request.header("Metadata", "true"),
        };
        let response = request.send().await.map_err(|error| {
            let mut message = format!(
                "no managed identity answered at {} ({}): run this on an Azure resource with a managed identity enabled",
                endpoint.url(),
                endpoint.name()
            );
            let mut source: Option<&dyn std::error::Error> = Some(&error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            let kind = if error.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Network
            };
            GraphError::new(kind, message)
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0);
        let body = Zeroizing::new(read_capped(response, MAX_ANSWER_BYTES).await.map_err(
            |error| match error {
                BodyError::TooLarge => too_large(endpoint.name(), status, MAX_ANSWER_BYTES),
                BodyError::Transport(error) => GraphError::new(
                    ErrorKind::Network,
                    format!("the managed identity endpoint's answer was cut: {error}"),
                ),
            },
        )?);
        let retryable = matches!(status, 404 | 410 | 429) || status >= 500;
        if retryable && attempt < RETRY_WAITS.len() {
            let wait = retry_after.map_or(Duration::from_secs(RETRY_WAITS[attempt]), |seconds| {
                Duration::from_secs_f64(seconds.min(60.0))
            });
            attempt += 1;
            tokio::time::sleep(wait).await;
            continue;
        }
        if !(200..300).contains(&status) {
            let refusal: Refusal = serde_json::from_slice(&body).unwrap_or_default();
            let what = refusal
                .error_description
                .or(refusal.error)
                .map(|text| clean(text.trim()))
                .unwrap_or_else(|| format!("HTTP {status}"));
            let hint = if client_id.is_some() {
                "check -ClientId: it must be the client id of a user-assigned identity attached to this resource"
            } else {
                "check that a managed identity is enabled on this resource"
            };
            return Err(GraphError {
                kind: ErrorKind::Authentication,
                message: format!(
                    "{} refused the token request with HTTP {status}: {what}; {hint}",
                    endpoint.name()
                ),
                service: Some(Box::new(ServiceDetail {
                    status: Some(status),
                    ..ServiceDetail::default()
                })),
            });
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|_| {
            GraphError::new(
                ErrorKind::Authentication,
                format!("{} answered without an access token", endpoint.name()),
            )
        })?;
        let secret = Zeroizing::new(answer.access_token);
        let now = unix_now();
        let token = AccessToken::issued(secret.as_bytes())?;
        let lifetime = number(answer.expires_in.as_ref())
            .or_else(|| number(answer.expires_on.as_ref()).map(|on| on - now))
            .or_else(|| token.claims().expires_on.map(|on| on - now))
            .unwrap_or(3599);
        return Ok(IssuedToken::new(token, now, lifetime));
    }
}
