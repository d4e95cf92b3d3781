//! Requests to Entra ID's token endpoint, `{authority}/{tenant}/oauth2/v2.0/token`: the client
//! credentials grant with a secret or a signed assertion, and the raw exchange the delegated
//! grants (device code, refresh token) build on. Token requests follow no redirect and read
//! at most a capped answer. The form is built in zeroizing
//! memory (reqwest keeps its own copy of the body while sending, which this cannot wipe).

use serde::Deserialize;
use zeroize::Zeroizing;

use super::credential::{AppIdentity, Credential};
use super::entra_errors;
use crate::environment::Environment;
use crate::error::{ErrorKind, GraphError, ServiceDetail};
use crate::http_client::{BodyError, MAX_ANSWER_BYTES, read_capped, too_large};
use crate::redirect::origin_text;
use crate::request_context::RequestContext;
use crate::send::with_client_request_id;
use crate::session::unix_now;
use crate::token::AccessToken;

/// Refresh this long before expiry at most (Entra's tokens live about an hour).
const REFRESH_MARGIN_SECONDS: i64 = 300;

/// A token Entra issued, with when to replace it.
pub struct IssuedToken {
    pub token: AccessToken,
    /// Seconds since the epoch when the token stops working.
    pub expires_at: i64,
    /// Seconds since the epoch after which a new token is fetched before use.
    pub refresh_at: i64,
}

impl IssuedToken {
    pub(crate) fn new(token: AccessToken, now: i64, lifetime: i64) -> IssuedToken {
        let lifetime = lifetime.max(0);
        // Five minutes before expiry, or half-way for short-lived tokens, so a token is
        // never refreshed on every call just because it lives less than five minutes.
        let margin = REFRESH_MARGIN_SECONDS.min(lifetime / 2);
        // Saturating: the lifetime comes from a server (or a file) and may be anything.
        let expires_at = now.saturating_add(lifetime);
        IssuedToken {
            token,
            expires_at,
            refresh_at: expires_at.saturating_sub(margin),
        }
    }
}

/// No access token lives longer than this; an expiry further away than that (read from the
/// cache file, which anyone with the user's rights can edit) is nonsense.
const MAX_TOKEN_LIFETIME_SECONDS: i64 = 2 * 24 * 3600;

/// Seconds of life left in a token expiring at `expires_at` (read from a file or a server):
/// 0 when expired, and also when the value is absurd (further away than any token lives).
pub(crate) fn life_left(expires_at: i64, now: i64) -> i64 {
    let left = expires_at.saturating_sub(now);
    if (0..=MAX_TOKEN_LIFETIME_SECONDS).contains(&left) {
        left
    } else {
        0
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    /// Delegated grants asked with `offline_access`; rotated on every redemption.
    #[serde(default)]
    refresh_token: Option<String>,
}

/// A successful token answer: the access token and, for delegated grants, the refresh token.
pub struct Granted {
    pub issued: IssuedToken,
    pub refresh_token: Option<Zeroizing<String>>,
}

/// A token request's raw outcome: the HTTP status and the body (zeroized when dropped).
pub struct RawAnswer {
    pub status: u16,
    pub body: Zeroizing<Vec<u8>>,
    pub client_request_id: String,
}

impl RawAnswer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Entra's refusal as an error naming `what` was refused.
    pub fn refusal(&self, what: &str) -> GraphError {
        entra_errors::from_token_response(self.status, &self.body, &self.client_request_id, what)
    }
}

/// The token URL of an environment and tenant.
pub fn token_url(environment: &Environment, tenant: &str) -> String {
    format!(
        "{}/{tenant}/oauth2/v2.0/token",
        environment.azure_ad_endpoint
    )
}

/// Microsoft Graph's application id: the same in every cloud.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The app-only scope: `{graph}/.default`. A loopback stand-in for Graph (plain http, tests and
/// local tools) is no resource Entra knows by URL, so it is named by Graph's application id.
pub fn app_only_scope(environment: &Environment) -> String {
    format!("{}/.default", graph_resource(environment))
}

