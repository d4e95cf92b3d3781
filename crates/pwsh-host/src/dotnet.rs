//! Finding .NET's host resolver, `hostfxr`, so `netcorehost` can load it by path (the crate's
//! `nethost` feature would download a library at build time; this crate never does). In order:
//! `DOTNET_ROOT`, the folder of the `dotnet` executable on `PATH` (symlinks followed), the
//! install location the .NET packages record in `/etc/dotnet/install_location`, and the usual
//! install folders. In the first folder that has one, the highest `host/fxr/<version>/` wins.
//!
//! Not handled yet: `DOTNET_ROOT_<ARCH>` and the Windows registry's install location.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use crate::HostError;

/// A .NET installation with a host resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotnetInstall {
    /// The folder that holds the `dotnet` executable, `host/` and `shared/`.
    pub root: PathBuf,
    /// The `hostfxr` library to load.
    pub hostfxr: PathBuf,
}

/// Finds .NET: `given` (a `DOTNET_ROOT`-style folder) if set, otherwise the usual places.
pub fn find(given: Option<&Path>) -> Result<DotnetInstall, HostError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(given) = given {
        candidates.push(given.to_path_buf());
    } else {
        if let Some(root) = env::var_os("DOTNET_ROOT").filter(|value| !value.is_empty()) {
            candidates.push(PathBuf::from(root));
        }
        if let Some(path) = env::var_os("PATH") {
            for folder in env::split_paths(&path) {
                let dotnet = folder.join(if cfg!(windows) {
                    "dotnet.exe"
                } else {
                    "dotnet"
                });
                if dotnet.is_file() {
                    if let Some(parent) = fs::canonicalize(&dotnet)
                        .ok()
                        .and_then(|real| real.parent().map(Path::to_path_buf))
                    {
                        candidates.push(parent);
                    }
                }
            }
        }
        if let Ok(recorded) = fs::read_to_string("/etc/dotnet/install_location") {
            if let Some(line) = recorded
                .lines()
                .next()
                .filter(|line| !line.trim().is_empty())
            {
                candidates.push(PathBuf::from(line.trim()));
            }
        }
        if cfg!(windows) {
            let program_files =
                env::var_os("ProgramFiles").unwrap_or_else(|| r"C:\Program Files".into());
            candidates.push(Path::new(&program_files).join("dotnet"));
        } else {
            for folder in [
                "/usr/share/dotnet",
                "/usr/lib/dotnet",
                "/usr/lib64/dotnet",
                "/usr/local/share/dotnet",
                "/opt/dotnet",
            ] {
                candidates.push(PathBuf::from(folder));
            }
        }
        if let Some(home) = env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" }) {
            candidates.push(Path::new(&home).join(".dotnet"));
        }
    }

    let mut searched = Vec::new();
    for root in candidates {
        searched.push(root.display().to_string());
        if let Some(hostfxr) = highest_hostfxr(&root) {
            return Ok(DotnetInstall { root, hostfxr });
        }
    }
    Err(HostError::DotnetNotFound { searched })
}

/// `<root>/host/fxr/<highest version>/<hostfxr library>`, if there is one.
fn highest_hostfxr(root: &Path) -> Option<PathBuf> {
    let fxr = root.join("host").join("fxr");
    let mut versions: Vec<(Vec<u64>, PathBuf)> = fs::read_dir(&fxr)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let library = entry.path().join(library_name());
            let name = entry.file_name().into_string().ok()?;
            library.is_file().then(|| (version_key(&name), library))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, library)| library)
}

fn version_key(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

fn library_name() -> &'static str {
    if cfg!(windows) {
        "hostfxr.dll"
    } else if cfg!(target_os = "macos") {
        "libhostfxr.dylib"
    } else {
        "libhostfxr.so"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_hostfxr_version_wins() {
        let root = tempfile::tempdir().unwrap();
        for version in ["8.0.11", "10.0.12", "9.0.0"] {
            let folder = root.path().join("host/fxr").join(version);
            fs::create_dir_all(&folder).unwrap();
            fs::write(folder.join(library_name()), b"").unwrap();
        }
        let found = find(Some(root.path())).unwrap();
        assert!(
            found
                .hostfxr
                .ends_with(Path::new("10.0.12").join(library_name()))
        );
    }

    #[test]
    fn a_folder_without_hostfxr_says_how_to_install_dotnet() {
        let root = tempfile::tempdir().unwrap();
        let error = find(Some(root.path())).unwrap_err();
        assert!(
            error.to_string().contains("install the .NET 10 runtime"),
            "{error}"
        );
    }
}
