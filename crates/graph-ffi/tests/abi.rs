//! The C ABI as the C# shim uses it: JSON results, typed errors, bad pointers and bad bytes
//! refused without crashing, cancellation, and a real call to the mock server.

use std::ptr;

use graph_ffi::buffer::{GraphBuffer, graph_buffer_free};
use graph_ffi::cancel_exports::{graph_cancel_free, graph_cancel_new, graph_cancel_signal};
use graph_ffi::environment_exports::graph_environment_add;
use graph_ffi::revoke_exports::{
    graph_interpret_revocation, graph_prepare_revocation, graph_revoke, graph_send,
};
use graph_ffi::session_exports::{
    GraphSession, graph_session_context, graph_session_free, graph_session_open_with_access_token,
};
use graph_ffi::status::{GRAPH_ABI_VERSION, GraphStatus, graph_abi_version};
use graph_mock::{MockConfig, MockServer, TokenRequest, User};
use serde_json::{Value, json};

/// Reads and frees a buffer the library wrote.
fn take(buffer: GraphBuffer) -> Value {
    // SAFETY: the buffer was written by the library and is read once, then freed once.
    let bytes = unsafe { std::slice::from_raw_parts(buffer.ptr, buffer.len) }.to_vec();
    // SAFETY: freed once.
    unsafe { graph_buffer_free(buffer) };
    serde_json::from_slice(&bytes).expect("the library always writes JSON")
}

/// The action every call here sends unless a test says otherwise.
const INVALIDATE: &str = "invalidateAllRefreshTokens";

fn revoke(
    session: *const GraphSession,
    user: &[u8],
    cancel: *const graph_ffi::cancel_exports::GraphCancel,
) -> (GraphStatus, Value) {
    revoke_with(session, INVALIDATE.as_bytes(), user, cancel)
}

fn revoke_with(
    session: *const GraphSession,
    action: &[u8],
    user: &[u8],
    cancel: *const graph_ffi::cancel_exports::GraphCancel,
) -> (GraphStatus, Value) {
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: all pointers are null or live for the call.
    let status = unsafe {
        graph_revoke(
            session,
            action.as_ptr(),
            action.len(),
            user.as_ptr(),
            user.len(),
            ptr::null(),
            0,
            ptr::null(),
            0,
            cancel,
            &mut out,
        )
    };
    (status, take(out))
}

struct Connected {
    _runtime: tokio::runtime::Runtime,
    server: MockServer,
    session: *mut GraphSession,
}

impl Drop for Connected {
    fn drop(&mut self) {
        // SAFETY: opened by `connect`, freed once.
        unsafe { graph_session_free(self.session) };
    }
}

fn connect() -> Connected {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(MockServer::start(MockConfig::default().with_users([
            User::new("0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "adele@contoso.com"),
        ])))
        .expect("mock");
    let name = format!("ffi-{}", server.addr().port());
    let request = json!({"name": name, "graphEndpoint": server.base_url(), "azureADEndpoint": server.base_url()}).to_string();
    // The environment is saved in the data folder: a temporary one, never the user's.
    let data_dir = std::env::temp_dir().join("graph-ffi-abi-tests");
    let settings = json!({"dataDir": data_dir}).to_string();
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: valid pointers for the call.
    let status = unsafe {
        graph_environment_add(
            request.as_ptr(),
            request.len(),
            settings.as_ptr(),
            settings.len(),
            &mut out,
        )
    };
    assert_eq!(status, GraphStatus::Ok, "{}", take(out));

    let config = json!({"environment": name}).to_string();
    let token = server.mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]));
    let mut session = ptr::null_mut();
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: valid pointers for the call.
    let status = unsafe {
        graph_session_open_with_access_token(
            config.as_ptr(),
            config.len(),
            token.as_ptr(),
            token.len(),
            &mut session,
            &mut out,
        )
    };
    let context = take(out);
    assert_eq!(status, GraphStatus::Ok, "{context}");
    assert_eq!(context["authType"], "UserProvidedAccessToken");
    assert!(
        !context.to_string().contains(&token),
        "the context must not hold the token"
    );
    Connected {
        _runtime: runtime,
        server,
        session,
    }
}

