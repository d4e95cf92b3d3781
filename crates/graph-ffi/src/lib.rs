//! The C ABI that the PowerShell module's C# shim calls: the only crate with `extern "C"`.
//!
//! Rules every export follows (see `ARCHITECTURE.md`):
//! - handles are opaque pointers created and freed here; freeing null is harmless;
//! - strings cross as UTF-8 pointer + length, borrowed for the duration of the call;
//! - every result is written to one caller-provided [`GraphBuffer`] as UTF-8 JSON (the
//!   answer, or a `GraphError` when the status is not `Ok`), which the caller frees with
//!   [`graph_buffer_free`];
//! - no panic crosses the boundary: [`boundary::guard`] catches it and reports it as an
//!   `Internal` error, and the panic hook keeps it off the host's stderr;
//! - long calls take a [`cancel_exports::GraphCancel`] that another thread may signal.
//!
//! The C# declarations in `module/src/Native/NativeMethods.g.cs` are generated from these
//! files by `build.rs`.

mod boundary;
pub mod buffer;
pub mod bulk_exports;
pub mod cancel_exports;
pub mod delegated_exports;
pub mod environment_exports;
pub mod graph_request_exports;
pub mod request_context_exports;
mod request_options;
pub mod revoke_exports;
pub mod session_exports;
pub mod signin_exports;
pub mod status;
