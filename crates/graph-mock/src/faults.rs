//! Injected answers ("faults"): a FIFO queue of canned misbehaviours that pre-empt the normal
//! handling of matching Graph requests (and `$batch` items), so tests can make the service
//! throttle, fail or misbehave exactly when they want. The first matching fault fires, then its
//! `times` count goes down; at zero it is gone.
//!
//! Kinds: `status` (a canned answer, the default), `reset` (the connection is dropped without an
//! answer; inside a `$batch` the item answers 504 instead, since one item cannot drop the shared
//! connection), `malformedJson` (a JSON content type with a truncated body; inside a `$batch` the
//! whole batch answer is truncated) and `slow` (the normal answer, after `latencyMs`, so the action
//! really happens even if the client gives up waiting).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderName, HeaderValue, StatusCode, header::CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::route::ApiVersion;
use crate::users::User;
use crate::wire::{self, Correlation};

/// Which Graph requests a fault applies to; every given condition must hold, none given matches all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultMatch {
    /// The decoded id the route addresses, or the id/UPN of the user it resolves to
    /// (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// A substring of the raw (still percent-encoded) request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
}

/// What a fault does to the request it fires on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum FaultKind {
    /// Answers `status` with `headers` and `body` (the Graph error body when none is given).
    #[default]
    Status,
    /// Drops the connection after reading the request, without answering (a TCP RST).
    Reset,
    /// Answers `status` (default 200) with a JSON content type and a truncated JSON body.
    MalformedJson,
    /// Handles the request normally, but answers only after `latencyMs`.
    Slow,
}

/// One queued misbehaviour (the body of `POST /_mock/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// Which requests it answers.
    #[serde(default, rename = "match")]
    pub matcher: FaultMatch,
    /// What it does (default `status`).
    #[serde(default)]
    pub kind: FaultKind,
    /// HTTP status, 200-599: required for `status`, optional for `malformedJson` (default 200),
    /// ignored (0) otherwise.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub status: u16,
    /// Extra response headers, e.g. `{"Retry-After":"1"}`; they win over the mock's own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body: a JSON value is serialised, a JSON string is sent verbatim (so a test can send
    /// broken JSON or HTML). Absent: the Graph error body for `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Delay before answering, on top of the global latency.
    #[serde(default)]
    pub latency_ms: u64,
    /// How many requests it answers before it is removed (at least 1).
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

impl Fault {
    /// A fault answering `times` matching requests with `status` and the default Graph body.
    pub fn status(status: u16) -> Self {
        Fault {
            matcher: FaultMatch::default(),
            kind: FaultKind::Status,
            status,
            headers: BTreeMap::new(),
            body: None,
            latency_ms: 0,
            times: 1,
        }
    }

    /// A fault dropping the connection of one matching request without answering.
    pub fn reset() -> Self {
        Fault {
            kind: FaultKind::Reset,
            ..Fault::status(0)
        }
    }

    /// A fault answering 200 with a JSON content type and a truncated body.
    pub fn malformed_json() -> Self {
        Fault {
            kind: FaultKind::MalformedJson,
            ..Fault::status(0)
        }
    }

    /// A fault letting a matching request through but answering only after `latency`.
    pub fn slow(latency: Duration) -> Self {
        Fault {
            kind: FaultKind::Slow,
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            ..Fault::status(0)
        }
    }

    /// Restricts the fault to requests whose raw path contains `fragment`.
    pub fn path_contains(mut self, fragment: impl Into<String>) -> Self {
        self.matcher.path_contains = Some(fragment.into());
        self
    }

    /// Sets the delay before the fault fires (builder style).
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Restricts the fault to requests addressing this user.
    pub fn for_user(mut self, user_id: impl Into<String>) -> Self {
        self.matcher.user_id = Some(user_id.into());
        self
    }

    /// Sets how many requests it answers.
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    /// Checks what would otherwise fail only when the fault fires.
    pub fn validate(&self) -> Result<(), String> {
        let status_ok = (200..=599).contains(&self.status)
            || (self.status == 0 && self.kind != FaultKind::Status);
        if !status_ok {
            return Err(format!("status {} is not in 200..=599", self.status));
        }
        if self.times == 0 {
            return Err("times must be at least 1".to_owned());
        }
        for (name, value) in &self.headers {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name '{name}'"))?;
            HeaderValue::from_str(value)
                .map_err(|_| format!("invalid value for header '{name}'"))?;
        }
        Ok(())
    }

