//! `Invoke-MgGraphRequest`'s engine call against the mock over real loopback HTTP, and against
//! hostile-server: the token goes only to the session's Graph origin.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

use graph_core::runtime::block_on_cancellable;
use graph_core::{
    CancellationToken, Environment, EnvironmentRegistry, ErrorKind, GraphAnswer, GraphError,
    GraphRequest, RequestContext, RequestOptions, Session, SessionConfig,
};
use graph_mock::{MockConfig, MockServer, TokenRequest};
use hostile_server::{Act, HostileServer, Scripted};

const TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ0ZW5hbnQifQ.c2lnbmF0dXJlLXNlY3JldA";

/// The mock and hostile servers on a runtime of their own (the core has its own).
struct Stage {
    runtime: tokio::runtime::Runtime,
}

impl Stage {
    fn new() -> Stage {
        // Process-wide; every test of this binary sets the same quick limits.
        RequestContext::set(RequestContext {
            max_retry: 1,
            retry_delay_seconds: 1,
            retries_time_limit_seconds: 4,
            client_timeout_seconds: 5,
        })
        .expect("valid context");
        Stage {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    fn mock(&self) -> (MockServer, Session) {
        let server = self
            .runtime
            .block_on(MockServer::start(MockConfig::default()))
            .expect("mock");
        let token = server.mint_token(&TokenRequest::app_only(["User.Read.All"]));
        let session = self.session(&server.base_url(), token.as_bytes());
        (server, session)
    }

    fn hostile(&self, ip: [u8; 4]) -> HostileServer {
        self.runtime
            .block_on(HostileServer::start(IpAddr::V4(Ipv4Addr::from(ip)), 0))
            .expect("hostile server")
    }

    fn session(&self, url: &str, token: &[u8]) -> Session {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("igr-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        EnvironmentRegistry::global()
            .add(Environment::user_defined(&name, url, url).expect("loopback"))
            .expect("registered");
        let config = SessionConfig {
            environment: name,
            host_description: None,
            graph_endpoint: None,
        };
        Session::connect_with_access_token(&config, token).expect("session")
    }
}

fn request(
    session: &Session,
    method: &str,
    uri: &str,
    body: &[u8],
) -> Result<GraphAnswer, GraphError> {
    let request = GraphRequest {
        method: method.to_owned(),
        uri: uri.to_owned(),
        headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
    };
    block_on_cancellable(
        &CancellationToken::new(),
        session.graph_request(&request, body, &RequestOptions::default()),
    )
}

fn json(answer: &GraphAnswer) -> serde_json::Value {
    serde_json::from_slice(&answer.body).expect("json body")
}

#[test]
fn a_request_round_trips_method_uri_headers_and_body() {
    let stage = Stage::new();
    let (server, session) = stage.mock();
    let answer = request(
        &session,
        "patch",
        "v1.0/mock/echo?$select=id",
        br#"{"a":1}"#,
    )
    .expect("sent");
    assert_eq!(answer.status, 200);
    assert!(answer.error.is_none());
    assert_eq!(
        answer.url,
        format!("{}/v1.0/mock/echo?$select=id", server.base_url())
    );
    let echoed = json(&answer);
    assert_eq!(echoed["method"], "PATCH");
    assert_eq!(echoed["query"], "$select=id");
    assert_eq!(echoed["body"], r#"{"a":1}"#);
    assert_eq!(echoed["authorized"], true);
    assert_eq!(echoed["headers"]["content-type"], "application/json");
    assert_eq!(
        echoed["headers"]["client-request-id"],
        answer.client_request_id.as_str()
    );
    assert!(
        answer
            .headers
            .iter()
            .any(|(name, value)| name == "x-mock-echo" && value == "echoed")
    );
}

#[test]
fn binary_bodies_come_back_byte_for_byte() {
    let stage = Stage::new();
    let (_server, session) = stage.mock();
    let answer = request(&session, "GET", "/beta/mock/bytes", b"").expect("sent");
    assert_eq!(answer.body, (0..=255u8).collect::<Vec<u8>>());
    let text = serde_json::to_value(&answer).expect("serializable");
    assert_eq!(
        text["body"].as_str().map(str::len),
        Some(344),
        "base64 of 256 bytes"
    );
}

#[test]
fn an_error_status_is_an_answer_carrying_graphs_error() {
    let stage = Stage::new();
    let (_server, session) = stage.mock();
    let answer = request(&session, "GET", "v1.0/mock/status/404", b"").expect("an answer");
    assert_eq!(answer.status, 404);
    let error = answer.error.clone().expect("graph's error");
    assert_eq!(error.kind, ErrorKind::Graph);
    assert_eq!(error.service().code.as_deref(), Some("Mock_Status404"));
    assert_eq!(json(&answer)["error"]["code"], "Mock_Status404");
}

#[test]
fn another_origin_is_refused_before_anything_is_sent() {
    let stage = Stage::new();
    let (server, session) = stage.mock();
    let elsewhere = stage.hostile([127, 0, 0, 2]);
    let error = request(
        &session,
        "GET",
        &format!("{}/v1.0/me", elsewhere.url()),
        b"",
    )
    .expect_err("refused");
    assert_eq!(
        error.kind,
        ErrorKind::OutsideGraphEndpoint,
        "{}",
        error.message
    );
    assert!(
        error.message.contains(&elsewhere.url()),
        "{}",
        error.message
    );
    assert!(elsewhere.requests().is_empty());
    assert!(server.requests().is_empty());
}

#[test]
fn reserved_headers_and_unknown_methods_are_refused() {
    let stage = Stage::new();
    let (server, session) = stage.mock();
    let call = |request: GraphRequest| {
        block_on_cancellable(
            &CancellationToken::new(),
            session.graph_request(&request, b"", &RequestOptions::default()),
        )
    };
    let error = call(GraphRequest {
        method: "GET".into(),
        uri: "v1.0/mock/echo".into(),
        headers: vec![("Authorization".into(), "Bearer other".into())],
    })
    .expect_err("reserved");
    assert_eq!(error.kind, ErrorKind::InvalidHeader);
    let error = call(GraphRequest {
        method: "TRACE".into(),
        uri: "v1.0/mock/echo".into(),
        headers: vec![],
    })
    .expect_err("method");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(server.requests().is_empty());
}

#[test]
fn a_redirect_to_another_origin_is_refused_and_the_token_stays_home() {
    let stage = Stage::new();
    let graph = stage.hostile([127, 0, 0, 1]);
    let other_port = stage.hostile([127, 0, 0, 1]);
    let other_host = stage.hostile([127, 0, 0, 2]);
    let session = stage.session(&graph.url(), TOKEN.as_bytes());
    for (status, target) in [(307, &other_port), (308, &other_host), (302, &other_host)] {
        graph.script([Scripted::times(
            Act::Redirect {
                status,
                location: format!("{}/v1.0/users/adele", target.url()),
            },
            1,
        )]);
        let error = request(
            &session,
            "PATCH",
            "v1.0/users/adele",
            br#"{"accountEnabled":false}"#,
        )
        .expect_err("refused");
        assert_eq!(error.kind, ErrorKind::RedirectRefused, "{}", error.message);
    }
    assert!(other_port.requests().is_empty());
    assert!(other_host.requests().is_empty());
    let sent = graph.requests();
    assert_eq!(sent.len(), 3);
}

#[test]
fn a_gateway_timeout_is_resent_only_for_methods_that_can_be_repeated() {
    let stage = Stage::new();
    // MaxRetry is 1 here: a resent request makes two attempts.
    for (status, method, attempts) in [
        // A POST answered 504 may have reached Graph: sent once, the 504 is the answer.
        (504, "POST", 1),
        (504, "PATCH", 1),
        (504, "GET", 2),
        (504, "DELETE", 2),
        // A 503 says the request was not served: safe to resend whatever the method.
        (503, "POST", 2),
    ] {
        let graph = stage.hostile([127, 0, 0, 1]);
        let session = stage.session(&graph.url(), TOKEN.as_bytes());
        graph.script([Scripted::times(
            Act::Answer {
                status,
                headers: Default::default(),
                body: String::new(),
            },
            0,
        )]);
        let answer = request(&session, method, "v1.0/users", b"{}").expect("answer");
        assert_eq!(answer.status, status);
        assert_eq!(graph.requests().len(), attempts, "{status} to a {method}");
    }
}

#[test]
fn a_debug_trace_never_shows_the_answer_body() {
    let stage = Stage::new();
    let graph = stage.hostile([127, 0, 0, 1]);
    let session = stage.session(&graph.url(), TOKEN.as_bytes());
    graph.script([Scripted::times(
        Act::Answer {
            status: 200,
            headers: [("content-type".to_owned(), "application/json".to_owned())].into(),
            body: r#"{"secretText":"Qx8~not-for-logs","passwordBase64":"aHVudGVyMg=="}"#.into(),
        },
        1,
    )]);
    let request = GraphRequest {
        method: "POST".to_owned(),
        uri: "v1.0/applications/x/addPassword".to_owned(),
        headers: Vec::new(),
    };
    let mut options = RequestOptions::default();
    options.trace = true;
    let answer = block_on_cancellable(
        &CancellationToken::new(),
        session.graph_request(&request, b"{}", &options),
    )
    .expect("answer");
    assert!(
        answer.body.starts_with(br#"{"secretText""#),
        "the caller gets the body"
    );
    let trace = serde_json::to_string(&answer.exchange).expect("trace");
    assert!(trace.contains("POST"), "{trace}");
    assert!(
        !trace.contains("not-for-logs") && !trace.contains("aHVudGVyMg"),
        "{trace}"
    );
}

#[test]
fn a_same_origin_redirect_is_followed_with_the_token() {
    let stage = Stage::new();
    let graph = stage.hostile([127, 0, 0, 1]);
    let session = stage.session(&graph.url(), TOKEN.as_bytes());
    graph.script([Scripted::times(
        Act::Redirect {
            status: 307,
            location: format!("{}/v1.0/users/moved", graph.url()),
        },
        1,
    )]);
    // Whatever the hostile server answers next, the second request went to its own origin.
    let _ = request(&session, "GET", "v1.0/users/adele", b"");
    let sent = graph.requests();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].path, "/v1.0/users/moved");
    assert_eq!(
        sent[1].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str()),
        "the token goes along within the origin"
    );
}
