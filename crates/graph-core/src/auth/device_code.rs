//! The device code flow (RFC 8628) against Entra ID: ask `{authority}/{tenant}/oauth2/v2.0/devicecode`
//! for a code, show its message to the user, then poll the token endpoint every `interval`
//! seconds: `authorization_pending` keeps polling, `slow_down` adds 5 seconds, and
//! `authorization_declined`, `expired_token` and `bad_verification_code` stop with an error
//! saying what to do. The device code itself redeems the sign-in, so it stays in zeroizing
//! memory and is never shown; only the user code and the message are.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::credential::AppIdentity;
use super::entra_errors;
use super::token_endpoint::{self, Granted, append, token_url};
use crate::environment::Environment;
use crate::error::{ErrorKind, GraphError};
use crate::redact::escape_controls;
use crate::session::unix_now;

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8628: a `slow_down` answer adds this much to the polling interval.
const SLOW_DOWN_SECONDS: u64 = 5;

/// The polling interval when Entra names none (RFC 8628's default).
const DEFAULT_INTERVAL_SECONDS: u64 = 5;

/// Whatever the server says, polls are at least this far apart (an `interval` of 0 would
/// otherwise hammer the token endpoint while the user types the code) and at most this far.
const MIN_INTERVAL_SECONDS: u64 = 1;
const MAX_INTERVAL_SECONDS: u64 = 60;

/// What the user is shown: Entra's message, the code and where to enter it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCodePrompt {
    pub message: String,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
}

#[derive(Deserialize)]
struct DeviceCodeAnswer {
    device_code: String,
    user_code: String,
    #[serde(alias = "verification_url")]
    verification_uri: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    interval: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
}

/// A code handed out and not yet redeemed.
pub struct DeviceCode {
    device_code: Zeroizing<String>,
    pub prompt: DeviceCodePrompt,
    interval: u64,
    expires_at: i64,
}

fn number(value: Option<&serde_json::Value>) -> Option<u64> {
    match value? {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Asks Entra for a device code for `scope` (a ready `scope` parameter).
pub async fn request(
    http: &reqwest::Client,
    environment: &Environment,
    app: &AppIdentity,
    scope: &str,
) -> Result<DeviceCode, GraphError> {
    let url = format!(
        "{}/{}/oauth2/v2.0/devicecode",
        environment.azure_ad_endpoint, app.tenant_id
    );
    let mut form = Zeroizing::new(String::new());
    append(&mut form, "client_id", &app.client_id);
    append(&mut form, "scope", scope);
    let answer = token_endpoint::exchange(http, &url, form.as_bytes().to_vec()).await?;
    if !answer.is_success() {
        return Err(answer.refusal("the device code request"));
    }
    let parsed: DeviceCodeAnswer = serde_json::from_slice(&answer.body).map_err(|_| {
        GraphError::new(
            ErrorKind::Authentication,
            format!(
                "Entra ID answered the device code request at {url} without a device code: check -Environment (its AzureADEndpoint must be an Entra ID authority)"
            ),
        )
    })?;
    let expires_in = number(parsed.expires_in.as_ref()).unwrap_or(900);
    let interval = poll_interval(
        number(parsed.interval.as_ref()),
        &environment.azure_ad_endpoint,
    );
    let message = parsed.message.unwrap_or_else(|| {
        format!(
            "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
            parsed.verification_uri, parsed.user_code
        )
    });
    Ok(DeviceCode {
        device_code: Zeroizing::new(parsed.device_code),
        // Shown to the user as it is (it holds the code to type), but never with terminal
        // control sequences in it.
        prompt: DeviceCodePrompt {
            message: escape_controls(&message),
            user_code: escape_controls(&parsed.user_code),
            verification_uri: escape_controls(&parsed.verification_uri),
            expires_in,
        },
        interval,
        expires_at: unix_now().saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX / 2)),
    })
}

