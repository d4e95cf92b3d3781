//! The bulk engine against the mock over real loopback HTTP, with faults injected.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use graph_core::bulk::{BulkConfig, BulkRun, Completion};
use graph_core::{
    Environment, EnvironmentRegistry, RequestContext, RequestOptions, RevocationAction, Session,
    SessionConfig,
};
use graph_mock::{
    ChaosConfig, LimitName, MockConfig, MockServer, ThrottleConfig, TokenRequest, User,
};

struct Fixture {
    _runtime: tokio::runtime::Runtime,
    server: MockServer,
    session: Arc<Session>,
    users: Vec<User>,
}

fn fixture(user_count: usize) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("mock runtime");
    let users: Vec<User> = (0..user_count)
        .map(|index| {
            User::new(
                format!("00000000-0000-4000-8000-{index:012}"),
                format!("user{index}@contoso.com"),
            )
        })
        .collect();
    let server = runtime
        .block_on(MockServer::start(
            MockConfig::default().with_users(users.clone()),
        ))
        .expect("mock server");
    let name = format!("bulk-{}", server.addr().port());
    EnvironmentRegistry::global()
        .add(
            Environment::user_defined(&name, &server.base_url(), &server.base_url())
                .expect("loopback"),
        )
        .expect("registered");
    let token = server.mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]));
    let config = SessionConfig {
        environment: name,
        host_description: None,
        graph_endpoint: None,
    };
    let session =
        Arc::new(Session::connect_with_access_token(&config, token.as_bytes()).expect("session"));
    Fixture {
        _runtime: runtime,
        server,
        session,
        users,
    }
}

fn quick_context() -> RequestContext {
    RequestContext {
        max_retry: 5,
        retry_delay_seconds: 0,
        retries_time_limit_seconds: 60,
        client_timeout_seconds: 10,
    }
}

/// Submits every id, closes, and collects completions until the run finishes.
fn run_all(run: &BulkRun, ids: &[String]) -> BTreeMap<u64, Completion> {
    for (seq, id) in ids.iter().enumerate() {
        run.submit(seq as u64, id, Vec::new());
    }
    run.close();
    let mut completions = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let poll = run.poll(Duration::from_millis(200), 1000).expect("poll");
        for completion in poll.completions {
            assert!(
                completions.insert(completion.seq, completion).is_none(),
                "one outcome per item"
            );
        }
        if poll.finished {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not finish");
    }
    completions
}

#[test]
fn every_item_gets_exactly_one_outcome_through_batches() {
    let fixture = fixture(200);
    // With some latency, items pile up while requests are in flight and travel in batches.
    fixture.server.set_latency(Duration::from_millis(20));
    let config = BulkConfig {
        request_context: quick_context(),
        ..BulkConfig::default()
    };
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    let mut ids: Vec<String> = fixture
        .users
        .iter()
        .map(|user| user.user_principal_name.clone())
        .collect();
    ids.push("nobody@contoso.com".into());
    ids.push("   ".into());
    let completions = run_all(&run, &ids);
    assert_eq!(completions.len(), ids.len());
    for (seq, completion) in &completions {
        let seq = *seq as usize;
        if seq < 200 {
            assert_eq!(
                completion.outcome.as_ref().map(|outcome| outcome.value),
                Some(true),
                "item {seq}"
            );
        }
    }
    assert_eq!(
        completions[&200]
            .error
            .as_ref()
            .and_then(|error| error.service().status),
        Some(404)
    );
    assert_eq!(
        completions[&201].error.as_ref().map(|error| error.kind),
        Some(graph_core::ErrorKind::InvalidArgument)
    );
    // 202 items travel in a handful of requests, not one each.
    let requests: Vec<_> = fixture
        .server
        .requests()
        .into_iter()
        .filter(|request| request.batch_id.is_none())
        .collect();
    let batches = requests
        .iter()
        .filter(|request| request.raw_path == "/beta/$batch")
        .count();
    assert!(
        batches >= 10,
        "{batches} batch requests and {} requests in all for 202 items",
        requests.len()
    );
    assert!(
        requests.len() < 40,
        "{} requests for 202 items",
        requests.len()
    );
}

