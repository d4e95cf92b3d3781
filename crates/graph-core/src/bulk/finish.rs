//! What happens to an item after Graph answered its revocation, when the run asks for more
//! than the answer: `-Verify` reads each revoked user back, `-JournalPath` records each
//! outcome durably before the caller sees it.
//!
//! Only such runs have a finisher: the dispatcher of a plain run hands completions straight
//! to the caller, so the default path costs nothing more. Reads travel as `$batch` GETs of up
//! to 20 (a lone read as a plain GET) with their own number in flight and their own pause on
//! a quota 429: reads draw on Graph's resource-unit quota, not the write quota the
//! revocations spend, so a paused write stream does not hold reads back and the other way
//! round. A read that still shows sessions valid from before the revocation is repeated
//! every [`verify::LAG_REREAD`] for up to [`verify::LAG_WINDOW`]. Finished items are written
//! to the journal in groups (one write and one fsync for everything finished at once), and
//! only then released. Reads do not adapt their concurrency as writes do.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::batch::{
    BatchKey, ItemResult, batch_item_results, names_a_quota, request_failed, retry_after,
    retry_or_fail,
};
use super::completion::{Completion, CompletionQueue, ItemOutcome};
use crate::address::UserId;
use crate::error::{ErrorKind, GraphError, ServiceDetail};
use crate::exchange::{PreparedRequest, RawResponse, find_header};
use crate::journal::{Journal, Outcome, Record};
use crate::request_context::RequestContext;
use crate::request_options::RequestOptions;
use crate::retry::{RetryClass, backoff};
use crate::session::Session;
use crate::verify::{self, ReadBack};

/// Read requests in flight at most. Reads cost one resource unit each, from a quota about
/// twenty times the write quota; eight batches of 20 keep well ahead of the writes.
const READ_CONCURRENCY: usize = 8;

/// Reads per `$batch`.
const READ_BATCH: usize = 20;

/// Where the dispatcher hands finished items: straight to the caller, or to a finisher.
#[derive(Clone)]
pub(crate) enum Sink {
    Caller(Arc<CompletionQueue>),
    Finisher(mpsc::UnboundedSender<Completion>),
}

impl Sink {
    pub(crate) fn push(&self, completion: Completion) {
        match self {
            Sink::Caller(queue) => queue.push(completion),
            // A finisher that is gone was cancelled: the outcome has nowhere to go.
            Sink::Finisher(finisher) => drop(finisher.send(completion)),
        }
    }

    /// The dispatcher is done. A finisher sees it when every sender is dropped.
    pub(crate) fn finish(&self) {
        if let Sink::Caller(queue) = self {
            queue.finish();
        }
    }
}

/// A revoked user waiting for its read-back.
struct Read {
    seq: u64,
    user: String,
    address: UserId,
    outcome: ItemOutcome,
    revoked_at: OffsetDateTime,
    /// When the first read was sent: lag is waited out for [`verify::LAG_WINDOW`] from there,
    /// throttling for `RetriesTimeLimit`.
    first_sent: Option<Instant>,
    not_before: Instant,
    transient_retries: u32,
    client_request_id: String,
    /// What the last read showed.
    last: Option<ReadBack>,
}

struct ReadFlight {
    reads: Vec<Read>,
    results: Result<Vec<ItemResult<ReadBack>>, GraphError>,
}

pub(crate) struct Finisher {
    pub(crate) session: Arc<Session>,
    pub(crate) options: RequestOptions,
    pub(crate) context: RequestContext,
    pub(crate) verify: bool,
    pub(crate) journal: Option<Arc<Journal>>,
    /// The users as given, by sequence number (filled by `BulkRun::submit`).
    pub(crate) users: Arc<Mutex<HashMap<u64, String>>>,
    pub(crate) input: mpsc::UnboundedReceiver<Completion>,
    pub(crate) output: Arc<CompletionQueue>,
    pub(crate) cancel: CancellationToken,
}

/// The finisher's moving parts.
struct State {
    ready: VecDeque<Read>,
    waiting: Vec<Read>,
    flights: JoinSet<ReadFlight>,
    paused_until: Instant,
    /// Finished items not yet journaled and released, with their records.
    finished: Vec<(Completion, Option<Record>)>,
}