#[test]
fn abi_version_matches_what_the_shim_expects() {
    assert_eq!(graph_abi_version(), GRAPH_ABI_VERSION);
    let shim = include_str!("../../../module/src/Native/GraphCore.cs");
    assert!(
        shim.contains(&format!("ExpectedAbiVersion = {GRAPH_ABI_VERSION};")),
        "module/src/Native/GraphCore.cs must expect ABI version {GRAPH_ABI_VERSION}"
    );
}

#[test]
fn a_real_call_goes_through_the_exports() {
    let connected = connect();
    let (status, outcome) = revoke(connected.session, b"adele@contoso.com", ptr::null());
    assert_eq!(status, GraphStatus::Ok, "{outcome}");
    assert_eq!(outcome["value"], true);
    assert_eq!(outcome["status"], 200);
    assert_eq!(
        connected
            .server
            .revocations("0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
        1
    );

    let mut out = GraphBuffer::EMPTY;
    // SAFETY: live session, valid out.
    let status = unsafe { graph_session_context(connected.session, &mut out) };
    assert_eq!(status, GraphStatus::Ok);
    assert!(
        take(out)["scopes"]
            .to_string()
            .contains("User.RevokeSessions.All")
    );
}

#[test]
fn the_action_names_the_url_and_an_unknown_one_is_refused_before_sending() {
    let connected = connect();
    let (status, outcome) = revoke_with(
        connected.session,
        b"revokeSignInSessions",
        b"adele@contoso.com",
        ptr::null(),
    );
    assert_eq!(status, GraphStatus::Ok, "{outcome}");
    assert_eq!(outcome["value"], true);
    let paths: Vec<String> = connected
        .server
        .requests()
        .into_iter()
        .map(|request| request.raw_path)
        .collect();
    assert_eq!(
        paths,
        ["/beta/users/adele@contoso.com/revokeSignInSessions"]
    );

    for action in [&b"deleteUser"[..], b"", b"RevokeSignInSessions"] {
        let (status, error) =
            revoke_with(connected.session, action, b"adele@contoso.com", ptr::null());
        assert_eq!(status, GraphStatus::Error);
        assert_eq!(error["kind"], "InvalidArgument", "{error}");
    }
    assert_eq!(
        connected.server.requests().len(),
        1,
        "nothing more was sent"
    );
}

#[test]
fn graph_error_crosses_as_json_with_its_trace_fields() {
    let connected = connect();
    let (status, error) = revoke(connected.session, b"nobody@contoso.com", ptr::null());
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(error["kind"], "Graph");
    assert_eq!(error["status"], 404);
    assert_eq!(error["code"], "Request_ResourceNotFound");
    assert!(error["requestId"].is_string());
    assert!(error["clientRequestId"].is_string());
    assert!(error["date"].is_string());
}

#[test]
fn a_signalled_cancel_handle_stops_the_call_before_it_is_sent() {
    let connected = connect();
    let cancel = graph_cancel_new();
    // SAFETY: live handle.
    unsafe { graph_cancel_signal(cancel) };
    let (status, error) = revoke(connected.session, b"adele@contoso.com", cancel);
    // SAFETY: freed once, no call uses it any more.
    unsafe { graph_cancel_free(cancel) };
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(error["kind"], "Cancelled");
    assert!(connected.server.requests().is_empty());
}

#[test]
fn a_null_session_means_not_connected() {
    let (status, error) = revoke(ptr::null(), b"adele@contoso.com", ptr::null());
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(error["kind"], "NotConnected");
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("Connect-MgGraph")
    );
}

