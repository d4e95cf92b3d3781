//! Shared helpers for the integration tests: a started server with known users, an HTTP client,
//! and a raw-socket sender for paths an URL library would normalise.

#![allow(dead_code)] // each test binary uses a different subset

pub mod signin;

use graph_mock::{MockConfig, MockServer, TokenRequest, User};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ALICE_ID: &str = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e01";
pub const ALICE: &str = "alice@contoso.com";
pub const GUEST_ID: &str = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e02";
pub const GUEST: &str = "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com";
pub const DOLLAR_ID: &str = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e03";
pub const DOLLAR: &str = "$x@y.com";

pub async fn server() -> MockServer {
    let config = MockConfig::default().with_users([
        User::new(ALICE_ID, ALICE),
        User::new(GUEST_ID, GUEST),
        User::new(DOLLAR_ID, DOLLAR),
    ]);
    match MockServer::start(config).await {
        Ok(s) => s,
        Err(e) => panic!("mock server did not start: {e:#}"),
    }
}

pub fn client() -> reqwest::Client {
    // reqwest is built without a rustls provider; it insists on one even for plain http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match reqwest::Client::builder().build() {
        Ok(c) => c,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

pub fn app_token(server: &MockServer) -> String {
    server.mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]))
}

/// POSTs to `path` (appended to the base URL) with an optional bearer token.
pub async fn post(
    client: &reqwest::Client,
    server: &MockServer,
    path: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let mut req = client
        .post(format!("{}{path}", server.base_url()))
        .header("content-length", "0");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(r) => r,
        Err(e) => panic!("request to {path} failed: {e}"),
    }
}

pub async fn json(resp: reqwest::Response) -> serde_json::Value {
    match resp.json().await {
        Ok(v) => v,
        Err(e) => panic!("body is not JSON: {e}"),
    }
}

pub fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Sends one HTTP/1.1 request line byte-for-byte (no URL normalisation) and returns the status.
pub async fn raw_post_status(server: &MockServer, raw_target: &str, token: &str) -> u16 {
    let mut stream = match tokio::net::TcpStream::connect(server.addr()).await {
        Ok(s) => s,
        Err(e) => panic!("connect: {e}"),
    };
    let request = format!(
        "POST {raw_target} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        server.addr()
    );
    if let Err(e) = stream.write_all(request.as_bytes()).await {
        panic!("write: {e}");
    }
    let mut answer = Vec::new();
    if let Err(e) = stream.read_to_end(&mut answer).await {
        panic!("read: {e}");
    }
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

pub fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid_like(s)
}

fn uuid_like(s: &str) -> bool {
    s.char_indices().all(|(i, c)| {
        if [8, 13, 18, 23].contains(&i) {
            c == '-'
        } else {
            c.is_ascii_hexdigit()
        }
    })
}

/// `2025-02-13T10:17:06`: UTC, no zone suffix.
pub fn is_inner_error_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b[10] == b'T'
        && b.iter().enumerate().all(|(i, c)| {
            matches!(i, 4 | 7) && *c == b'-'
                || matches!(i, 13 | 16) && *c == b':'
                || i == 10
                || c.is_ascii_digit()
        })
}
