//! The Graph routes over real loopback HTTP: answers, error shapes, auth, addressing, recording.

mod common;

use common::*;
use graph_mock::{Fault, ODATA_JSON, TokenRequest, WWW_AUTHENTICATE_VALUE};
use serde_json::json;

#[tokio::test]
async fn success_body_content_type_and_headers() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    let resp = client
        .post(format!(
            "{}/beta/users/{ALICE_ID}/invalidateAllRefreshTokens",
            server.base_url()
        ))
        .bearer_auth(&token)
        .header("client-request-id", "11111111-2222-3333-4444-555555555555")
        .header("content-length", "0")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), ODATA_JSON);
    assert!(is_guid(&header(&resp, "request-id")));
    assert_eq!(
        header(&resp, "client-request-id"),
        "11111111-2222-3333-4444-555555555555"
    );
    assert!(header(&resp, "date").ends_with(" GMT"));
    assert!(!header(&resp, "x-ms-ags-diagnostic").is_empty());
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(
        text,
        r#"{"@odata.context":"https://graph.microsoft.com/beta/$metadata#Edm.Boolean","value":true}"#
    );
    assert_eq!(server.revocations(ALICE_ID), 1);
    assert_eq!(server.revocations(ALICE), 1);
}

#[tokio::test]
async fn every_spelling_of_the_action_is_served() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    for (path, context) in [
        (
            "/beta/users/ALICE@contoso.com/microsoft.graph.invalidateAllRefreshTokens",
            "beta",
        ),
        ("/v1.0/users/alice@contoso.com/revokeSignInSessions", "v1.0"),
        (
            "/v1.0/users/6F1C2D3E-4B5A-4C7D-8E9F-0A1B2C3D4E01/microsoft.graph.revokeSignInSessions",
            "v1.0",
        ),
        (
            "/beta/users('alice@contoso.com')/invalidateAllRefreshTokens",
            "beta",
        ),
    ] {
        let resp = post(&client, &server, path, Some(&token)).await;
        assert_eq!(resp.status(), 200, "{path}");
        let body = json(resp).await;
        assert_eq!(
            body["@odata.context"],
            format!("https://graph.microsoft.com/{context}/$metadata#Edm.Boolean"),
            "{path}"
        );
        assert_eq!(body["value"], true);
    }
    assert_eq!(server.revocations(ALICE_ID), 4);
}

#[tokio::test]
async fn unknown_user_is_a_graph_404() {
    let server = server().await;
    let client = client();
    let resp = client
        .post(format!(
            "{}/beta/users/nobody@contoso.com/invalidateAllRefreshTokens",
            server.base_url()
        ))
        .bearer_auth(app_token(&server))
        .header("client-request-id", "abc-123")
        .header("content-length", "0")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, "content-type"), "application/json");
    let request_id = header(&resp, "request-id");
    assert_eq!(header(&resp, "client-request-id"), "abc-123");
    let body = json(resp).await;
    let error = &body["error"];
    assert_eq!(error["code"], "Request_ResourceNotFound");
    assert_eq!(
        error["message"],
        "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present."
    );
    let inner = &error["innerError"];
    assert_eq!(inner["request-id"], request_id.as_str());
    assert_eq!(inner["client-request-id"], "abc-123");
    let date = inner["date"].as_str().unwrap_or_default();
    assert!(is_inner_error_date(date), "{date}");
    let keys: Vec<&String> = inner
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["date", "request-id", "client-request-id"]);
}

#[tokio::test]
async fn missing_client_request_id_gets_a_new_one() {
    let server = server().await;
    let resp = post(
        &client(),
        &server,
        "/beta/users/nobody@contoso.com/invalidateAllRefreshTokens",
        None,
    )
    .await;
    let echoed = header(&resp, "client-request-id");
    assert!(is_guid(&echoed));
    let body = json(resp).await;
    assert_eq!(
        body["error"]["innerError"]["client-request-id"],
        echoed.as_str()
    );
}