#[test]
fn faults_and_throttling_lose_nothing_and_touch_only_piped_users() {
    let fixture = fixture(1200);
    fixture
        .server
        .set_chaos(Some(ChaosConfig {
            throttle_rate: 0.10,
            service_unavailable_rate: 0.02,
            gateway_timeout_rate: 0.0,
            reset_rate: 0.01,
            retry_after_seconds: 0.05,
            seed: 42,
        }))
        .expect("chaos");
    let config = BulkConfig {
        request_context: quick_context(),
        ..BulkConfig::default()
    };
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    // Only the first 1,000 users are piped; the rest must never be touched.
    let ids: Vec<String> = fixture.users[..1000]
        .iter()
        .map(|user| user.id.clone())
        .collect();
    let completions = run_all(&run, &ids);
    assert_eq!(completions.len(), 1000);
    let failed: Vec<_> = completions
        .values()
        .filter(|completion| completion.error.is_some())
        .collect();
    assert!(
        failed.is_empty(),
        "all items should succeed after retries: {:?}",
        failed.first()
    );
    for user in &fixture.users[..1000] {
        assert!(
            fixture.server.revocations(&user.id) >= 1,
            "{} not revoked",
            user.id
        );
    }
    let piped: HashSet<&str> = ids.iter().map(String::as_str).collect();
    for request in fixture.server.requests() {
        if let Some(user) = &request.user_id {
            assert!(
                piped.contains(user.as_str()),
                "a request for {user}, who was not piped"
            );
        }
    }
    assert!(
        fixture.server.chaos_stats().throttled > 0,
        "chaos really throttled"
    );
}

#[test]
fn a_throttling_storm_is_waited_out_then_reported_per_item() {
    let fixture = fixture(30);
    // Room for 10 writes, then one every 100 s: most items cannot make it in time.
    fixture
        .server
        .set_throttling(ThrottleConfig::entra().with_limit(
            LimitName::AppTenantWrites,
            10.0,
            1000.0,
        ))
        .expect("throttling");
    let config = BulkConfig {
        request_context: RequestContext {
            retries_time_limit_seconds: 2,
            ..quick_context()
        },
        ..BulkConfig::default()
    };
    let started = Instant::now();
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    let ids: Vec<String> = fixture.users.iter().map(|user| user.id.clone()).collect();
    let completions = run_all(&run, &ids);
    assert_eq!(completions.len(), 30);
    let throttled: Vec<_> = completions
        .values()
        .filter_map(|completion| completion.error.as_ref())
        .filter(|error| error.service().status == Some(429))
        .collect();
    assert!(!throttled.is_empty());
    assert_eq!(
        completions
            .values()
            .filter(|completion| completion.outcome.is_some())
            .count()
            + throttled.len(),
        30
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn cancel_stops_sending_within_a_second() {
    let fixture = fixture(400);
    fixture.server.set_latency(Duration::from_millis(200));
    let config = BulkConfig {
        initial_concurrency: 1,
        max_concurrency: 2,
        request_context: quick_context(),
        ..BulkConfig::default()
    };
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    for (seq, user) in fixture.users.iter().enumerate() {
        run.submit(seq as u64, &user.id, Vec::new());
    }
    std::thread::sleep(Duration::from_millis(500));
    let cancelled_at = Instant::now();
    run.cancel();
    let mut done = 0;
    loop {
        let poll = run.poll(Duration::from_millis(100), 1000).expect("poll");
        done += poll.completions.len();
        if poll.finished {
            assert!(poll.cancelled);
            break;
        }
        assert!(
            cancelled_at.elapsed() < Duration::from_secs(1),
            "still running 1 s after cancel"
        );
    }
    let sent = fixture.server.requests().len();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        fixture.server.requests().len(),
        sent,
        "nothing is sent after cancel"
    );
    assert!(done < 400, "the run was cut short ({done} done)");
}

/// Sends every id as its own request from `tasks` workers, each retrying 429s after their
/// `Retry-After` like any careful script: the fixed-concurrency client the engine must beat.
fn naive_fixed_concurrency(fixture: &Fixture, ids: &[String], tasks: usize) {
    let runtime = graph_core::runtime::runtime().expect("runtime");
    let queue = Arc::new(std::sync::Mutex::new(ids.to_vec()));
    runtime.block_on(async {
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            let queue = Arc::clone(&queue);
            let session = Arc::clone(&fixture.session);
            workers.spawn(async move {
                while let Some(id) = queue.lock().ok().and_then(|mut ids| ids.pop()) {
                    let user = graph_core::UserId::parse(&id).expect("id");
                    let outcome = session
                        .invalidate_all_refresh_tokens(&user, &RequestOptions::default())
                        .await;
                    assert!(outcome.is_ok(), "{outcome:?}");
                }
            });
        }
        while let Some(joined) = workers.join_next().await {
            joined.expect("every request succeeded");
        }
    });
}