impl Finisher {
    pub(crate) async fn run(mut self) {
        let mut state = State {
            ready: VecDeque::new(),
            waiting: Vec::new(),
            flights: JoinSet::new(),
            paused_until: Instant::now(),
            finished: Vec::new(),
        };
        let mut open = true;
        loop {
            if self.cancel.is_cancelled() {
                break;
            }
            self.promote_and_launch(&mut state);
            self.release(&mut state);
            if !open
                && state.ready.is_empty()
                && state.waiting.is_empty()
                && state.flights.is_empty()
            {
                break;
            }
            let wake = next_wake(&state);
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                Some(joined) = state.flights.join_next(), if !state.flights.is_empty() => {
                    if let Ok(flight) = joined {
                        self.absorb(&mut state, flight);
                    }
                }
                received = self.input.recv(), if open => match received {
                    Some(completion) => {
                        self.accept(&mut state, completion);
                        while let Ok(completion) = self.input.try_recv() {
                            self.accept(&mut state, completion);
                        }
                    }
                    None => open = false,
                },
                _ = sleep_until(wake), if wake.is_some() => {}
            }
        }
        state.flights.abort_all();
        if self.cancel.is_cancelled() {
            // Stopped: users revoked but not yet read back are journaled as revoked (they
            // were), so the next run does not send them again.
            for read in state.ready.drain(..).chain(state.waiting.drain(..)) {
                let record = self.record(&read.user, Outcome::Revoked, &read.outcome);
                state
                    .finished
                    .push((Completion::succeeded(read.seq, read.outcome), Some(record)));
            }
        }
        self.release(&mut state);
        self.output.finish();
    }

    fn user_of(&self, seq: u64) -> String {
        self.users.lock().remove(&seq).unwrap_or_default()
    }

    fn accept(&self, state: &mut State, completion: Completion) {
        let user = self.user_of(completion.seq);
        let Some(outcome) = completion.outcome.clone() else {
            let record = self.journal.as_ref().map(|_| {
                let error = completion.error.clone().unwrap_or_else(|| {
                    GraphError::new(ErrorKind::Internal, "an item finished without an outcome")
                });
                failed_record(&user, Outcome::Failed, &error)
            });
            state.finished.push((completion, record));
            return;
        };
        if !self.verify || !outcome.value {
            let kind = if outcome.value {
                Outcome::Revoked
            } else {
                Outcome::Failed
            };
            let record = self.record(&user, kind, &outcome);
            state.finished.push((completion, Some(record)));
            return;
        }
        let Ok(address) = UserId::parse(&user) else {
            // Cannot happen: the id was checked before it was sent.
            let error = GraphError::new(ErrorKind::Internal, "the user id was lost");
            state
                .finished
                .push((Completion::failed(completion.seq, error), None));
            return;
        };
        let Some(revoked_at) = verify::revocation_time(outcome.date.as_deref()) else {
            let cause = verify::unknown_time(outcome.date.as_deref());
            let error = verify::not_confirmed(&user, &cause, Some(service_of(&outcome)));
            let record = failed_record(&user, Outcome::NotConfirmed, &error);
            state
                .finished
                .push((Completion::failed(completion.seq, error), Some(record)));
            return;
        };
        state.ready.push_back(Read {
            seq: completion.seq,
            user,
            address,
            outcome,
            revoked_at,
            first_sent: None,
            not_before: Instant::now(),
            transient_retries: 0,
            client_request_id: Uuid::new_v4().to_string(),
            last: None,
        });
    }

    fn promote_and_launch(&self, state: &mut State) {
        let now = Instant::now();
        let mut index = 0;
        while index < state.waiting.len() {
            if state.waiting[index].not_before <= now {
                let read = state.waiting.swap_remove(index);
                state.ready.push_front(read);
            } else {
                index += 1;
            }
        }
        if now < state.paused_until {
            return;
        }
        while state.flights.len() < READ_CONCURRENCY && !state.ready.is_empty() {
            let count = state.ready.len().min(READ_BATCH);
            let mut reads: Vec<Read> = state.ready.drain(..count).collect();
            for read in &mut reads {
                read.first_sent.get_or_insert(now);
            }
            let session = Arc::clone(&self.session);
            let options = self.options.clone();
            let context = self.context;
            state.flights.spawn(async move {
                let results = if reads.len() == 1 {
                    let request = single_read(&session, &reads[0]);
                    session
                        .send_once(&request, &options, 0, &context)
                        .await
                        .map(|response| vec![single_read_result(&reads[0], &response)])
                } else {
                    let request = batch_read(&session, &reads);
                    session
                        .send_once(&request, &options, 0, &context)
                        .await
                        .map(|response| batch_read_results(&reads, &response))
                };
                ReadFlight { reads, results }
            });
        }
    }

    fn absorb(&self, state: &mut State, flight: ReadFlight) {
        let now = Instant::now();
        let count = flight.reads.len();
        let results = flight
            .results
            .unwrap_or_else(|error| request_failed(&error, count));
        for (mut read, result) in flight.reads.into_iter().zip(results) {
            let elapsed = read
                .first_sent
                .map_or(Duration::ZERO, |first| now.saturating_duration_since(first));
            match result {
                ItemResult::Done(seen) => {
                    if verify::confirms(read.revoked_at, &seen) {
                        read.last = Some(seen);
                        self.confirmed(state, read);
                    } else if elapsed + verify::LAG_REREAD <= verify::LAG_WINDOW {
                        read.last = Some(seen);
                        read.not_before = now + verify::LAG_REREAD;
                        state.waiting.push(read);
                    } else {
                        let cause = verify::still_old(read.revoked_at, &seen);
                        read.last = Some(seen);
                        self.unconfirmed(state, read, &cause, None);
                    }
                }
                ItemResult::Failed(error) => self.read_failed(state, read, error),
                ItemResult::Retry {
                    class,
                    retry_after,
                    quota,
                    error,
                } => {
                    let wait = match class {
                        RetryClass::Throttled => retry_after.unwrap_or(Duration::from_secs(1)),
                        _ if read.transient_retries >= self.context.max_retry => {
                            self.read_failed(state, read, error);
                            continue;
                        }
                        _ => {
                            read.transient_retries += 1;
                            retry_after.unwrap_or_else(|| {
                                backoff(self.context.retry_delay(), read.transient_retries - 1)
                            })
                        }
                    };
                    if elapsed + wait > self.context.retries_time_limit() {
                        self.read_failed(state, read, error);
                        continue;
                    }
                    if quota {
                        // The read quota is empty: no read goes before it refills.
                        state.paused_until = state.paused_until.max(now + wait);
                    }
                    read.not_before = now + wait;
                    state.waiting.push(read);
                }
            }
        }
    }

    fn confirmed(&self, state: &mut State, mut read: Read) {
        let mut record = self.record(&read.user, Outcome::Verified, &read.outcome);
        record.revoked_at = Some(verify::iso(read.revoked_at));
        if let Some(seen) = read.last.take() {
            record.id = seen.id;
            record.sign_in_sessions_valid_from = Some(verify::iso(seen.valid_from));
        }
        read.outcome.verified = true;
        state
            .finished
            .push((Completion::succeeded(read.seq, read.outcome), Some(record)));
    }

    fn read_failed(&self, state: &mut State, read: Read, error: GraphError) {
        let cause = format!("reading the user back failed: {}", error.message);
        self.unconfirmed(state, read, &cause, error.service.map(|service| *service));
    }

    fn unconfirmed(
        &self,
        state: &mut State,
        read: Read,
        cause: &str,
        read_service: Option<ServiceDetail>,
    ) {
        // The read's own trace fields when it failed; else the revocation's.
        let service = read_service.unwrap_or_else(|| service_of(&read.outcome));
        let error = verify::not_confirmed(&read.user, cause, Some(service));
        let mut record = failed_record(&read.user, Outcome::NotConfirmed, &error);
        record.revoked_at = Some(verify::iso(read.revoked_at));
        if let Some(seen) = read.last {
            record.id = seen.id;
            record.sign_in_sessions_valid_from = Some(verify::iso(seen.valid_from));
        }
        state
            .finished
            .push((Completion::failed(read.seq, error), Some(record)));
    }

    fn record(&self, user: &str, outcome: Outcome, answer: &ItemOutcome) -> Record {
        Record {
            status: Some(answer.status),
            request_id: answer.request_id.clone(),
            client_request_id: answer.client_request_id.clone(),
            ..Record::new(user, outcome)
        }
    }

    /// Journals what finished (one write, one fsync), then hands it to the caller. A journal
    /// that cannot be written turns each outcome into that error: an outcome the journal does
    /// not hold must not look recorded.
    fn release(&self, state: &mut State) {
        if state.finished.is_empty() {
            return;
        }
        let finished = std::mem::take(&mut state.finished);
        let written = match &self.journal {
            Some(journal) => journal.append(
                finished
                    .iter()
                    .filter_map(|(_, record)| record.clone())
                    .collect(),
            ),
            None => Ok(()),
        };
        for (completion, _) in finished {
            match &written {
                Ok(()) => self.output.push(completion),
                Err(error) => {
                    let mut error = error.clone();
                    if completion.outcome.is_some() {
                        error.message = format!(
                            "Graph revoked the user, but {}",
                            error.message.trim_start_matches("could not ")
                        );
                    }
                    self.output.push(Completion::failed(completion.seq, error));
                }
            }
        }
    }
}

