//! The loop that turns submitted items into requests: batches them, keeps the adaptive
//! number of requests in flight, paces items once a quota has been hit, schedules retries,
//! and pauses when Graph's quota says so.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::batch::{
    ItemResult, batch_request, batch_results, limit_percentage, request_failed, single_request,
    single_result,
};
use super::completion::Completion;
use super::concurrency::Concurrency;
use super::finish::Sink;
use super::pacer::Pacer;
use super::{BulkConfig, Counters, Submitted};
use crate::error::GraphError;
use crate::request_options::RequestOptions;
use crate::retry::{RetryClass, backoff};
use crate::session::Session;

/// Wait after a 429 that named no Retry-After.
const DEFAULT_THROTTLE_PAUSE: Duration = Duration::from_secs(1);

/// How long a partial batch may wait for company while other requests are in flight. Piped
/// users arrive about one a millisecond, a round trip to Graph takes tens of them: waiting a
/// little fills batches (a tenth of the requests) at no cost in throughput.
const GATHER: Duration = Duration::from_millis(20);

/// An item on its way: what was submitted and how its attempts went so far.
pub(crate) struct Pending {
    pub(crate) submitted: Submitted,
    /// Kept across retries, so the item can be traced through all its attempts.
    pub(crate) client_request_id: String,
    /// Attempts sent so far.
    pub(crate) attempts: u32,
    transient_retries: u32,
    /// When its first attempt was sent: `RetriesTimeLimit` is wall time from there, attempts,
    /// retries and throttling pauses included.
    first_sent: Option<Instant>,
    not_before: Instant,
    /// When it joined the items ready to go.
    ready_since: Instant,
}

impl Pending {
    /// Time since the first attempt was sent (none yet: nothing).
    fn elapsed(&self, now: Instant) -> Duration {
        self.first_sent
            .map_or(Duration::ZERO, |first| now.saturating_duration_since(first))
    }
}

/// The result of one request (a batch or a lone POST).
struct Flight {
    /// Launch order.
    number: u64,
    items: Vec<Pending>,
    results: Result<(Vec<ItemResult>, Option<f64>), GraphError>,
}

pub(crate) struct Dispatcher {
    session: Arc<Session>,
    options: RequestOptions,
    config: BulkConfig,
    input: Option<mpsc::UnboundedReceiver<Submitted>>,
    completions: Sink,
    counters: Arc<Counters>,
    cancel: CancellationToken,
    ready: VecDeque<Pending>,
    waiting: Vec<Pending>,
    concurrency: Concurrency,
    pacer: Pacer,
    /// When the pacer will let the next batch go, if it is what holds it back.
    paced_until: Option<Instant>,
    /// When a partial batch waiting for company goes anyway.
    gather_until: Option<Instant>,
    flights: JoinSet<Flight>,
    /// Numbers of the flights in the air, and the next number to give.
    airborne: BTreeSet<u64>,
    launched: u64,
    paused_until: Instant,
    /// The quota 429 behind the current pause, reported for items that cannot wait it out.
    pause_cause: Option<GraphError>,
}

