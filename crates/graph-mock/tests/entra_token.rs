//! The mock Entra ID token endpoint: client credentials with secrets and certificate assertions,
//! Entra's error shapes, lifetimes, and the issued tokens working against the Graph routes.

mod common;

use std::time::Duration;

use common::signin::*;
use common::*;
use graph_mock::{
    AppRegistration, DEFAULT_TENANT_ID, EntraSettings, MockServer, TenantRegistration,
    decode_claims_unverified,
};
use serde_json::json;

const APP: &str = "11111111-aaaa-4000-8000-000000000001";
const SCOPE: &str = "https://graph.microsoft.com/.default";
const REVOKE_ALICE: &str = "/beta/users/alice@contoso.com/invalidateAllRefreshTokens";

fn register(server: &MockServer, app: AppRegistration) {
    server.register_app(app).unwrap_or_else(|e| panic!("{e}"));
}

fn secret_app() -> AppRegistration {
    AppRegistration::with_secret(APP, "s3cret~value", ["User.RevokeSessions.All"])
}

#[tokio::test]
async fn client_secret_issues_a_graph_token() {
    let server = server().await;
    register(&server, secret_app());
    let url = server.token_url(DEFAULT_TENANT_ID);
    let resp = post_form(
        &url,
        &[
            ("client_id", APP),
            ("scope", SCOPE),
            ("client_secret", "s3cret~value"),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("application/json"));
    assert_eq!(header(&resp, "cache-control"), "no-store, no-cache");
    let body = json(resp).await;
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["token_type", "expires_in", "ext_expires_in", "access_token"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap_or_default().to_owned();
    let claims = decode_claims_unverified(&token).unwrap_or_default();
    assert_eq!(claims.appid.as_deref(), Some(APP));
    assert_eq!(claims.tid.as_deref(), Some(DEFAULT_TENANT_ID));
    assert_eq!(
        claims.roles,
        Some(vec!["User.RevokeSessions.All".to_owned()])
    );
    assert!(claims.scp.is_none());

    let resp = post(&client(), &server, REVOKE_ALICE, Some(&token)).await;
    assert_eq!(resp.status(), 200);

    // Also by tenant domain, once the tenant is known by it.
    server
        .add_tenant(TenantRegistration {
            tenant_id: DEFAULT_TENANT_ID.into(),
            domains: vec!["contoso.onmicrosoft.com".into()],
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = post_form(
        &server.token_url("contoso.onmicrosoft.com"),
        &[
            ("client_id", APP),
            ("scope", SCOPE),
            ("client_secret", "s3cret~value"),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);

    let stats = server.token_stats();
    assert_eq!(stats.requests_of("client_credentials"), 2);
    assert_eq!(stats.issued_of("client_credentials"), 2);
    // Journaled like any request.
    assert!(server.requests().iter().any(|r| r.raw_path
        == format!("/{DEFAULT_TENANT_ID}/oauth2/v2.0/token")
        && r.status == Some(200)));
}

#[tokio::test]
async fn client_credential_errors_have_entra_codes_and_shape() {
    let server = server().await;
    register(&server, secret_app());
    register(
        &server,
        AppRegistration {
            secret_expired: true,
            ..AppRegistration::with_secret("22222222-aaaa-4000-8000-000000000002", "old", ["x"])
        },
    );
    let url = server.token_url(DEFAULT_TENANT_ID);
    let cc = |client_id: &'static str, secret: &'static str, scope: &'static str| {
        vec![
            ("client_id", client_id),
            ("scope", scope),
            ("client_secret", secret),
            ("grant_type", "client_credentials"),
        ]
    };
    // (token URL, form, status, error, AADSTS code); status 200 is a success.
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, u16, &'a str, u64);
    let cases: Vec<Case<'_>> = vec![
        (
            url.clone(),
            cc(APP, "wrong", SCOPE),
            401,
            "invalid_client",
            7_000_215,
        ),
        (
            url.clone(),
            cc("22222222-aaaa-4000-8000-000000000002", "old", SCOPE),
            401,
            "invalid_client",
            7_000_222,
        ),
        (
            url.clone(),
            cc("99999999-aaaa-4000-8000-000000000009", "x", SCOPE),
            400,
            "unauthorized_client",
            700_016,
        ),
        (
            server.token_url("unknown.onmicrosoft.com"),
            cc(APP, "s3cret~value", SCOPE),
            400,
            "invalid_request",
            90_002,
        ),
        (
            url.clone(),
            cc(APP, "s3cret~value", "https://graph.microsoft.com/User.Read"),
            400,
            "invalid_scope",
            70_011,
        ),
        (
            url.clone(),
            cc(APP, "s3cret~value", "https://management.azure.com/.default"),
            400,
            "invalid_scope",
            70_011,
        ),
        (
            url.clone(),
            vec![
                ("client_id", APP),
                ("scope", SCOPE),
                ("grant_type", "client_credentials"),
            ],
            401,
            "invalid_client",
            7_000_218,
        ),
        (
            url.clone(),
            vec![("client_id", APP), ("scope", SCOPE)],
            400,
            "invalid_request",
            900_144,
        ),
        (
            url.clone(),
            vec![("client_id", APP), ("grant_type", "password")],
            400,
            "unsupported_grant_type",
            70_003,
        ),
        // `organizations` resolves to the app's home tenant.
        (
            server.token_url("organizations"),
            cc(APP, "s3cret~value", SCOPE),
            200,
            "",
            0,
        ),
    ];
    for (url, form, status, error, code) in cases {
        let resp = post_form(&url, &form).await;
        if status == 200 {
            assert_eq!(resp.status(), 200);
            continue;
        }
        assert_aad_error(resp, status, error, code).await;
    }
    let get = client()
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get.status(), 400);
    assert_eq!(json(get).await["error_codes"], json!([900_561]));
    let stats = server.token_stats();
    assert_eq!(stats.requests_of("client_credentials"), 8);
    assert_eq!(stats.issued_of("client_credentials"), 1);
}

#[tokio::test]
async fn certificate_assertions_ps256_and_rs256() {
    let server = server().await;
    register(
        &server,
        AppRegistration {
            certificates: vec![CERT1.to_owned(), der_base64(CERT2)],
            roles: vec!["User.RevokeSessions.All".into()],
            ..AppRegistration::with_secret(APP, "unused", Vec::<String>::new())
        },
    );
    let url = server.token_url(DEFAULT_TENANT_ID);
    let with_assertion = |assertion: String| {
        let url = url.clone();
        async move {
            post_form(
                &url,
                &[
                    ("client_id", APP),
                    ("scope", SCOPE),
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };

    let ps256 = Assertion::new(APP, &url, CERT1).sign(KEY1);
    let resp = with_assertion(ps256).await;
    assert_eq!(resp.status(), 200);
    let token = json(resp).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        post(&client(), &server, REVOKE_ALICE, Some(&token))
            .await
            .status(),
        200
    );
    let rs256 = Assertion::new(APP, &url, CERT2).rs256(CERT2).sign(KEY2);
    assert_eq!(with_assertion(rs256).await.status(), 200);
    // The real authority's URL names the same endpoint.
    let real_aud =
        format!("https://login.microsoftonline.com/{DEFAULT_TENANT_ID}/oauth2/v2.0/token");
    let real = Assertion::new(APP, &real_aud, CERT1).sign(KEY1);
    assert_eq!(with_assertion(real).await.status(), 200);

    // Signed with the other key than the thumbprint names: bad signature.
    let forged = Assertion::new(APP, &url, CERT1).sign(KEY2);
    let body = assert_aad_error(with_assertion(forged).await, 401, "invalid_client", 700_027).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid signature")
    );

    // A certificate the app does not have.
    let other = server.register_app(AppRegistration {
        app_id: "33333333-aaaa-4000-8000-000000000003".into(),
        certificates: vec![CERT2.to_owned()],
        ..Default::default()
    });
    assert!(other.is_ok());
    let unknown = Assertion::new("33333333-aaaa-4000-8000-000000000003", &url, CERT1).sign(KEY1);
    let resp = post_form(
        &url,
        &[
            ("client_id", "33333333-aaaa-4000-8000-000000000003"),
            ("scope", SCOPE),
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &unknown),
        ],
    )
    .await;
    let body = assert_aad_error(resp, 401, "invalid_client", 700_027).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("not registered")
    );

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut expired = Assertion::new(APP, &url, CERT1);
    expired.claims["nbf"] = json!(now - 1200);
    expired.claims["exp"] = json!(now - 600);
    assert_aad_error(
        with_assertion(expired.sign(KEY1)).await,
        401,
        "invalid_client",
        700_024,
    )
    .await;
    let mut too_long = Assertion::new(APP, &url, CERT1);
    too_long.claims["exp"] = json!(now + 86_400);
    assert_aad_error(
        with_assertion(too_long.sign(KEY1)).await,
        401,
        "invalid_client",
        700_024,
    )
    .await;
    let wrong_aud = Assertion::new(
        APP,
        "https://login.microsoftonline.com/other/oauth2/v2.0/token",
        CERT1,
    );
    assert_aad_error(
        with_assertion(wrong_aud.sign(KEY1)).await,
        401,
        "invalid_client",
        700_023,
    )
    .await;
    let mut wrong_iss = Assertion::new(APP, &url, CERT1);
    wrong_iss.claims["iss"] = json!("someone-else");
    assert_aad_error(
        with_assertion(wrong_iss.sign(KEY1)).await,
        401,
        "invalid_client",
        700_021,
    )
    .await;
    let mut no_jti = Assertion::new(APP, &url, CERT1);
    if let Some(o) = no_jti.claims.as_object_mut() {
        o.remove("jti");
    }
    assert_aad_error(
        with_assertion(no_jti.sign(KEY1)).await,
        401,
        "invalid_client",
        50_027,
    )
    .await;
    assert_aad_error(
        with_assertion("not.a.jwt".into()).await,
        401,
        "invalid_client",
        50_027,
    )
    .await;
}

#[tokio::test]
async fn short_lifetimes_expire_on_graph() {
    let server = server().await;
    register(&server, secret_app());
    server.set_entra_settings(EntraSettings {
        access_token_lifetime_seconds: 1,
        ..Default::default()
    });
    let resp = post_form(
        &server.token_url(DEFAULT_TENANT_ID),
        &[
            ("client_id", APP),
            ("scope", SCOPE),
            ("client_secret", "s3cret~value"),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    let body = json(resp).await;
    assert_eq!(body["expires_in"], 1);
    let token = body["access_token"].as_str().unwrap_or_default().to_owned();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resp = post(&client(), &server, REVOKE_ALICE, Some(&token)).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        json(resp).await["error"]["message"],
        "Access token has expired or is not yet valid."
    );
}
