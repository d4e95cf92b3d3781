//! `Set-MgRequestContext` / `Get-MgRequestContext`: retry and timeout settings of the process.

use graph_core::RequestContext;

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_json};
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
            let context: RequestContext = input_json(context, context_len, "the request context")?;
            RequestContext::set(context)
        })
    }
}