fn failed_record(user: &str, outcome: Outcome, error: &GraphError) -> Record {
    let service = error.service();
    Record {
        status: service.status,
        request_id: service.request_id,
        client_request_id: service.client_request_id,
        code: service.code,
        error: Some(error.message.clone()),
        ..Record::new(user, outcome)
    }
}

fn service_of(outcome: &ItemOutcome) -> ServiceDetail {
    ServiceDetail {
        status: Some(outcome.status),
        request_id: outcome.request_id.clone(),
        client_request_id: outcome.client_request_id.clone(),
        ..ServiceDetail::default()
    }
}

fn next_wake(state: &State) -> Option<Instant> {
    let retry = state.waiting.iter().map(|read| read.not_before).min();
    let pause = (!state.ready.is_empty() && state.paused_until > Instant::now())
        .then_some(state.paused_until);
    [retry, pause].into_iter().flatten().min()
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(wake) => tokio::time::sleep_until(wake).await,
        None => std::future::pending().await,
    }
}

fn single_read(session: &Session, read: &Read) -> PreparedRequest {
    PreparedRequest {
        method: "GET".into(),
        url: format!(
            "{}/beta{}",
            session.environment().graph_endpoint,
            verify::read_path(&read.address)
        ),
        headers: vec![("client-request-id".into(), read.client_request_id.clone())],
        body: String::new(),
    }
}