#[test]
fn bad_pointers_and_bytes_are_refused_not_crashed_on() {
    let connected = connect();
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: a null pointer with a length is exactly what is being refused.
    let status = unsafe {
        graph_revoke(
            connected.session,
            INVALIDATE.as_ptr(),
            INVALIDATE.len(),
            ptr::null(),
            5,
            ptr::null(),
            0,
            ptr::null(),
            0,
            ptr::null(),
            &mut out,
        )
    };
    assert_eq!(status, GraphStatus::Error);
    assert!(
        take(out)["message"]
            .as_str()
            .expect("message")
            .contains("null pointer")
    );

    let (status, error) = revoke(connected.session, &[0x61, 0xff, 0x62], ptr::null());
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(error["kind"], "InvalidArgument");
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("UTF-8")
    );

    // SAFETY: a null out-buffer is reported, never written.
    let status = unsafe {
        graph_revoke(
            connected.session,
            INVALIDATE.as_ptr(),
            INVALIDATE.len(),
            b"a".as_ptr(),
            1,
            ptr::null(),
            0,
            ptr::null(),
            0,
            ptr::null(),
            ptr::null_mut(),
        )
    };
    assert_eq!(status, GraphStatus::NullOutBuffer);
    assert!(
        connected.server.requests().is_empty(),
        "nothing may be sent for bad input"
    );

    // SAFETY: freeing null handles and an empty buffer is documented as harmless.
    unsafe {
        graph_session_free(ptr::null_mut());
        graph_cancel_free(ptr::null_mut());
        graph_cancel_signal(ptr::null());
        graph_buffer_free(GraphBuffer::EMPTY);
    }
}

#[test]
fn malformed_configuration_and_token_are_refused() {
    let mut session = ptr::null_mut();
    let mut out = GraphBuffer::EMPTY;
    let config = b"{not json";
    // SAFETY: valid pointers for the call.
    let status = unsafe {
        graph_session_open_with_access_token(
            config.as_ptr(),
            config.len(),
            b"x".as_ptr(),
            1,
            &mut session,
            &mut out,
        )
    };
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(take(out)["kind"], "InvalidArgument");
    assert!(session.is_null());

    let config = br#"{"environment":"Global"}"#;
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: valid pointers for the call.
    let status = unsafe {
        graph_session_open_with_access_token(
            config.as_ptr(),
            config.len(),
            b"no pe".as_ptr(),
            5,
            &mut session,
            &mut out,
        )
    };
    assert_eq!(status, GraphStatus::Error);
    let error = take(out);
    assert_eq!(error["kind"], "Authentication");
    assert!(
        !error.to_string().contains("no pe"),
        "the token must not be echoed: {error}"
    );
    assert!(session.is_null());
}

fn call_with_options(
    session: *const GraphSession,
    user: &[u8],
    options: &str,
    password: &[u8],
) -> (GraphStatus, Value) {
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: all pointers are live for the call.
    let status = unsafe {
        graph_revoke(
            session,
            INVALIDATE.as_ptr(),
            INVALIDATE.len(),
            user.as_ptr(),
            user.len(),
            options.as_ptr(),
            options.len(),
            password.as_ptr(),
            password.len(),
            ptr::null(),
            &mut out,
        )
    };
    (status, take(out))
}

#[test]
fn extra_headers_reach_the_wire_and_reserved_ones_are_refused() {
    let connected = connect();
    let options = json!({"headers": [["x-ms-throttle-priority", "High"]]}).to_string();
    let (status, outcome) =
        call_with_options(connected.session, b"adele@contoso.com", &options, b"");
    assert_eq!(status, GraphStatus::Ok, "{outcome}");
    assert_eq!(
        connected.server.requests()[0].header("x-ms-throttle-priority"),
        Some("High")
    );

    let options = json!({"headers": [["Authorization", "Bearer stolen"]]}).to_string();
    let (status, error) = call_with_options(connected.session, b"adele@contoso.com", &options, b"");
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(error["kind"], "InvalidHeader");
    assert_eq!(
        connected.server.requests().len(),
        1,
        "nothing more may be sent"
    );
}