/// Graph as a resource Entra knows: its endpoint, or Graph's application id for a loopback
/// stand-in.
pub fn graph_resource(environment: &Environment) -> String {
    if environment.graph_endpoint.starts_with("https://") {
        environment.graph_endpoint.clone()
    } else {
        GRAPH_APP_ID.to_owned()
    }
}

/// Client credentials grant for an app-only credential; scope `{graph}/.default`.
pub async fn client_credentials(
    http: &reqwest::Client,
    environment: &Environment,
    credential: &Credential,
) -> Result<IssuedToken, GraphError> {
    let (app, what): (&AppIdentity, &str) = match credential {
        Credential::ClientSecret { app, .. } => (app, "the client secret"),
        Credential::Certificate { app, .. } => (app, "the certificate"),
        Credential::ManagedIdentity { .. }
        | Credential::AccessToken
        | Credential::Delegated { .. } => {
            return Err(GraphError::new(
                ErrorKind::Authentication,
                "the access token given to Connect-MgGraph cannot be renewed: get a new token and run Connect-MgGraph again",
            ));
        }
    };
    let url = token_url(environment, &app.tenant_id);
    let scope = app_only_scope(environment);
    let mut form = Zeroizing::new(String::new());
    append(&mut form, "client_id", &app.client_id);
    append(&mut form, "scope", &scope);
    append(&mut form, "grant_type", "client_credentials");
    match credential {
        Credential::ClientSecret { secret, .. } => append(&mut form, "client_secret", secret),
        Credential::Certificate { signer, .. } => {
            let assertion = Zeroizing::new(signer.assertion(&app.client_id, &url, unix_now())?);
            append(
                &mut form,
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            );
            append(&mut form, "client_assertion", &assertion);
        }
        Credential::ManagedIdentity { .. }
        | Credential::AccessToken
        | Credential::Delegated { .. } => {}
    }
    let body = form.as_bytes().to_vec();
    post_form(http, &url, body, what).await
}

/// Appends `name=value` form-encoded, without intermediate copies of the value.
pub(crate) fn append(form: &mut Zeroizing<String>, name: &str, value: &str) {
    if !form.is_empty() {
        form.push('&');
    }
    form.push_str(name);
    form.push('=');
    for piece in url::form_urlencoded::byte_serialize(value.as_bytes()) {
        form.push_str(piece);
    }
}

/// Posts a token request and reads the answer.
async fn post_form(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    what: &str,
) -> Result<IssuedToken, GraphError> {
    let answer = exchange(http, url, body).await?;
    if !answer.is_success() {
        return Err(answer.refusal(what));
    }
    read_tokens(&answer, url).map(|granted| granted.issued)
}

/// Posts a form to a token (or device code) endpoint and returns the answer, whatever its
/// status; only a transport failure is an error here.
pub async fn exchange(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<RawAnswer, GraphError> {
    let client_request_id = uuid::Uuid::new_v4().to_string();
    let context = RequestContext::current();
    let response = http
        .post(url)
        .timeout(context.client_timeout())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .header("client-request-id", client_request_id.as_str())
        .body(body)
        .send()
        .await
        .map_err(|error| unreachable_authority(&error, url, &client_request_id))?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return Err(redirect_refused(&response, url, &client_request_id));
    }
    let body =
        Zeroizing::new(read_capped(response, MAX_ANSWER_BYTES).await.map_err(
            |error| match error {
                BodyError::TooLarge => with_client_request_id(
                    too_large("Entra ID", status, MAX_ANSWER_BYTES),
                    &client_request_id,
                ),
                BodyError::Transport(error) => {
                    unreachable_authority(&error, url, &client_request_id)
                }
            },
        )?);
    Ok(RawAnswer {
        status,
        body,
        client_request_id,
    })
}

