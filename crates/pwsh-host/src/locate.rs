//! Finding a PowerShell installation: the folder that holds `pwsh.dll` (what PowerShell calls
//! `$PSHOME`). In order: a path the caller gives (the folder, `pwsh.dll`, a `pwsh` executable or
//! symlink, or a .NET tools folder), the `PWSH_HOST_PSHOME` variable, `pwsh` on `PATH`, the
//! .NET global tool in `~/.dotnet/tools`, and the packages' usual folders. The global tool's
//! `pwsh` is a small launcher; its PowerShell lives in
//! `.store/powershell/<version>/powershell/<version>/tools/<tfm>/any/<unix|win>/` beside it,
//! and the highest version there wins.
//!
//! A folder is accepted only if it holds `pwsh.dll`, `pwsh.deps.json` and
//! `System.Management.Automation.dll`; the bridge checks versions and loadability when it starts.
//! Not handled yet: PowerShell inside a snap or an MSIX package.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::HostError;

/// The environment variable that names a PowerShell folder (or executable) to host.
pub const PSHOME_VARIABLE: &str = "PWSH_HOST_PSHOME";

/// Files a PowerShell folder must hold.
const REQUIRED_FILES: [&str; 3] = [
    "pwsh.dll",
    "pwsh.deps.json",
    "System.Management.Automation.dll",
];

/// How the installation was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The caller passed it.
    Given,
    /// From `PWSH_HOST_PSHOME`.
    Variable,
    /// `pwsh` on `PATH`.
    Path,
    /// The .NET global tool in the user's `.dotnet/tools`.
    GlobalTool,
    /// A folder where PowerShell's packages install it.
    WellKnown,
}

/// A PowerShell installation: the folder that holds `pwsh.dll`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerShellInstall {
    /// `$PSHOME`: the folder that holds `pwsh.dll` and `System.Management.Automation.dll`.
    pub home: PathBuf,
    /// How it was found.
    pub source: Source,
}

/// Where [`find`] looks; [`Probe::from_process`] reads the real environment, tests build their own.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// The value of `PWSH_HOST_PSHOME`.
    pub pshome_variable: Option<OsString>,
    /// The value of `PATH`.
    pub path_variable: Option<OsString>,
    /// The user's home folder (for `.dotnet/tools`).
    pub home: Option<PathBuf>,
    /// Folders where packages install PowerShell, tried last.
    pub well_known: Vec<PathBuf>,
}

impl Probe {
    /// The process's environment and this platform's usual install folders.
    pub fn from_process() -> Self {
        let home = env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" })
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        let well_known = if cfg!(windows) {
            let program_files =
                env::var_os("ProgramFiles").unwrap_or_else(|| OsString::from(r"C:\Program Files"));
            vec![Path::new(&program_files).join("PowerShell").join("7")]
        } else {
            [
                "/opt/microsoft/powershell/7",
                "/usr/local/microsoft/powershell/7",
                "/usr/lib/powershell",
                "/snap/powershell/current/opt/powershell",
            ]
            .iter()
            .map(PathBuf::from)
            .collect()
        };
        Probe {
            pshome_variable: env::var_os(PSHOME_VARIABLE).filter(|value| !value.is_empty()),
            path_variable: env::var_os("PATH"),
            home,
            well_known,
        }
    }
}

/// Finds PowerShell: `given` if set (and then nowhere else), otherwise the usual places.
pub fn find(given: Option<&Path>) -> Result<PowerShellInstall, HostError> {
    find_with(given, &Probe::from_process())
}

/// [`find`] with an explicit environment.
pub fn find_with(given: Option<&Path>, probe: &Probe) -> Result<PowerShellInstall, HostError> {
    if let Some(path) = given {
        return resolve(path).map(|home| PowerShellInstall {
            home,
            source: Source::Given,
        });
    }
    if let Some(value) = &probe.pshome_variable {
        // A variable that is set but wrong is an error, not a reason to look elsewhere.
        return resolve(Path::new(value))
            .map(|home| PowerShellInstall {
                home,
                source: Source::Variable,
            })
            .map_err(|error| match error {
                HostError::PowerShellBroken { path, message } => HostError::PowerShellBroken {
                    path,
                    message: format!("{message} (from {PSHOME_VARIABLE})"),
                },
                other => other,
            });
    }

    let mut searched = Vec::new();
    if let Some(path_variable) = &probe.path_variable {
        for folder in env::split_paths(path_variable) {
            let candidate = folder.join(executable_name());
            if candidate.is_file() {
                searched.push(candidate.display().to_string());
                if let Ok(home) = resolve(&candidate) {
                    return Ok(PowerShellInstall {
                        home,
                        source: Source::Path,
                    });
                }
            }
        }
        if searched.is_empty() {
            searched.push("pwsh on PATH".to_owned());
        }
    }
    if let Some(home) = &probe.home {
        let tools = home.join(".dotnet").join("tools");
        searched.push(tools.display().to_string());
        if let Some(found) = find_in_tool_store(&tools) {
            return Ok(PowerShellInstall {
                home: found,
                source: Source::GlobalTool,
            });
        }
    }
    for folder in &probe.well_known {
        searched.push(folder.display().to_string());
        if missing_file(folder).is_none() {
            return Ok(PowerShellInstall {
                home: folder.clone(),
                source: Source::WellKnown,
            });
        }
    }
    Err(HostError::PowerShellNotFound { searched })
}

