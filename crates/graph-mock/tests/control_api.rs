//! The `/_mock/` control API over HTTP, as an out-of-process caller (Pester) uses it.

mod common;

use std::time::{Duration, Instant};

use common::*;
use graph_mock::{MockConfig, MockServer, decode_claims_unverified};
use serde_json::{Value, json};

async fn send(req: reqwest::RequestBuilder) -> reqwest::Response {
    req.send().await.unwrap_or_else(|e| panic!("{e}"))
}

async fn empty_server() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
}

#[tokio::test]
async fn users_tokens_requests_revocations_and_reset() {
    let server = empty_server().await;
    let client = client();
    let base = server.base_url();

    let resp = send(client.post(format!("{base}/_mock/users")).json(&json!({
        "users": [{"id": ALICE_ID, "userPrincipalName": ALICE}, {"id": GUEST_ID, "userPrincipalName": GUEST}]
    })))
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await, json!({"added": 2, "total": 2}));
    let users = json(send(client.get(format!("{base}/_mock/users"))).await).await;
    assert_eq!(users["users"][1]["userPrincipalName"], GUEST);

    let bad = send(
        client
            .post(format!("{base}/_mock/users"))
            .json(&json!({"users": [{"id": "nope", "userPrincipalName": "a@b"}]})),
    )
    .await;
    assert_eq!(bad.status(), 400);

    let minted = json(
        send(client.post(format!("{base}/_mock/tokens")).json(&json!({
            "scp": "User.RevokeSessions.All", "upn": ALICE, "expiresInSeconds": 600, "tenantId": "t-1", "appId": "app-1"
        })))
        .await,
    )
    .await;
    let token = minted["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let claims = decode_claims_unverified(&token).unwrap_or_default();
    assert_eq!(claims.upn.as_deref(), Some(ALICE));
    assert_eq!(claims.oid.as_deref(), Some(ALICE_ID));
    assert_eq!(claims.tid.as_deref(), Some("t-1"));
    assert_eq!(claims.iss.as_deref(), Some("https://sts.windows.net/t-1/"));
    assert_eq!(claims.appid.as_deref(), Some("app-1"));
    assert_eq!(claims.aud.as_deref(), Some("https://graph.microsoft.com"));
    assert_eq!(minted["expiresOn"].as_i64(), claims.exp);

    let resp = post(
        &client,
        &server,
        "/beta/me/invalidateAllRefreshTokens",
        Some(&token),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let revocations = json(send(client.get(format!("{base}/_mock/revocations"))).await).await;
    assert_eq!(revocations, json!({ ALICE_ID: 1 }));

    let requests = json(send(client.get(format!("{base}/_mock/requests"))).await).await;
    let first = &requests[0];
    assert_eq!(first["seq"], 1);
    assert_eq!(first["method"], "POST");
    assert_eq!(first["rawPath"], "/beta/me/invalidateAllRefreshTokens");
    assert_eq!(first["query"], Value::Null);
    assert_eq!(first["status"], 200);
    assert_eq!(first["userId"], ALICE);
    assert_eq!(first["headers"]["authorization"], format!("Bearer {token}"));
    // Control calls are not journaled.
    assert_eq!(requests.as_array().map(Vec::len), Some(1));

    assert_eq!(
        send(client.delete(format!("{base}/_mock/requests")))
            .await
            .status(),
        204
    );
    assert!(server.requests().is_empty());
    assert_eq!(
        send(client.post(format!("{base}/_mock/reset")))
            .await
            .status(),
        204
    );
    assert!(server.users().is_empty());
    assert!(server.all_revocations().is_empty());
    // The key survives a reset: the old token still authenticates (and now finds no user).
    let resp = post(
        &client,
        &server,
        "/beta/me/invalidateAllRefreshTokens",
        Some(&token),
    )
    .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(server.requests()[0].seq, 1);

    assert_eq!(
        send(client.delete(format!("{base}/_mock/users")))
            .await
            .status(),
        204
    );
    let unknown = send(client.get(format!("{base}/_mock/nothing"))).await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn faults_over_http() {
    let server = server().await;
    let client = client();
    let base = server.base_url();
    let token = app_token(&server);
    let resp = send(client.post(format!("{base}/_mock/faults")).json(&json!([
        {"match": {"pathContains": "revokeSignInSessions"}, "status": 503, "times": 2},
        {"status": 500, "body": {"error": {"code": "generalException", "message": "boom"}}, "headers": {"x-ms-test": "yes"}}
    ])))
    .await;
    assert_eq!(json(resp).await, json!({"queued": 2}));
    let pending = json(send(client.get(format!("{base}/_mock/faults"))).await).await;
    assert_eq!(pending[0]["times"], 2);

    let v1 = format!("/v1.0/users/{ALICE_ID}/revokeSignInSessions");
    let resp = post(&client, &server, &v1, Some(&token)).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(json(resp).await["error"]["code"], "ServiceUnavailable");
    let beta = format!("/beta/users/{ALICE_ID}/invalidateAllRefreshTokens");
    let resp = post(&client, &server, &beta, Some(&token)).await;
    assert_eq!(resp.status(), 500);
    assert_eq!(header(&resp, "x-ms-test"), "yes");
    assert_eq!(json(resp).await["error"]["message"], "boom");
    let resp = post(&client, &server, &v1, Some(&token)).await;
    assert_eq!(resp.status(), 503);
    let resp = post(&client, &server, &v1, Some(&token)).await;
    assert_eq!(resp.status(), 200);
    let statuses: Vec<Option<u16>> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), Some(500), Some(503), Some(200)]);

    let bad = send(
        client
            .post(format!("{base}/_mock/faults"))
            .json(&json!({"status": 42})),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let typo = send(
        client
            .post(format!("{base}/_mock/faults"))
            .json(&json!({"status": 429, "tims": 1})),
    )
    .await;
    assert_eq!(typo.status(), 400);
    send(
        client
            .post(format!("{base}/_mock/faults"))
            .json(&json!({"status": 429})),
    )
    .await;
    assert_eq!(
        send(client.delete(format!("{base}/_mock/faults")))
            .await
            .status(),
        204
    );
    let resp = post(&client, &server, &v1, Some(&token)).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn latency_delays_without_serialising() {
    let server = server().await;
    let client = client();
    let base = server.base_url();
    let token = app_token(&server);
    let resp = send(
        client
            .put(format!("{base}/_mock/latency"))
            .json(&json!({"ms": 120})),
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        json(send(client.get(format!("{base}/_mock/latency"))).await).await,
        json!({"ms": 120})
    );
    let path = format!("/beta/users/{ALICE_ID}/invalidateAllRefreshTokens");
    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (client, url, token) = (client.clone(), format!("{base}{path}"), token.clone());
        calls.spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .header("content-length", "0")
                .send()
                .await;
            resp.map(|r| r.status().as_u16()).unwrap_or(0)
        });
    }
    let answers = calls.join_all().await;
    let elapsed = started.elapsed();
    assert_eq!(answers, [200; 6]);
    assert!(elapsed >= Duration::from_millis(120), "{elapsed:?}");
    // Six serialised delays would take 720 ms.
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
    assert_eq!(server.revocations(ALICE_ID), 6);
}