impl Dispatcher {
    pub(crate) fn new(
        session: Arc<Session>,
        options: RequestOptions,
        config: BulkConfig,
        input: mpsc::UnboundedReceiver<Submitted>,
        completions: Sink,
        counters: Arc<Counters>,
        cancel: CancellationToken,
    ) -> Dispatcher {
        let concurrency = Concurrency::new(config.initial_concurrency, config.max_concurrency);
        let pacer = Pacer::new(config.batch_size, Instant::now());
        Dispatcher {
            session,
            options,
            config,
            input: Some(input),
            completions,
            counters,
            cancel,
            ready: VecDeque::new(),
            waiting: Vec::new(),
            concurrency,
            pacer,
            paced_until: None,
            gather_until: None,
            flights: JoinSet::new(),
            airborne: BTreeSet::new(),
            launched: 0,
            paused_until: Instant::now(),
            pause_cause: None,
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            if self.cancel.is_cancelled() {
                break;
            }
            self.promote_due();
            self.launch();
            if self.ready.is_empty() && self.waiting.is_empty() && self.flights.is_empty() {
                self.pacer.on_idle();
            }
            self.counters
                .concurrency
                .store(self.concurrency.limit() as u64, Ordering::Relaxed);
            if self.input.is_none()
                && self.ready.is_empty()
                && self.waiting.is_empty()
                && self.flights.is_empty()
            {
                break;
            }
            let wake = self.next_wake();
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                Some(joined) = self.flights.join_next(), if !self.flights.is_empty() => {
                    if let Ok(flight) = joined {
                        self.absorb(flight);
                    }
                }
                received = recv(&mut self.input), if self.input.is_some() => match received {
                    Some(item) => {
                        self.accept(item);
                        // Take everything already queued, so it can travel in full batches.
                        while let Some(Ok(item)) = self.input.as_mut().map(|input| input.try_recv()) {
                            self.accept(item);
                        }
                    }
                    None => self.input = None,
                },
                _ = sleep_until(wake), if wake.is_some() => {}
            }
        }
        // Dropping the JoinSet aborts requests still in flight: after a cancel nothing more is sent.
        self.flights.abort_all();
        self.completions.finish();
    }

    fn accept(&mut self, mut submitted: Submitted) {
        // A caller-chosen client-request-id replaces ours: it is how they correlate.
        let chosen = submitted
            .headers
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case("client-request-id"))
            .map(|index| submitted.headers.remove(index).1);
        self.ready.push_back(Pending {
            submitted,
            client_request_id: chosen.unwrap_or_else(|| Uuid::new_v4().to_string()),
            attempts: 0,
            transient_retries: 0,
            first_sent: None,
            not_before: Instant::now(),
            ready_since: Instant::now(),
        });
    }

    /// Retries whose wait is over go first: they are the oldest items.
    fn promote_due(&mut self) {
        let now = Instant::now();
        let mut index = 0;
        while index < self.waiting.len() {
            if self.waiting[index].not_before <= now {
                let mut item = self.waiting.swap_remove(index);
                item.ready_since = now;
                self.ready.push_front(item);
            } else {
                index += 1;
            }
        }
    }

    fn launch(&mut self) {
        let now = Instant::now();
        self.paced_until = None;
        self.gather_until = None;
        if now < self.paused_until {
            self.fail_items_that_cannot_wait(self.paused_until - now);
            return;
        }
        while self.flights.len() < self.concurrency.limit() && !self.ready.is_empty() {
            let batch_size = self.pacer.batch_limit().min(self.config.batch_size).max(1);
            let count = self.ready.len().min(batch_size);
            // A partial batch goes at once when nothing is in flight (nobody waits longer than
            // needed) or no more input will come; otherwise it waits a moment for company, so
            // that items travel in full batches.
            if count < batch_size && !self.flights.is_empty() && self.input.is_some() {
                let oldest = self.ready.iter().map(|item| item.ready_since).min();
                if let Some(until) = oldest.map(|oldest| oldest + GATHER)
                    && now < until
                {
                    self.gather_until = Some(until);
                    break;
                }
            }
            // Once a quota has been hit, a batch waits until the quota has room for all of it.
            if !self.pacer.try_take(now, count) {
                self.paced_until = self.pacer.ready_at(count);
                break;
            }
            let mut items: Vec<Pending> = self.ready.drain(..count).collect();
            for item in &mut items {
                item.first_sent.get_or_insert(now);
            }
            let session = Arc::clone(&self.session);
            let options = self.options.clone();
            let context = self.config.request_context;
            let action = self.config.action;
            let number = self.launched;
            self.launched += 1;
            self.airborne.insert(number);
            self.flights.spawn(async move {
                let results = if items.len() == 1 {
                    let request = single_request(&session, action, &items[0]);
                    session
                        .send_once(&request, &options, items[0].attempts, &context)
                        .await
                        .map(|response| {
                            let percentage = limit_percentage(&response.headers);
                            (vec![single_result(&request, response)], percentage)
                        })
                } else {
                    let request = batch_request(&session, action, &items);
                    session
                        .send_once(&request, &options, 0, &context)
                        .await
                        .map(|response| batch_results(&items, &response))
                };
                Flight {
                    number,
                    items,
                    results,
                }
            });
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        let retry = self.waiting.iter().map(|item| item.not_before).min();
        let pause = (!self.ready.is_empty() && self.paused_until > Instant::now())
            .then_some(self.paused_until);
        [retry, pause, self.paced_until, self.gather_until]
            .into_iter()
            .flatten()
            .min()
    }

    fn absorb(&mut self, flight: Flight) {
        self.airborne.remove(&flight.number);
        // Every request sent before this one has been answered: what Graph accepted up to
        // this answer is all counted, so it can anchor a measurement of the quota's rate.
        let in_order = self
            .airborne
            .first()
            .is_none_or(|&oldest| oldest > flight.number);
        let (results, percentage) = match flight.results {
            Ok(read) => read,
            Err(error) => (request_failed(&error, flight.items.len()), None),
        };
        let now = Instant::now();
        // Items that went through the quota (answered by Graph, not refused with a 429).
        let mut accepted = 0;
        let mut quota_pause: Option<Duration> = None;
        let mut quota_error: Option<GraphError> = None;
        for (mut item, result) in flight.items.into_iter().zip(results) {
            match result {
                ItemResult::Done(outcome) => {
                    accepted += 1;
                    self.counters.succeeded.fetch_add(1, Ordering::Relaxed);
                    self.completions
                        .push(Completion::succeeded(item.submitted.seq, outcome));
                }
                ItemResult::Failed(error) => {
                    // A user that does not exist, or one the caller may not revoke, still cost
                    // a write: Graph checks its quota first.
                    if matches!(error.service().status, Some(403 | 404)) {
                        accepted += 1;
                    }
                    self.fail(item, error);
                }
                ItemResult::Retry {
                    class,
                    retry_after,
                    quota,
                    error,
                } => {
                    let context = &self.config.request_context;
                    let wait = match class {
                        RetryClass::Throttled => {
                            self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                            let wait = retry_after.unwrap_or(DEFAULT_THROTTLE_PAUSE);
                            // An empty quota holds back every item; any other 429 only its own.
                            if quota {
                                quota_pause = Some(quota_pause.map_or(wait, |seen| seen.max(wait)));
                                quota_error.get_or_insert_with(|| error.clone());
                            }
                            wait
                        }
                        _ => {
                            if item.transient_retries >= context.max_retry {
                                self.fail(item, error);
                                continue;
                            }
                            item.transient_retries += 1;
                            retry_after.unwrap_or_else(|| {
                                backoff(context.retry_delay(), item.transient_retries - 1)
                            })
                        }
                    };
                    if item.elapsed(now) + wait > context.retries_time_limit() {
                        self.fail(item, error);
                        continue;
                    }
                    item.attempts += 1;
                    item.not_before = now + wait;
                    self.waiting.push(item);
                }
            }
        }
        self.pacer.on_accepted(accepted);
        if let Some(pause) = quota_pause {
            // Until the quota's rate is measured, fewer requests in flight is all there is.
            if !self.pacer.is_pacing() {
                self.concurrency.on_throttled();
            }
            self.pacer.on_quota_throttled(now, accepted, in_order);
            self.paused_until = self.paused_until.max(now + pause);
            if let Some(error) = quota_error {
                self.pause_cause = Some(error);
            }
            return;
        }
        if accepted > 0 {
            // Only an answer Graph counted says how much of the quota is left.
            self.pacer.on_limit_percentage(now, percentage);
        }
        if let (Some(used), false) = (percentage, self.pacer.is_pacing()) {
            self.concurrency.on_limit_percentage(used);
        }
        self.concurrency.on_success();
    }

    /// A pause holds back the items waiting to be sent too. Those that cannot wait out the
    /// rest of it within `RetriesTimeLimit` are reported now, with the 429 that caused it,
    /// instead of after the pause.
    fn fail_items_that_cannot_wait(&mut self, remaining: Duration) {
        let Some(cause) = self.pause_cause.clone() else {
            return;
        };
        let limit = self.config.request_context.retries_time_limit();
        let now = Instant::now();
        let ready = std::mem::take(&mut self.ready);
        for item in ready {
            if item.elapsed(now) + remaining > limit {
                self.fail(item, cause.clone());
            } else {
                self.ready.push_back(item);
            }
        }
    }

    fn fail(&mut self, item: Pending, mut error: GraphError) {
        if item.attempts > 0 {
            error.message = format!("{} (after {} attempts)", error.message, item.attempts + 1);
        }
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        self.completions
            .push(Completion::failed(item.submitted.seq, error));
    }
}

async fn recv(input: &mut Option<mpsc::UnboundedReceiver<Submitted>>) -> Option<Submitted> {
    match input {
        Some(input) => input.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(wake) => tokio::time::sleep_until(wake).await,
        None => std::future::pending().await,
    }
}