#[test]
fn under_a_quota_the_engine_paces_itself_instead_of_collecting_429s() {
    let fixture = fixture(1200);
    fixture.server.set_latency(Duration::from_millis(20));
    // 100 writes at once, then 200 per second: the shape of Entra's write quota, scaled.
    let quota = ThrottleConfig::entra().with_limit(LimitName::AppTenantWrites, 100.0, 0.5);
    fixture
        .server
        .set_throttling(quota.clone())
        .expect("throttling");
    let config = BulkConfig {
        request_context: quick_context(),
        ..BulkConfig::default()
    };
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    let ids: Vec<String> = fixture.users[..1000]
        .iter()
        .map(|user| user.id.clone())
        .collect();
    let completions = run_all(&run, &ids);
    assert!(
        completions
            .values()
            .all(|completion| completion.outcome.is_some())
    );
    let engine_429s = fixture.server.throttle_stats().throttled;

    // The same quota afresh, the same users, a fixed number of requests in flight.
    fixture.server.set_throttling(quota).expect("throttling");
    naive_fixed_concurrency(&fixture, &ids, 16);
    let naive_429s = fixture.server.throttle_stats().throttled;

    // Hitting the empty bucket the first time costs what is in flight then, and measuring the
    // refill rate a few partly refused batches; everything after is paced.
    let bound = ids.len() as u64 * 15 / 100;
    assert!(
        engine_429s < bound,
        "the engine got {engine_429s} 429s for {} items (a naive client: {naive_429s})",
        ids.len()
    );
    assert!(
        naive_429s > bound,
        "the bound must be one a naive client breaks: it got {naive_429s}"
    );
}

#[test]
fn random_429s_that_name_no_quota_neither_pause_nor_slow_the_run() {
    let fixture = fixture(1200);
    fixture.server.set_latency(Duration::from_millis(10));
    // One item in five answered 429 with a Retry-After but no x-ms-throttle-* headers.
    fixture
        .server
        .set_chaos(Some(ChaosConfig {
            throttle_rate: 0.2,
            retry_after_seconds: 0.02,
            seed: 3,
            ..ChaosConfig::default()
        }))
        .expect("chaos");
    let config = BulkConfig {
        request_context: quick_context(),
        ..BulkConfig::default()
    };
    let initial = config.initial_concurrency as u64;
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    let ids: Vec<String> = fixture.users[..1000]
        .iter()
        .map(|user| user.id.clone())
        .collect();
    for (seq, id) in ids.iter().enumerate() {
        run.submit(seq as u64, id, Vec::new());
    }
    run.close();
    let mut done = 0;
    let mut concurrency;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let poll = run.poll(Duration::from_millis(200), 1000).expect("poll");
        done += poll
            .completions
            .iter()
            .filter(|completion| completion.outcome.is_some())
            .count();
        concurrency = poll.progress.concurrency;
        if poll.finished {
            assert!(
                poll.progress.throttled > 100,
                "chaos throttled {}",
                poll.progress.throttled
            );
            break;
        }
        assert!(Instant::now() < deadline, "the run did not finish");
    }
    assert_eq!(done, 1000);
    // Were each of those 429s taken for a full quota, the number of requests in flight would
    // have been halved again and again down to one.
    assert!(
        concurrency > initial,
        "concurrency fell to {concurrency} (started at {initial})"
    );
}