/// Polls until the user finished signing in (or refused, or the code expired). Cancelled by
/// dropping the future (the caller's cancellation token).
pub async fn poll(
    http: &reqwest::Client,
    environment: &Environment,
    app: &AppIdentity,
    code: &DeviceCode,
) -> Result<Granted, GraphError> {
    let url = token_url(environment, &app.tenant_id);
    let mut interval = code.interval;
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if unix_now() > code.expires_at {
            return Err(expired(&code.prompt, None));
        }
        let mut form = Zeroizing::new(String::new());
        append(&mut form, "client_id", &app.client_id);
        append(&mut form, "grant_type", DEVICE_CODE_GRANT);
        append(&mut form, "device_code", &code.device_code);
        let answer = token_endpoint::exchange(http, &url, form.as_bytes().to_vec()).await?;
        if answer.is_success() {
            return token_endpoint::read_tokens(&answer, &url);
        }
        let error = answer.refusal("the device code sign-in");
        match entra_errors::oauth_error(&answer.body).as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => {
                interval = (interval + SLOW_DOWN_SECONDS).min(MAX_INTERVAL_SECONDS);
            }
            Some("authorization_declined") => {
                return Err(with_message(
                    error,
                    "the sign-in was declined (authorization_declined{code}): run Connect-MgGraph again and approve the request, with an account allowed to use this app",
                ));
            }
            Some("expired_token") => return Err(expired(&code.prompt, Some(error))),
            Some("bad_verification_code") => {
                return Err(with_message(
                    error,
                    "Entra ID no longer knows this device code (bad_verification_code{code}): run Connect-MgGraph again for a new code",
                ));
            }
            _ => return Err(error),
        }
    }
}

/// The server's interval clamped to 1..=60 seconds (5 when it names none); 0 only for a
/// loopback authority (the tests' mock), where nothing is hammered but the test's own server.
fn poll_interval(server: Option<u64>, authority: &str) -> u64 {
    let interval = server.unwrap_or(DEFAULT_INTERVAL_SECONDS);
    let floor = if is_loopback(authority) {
        0
    } else {
        MIN_INTERVAL_SECONDS
    };
    interval.clamp(floor, MAX_INTERVAL_SECONDS)
}

fn is_loopback(authority: &str) -> bool {
    reqwest::Url::parse(authority).is_ok_and(|url| {
        url.scheme() == "http"
            && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
    })
}

fn expired(prompt: &DeviceCodePrompt, error: Option<GraphError>) -> GraphError {
    let template = format!(
        "the device code expired before the sign-in was completed (expired_token{{code}}): run Connect-MgGraph again and enter the new code at {} within {} minutes",
        prompt.verification_uri,
        prompt.expires_in.div_ceil(60)
    );
    match error {
        Some(error) => with_message(error, &template),
        None => GraphError::new(ErrorKind::Authentication, template.replace("{code}", "")),
    }
}

/// Replaces a refusal's message, keeping its service details; `{code}` becomes ", AADSTSnnn".
fn with_message(mut error: GraphError, template: &str) -> GraphError {
    let code = error
        .service
        .as_ref()
        .and_then(|service| service.code.as_deref())
        .filter(|code| code.starts_with("AADSTS"))
        .map(|code| format!(", {code}"))
        .unwrap_or_default();
    error.message = template.replace("{code}", &code);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_polling_interval_is_clamped_except_for_a_loopback_authority() {
        let entra = "https://login.microsoftonline.com";
        assert_eq!(poll_interval(Some(0), entra), 1);
        assert_eq!(poll_interval(None, entra), 5);
        assert_eq!(poll_interval(Some(7), entra), 7);
        assert_eq!(poll_interval(Some(u64::MAX), entra), 60);
        assert_eq!(poll_interval(Some(0), "http://login.example.test"), 1);
        assert_eq!(poll_interval(Some(0), "https://127.0.0.1:8443"), 1);
        assert_eq!(poll_interval(Some(0), "http://127.0.0.1:41234"), 0);
        assert_eq!(poll_interval(Some(0), "http://localhost:41234/"), 0);
        assert_eq!(poll_interval(Some(900), "http://127.0.0.1:41234"), 60);
    }
}
