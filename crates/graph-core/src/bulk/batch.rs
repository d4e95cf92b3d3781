//! JSON batching: up to 20 revocations in one `POST {graph}/beta/$batch`.
//!
//! Each item is a POST with `"body":{}` and a Content-Type header (Graph fails an action
//! item without them), identified by its sequence number. Answers come in any order and
//! are matched by id; each item is throttled on its own, so a 200 batch may hold 429 items
//! with their own `Retry-After`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::completion::ItemOutcome;
use super::dispatcher::Pending;
use crate::error::{ErrorKind, GraphError};
use crate::exchange::{PreparedRequest, RawResponse, find_header};
use crate::retry::{RetryClass, classify_status, parse_retry_after};
use crate::revoke::{RevocationAction, graph_boolean, interpret_revocation};
use crate::session::Session;

/// What one attempt meant for one item: a revocation's outcome, or what a read showed.
pub(crate) enum ItemResult<T = ItemOutcome> {
    Done(T),
    Retry {
        class: RetryClass,
        retry_after: Option<Duration>,
        /// A 429 from an exhausted quota (it names the limit), as opposed to one that says
        /// nothing about the caller's rate.
        quota: bool,
        error: GraphError,
    },
    Failed(GraphError),
}

/// The `$batch` request for these items.
pub(crate) fn batch_request(
    session: &Session,
    action: RevocationAction,
    items: &[Pending],
) -> PreparedRequest {
    let requests: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut headers = serde_json::Map::new();
            headers.insert("Content-Type".into(), json!("application/json"));
            headers.insert("client-request-id".into(), json!(item.client_request_id));
            for (name, value) in &item.submitted.headers {
                headers.insert(name.clone(), json!(value));
            }
            if item.attempts > 0 {
                headers.insert("Retry-Attempt".into(), json!(item.attempts.to_string()));
            }
            json!({
                "id": item.submitted.seq.to_string(),
                "method": "POST",
                "url": format!("/{}/{}", item.submitted.user.users_path(), action.name()),
                "headers": headers,
                "body": {},
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
        body: json!({ "requests": requests }).to_string(),
    }
}

/// The plain POST for a lone item.
pub(crate) fn single_request(
    session: &Session,
    action: RevocationAction,
    item: &Pending,
) -> PreparedRequest {
    let mut request = session.prepare_revocation(&item.submitted.user, action, &Default::default());
    request.headers = vec![("client-request-id".into(), item.client_request_id.clone())];
    request
        .headers
        .extend(item.submitted.headers.iter().cloned());
    request
}

/// Reads the answer to a lone item's POST.
pub(crate) fn single_result(request: &PreparedRequest, response: RawResponse) -> ItemResult {
    let status = response.status;
    let retry_after = retry_after(&response.headers);
    let quota = names_a_quota(&response.headers);
    match interpret_revocation(request, response) {
        Ok(outcome) => ItemResult::Done(ItemOutcome {
            value: outcome.value,
            status: outcome.status,
            date: find_header(&outcome.headers, "date").map(str::to_owned),
            request_id: outcome.request_id,
            client_request_id: Some(outcome.client_request_id),
            verified: false,
            from_journal: None,
        }),
        Err(error) => retry_or_fail(status, retry_after, quota, error),
    }
}

#[derive(Deserialize)]
struct BatchAnswer {
    responses: Vec<BatchItemAnswer>,
}

#[derive(Deserialize)]
pub(crate) struct BatchItemAnswer {
    id: String,
    pub(crate) status: u16,
    #[serde(default)]
    headers: HashMap<String, String>,
    #[serde(default)]
    body: Value,
}

impl BatchItemAnswer {
    /// The item's body as text (empty when there is none).
    pub(crate) fn body_text(&self) -> String {
        match &self.body {
            Value::Null => String::new(),
            body => body.to_string(),
        }
    }
}

/// One request of a `$batch`, as its answer is matched: its id and client-request-id.
pub(crate) struct BatchKey {
    pub(crate) id: String,
    pub(crate) client_request_id: String,
}

/// Reads a `$batch` answer into one result per item, in the items' order, and the highest
/// `x-ms-throttle-limit-percentage` seen on the batch or any of its items.
pub(crate) fn batch_results(
    items: &[Pending],
    response: &RawResponse,
) -> (Vec<ItemResult>, Option<f64>) {
    let keys: Vec<BatchKey> = items
        .iter()
        .map(|item| BatchKey {
            id: item.submitted.seq.to_string(),
            client_request_id: item.client_request_id.clone(),
        })
        .collect();
    // Graph's items carry no Date or request-id of their own: the batch's answer dates them
    // all, and its request-id is what traces them in Graph's logs.
    let batch = BatchTrace {
        date: find_header(&response.headers, "date"),
        request_id: find_header(&response.headers, "request-id"),
    };
    batch_item_results(&keys, response, |index, answer, headers| {
        item_result(&items[index], answer, headers, &batch)
    })
}

/// Matches a `$batch` answer to its requests: one result per key, in the keys' order, made by
/// `on_answer` from each item's answer and lower-cased headers; and the highest
/// `x-ms-throttle-limit-percentage` seen on the batch or any of its items.
pub(crate) fn batch_item_results<T>(
    keys: &[BatchKey],
    response: &RawResponse,
    mut on_answer: impl FnMut(usize, &BatchItemAnswer, Vec<(String, String)>) -> ItemResult<T>,
) -> (Vec<ItemResult<T>>, Option<f64>) {
    let mut highest = limit_percentage(&response.headers);
    if !(200..300).contains(&response.status) {
        // The whole batch failed: every item shares the batch's fate.
        let results = keys
            .iter()
            .map(|key| {
                let error = GraphError::from_graph_response(
                    response.status,
                    response.body.as_bytes(),
                    find_header(&response.headers, "request-id").map(str::to_owned),
                    key.client_request_id.clone(),
                );
                retry_or_fail(
                    response.status,
                    retry_after(&response.headers),
                    names_a_quota(&response.headers),
                    error,
                )
            })
            .collect();
        return (results, highest);
    }
    let answers: HashMap<String, BatchItemAnswer> =
        match serde_json::from_str::<BatchAnswer>(&response.body) {
            Ok(answer) => answer
                .responses
                .into_iter()
                .map(|item| (item.id.clone(), item))
                .collect(),
            Err(_) => HashMap::new(),
        };
    let results = keys
        .iter()
        .enumerate()
        .map(|(index, key)| match answers.get(&key.id) {
            Some(answer) => {
                let headers: Vec<(String, String)> = answer
                    .headers
                    .iter()
                    .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
                    .collect();
                if let Some(used) = limit_percentage(&headers) {
                    highest = Some(highest.map_or(used, |seen| seen.max(used)));
                }
                on_answer(index, answer, headers)
            }
            None => ItemResult::Retry {
                class: RetryClass::Transient,
                retry_after: None,
                quota: false,
                error: GraphError::new(
                    ErrorKind::UnexpectedResponse,
                    "Graph's batch answer did not include this request (or was not valid JSON)",
                ),
            },
        })
        .collect();
    (results, highest)
}

/// What a `$batch` answer says for all its items.
struct BatchTrace<'a> {
    date: Option<&'a str>,
    request_id: Option<&'a str>,
}