#[test]
fn users_trickling_in_still_travel_in_batches() {
    let fixture = fixture(200);
    fixture.server.set_latency(Duration::from_millis(20));
    let config = BulkConfig {
        request_context: quick_context(),
        ..BulkConfig::default()
    };
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    // One user a millisecond, as a pipeline feeds them: each would otherwise go with at most
    // one companion, the one that arrived while it waited.
    for (seq, user) in fixture.users.iter().enumerate() {
        run.submit(seq as u64, &user.id, Vec::new());
        std::thread::sleep(Duration::from_millis(1));
    }
    run.close();
    let mut done = 0;
    loop {
        let poll = run.poll(Duration::from_millis(200), 1000).expect("poll");
        done += poll
            .completions
            .iter()
            .filter(|completion| completion.outcome.is_some())
            .count();
        if poll.finished {
            break;
        }
    }
    assert_eq!(done, 200);
    let requests = fixture
        .server
        .requests()
        .into_iter()
        .filter(|request| request.batch_id.is_none())
        .count();
    assert!(requests < 60, "{requests} requests for 200 users");
}

fn verifying_fixture(user_count: usize) -> Fixture {
    let mut fixture = fixture(user_count);
    let token = fixture.server.mint_token(&TokenRequest::app_only([
        "User.RevokeSessions.All",
        "User.Read.All",
    ]));
    let name = format!("bulk-{}", fixture.server.addr().port());
    let config = SessionConfig {
        environment: name,
        host_description: None,
        graph_endpoint: None,
    };
    fixture.session =
        Arc::new(Session::connect_with_access_token(&config, token.as_bytes()).expect("session"));
    fixture
}

fn temp_journal() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bulk-journal-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir.join("journal.jsonl")
}

fn journal_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("journal")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a record per line"))
        .collect()
}

#[test]
fn verify_reads_users_back_in_batches_and_waits_out_lag() {
    let fixture = verifying_fixture(60);
    fixture
        .server
        .set_session_behavior(graph_mock::SessionBehavior {
            replication_lag_ms: 1500,
            ineffective: vec![fixture.users[7].user_principal_name.clone()],
        });
    fixture.server.set_latency(Duration::from_millis(10));
    let journal_path = temp_journal();
    let journal = graph_core::journal::Journal::open(
        &journal_path,
        &fixture.server.base_url(),
        RevocationAction::default(),
    )
    .expect("journal");
    let config = BulkConfig {
        request_context: quick_context(),
        verify: true,
        journal: Some(Arc::new(journal)),
        ..BulkConfig::default()
    };
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    let ids: Vec<String> = fixture.users.iter().map(|user| user.id.clone()).collect();
    let completions = run_all(&run, &ids);
    assert_eq!(completions.len(), 60);
    for (seq, completion) in &completions {
        if *seq == 7 {
            let error = completion.error.as_ref().expect("not confirmed");
            assert_eq!(error.kind, graph_core::ErrorKind::RevocationNotConfirmed);
            assert!(
                error.message.contains("2024-01-01T00:00:00Z"),
                "{}",
                error.message
            );
        } else {
            let outcome = completion.outcome.as_ref().expect("verified");
            assert!(outcome.verified && outcome.value, "{seq}");
        }
    }
    let requests = fixture.server.requests();
    let batched_reads = requests
        .iter()
        .filter(|request| request.method == "GET" && request.batch_id.is_some())
        .count();
    // Every user read at least once, and past the lag at least twice, in batches.
    assert!(batched_reads >= 120, "{batched_reads} batched reads");
    let records = journal_lines(&journal_path);
    assert_eq!(records.len(), 60);
    let verified = records
        .iter()
        .filter(|record| record["outcome"] == "verified")
        .count();
    assert_eq!(verified, 59);
    let failed = records
        .iter()
        .find(|record| record["outcome"] == "notConfirmed")
        .expect("one not confirmed");
    assert_eq!(failed["user"], fixture.users[7].id.as_str());
    assert!(failed["revokedAt"].is_string() && failed["signInSessionsValidFrom"].is_string());
}