#[test]
fn a_trace_is_redacted() {
    let connected = connect();
    let options = json!({"trace": true}).to_string();
    let (status, outcome) =
        call_with_options(connected.session, b"adele@contoso.com", &options, b"");
    assert_eq!(status, GraphStatus::Ok, "{outcome}");
    let exchange = &outcome["exchange"];
    assert_eq!(exchange["status"], 200);
    let text = exchange.to_string();
    assert!(text.contains("Bearer [redacted]"), "{text}");
    let sent = connected.server.requests()[0]
        .header("authorization")
        .expect("authorization")
        .to_owned();
    assert!(!text.contains(sent.trim_start_matches("Bearer ")), "{text}");
}

#[test]
fn the_three_step_path_sends_the_token_only_to_the_graph_endpoint() {
    let connected = connect();
    let user = b"adele@contoso.com";
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: live pointers.
    let status = unsafe {
        graph_prepare_revocation(
            connected.session,
            INVALIDATE.as_ptr(),
            INVALIDATE.len(),
            user.as_ptr(),
            user.len(),
            ptr::null(),
            0,
            &mut out,
        )
    };
    let mut request = take(out);
    assert_eq!(status, GraphStatus::Ok, "{request}");
    assert!(!request.to_string().to_lowercase().contains("authorization"));

    let send = |request: &Value| {
        let text = request.to_string();
        let mut out = GraphBuffer::EMPTY;
        // SAFETY: live pointers.
        let status = unsafe {
            graph_send(
                connected.session,
                text.as_ptr(),
                text.len(),
                ptr::null(),
                0,
                ptr::null(),
                0,
                ptr::null(),
                &mut out,
            )
        };
        (status, take(out))
    };
    let (status, response) = send(&request);
    assert_eq!(status, GraphStatus::Ok, "{response}");
    let request_text = request.to_string();
    let response_text = response.to_string();
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: live pointers.
    let status = unsafe {
        graph_interpret_revocation(
            request_text.as_ptr(),
            request_text.len(),
            response_text.as_ptr(),
            response_text.len(),
            &mut out,
        )
    };
    let outcome = take(out);
    assert_eq!(status, GraphStatus::Ok, "{outcome}");
    assert_eq!(outcome["value"], true);

    request["url"] =
        json!("http://127.0.0.2:9/beta/users/adele@contoso.com/invalidateAllRefreshTokens");
    let (status, error) = send(&request);
    assert_eq!(status, GraphStatus::Error);
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("outside the Graph endpoint")
    );
    assert_eq!(connected.server.requests().len(), 1);
}

#[test]
fn no_options_mean_the_defaults() {
    let connected = connect();
    // The shim's plain call: options (null, 0) and no proxy password.
    let (status, outcome) = revoke(connected.session, b"adele@contoso.com", ptr::null());
    assert_eq!(status, GraphStatus::Ok, "{outcome}");
    assert!(
        outcome.get("exchange").is_none(),
        "no trace unless asked for: {outcome}"
    );
    let sent = &connected.server.requests()[0];
    assert!(sent.header("client-request-id").is_some());
    assert!(sent.header("x-ms-throttle-priority").is_none());
}