fn item_result(
    item: &Pending,
    answer: &BatchItemAnswer,
    headers: Vec<(String, String)>,
    batch: &BatchTrace<'_>,
) -> ItemResult {
    let request_id = find_header(&headers, "request-id")
        .or(batch.request_id)
        .map(str::to_owned);
    let client_request_id = find_header(&headers, "client-request-id")
        .map(str::to_owned)
        .unwrap_or_else(|| item.client_request_id.clone());
    let body = answer.body_text();
    if (200..300).contains(&answer.status) {
        // An item's body is JSON inside the batch's JSON: its content type may go unsaid.
        let content_type = find_header(&headers, "content-type").unwrap_or("application/json");
        return match graph_boolean(answer.status, Some(content_type), body.as_bytes()) {
            Ok(value) => ItemResult::Done(ItemOutcome {
                value,
                status: answer.status,
                date: find_header(&headers, "date")
                    .or(batch.date)
                    .map(str::to_owned),
                request_id,
                client_request_id: Some(client_request_id),
                verified: false,
                from_journal: None,
            }),
            Err(mut error) => {
                if let Some(service) = error.service.as_mut() {
                    service.request_id = request_id;
                    service.client_request_id = Some(client_request_id);
                }
                ItemResult::Failed(error)
            }
        };
    }
    let error = GraphError::from_graph_response(
        answer.status,
        body.as_bytes(),
        request_id,
        client_request_id,
    );
    retry_or_fail(
        answer.status,
        retry_after(&headers),
        names_a_quota(&headers),
        error,
    )
}

/// What a request that got no answer at all means for each of its `count` items: a broken
/// connection is worth a retry for every one; anything else (a refused proxy, a bad URL) is
/// final for all.
pub(crate) fn request_failed<T>(error: &GraphError, count: usize) -> Vec<ItemResult<T>> {
    let transient = matches!(error.kind, ErrorKind::Network | ErrorKind::Timeout);
    (0..count)
        .map(|_| {
            if transient {
                ItemResult::Retry {
                    class: RetryClass::Transient,
                    retry_after: None,
                    quota: false,
                    error: error.clone(),
                }
            } else {
                ItemResult::Failed(error.clone())
            }
        })
        .collect()
}

pub(crate) fn retry_or_fail<T>(
    status: u16,
    retry_after: Option<Duration>,
    quota: bool,
    error: GraphError,
) -> ItemResult<T> {
    match classify_status(status) {
        RetryClass::Final => ItemResult::Failed(error),
        class => ItemResult::Retry {
            class,
            retry_after,
            quota: quota && class == RetryClass::Throttled,
            error,
        },
    }
}

/// Whether a 429 comes from one of Entra's quotas: those name the limit and the reason
/// (`x-ms-throttle-scope: Tenant_Application/Write/<app>/<tenant>`,
/// `x-ms-throttle-information: WriteLimitExceeded`). Other 429s carry only `Retry-After`.
pub(crate) fn names_a_quota(headers: &[(String, String)]) -> bool {
    find_header(headers, "x-ms-throttle-scope").is_some()
        || find_header(headers, "x-ms-throttle-information").is_some()
}

pub(crate) fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    find_header(headers, "retry-after")
        .and_then(|value| parse_retry_after(value, SystemTime::now()))
}

/// `x-ms-throttle-limit-percentage` of an answer, if Graph sent it.
pub(crate) fn limit_percentage(headers: &[(String, String)]) -> Option<f64> {
    find_header(headers, "x-ms-throttle-limit-percentage")
        .and_then(|value| value.trim().parse().ok())
}
