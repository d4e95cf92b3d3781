//! The operation itself: `POST {graph}/beta/users/{id}/invalidateAllRefreshTokens`.
//!
//! Success is any 2xx: Graph documents 204 but really answers 200 with an `Edm.Boolean`
//! body, and the official module crashed on that mismatch for years. Each request carries a
//! fresh `client-request-id` so a failure can be found in the service's logs.
//!
//! Not handled yet: retries and throttling.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::address::UserId;
use crate::error::{ErrorKind, GraphError, ServiceDetail};
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
    ) -> Result<RevocationOutcome, GraphError> {
        let url = format!(
            "{}/beta/{}/invalidateAllRefreshTokens",
            self.environment.graph_endpoint,
            user.users_path()
        );
        let client_request_id = Uuid::new_v4().to_string();
        let authorization = self.token.authorization_header();
        let mut authorization_value = reqwest::header::HeaderValue::from_str(&authorization)
            .map_err(|_| {
                GraphError::new(
                    ErrorKind::Authentication,
                    "the access token cannot be sent in an HTTP header",
                )
            })?;
        authorization_value.set_sensitive(true);
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::AUTHORIZATION, authorization_value)
            .header("client-request-id", &client_request_id)
            .header(reqwest::header::CONTENT_LENGTH, "0")
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
        let request_id = header_value(&headers, "request-id");
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_error(&error, &client_request_id))?;

        if !(200..300).contains(&status) {
            return Err(GraphError::from_graph_response(
                status,
                &body,
                request_id,
                client_request_id,
            ));
        }
        let value = serde_json::from_slice::<BooleanAnswer>(&body)
            .ok()
            .and_then(|answer| answer.value)
            .unwrap_or(true);
        Ok(RevocationOutcome {
            value,
            status,
            request_id,
            client_request_id,
            headers,
        })
    }
}

fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.clone())
}

fn transport_error(error: &reqwest::Error, client_request_id: &str) -> GraphError {
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
    // The chain names the real cause (DNS, refused, certificate); it holds no secret.
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    let mut graph_error = GraphError::new(kind, message);
    graph_error.service = Some(Box::new(ServiceDetail {
        client_request_id: Some(client_request_id.to_owned()),
        ..ServiceDetail::default()
    }));
    graph_error
}