#[tokio::test]
async fn bad_tokens_are_401_with_challenge() {
    let server = server().await;
    let client = client();
    let path = format!("/beta/users/{ALICE_ID}/invalidateAllRefreshTokens");
    let expired =
        server.mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]).expires_in(-60));
    let not_yet = server.mint_token(&TokenRequest {
        roles: Some(vec!["User.RevokeSessions.All".into()]),
        not_before_in_seconds: Some(600),
        ..Default::default()
    });
    // Same header and claims, different signature bytes.
    let valid = app_token(&server);
    let (signed, signature) = valid.rsplit_once('.').unwrap_or_default();
    let first = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{signed}.{first}{}", signature.get(1..).unwrap_or_default());
    let cases: [(Option<&str>, &str); 6] = [
        (None, "Access token is empty."),
        (Some(""), "Access token is empty."),
        (
            Some(&expired),
            "Access token has expired or is not yet valid.",
        ),
        (
            Some(&not_yet),
            "Access token has expired or is not yet valid.",
        ),
        (Some(&tampered), "Access token validation failure."),
        (
            Some("not-a-jwt"),
            "CompactToken parsing failed with error code: 80049217",
        ),
    ];
    for (token, message) in cases {
        let mut req = client
            .post(format!("{}{path}", server.base_url()))
            .header("content-length", "0");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.status(), 401, "{message}");
        assert_eq!(header(&resp, "www-authenticate"), WWW_AUTHENTICATE_VALUE);
        let body = json(resp).await;
        assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
        assert_eq!(body["error"]["message"], message);
    }
    assert_eq!(server.revocations(ALICE_ID), 0);
}

#[tokio::test]
async fn token_without_the_permission_is_403() {
    let server = server().await;
    let client = client();
    let path = format!("/beta/users/{ALICE_ID}/invalidateAllRefreshTokens");
    for req in [
        TokenRequest::app_only(["User.Read.All"]),
        TokenRequest::delegated("User.Read openid", ALICE),
    ] {
        let resp = post(&client, &server, &path, Some(&server.mint_token(&req))).await;
        assert_eq!(resp.status(), 403);
        let body = json(resp).await;
        assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
        assert_eq!(
            body["error"]["message"],
            "Insufficient privileges to complete the operation."
        );
    }
    // Auth comes before the lookup: an unknown user with a weak token is 403, not 404.
    let weak = server.mint_token(&TokenRequest::app_only(["User.Read.All"]));
    let resp = post(
        &client,
        &server,
        "/beta/users/ghost@x.com/invalidateAllRefreshTokens",
        Some(&weak),
    )
    .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(server.revocations(ALICE_ID), 0);
}

#[tokio::test]
async fn encoded_hash_addresses_a_guest_upn() {
    let server = server().await;
    let resp = post(
        &client(),
        &server,
        "/beta/users/bob_fabrikam.com%23EXT%23@contoso.onmicrosoft.com/invalidateAllRefreshTokens",
        Some(&app_token(&server)),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.revocations(GUEST_ID), 1);
    let recorded = server.requests();
    assert_eq!(
        recorded[0].raw_path,
        "/beta/users/bob_fabrikam.com%23EXT%23@contoso.onmicrosoft.com/invalidateAllRefreshTokens"
    );
    assert_eq!(recorded[0].user_id.as_deref(), Some(GUEST));
}

#[tokio::test]
async fn odata_key_form_addresses_a_dollar_upn() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    let resp = post(
        &client,
        &server,
        "/beta/users('$x@y.com')/invalidateAllRefreshTokens",
        Some(&token),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let resp = post(
        &client,
        &server,
        "/beta/users(%27%24x%40y.com%27)/invalidateAllRefreshTokens",
        Some(&token),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.revocations(DOLLAR_ID), 2);
    // Without the key form the `$` collides with OData system segments, as on the real service.
    let resp = post(
        &client,
        &server,
        "/beta/users/$x@y.com/invalidateAllRefreshTokens",
        Some(&token),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let body = json(resp).await;
    assert_eq!(body["error"]["code"], "Request_BadRequest");
    assert_eq!(server.revocations(DOLLAR_ID), 2);
}

#[tokio::test]
async fn path_injection_stays_one_segment() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    let raw = "/beta/users/x%2F..%2F..%2Fgroups/invalidateAllRefreshTokens";
    let resp = post(&client, &server, raw, Some(&token)).await;
    assert_eq!(resp.status(), 404);
    let body = json(resp).await;
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");
    assert_eq!(
        body["error"]["message"],
        "Resource 'x/../../groups' does not exist or one of its queried reference-property objects are not present."
    );
    let resp = post(
        &client,
        &server,
        "/beta/users/a%3Fb/invalidateAllRefreshTokens",
        Some(&token),
    )
    .await;
    assert_eq!(resp.status(), 404);
    // Unencoded dot segments reach the server verbatim over a raw socket: still no route.
    let status = raw_post_status(
        &server,
        "/beta/users/x/../../groups/invalidateAllRefreshTokens",
        &token,
    )
    .await;
    assert_eq!(status, 404);
    let recorded = server.requests();
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[0].raw_path, raw);
    assert_eq!(recorded[0].user_id.as_deref(), Some("x/../../groups"));
    assert_eq!(recorded[0].status, Some(404));
    assert_eq!(recorded[1].user_id.as_deref(), Some("a?b"));
    assert_eq!(
        recorded[2].raw_path,
        "/beta/users/x/../../groups/invalidateAllRefreshTokens"
    );
    assert_eq!(recorded[2].user_id, None);
    assert!(server.all_revocations().is_empty());
}

