//! `pwsh-host`: PowerShell driven from Rust. The crate finds a PowerShell installation (the
//! `pwsh` .NET global tool, a `$PSHOME` folder, or a path it is given), starts .NET itself
//! through `netcorehost` (hostfxr loaded by path, never downloaded), loads the small managed
//! bridge in `host/bridge/`, and runs PowerShell in-process: runspaces, modules, commands and
//! scripts, with every record streamed back as JSON (output objects, errors with their ids and
//! categories, warnings, verbose, debug and information lines).
//!
//! ```no_run
//! use pwsh_host::{HostConfig, Request};
//! # fn main() -> Result<(), pwsh_host::HostError> {
//! let host = pwsh_host::start(&HostConfig::default())?;
//! let runspace = host.open_runspace()?;
//! runspace.import_module(&pwsh_host::module::find_built_module()?)?;
//! let result = runspace.invoke(&Request::command("Get-MgEnvironment").parameter("Name", "Global"))?;
//! println!("{}", result.output[0].value);
//! # Ok(()) }
//! ```
//!
//! How it is built, and the pitfalls it designs out (see `shared/reference/interop.md`):
//!
//! - **Once per process.** .NET can be started once in a process, so [`start`] starts it on
//!   first use and hands out the same `&'static Host` afterwards; asking for a different
//!   PowerShell later is an error ([`HostError::AlreadyStarted`]), not a second runtime.
//! - **Signal stacks.** CLR exceptions are signals on Unix, and Rust's 8 KiB alternate signal
//!   stack is too small on machines with large signal frames: every thread this crate lets into
//!   managed code disables it first (`netcorehost::utils::altstack`), and .NET installs its own.
//! - **Thread affinity.** Each [`Runspace`] owns one thread that opens it and runs every
//!   invocation (PowerShell's `UseCurrentThread`), so PowerShell never sees two threads and no
//!   PowerShell-created thread exists whose unhandled exception could end the process; callers
//!   on any thread are queued. Records stream back to the caller's thread while the script runs.
//! - **Nothing escapes the boundary.** Every bridge entry point catches everything and reports
//!   through a callback; the Rust callback catches panics. Memory crosses only as borrowed
//!   UTF-8 JSON valid during the callback, so neither side frees what the other allocated.
//!
//! Not handled yet: a self-contained PowerShell without a shared .NET runtime beside it (the
//! host needs `dotnet`; only the global-tool layout is verified), PowerShell older than 7.6
//! (the bridge targets .NET 10 and PowerShell 7.6.9), and remote runspaces.

pub mod bridge;
pub mod dotnet;
pub mod error;
pub mod locate;
pub mod module;
pub mod records;
pub mod request;
pub mod runspace;
pub mod runtime;

pub use error::HostError;
pub use locate::{PowerShellInstall, Source};
pub use records::{
    Completion, ErrorRecord, InformationRecord, Invocation, MessageRecord, OutputRecord, Record,
};
pub use request::Request;
pub use runspace::{Runspace, Stopper};
pub use runtime::{Host, HostConfig, PowerShellInfo, start};
