//! `POST /beta/$batch` over real HTTP: per-item answers, order, validation, dependsOn, throttling,
//! faults and the journal.

mod common;

use std::collections::BTreeMap;

use common::*;
use graph_mock::{Fault, LimitName, MockServer, ODATA_JSON, ThrottleConfig};
use serde_json::{Value, json};

fn revoke_item(id: &str, user: &str) -> Value {
    json!({"id": id, "method": "POST", "url": format!("/users/{user}/invalidateAllRefreshTokens"),
           "headers": {"Content-Type": "application/json"}, "body": {}})
}

async fn send_batch(
    server: &MockServer,
    version: &str,
    token: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = client()
        .post(format!("{}/{version}/$batch", server.base_url()))
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap_or_else(|e| panic!("{e}"))
}

/// The item answers by id.
fn by_id(body: &Value) -> BTreeMap<String, Value> {
    body["responses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["id"].as_str().unwrap_or_default().to_owned(), r.clone()))
        .collect()
}

fn ids_in_answer_order(body: &Value) -> Vec<String> {
    body["responses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn items_are_answered_individually_and_out_of_order() {
    let server = server().await;
    let token = app_token(&server);
    let requests = json!({"requests": [
        revoke_item("1", ALICE_ID),
        revoke_item("2", "nobody@contoso.com"),
        {"id": "3", "method": "POST", "url": "users('$x@y.com')/invalidateAllRefreshTokens",
         "headers": {"content-type": "application/json"}, "body": {}},
        revoke_item("4", "bob_fabrikam.com%23EXT%23@contoso.onmicrosoft.com"),
        revoke_item("5", "$x@y.com"),
    ]});
    let resp = send_batch(&server, "beta", Some(&token), &requests).await;
    assert_eq!(resp.status(), 200);
    assert!(is_guid(&header(&resp, "request-id")));
    let body = json(resp).await;
    let order = ids_in_answer_order(&body);
    assert_eq!(order.len(), 5);
    assert_ne!(order, ["1", "2", "3", "4", "5"]);
    let answers = by_id(&body);
    let status = |id: &str| answers[id]["status"].as_u64().unwrap_or(0);
    assert_eq!(
        [
            status("1"),
            status("2"),
            status("3"),
            status("4"),
            status("5")
        ],
        [200, 404, 200, 200, 400]
    );
    let ok = &answers["1"];
    assert_eq!(ok["headers"]["Content-Type"], ODATA_JSON);
    assert_eq!(ok["headers"]["x-ms-resource-unit"], "1");
    assert_eq!(
        ok["body"],
        json!({"@odata.context": "https://graph.microsoft.com/beta/$metadata#Edm.Boolean", "value": true})
    );
    assert_eq!(
        answers["2"]["body"]["error"]["code"],
        "Request_ResourceNotFound"
    );
    assert_eq!(answers["5"]["body"]["error"]["code"], "Request_BadRequest");
    let keys: Vec<&String> = ok
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["id", "status", "headers", "body"]);

    assert_eq!(server.revocations(ALICE_ID), 1);
    assert_eq!(server.revocations(DOLLAR_ID), 1);
    assert_eq!(server.revocations(GUEST_ID), 1);

    // The batch and each item are journaled; items point at their batch.
    let journal = server.requests();
    assert_eq!(journal.len(), 6);
    assert_eq!(journal[0].raw_path, "/beta/$batch");
    assert_eq!(journal[0].status, Some(200));
    assert_eq!(journal[0].batch_id, None);
    let items = &journal[1..];
    assert!(items.iter().all(|r| r.batch_id == Some(journal[0].seq)));
    assert_eq!(items[0].batch_item_id.as_deref(), Some("1"));
    assert_eq!(
        items[0].raw_path,
        format!("/beta/users/{ALICE_ID}/invalidateAllRefreshTokens")
    );
    assert_eq!(items[0].body, "{}");
    assert_eq!(items[0].header("content-type"), Some("application/json"));
    assert_eq!(
        items[2].raw_path,
        "/beta/users('$x@y.com')/invalidateAllRefreshTokens"
    );
    assert_eq!(items[3].user_id.as_deref(), Some(GUEST));
    let statuses: Vec<Option<u16>> = items.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [Some(200), Some(404), Some(200), Some(200), Some(400)]
    );
}

