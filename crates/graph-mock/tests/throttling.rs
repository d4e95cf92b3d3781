//! Entra's throttling model over real HTTP, with limits scaled down so a few dozen requests reach
//! them and refills take milliseconds.

mod common;

use std::time::Duration;

use common::*;
use graph_mock::{DEFAULT_APP_ID, DEFAULT_TENANT_ID, LimitName, ThrottleConfig, TokenRequest};
use serde_json::json;

const REVOKE_ALICE: &str = "/beta/users/alice@contoso.com/invalidateAllRefreshTokens";

fn retry_after(resp: &reqwest::Response) -> f64 {
    header(resp, "retry-after").parse().unwrap_or(-1.0)
}

#[tokio::test]
async fn over_the_limit_is_a_graph_429_until_the_bucket_refills() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    // 5 writes, refilled at 10 per second.
    server
        .set_throttling(ThrottleConfig::entra().with_limit(LimitName::AppTenantWrites, 5.0, 0.5))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut last_percentage = String::new();
    for i in 0..5 {
        let resp = post(&client, &server, REVOKE_ALICE, Some(&token)).await;
        assert_eq!(resp.status(), 200, "request {i}");
        assert_eq!(header(&resp, "x-ms-resource-unit"), "1");
        last_percentage = header(&resp, "x-ms-throttle-limit-percentage");
        if i < 3 {
            assert_eq!(last_percentage, "", "request {i} is below 80 %");
        }
    }
    let pct: f64 = last_percentage.parse().unwrap_or(0.0);
    assert!(pct > 0.8 && pct <= 1.0, "{last_percentage}");

    let resp = post(&client, &server, REVOKE_ALICE, Some(&token)).await;
    assert_eq!(resp.status(), 429);
    let wait = retry_after(&resp);
    assert!(wait > 0.0 && wait <= 0.1, "Retry-After {wait}");
    assert_eq!(
        header(&resp, "x-ms-throttle-scope"),
        format!("Tenant_Application/Write/{DEFAULT_APP_ID}/{DEFAULT_TENANT_ID}")
    );
    assert_eq!(
        header(&resp, "x-ms-throttle-information"),
        "WriteLimitExceeded"
    );
    assert_eq!(header(&resp, "x-ms-resource-unit"), "");
    let request_id = header(&resp, "request-id");
    let body = json(resp).await;
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(body["error"]["message"], "Please retry again later.");
    let inner = &body["error"]["innerError"];
    assert_eq!(inner["code"], "429");
    assert_eq!(inner["status"], "429");
    assert_eq!(inner["request-id"], request_id.as_str());
    let keys: Vec<&String> = inner
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["code", "status", "date", "request-id", "client-request-id"]
    );

    // Honouring Retry-After is enough to succeed.
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    let resp = post(&client, &server, REVOKE_ALICE, Some(&token)).await;
    assert_eq!(resp.status(), 200);

    let stats = server.throttle_stats();
    assert_eq!((stats.accepted, stats.throttled), (6, 1));
    assert_eq!(stats.throttled_by.get("appTenantWrites"), Some(&1));
    assert_eq!(server.revocations(ALICE_ID), 6);
    let injected: Vec<Option<String>> = server.requests().into_iter().map(|r| r.injected).collect();
    assert_eq!(injected[5].as_deref(), Some("throttled"));
    assert_eq!(injected[6], None);
}

