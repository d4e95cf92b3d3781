//! The bulk engine: many users revoked as fast as Graph allows, nothing lost, order kept
//! for the caller to restore.
//!
//! The caller submits items with sequence numbers and polls completions, which arrive in
//! any order. Inside, a dispatcher sends ready items as JSON batches (up to 20 per
//! `$batch`, a lone item as a plain POST), with a number of requests in flight that adapts
//! to Graph's signals ([`concurrency`]): it grows while answers are clean, shrinks on
//! throttling or when `x-ms-throttle-limit-percentage` says the quota is nearly used. Once a
//! quota 429 shows the quota is exhausted, items are paced at the quota's measured refill
//! rate ([`pacer`]), and everything pauses until that 429's `Retry-After` has passed; other
//! 429s only delay their own items. Throttled items wait without spending retries, within
//! `RetriesTimeLimit`; 503/504 and broken connections spend `MaxRetry`. Cancelling stops
//! all sending at once. A run with `verify` or a journal passes each answered item through
//! a finisher ([`finish`]) that reads the user back and journals the outcome before the
//! caller sees it; a user the journal records as done completes at once, unsent.

mod batch;
mod completion;
mod concurrency;
mod dispatcher;
mod finish;
mod pacer;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::address::UserId;
use crate::error::GraphError;
use crate::journal::Journal;
use crate::request_context::RequestContext;
use crate::request_options::RequestOptions;
use crate::revoke::RevocationAction;
use crate::runtime::runtime;
use crate::session::Session;

pub use completion::{Completion, ItemOutcome, Poll};

/// Counters a progress bar shows.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub submitted: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Users not sent because the journal records them as done.
    pub skipped: u64,
    /// 429 answers received (batch or item level).
    pub throttled: u64,
    /// Requests currently allowed in flight.
    pub concurrency: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    submitted: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    throttled: AtomicU64,
    concurrency: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Progress {
        Progress {
            submitted: self.submitted.load(Ordering::Relaxed),
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            concurrency: self.concurrency.load(Ordering::Relaxed),
        }
    }
}

/// Tuning of one bulk run; the defaults suit Graph.
#[derive(Debug, Clone)]
pub struct BulkConfig {
    /// Items per `$batch` request (Graph allows at most 20).
    pub batch_size: usize,
    /// Requests in flight at the start.
    pub initial_concurrency: usize,
    /// Never more requests in flight than this.
    pub max_concurrency: usize,
    pub request_context: RequestContext,
    /// The action every item sends.
    pub action: RevocationAction,
    /// `-Verify`: read each revoked user back before reporting it.
    pub verify: bool,
    /// `-JournalPath`: record every outcome, and skip users recorded as done.
    pub journal: Option<Arc<Journal>>,
}

impl Default for BulkConfig {
    fn default() -> BulkConfig {
        BulkConfig {
            batch_size: 20,
            initial_concurrency: 4,
            max_concurrency: 32,
            request_context: RequestContext::current(),
            action: RevocationAction::default(),
            verify: false,
            journal: None,
        }
    }
}

/// One item as submitted.
pub(crate) struct Submitted {
    pub(crate) seq: u64,
    pub(crate) user: UserId,
    pub(crate) headers: Vec<(String, String)>,
}

/// A running bulk revocation.
pub struct BulkRun {
    /// `None` once closed. Behind a lock so every method takes `&self`: the cmdlet submits
    /// and polls on the pipeline thread while Ctrl+C cancels from another.
    input: Mutex<Option<mpsc::UnboundedSender<Submitted>>>,
    /// Where items refused before sending go (through the finisher, if any, to be journaled);
    /// `None` once closed.
    refused: Mutex<Option<finish::Sink>>,
    completions: Arc<completion::CompletionQueue>,
    journal: Option<Arc<Journal>>,
    /// The users as given, by sequence number, for the finisher (only when there is one).
    users: Option<Arc<Mutex<HashMap<u64, String>>>>,
    counters: Arc<Counters>,
    cancel: CancellationToken,
}

