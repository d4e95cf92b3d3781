//! Delegated sign-in (`Connect-MgGraph -Scopes`), in two steps so the shim can show the device
//! code message on the pipeline thread before it waits: `graph_device_code_start` asks Entra
//! for the code and returns the message, `graph_device_code_complete` polls until the user
//! signed in (or Ctrl+C signals `cancel`), `graph_device_code_free` drops the pending code.

use graph_core::{DelegatedSignInConfig, DeviceCodeSignIn, GraphError, sign_in_from_cache};
use serde::Serialize;

use crate::boundary::{guard, guard_void};
use crate::buffer::{GraphBuffer, input_json, require_out};
use crate::cancel_exports::{GraphCancel, token_of};
use crate::session_exports::GraphSession;
use crate::signin_exports::publish;
use crate::status::GraphStatus;

/// Opaque pending device code sign-in.
pub struct GraphDeviceCode {
    pending: DeviceCodeSignIn,
}

/// Asks Entra for a device code. `config` is a JSON `DelegatedSignInConfig` (`environment`,
/// `clientId`, `tenantId`, `scopes`, `contextScope`). On success `*pending_out` receives the
/// handle and `out` `{message, userCode, verificationUri, expiresIn}`.
///
/// # Safety
/// `config` null with length 0 or that many readable bytes; `cancel` null or a live handle;
/// `pending_out` and `out` null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_device_code_start(
    config: *const u8,
    config_len: usize,
    cancel: *const GraphCancel,
    pending_out: *mut *mut GraphDeviceCode,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            require_out(pending_out, "pending_out")?;
            let config = read_config(config, config_len)?;
            let pending = DeviceCodeSignIn::start(&config, &token_of(cancel))?;
            let prompt = pending.prompt().clone();
            pending_out.write(Box::into_raw(Box::new(GraphDeviceCode { pending })));
            Ok(prompt)
        })
    }
}

/// Waits for the user to sign in with the code, polling Entra; returns when they did (session
/// in `*session_out`, context in `out`), refused, the code expired, or `cancel` fired.
///
/// # Safety
/// `pending` null or a live handle; `cancel` null or a live handle; `session_out` and `out`
/// null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_device_code_complete(
    pending: *const GraphDeviceCode,
    cancel: *const GraphCancel,
    session_out: *mut *mut GraphSession,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            require_out(session_out, "session_out")?;
            let pending = pending.as_ref().ok_or_else(|| {
                GraphError::invalid_argument("the pending device code handle is null")
            })?;
            let session = pending.pending.complete(&token_of(cancel))?;
            Ok(publish(session, session_out))
        })
    }
}

/// The answer of [`graph_session_open_from_cache`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CachedSignInAnswer {
    /// The context when the token cache had a usable sign-in; null otherwise.
    context: Option<graph_core::session::SessionContext>,
    notes: Vec<String>,
    warnings: Vec<String>,
}

/// Signs in silently from the CurrentUser token cache (no device code). `config` as for
/// [`graph_device_code_start`]. `out` receives `{context, notes, warnings}`: with a non-null
/// `context`, `*session_out` holds the new session; with null, nothing usable was saved (or the
/// scope is Process) and `*session_out` is left untouched.
///
/// # Safety
/// As for [`graph_device_code_start`], with `session_out` instead of `pending_out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_session_open_from_cache(
    config: *const u8,
    config_len: usize,
    cancel: *const GraphCancel,
    session_out: *mut *mut GraphSession,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            require_out(session_out, "session_out")?;
            let config = read_config(config, config_len)?;
            let outcome = sign_in_from_cache(&config, &token_of(cancel))?;
            let context = outcome.session.map(|session| publish(session, session_out));
            Ok(CachedSignInAnswer {
                context,
                notes: outcome.notes,
                warnings: outcome.warnings,
            })
        })
    }
}

/// Frees a pending device code. Null is harmless.
///
/// # Safety
/// `pending` null or a handle from [`graph_device_code_start`], not freed before, not in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_device_code_free(pending: *mut GraphDeviceCode) {
    guard_void(|| {
        if !pending.is_null() {
            // SAFETY: created by `Box::into_raw` in `graph_device_code_start`, freed once.
            drop(unsafe { Box::from_raw(pending) });
        }
    });
}

/// # Safety
/// `config` null with length 0 or `config_len` readable bytes.
pub(crate) unsafe fn read_config(
    config: *const u8,
    config_len: usize,
) -> Result<DelegatedSignInConfig, GraphError> {
    // SAFETY: forwarded contract.
    unsafe { input_json(config, config_len, "the sign-in configuration") }
}