#[tokio::test]
async fn buckets_are_keyed_by_app_and_tenant() {
    let server = server().await;
    let client = client();
    let config = ThrottleConfig {
        fractional_retry_after: false,
        ..ThrottleConfig::entra()
            .with_limit(LimitName::AppTenantWrites, 2.0, 100.0)
            .with_limit(LimitName::TenantWrites, 3.0, 100.0)
    };
    server
        .set_throttling(config)
        .unwrap_or_else(|e| panic!("{e}"));
    let token_for = |app: &str, tenant: &str| {
        server.mint_token(&TokenRequest {
            app_id: Some(app.into()),
            tenant_id: Some(tenant.into()),
            ..TokenRequest::app_only(["User.RevokeSessions.All"])
        })
    };
    let (a, b, c) = (
        token_for("app-a", "t-1"),
        token_for("app-b", "t-1"),
        token_for("app-a", "t-2"),
    );
    let status = |t: String| {
        let client = client.clone();
        let server = &server;
        async move { post(&client, server, REVOKE_ALICE, Some(&t)).await }
    };
    assert_eq!(status(a.clone()).await.status(), 200);
    assert_eq!(status(a.clone()).await.status(), 200);
    let resp = status(a.clone()).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(
        header(&resp, "x-ms-throttle-scope"),
        "Tenant_Application/Write/app-a/t-1"
    );
    // Whole seconds, rounded up: 1 write at 0.02/s is 50 s away.
    assert_eq!(header(&resp, "retry-after"), "50");
    // Another app in the same tenant: its own app+tenant bucket, but the shared tenant bucket.
    assert_eq!(status(b.clone()).await.status(), 200);
    let resp = status(b).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(
        header(&resp, "x-ms-throttle-scope"),
        "Tenant/Write/app-b/t-1"
    );
    // The same app in another tenant is untouched.
    assert_eq!(status(c).await.status(), 200);
    // A request that fails authentication costs nothing and is not throttled.
    assert_eq!(
        post(&client, &server, REVOKE_ALICE, None).await.status(),
        401
    );
    let stats = server.throttle_stats();
    assert_eq!((stats.accepted, stats.throttled), (4, 2));
}

#[tokio::test]
async fn scaled_limits_reach_the_write_limit_with_a_few_dozen_requests() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    // The global 2,000 requests/s scale down to 20 too: pin that one to its real value.
    let config = ThrottleConfig::scaled(0.01, 1.0).with_limit(LimitName::AppRequests, 2000.0, 1.0);
    server
        .set_throttling(config)
        .unwrap_or_else(|e| panic!("{e}"));
    // 3,000 writes per 150 s scaled by 0.01: a burst of 30, then one write every 5 s.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (client, url, token) = (
            client.clone(),
            format!("{}{REVOKE_ALICE}", server.base_url()),
            token.clone(),
        );
        calls.spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .header("content-length", "0")
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            (resp.status().as_u16(), retry_after(&resp))
        });
    }
    let answers = calls.join_all().await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 30);
    for (_, wait) in answers.iter().filter(|(s, _)| *s == 429) {
        assert!((4.5..=5.0).contains(wait), "Retry-After {wait}");
    }
    assert_eq!(server.revocations(ALICE_ID), 30);
}

#[tokio::test]
async fn throttling_over_the_control_api() {
    let server = server().await;
    let client = client();
    let base = server.base_url();
    let url = format!("{base}/_mock/throttling");
    let view = json(
        client
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    assert_eq!(view["config"]["enabled"], false);
    let resp = client
        .put(&url)
        .json(&json!({"enabled": true, "scale": 0.01, "windowScale": 0.01,
                      "limits": {"appRequests": {"capacity": 7}}}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 200);
    let view = json(resp).await;
    assert_eq!(view["config"]["enabled"], true);
    let limits = view["limits"].as_array().cloned().unwrap_or_default();
    let find = |name: &str| {
        limits
            .iter()
            .find(|l| l["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    // Three users: the smallest resource-unit tier.
    assert_eq!(find("appTenantResourceUnits")["capacity"], 35.0);
    assert_eq!(find("appTenantWrites")["capacity"], 30.0);
    assert_eq!(find("appTenantWrites")["windowSeconds"], 1.5);
    assert_eq!(find("appRequests")["capacity"], 7.0);
    assert_eq!(find("appRequests")["windowSeconds"], 0.01);

    let token = app_token(&server);
    for _ in 0..3 {
        post(&client, &server, REVOKE_ALICE, Some(&token)).await;
    }
    let view = json(
        client
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    assert_eq!(view["stats"]["accepted"], 3);
    assert_eq!(view["stats"]["throttled"], 0);

    for bad in [
        json!({"enabled": true, "scale": 0}),
        json!({"enabeld": true}),
    ] {
        let resp = client
            .put(&url)
            .json(&bad)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.status(), 400, "{bad}");
    }
    let resp = client
        .delete(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 204);
    assert!(!server.throttling().enabled);
    server
        .set_throttling(ThrottleConfig::entra())
        .unwrap_or_else(|e| panic!("{e}"));
    server.reset();
    assert!(!server.throttling().enabled);
    assert!(
        server
            .set_throttling(ThrottleConfig::scaled(-1.0, 1.0))
            .is_err()
    );
}
