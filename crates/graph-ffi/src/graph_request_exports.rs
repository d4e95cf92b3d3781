//! `Invoke-MgGraphRequest`'s one call: any Graph request on the session's Graph origin.

use graph_core::GraphRequest;
use graph_core::runtime::block_on_cancellable;

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_bytes, input_json};
use crate::cancel_exports::{GraphCancel, token_of};
use crate::revoke_exports::read_call;
use crate::session_exports::GraphSession;
use crate::status::GraphStatus;

/// Sends one request and writes Graph's answer (a `GraphAnswer`: status, headers, the body in
/// base64, and Graph's cleaned error when the status is not 2xx) whatever the status; a request
/// that could not be sent (not connected, a URI off the Graph origin, a network failure) is a
/// `GraphError` with status `Error`. `request` is JSON `{"method","uri","headers":[[n,v]]}`;
/// `body` the body's bytes (empty for none); `options` and `proxy_password` as for
/// `graph_revoke`. Blocks until Graph answers or `cancel` is signalled.
///
/// # Safety
/// `session` and `cancel` must be null or live handles; every pointer/length pair null with
/// length 0 or that many readable bytes; `out` null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_request(
    session: *const GraphSession,
    request: *const u8,
    request_len: usize,
    body: *const u8,
    body_len: usize,
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
            let (session, (request, body), options) = read_call(
                session,
                || {
                    let request: GraphRequest = input_json(request, request_len, "the request")?;
                    Ok((request, input_bytes(body, body_len, "the request body")?))
                },
                (options, options_len),
                (proxy_password, proxy_password_len),
            )?;
            let cancel = token_of(cancel);
            block_on_cancellable(&cancel, session.graph_request(&request, body, &options))
        })
    }
}
