//! `-Verify`: reading a revoked user back to show that the revocation took effect.
//!
//! After a revocation, `GET /users/{id}?$select=id,signInSessionsValidFromDateTime` must show
//! sessions valid only from the revocation time on. That time is the `Date` header of Graph's
//! answer to the revocation (one second of tolerance: both have second precision); a missing
//! or unreadable `Date` means the time is unknown, and nothing is confirmed. While
//! replication lag still shows the old value, the user is read again, every
//! [`LAG_REREAD`] for up to [`LAG_WINDOW`]. The read answer is believed only when it is
//! Graph's: `200`, a JSON content type, a JSON object with a parsable
//! `signInSessionsValidFromDateTime`. Batched reads and their pacing live in
//! `bulk::finish`; this module holds the rules both single and batched reads use. It does
//! not read a user that Graph said `false` for, nor resolve a UPN to an id before revoking.

use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::address::UserId;
use crate::error::{ErrorKind, GraphError, ServiceDetail};
use crate::redact::clean;
use crate::retry::parse_http_date;
use crate::revoke::{is_json_content_type, shown_excerpt};

/// The query of every read-back.
pub const READ_QUERY: &str = "$select=id,signInSessionsValidFromDateTime";

/// Both times have second precision, and Graph stamps the user a moment before its `Date`.
pub const TOLERANCE: Duration = Duration::from_secs(1);

/// How long a read that still shows the old value is repeated (replication lag).
pub const LAG_WINDOW: Duration = Duration::from_secs(6);

/// Wait between two reads of a user whose read still shows the old value.
pub const LAG_REREAD: Duration = Duration::from_millis(750);

/// The path of a user's read-back, relative to `{graph}/beta` (as a `$batch` item's `url`).
pub fn read_path(user: &UserId) -> String {
    format!("/{}?{READ_QUERY}", user.users_path())
}

/// What a read-back showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    /// The user's object id, as Graph answered it (cleaned).
    pub id: Option<String>,
    pub valid_from: OffsetDateTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserAnswer {
    id: Option<String>,
    sign_in_sessions_valid_from_date_time: Option<String>,
}

/// Reads Graph's answer to a read-back (a 2xx status; errors are read by the caller).
pub fn read_back(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<ReadBack, GraphError> {
    let answer = (status == 200 && content_type.is_some_and(is_json_content_type))
        .then(|| serde_json::from_slice::<UserAnswer>(body).ok())
        .flatten();
    let valid_from = answer.as_ref().and_then(|answer| {
        answer
            .sign_in_sessions_valid_from_date_time
            .as_deref()
            .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
    });
    match (answer, valid_from) {
        (Some(answer), Some(valid_from)) => Ok(ReadBack {
            id: answer.id.map(|id| clean(&id)),
            valid_from,
        }),
        _ => Err(GraphError {
            kind: ErrorKind::UnexpectedResponse,
            message: format!(
                "the read-back is not Graph's user with a readable signInSessionsValidFromDateTime (HTTP {status}, content type {}, {})",
                content_type.unwrap_or("none"),
                shown_excerpt(body)
            ),
            service: Some(Box::new(ServiceDetail {
                status: Some(status),
                ..ServiceDetail::default()
            })),
        }),
    }
}

/// The revocation time from the `Date` header of Graph's answer to it.
pub fn revocation_time(date_header: Option<&str>) -> Option<OffsetDateTime> {
    date_header.and_then(parse_http_date)
}

/// Whether a read-back shows sessions valid only from the revocation on.
pub fn confirms(revoked_at: OffsetDateTime, read: &ReadBack) -> bool {
    read.valid_from + TOLERANCE >= revoked_at
}

/// ISO 8601 UTC text of a time, for messages and the journal.
pub fn iso(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The error for a revocation that could not be confirmed; `cause` says why.
pub fn not_confirmed(user: &str, cause: &str, service: Option<ServiceDetail>) -> GraphError {
    GraphError {
        kind: ErrorKind::RevocationNotConfirmed,
        message: format!(
            "the revocation of '{}' was not confirmed: {cause}; the user may still have valid sessions: check the user in the Entra admin center, then run the command again for this user",
            clean(user)
        ),
        service: service.map(Box::new),
    }
}

/// Why a read that kept showing the old value does not confirm the revocation.
pub fn still_old(revoked_at: OffsetDateTime, read: &ReadBack) -> String {
    format!(
        "signInSessionsValidFromDateTime is {}, earlier than the revocation time {} (Graph's Date header), after reading for {} s",
        iso(read.valid_from),
        iso(revoked_at),
        LAG_WINDOW.as_secs()
    )
}

/// Why a revocation whose answer had no readable `Date` cannot be confirmed.
pub fn unknown_time(date_header: Option<&str>) -> String {
    match date_header {
        Some(value) => format!(
            "Graph's answer to the revocation had an unreadable Date header ('{}'), so the revocation time is unknown",
            clean(value)
        ),
        None => {
            "Graph's answer to the revocation had no Date header, so the revocation time is unknown"
                .to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json;odata.metadata=minimal");

    #[test]
    fn only_graph_users_with_a_time_are_read() {
        let read = read_back(
            200,
            JSON,
            br#"{"id":"x","signInSessionsValidFromDateTime":"2026-12-02T20:09:02Z"}"#,
        )
        .expect("read");
        assert_eq!(read.id.as_deref(), Some("x"));
        for (status, content_type, body) in [
            (
                200,
                Some("text/html"),
                r#"{"signInSessionsValidFromDateTime":"2026-12-02T20:09:02Z"}"#,
            ),
            (
                200,
                JSON,
                r#"{"signInSessionsValidFromDateTime":"yesterday"}"#,
            ),
            (200, JSON, r#"{"signInSessionsValidFromDateTime":null}"#),
            (200, JSON, r#"{"id":"x"}"#),
            (200, JSON, "<html>"),
            (
                203,
                JSON,
                r#"{"signInSessionsValidFromDateTime":"2026-12-02T20:09:02Z"}"#,
            ),
        ] {
            let error = read_back(status, content_type, body.as_bytes()).expect_err(body);
            assert_eq!(error.kind, ErrorKind::UnexpectedResponse, "{body}");
        }
    }

    #[test]
    fn a_second_of_tolerance_and_no_more() {
        let revoked_at = revocation_time(Some("Wed, 02 Dec 2026 20:09:02 GMT")).expect("date");
        let read = |text: &str| ReadBack {
            id: None,
            valid_from: OffsetDateTime::parse(text, &Rfc3339).expect("time"),
        };
        assert!(confirms(revoked_at, &read("2026-12-02T20:09:02Z")));
        assert!(confirms(revoked_at, &read("2026-12-02T20:09:01Z")));
        assert!(!confirms(revoked_at, &read("2026-12-02T20:09:00Z")));
        assert!(revocation_time(Some("soon")).is_none());
        assert!(revocation_time(None).is_none());
    }
}
