//! The sign-in side's control API over HTTP, as an out-of-process caller (Pester) uses it.

mod common;

use common::signin::*;
use common::*;
use serde_json::{Value, json};

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> reqwest::Response {
    let mut req = client().request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn apps_tenants_settings_stats_and_reset() {
    use reqwest::Method;
    let server = server().await;
    let base = server.base_url();
    let apps = format!("{base}/_mock/apps");

    let resp = call(Method::POST, apps.clone(), Some(json!([
        {"appId": "app-1", "tenantId": "tenant-1", "secrets": ["s1"], "roles": ["User.RevokeSessions.All"]},
        {"appId": "app-2", "certificates": [der_base64(CERT1)]}
    ]))).await;
    assert_eq!(json(resp).await, json!({"registered": 2, "total": 2}));
    // One bad certificate: nothing is registered.
    let resp = call(
        Method::POST,
        apps.clone(),
        Some(json!([
            {"appId": "app-3"}, {"appId": "app-4", "certificates": ["junk"]}
        ])),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let resp = call(
        Method::POST,
        apps.clone(),
        Some(json!({"appId": "app-5", "secretz": []})),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let listed = json(call(Method::GET, apps.clone(), None).await).await;
    let ids: Vec<&str> = listed["apps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["appId"].as_str())
        .collect();
    assert_eq!(ids, ["app-1", "app-2"]);

    // Tenants: known through the app, and by a domain once added.
    let tenants = json(call(Method::GET, format!("{base}/_mock/tenants"), None).await).await;
    let known: Vec<&str> = tenants["tenants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["tenantId"].as_str())
        .collect();
    assert!(known.contains(&"tenant-1"), "{known:?}");
    let resp = call(
        Method::POST,
        format!("{base}/_mock/tenants"),
        Some(json!({"tenantId": "tenant-1", "domains": ["fabrikam.com"]})),
    )
    .await;
    assert_eq!(json(resp).await, json!({"total": 2}));
    let form = [
        ("client_id", "app-1"),
        ("client_secret", "s1"),
        ("scope", "https://graph.microsoft.com/.default"),
        ("grant_type", "client_credentials"),
    ];
    let resp = post_form(&server.token_url("fabrikam.com"), &form).await;
    assert_eq!(resp.status(), 200);

    let settings = format!("{base}/_mock/entra");
    let current = json(call(Method::GET, settings.clone(), None).await).await;
    assert_eq!(
        current,
        json!({"accessTokenLifetimeSeconds": 3599, "refreshTokenLifetimeSeconds": 7_776_000,
        "refreshTokenReuseGraceSeconds": 0, "clockSkewSeconds": 300})
    );
    let resp = call(
        Method::PUT,
        settings.clone(),
        Some(json!({"accessTokenLifetimeSeconds": 2})),
    )
    .await;
    assert_eq!(json(resp).await["accessTokenLifetimeSeconds"], 2);
    let resp = post_form(&server.token_url("tenant-1"), &form).await;
    assert_eq!(json(resp).await["expires_in"], 2);

    let script = json(call(Method::GET, format!("{base}/_mock/devicecode"), None).await).await;
    assert_eq!(
        script,
        json!({"pendingPolls": 0, "outcome": "approve", "upn": "admin@contoso.com",
        "slowDown": false, "interval": 5, "expiresIn": 900})
    );
    let resp = call(
        Method::POST,
        format!("{base}/_mock/devicecode"),
        Some(json!({"outcome": "maybe"})),
    )
    .await;
    assert_eq!(resp.status(), 400);

    let stats = json(call(Method::GET, format!("{base}/_mock/token-stats"), None).await).await;
    assert_eq!(stats["requests"]["client_credentials"], 2);
    assert_eq!(
        call(Method::DELETE, format!("{base}/_mock/token-stats"), None)
            .await
            .status(),
        204
    );
    assert!(server.token_stats().requests.is_empty());

    let resp = call(
        Method::POST,
        format!("{base}/_mock/refresh-tokens/revoke"),
        None,
    )
    .await;
    assert_eq!(json(resp).await, json!({"revoked": 0}));
    let mis = json(
        call(
            Method::GET,
            format!("{base}/_mock/managed-identities"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        mis,
        json!({"identities": [], "identityHeader": "graph-mock-identity-header"})
    );
    let resp = call(
        Method::POST,
        format!("{base}/_mock/managed-identities"),
        Some(json!({"identities": [{"clientId": ""}]})),
    )
    .await;
    assert_eq!(resp.status(), 400);

    // Reset forgets the sign-in side too.
    assert_eq!(
        call(Method::POST, format!("{base}/_mock/reset"), None)
            .await
            .status(),
        204
    );
    let listed = json(call(Method::GET, apps.clone(), None).await).await;
    assert_eq!(listed, json!({"apps": []}));
    let resp = post_form(&server.token_url("fabrikam.com"), &form).await;
    assert_aad_error(resp, 400, "invalid_request", 90_002).await;
    assert_eq!(
        json(call(Method::GET, settings, None).await).await["accessTokenLifetimeSeconds"],
        3599
    );
    // Entra answers do not carry Graph's diagnostic header.
    let resp = post_form(&server.token_url("common"), &form).await;
    assert_eq!(header(&resp, "x-ms-ags-diagnostic"), "");
    assert_eq!(
        header(&resp, "client-request-id"),
        "c0ffee00-0000-4000-8000-000000000001"
    );
}
