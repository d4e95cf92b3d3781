//! Cancellation handles: the shim creates one per cmdlet invocation and signals it from
//! `StopProcessing` (Ctrl+C), which PowerShell calls on another thread.

use graph_core::CancellationToken;

use crate::boundary::guard_void;

/// Opaque cancellation handle.
pub struct GraphCancel {
    pub(crate) token: CancellationToken,
}

/// Creates a cancellation handle; free it with [`graph_cancel_free`].
#[unsafe(no_mangle)]
pub extern "C" fn graph_cancel_new() -> *mut GraphCancel {
    Box::into_raw(Box::new(GraphCancel {
        token: CancellationToken::new(),
    }))
}

/// Cancels every call that was given this handle; safe from any thread, idempotent.
///
/// # Safety
/// `cancel` must be null or a live handle from [`graph_cancel_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_cancel_signal(cancel: *const GraphCancel) {
    guard_void(|| {
        // SAFETY: null or live, per the contract.
        if let Some(cancel) = unsafe { cancel.as_ref() } {
            cancel.token.cancel();
        }
    });
}

/// Frees a cancellation handle. Null is harmless.
///
/// # Safety
/// `cancel` must be null or a handle from [`graph_cancel_new`] not freed before, and no
/// call may still be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_cancel_free(cancel: *mut GraphCancel) {
    guard_void(|| {
        if !cancel.is_null() {
            // SAFETY: created by `Box::into_raw` in `graph_cancel_new`, freed once.
            drop(unsafe { Box::from_raw(cancel) });
        }
    });
}

/// The token behind a handle; a null handle means "not cancellable".
///
/// # Safety
/// `cancel` must be null or a live handle.
pub(crate) unsafe fn token_of(cancel: *const GraphCancel) -> CancellationToken {
    // SAFETY: null or live, per the contract.
    match unsafe { cancel.as_ref() } {
        Some(cancel) => cancel.token.clone(),
        None => CancellationToken::new(),
    }
}
