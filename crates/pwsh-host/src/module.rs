//! Finding this repository's built module, `Microsoft.Graph.Beta.Users.Actions`: the manifest
//! named by `GRAPH_MODULE_MANIFEST` (the variable the Pester suites use), else the highest
//! version under `<workspace root>/out/Microsoft.Graph.Beta.Users.Actions/` (what build.ps1
//! assembles). The workspace root is where this crate was compiled from.
//!
//! Not handled yet: a module installed in `$env:PSModulePath` (import it by name instead).

use std::fs;
use std::path::{Path, PathBuf};

use crate::HostError;

/// The module's name.
pub const MODULE_NAME: &str = "Microsoft.Graph.Beta.Users.Actions";

/// The environment variable that names the module's manifest.
pub const MANIFEST_VARIABLE: &str = "GRAPH_MODULE_MANIFEST";

/// The workspace root this crate was built in (`crates/pwsh-host/../..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The built module's manifest, or [`HostError::ModuleNotBuilt`] saying to run `./build.ps1`.
pub fn find_built_module() -> Result<PathBuf, HostError> {
    if let Some(manifest) = std::env::var_os(MANIFEST_VARIABLE).filter(|value| !value.is_empty()) {
        let manifest = PathBuf::from(manifest);
        return if manifest.is_file() {
            Ok(manifest)
        } else {
            Err(HostError::ModuleNotBuilt {
                searched: vec![format!("{} (from {MANIFEST_VARIABLE})", manifest.display())],
            })
        };
    }
    let folder = workspace_root().join("out").join(MODULE_NAME);
    let manifest_name = format!("{MODULE_NAME}.psd1");
    let mut versions: Vec<(Vec<u64>, PathBuf)> = fs::read_dir(&folder)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let manifest = entry.path().join(&manifest_name);
            let version = entry.file_name().into_string().ok()?;
            manifest.is_file().then(|| {
                let key = version
                    .split('.')
                    .map(|part| part.parse().unwrap_or(0))
                    .collect();
                (key, manifest)
            })
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, manifest)| manifest)
        .ok_or_else(|| HostError::ModuleNotBuilt {
            searched: vec![
                folder
                    .join("<version>")
                    .join(&manifest_name)
                    .display()
                    .to_string(),
            ],
        })
}
