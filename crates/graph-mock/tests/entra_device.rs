//! Device-code sign-in, refresh-token rotation and revocation (by the control API and by the Graph
//! revoke actions themselves).

mod common;

use common::signin::*;
use common::*;
use graph_mock::{
    AppRegistration, DEFAULT_TENANT_ID, DeviceCodeOutcome, DeviceCodeScript, EntraSettings,
    MockServer, decode_claims_unverified,
};
use serde_json::{Value, json};

const PUBLIC_APP: &str = "44444444-aaaa-4000-8000-000000000004";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SCOPES: &str =
    "https://graph.microsoft.com/User.RevokeSessions.All offline_access openid profile";

async fn setup() -> MockServer {
    let server = server().await;
    server
        .register_app(AppRegistration {
            app_id: PUBLIC_APP.into(),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
    server
}

async fn start_device_code(server: &MockServer, tenant: &str) -> Value {
    let resp = post_form(
        &format!("{}/{tenant}/oauth2/v2.0/devicecode", server.base_url()),
        &[("client_id", PUBLIC_APP), ("scope", SCOPES)],
    )
    .await;
    assert_eq!(resp.status(), 200);
    json(resp).await
}

async fn poll(server: &MockServer, device_code: &str) -> reqwest::Response {
    post_form(
        &server.token_url(DEFAULT_TENANT_ID),
        &[
            ("grant_type", DEVICE_GRANT),
            ("client_id", PUBLIC_APP),
            ("device_code", device_code),
        ],
    )
    .await
}

async fn refresh(server: &MockServer, refresh_token: &str) -> reqwest::Response {
    post_form(
        &server.token_url("organizations"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", PUBLIC_APP),
            ("refresh_token", refresh_token),
            ("scope", SCOPES),
        ],
    )
    .await
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn device_code_then_refresh_rotation_and_revocation() {
    let server = setup().await;
    let client = client();
    let resp = client
        .post(format!("{}/_mock/devicecode", server.base_url()))
        .json(&json!({"pendingPolls": 2, "upn": ALICE, "interval": 0}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 200);

    let code = start_device_code(&server, "common").await;
    let keys: Vec<&String> = code
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "device_code",
            "user_code",
            "verification_uri",
            "expires_in",
            "interval",
            "message"
        ]
    );
    assert_eq!(
        code["verification_uri"],
        "https://microsoft.com/devicelogin"
    );
    assert_eq!(code["expires_in"], 900);
    assert_eq!(code["interval"], 0);
    let user_code = text(&code, "user_code");
    assert_eq!(user_code.len(), 9);
    assert!(text(&code, "message").contains(&user_code));
    let device_code = text(&code, "device_code");

    for _ in 0..2 {
        assert_aad_error(
            poll(&server, &device_code).await,
            400,
            "authorization_pending",
            70_016,
        )
        .await;
    }
    let resp = poll(&server, &device_code).await;
    assert_eq!(resp.status(), 200);
    let tokens = json(resp).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3599);
    assert!(text(&tokens, "scope").contains("https://graph.microsoft.com/User.RevokeSessions.All"));
    assert!(!text(&tokens, "id_token").is_empty());
    let access = text(&tokens, "access_token");
    let claims = decode_claims_unverified(&access).unwrap_or_default();
    assert_eq!(claims.upn.as_deref(), Some(ALICE));
    assert_eq!(claims.oid.as_deref(), Some(ALICE_ID));
    assert_eq!(claims.scp.as_deref(), Some("User.RevokeSessions.All"));
    assert_eq!(claims.appid.as_deref(), Some(PUBLIC_APP));
    let first_rt = text(&tokens, "refresh_token");
    assert!(!first_rt.is_empty());
    // The code is spent.
    assert_aad_error(
        poll(&server, &device_code).await,
        400,
        "bad_verification_code",
        70_018,
    )
    .await;

    // Refresh rotates: a new refresh token, and the old one is dead at once by default.
    let resp = refresh(&server, &first_rt).await;
    assert_eq!(resp.status(), 200);
    let refreshed = json(resp).await;
    let second_rt = text(&refreshed, "refresh_token");
    assert!(!second_rt.is_empty() && second_rt != first_rt);
    assert_aad_error(
        refresh(&server, &first_rt).await,
        400,
        "invalid_grant",
        70_000,
    )
    .await;
    assert_aad_error(
        refresh(&server, "garbage").await,
        400,
        "invalid_grant",
        9_002_313,
    )
    .await;

    // With a grace period, a just-redeemed token still works once more.
    server.set_entra_settings(EntraSettings {
        refresh_token_reuse_grace_seconds: 60,
        ..Default::default()
    });
    let resp = refresh(&server, &second_rt).await;
    let third_rt = text(&json(resp).await, "refresh_token");
    assert_eq!(refresh(&server, &second_rt).await.status(), 200);

    // Revoked through the control API: AADSTS50173.
    let resp = client
        .post(format!("{}/_mock/refresh-tokens/revoke", server.base_url()))
        .json(&json!({"upn": ALICE}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(json(resp).await["revoked"].as_u64().unwrap_or(0) >= 1);
    assert_aad_error(
        refresh(&server, &third_rt).await,
        400,
        "invalid_grant",
        50_173,
    )
    .await;

    // Revoking the user's sessions through Graph kills their refresh tokens too.
    let code = start_device_code(&server, DEFAULT_TENANT_ID).await;
    let device_code = text(&code, "device_code");
    for _ in 0..2 {
        poll(&server, &device_code).await;
    }
    let tokens = json(poll(&server, &device_code).await).await;
    let rt = text(&tokens, "refresh_token");
    let resp = post(
        &client,
        &server,
        "/beta/me/invalidateAllRefreshTokens",
        Some(&text(&tokens, "access_token")),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body = assert_aad_error(refresh(&server, &rt).await, 400, "invalid_grant", 50_173).await;
    assert!(text(&body, "error_description").contains("revoked"));

    let stats = json(
        client
            .get(format!("{}/_mock/token-stats", server.base_url()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    assert_eq!(stats["requests"]["devicecode"], 2);
    assert_eq!(stats["requests"][DEVICE_GRANT], 7);
    assert_eq!(stats["issued"][DEVICE_GRANT], 2);
    assert_eq!(stats["requests"]["refresh_token"], 7);
    assert_eq!(stats["issued"]["refresh_token"], 3);
}

#[tokio::test]
async fn device_code_outcomes_and_errors() {
    let server = setup().await;
    let script = |outcome, slow_down| DeviceCodeScript {
        outcome,
        slow_down,
        pending_polls: 1,
        interval: 0,
        ..Default::default()
    };
    server.set_device_code_script(script(DeviceCodeOutcome::Decline, true));
    let code = text(
        &start_device_code(&server, "organizations").await,
        "device_code",
    );
    assert_aad_error(poll(&server, &code).await, 400, "slow_down", 70_016).await;
    assert_aad_error(
        poll(&server, &code).await,
        400,
        "authorization_declined",
        70_000,
    )
    .await;

    // The script applies to codes already handed out.
    let code = text(&start_device_code(&server, "common").await, "device_code");
    server.set_device_code_script(script(DeviceCodeOutcome::Expire, false));
    assert_aad_error(
        poll(&server, &code).await,
        400,
        "authorization_pending",
        70_016,
    )
    .await;
    assert_aad_error(poll(&server, &code).await, 400, "expired_token", 70_019).await;

    // Approving without offline_access: no refresh token.
    server.set_device_code_script(DeviceCodeScript {
        interval: 0,
        ..Default::default()
    });
    let resp = post_form(
        &format!("{}/common/oauth2/v2.0/devicecode", server.base_url()),
        &[("client_id", PUBLIC_APP), ("scope", "User.Read")],
    )
    .await;
    let code = text(&json(resp).await, "device_code");
    let tokens = json(poll(&server, &code).await).await;
    assert!(tokens.get("refresh_token").is_none() && tokens.get("id_token").is_none());
    assert_eq!(
        decode_claims_unverified(&text(&tokens, "access_token")).and_then(|c| c.upn),
        Some("admin@contoso.com".to_owned())
    );

    let devicecode_url = format!("{}/common/oauth2/v2.0/devicecode", server.base_url());
    let resp = post_form(
        &devicecode_url,
        &[("client_id", "nobody"), ("scope", "User.Read")],
    )
    .await;
    assert_aad_error(resp, 400, "unauthorized_client", 700_016).await;
    let resp = post_form(&devicecode_url, &[("client_id", PUBLIC_APP)]).await;
    assert_aad_error(resp, 400, "invalid_request", 900_144).await;
    let resp = post_form(
        &devicecode_url,
        &[
            ("client_id", PUBLIC_APP),
            ("scope", "https://vault.azure.net/.default"),
        ],
    )
    .await;
    assert_aad_error(resp, 400, "invalid_scope", 70_011).await;
}