#[tokio::test]
async fn write_items_need_body_and_content_type() {
    let server = server().await;
    let token = app_token(&server);
    let mut no_body = revoke_item("a", ALICE_ID);
    if let Some(o) = no_body.as_object_mut() {
        o.remove("body");
    }
    let mut no_type = revoke_item("b", ALICE_ID);
    no_type["headers"] = json!({});
    let requests = json!({"requests": [no_body, no_type, revoke_item("c", ALICE_ID)]});
    let body = json(send_batch(&server, "beta", Some(&token), &requests).await).await;
    let answers = by_id(&body);
    for id in ["a", "b"] {
        assert_eq!(answers[id]["status"], 400, "{id}");
        assert_eq!(answers[id]["body"]["error"]["code"], "BadRequest");
        assert_eq!(
            answers[id]["body"]["error"]["message"],
            format!("Write request id : {id} does not contain Content-Type header or body.")
        );
    }
    assert_eq!(answers["c"]["status"], 200);
    assert_eq!(server.revocations(ALICE_ID), 1);
}

#[tokio::test]
async fn whole_batch_problems_are_400() {
    let server = server().await;
    let token = app_token(&server);
    let many: Vec<Value> = (1..=21)
        .map(|i| revoke_item(&i.to_string(), ALICE_ID))
        .collect();
    let mut dangling = revoke_item("2", ALICE_ID);
    dangling["dependsOn"] = json!(["9"]);
    let mut cycle_a = revoke_item("a", ALICE_ID);
    cycle_a["dependsOn"] = json!(["b"]);
    let mut cycle_b = revoke_item("b", ALICE_ID);
    cycle_b["dependsOn"] = json!(["a"]);
    for bad in [
        json!({ "requests": many }),
        json!({"requests": [revoke_item("1", ALICE_ID), revoke_item("1", GUEST_ID)]}),
        json!({"requests": [revoke_item("1", ALICE_ID), dangling]}),
        json!({"requests": [cycle_a, cycle_b]}),
        json!({"requests": []}),
        json!({"nothing": true}),
    ] {
        let resp = send_batch(&server, "beta", Some(&token), &bad).await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert_eq!(json(resp).await["error"]["code"], "BadRequest");
    }
    let resp = client()
        .get(format!("{}/beta/$batch", server.base_url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 405);
    assert_eq!(server.revocations(ALICE_ID), 0);
    // Exactly 20 is fine.
    let twenty: Vec<Value> = (1..=20)
        .map(|i| revoke_item(&i.to_string(), ALICE_ID))
        .collect();
    let resp = send_batch(
        &server,
        "beta",
        Some(&token),
        &json!({ "requests": twenty }),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.revocations(ALICE_ID), 20);
}

#[tokio::test]
async fn a_failed_dependency_makes_dependents_424() {
    let server = server().await;
    let token = app_token(&server);
    let mut second = revoke_item("2", ALICE_ID);
    second["dependsOn"] = json!(["1"]);
    let mut third = revoke_item("3", ALICE_ID);
    third["dependsOn"] = json!(["2"]);
    let mut fifth = revoke_item("5", GUEST_ID);
    fifth["dependsOn"] = json!(["4"]);
    // "1" fails (unknown user), so "2" and through it "3" fail; "5" waits for "4" and succeeds.
    let requests = json!({"requests": [
        third, second, revoke_item("1", "ghost@contoso.com"), fifth, revoke_item("4", ALICE_ID)
    ]});
    let body = json(send_batch(&server, "beta", Some(&token), &requests).await).await;
    let answers = by_id(&body);
    let status = |id: &str| answers[id]["status"].as_u64().unwrap_or(0);
    assert_eq!(
        [
            status("1"),
            status("2"),
            status("3"),
            status("4"),
            status("5")
        ],
        [404, 424, 424, 200, 200]
    );
    assert_eq!(answers["2"]["body"]["error"]["code"], "FailedDependency");
    assert_eq!(server.revocations(ALICE_ID), 1);
    assert_eq!(server.revocations(GUEST_ID), 1);
    // Dependencies ran first: "1" was journaled before "2", "4" before "5".
    let order: Vec<String> = server.requests()[1..]
        .iter()
        .filter_map(|r| r.batch_item_id.clone())
        .collect();
    let pos = |id: &str| order.iter().position(|o| o == id).unwrap_or(usize::MAX);
    assert!(pos("1") < pos("2") && pos("2") < pos("3") && pos("4") < pos("5"));
}

#[tokio::test]
async fn items_are_throttled_individually_with_their_own_retry_after() {
    let server = server().await;
    let token = app_token(&server);
    server
        .set_throttling(ThrottleConfig::entra().with_limit(LimitName::AppTenantWrites, 3.0, 30.0))
        .unwrap_or_else(|e| panic!("{e}"));
    let items: Vec<Value> = (1..=5)
        .map(|i| revoke_item(&i.to_string(), ALICE_ID))
        .collect();
    let resp = send_batch(&server, "beta", Some(&token), &json!({ "requests": items })).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "retry-after"), "");
    let body = json(resp).await;
    let answers: Vec<Value> = by_id(&body).into_values().collect();
    let throttled: Vec<&Value> = answers.iter().filter(|a| a["status"] == 429).collect();
    assert_eq!(throttled.len(), 2);
    assert_eq!(answers.iter().filter(|a| a["status"] == 200).count(), 3);
    for t in throttled {
        let wait: f64 = t["headers"]["Retry-After"]
            .as_str()
            .unwrap_or("")
            .parse()
            .unwrap_or(0.0);
        assert!(wait > 9.0 && wait <= 10.0, "{wait}");
        assert_eq!(
            t["headers"]["x-ms-throttle-information"],
            "WriteLimitExceeded"
        );
        assert!(
            t["headers"]["x-ms-throttle-scope"]
                .as_str()
                .is_some_and(|s| s.starts_with("Tenant_Application/Write/"))
        );
        assert_eq!(t["body"]["error"]["code"], "TooManyRequests");
    }
    assert_eq!(server.revocations(ALICE_ID), 3);
    assert_eq!(server.throttle_stats().throttled, 2);
}