#[test]
fn revoke_sign_in_sessions_travels_in_batches_is_verified_and_journaled_as_such() {
    let fixture = verifying_fixture(60);
    fixture.server.set_latency(Duration::from_millis(10));
    let journal_path = temp_journal();
    let action = RevocationAction::RevokeSignInSessions;
    let journal =
        graph_core::journal::Journal::open(&journal_path, &fixture.server.base_url(), action)
            .expect("journal");
    let config = BulkConfig {
        request_context: quick_context(),
        action,
        verify: true,
        journal: Some(Arc::new(journal)),
        ..BulkConfig::default()
    };
    let run = BulkRun::start(
        Arc::clone(&fixture.session),
        RequestOptions::default(),
        config,
    )
    .expect("run");
    let ids: Vec<String> = fixture.users.iter().map(|user| user.id.clone()).collect();
    let completions = run_all(&run, &ids);
    assert!(completions.values().all(|completion| {
        completion
            .outcome
            .as_ref()
            .is_some_and(|outcome| outcome.verified && outcome.value)
    }));
    let posts: Vec<String> = fixture
        .server
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.raw_path != "/beta/$batch")
        .map(|request| request.raw_path)
        .collect();
    assert_eq!(posts.len(), 60, "{posts:?}");
    assert!(
        posts
            .iter()
            .all(|path| path.ends_with("/revokeSignInSessions")),
        "{posts:?}"
    );
    let records = journal_lines(&journal_path);
    assert_eq!(records.len(), 60);
    assert!(
        records
            .iter()
            .all(|record| record["action"] == "revokeSignInSessions")
    );
}

#[test]
fn a_journaled_run_skips_what_it_recorded_and_retries_failures() {
    let fixture = fixture(30);
    let journal_path = temp_journal();
    let open = || {
        Arc::new(
            graph_core::journal::Journal::open(
                &journal_path,
                &fixture.server.base_url(),
                RevocationAction::default(),
            )
            .expect("journal"),
        )
    };
    let mut ids: Vec<String> = fixture.users.iter().map(|user| user.id.clone()).collect();
    ids.push("nobody@contoso.com".to_owned());
    let start = |journal| {
        let config = BulkConfig {
            request_context: quick_context(),
            journal: Some(journal),
            ..BulkConfig::default()
        };
        BulkRun::start(
            Arc::clone(&fixture.session),
            RequestOptions::default(),
            config,
        )
        .expect("run")
    };
    let first = run_all(&start(open()), &ids);
    assert_eq!(first.values().filter(|c| c.outcome.is_some()).count(), 30);
    let records = journal_lines(&journal_path);
    assert_eq!(records.len(), 31);
    let failed = records
        .iter()
        .find(|record| record["outcome"] == "failed")
        .expect("the unknown user failed");
    assert_eq!(failed["status"], 404);
    assert!(failed["requestId"].is_string());
    fixture.server.clear_requests();
    let second = run_all(&start(open()), &ids);
    let skipped = second
        .values()
        .filter(|c| {
            c.outcome
                .as_ref()
                .is_some_and(|o| o.from_journal == Some("revoked"))
        })
        .count();
    assert_eq!(skipped, 30);
    let sent: Vec<_> = fixture
        .server
        .requests()
        .into_iter()
        .filter(|request| request.batch_id.is_none() || request.method == "POST")
        .filter_map(|request| request.user_id)
        .collect();
    assert_eq!(
        sent,
        vec!["nobody@contoso.com".to_owned()],
        "only the failed user is sent again"
    );
    for user in &fixture.users {
        assert_eq!(fixture.server.revocations(&user.id), 1, "{}", user.id);
    }
}
