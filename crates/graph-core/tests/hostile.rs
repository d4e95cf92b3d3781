//! The engine against a hostile server of our own (`hostile-server`, loopback only): every
//! lie a network can tell (redirects elsewhere, bodies without end, silence, zero Retry-After
//! storms, 2xx answers that are not Graph's, escape sequences) must end in an error that says
//! what happened, never in a success, and no secret may reach another origin.
//!
//! The request context is process-wide: every test here sets the same one ([`setup`]).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use graph_core::bulk::{BulkConfig, BulkRun, Completion};
use graph_core::runtime::block_on_cancellable;
use graph_core::{
    AppSignInConfig, CancellationToken, Environment, EnvironmentRegistry, ErrorKind, GraphError,
    ProxyConfig, RequestContext, RequestOptions, RevocationOutcome, Session, SessionConfig, UserId,
};
use hostile_server::{Act, HostileServer, Scripted};

/// What a stolen token would look like: a JWT (its claims are read for display).
const TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ0ZW5hbnQifQ.c2lnbmF0dXJlLXNlY3JldA";
const SECRET: &str = "client-secret-that-must-stay-home";

/// Short timeouts and limits, so that what would hang shows up as a slow test, not a stuck one.
fn context() -> RequestContext {
    RequestContext {
        max_retry: 1,
        retry_delay_seconds: 1,
        retries_time_limit_seconds: 4,
        client_timeout_seconds: 2,
    }
}

struct Stage {
    runtime: tokio::runtime::Runtime,
}

impl Stage {
    fn new() -> Stage {
        RequestContext::set(context()).expect("valid context");
        Stage {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    fn server(&self, ip: [u8; 4]) -> HostileServer {
        self.runtime
            .block_on(HostileServer::start(IpAddr::V4(Ipv4Addr::from(ip)), 0))
            .expect("hostile server")
    }

    /// An environment whose Graph and Entra ID are the given servers.
    fn environment(&self, graph: &HostileServer, entra: &HostileServer) -> String {
        let name = format!(
            "hostile-{}-{}",
            graph.address().port(),
            entra.address().port()
        );
        EnvironmentRegistry::global()
            .add(Environment::user_defined(&name, &graph.url(), &entra.url()).expect("loopback"))
            .expect("registered");
        name
    }

    fn session(&self, graph: &HostileServer) -> Session {
        let config = SessionConfig {
            environment: self.environment(graph, graph),
            host_description: None,
            graph_endpoint: None,
        };
        Session::connect_with_access_token(&config, TOKEN.as_bytes()).expect("session")
    }
}

/// Revokes one user, giving up after 20 s (what used to run forever shows as a failure).
fn revoke(session: &Session, options: &RequestOptions) -> Result<RevocationOutcome, GraphError> {
    let cancel = CancellationToken::new();
    let timer = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20));
        timer.cancel();
    });
    let user = UserId::parse("adele@contoso.com").expect("user");
    block_on_cancellable(
        &cancel,
        session.invalidate_all_refresh_tokens(&user, options),
    )
}

fn app_config(environment: String) -> AppSignInConfig {
    AppSignInConfig {
        environment,
        host_description: None,
        client_id: Some("11111111-2222-3333-4444-555555555555".into()),
        tenant_id: Some("contoso.onmicrosoft.com".into()),
        certificate: None,
        certificate_chain: Vec::new(),
        send_certificate_chain: false,
        identity_endpoint: None,
        imds_host: None,
    }
}

fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn assert_kind(error: &GraphError, kind: ErrorKind) {
    assert_eq!(error.kind, kind, "{}", error.message);
}

fn nothing_reached(server: &HostileServer) {
    let requests = server.requests();
    assert!(requests.is_empty(), "the other origin got {requests:?}");
}

// 1. Token requests follow no redirect.
#[test]
fn a_token_request_redirected_elsewhere_is_refused_and_the_secret_stays_home() {
    let stage = Stage::new();
    let entra = stage.server([127, 0, 0, 1]);
    let elsewhere = stage.server([127, 0, 0, 2]);
    for status in [307, 308, 302] {
        entra.script([Scripted::times(
            Act::Redirect {
                status,
                location: format!("{}/steal/oauth2/v2.0/token", elsewhere.url()),
            },
            1,
        )]);
        let config = app_config(stage.environment(&entra, &entra));
        let error = Session::connect_with_client_secret(
            &config,
            SECRET.as_bytes(),
            &CancellationToken::new(),
        )
        .err()
        .expect("refused");
        assert_kind(&error, ErrorKind::RedirectRefused);
        assert!(
            error.message.contains(&format!("HTTP {status}")),
            "{}",
            error.message
        );
        assert!(error.message.contains("127.0.0.2"), "{}", error.message);
        assert!(!error.message.contains(SECRET));
    }
    nothing_reached(&elsewhere);
}

