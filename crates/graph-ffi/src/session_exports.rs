//! Sign-in contexts: `Connect-MgGraph` opens one, `Get-MgContext` reads it,
//! `Disconnect-MgGraph` frees it.

use std::sync::Arc;

use graph_core::{GraphError, Session, SessionConfig};

use crate::boundary::{guard, guard_void};
use crate::buffer::{GraphBuffer, input_bytes, input_json, require_out};
use crate::status::GraphStatus;

/// Opaque sign-in context. Shared (`Arc`) so work in flight keeps it alive.
pub struct GraphSession {
    pub(crate) session: Arc<Session>,
}

/// Opens a session with a caller-supplied access token. `config` is a JSON
/// `SessionConfig`; `token` is the token's UTF-8 bytes, copied into zeroizing memory (the
/// caller wipes its own copy). On success `*session_out` receives the handle and `out`
/// the context as JSON.
///
/// # Safety
/// `config` and `token` must each be null with length 0 or point to that many readable
/// bytes; `session_out` must be null or valid for one write; `out` likewise.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_session_open_with_access_token(
    config: *const u8,
    config_len: usize,
    token: *const u8,
    token_len: usize,
    session_out: *mut *mut GraphSession,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            require_out(session_out, "session_out")?;
            let config: SessionConfig =
                input_json(config, config_len, "the session configuration")?;
            let token = input_bytes(token, token_len, "the access token")?;
            let session = Session::connect_with_access_token(&config, token)?;
            let context = session.context();
            let handle = Box::into_raw(Box::new(GraphSession {
                session: Arc::new(session),
            }));
            session_out.write(handle);
            Ok(context)
        })
    }
}

/// Writes the context of a session (environment, tenant, client, account, scopes) as JSON.
///
/// # Safety
/// `session` must be null or a live handle; `out` must be null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_session_context(
    session: *const GraphSession,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe { guard(out, || Ok(session_ref(session)?.context())) }
}

/// Signs a session out: a delegated sign-in forgets its refresh token, in the CurrentUser
/// token cache too. An error means the cache entry could not be removed (the session has
/// forgotten the token all the same). The handle stays valid until [`graph_session_free`].
///
/// # Safety
/// `session` must be null or a live handle; `out` must be null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_session_forget(
    session: *const GraphSession,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            session_ref(session)?.forget()?;
            Ok(serde_json::json!({}))
        })
    }
}

/// Frees a session. Null is harmless.
///
/// # Safety
/// `session` must be null or a handle from this library, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_session_free(session: *mut GraphSession) {
    guard_void(|| {
        if !session.is_null() {
            // SAFETY: created by `Box::into_raw` in `graph_session_open_*`, freed once.
            drop(unsafe { Box::from_raw(session) });
        }
    });
}

/// # Safety
/// `session` must be null or a live handle.
pub(crate) unsafe fn session_ref<'a>(
    session: *const GraphSession,
) -> Result<&'a Arc<Session>, GraphError> {
    // SAFETY: null or live, per the contract.
    unsafe { session.as_ref() }
        .map(|handle| &handle.session)
        .ok_or_else(|| {
            GraphError::new(
                graph_core::ErrorKind::NotConnected,
                "Authentication needed. Please call Connect-MgGraph.",
            )
        })
}
