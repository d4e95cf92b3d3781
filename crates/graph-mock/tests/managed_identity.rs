//! Managed identity endpoints (IMDS and App Service): headers, string-typed numbers, identity
//! selection, and faults making them fail a few times.

mod common;

use common::*;
use graph_mock::{MockServer, decode_claims_unverified};
use serde_json::{Value, json};

const IMDS: &str = "/metadata/identity/oauth2/token";
const GRAPH: &str = "https%3A%2F%2Fgraph.microsoft.com";
const REVOKE_ALICE: &str = "/beta/users/alice@contoso.com/invalidateAllRefreshTokens";

async fn setup() -> MockServer {
    let server = server().await;
    let resp = client()
        .post(format!("{}/_mock/managed-identities", server.base_url()))
        .json(&json!({
            "identities": [
                {"clientId": "mi-system", "objectId": "0b0b0b0b-0000-4000-8000-000000000001",
                 "roles": ["User.RevokeSessions.All"], "systemAssigned": true},
                {"clientId": "mi-user", "resourceId": "/subscriptions/s/resourcegroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u"}
            ],
            "identityHeader": "header-secret"
        }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json(resp).await, json!({"total": 2}));
    server
}

async fn get(
    server: &MockServer,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client().get(format!("{}{path_and_query}", server.base_url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap_or_else(|e| panic!("{e}"))
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn imds_answers_string_numbers_and_picks_identities() {
    let server = setup().await;
    let meta = [("Metadata", "true")];
    let resp = get(
        &server,
        &format!("{IMDS}?api-version=2018-02-01&resource={GRAPH}"),
        &meta,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body = json(resp).await;
    for key in ["expires_in", "expires_on", "ext_expires_in", "not_before"] {
        assert!(body[key].is_string(), "{key} must be a string: {body}");
        assert!(text(&body, key).parse::<i64>().is_ok(), "{key}");
    }
    assert_eq!(body["expires_in"], "3599");
    assert_eq!(body["resource"], "https://graph.microsoft.com");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["client_id"], "mi-system");
    let token = text(&body, "access_token");
    let claims = decode_claims_unverified(&token).unwrap_or_default();
    assert_eq!(claims.appid.as_deref(), Some("mi-system"));
    assert_eq!(
        claims.oid.as_deref(),
        Some("0b0b0b0b-0000-4000-8000-000000000001")
    );
    assert_eq!(
        Some(text(&body, "expires_on").parse::<i64>().unwrap_or(0)),
        claims.exp
    );
    assert_eq!(
        post(&client(), &server, REVOKE_ALICE, Some(&token))
            .await
            .status(),
        200
    );

    // A user-assigned identity by client id or resource id; it has no role, so Graph says 403.
    let resp = get(
        &server,
        &format!("{IMDS}?api-version=2018-02-01&resource={GRAPH}&client_id=mi-user"),
        &meta,
    )
    .await;
    let token = text(&json(resp).await, "access_token");
    assert_eq!(
        post(&client(), &server, REVOKE_ALICE, Some(&token))
            .await
            .status(),
        403
    );
    let by_res = format!(
        "{IMDS}?api-version=2018-02-01&resource={GRAPH}&msi_res_id=%2Fsubscriptions%2Fs%2Fresourcegroups%2Fr%2Fproviders%2FMicrosoft.ManagedIdentity%2FuserAssignedIdentities%2Fu"
    );
    assert_eq!(
        json(get(&server, &by_res, &meta).await).await["client_id"],
        "mi-user"
    );

    for (query, headers, description) in [
        (
            format!("?api-version=2018-02-01&resource={GRAPH}"),
            &[][..],
            "Required metadata header not specified",
        ),
        (
            format!("?api-version=2018-02-01&resource={GRAPH}&client_id=nope"),
            &meta[..],
            "Identity not found",
        ),
        (
            format!("?resource={GRAPH}"),
            &meta[..],
            "Required query variable 'api-version' is missing",
        ),
        (
            "?api-version=2018-02-01".to_owned(),
            &meta[..],
            "Required audience parameter not specified",
        ),
    ] {
        let resp = get(&server, &format!("{IMDS}{query}"), headers).await;
        assert_eq!(resp.status(), 400, "{query}");
        let body = json(resp).await;
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(body["error_description"], description);
    }
    let resp = get(
        &server,
        &format!("{IMDS}?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"),
        &meta,
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_resource");
    assert_eq!(server.token_stats().requests_of("imds"), 8);
    assert_eq!(server.token_stats().issued_of("imds"), 3);
}

#[tokio::test]
async fn app_service_needs_the_identity_header() {
    let server = setup().await;
    let path = format!("/msi/token?resource={GRAPH}&api-version=2019-08-01");
    let resp = get(&server, &path, &[("X-IDENTITY-HEADER", "wrong")]).await;
    assert_eq!(resp.status(), 400);
    let resp = get(&server, &path, &[("X-IDENTITY-HEADER", "header-secret")]).await;
    assert_eq!(resp.status(), 200);
    let body = json(resp).await;
    assert!(body["expires_on"].is_string());
    assert_eq!(body["client_id"], "mi-system");
    assert_eq!(body["token_type"], "Bearer");
    let resp = get(
        &server,
        &format!("{path}&client_id=mi-user"),
        &[("X-IDENTITY-HEADER", "header-secret")],
    )
    .await;
    assert_eq!(json(resp).await["client_id"], "mi-user");
    assert_eq!(server.token_stats().requests_of("appService"), 3);
}

#[tokio::test]
async fn faults_make_imds_fail_a_few_times() {
    let server = setup().await;
    let resp = client()
        .post(format!("{}/_mock/faults", server.base_url()))
        .json(&json!([
            {"match": {"pathContains": "/metadata/identity"}, "status": 429, "times": 2,
             "headers": {"Retry-After": "0"}},
            {"match": {"pathContains": "/metadata/identity"}, "status": 500},
            {"match": {"pathContains": "/metadata/identity"}, "status": 404}
        ]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 200);
    let url = format!("{IMDS}?api-version=2018-02-01&resource={GRAPH}");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            get(&server, &url, &[("Metadata", "true")])
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [429, 429, 500, 404, 200]);
    let journal: Vec<(String, Option<u16>)> = server
        .requests()
        .into_iter()
        .map(|r| (r.raw_path, r.status))
        .collect();
    assert_eq!(journal.len(), 5);
    assert!(journal.iter().all(|(p, _)| p == IMDS));
    assert_eq!(server.token_stats().requests_of("imds"), 1);
}
