//! The operation itself: `POST {graph}/beta/users/{id}/invalidateAllRefreshTokens`, or its
//! newer name `revokeSignInSessions` ([`RevocationAction`]).
//!
//! Three steps, public so the shim can run a script's pipeline steps between them:
//! [`Session::prepare_revocation`] builds the request (no credential), [`Session::send`]
//! adds the token and sends it with retries (only to the session's own Graph endpoint), and
//! [`interpret_revocation`] reads the answer with [`graph_boolean`], the one success rule of
//! every call and `$batch` item: Graph documents 204 but really answers 200 with an
//! `Edm.Boolean` body (the official module crashed on that mismatch for years), and nothing
//! else is taken for a success. Each request carries a fresh `client-request-id`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::address::UserId;
use crate::error::{ErrorKind, GraphError, ServiceDetail};
use crate::exchange::{Exchange, PreparedRequest, RawResponse, find_header};
use crate::redact::clean;
use crate::request_options::RequestOptions;
use crate::send::proxy_authentication_error;
use crate::session::Session;

/// Which of Graph's two session-revocation actions a call sends. Both sign the user out
/// everywhere (every refresh token and session cookie invalidated,
/// `signInSessionsValidFromDateTime` reset) and answer `Edm.Boolean`;
/// `revokeSignInSessions` (`Revoke-MgBetaUserSignInSession`) is the name Microsoft's docs now
/// point to, `invalidateAllRefreshTokens` (`Invoke-MgBetaInvalidateAllUserRefreshToken`) the
/// older one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RevocationAction {
    #[default]
    InvalidateAllRefreshTokens,
    RevokeSignInSessions,
}

impl RevocationAction {
    /// The action's name, as the last segment of its URL.
    pub fn name(self) -> &'static str {
        match self {
            RevocationAction::InvalidateAllRefreshTokens => "invalidateAllRefreshTokens",
            RevocationAction::RevokeSignInSessions => "revokeSignInSessions",
        }
    }

    /// The action named exactly as [`RevocationAction::name`] spells it.
    pub fn parse(name: &str) -> Result<RevocationAction, GraphError> {
        [
            RevocationAction::InvalidateAllRefreshTokens,
            RevocationAction::RevokeSignInSessions,
        ]
        .into_iter()
        .find(|action| action.name() == name)
        .ok_or_else(|| {
            GraphError::new(
                ErrorKind::InvalidArgument,
                format!(
                    "'{}' is not a revocation action: use invalidateAllRefreshTokens or revokeSignInSessions",
                    clean(name)
                ),
            )
        })
    }
}

/// What Graph answered to a successful revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationOutcome {
    /// The `value` of the answer; `true` for a 204.
    pub value: bool,
    pub status: u16,
    pub request_id: Option<String>,
    pub client_request_id: String,
    /// Every response header, in the order received (names lower-case).
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

/// Longest excerpt of an unexpected answer kept in the error.
const EXCERPT_CHARS: usize = 160;

/// Graph's answer to an action that returns `Edm.Boolean`: `204 No Content` (as documented:
/// `true`), or `200` with a JSON body whose `value` is a boolean. Anything else (an HTML page,
/// `{"value":"false"}`, `{"value":null}`, malformed JSON, an error document sent with 200, a
/// 201 or 202) is an [`ErrorKind::UnexpectedResponse`] naming what came back: the user was not
/// signed out as far as anybody can tell, and a responder must not be told otherwise.
pub fn graph_boolean(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<bool, GraphError> {
    if status == 204 {
        return Ok(true);
    }
    let json_type = content_type.is_some_and(is_json_content_type);
    if status == 200 && json_type {
        let value = serde_json::from_slice::<BooleanAnswer>(body)
            .ok()
            .and_then(|answer| answer.value);
        if let Some(value) = value {
            return Ok(value);
        }
    }
    Err(unexpected_answer(status, content_type, body))
}

#[derive(Deserialize)]
struct BooleanAnswer {
    value: Option<bool>,
}

pub(crate) fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// A short, cleaned excerpt of a body for a message: `'<html>...'` or `an empty body`.
pub(crate) fn shown_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        excerpt.push_str("...");
    }
    if excerpt.is_empty() {
        "an empty body".to_owned()
    } else {
        format!("'{}'", clean(&excerpt))
    }
}

fn unexpected_answer(status: u16, content_type: Option<&str>, body: &[u8]) -> GraphError {
    let shown = shown_excerpt(body);
    GraphError {
        kind: ErrorKind::UnexpectedResponse,
        message: format!(
            "the answer is not Graph's answer to this request (HTTP {status}, content type {}, {shown}): the user's sessions may not have been revoked; check the Graph endpoint and any proxy, then run the command again",
            content_type.unwrap_or("none")
        ),
        service: Some(Box::new(ServiceDetail {
            status: Some(status),
            ..ServiceDetail::default()
        })),
    }
}

