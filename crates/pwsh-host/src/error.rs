//! Everything that can go wrong while hosting PowerShell, each with a message that says what
//! happened and what to do, and the exit code the command-line entry point uses for it.
//!
//! What a *script* does wrong (errors it writes, exceptions it throws) is not a [`HostError`]:
//! it is data in the [`Invocation`](crate::Invocation). A `HostError` means the host could not
//! do what was asked: no PowerShell, no .NET, no bridge, no module, a runspace that is gone.

use std::path::PathBuf;

/// Why the host could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// No PowerShell installation was found anywhere the host looks.
    #[error(
        "no PowerShell installation was found (looked at: {}): install one with `dotnet tool install --global PowerShell --version 7.6.9` (or the package for your system), or point PWSH_HOST_PSHOME or --pwsh at the folder that holds pwsh.dll",
        searched.join(", ")
    )]
    PowerShellNotFound {
        /// Every place that was tried, in order.
        searched: Vec<String>,
    },

    /// A PowerShell installation was named or found but cannot be used.
    #[error("{message}")]
    PowerShellBroken {
        /// The folder or file that was tried.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },

    /// No .NET installation with a host resolver (hostfxr) was found.
    #[error(
        "no .NET runtime was found (looked at: {}): install the .NET 10 runtime (https://dot.net), or set DOTNET_ROOT to the folder that holds the dotnet executable",
        searched.join(", ")
    )]
    DotnetNotFound {
        /// Every place that was tried, in order.
        searched: Vec<String>,
    },

    /// The managed bridge (`host/bridge`) has not been built, or its files are incomplete.
    #[error(
        "the managed bridge PwshHostBridge.dll was not found (looked at: {}): run ./build.ps1 (or `dotnet build host/bridge -c Release`), or set PWSH_HOST_BRIDGE to the folder that holds it",
        searched.join(", ")
    )]
    BridgeNotBuilt {
        /// Every place that was tried, in order.
        searched: Vec<String>,
    },

    /// .NET could not be started, or the bridge could not be loaded into it.
    #[error("{0}")]
    RuntimeStart(String),

    /// The process already hosts another PowerShell; .NET cannot be started twice.
    #[error(
        "this process already hosts the PowerShell in '{}' and cannot load the one in '{}': .NET starts once per process, so use one PowerShell per process",
        running.display(),
        requested.display()
    )]
    AlreadyStarted {
        /// The PowerShell folder the process runs.
        running: PathBuf,
        /// The PowerShell folder that was asked for.
        requested: PathBuf,
    },

    /// The built module is not where the host looks for it.
    #[error(
        "the module is not built (looked at: {}): run ./build.ps1 first, or set GRAPH_MODULE_MANIFEST to the module's .psd1",
        searched.join(", ")
    )]
    ModuleNotBuilt {
        /// Every place that was tried, in order.
        searched: Vec<String>,
    },

    /// A module path that was given does not exist.
    #[error(
        "the module path '{}' does not exist: pass the module's .psd1, its folder, or a module name from $env:PSModulePath",
        path.display()
    )]
    ModuleNotFound {
        /// The path that was given.
        path: PathBuf,
    },

    /// `Import-Module` failed.
    #[error("the module '{module}' could not be imported: {message}")]
    ModuleImport {
        /// The module path or name.
        module: String,
        /// PowerShell's error message.
        message: String,
    },

    /// A script file that was given does not exist.
    #[error(
        "the script file '{}' does not exist: check the path (relative paths start from the current folder)",
        path.display()
    )]
    ScriptNotFound {
        /// The path that was given.
        path: PathBuf,
    },

    /// The bridge refused or failed a call (bad request, unknown runspace, internal failure).
    #[error("{message}")]
    Bridge {
        /// The bridge's failure class (`badRequest`, `badRunspace`, `powerShell`, `internal`, ...).
        kind: String,
        /// The bridge's message.
        message: String,
    },

    /// The runspace's thread is gone (it panicked or the runspace was closed).
    #[error("the runspace is closed (its thread has ended): open a new runspace")]
    RunspaceClosed,

    /// The caller asked for something that cannot work (a bad command-line value).
    #[error("{0}")]
    Usage(String),

    /// A bug in the host itself; the message says where.
    #[error("internal error in the native host: {0}")]
    Internal(String),
}

/// Exit codes of the `pwsh-host` command line (sysexits-style for host failures, so they do not
/// collide with the small codes scripts use).
pub mod exit_code {
    /// The script ran and wrote no error.
    pub const SUCCESS: i32 = 0;
    /// The script wrote (non-terminating) errors.
    pub const SCRIPT_ERRORS: i32 = 1;
    /// The script threw: a terminating error, including a parse error.
    pub const SCRIPT_THREW: i32 = 2;
    /// The command line is wrong.
    pub const USAGE: i32 = 64;
    /// A module failed to import.
    pub const MODULE_IMPORT: i32 = 65;
    /// The script file or a module path does not exist, or the module is not built.
    pub const NOT_FOUND: i32 = 66;
    /// No usable PowerShell, .NET or bridge: nothing could run.
    pub const UNAVAILABLE: i32 = 69;
    /// A failure inside the host (a bug, or a runspace that died).
    pub const INTERNAL: i32 = 70;
    /// The script ran longer than `--timeout` and was stopped.
    pub const TIMED_OUT: i32 = 124;
    /// The script was stopped by Ctrl+C.
    pub const STOPPED: i32 = 130;
}

impl HostError {
    /// The exit code the command-line entry point uses for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            HostError::PowerShellNotFound { .. }
            | HostError::PowerShellBroken { .. }
            | HostError::DotnetNotFound { .. }
            | HostError::BridgeNotBuilt { .. }
            | HostError::RuntimeStart(_)
            | HostError::AlreadyStarted { .. } => exit_code::UNAVAILABLE,
            HostError::ModuleNotBuilt { .. }
            | HostError::ModuleNotFound { .. }
            | HostError::ScriptNotFound { .. } => exit_code::NOT_FOUND,
            HostError::ModuleImport { .. } => exit_code::MODULE_IMPORT,
            HostError::Usage(_) => exit_code::USAGE,
            HostError::Bridge { kind, .. } if kind == "powerShell" => exit_code::UNAVAILABLE,
            HostError::Bridge { .. } | HostError::RunspaceClosed | HostError::Internal(_) => {
                exit_code::INTERNAL
            }
        }
    }
}