// 2. Graph requests follow only same-origin redirects.
#[test]
fn a_graph_redirect_to_another_origin_is_an_error_and_carries_nothing_there() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let other_port = stage.server([127, 0, 0, 1]);
    let other_host = stage.server([127, 0, 0, 2]);
    let session = stage.session(&graph);
    let options = RequestOptions::default()
        .with_headers([("x-incident".to_owned(), "IR-4711".to_owned())])
        .expect("headers");
    for (status, target) in [(307, &other_port), (308, &other_host), (302, &other_host)] {
        graph.script([Scripted::times(
            Act::Redirect {
                status,
                location: format!(
                    "{}/beta/users/adele/invalidateAllRefreshTokens",
                    target.url()
                ),
            },
            1,
        )]);
        let error = revoke(&session, &options).expect_err("not a success");
        assert_kind(&error, ErrorKind::RedirectRefused);
    }
    nothing_reached(&other_port);
    nothing_reached(&other_host);
}

#[test]
fn a_same_origin_307_is_followed_with_its_method_and_token() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    graph.script([Scripted::times(
        Act::Redirect {
            status: 307,
            location: "/beta/users/moved/invalidateAllRefreshTokens".into(),
        },
        1,
    )]);
    let outcome = revoke(&session, &RequestOptions::default()).expect("followed");
    assert!(outcome.value);
    let requests = graph.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].method, "POST");
    assert!(requests[1].path.contains("/moved/"));
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn a_same_origin_302_never_turns_the_revocation_into_a_get() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    graph.script([Scripted::times(
        Act::Redirect {
            status: 302,
            location: "/beta/me".into(),
        },
        1,
    )]);
    let error = revoke(&session, &RequestOptions::default()).expect_err("not followed");
    assert_kind(&error, ErrorKind::UnexpectedResponse);
    assert!(
        graph
            .requests()
            .iter()
            .all(|request| request.method == "POST")
    );
}

#[test]
fn a_batch_redirected_elsewhere_fails_every_item_and_sends_no_user_list_there() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let elsewhere = stage.server([127, 0, 0, 2]);
    let session = Arc::new(stage.session(&graph));
    graph.script([Scripted::always(Act::Redirect {
        status: 307,
        location: format!("{}/beta/$batch", elsewhere.url()),
    })]);
    let completions = run_bulk(&session, 5);
    assert_eq!(completions.len(), 5);
    for completion in &completions {
        let error = completion.error.as_ref().expect("failed");
        assert_kind(error, ErrorKind::RedirectRefused);
    }
    nothing_reached(&elsewhere);
}

// 3. A retry budget that always ends.
#[test]
fn a_zero_retry_after_storm_ends_within_the_time_limit() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    for retry_after in ["0", "Tue, 14 Nov 2023 22:13:00 GMT", "0.0001"] {
        graph.script([Scripted::always(Act::Answer {
            status: 429,
            headers: headers(&[("retry-after", retry_after)]),
            body: String::new(),
        })]);
        let started = Instant::now();
        let error = revoke(&session, &RequestOptions::default()).expect_err("throttled");
        let elapsed = started.elapsed();
        assert_eq!(
            error.service().status,
            Some(429),
            "{retry_after}: {}",
            error.message
        );
        assert!(
            elapsed < Duration::from_secs(7),
            "{retry_after}: took {elapsed:?}"
        );
    }
    let sent = graph.requests().len();
    // Backing off from 1 s within a 4 s limit: a handful per storm, not ~22 a second forever.
    assert!(sent <= 3 * 8, "{sent} requests for three storms");
}

// 4. A size cap on every body read.
#[test]
fn endless_and_huge_bodies_are_refused_without_being_read() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    for act in [
        Act::Endless,
        Act::Huge {
            bytes: 64 * 1024 * 1024,
        },
    ] {
        graph.script([Scripted::times(act.clone(), 1)]);
        let started = Instant::now();
        let error = revoke(&session, &RequestOptions::default()).expect_err("refused");
        assert_eq!(
            error.kind,
            ErrorKind::UnexpectedResponse,
            "{act:?}: {}",
            error.message
        );
        assert!(error.message.contains("1024 KiB"), "{}", error.message);
        assert!(started.elapsed() < Duration::from_secs(3), "{act:?}");
    }
}

