//! Finished items, handed to the caller's polling thread.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::Notify;

use super::Progress;
use crate::error::GraphError;

/// A successful item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemOutcome {
    pub value: bool,
    pub status: u16,
    pub request_id: Option<String>,
    pub client_request_id: Option<String>,
    /// The answer's `Date` header (the batch's for a batch item): when Graph revoked.
    #[serde(skip)]
    pub date: Option<String>,
    /// `-Verify`: the read-back showed sessions valid only from the revocation on.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub verified: bool,
    /// `-JournalPath`: not sent, because the journal records the user as revoked or verified
    /// (the outcome recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_journal: Option<&'static str>,
}

/// One item's final outcome.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ItemOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<GraphError>,
}

impl Completion {
    pub(crate) fn succeeded(seq: u64, outcome: ItemOutcome) -> Completion {
        Completion {
            seq,
            outcome: Some(outcome),
            error: None,
        }
    }

    /// A user the journal records as done (`revoked` or `verified`): not sent again.
    pub(crate) fn skipped(seq: u64, recorded: &'static str) -> Completion {
        Completion::succeeded(
            seq,
            ItemOutcome {
                value: true,
                status: 0,
                request_id: None,
                client_request_id: None,
                date: None,
                verified: false,
                from_journal: Some(recorded),
            },
        )
    }

    pub(crate) fn failed(seq: u64, error: GraphError) -> Completion {
        Completion {
            seq,
            outcome: None,
            error: Some(error.for_display()),
        }
    }
}

/// What one poll returns.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Poll {
    pub completions: Vec<Completion>,
    pub progress: Progress,
    /// Every submitted item has an outcome and no more will come (or the run was cancelled).
    pub finished: bool,
    pub cancelled: bool,
}

#[derive(Default)]
pub(crate) struct CompletionQueue {
    items: Mutex<VecDeque<Completion>>,
    finished: AtomicBool,
    changed: Notify,
}

impl CompletionQueue {
    pub(crate) fn push(&self, completion: Completion) {
        self.items.lock().push_back(completion);
        self.changed.notify_waiters();
    }

    pub(crate) fn finish(&self) {
        self.finished.store(true, Ordering::Release);
        self.changed.notify_waiters();
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire) && self.items.lock().is_empty()
    }

    /// Returns what is there now, without waiting.
    pub(crate) fn take_now(&self, max_items: usize) -> Vec<Completion> {
        let mut items = self.items.lock();
        let count = items.len().min(max_items.max(1));
        items.drain(..count).collect()
    }

    /// Returns what is there; if nothing, waits up to `max_wait` for something.
    pub(crate) async fn take(&self, max_wait: Duration, max_items: usize) -> Vec<Completion> {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            // Registered before checking, so a push between the check and the wait is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut items = self.items.lock();
                if !items.is_empty() || self.finished.load(Ordering::Acquire) {
                    let count = items.len().min(max_items.max(1));
                    return items.drain(..count).collect();
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Vec::new();
            }
        }
    }
}
