//! `Set-MgRequestContext` / `Get-MgRequestContext`: retry and timeout settings of the process.

use graph_core::{GraphError, RequestContext};

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_str};
use crate::status::GraphStatus;

/// Writes the current `RequestContext` as JSON.
///
/// # Safety
/// `out` must be null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_request_context_get(out: *mut GraphBuffer) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe { guard(out, || Ok(RequestContext::current())) }
}

/// Replaces the `RequestContext` with the JSON given (every field required) and writes it back.
///
/// # Safety
/// `context` null with length 0 or `context_len` readable bytes; `out` null or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_request_context_set(
    context: *const u8,
    context_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let text = input_str(context, context_len, "the request context")?;
            let context: RequestContext = serde_json::from_str(text).map_err(|error| {
                GraphError::invalid_argument(format!("the request context is not valid: {error}"))
            })?;
            RequestContext::set(context)
        })
    }
}
