//! The journal of Graph requests, in arrival order, exactly as they came over the wire (raw path,
//! headers, body), so tests can assert on what a client really sent: encoding, retry headers,
//! correlation ids, timing between retries. A request is journaled when it arrives and its status
//! is filled in once the answer is decided.

use std::collections::BTreeMap;
use std::time::Instant;

use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// One Graph request as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// 1-based position in arrival order (restarts after the journal is cleared).
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// The path exactly as received, still percent-encoded.
    pub raw_path: String,
    /// The raw query string without `?`, if any.
    pub query: Option<String>,
    /// Lower-cased header names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body, UTF-8 (invalid bytes replaced).
    pub body: String,
    /// Status of the answer; `None` until the answer is decided (or if the client hung up first).
    pub status: Option<u16>,
    /// The decoded id the route resolved to (for `/me`, the token's `upn` or `oid`).
    pub user_id: Option<String>,
    /// Milliseconds since the server started, when the request arrived (to check retry pacing).
    pub received_at_ms: u64,
}

impl RecordedRequest {
    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Identifies a journal entry so its status can be filled in later, and only if the journal was
/// not cleared in between (the epoch changes on every clear).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    epoch: u64,
    seq: u64,
}

pub(crate) struct Recorder {
    started: Instant,
    epoch: u64,
    entries: Vec<RecordedRequest>,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            started: Instant::now(),
            epoch: 0,
            entries: Vec::new(),
        }
    }

    pub fn begin(
        &mut self,
        method: &str,
        raw_path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
        user_id: Option<&str>,
    ) -> Ticket {
        let mut joined: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            joined
                .entry(name.as_str().to_owned())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let seq = self.entries.len() as u64 + 1;
        self.entries.push(RecordedRequest {
            seq,
            method: method.to_owned(),
            raw_path: raw_path.to_owned(),
            query: query.map(str::to_owned),
            headers: joined,
            body: String::from_utf8_lossy(body).into_owned(),
            status: None,
            user_id: user_id.map(str::to_owned),
            received_at_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        Ticket {
            epoch: self.epoch,
            seq,
        }
    }

    /// Fills in the answer's status (and the user a `/me` request resolved to).
    pub fn finish(&mut self, ticket: Ticket, status: u16, user_id: Option<&str>) {
        if ticket.epoch != self.epoch {
            return;
        }
        let index = usize::try_from(ticket.seq.saturating_sub(1)).unwrap_or(usize::MAX);
        if let Some(entry) = self.entries.get_mut(index) {
            entry.status = Some(status);
            if let Some(id) = user_id {
                entry.user_id = Some(id.to_owned());
            }
        }
    }

    pub fn snapshot(&self) -> Vec<RecordedRequest> {
        self.entries.clone()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.epoch += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_after_clear_is_ignored() {
        let mut r = Recorder::new();
        let mut h = HeaderMap::new();
        h.append("x-a", http::HeaderValue::from_static("1"));
        h.append("x-a", http::HeaderValue::from_static("2"));
        let old = r.begin("POST", "/p", None, &h, b"", Some("u"));
        r.clear();
        let new = r.begin("POST", "/q", Some("a=b"), &h, b"{}", None);
        r.finish(old, 500, None);
        r.finish(new, 200, Some("me@x.com"));
        let all = r.snapshot();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].seq, 1);
        assert_eq!(all[0].status, Some(200));
        assert_eq!(all[0].user_id.as_deref(), Some("me@x.com"));
        assert_eq!(all[0].header("X-A"), Some("1, 2"));
    }
}
