//! The boundary with the managed bridge (`host/bridge/`, C#): where its files are, the
//! signatures of its `[UnmanagedCallersOnly]` entry points (mirrored from `Exports.cs`), and the
//! callback through which it answers. This is the only module that calls into .NET.
//!
//! The contract: every entry point returns a status (0 = done) and reports everything else
//! through [`receive`] as UTF-8 JSON that the bridge owns and that is valid only during the
//! callback, so it is copied here and nothing is freed across the boundary. The callback runs on
//! the thread that made the call (PowerShell runs on the caller's thread), catches panics, and
//! every thread disables Rust's alternate signal stack before its first managed call.
//!
//! Bridge files are looked for at `PWSH_HOST_BRIDGE` (a folder or the dll; only there when it is
//! set), else in `bridge/` beside the running executable, then in this repository's build
//! output (`host/bridge/bin/Release/net10.0/`, written by build.ps1).

use std::any::Any;
use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use netcorehost::hostfxr::{HostfxrContext, InitializedForRuntimeConfig};
use netcorehost::pdcstr;

use crate::HostError;

/// The environment variable that names the bridge's folder (or its dll).
pub const BRIDGE_VARIABLE: &str = "PWSH_HOST_BRIDGE";

/// The bridge assembly's file name.
pub const ASSEMBLY_FILE: &str = "PwshHostBridge.dll";

/// The bridge's runtime configuration, which names the .NET version to start.
pub const RUNTIME_CONFIG_FILE: &str = "PwshHostBridge.runtimeconfig.json";

/// Where build.ps1 builds the bridge, relative to the workspace root.
pub const BUILD_OUTPUT: &str = "host/bridge/bin/Release/net10.0";

/// The bridge's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeFiles {
    /// `PwshHostBridge.dll`.
    pub assembly: PathBuf,
    /// `PwshHostBridge.runtimeconfig.json`.
    pub runtime_config: PathBuf,
}

/// Finds the bridge: `given` (a folder or the dll) if set, otherwise the usual places.
pub fn find(given: Option<&Path>) -> Result<BridgeFiles, HostError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    match given {
        Some(given) => candidates.push(given.to_path_buf()),
        None => {
            // A variable that is set but wrong is an error, not a reason to look elsewhere.
            if let Some(value) = std::env::var_os(BRIDGE_VARIABLE).filter(|value| !value.is_empty())
            {
                return find(Some(Path::new(&value)));
            }
            if let Some(folder) = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(Path::to_path_buf))
            {
                candidates.push(folder.join("bridge"));
            }
            candidates.push(crate::module::workspace_root().join(BUILD_OUTPUT));
        }
    }
    let mut searched = Vec::new();
    for candidate in candidates {
        let folder = if candidate.extension().is_some_and(|ext| ext == "dll") {
            candidate
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        } else {
            candidate
        };
        let files = BridgeFiles {
            assembly: folder.join(ASSEMBLY_FILE),
            runtime_config: folder.join(RUNTIME_CONFIG_FILE),
        };
        searched.push(folder.display().to_string());
        if files.assembly.is_file() && files.runtime_config.is_file() {
            return Ok(files);
        }
    }
    Err(HostError::BridgeNotBuilt { searched })
}

/// Signature of the bridge's callback: `(context, kind, utf8, length)`.
pub(crate) type SinkFn = extern "system" fn(*mut c_void, i32, *const u8, i32);

type InitializeFn = unsafe extern "system" fn(*const u8, i32, SinkFn, *mut c_void) -> i32;
type OpenRunspaceFn = unsafe extern "system" fn(*mut i64, SinkFn, *mut c_void) -> i32;
type InvokeFn = unsafe extern "system" fn(i64, *const u8, i32, SinkFn, *mut c_void) -> i32;
type IdFn = unsafe extern "system" fn(i64) -> i32;

/// What a message from the bridge is (`MessageKind` in `Sink.cs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// One stream record of an invocation.
    Record,
    /// The answer of a call that succeeded.
    Completed,
    /// Why a call (or one record's conversion) failed: `{"kind","message"}`.
    Failure,
}

impl MessageKind {
    fn from_raw(kind: i32) -> Option<Self> {
        match kind {
            1 => Some(MessageKind::Record),
            2 => Some(MessageKind::Completed),
            3 => Some(MessageKind::Failure),
            _ => None,
        }
    }
}

/// The bridge's entry points, resolved once; plain function pointers, usable from any thread.
#[derive(Clone, Copy)]
pub(crate) struct Entrypoints {
    initialize: InitializeFn,
    open_runspace: OpenRunspaceFn,
    invoke: InvokeFn,
    stop_runspace: IdFn,
    close_runspace: IdFn,
}

impl std::fmt::Debug for Entrypoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entrypoints").finish_non_exhaustive()
    }
}

