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
    /// For a `$batch` item: the `seq` of the `$batch` request that carried it. Items are journaled
    /// as requests of their own (method, path built from the item's `url`, item headers and body)
    /// right after their batch.
    #[serde(default)]
    pub batch_id: Option<u64>,
    /// For a `$batch` item: its `id` inside the batch.
    #[serde(default)]
    pub batch_item_id: Option<String>,
    /// What the mock injected instead of (or on top of) the normal answer: a fault kind
    /// (`status`, `reset`, `malformedJson`, `slow`) or `chaos:<what>`; `throttled` for a 429 of
    /// the throttling model. A `reset` leaves `status` empty: nothing was answered.
    #[serde(default)]
    pub injected: Option<String>,
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

impl Ticket {
    pub fn seq(self) -> u64 {
        self.seq
    }
}

/// Where a `$batch` item came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchRef<'a> {
    pub batch_id: u64,
    pub item_id: &'a str,
}

/// What a request looked like on arrival.
pub(crate) struct Arrival<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub user_id: Option<&'a str>,
    pub batch: Option<BatchRef<'a>>,
}

/// How the request was answered.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Departure<'a> {
    pub status: Option<u16>,
    pub user_id: Option<&'a str>,
    pub injected: Option<&'a str>,
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

    pub fn begin(&mut self, a: &Arrival<'_>) -> Ticket {
        let mut joined: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in a.headers {
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
            method: a.method.to_owned(),
            raw_path: a.raw_path.to_owned(),
            query: a.query.map(str::to_owned),
            headers: joined,
            body: String::from_utf8_lossy(a.body).into_owned(),
            status: None,
            user_id: a.user_id.map(str::to_owned),
            received_at_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            batch_id: a.batch.map(|b| b.batch_id),
            batch_item_id: a.batch.map(|b| b.item_id.to_owned()),
            injected: None,
        });
        Ticket {
            epoch: self.epoch,
            seq,
        }
    }

    /// Fills in how the request was answered (and the user a `/me` request resolved to).
    pub fn finish(&mut self, ticket: Ticket, d: Departure<'_>) {
        if ticket.epoch != self.epoch {
            return;
        }
        let index = usize::try_from(ticket.seq.saturating_sub(1)).unwrap_or(usize::MAX);
        if let Some(entry) = self.entries.get_mut(index) {
            entry.status = d.status;
            if let Some(id) = d.user_id {
                entry.user_id = Some(id.to_owned());
            }
            entry.injected = d.injected.map(str::to_owned);
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
        let arrival = |path, query, body| Arrival {
            method: "POST",
            raw_path: path,
            query,
            headers: &h,
            body,
            user_id: Some("u"),
            batch: None,
        };
        let old = r.begin(&arrival("/p", None, b""));
        r.clear();
        let new = r.begin(&arrival("/q", Some("a=b"), b"{}"));
        let done = |status, user_id| Departure {
            status: Some(status),
            user_id,
            injected: None,
        };
        r.finish(old, done(500, None));
        r.finish(new, done(200, Some("me@x.com")));
        let all = r.snapshot();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].seq, 1);
        assert_eq!(all[0].status, Some(200));
        assert_eq!(all[0].user_id.as_deref(), Some("me@x.com"));
        assert_eq!(all[0].header("X-A"), Some("1, 2"));
    }
}
