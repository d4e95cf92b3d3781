//! The revocation call against the mock Graph server over real loopback HTTP.

use std::time::{Duration, Instant};

use graph_core::runtime::block_on_cancellable;
use graph_core::{
    CancellationToken, Environment, EnvironmentRegistry, ErrorKind, RequestContext, RequestOptions,
    Session, SessionConfig, UserId,
};
use graph_mock::{Fault, MockConfig, MockServer, TokenRequest, User};

const ADELE_ID: &str = "0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const ADELE_UPN: &str = "adele.vance@contoso.com";

/// A mock server on its own runtime (the core has its own), plus a session connected to it.
struct Fixture {
    _runtime: tokio::runtime::Runtime,
    server: MockServer,
    session: Session,
}

fn fixture(roles: &[&str]) -> Fixture {
    // No backoff between retries in these tests (faults carry Retry-After when it matters);
    // the setting is process-wide, so every test sets the same value.
    RequestContext::set(RequestContext {
        retry_delay_seconds: 0,
        ..RequestContext::default()
    })
    .expect("valid context");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("mock runtime");
    let server = runtime
        .block_on(MockServer::start(
            MockConfig::default().with_users([User::new(ADELE_ID, ADELE_UPN)]),
        ))
        .expect("mock server");
    // Each fixture registers its own environment name: tests run in parallel in one process.
    let name = format!("mock-{}", server.addr().port());
    let environment = Environment::user_defined(&name, &server.base_url(), &server.base_url())
        .expect("loopback environment");
    EnvironmentRegistry::global()
        .add(environment)
        .expect("registered");
    let token = server.mint_token(&TokenRequest::app_only(roles.iter().copied()));
    let config = SessionConfig {
        environment: name,
        host_description: Some("tests".into()),
        graph_endpoint: None,
    };
    let session = Session::connect_with_access_token(&config, token.as_bytes()).expect("session");
    Fixture {
        _runtime: runtime,
        server,
        session,
    }
}

fn revoke(
    session: &Session,
    user: &str,
) -> Result<graph_core::RevocationOutcome, graph_core::GraphError> {
    let user = UserId::parse(user)?;
    block_on_cancellable(
        &CancellationToken::new(),
        session.invalidate_all_refresh_tokens(&user, &RequestOptions::default()),
    )
}

#[test]
fn success_reads_the_boolean_and_the_identifiers() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    let outcome = revoke(&fixture.session, ADELE_UPN).expect("revoked");
    assert!(outcome.value);
    assert_eq!(outcome.status, 200);
    assert!(outcome.request_id.is_some());
    let request = &fixture.server.requests()[0];
    assert_eq!(
        request.header("client-request-id"),
        Some(outcome.client_request_id.as_str())
    );
    assert_eq!(fixture.server.revocations(ADELE_ID), 1);
}

#[test]
fn bodyless_204_is_success() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    fixture
        .server
        .push_fault(Fault::status(204))
        .expect("fault");
    let outcome = revoke(&fixture.session, ADELE_UPN).expect("204 is success");
    assert!(outcome.value);
    assert_eq!(outcome.status, 204);
}

#[test]
fn unknown_user_is_a_typed_graph_error() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    let error = revoke(&fixture.session, "nobody@contoso.com").expect_err("404");
    assert_eq!(error.kind, ErrorKind::Graph);
    let service = error.service();
    assert_eq!(service.status, Some(404));
    assert_eq!(service.code.as_deref(), Some("Request_ResourceNotFound"));
    assert!(service.request_id.is_some());
    assert!(service.date.is_some());
    let sent = fixture.server.requests()[0]
        .header("client-request-id")
        .map(str::to_owned);
    assert_eq!(service.client_request_id, sent);
}

#[test]
fn token_without_permission_is_403() {
    let fixture = fixture(&["User.Read.All"]);
    let error = revoke(&fixture.session, ADELE_UPN).expect_err("403");
    assert_eq!(error.service().status, Some(403));
    assert_eq!(
        error.service().code.as_deref(),
        Some("Authorization_RequestDenied")
    );
}