impl Entrypoints {
    /// Loads the bridge into the default load context and resolves its entry points. The default
    /// context matters: an isolated one would hold a second copy of PowerShell, and binary
    /// modules imported there come up with no commands.
    pub(crate) fn load(
        context: &HostfxrContext<InitializedForRuntimeConfig>,
        files: &BridgeFiles,
    ) -> Result<Self, HostError> {
        let path = netcorehost::pdcstring::PdCString::from_os_str(files.assembly.as_os_str())
            .map_err(|error| {
                HostError::RuntimeStart(format!(
                    "the bridge path '{}' cannot be passed to .NET ({error}): move the bridge to a path without NUL characters",
                    files.assembly.display()
                ))
            })?;
        context.load_assembly_from_path(&path).map_err(|error| {
            HostError::RuntimeStart(format!(
                "the managed bridge '{}' could not be loaded ({error}): rebuild it with ./build.ps1",
                files.assembly.display()
            ))
        })?;
        let loader = context.get_delegate_loader().map_err(|error| {
            HostError::RuntimeStart(format!(
                ".NET did not provide its function loader ({error}): use .NET 8 or later"
            ))
        })?;
        let resolve_error = |name: &str, error: &dyn std::fmt::Display| {
            HostError::RuntimeStart(format!(
                "the managed bridge '{}' has no entry point {name} ({error}): rebuild it with ./build.ps1 so it matches this host",
                files.assembly.display()
            ))
        };
        let exports = pdcstr!("PwshHost.Bridge.Exports, PwshHostBridge");
        macro_rules! entry {
            ($name:literal, $signature:ty) => {
                *loader
                    .get_function_with_unmanaged_callers_only::<$signature>(exports, pdcstr!($name))
                    .map_err(|error| resolve_error($name, &error))?
            };
        }
        Ok(Entrypoints {
            initialize: entry!(
                "Initialize",
                unsafe fn(*const u8, i32, SinkFn, *mut c_void) -> i32
            ),
            open_runspace: entry!(
                "OpenRunspace",
                unsafe fn(*mut i64, SinkFn, *mut c_void) -> i32
            ),
            invoke: entry!(
                "Invoke",
                unsafe fn(i64, *const u8, i32, SinkFn, *mut c_void) -> i32
            ),
            stop_runspace: entry!("StopRunspace", unsafe fn(i64) -> i32),
            close_runspace: entry!("CloseRunspace", unsafe fn(i64) -> i32),
        })
    }

    /// Binds the process to the PowerShell in `pshome`; answers its version info as JSON.
    pub(crate) fn initialize(&self, pshome: &Path) -> Result<Vec<u8>, HostError> {
        prepare_thread();
        let folder = pshome.to_string_lossy();
        let length = len_i32(folder.len())?;
        let mut answer = Answer::default();
        let status = with_sink(
            &mut |kind, bytes| answer.take(kind, bytes),
            |sink, context| {
                // SAFETY: `initialize` was resolved from the bridge with exactly this signature
                // (Exports.Initialize); the string is valid UTF-8 for the duration of the call, and
                // the sink and its context outlive the call (see `with_sink`).
                Ok(unsafe { (self.initialize)(folder.as_ptr(), length, sink, context) })
            },
        )?;
        answer.into_result(status)
    }

    /// Opens a runspace on the calling thread; answers its id.
    pub(crate) fn open_runspace(&self) -> Result<i64, HostError> {
        prepare_thread();
        let mut id: i64 = 0;
        let mut answer = Answer::default();
        let status = with_sink(
            &mut |kind, bytes| answer.take(kind, bytes),
            |sink, context| {
                // SAFETY: resolved with this signature (Exports.OpenRunspace); `id` is a valid,
                // writable i64 for the duration of the call; sink and context outlive it.
                Ok(unsafe { (self.open_runspace)(&mut id, sink, context) })
            },
        )?;
        answer.into_status(status).map(|_| id)
    }

    /// Runs one JSON request in runspace `id` on the calling thread. `on_record` sees each
    /// record (and each per-record failure) as it is written; the answer is the summary JSON.
    pub(crate) fn invoke(
        &self,
        id: i64,
        request: &[u8],
        on_record: &mut dyn FnMut(MessageKind, &[u8]),
    ) -> Result<Vec<u8>, HostError> {
        prepare_thread();
        let mut answer = Answer::default();
        let status = with_sink(
            &mut |kind, bytes| match kind {
                MessageKind::Record => on_record(kind, bytes),
                // One record PowerShell wrote but the bridge could not convert: the invocation
                // goes on, so it is reported as a record, not as the call's failure.
                MessageKind::Failure if is_record_failure(bytes) => on_record(kind, bytes),
                _ => answer.take(kind, bytes),
            },
            |sink, context| {
                let length = len_i32(request.len())?;
                // SAFETY: resolved with this signature (Exports.Invoke); the request bytes are
                // valid for the duration of the call; sink and context outlive it.
                Ok(unsafe { (self.invoke)(id, request.as_ptr(), length, sink, context) })
            },
        )?;
        answer.into_result(status)
    }

    /// Stops what runs in runspace `id`; may be called from any thread.
    pub(crate) fn stop_runspace(&self, id: i64) {
        prepare_thread();
        // SAFETY: resolved with this signature (Exports.StopRunspace), which takes only an id
        // and ignores unknown ones.
        let _ = unsafe { (self.stop_runspace)(id) };
    }

