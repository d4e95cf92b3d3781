//! Starting .NET and PowerShell, once per process. [`start`] finds PowerShell, .NET's hostfxr
//! and the bridge, initializes the runtime from the bridge's `runtimeconfig.json`, loads the
//! bridge into the default load context, and binds it to the PowerShell found; later calls
//! answer the same [`Host`]. .NET can neither start twice nor unload, so the runtime lives until
//! the process exits, and a failure once the runtime has started is final for the process.
//!
//! Not handled yet: choosing the .NET version from PowerShell's own runtimeconfig (the bridge's
//! `net10.0` with roll-forward is used).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use netcorehost::hostfxr::Hostfxr;
use netcorehost::pdcstring::PdCString;
use serde::Deserialize;

use crate::bridge::{self, BridgeFiles, Entrypoints};
use crate::dotnet::{self, DotnetInstall};
use crate::locate::{self, Source};
use crate::{HostError, Runspace};

/// Where to find things; `None` means search (see [`locate`], [`dotnet`], [`bridge`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// A PowerShell folder (`$PSHOME`), `pwsh.dll`, or a `pwsh` executable.
    pub powershell: Option<PathBuf>,
    /// A .NET root (the folder of the `dotnet` executable).
    pub dotnet_root: Option<PathBuf>,
    /// The bridge's folder or dll.
    pub bridge: Option<PathBuf>,
}

/// What runs in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerShellInfo {
    /// PowerShell's version (`7.6.9`).
    pub version: String,
    /// `$PSHOME`.
    pub home: PathBuf,
    /// How PowerShell was found.
    pub source: Source,
    /// The .NET runtime (`.NET 10.0.12`).
    pub dotnet: String,
    /// The .NET root that was started.
    pub dotnet_root: PathBuf,
    /// The bridge assembly that was loaded.
    pub bridge: PathBuf,
}

/// The process's PowerShell host. Obtained from [`start`]; lives as long as the process.
#[derive(Debug)]
pub struct Host {
    entry: Entrypoints,
    info: PowerShellInfo,
}

impl Host {
    /// What runs: PowerShell's version and folder, .NET's version, the bridge.
    pub fn info(&self) -> &PowerShellInfo {
        &self.info
    }

    /// Opens a runspace, with its own thread (see [`Runspace`]).
    pub fn open_runspace(&self) -> Result<Runspace, HostError> {
        Runspace::open(self.entry)
    }
}

/// A started runtime with the bridge loaded (not yet bound to a PowerShell).
struct Runtime {
    entry: Entrypoints,
    dotnet: DotnetInstall,
    bridge: BridgeFiles,
}

static RUNTIME: OnceLock<Result<Runtime, HostError>> = OnceLock::new();
static HOST: OnceLock<Host> = OnceLock::new();
static STARTING: Mutex<()> = Mutex::new(());

/// Starts .NET and PowerShell on first use; afterwards answers the same host (whatever the
/// search would find now), or [`HostError::AlreadyStarted`] if `config` names a different
/// PowerShell.
pub fn start(config: &HostConfig) -> Result<&'static Host, HostError> {
    if config.powershell.is_none() {
        if let Some(host) = HOST.get() {
            return Ok(host);
        }
    }
    let install = locate::find(config.powershell.as_deref())?;
    let _starting = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(host) = HOST.get() {
        return if same_folder(&host.info.home, &install.home) {
            Ok(host)
        } else {
            Err(HostError::AlreadyStarted {
                running: host.info.home.clone(),
                requested: install.home,
            })
        };
    }

    let runtime = match RUNTIME.get() {
        Some(started) => started.as_ref().map_err(Clone::clone)?,
        None => {
            // Finding files touches nothing of .NET: a failure there may be retried later.
            let bridge = bridge::find(config.bridge.as_deref())?;
            let dotnet = dotnet::find(config.dotnet_root.as_deref())?;
            RUNTIME
                .get_or_init(|| start_runtime(dotnet, bridge))
                .as_ref()
                .map_err(Clone::clone)?
        }
    };

    let answer = runtime
        .entry
        .initialize(&install.home)
        .map_err(|error| match error {
            HostError::Bridge { kind, message } if kind == "powerShell" => {
                HostError::PowerShellBroken {
                    path: install.home.clone(),
                    message,
                }
            }
            other => other,
        })?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Described {
        ps_version: String,
        ps_home: PathBuf,
        dotnet: String,
    }
    let described: Described = serde_json::from_slice(&answer).map_err(|error| {
        HostError::Internal(format!(
            "the bridge's version answer is not valid JSON ({error})"
        ))
    })?;
    let host = Host {
        entry: runtime.entry,
        info: PowerShellInfo {
            version: described.ps_version,
            home: described.ps_home,
            source: install.source,
            dotnet: described.dotnet,
            dotnet_root: runtime.dotnet.root.clone(),
            bridge: runtime.bridge.assembly.clone(),
        },
    };
    Ok(HOST.get_or_init(|| host))
}

/// The host, if [`start`] has succeeded in this process.
pub fn current() -> Option<&'static Host> {
    HOST.get()
}

fn start_runtime(dotnet: DotnetInstall, bridge: BridgeFiles) -> Result<Runtime, HostError> {
    bridge::prepare_thread();
    let hostfxr = Hostfxr::load_from_path(&dotnet.hostfxr).map_err(|error| {
        HostError::RuntimeStart(format!(
            "the .NET host resolver '{}' could not be loaded ({error}): reinstall .NET 10, or set DOTNET_ROOT to a working installation",
            dotnet.hostfxr.display()
        ))
    })?;
    let runtime_config = pd_path(&bridge.runtime_config)?;
    let dotnet_root = pd_path(&dotnet.root)?;
    let context = hostfxr
        .initialize_for_runtime_config_with_dotnet_root(&runtime_config, &dotnet_root)
        .map_err(|error| {
            HostError::RuntimeStart(format!(
                ".NET could not start from '{}' with '{}' ({error}): install the .NET 10 runtime (Microsoft.NETCore.App 10.0 or later) there, or set DOTNET_ROOT to an installation that has it",
                dotnet.root.display(),
                bridge.runtime_config.display()
            ))
        })?;
    let entry = Entrypoints::load(&context, &bridge)?;
    // The runtime cannot be unloaded: keep the context (and with it hostfxr) for the process.
    let _handle = context.into_handle();
    Ok(Runtime {
        entry,
        dotnet,
        bridge,
    })
}

fn pd_path(path: &Path) -> Result<PdCString, HostError> {
    PdCString::from_os_str(path.as_os_str()).map_err(|error| {
        HostError::RuntimeStart(format!(
            "the path '{}' cannot be passed to .NET ({error}): use a path without NUL characters",
            path.display()
        ))
    })
}

fn same_folder(a: &Path, b: &Path) -> bool {
    let canonical = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.into());
    canonical(a) == canonical(b)
}
