//! The status every export returns, and the ABI version the shim checks when it loads.

/// Outcome of an export. With `Error` the buffer holds a `GraphError` as JSON.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphStatus {
    Ok = 0,
    Error = 1,
    /// The out-buffer pointer was null, so nothing could be reported.
    NullOutBuffer = 2,
}

/// Bumped whenever an export's signature or JSON contract changes; the shim refuses a
/// native library whose version differs from the one it was built against.
pub const GRAPH_ABI_VERSION: u32 = 8;

/// The ABI version of this library.
#[unsafe(no_mangle)]
pub extern "C" fn graph_abi_version() -> u32 {
    GRAPH_ABI_VERSION
}
