//! A server on loopback that behaves as a hostile Graph, Entra ID or redirect target would:
//! the trust tests point the module at it and check that no lie becomes a `True`, no secret
//! reaches it from another origin, and no answer holds the module forever.
//!
//! Tests script it with [`Scripted`] acts (in process, or `POST /_hostile/acts` with a JSON
//! array from another process; `DELETE` forgets them) and read what reached it (`GET /_hostile/requests`, every
//! header and body, credentials included: that is what the tests look for). A request no act
//! matches gets [`default_act`], a friendly `200 {"value":true}`. It binds any loopback
//! address (`127.0.0.2` gives a second host on the same machine) and nothing else.

mod act;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

pub use act::{Act, Scripted, default_act};

/// Largest request body recorded; the module's requests are small.
const MAX_RECORDED_BODY: usize = 1024 * 1024;

/// A request as it reached the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The whole request as text, to search for a secret anywhere in it.
    pub fn text(&self) -> String {
        let mut text = format!("{} {}\n", self.method, self.path);
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push_str(&self.body);
        text
    }
}

#[derive(Default)]
struct Stage {
    script: Mutex<Vec<Scripted>>,
    requests: Mutex<Vec<Recorded>>,
}

impl Stage {
    fn next_act(&self, path: &str) -> Act {
        let mut script = self.script.lock();
        let found = script.iter().position(|scripted| {
            scripted
                .path_prefix
                .as_deref()
                .is_none_or(|prefix| path.starts_with(prefix))
        });
        match found {
            Some(index) => {
                let act = script[index].act.clone();
                if script[index].times != u32::MAX {
                    script[index].times -= 1;
                    if script[index].times == 0 {
                        script.remove(index);
                    }
                }
                act
            }
            None => default_act(),
        }
    }
}

/// A running hostile server; it stops when dropped.
pub struct HostileServer {
    address: SocketAddr,
    stage: Arc<Stage>,
    _stop: oneshot::Sender<()>,
}

impl HostileServer {
    /// Binds `ip` (a loopback address) on `port` (0: any free one) and serves in the background.
    pub async fn start(ip: IpAddr, port: u16) -> anyhow::Result<HostileServer> {
        anyhow::ensure!(
            ip.is_loopback(),
            "the hostile server binds loopback addresses only, not {ip}"
        );
        let listener = tokio::net::TcpListener::bind((ip, port)).await?;
        let address = listener.local_addr()?;
        let stage = Arc::new(Stage::default());
        let router = Router::new()
            .route("/_hostile/acts", post(add_acts).delete(clear_acts))
            .route(
                "/_hostile/requests",
                get(list_requests).delete(clear_requests),
            )
            .fallback(misbehave)
            .with_state(Arc::clone(&stage));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(HostileServer {
            address,
            stage,
            _stop: stop,
        })
    }

    /// `http://ip:port`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Queues acts, played in order for the requests they match.
    pub fn script(&self, acts: impl IntoIterator<Item = Scripted>) {
        self.stage.script.lock().extend(acts);
    }

    /// Every request received so far, control requests excepted.
    pub fn requests(&self) -> Vec<Recorded> {
        self.stage.requests.lock().clone()
    }
}

async fn misbehave(State(stage): State<Arc<Stage>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let body = to_bytes(body, MAX_RECORDED_BODY).await.unwrap_or_default();
    stage.requests.lock().push(Recorded {
        method: parts.method.to_string(),
        path: path.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let act = stage.next_act(&path);
    match act.play().await {
        Some(response) => response,
        None => Response::new(Body::empty()),
    }
}

async fn add_acts(
    State(stage): State<Arc<Stage>>,
    axum::Json(acts): axum::Json<Vec<Scripted>>,
) -> impl IntoResponse {
    stage.script.lock().extend(acts);
    http::StatusCode::NO_CONTENT
}

async fn clear_acts(State(stage): State<Arc<Stage>>) -> impl IntoResponse {
    stage.script.lock().clear();
    http::StatusCode::NO_CONTENT
}

async fn list_requests(State(stage): State<Arc<Stage>>) -> impl IntoResponse {
    axum::Json(stage.requests.lock().clone())
}

async fn clear_requests(State(stage): State<Arc<Stage>>) -> impl IntoResponse {
    stage.requests.lock().clear();
    http::StatusCode::NO_CONTENT
}