/// Reads the tokens of a successful answer.
pub fn read_tokens(answer: &RawAnswer, url: &str) -> Result<Granted, GraphError> {
    let status = answer.status;
    let parsed: TokenAnswer = serde_json::from_slice(&answer.body).map_err(|_| {
        GraphError::new(
            ErrorKind::Authentication,
            format!(
                "Entra ID answered the token request at {url} with HTTP {status} but no access token: check -Environment (its AzureADEndpoint must be an Entra ID authority)"
            ),
        )
    })?;
    let refresh_token = parsed.refresh_token.map(Zeroizing::new);
    let secret = Zeroizing::new(parsed.access_token);
    let now = unix_now();
    let token = AccessToken::issued(secret.as_bytes())?;
    let lifetime = parsed
        .expires_in
        .as_ref()
        .and_then(|value| match value {
            serde_json::Value::Number(number) => number.as_i64(),
            serde_json::Value::String(text) => text.trim().parse().ok(),
            _ => None,
        })
        .or_else(|| token.claims().expires_on.map(|exp| exp.saturating_sub(now)))
        .unwrap_or(3599);
    Ok(Granted {
        issued: IssuedToken::new(token, now, lifetime),
        refresh_token,
    })
}

/// A token request carries a client secret, an assertion, a device code or a refresh token:
/// it goes to the authority it was addressed to and nowhere else, so no redirect is followed,
/// not even to the same origin (Entra ID never redirects a token request).
fn redirect_refused(
    response: &reqwest::Response,
    url: &str,
    client_request_id: &str,
) -> GraphError {
    let status = response.status().as_u16();
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .and_then(|location| url::Url::parse(url).ok()?.join(location.trim()).ok())
        .map_or_else(
            || "an unreadable location".to_owned(),
            |target| origin_text(&target),
        );
    with_client_request_id(
        GraphError::new(
            ErrorKind::RedirectRefused,
            format!(
                "the token request to {url} was answered with HTTP {status}, a redirect to {target}: token requests never follow redirects, so nothing was sent there; check the AzureADEndpoint of the environment and any proxy"
            ),
        ),
        client_request_id,
    )
}

fn unreachable_authority(error: &reqwest::Error, url: &str, client_request_id: &str) -> GraphError {
    let (kind, mut message) = if error.is_timeout() {
        (
            ErrorKind::Timeout,
            format!("Entra ID did not answer at {url} within the client timeout"),
        )
    } else {
        (
            ErrorKind::Network,
            format!(
                "could not reach the Entra ID authority at {url}: check -Environment and the network or proxy"
            ),
        )
    };
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    GraphError {
        kind,
        message,
        service: Some(Box::new(ServiceDetail {
            client_request_id: Some(client_request_id.to_owned()),
            ..ServiceDetail::default()
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_or_past_expiries_leave_no_life_and_never_overflow() {
        assert_eq!(life_left(1_000 + 3_600, 1_000), 3_600);
        assert_eq!(life_left(500, 1_000), 0);
        assert_eq!(life_left(i64::MAX, 1_000), 0, "absurdly far away: expired");
        assert_eq!(life_left(i64::MIN, 1_000), 0);
        assert_eq!(life_left(1_000, i64::MIN), 0);
        let token = AccessToken::parse(b"a.e30.c", 0).expect("jwt");
        let issued = IssuedToken::new(token, i64::MAX - 10, i64::MAX);
        assert_eq!(issued.expires_at, i64::MAX);
        assert!(issued.refresh_at <= issued.expires_at);
    }

    #[test]
    fn refresh_happens_five_minutes_early_or_half_way_for_short_tokens() {
        let token = AccessToken::parse(b"a.e30.c", 0).expect("valid");
        let issued = IssuedToken::new(token, 1000, 3599);
        assert_eq!(issued.refresh_at, 1000 + 3599 - 300);
        let token = AccessToken::parse(b"a.e30.c", 0).expect("valid");
        let issued = IssuedToken::new(token, 1000, 4);
        assert_eq!((issued.refresh_at, issued.expires_at), (1002, 1004));
    }
}