#[test]
fn every_session_export_checks_session_then_subject_then_options() {
    let connected = connect();
    let bad_options = r#"{"bogus":true}"#;
    let kind_and_message = |error: &Value| {
        (
            error["kind"].as_str().unwrap_or_default().to_owned(),
            error["message"].as_str().unwrap_or_default().to_owned(),
        )
    };

    let (status, error) = call_with_options(ptr::null(), &[0xff], bad_options, b"");
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(kind_and_message(&error).0, "NotConnected");

    let (status, error) = call_with_options(connected.session, &[0xff], bad_options, b"");
    assert_eq!(status, GraphStatus::Error);
    let (kind, message) = kind_and_message(&error);
    assert_eq!(kind, "InvalidArgument");
    assert!(message.contains("user id"), "{message}");

    let (status, error) =
        call_with_options(connected.session, b"adele@contoso.com", bad_options, b"");
    assert_eq!(status, GraphStatus::Error);
    assert!(
        kind_and_message(&error).1.contains("request options"),
        "{error}"
    );

    let user = b"adele@contoso.com";
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: live pointers.
    let status = unsafe {
        graph_prepare_revocation(
            connected.session,
            INVALIDATE.as_ptr(),
            INVALIDATE.len(),
            user.as_ptr(),
            user.len(),
            bad_options.as_ptr(),
            bad_options.len(),
            &mut out,
        )
    };
    assert_eq!(status, GraphStatus::Error);
    assert!(take(out)["message"].to_string().contains("request options"));

    let request = b"{not json";
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: live pointers.
    let status = unsafe {
        graph_send(
            connected.session,
            request.as_ptr(),
            request.len(),
            bad_options.as_ptr(),
            bad_options.len(),
            ptr::null(),
            0,
            ptr::null(),
            &mut out,
        )
    };
    assert_eq!(status, GraphStatus::Error);
    let message = take(out)["message"].to_string();
    assert!(message.contains("the request is not valid"), "{message}");
    assert!(
        connected.server.requests().is_empty(),
        "nothing may be sent for bad input"
    );
}

fn graph_request_call(
    session: *const GraphSession,
    request: &[u8],
    body: (*const u8, usize),
) -> (GraphStatus, Value) {
    let mut out = GraphBuffer::EMPTY;
    // SAFETY: all pointers are null or live for the call; a null body has length 0 unless a
    // test means to pass a bad pair.
    let status = unsafe {
        graph_ffi::graph_request_exports::graph_request(
            session,
            request.as_ptr(),
            request.len(),
            body.0,
            body.1,
            ptr::null(),
            0,
            ptr::null(),
            0,
            ptr::null(),
            &mut out,
        )
    };
    (status, take(out))
}

#[test]
fn a_generic_request_crosses_with_its_body_and_answers_in_base64() {
    let connected = connect();
    let request = json!({"method": "POST", "uri": "v1.0/mock/echo", "headers": [["Content-Type", "text/plain"]]}).to_string();
    let body = b"hello";
    let (status, answer) = graph_request_call(
        connected.session,
        request.as_bytes(),
        (body.as_ptr(), body.len()),
    );
    assert_eq!(status, GraphStatus::Ok, "{answer}");
    assert_eq!(answer["status"], 200);
    let encoded = answer["body"].as_str().expect("base64 body");
    assert!(
        !encoded.contains('{'),
        "the body travels as base64: {encoded}"
    );
    assert!(answer.get("error").is_none());

    let request = json!({"method": "GET", "uri": "https://evil.example/v1.0/me"}).to_string();
    let (status, error) =
        graph_request_call(connected.session, request.as_bytes(), (ptr::null(), 0));
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(error["kind"], "OutsideGraphEndpoint");
}

#[test]
fn a_generic_request_checks_session_then_request_then_body() {
    let request = br#"{"method":"GET","uri":"v1.0/mock/echo"}"#;
    let (status, error) = graph_request_call(ptr::null(), request, (ptr::null(), 0));
    assert_eq!(status, GraphStatus::Error);
    assert_eq!(error["kind"], "NotConnected");

    let connected = connect();
    let (_, error) = graph_request_call(connected.session, b"{not json", (ptr::null(), 0));
    assert_eq!(error["kind"], "InvalidArgument");
    let (_, error) = graph_request_call(connected.session, request, (ptr::null(), 3));
    assert_eq!(error["kind"], "InvalidArgument");
    assert!(
        error["message"].as_str().expect("message").contains("body"),
        "{error}"
    );
}
