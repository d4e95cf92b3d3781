//! The revocation call: in one step, or in three so the shim can run a script's
//! `-HttpPipelinePrepend`/`-HttpPipelineAppend` steps on the real request and response.

use graph_core::runtime::block_on_cancellable;
use graph_core::{
    GraphError, PreparedRequest, RawResponse, RequestOptions, RevocationAction, Session, UserId,
    interpret_revocation,
};

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_json, input_str};
use crate::cancel_exports::{GraphCancel, token_of};
use crate::request_options::read_options;
use crate::session_exports::{GraphSession, session_ref};
use crate::status::GraphStatus;

/// Signs one user out with `action` (`invalidateAllRefreshTokens` or `revokeSignInSessions`,
/// UTF-8) and writes the `RevocationOutcome` as JSON. `options` is JSON `{"headers":[[name,value]],"proxy":{"url","username"},"trace":bool}`, or
/// empty (null, 0) for the defaults, which is what a plain call passes so nothing is parsed;
/// `proxy_password` the proxy password's UTF-8 bytes (or empty). Blocks until Graph answers or
/// `cancel` is signalled (`Cancelled`).
///
/// # Safety
/// `session` and `cancel` must be null or live handles; every pointer/length pair null with
/// length 0 or that many readable bytes; `out` null or valid for one write.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn graph_revoke(
    session: *const GraphSession,
    action: *const u8,
    action_len: usize,
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
            let (session, (action, user), options) = read_call(
                session,
                || read_action_and_user((action, action_len), (user_id, user_id_len)),
                (options, options_len),
                (proxy_password, proxy_password_len),
            )?;
            let cancel = token_of(cancel);
            block_on_cancellable(&cancel, session.revoke(&user, action, &options))
        })
    }
}

/// Writes the request that would revoke one user with `action` (a `PreparedRequest`, without
/// credential).
///
/// # Safety
/// As for [`graph_revoke`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_prepare_revocation(
    session: *const GraphSession,
    action: *const u8,
    action_len: usize,
    user_id: *const u8,
    user_id_len: usize,
    options: *const u8,
    options_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let (session, (action, user), options) = read_call(
                session,
                || read_action_and_user((action, action_len), (user_id, user_id_len)),
                (options, options_len),
                (std::ptr::null(), 0),
            )?;
            Ok(session.prepare_revocation(&user, action, &options))
        })
    }
}

/// Sends a `PreparedRequest` (JSON) with the session's token and writes the `RawResponse`.
/// The token is only sent to the session's Graph endpoint.
///
/// # Safety
/// As for [`graph_revoke`].
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
            let (session, request, options) = read_call(
                session,
                || input_json::<PreparedRequest>(request, request_len, "the request"),
                (options, options_len),
                (proxy_password, proxy_password_len),
            )?;
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
            let request: PreparedRequest = input_json(request, request_len, "the request")?;
            let response: RawResponse = input_json(response, response_len, "the response")?;
            interpret_revocation(&request, response)
        })
    }
}

/// The prologue the session-bound exports share, in the order their errors are reported: the
/// session (`NotConnected`), what the call is about (a user, a request), then the options.
///
/// # Safety
/// `session` null or a live handle; each pointer/length pair null with length 0 or that many
/// readable bytes, alive for the returned borrow.
pub(crate) unsafe fn read_call<'a, T>(
    session: *const GraphSession,
    subject: impl FnOnce() -> Result<T, GraphError>,
    (options, options_len): (*const u8, usize),
    (proxy_password, proxy_password_len): (*const u8, usize),
) -> Result<(&'a Session, T, RequestOptions), GraphError> {
    // SAFETY: forwarded contract.
    let session: &Session = unsafe { session_ref(session) }?;
    let subject = subject()?;
    // SAFETY: forwarded contract.
    let options =
        unsafe { read_options(options, options_len, proxy_password, proxy_password_len) }?;
    Ok((session, subject, options))
}

/// The action, then the user: an unknown action is reported before anything about the user.
///
/// # Safety
/// Each pair null with length 0 or that many readable bytes.
unsafe fn read_action_and_user(
    (action, action_len): (*const u8, usize),
    (user_id, user_id_len): (*const u8, usize),
) -> Result<(RevocationAction, UserId), GraphError> {
    // SAFETY: forwarded contract.
    let action = RevocationAction::parse(unsafe { input_str(action, action_len, "the action") }?)?;
    // SAFETY: forwarded contract.
    let user = UserId::parse(unsafe { input_str(user_id, user_id_len, "the user id") }?)?;
    Ok((action, user))
}