fn single_read_result(read: &Read, response: &RawResponse) -> ItemResult<ReadBack> {
    read_result(
        response.status,
        &response.headers,
        response.body.as_bytes(),
        &read.client_request_id,
    )
}

fn read_result(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    client_request_id: &str,
) -> ItemResult<ReadBack> {
    if (200..300).contains(&status) {
        return match verify::read_back(status, find_header(headers, "content-type"), body) {
            Ok(seen) => ItemResult::Done(seen),
            Err(error) => ItemResult::Failed(error),
        };
    }
    let error = GraphError::from_graph_response(
        status,
        body,
        find_header(headers, "request-id").map(str::to_owned),
        client_request_id.to_owned(),
    );
    retry_or_fail(status, retry_after(headers), names_a_quota(headers), error)
}

fn batch_read(session: &Session, reads: &[Read]) -> PreparedRequest {
    let requests: Vec<serde_json::Value> = reads
        .iter()
        .map(|read| {
            serde_json::json!({
                "id": read.seq.to_string(),
                "method": "GET",
                "url": verify::read_path(&read.address),
                "headers": { "client-request-id": read.client_request_id },
            })
        })
        .collect();
    PreparedRequest {
        method: "POST".into(),
        url: format!("{}/beta/$batch", session.environment().graph_endpoint),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("client-request-id".into(), Uuid::new_v4().to_string()),
        ],
        body: serde_json::json!({ "requests": requests }).to_string(),
    }
}

fn batch_read_results(reads: &[Read], response: &RawResponse) -> Vec<ItemResult<ReadBack>> {
    let keys: Vec<BatchKey> = reads
        .iter()
        .map(|read| BatchKey {
            id: read.seq.to_string(),
            client_request_id: read.client_request_id.clone(),
        })
        .collect();
    batch_item_results(&keys, response, |index, answer, headers| {
        // An item's body is JSON inside the batch's JSON: its content type may go unsaid.
        let mut headers = headers;
        if find_header(&headers, "content-type").is_none() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        read_result(
            answer.status,
            &headers,
            answer.body_text().as_bytes(),
            &reads[index].client_request_id,
        )
    })
    .0
}
