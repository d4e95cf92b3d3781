//! What the hostile server does to a request: each [`Act`] is one way a server on the network
//! can lie to a client (a redirect elsewhere, a body without end, silence, a 2xx that is not
//! Graph's answer, escape sequences meant for the terminal).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

/// One misbehaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Act {
    /// A canned answer: any status, headers and body (sent verbatim).
    #[serde(rename_all = "camelCase")]
    Answer {
        status: u16,
        /// Header names to values (a map, so any JSON client can write it).
        #[serde(default)]
        headers: BTreeMap<String, String>,
        #[serde(default)]
        body: String,
    },
    /// A redirect (301, 302, 303, 307 or 308) to `location`.
    Redirect { status: u16, location: String },
    /// A 200 whose chunked body never ends.
    Endless,
    /// A 200 announcing and sending `bytes` bytes of JSON-looking filler.
    Huge { bytes: u64 },
    /// Reads the request and never answers.
    Silent,
    /// A 200 whose body arrives one byte every `interval_ms`, forever.
    #[serde(rename_all = "camelCase")]
    Drip { interval_ms: u64 },
}

/// An act for the requests whose path starts with `path_prefix` (all when absent), for the
/// next `times` of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scripted {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    #[serde(default = "one")]
    pub times: u32,
    #[serde(flatten)]
    pub act: Act,
}

fn one() -> u32 {
    1
}

impl Scripted {
    /// The act for every matching request from now on.
    pub fn always(act: Act) -> Scripted {
        Scripted {
            path_prefix: None,
            times: u32::MAX,
            act,
        }
    }

    /// The act for the next `times` requests.
    pub fn times(act: Act, times: u32) -> Scripted {
        Scripted {
            path_prefix: None,
            times,
            act,
        }
    }

    /// Only for paths starting with `prefix`.
    pub fn on_path(mut self, prefix: &str) -> Scripted {
        self.path_prefix = Some(prefix.to_owned());
        self
    }
}

/// What a request gets when no act is scripted: the answer a client must never take on
/// trust when it comes from the wrong place.
pub fn default_act() -> Act {
    Act::Answer {
        status: 200,
        headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
        body: r#"{"value":true}"#.into(),
    }
}

impl Act {
    /// Plays the act; `None` means the request is never answered.
    pub(crate) async fn play(self) -> Option<Response> {
        match self {
            Act::Answer {
                status,
                headers,
                body,
            } => Some(response(
                status,
                headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
                Body::from(body),
            )),
            Act::Redirect { status, location } => Some(response(
                status,
                [("location", location.as_str())],
                Body::empty(),
            )),
            Act::Endless => {
                let chunk = Bytes::from(vec![b' '; 64 * 1024]);
                let stream =
                    futures::stream::repeat_with(move || Ok::<Bytes, Infallible>(chunk.clone()));
                Some(json_response(Body::from_stream(stream), None))
            }
            Act::Huge { bytes } => {
                let chunk = Bytes::from(vec![b' '; 64 * 1024]);
                let mut left = bytes;
                let stream = futures::stream::iter(std::iter::from_fn(move || {
                    if left == 0 {
                        return None;
                    }
                    let take = left.min(chunk.len() as u64);
                    left -= take;
                    Some(Ok::<Bytes, Infallible>(chunk.slice(..take as usize)))
                }));
                Some(json_response(Body::from_stream(stream), Some(bytes)))
            }
            Act::Silent => {
                std::future::pending::<()>().await;
                None
            }
            Act::Drip { interval_ms } => {
                let interval = Duration::from_millis(interval_ms.max(1));
                let stream = futures::stream::unfold((), move |()| async move {
                    tokio::time::sleep(interval).await;
                    Some((Ok::<Bytes, Infallible>(Bytes::from_static(b" ")), ()))
                });
                Some(json_response(Body::from_stream(stream), None))
            }
        }
    }
}

fn json_response(body: Body, length: Option<u64>) -> Response {
    let length = length.map(|length| length.to_string());
    let mut headers = vec![("content-type", "application/json")];
    if let Some(length) = &length {
        headers.push(("content-length", length.as_str()));
    }
    response(200, headers, body)
}

fn response<'a>(
    status: u16,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Body,
) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (name, value) in headers {
        // Header values are taken as bytes: a hostile server sends what it likes.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
