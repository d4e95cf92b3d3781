//! Fault kinds beyond canned statuses (reset, malformed JSON, slow) and seeded chaos, over real
//! HTTP.

mod common;

use std::time::{Duration, Instant};

use common::*;
use graph_mock::{ChaosConfig, Fault, MockServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const REVOKE_ALICE: &str = "/beta/users/alice@contoso.com/invalidateAllRefreshTokens";

#[tokio::test]
async fn reset_drops_the_connection_without_an_answer() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    server
        .push_fault(Fault::reset().for_user(ALICE))
        .unwrap_or_else(|e| panic!("{e}"));

    // Over a raw socket: the request is read, then the peer resets; not one byte comes back.
    let mut stream = tokio::net::TcpStream::connect(server.addr())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let request = format!(
        "POST {REVOKE_ALICE} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer).await;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert!(
        read.as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "{read:?}"
    );

    // A client library sees a failed request, not an HTTP answer; the server goes on serving.
    server
        .push_fault(Fault::reset())
        .unwrap_or_else(|e| panic!("{e}"));
    let failed = client
        .post(format!("{}{REVOKE_ALICE}", server.base_url()))
        .bearer_auth(&token)
        .header("content-length", "0")
        .send()
        .await;
    assert!(failed.is_err(), "{failed:?}");
    let resp = post(&client, &server, REVOKE_ALICE, Some(&token)).await;
    assert_eq!(resp.status(), 200);

    let journal = server.requests();
    assert_eq!(journal.len(), 3);
    assert_eq!(journal[0].status, None);
    assert_eq!(journal[0].injected.as_deref(), Some("reset"));
    assert_eq!(journal[1].status, None);
    assert_eq!(journal[2].status, Some(200));
    // Reset requests never reached the action.
    assert_eq!(server.revocations(ALICE_ID), 1);
}

#[tokio::test]
async fn malformed_json_is_a_200_that_does_not_parse() {
    let server = server().await;
    let client = client();
    let resp = client
        .post(format!("{}/_mock/faults", server.base_url()))
        .json(&json!([{"kind": "malformedJson"}, {"kind": "malformedJson", "status": 500}]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json(resp).await, json!({"queued": 2}));
    for expected in [200, 500] {
        let resp = post(&client, &server, REVOKE_ALICE, None).await;
        assert_eq!(resp.status(), expected);
        assert!(header(&resp, "content-type").starts_with("application/json"));
        let text = resp.text().await.unwrap_or_default();
        assert!(text.starts_with(r#"{"@odata.context":"#), "{text}");
        assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    }
    assert_eq!(
        server.requests()[0].injected.as_deref(),
        Some("malformedJson")
    );
    assert_eq!(server.revocations(ALICE_ID), 0);
}

#[tokio::test]
async fn slow_answers_late_but_the_action_happens() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    server
        .push_fault(Fault::slow(Duration::from_millis(300)))
        .unwrap_or_else(|e| panic!("{e}"));
    server
        .push_fault(Fault::slow(Duration::from_millis(150)))
        .unwrap_or_else(|e| panic!("{e}"));
    // A client that gives up early still caused the revocation.
    let impatient = client
        .post(format!("{}{REVOKE_ALICE}", server.base_url()))
        .bearer_auth(&token)
        .header("content-length", "0")
        .timeout(Duration::from_millis(60))
        .send()
        .await;
    assert!(impatient.is_err_and(|e| e.is_timeout()));
    assert_eq!(server.revocations(ALICE_ID), 1);
    let started = Instant::now();
    let resp = post(&client, &server, REVOKE_ALICE, Some(&token)).await;
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(server.revocations(ALICE_ID), 2);
    assert_eq!(server.requests()[1].injected.as_deref(), Some("slow"));
    // Control-API shape: a slow fault needs no status.
    let bad = client
        .post(format!("{}/_mock/faults", server.base_url()))
        .json(&json!({"kind": "status"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.status(), 400);
}

/// Sends `n` revokes one after another; the status of each, 0 when the connection was dropped.
async fn run(server: &MockServer, n: usize) -> Vec<u16> {
    let client = client();
    let token = app_token(server);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let resp = client
            .post(format!("{}{REVOKE_ALICE}", server.base_url()))
            .bearer_auth(&token)
            .header("content-length", "0")
            .send()
            .await;
        out.push(resp.map(|r| r.status().as_u16()).unwrap_or(0));
    }
    out
}

#[tokio::test]
async fn seeded_chaos_is_reproducible_and_counted() {
    let server = server().await;
    let client = client();
    let url = format!("{}/_mock/chaos", server.base_url());
    let chaos = json!({"throttleRate": 0.2, "serviceUnavailableRate": 0.1, "gatewayTimeoutRate": 0.05,
                       "resetRate": 0.05, "retryAfterSeconds": 0.25, "seed": 42});
    let resp = client
        .post(&url)
        .json(&chaos)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 200);
    let first = run(&server, 120).await;
    let count = |v: &[u16], s: u16| v.iter().filter(|x| **x == s).count();
    let view = json(
        client
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    let stats = &view["stats"];
    assert_eq!(stats["requests"], 120);
    assert_eq!(stats["throttled"], count(&first, 429));
    assert_eq!(stats["serviceUnavailable"], count(&first, 503));
    assert_eq!(stats["gatewayTimeout"], count(&first, 504));
    assert_eq!(stats["reset"], count(&first, 0));
    assert!(count(&first, 429) > 10 && count(&first, 0) > 0, "{first:?}");
    assert_eq!(
        server.revocations(ALICE_ID) as usize,
        count(&first, 200),
        "only the requests that got through revoked"
    );
    let throttled = server
        .requests()
        .into_iter()
        .find(|r| r.status == Some(429))
        .map(|r| r.injected);
    assert_eq!(throttled, Some(Some("chaos:throttle".to_owned())));

    // Same seed, same sequence.
    let cfg: ChaosConfig = serde_json::from_value(chaos).unwrap_or_default();
    server
        .set_chaos(Some(cfg))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run(&server, 120).await, first);

    // Injected 429s carry the configured Retry-After; batch items never see a reset.
    server
        .set_chaos(Some(ChaosConfig {
            throttle_rate: 0.5,
            reset_rate: 0.5,
            retry_after_seconds: 0.25,
            ..Default::default()
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    let items: Vec<Value> = (1..=20)
        .map(|i| {
            json!({"id": i.to_string(), "method": "POST",
            "url": format!("/users/{ALICE_ID}/invalidateAllRefreshTokens"),
            "headers": {"Content-Type": "application/json"}, "body": {}})
        })
        .collect();
    let resp = client
        .post(format!("{}/beta/$batch", server.base_url()))
        .bearer_auth(app_token(&server))
        .json(&json!({ "requests": items }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 200);
    let body = json(resp).await;
    let answers = body["responses"].as_array().cloned().unwrap_or_default();
    assert_eq!(answers.len(), 20);
    for a in &answers {
        match a["status"].as_u64() {
            Some(429) => assert_eq!(a["headers"]["Retry-After"], "0.25"),
            Some(504) => {}
            other => panic!("unexpected item status {other:?}"),
        }
    }

    let resp = client
        .delete(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 204);
    assert_eq!(run(&server, 5).await, [200; 5]);
    let resp = client
        .post(&url)
        .json(&json!({"throttleRate": 0.8, "resetRate": 0.3}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 400);
}