#[test]
fn an_endless_token_answer_is_refused() {
    let stage = Stage::new();
    let entra = stage.server([127, 0, 0, 1]);
    entra.script([Scripted::times(Act::Endless, 1)]);
    let config = app_config(stage.environment(&entra, &entra));
    let error =
        Session::connect_with_client_secret(&config, SECRET.as_bytes(), &CancellationToken::new())
            .err()
            .expect("refused");
    assert_kind(&error, ErrorKind::UnexpectedResponse);
}

// 5. Plain http to loopback never travels through a proxy elsewhere.
#[test]
fn a_loopback_endpoint_ignores_a_proxy_that_is_not_on_loopback() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    // Nothing listens there: through it, the request would fail to connect.
    let mut options = RequestOptions::default();
    options.proxy = Some(ProxyConfig::new("http://192.0.2.1:3128", None, None).expect("proxy"));
    let outcome = revoke(&session, &options).expect("sent directly");
    assert!(outcome.value);
    assert_eq!(graph.requests().len(), 1);
    assert_eq!(graph.requests()[0].header("proxy-authorization"), None);
}

#[test]
fn a_loopback_proxy_is_still_used_for_a_loopback_endpoint() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let proxy = stage.server([127, 0, 0, 2]);
    let session = stage.session(&graph);
    let mut options = RequestOptions::default();
    options.proxy = Some(ProxyConfig::new(&proxy.url(), None, None).expect("proxy"));
    // The hostile "proxy" answers for Graph: a proxy sees everything it relays, which is why
    // only one on this machine is trusted with plain http.
    revoke(&session, &options).expect("answered by the proxy");
    assert_eq!(proxy.requests().len(), 1);
    assert!(graph.requests().is_empty());
}