#[tokio::test]
async fn me_revokes_the_signed_in_user() {
    let server = server().await;
    let client = client();
    let delegated = server.mint_token(&TokenRequest::delegated("User.RevokeSessions.All", ALICE));
    let resp = post(
        &client,
        &server,
        "/beta/me/invalidateAllRefreshTokens",
        Some(&delegated),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.revocations(ALICE_ID), 1);
    assert_eq!(server.requests()[0].user_id.as_deref(), Some(ALICE));
    // App-only tokens have no "me".
    let resp = post(
        &client,
        &server,
        "/beta/me/invalidateAllRefreshTokens",
        Some(&app_token(&server)),
    )
    .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_graph_errors_and_recorded() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    let resp = post(
        &client,
        &server,
        "/beta/groups/x/invalidateAllRefreshTokens",
        Some(&token),
    )
    .await;
    assert_eq!(resp.status(), 404);
    assert!(is_guid(&header(&resp, "request-id")));
    assert_eq!(json(resp).await["error"]["code"], "UnknownError");
    let resp = client
        .get(format!(
            "{}/beta/users/{ALICE_ID}/invalidateAllRefreshTokens",
            server.base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 405);
    assert_eq!(header(&resp, "allow"), "POST");
    assert_eq!(json(resp).await["error"]["code"], "Request_BadRequest");
    let statuses: Vec<Option<u16>> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(404), Some(405)]);
    assert_eq!(server.revocations(ALICE_ID), 0);
}

#[tokio::test]
async fn fault_with_retry_after_answers_once_then_normal() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    server
        .push_fault(
            Fault::status(429)
                .header("Retry-After", "1")
                .for_user(ALICE_ID),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let path = "/beta/users/alice@contoso.com/invalidateAllRefreshTokens";
    // Another user is not matched by the fault.
    let other = post(
        &client,
        &server,
        "/beta/users/$x@y.com/invalidateAllRefreshTokens",
        Some(&token),
    )
    .await;
    assert_eq!(other.status(), 400);
    let resp = post(&client, &server, path, Some(&token)).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "retry-after"), "1");
    assert!(is_guid(&header(&resp, "request-id")));
    let body = json(resp).await;
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(body["error"]["message"], "Please retry again later.");
    assert_eq!(body["error"]["innerError"]["status"], "429");
    assert_eq!(server.revocations(ALICE_ID), 0);
    let resp = post(&client, &server, path, Some(&token)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.revocations(ALICE_ID), 1);
}

#[tokio::test]
async fn fault_fires_before_auth_and_can_carry_any_body() {
    let server = server().await;
    let client = client();
    server
        .push_fault(Fault {
            body: Some(json!("<html>gateway</html>")),
            ..Fault::status(503).header("Content-Type", "text/html")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    server
        .push_fault(Fault::status(204))
        .unwrap_or_else(|e| panic!("{e}"));
    let path = "/beta/users/alice@contoso.com/invalidateAllRefreshTokens";
    let resp = post(&client, &server, path, None).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(header(&resp, "content-type"), "text/html");
    assert_eq!(
        resp.text().await.unwrap_or_default(),
        "<html>gateway</html>"
    );
    let resp = post(&client, &server, path, None).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.text().await.unwrap_or_default(), "");
    let resp = post(&client, &server, path, None).await;
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn requests_are_recorded_with_headers_query_and_body() {
    let server = server().await;
    let client = client();
    let token = app_token(&server);
    let resp = client
        .post(format!(
            "{}/beta/users/{ALICE_ID}/invalidateAllRefreshTokens?x=1&y=%20",
            server.base_url()
        ))
        .bearer_auth(&token)
        .header("client-request-id", "cid-1")
        .header("Retry-Attempt", "2")
        .header("User-Agent", "Microsoft.Graph.Beta.Users.Actions/0.1.0")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 200);
    let recorded = server.requests();
    assert_eq!(recorded.len(), 1);
    let r = &recorded[0];
    assert_eq!(r.seq, 1);
    assert_eq!(r.method, "POST");
    assert_eq!(r.query.as_deref(), Some("x=1&y=%20"));
    assert_eq!(r.body, "{}");
    assert_eq!(r.status, Some(200));
    assert_eq!(r.user_id.as_deref(), Some(ALICE_ID));
    assert_eq!(r.header("client-request-id"), Some("cid-1"));
    assert_eq!(r.header("retry-attempt"), Some("2"));
    assert_eq!(
        r.header("user-agent"),
        Some("Microsoft.Graph.Beta.Users.Actions/0.1.0")
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    // Keys are lower-case on the wire too.
    assert!(r.headers.keys().all(|k| *k == k.to_ascii_lowercase()));
}