impl Session {
    /// Invalidates every refresh token and session cookie of one user.
    pub async fn invalidate_all_refresh_tokens(
        &self,
        user: &UserId,
        options: &RequestOptions,
    ) -> Result<RevocationOutcome, GraphError> {
        self.revoke(user, RevocationAction::InvalidateAllRefreshTokens, options)
            .await
    }

    /// Signs one user out everywhere with the given action.
    pub async fn revoke(
        &self,
        user: &UserId,
        action: RevocationAction,
        options: &RequestOptions,
    ) -> Result<RevocationOutcome, GraphError> {
        let request = self.prepare_revocation(user, action, options);
        let response = self.send(&request, options).await?;
        interpret_revocation(&request, response)
    }

    /// The request for one user, with a new client-request-id and the caller's extra headers.
    pub fn prepare_revocation(
        &self,
        user: &UserId,
        action: RevocationAction,
        options: &RequestOptions,
    ) -> PreparedRequest {
        let mut headers = vec![("client-request-id".to_owned(), Uuid::new_v4().to_string())];
        for (name, value) in options.headers() {
            // A caller-chosen client-request-id replaces ours: it is how they correlate.
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        PreparedRequest {
            method: "POST".to_owned(),
            url: format!(
                "{}/beta/{}/{}",
                self.environment.graph_endpoint,
                user.users_path(),
                action.name()
            ),
            headers,
            body: String::new(),
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
    let value = graph_boolean(
        response.status,
        find_header(&response.headers, "content-type"),
        response.body.as_bytes(),
    )
    .map_err(|mut error| {
        if let Some(service) = error.service.as_mut() {
            service.request_id = request_id.clone();
            service.client_request_id = Some(client_request_id.clone());
        }
        error
    })?;
    Ok(RevocationOutcome {
        value,
        status: response.status,
        request_id,
        client_request_id,
        headers: response.headers,
        exchange: response.exchange,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json;odata.metadata=minimal;charset=utf-8");

    #[test]
    fn actions_are_named_as_graph_names_them() {
        for action in [
            RevocationAction::InvalidateAllRefreshTokens,
            RevocationAction::RevokeSignInSessions,
        ] {
            assert_eq!(RevocationAction::parse(action.name()).ok(), Some(action));
            assert_eq!(
                serde_json::to_value(action).ok(),
                Some(serde_json::Value::from(action.name()))
            );
        }
        let error = RevocationAction::parse("deleteUser\u{1b}").expect_err("unknown");
        assert_eq!(error.kind, ErrorKind::InvalidArgument);
        assert_eq!(
            RevocationAction::default().name(),
            "invalidateAllRefreshTokens"
        );
    }

    #[test]
    fn only_graph_success_answers_are_success() {
        assert_eq!(graph_boolean(204, None, b"").ok(), Some(true));
        assert_eq!(
            graph_boolean(200, JSON, br#"{"@odata.context":"x","value":true}"#).ok(),
            Some(true)
        );
        assert_eq!(
            graph_boolean(200, JSON, br#"{"value":false}"#).ok(),
            Some(false)
        );
    }

    #[test]
    fn anything_else_is_an_error_naming_what_came_back() {
        for (status, content_type, body) in [
            (200, Some("text/html"), "<html>{\"value\":true}</html>"),
            (200, JSON, r#"{"value":"false"}"#),
            (200, JSON, r#"{"value":"true"}"#),
            (200, JSON, r#"{"value":null}"#),
            (200, JSON, r#"{"value":tr"#),
            (200, JSON, r#"{"error":{"code":"x","message":"y"}}"#),
            (200, JSON, ""),
            (200, None, r#"{"value":true}"#),
            (201, JSON, r#"{"value":true}"#),
            (202, None, ""),
        ] {
            let error = graph_boolean(status, content_type, body.as_bytes()).expect_err(body);
            assert_eq!(error.kind, ErrorKind::UnexpectedResponse, "{body}");
            assert!(
                error.message.contains(&format!("HTTP {status}")),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn the_excerpt_is_short_and_redacted() {
        let body = format!(
            "<html>access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln {}</html>",
            "x".repeat(5000)
        );
        let error = graph_boolean(200, Some("text/html"), body.as_bytes()).expect_err("html");
        assert!(!error.message.contains("eyJ"), "{}", error.message);
        assert!(error.message.len() < 600, "{}", error.message);
    }
}