// 6. Success only when Graph says so.
#[test]
fn answers_that_are_not_graphs_success_are_errors_not_true() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    let json = headers(&[("content-type", "application/json")]);
    for (status, headers, body) in [
        (
            200,
            headers(&[("content-type", "text/html")]),
            "<html>OK</html>",
        ),
        (200, json.clone(), r#"{"value":"false"}"#),
        (200, json.clone(), r#"{"value":null}"#),
        (200, json.clone(), r#"{"value":tru"#),
        (
            200,
            json.clone(),
            r#"{"error":{"code":"Authorization_RequestDenied","message":"no"}}"#,
        ),
        (200, BTreeMap::new(), ""),
        (202, json.clone(), r#"{"value":true}"#),
    ] {
        graph.script([Scripted::times(
            Act::Answer {
                status,
                headers,
                body: body.to_owned(),
            },
            1,
        )]);
        let error = revoke(&session, &RequestOptions::default()).expect_err(body);
        assert_eq!(
            error.kind,
            ErrorKind::UnexpectedResponse,
            "{body}: {}",
            error.message
        );
        assert!(
            error.message.contains(&format!("HTTP {status}")),
            "{}",
            error.message
        );
    }
    graph.script([Scripted::times(
        Act::Answer {
            status: 200,
            headers: json,
            body: r#"{"value":false}"#.into(),
        },
        1,
    )]);
    assert!(
        !revoke(&session, &RequestOptions::default())
            .expect("false")
            .value
    );
}

#[test]
fn batch_items_follow_the_same_success_rule() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = Arc::new(stage.session(&graph));
    let json = || headers(&[("content-type", "application/json")]);
    let items = r#"{"responses":[
        {"id":"0","status":204},
        {"id":"1","status":200,"body":{"value":true}},
        {"id":"2","status":200,"body":{"value":false}},
        {"id":"3","status":200,"body":{"value":"true"}},
        {"id":"4","status":200,"body":"PGh0bWw+"},
        {"id":"5","status":201,"body":{"value":true}}]}"#;
    // Whether an item travels in a batch or alone, it meets the same answer.
    let alone = [
        (204, BTreeMap::new(), ""),
        (200, json(), r#"{"value":true}"#),
        (200, json(), r#"{"value":false}"#),
        (200, json(), r#"{"value":"true"}"#),
        (200, headers(&[("content-type", "text/html")]), "<html>"),
        (201, json(), r#"{"value":true}"#),
    ];
    graph.script(
        alone
            .into_iter()
            .enumerate()
            .map(|(index, (status, headers, body))| {
                Scripted::always(Act::Answer {
                    status,
                    headers,
                    body: body.to_owned(),
                })
                .on_path(&format!("/beta/users/user{index}"))
            }),
    );
    graph.script([Scripted::always(Act::Answer {
        status: 200,
        headers: json(),
        body: items.into(),
    })
    .on_path("/beta/$batch")]);
    let completions = run_bulk(&session, 6);
    let values: Vec<Option<bool>> = completions
        .iter()
        .map(|completion| completion.outcome.as_ref().map(|outcome| outcome.value))
        .collect();
    assert_eq!(
        values,
        [Some(true), Some(true), Some(false), None, None, None]
    );
    for completion in &completions[3..] {
        let error = completion.error.as_ref().expect("failed");
        assert_kind(error, ErrorKind::UnexpectedResponse);
    }
}

// 9 and 10. One cleaning pass: no secret, no terminal control.
#[test]
fn graph_error_messages_and_codes_reach_the_caller_cleaned() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    let body = format!(
        r#"{{"error":{{"code":"Evil\u001b[2J,Code","message":"token={TOKEN} and {{\"access_token\":\"{TOKEN}\"}} \u001b]0;pwned\u0007\r\nWARNING: forged line"}}}}"#
    );
    graph.script([Scripted::times(
        Act::Answer {
            status: 400,
            headers: headers(&[("content-type", "application/json")]),
            body,
        },
        1,
    )]);
    let error = revoke(&session, &RequestOptions::default())
        .expect_err("400")
        .for_display();
    assert!(!error.message.contains("eyJ"), "{}", error.message);
    assert!(
        !error.message.chars().any(char::is_control),
        "{:?}",
        error.message
    );
    let code = error.service().code.unwrap_or_default();
    assert!(
        code.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
        "{code:?}"
    );
}

// 11. Tokens from the token endpoint are opaque.
#[test]
fn an_opaque_access_token_from_the_token_endpoint_is_used_as_it_is() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let entra = stage.server([127, 0, 0, 1]);
    entra.script([Scripted::always(Act::Answer {
        status: 200,
        headers: headers(&[("content-type", "application/json")]),
        body:
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"EwB4A8l6BAAUopaque-token"}"#
                .into(),
    })]);
    let config = app_config(stage.environment(&graph, &entra));
    let session =
        Session::connect_with_client_secret(&config, SECRET.as_bytes(), &CancellationToken::new())
            .expect("signed in");
    assert!(!session.context().claims_readable);
    assert!(
        revoke(&session, &RequestOptions::default())
            .expect("revoked")
            .value
    );
    assert_eq!(
        graph.requests()[0].header("authorization"),
        Some("Bearer EwB4A8l6BAAUopaque-token")
    );
}

// 12. A server that never answers.
#[test]
fn a_silent_server_gives_up_within_the_time_limit() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    graph.script([Scripted::always(Act::Silent)]);
    let started = Instant::now();
    let error = revoke(&session, &RequestOptions::default()).expect_err("silent");
    assert_kind(&error, ErrorKind::Timeout);
    // Two attempts of 2 s and one backoff of at most 1 s.
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_dripping_body_is_cut_by_the_client_timeout() {
    let stage = Stage::new();
    let graph = stage.server([127, 0, 0, 1]);
    let session = stage.session(&graph);
    graph.script([Scripted::always(Act::Drip { interval_ms: 100 })]);
    let started = Instant::now();
    revoke(&session, &RequestOptions::default()).expect_err("dripping");
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn default_timeouts_fit_a_revocation() {
    let context = RequestContext::default();
    assert_eq!(context.client_timeout(), Duration::from_secs(30));
    assert!(context.retries_time_limit() >= context.client_timeout());
}

fn run_bulk(session: &Arc<Session>, count: usize) -> Vec<Completion> {
    let run = BulkRun::start(
        Arc::clone(session),
        RequestOptions::default(),
        BulkConfig {
            request_context: context(),
            ..BulkConfig::default()
        },
    )
    .expect("run");
    for seq in 0..count {
        run.submit(seq as u64, &format!("user{seq}@contoso.com"), Vec::new());
    }
    run.close();
    let mut completions = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let poll = run.poll(Duration::from_millis(200), 1000).expect("poll");
        completions.extend(poll.completions);
        if poll.finished {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not finish");
    }
    completions.sort_by_key(|completion| completion.seq);
    completions
}