/// Turns whatever names an installation into its `$PSHOME`, or says why it cannot.
fn resolve(path: &Path) -> Result<PathBuf, HostError> {
    let broken = |message: String| HostError::PowerShellBroken {
        path: path.to_path_buf(),
        message,
    };
    let real = fs::canonicalize(path).map_err(|_| {
        broken(format!(
            "there is no PowerShell at '{}' (the path does not exist): pass the folder that holds pwsh.dll, or a pwsh executable",
            path.display()
        ))
    })?;

    // A folder: $PSHOME itself, or a .NET tools folder with the global tool in it.
    let folder = if real.is_dir() {
        real.clone()
    } else if real.file_name().is_some_and(|name| name == "pwsh.dll") {
        real.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        // An executable: pwsh itself (its folder is $PSHOME) or the global tool's launcher.
        let parent = real.parent().map(Path::to_path_buf).unwrap_or_default();
        if !parent.join("pwsh.dll").is_file() {
            if let Some(found) = find_in_tool_store(&parent) {
                return Ok(found);
            }
        }
        parent
    };
    if folder.join("pwsh.dll").is_file() {
        return match missing_file(&folder) {
            None => Ok(folder),
            Some(file) => Err(broken(format!(
                "the PowerShell installation in '{}' is incomplete ({file} is missing): reinstall PowerShell 7.6",
                folder.display()
            ))),
        };
    }
    if let Some(found) = find_in_tool_store(&folder) {
        return Ok(found);
    }
    Err(broken(format!(
        "'{}' is not a PowerShell installation (there is no pwsh.dll in '{}'): pass the folder that holds pwsh.dll ($PSHOME), or a pwsh executable",
        path.display(),
        folder.display()
    )))
}

/// The first required file a folder lacks, if any.
fn missing_file(folder: &Path) -> Option<&'static str> {
    REQUIRED_FILES
        .into_iter()
        .find(|file| !folder.join(file).is_file())
}

/// The highest PowerShell global tool installed in a .NET tools folder.
fn find_in_tool_store(tools: &Path) -> Option<PathBuf> {
    let store = tools.join(".store").join("powershell");
    let platform = if cfg!(windows) { "win" } else { "unix" };
    let mut candidates: Vec<(Vec<u64>, PathBuf)> = Vec::new();
    for version in read_dir_names(&store) {
        let package = store.join(&version).join("powershell").join(&version);
        for tfm in read_dir_names(&package.join("tools")) {
            let home = package.join("tools").join(&tfm).join("any").join(platform);
            if missing_file(&home).is_none() {
                candidates.push((version_key(&version), home));
            }
        }
    }
    candidates.sort();
    candidates.pop().map(|(_, home)| home)
}

fn read_dir_names(folder: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect()
}

/// `7.10.1-preview.2` sorts after `7.9.0`: the numbers, compared as numbers.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

fn executable_name() -> &'static str {
    if cfg!(windows) { "pwsh.exe" } else { "pwsh" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_install(folder: &Path) {
        fs::create_dir_all(folder).unwrap();
        for file in REQUIRED_FILES {
            fs::write(folder.join(file), b"").unwrap();
        }
    }

    fn tool_home(tools: &Path, version: &str) -> PathBuf {
        let platform = if cfg!(windows) { "win" } else { "unix" };
        tools
            .join(".store/powershell")
            .join(version)
            .join("powershell")
            .join(version)
            .join("tools/net10.0/any")
            .join(platform)
    }

    #[test]
    fn nothing_installed_says_how_to_install_powershell() {
        let empty = tempfile::tempdir().unwrap();
        let probe = Probe {
            pshome_variable: None,
            path_variable: Some(empty.path().as_os_str().to_owned()),
            home: Some(empty.path().to_path_buf()),
            well_known: vec![empty.path().join("opt")],
        };
        let error = find_with(None, &probe).unwrap_err();
        assert!(matches!(error, HostError::PowerShellNotFound { .. }));
        let message = error.to_string();
        assert!(
            message.contains("dotnet tool install --global PowerShell"),
            "{message}"
        );
        assert!(message.contains(PSHOME_VARIABLE), "{message}");
    }

    #[test]
    fn the_global_tool_is_found_in_the_highest_version() {
        let root = tempfile::tempdir().unwrap();
        let tools = root.path().join(".dotnet/tools");
        fake_install(&tool_home(&tools, "7.6.9"));
        fake_install(&tool_home(&tools, "7.10.0"));
        let probe = Probe {
            home: Some(root.path().to_path_buf()),
            ..Probe::default()
        };
        let found = find_with(None, &probe).unwrap();
        assert_eq!(found.source, Source::GlobalTool);
        assert_eq!(found.home, tool_home(&tools, "7.10.0"));
    }

    #[test]
    fn a_given_folder_without_pwsh_dll_is_refused_with_the_reason() {
        let root = tempfile::tempdir().unwrap();
        let error = resolve(root.path()).unwrap_err();
        assert!(error.to_string().contains("no pwsh.dll"), "{error}");
    }

    #[test]
    fn a_given_folder_missing_the_automation_assembly_is_incomplete() {
        let root = tempfile::tempdir().unwrap();
        fake_install(root.path());
        fs::remove_file(root.path().join("System.Management.Automation.dll")).unwrap();
        let error = resolve(root.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("System.Management.Automation.dll is missing"),
            "{error}"
        );
    }

    #[test]
    fn a_path_that_does_not_exist_is_refused() {
        let error = resolve(Path::new("/no/such/pwsh")).unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
    }

    #[test]
    fn a_launcher_beside_a_tool_store_resolves_to_the_store() {
        let root = tempfile::tempdir().unwrap();
        fake_install(&tool_home(root.path(), "7.6.9"));
        let launcher = root.path().join(executable_name());
        fs::write(&launcher, b"").unwrap();
        assert_eq!(
            resolve(&launcher).unwrap(),
            fs::canonicalize(tool_home(root.path(), "7.6.9")).unwrap()
        );
    }
}