    fn matches(&self, raw_path: &str, route_id: Option<&str>, user: Option<&User>) -> bool {
        let path_ok = self
            .matcher
            .path_contains
            .as_deref()
            .is_none_or(|p| raw_path.contains(p));
        let user_ok = self.matcher.user_id.as_deref().is_none_or(|want| {
            route_id.is_some_and(|id| id.to_lowercase() == want.to_lowercase())
                || user.is_some_and(|u| {
                    u.id.eq_ignore_ascii_case(want)
                        || u.user_principal_name.to_lowercase() == want.to_lowercase()
                })
        });
        path_ok && user_ok
    }

    /// The answer of a `malformedJson` fault: the start of the action's success body, cut short.
    pub(crate) fn malformed_response(&self, version: ApiVersion) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut resp = Response::new(Body::from(wire::truncated_success_body(version)));
        *resp.status_mut() = status;
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(wire::ODATA_JSON));
        self.add_headers(&mut resp);
        resp
    }

    /// The answer of a `status` fault. `version` picks the `@odata.context` of a bodiless 200.
    pub(crate) fn response(&self, corr: &Correlation, version: ApiVersion) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = match &self.body {
            // 204/304 must not carry a body; other 2xx/3xx without one are sent empty, except
            // 200 which is the action's normal success answer.
            None if status == StatusCode::OK => wire::success_response(version),
            None if status.is_success() || status.is_redirection() => {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = status;
                r
            }
            None => {
                let (code, message) = wire::default_error_for(status);
                wire::error_response(status, code, message, corr)
            }
            Some(_) if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED => {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = status;
                r
            }
            Some(Value::String(text)) => {
                let mut r = Response::new(Body::from(text.clone()));
                *r.status_mut() = status;
                r.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                r
            }
            Some(value) => wire::json_response(status, value, "application/json"),
        };
        self.add_headers(&mut resp);
        resp
    }

    fn add_headers(&self, resp: &mut Response) {
        for (name, value) in &self.headers {
            // Validated when queued; a bad pair is skipped rather than failing the answer.
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                resp.headers_mut().insert(n, v);
            }
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }
}

/// The queue, oldest first.
#[derive(Default)]
pub(crate) struct FaultQueue {
    queue: Vec<Fault>,
}

impl FaultQueue {
    pub fn push(&mut self, fault: Fault) -> Result<usize, String> {
        fault.validate()?;
        self.queue.push(fault);
        Ok(self.queue.len())
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn pending(&self) -> Vec<Fault> {
        self.queue.clone()
    }

    /// Takes one use of the first fault matching this request.
    pub fn take(
        &mut self,
        raw_path: &str,
        route_id: Option<&str>,
        user: Option<&User>,
    ) -> Option<Fault> {
        let i = self
            .queue
            .iter()
            .position(|f| f.matches(raw_path, route_id, user))?;
        let fault = self.queue.get_mut(i)?;
        fault.times = fault.times.saturating_sub(1);
        let taken = fault.clone();
        if fault.times == 0 {
            self.queue.remove(i);
        }
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins_and_expires() {
        let mut q = FaultQueue::default();
        assert_eq!(q.push(Fault::status(503).for_user("a@x.com")), Ok(1));
        assert_eq!(q.push(Fault::status(429).times(2)), Ok(2));
        let take = |q: &mut FaultQueue, id: &str| q.take("/p", Some(id), None).map(|f| f.status);
        assert_eq!(take(&mut q, "b@x.com"), Some(429));
        assert_eq!(take(&mut q, "A@X.com"), Some(503));
        assert_eq!(take(&mut q, "a@x.com"), Some(429));
        assert_eq!(take(&mut q, "a@x.com"), None);
    }

    #[test]
    fn validation() {
        assert!(Fault::status(100).validate().is_err());
        assert!(Fault::status(0).validate().is_err());
        assert!(Fault::reset().validate().is_ok());
        assert!(Fault::malformed_json().validate().is_ok());
        assert!(Fault::slow(Duration::from_millis(5)).validate().is_ok());
        assert!(Fault::status(429).times(0).validate().is_err());
        assert!(
            Fault::status(429)
                .header("Bad Name", "1")
                .validate()
                .is_err()
        );
        assert!(
            Fault::status(429)
                .header("Retry-After", "1")
                .validate()
                .is_ok()
        );
    }
}