impl BulkRun {
    /// Starts the dispatcher on the shared runtime.
    pub fn start(
        session: Arc<Session>,
        options: RequestOptions,
        config: BulkConfig,
    ) -> Result<BulkRun, GraphError> {
        let (input, input_rx) = mpsc::unbounded_channel();
        let completions = Arc::new(completion::CompletionQueue::default());
        let counters = Arc::new(Counters::default());
        let cancel = CancellationToken::new();
        let runtime = runtime()?;
        let journal = config.journal.clone();
        let (sink, users) = if config.verify || journal.is_some() {
            let (to_finisher, from_dispatcher) = mpsc::unbounded_channel();
            let users = Arc::new(Mutex::new(HashMap::new()));
            let finisher = finish::Finisher {
                session: Arc::clone(&session),
                options: options.clone(),
                context: config.request_context,
                verify: config.verify,
                journal: journal.clone(),
                users: Arc::clone(&users),
                input: from_dispatcher,
                output: Arc::clone(&completions),
                cancel: cancel.clone(),
            };
            runtime.spawn(finisher.run());
            (finish::Sink::Finisher(to_finisher), Some(users))
        } else {
            (finish::Sink::Caller(Arc::clone(&completions)), None)
        };
        let dispatcher = dispatcher::Dispatcher::new(
            session,
            options,
            config,
            input_rx,
            sink.clone(),
            Arc::clone(&counters),
            cancel.clone(),
        );
        runtime.spawn(dispatcher.run());
        Ok(BulkRun {
            input: Mutex::new(Some(input)),
            refused: Mutex::new(Some(sink)),
            completions,
            journal,
            users,
            counters,
            cancel,
        })
    }

    /// Queues one user. An id that cannot name a user, or headers that cannot be sent,
    /// complete at once with their error.
    pub fn submit(&self, seq: u64, user_id: &str, headers: Vec<(String, String)>) {
        self.counters.submitted.fetch_add(1, Ordering::Relaxed);
        if let Some(done) = self
            .journal
            .as_ref()
            .and_then(|journal| journal.done(user_id))
        {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            self.completions
                .push(Completion::skipped(seq, done.as_str()));
            return;
        }
        if let Some(users) = &self.users {
            users.lock().insert(seq, user_id.to_owned());
        }
        let checked = UserId::parse(user_id).and_then(|user| {
            let options = RequestOptions::default().with_headers(headers)?;
            Ok((user, options.headers().to_vec()))
        });
        let (user, headers) = match checked {
            Ok(checked) => checked,
            Err(error) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                if let Some(refused) = self.refused.lock().as_ref() {
                    refused.push(Completion::failed(seq, error));
                }
                return;
            }
        };
        let sent = self
            .input
            .lock()
            .as_ref()
            .map(|input| input.send(Submitted { seq, user, headers }).is_ok())
            .unwrap_or(false);
        if !sent {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
            self.completions.push(Completion::failed(
                seq,
                GraphError::invalid_argument("the bulk run no longer accepts items"),
            ));
        }
    }

    /// No more items will come; the run finishes once every item has an outcome.
    pub fn close(&self) {
        self.input.lock().take();
        self.refused.lock().take();
    }

    /// Stops sending now. Items without an outcome stay without one.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits up to `max_wait` for completions and returns at most `max_items` of them.
    pub fn poll(&self, max_wait: Duration, max_items: usize) -> Result<Poll, GraphError> {
        let items = if max_wait.is_zero() {
            // The cmdlet polls without waiting after every piped user: a trip through the
            // runtime's timer would cost it a millisecond each time, and cap the pipeline there.
            self.completions.take_now(max_items)
        } else {
            let completions = Arc::clone(&self.completions);
            runtime()?.block_on(async move { completions.take(max_wait, max_items).await })
        };
        Ok(Poll {
            finished: self.completions.is_finished(),
            cancelled: self.cancel.is_cancelled(),
            progress: self.counters.snapshot(),
            completions: items,
        })
    }
}

impl Drop for BulkRun {
    fn drop(&mut self) {
        // A run dropped without finishing (the cmdlet was stopped) must not keep sending.
        self.cancel.cancel();
    }
}
