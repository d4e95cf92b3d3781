//! The error funnel at the C ABI: results and errors become JSON, panics become errors.
//!
//! A panic unwinding into C# would abort the process, and with it the user's whole
//! PowerShell session, so every export runs its body through [`guard`] (or [`guard_void`]).
//! The default panic hook would also print to the host's stderr; ours records the message
//! so it can travel back inside the error instead.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use graph_core::{ErrorKind, GraphError};
use serde::Serialize;

use crate::buffer::GraphBuffer;
use crate::status::GraphStatus;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|location| format!(" at {}:{}", location.file(), location.line()))
                .unwrap_or_default();
            let message = format!("{}{location}", panic_message(info.payload()));
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(message));
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Runs an export's body and writes its answer (or its error) to `out` as JSON.
///
/// # Safety
/// `out` must be null or valid for one write of a [`GraphBuffer`].
pub(crate) unsafe fn guard<T: Serialize>(
    out: *mut GraphBuffer,
    work: impl FnOnce() -> Result<T, GraphError>,
) -> GraphStatus {
    if out.is_null() {
        return GraphStatus::NullOutBuffer;
    }
    install_panic_hook();
    let outcome = catch_unwind(AssertUnwindSafe(|| match work() {
        Ok(value) => serde_json::to_vec(&value)
            .map(|json| (GraphStatus::Ok, json))
            .map_err(|error| internal(format!("the answer could not be serialized: {error}"))),
        Err(error) => Ok((GraphStatus::Error, error_json(&error))),
    }));
    let (status, json) = match outcome {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => (GraphStatus::Error, error_json(&error)),
        Err(payload) => {
            let message = LAST_PANIC
                .with(|last| last.borrow_mut().take())
                .unwrap_or_else(|| panic_message(payload.as_ref()));
            let error = internal(format!(
                "internal error in the native library ({message}); the session is intact, please report this"
            ));
            (GraphStatus::Error, error_json(&error))
        }
    };
    // SAFETY: `out` is not null and the caller promises it is valid for one write.
    unsafe { out.write(GraphBuffer::from_vec(json)) };
    status
}

/// For exports that report nothing (frees, signals): a panic is swallowed, never unwound.
pub(crate) fn guard_void(work: impl FnOnce()) {
    install_panic_hook();
    let _ = catch_unwind(AssertUnwindSafe(work));
}

fn internal(message: String) -> GraphError {
    GraphError::new(ErrorKind::Internal, message)
}

/// The error as JSON, after the engine's one cleaning pass: nothing from the network reaches
/// PowerShell with a secret or a terminal control sequence in it.
fn error_json(error: &GraphError) -> Vec<u8> {
    serde_json::to_vec(&error.clone().for_display()).unwrap_or_else(|_| {
        br#"{"kind":"Internal","message":"an error could not be serialized"}"#.to_vec()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::graph_buffer_free;

    fn run(
        work: impl FnOnce() -> Result<serde_json::Value, GraphError>,
    ) -> (GraphStatus, serde_json::Value) {
        let mut out = GraphBuffer::EMPTY;
        // SAFETY: `out` is a valid local.
        let status = unsafe { guard(&mut out, work) };
        // SAFETY: written by `guard` just above, read once, then freed once.
        let json = unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec();
        // SAFETY: freed once.
        unsafe { graph_buffer_free(out) };
        (status, serde_json::from_slice(&json).expect("json"))
    }

    #[test]
    fn answer_is_written_as_json() {
        let (status, json) = run(|| Ok(serde_json::json!({"value": true})));
        assert_eq!(status, GraphStatus::Ok);
        assert_eq!(json, serde_json::json!({"value": true}));
    }

    #[test]
    fn error_is_written_as_json() {
        let (status, json) = run(|| Err(GraphError::invalid_argument("bad id")));
        assert_eq!(status, GraphStatus::Error);
        assert_eq!(json["kind"], "InvalidArgument");
        assert_eq!(json["message"], "bad id");
    }

    #[test]
    fn panic_becomes_an_internal_error_with_its_message() {
        let (status, json) = run(|| panic!("boom in the core"));
        assert_eq!(status, GraphStatus::Error);
        assert_eq!(json["kind"], "Internal");
        let message = json["message"].as_str().expect("message");
        assert!(message.contains("boom in the core"), "{message}");
        assert!(message.contains("boundary.rs"), "{message}");
    }

    #[test]
    fn null_out_buffer_is_reported_without_running_the_work() {
        let mut ran = false;
        // SAFETY: null is allowed.
        let status = unsafe {
            guard(std::ptr::null_mut(), || {
                ran = true;
                Ok(1)
            })
        };
        assert_eq!(status, GraphStatus::NullOutBuffer);
        assert!(!ran);
    }

    #[test]
    fn panic_in_a_void_export_is_swallowed() {
        guard_void(|| panic!("nobody hears this"));
    }
}
