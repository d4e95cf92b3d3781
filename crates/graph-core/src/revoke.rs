//! The operation itself: `POST {graph}/beta/users/{id}/invalidateAllRefreshTokens`.
//!
//! Three steps, public so the shim can run a script's pipeline steps between them:
//! [`Session::prepare_revocation`] builds the request (no credential), [`Session::send`]
//! adds the token and sends it with retries (only to the session's own Graph endpoint), and
//! [`interpret_revocation`] reads the answer. Success is any 2xx: Graph documents 204 but
//! really answers 200 with an `Edm.Boolean` body, and the official module crashed on that
//! mismatch for years. Each request carries a fresh `client-request-id`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::address::UserId;
use crate::error::GraphError;
use crate::exchange::{Exchange, PreparedRequest, RawResponse, find_header};
use crate::request_options::RequestOptions;
use crate::send::proxy_authentication_error;
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
