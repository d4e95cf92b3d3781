//! The revocation call: in one step, or in three so the shim can run a script's
//! `-HttpPipelinePrepend`/`-HttpPipelineAppend` steps on the real request and response.

use graph_core::runtime::block_on_cancellable;
use graph_core::{GraphError, PreparedRequest, RawResponse, UserId, interpret_revocation};

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_str};
use crate::cancel_exports::{GraphCancel, token_of};
use crate::request_options::read_options;
use crate::session_exports::{GraphSession, session_ref};
use crate::status::GraphStatus;

/// Invalidates all refresh tokens of one user and writes the `RevocationOutcome` as JSON.
/// `options` is JSON `{"headers":[[name,value]],"proxy":{"url","username"},"trace":bool}` (or
/// empty); `proxy_password` the proxy password's UTF-8 bytes (or empty). Blocks until Graph
/// answers or `cancel` is signalled (`Cancelled`).
///
/// # Safety
/// `session` and `cancel` must be null or live handles; every pointer/length pair null with
/// length 0 or that many readable bytes; `out` null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_invalidate_all_refresh_tokens(
    session: *const GraphSession,
    user_id: *const u8,
    user_id_len: usize,
    options: *const u8,
    options_len: usize,
    proxy_password: *const u8,
    proxy_password_len: usize,
    cancel: *const GraphCancel,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let session = session_ref(session)?;
            let user = UserId::parse(input_str(user_id, user_id_len, "the user id")?)?;
            let options = read_options(options, options_len, proxy_password, proxy_password_len)?;
            let cancel = token_of(cancel);
            block_on_cancellable(
                &cancel,
                session.invalidate_all_refresh_tokens(&user, &options),
            )
        })
    }
}

/// Writes the request that would revoke one user (a `PreparedRequest`, without credential).
///
/// # Safety
/// As for [`graph_invalidate_all_refresh_tokens`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_prepare_revocation(
    session: *const GraphSession,
    user_id: *const u8,
    user_id_len: usize,
    options: *const u8,
    options_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let session = session_ref(session)?;
            let user = UserId::parse(input_str(user_id, user_id_len, "the user id")?)?;
            let options = read_options(options, options_len, std::ptr::null(), 0)?;
            Ok(session.prepare_revocation(&user, &options))
        })
    }
}

/// Sends a `PreparedRequest` (JSON) with the session's token and writes the `RawResponse`.
/// The token is only sent to the session's Graph endpoint.
///
/// # Safety
/// As for [`graph_invalidate_all_refresh_tokens`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_send(
    session: *const GraphSession,
    request: *const u8,
    request_len: usize,
    options: *const u8,
    options_len: usize,
    proxy_password: *const u8,
    proxy_password_len: usize,
    cancel: *const GraphCancel,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let session = session_ref(session)?;
            let request: PreparedRequest =
                parse_json(input_str(request, request_len, "the request")?, "request")?;
            let options = read_options(options, options_len, proxy_password, proxy_password_len)?;
            let cancel = token_of(cancel);
            block_on_cancellable(&cancel, session.send(&request, &options))
        })
    }
}

/// Reads a `RawResponse` (JSON) to the `PreparedRequest` (JSON) that produced it, as a
/// revocation answer: writes a `RevocationOutcome`, or a `GraphError` with status `Error`.
///
/// # Safety
/// Pointer/length pairs null with length 0 or that many readable bytes; `out` null or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_interpret_revocation(
    request: *const u8,
    request_len: usize,
    response: *const u8,
    response_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let request: PreparedRequest =
                parse_json(input_str(request, request_len, "the request")?, "request")?;
            let response: RawResponse = parse_json(
                input_str(response, response_len, "the response")?,
                "response",
            )?;
            interpret_revocation(&request, response)
        })
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, GraphError> {
    serde_json::from_str(text)
        .map_err(|error| GraphError::invalid_argument(format!("the {what} is not valid: {error}")))
}