    /// Closes runspace `id`; closing twice is harmless.
    pub(crate) fn close_runspace(&self, id: i64) {
        prepare_thread();
        // SAFETY: resolved with this signature (Exports.CloseRunspace), which takes only an id
        // and ignores unknown ones.
        let _ = unsafe { (self.close_runspace)(id) };
    }
}

/// Disables Rust's alternate signal stack on this thread, once, before its first managed call:
/// CLR exceptions are signals on Unix, and 8 KiB is too small for the frames some CPUs push.
pub(crate) fn prepare_thread() {
    thread_local! {
        static READY: Cell<bool> = const { Cell::new(false) };
    }
    READY.with(|ready| {
        if !ready.get() {
            #[cfg(unix)]
            {
                // Failure leaves Rust's stack in place, which works on most machines; nothing
                // better can be done, so it is not an error.
                let _ = netcorehost::utils::altstack::set(
                    netcorehost::utils::altstack::State::Disabled,
                );
            }
            ready.set(true);
        }
    });
}

/// Whether a failure report is about one record (`recordConversion` in `HostedRunspace.cs`).
fn is_record_failure(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: String,
    }
    serde_json::from_slice::<Kind>(bytes).is_ok_and(|failure| failure.kind == "recordConversion")
}

/// What one call answered: its summary or its failure.
#[derive(Default)]
struct Answer {
    completed: Option<Vec<u8>>,
    failure: Option<Vec<u8>>,
}

impl Answer {
    fn take(&mut self, kind: MessageKind, bytes: &[u8]) {
        match kind {
            MessageKind::Completed => self.completed = Some(bytes.to_vec()),
            MessageKind::Failure => self.failure = Some(bytes.to_vec()),
            MessageKind::Record => {}
        }
    }

    /// The answer of a call that must answer something.
    fn into_result(self, status: i32) -> Result<Vec<u8>, HostError> {
        self.into_status(status)?.ok_or_else(|| {
            HostError::Internal("the bridge reported success without an answer".into())
        })
    }

    /// Success (with the answer, if any) or the bridge's reason for failing.
    fn into_status(self, status: i32) -> Result<Option<Vec<u8>>, HostError> {
        if status == 0 {
            return Ok(self.completed);
        }
        let Some(failure) = self.failure else {
            return Err(HostError::Internal(format!(
                "the bridge failed with status {status} and gave no reason"
            )));
        };
        #[derive(serde::Deserialize)]
        struct Failure {
            kind: String,
            message: String,
        }
        match serde_json::from_slice::<Failure>(&failure) {
            Ok(failure) => Err(HostError::Bridge {
                kind: failure.kind,
                message: failure.message,
            }),
            Err(error) => Err(HostError::Internal(format!(
                "the bridge's failure report is not valid JSON ({error})"
            ))),
        }
    }
}

/// The state behind the bridge's `context` pointer during one call.
struct Messages<'a> {
    handler: &'a mut dyn FnMut(MessageKind, &[u8]),
    panic: Option<String>,
}

/// Runs `call` with [`receive`] as the sink and a context pointing at `handler`; a panic in the
/// handler is caught in the callback and reported here as an error.
fn with_sink(
    handler: &mut dyn FnMut(MessageKind, &[u8]),
    call: impl FnOnce(SinkFn, *mut c_void) -> Result<i32, HostError>,
) -> Result<i32, HostError> {
    let mut messages = Messages {
        handler,
        panic: None,
    };
    let context = (&raw mut messages).cast::<c_void>();
    let status = call(receive, context)?;
    if let Some(panic) = messages.panic {
        return Err(HostError::Internal(format!(
            "a record handler panicked: {panic}"
        )));
    }
    Ok(status)
}

/// The bridge's callback. Never unwinds into .NET.
extern "system" fn receive(context: *mut c_void, kind: i32, data: *const u8, length: i32) {
    if context.is_null() {
        return;
    }
    // SAFETY: `context` is the `Messages` that `with_sink` created on its stack and that lives
    // until the bridge call returns; the bridge calls back only during that call and on the
    // same thread, so this is the only reference to it while the callback runs.
    let messages = unsafe { &mut *context.cast::<Messages<'_>>() };
    if messages.panic.is_some() {
        return;
    }
    let bytes: &[u8] = match usize::try_from(length) {
        Ok(length) if length > 0 && !data.is_null() => {
            // SAFETY: the bridge passes a pinned buffer of `length` bytes that stays valid until
            // this callback returns; it is only read here.
            unsafe { std::slice::from_raw_parts(data, length) }
        }
        _ => &[],
    };
    let Some(kind) = MessageKind::from_raw(kind) else {
        messages.panic = Some(format!("the bridge sent an unknown message kind {kind}"));
        return;
    };
    let handler = &mut messages.handler;
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| handler(kind, bytes))) {
        messages.panic = Some(panic_text(payload.as_ref()));
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

fn len_i32(length: usize) -> Result<i32, HostError> {
    i32::try_from(length).map_err(|_| {
        HostError::Internal(format!(
            "a request of {length} bytes is over the bridge's 2 GiB limit: send a smaller one"
        ))
    })
}
