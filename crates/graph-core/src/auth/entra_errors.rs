//! Entra ID's refusals as errors a user can act on: the AADSTS code in the message and in the
//! error's `code`, the trace and correlation ids kept for support, and a hint for the common
//! codes. Text from the network goes through [`clean`](crate::redact::clean).

use serde::Deserialize;

use crate::error::{ErrorKind, GraphError, ServiceDetail};
use crate::redact::clean;

/// Entra's error body: `{"error","error_description","error_codes","timestamp","trace_id","correlation_id"}`.
#[derive(Deserialize, Default)]
struct EntraErrorBody {
    error: Option<String>,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u64>,
    timestamp: Option<String>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
}

/// The OAuth `error` of a refusal, for callers that branch on it (device code polling).
pub fn oauth_error(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<EntraErrorBody>(body)
        .ok()
        .and_then(|parsed| parsed.error)
}

/// What to do about the common AADSTS codes.
fn hint(code: u64) -> &'static str {
    match code {
        7_000_215 => "check the client secret: pass its value, not its id",
        7_000_222 => "the client secret has expired: create a new one for the app registration",
        700_016 => "check -ClientId and -TenantId: the app is not registered in that tenant",
        90_002 => "check -TenantId and -Environment: the tenant does not exist in that cloud",
        700_027 => {
            "check the certificate: it must be the one uploaded to the app registration, with its private key"
        }
        700_024 => "check the computer's clock: the client assertion is outside its validity",
        50_173 | 700_082 | 70_008 | 70_000 => {
            "the sign-in has expired or was revoked: run Connect-MgGraph to sign in again"
        }
        70_011 => "check the scopes asked for",
        _ => "see the AADSTS code in Microsoft's documentation",
    }
}

/// Builds the error for a non-success answer of the token endpoint. `what` names the flow
/// ("the client secret", "the certificate"...).
pub fn from_token_response(
    status: u16,
    body: &[u8],
    client_request_id: &str,
    what: &str,
) -> GraphError {
    let parsed = serde_json::from_slice::<EntraErrorBody>(body).unwrap_or_default();
    let code = parsed.error_codes.first().copied();
    let description = parsed
        .error_description
        .as_deref()
        .and_then(|text| text.lines().next())
        .map(|line| clean(line.trim()))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let excerpt: String = text.trim().chars().take(200).collect();
            if excerpt.is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                format!("HTTP {status}: {}", clean(&excerpt))
            }
        });
    let oauth = parsed.error.as_deref().unwrap_or("unknown_error");
    // Entra's description repeats the code ("AADSTS7000215: ..."); it is named once, up front.
    let description = match code {
        Some(code) => description
            .strip_prefix(&format!("AADSTS{code}:"))
            .map(str::trim)
            .map(str::to_owned)
            .unwrap_or(description),
        None => description,
    };
    let description = description.trim_end_matches('.');
    let mut ids = Vec::new();
    if let Some(trace) = &parsed.trace_id {
        ids.push(format!("trace id {trace}"));
    }
    if let Some(correlation) = &parsed.correlation_id {
        ids.push(format!("correlation id {correlation}"));
    }
    let ids = if ids.is_empty() {
        String::new()
    } else {
        format!(" ({})", ids.join(", "))
    };
    let message = match code {
        Some(code) => format!(
            "Entra ID refused {what} with AADSTS{code} ({oauth}): {description}; {}{ids}",
            hint(code)
        ),
        None => format!("Entra ID refused {what} ({oauth}): {description}{ids}"),
    };
    GraphError {
        kind: ErrorKind::Authentication,
        message,
        service: Some(Box::new(ServiceDetail {
            status: Some(status),
            code: Some(code.map_or_else(|| oauth.to_owned(), |code| format!("AADSTS{code}"))),
            request_id: parsed.trace_id,
            client_request_id: Some(
                parsed
                    .correlation_id
                    .unwrap_or_else(|| client_request_id.to_owned()),
            ),
            date: parsed.timestamp,
            exchange: None,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadsts_code_is_named_with_a_hint_and_ids_are_kept() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2025-02-13 10:17:06Z","error_codes":[7000215],"timestamp":"2025-02-13 10:17:06Z","trace_id":"t-1","correlation_id":"c-1"}"#;
        let error = from_token_response(401, body, "mine", "the client secret");
        assert_eq!(error.kind, ErrorKind::Authentication);
        assert!(error.message.contains("AADSTS7000215"), "{}", error.message);
        assert!(error.message.contains("check the client secret"));
        assert!(!error.message.contains("Trace ID"), "{}", error.message);
        assert_eq!(
            error.message.matches("AADSTS7000215").count(),
            1,
            "{}",
            error.message
        );
        assert!(error.message.contains("trace id t-1, correlation id c-1"));
        let service = error.service();
        assert_eq!(service.code.as_deref(), Some("AADSTS7000215"));
        assert_eq!(service.request_id.as_deref(), Some("t-1"));
        assert_eq!(service.client_request_id.as_deref(), Some("c-1"));
    }

    #[test]
    fn a_body_that_is_not_entra_is_summarised() {
        let error = from_token_response(502, b"<html>bad gateway</html>", "c", "the client secret");
        assert!(error.message.contains("HTTP 502"), "{}", error.message);
        assert_eq!(error.service().client_request_id.as_deref(), Some("c"));
    }
}