#[tokio::test]
async fn faults_and_auth_apply_per_item() {
    let server = server().await;
    let token = app_token(&server);
    let push = |f: Fault| server.push_fault(f).unwrap_or_else(|e| panic!("{e}"));
    push(
        Fault::status(503)
            .header("Retry-After", "7")
            .for_user(ALICE),
    );
    push(Fault::reset().for_user(GUEST_ID));
    let requests = json!({"requests": [
        revoke_item("1", ALICE_ID), revoke_item("2", GUEST_ID), revoke_item("3", DOLLAR_ID)
    ]});
    // v1.0 has only revokeSignInSessions: item urls are resolved under the batch's version.
    let body = json(send_batch(&server, "beta", Some(&token), &requests).await).await;
    let answers = by_id(&body);
    assert_eq!(answers["1"]["status"], 503);
    assert_eq!(answers["1"]["headers"]["Retry-After"], "7");
    // An item cannot drop the shared connection: a reset becomes a gateway timeout.
    assert_eq!(answers["2"]["status"], 504);
    assert_eq!(answers["3"]["status"], 200);
    let injected: Vec<Option<String>> = server.requests()[1..]
        .iter()
        .map(|r| r.injected.clone())
        .collect();
    assert_eq!(
        injected,
        [Some("status".into()), Some("reset".into()), None]
    );

    // No token: every item is 401, the batch itself 200.
    let v1 = json!({"requests": [{"id": "x", "method": "POST",
        "url": format!("/users/{ALICE_ID}/revokeSignInSessions"),
        "headers": {"Content-Type": "application/json"}, "body": {}}]});
    let resp = send_batch(&server, "v1.0", None, &v1).await;
    assert_eq!(resp.status(), 200);
    let body = json(resp).await;
    assert_eq!(body["responses"][0]["status"], 401);
    assert_eq!(
        body["responses"][0]["body"]["error"]["code"],
        "InvalidAuthenticationToken"
    );
    let body = json(send_batch(&server, "v1.0", Some(&token), &v1).await).await;
    assert_eq!(body["responses"][0]["status"], 200);
    assert_eq!(
        body["responses"][0]["body"]["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean"
    );

    // A malformed item garbles the whole batch answer.
    push(Fault::malformed_json().for_user(ALICE_ID));
    let resp = send_batch(&server, "beta", Some(&token), &requests).await;
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("application/json"));
    let text = resp.text().await.unwrap_or_default();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    // A fault on the batch path hits the batch request itself.
    push(
        Fault::status(429)
            .header("Retry-After", "3")
            .path_contains("$batch"),
    );
    let resp = send_batch(&server, "beta", Some(&token), &requests).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "retry-after"), "3");
}