#[test]
fn path_injection_stays_one_segment() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    let error = revoke(&fixture.session, "x/../../groups").expect_err("no such user");
    assert_eq!(error.service().status, Some(404));
    let request = &fixture.server.requests()[0];
    assert_eq!(
        request.raw_path,
        "/beta/users/x%2F..%2F..%2Fgroups/invalidateAllRefreshTokens"
    );
    assert_eq!(request.user_id.as_deref(), Some("x/../../groups"));
}

#[test]
fn cancellation_returns_promptly_while_graph_is_slow() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    fixture.server.set_latency(Duration::from_secs(20));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        trigger.cancel();
    });
    let started = Instant::now();
    let user = UserId::parse(ADELE_UPN).expect("valid");
    let error = block_on_cancellable(
        &cancel,
        fixture
            .session
            .invalidate_all_refresh_tokens(&user, &RequestOptions::default()),
    )
    .expect_err("cancelled");
    assert_eq!(error.kind, ErrorKind::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn unreachable_graph_is_a_network_error() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    // Port 9 on loopback: nothing listens there.
    let environment =
        Environment::user_defined("closed-port", "http://127.0.0.1:9", "http://127.0.0.1:9")
            .expect("valid");
    EnvironmentRegistry::global()
        .add(environment)
        .expect("registered");
    let token = fixture
        .server
        .mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]));
    let config = SessionConfig {
        environment: "closed-port".into(),
        host_description: None,
        graph_endpoint: None,
    };
    let session = Session::connect_with_access_token(&config, token.as_bytes()).expect("session");
    let error = revoke(&session, ADELE_UPN).expect_err("refused");
    assert_eq!(error.kind, ErrorKind::Network);
    assert!(
        error.message.contains("could not connect"),
        "{}",
        error.message
    );
}

#[test]
fn throttled_and_unavailable_answers_are_retried_with_retry_attempt() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    fixture
        .server
        .push_fault(Fault::status(429).header("Retry-After", "0.05"))
        .expect("fault");
    fixture
        .server
        .push_fault(Fault::status(503).header("Retry-After", "0"))
        .expect("fault");
    let outcome = revoke(&fixture.session, ADELE_UPN).expect("retried to success");
    assert!(outcome.value);
    let requests = fixture.server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].header("retry-attempt"), None);
    assert_eq!(requests[1].header("retry-attempt"), Some("1"));
    assert_eq!(requests[2].header("retry-attempt"), Some("2"));
    assert_eq!(fixture.server.revocations(ADELE_ID), 1);
}

#[test]
fn transient_failures_stop_after_max_retry_with_the_last_answer() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    fixture
        .server
        .push_fault(Fault::status(503).header("Retry-After", "0").times(10))
        .expect("fault");
    let error = revoke(&fixture.session, ADELE_UPN).expect_err("gave up");
    assert_eq!(error.service().status, Some(503));
    // One attempt plus the default three retries.
    assert_eq!(fixture.server.requests().len(), 4);
}

#[test]
fn final_errors_are_not_retried() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    fixture
        .server
        .push_fault(Fault::status(500))
        .expect("fault");
    let error = revoke(&fixture.session, ADELE_UPN).expect_err("500");
    assert_eq!(error.service().status, Some(500));
    assert_eq!(fixture.server.requests().len(), 1);
}

#[test]
fn a_handed_over_graph_endpoint_needs_no_registered_environment() {
    let fixture = fixture(&["User.RevokeSessions.All"]);
    let token = fixture
        .server
        .mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]));
    let config = SessionConfig {
        environment: "NotRegisteredHere".into(),
        host_description: None,
        graph_endpoint: Some(format!("{}/", fixture.server.base_url())),
    };
    let session = Session::connect_with_access_token(&config, token.as_bytes()).expect("session");
    assert!(revoke(&session, ADELE_UPN).expect("revoked").value);
    assert_eq!(fixture.server.requests().len(), 1);

    let refused = Session::connect_with_access_token(
        &SessionConfig {
            graph_endpoint: Some("http://graph.example.com".into()),
            ..config
        },
        token.as_bytes(),
    )
    .err()
    .expect("plain http off loopback is refused");
    assert_eq!(refused.kind, ErrorKind::InvalidArgument);
}
