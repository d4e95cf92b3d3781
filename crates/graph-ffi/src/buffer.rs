//! Bytes handed from Rust to the caller, and borrowed input read from the caller.

use graph_core::GraphError;

/// UTF-8 bytes owned by this library until the caller returns them to [`graph_buffer_free`].
#[repr(C)]
#[derive(Debug)]
pub struct GraphBuffer {
    pub ptr: *mut u8,
    pub len: usize,
}

impl GraphBuffer {
    pub const EMPTY: GraphBuffer = GraphBuffer {
        ptr: std::ptr::null_mut(),
        len: 0,
    };

    pub(crate) fn from_vec(bytes: Vec<u8>) -> GraphBuffer {
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        let ptr = Box::into_raw(boxed).cast::<u8>();
        GraphBuffer { ptr, len }
    }
}

/// Frees a buffer this library returned. Freeing an empty buffer is harmless.
///
/// # Safety
/// `buffer` must be a value this library wrote and not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_buffer_free(buffer: GraphBuffer) {
    if buffer.ptr.is_null() {
        return;
    }
    // SAFETY: ptr/len come from `GraphBuffer::from_vec`, which leaked a boxed slice of
    // exactly `len` bytes; the caller promises it is freed once.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(buffer.ptr, buffer.len)) });
}

/// Borrows caller bytes: null with length 0 is an empty slice, null with a length is refused.
///
/// # Safety
/// When not null, `ptr` must point to `len` readable bytes that live for the call.
pub(crate) unsafe fn input_bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], GraphError> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(GraphError::invalid_argument(format!(
                "{what} is a null pointer with length {len}"
            )))
        };
    }
    // SAFETY: not null, and the caller promises `len` readable bytes for the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows caller text, refusing bytes that are not UTF-8.
///
/// # Safety
/// As for [`input_bytes`].
pub(crate) unsafe fn input_str<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a str, GraphError> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { input_bytes(ptr, len, what) }?;
    std::str::from_utf8(bytes)
        .map_err(|_| GraphError::invalid_argument(format!("{what} is not valid UTF-8")))
}

/// Reads caller JSON (UTF-8) into `T`; `what` names it in the error ("the request").
///
/// # Safety
/// As for [`input_bytes`].
pub(crate) unsafe fn input_json<T: serde::de::DeserializeOwned>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<T, GraphError> {
    // SAFETY: forwarded contract.
    let text = unsafe { input_str(ptr, len, what) }?;
    serde_json::from_str(text)
        .map_err(|error| GraphError::invalid_argument(format!("{what} is not valid: {error}")))
}

/// Refuses a null out-pointer before any work is done, so nothing is made that cannot be handed over.
pub(crate) fn require_out<T>(ptr: *mut T, name: &str) -> Result<(), GraphError> {
    if ptr.is_null() {
        return Err(GraphError::invalid_argument(format!(
            "{name} is a null pointer"
        )));
    }
    Ok(())
}
