//! Environments: `Get-MgEnvironment`, `Add-MgEnvironment`, `Remove-MgEnvironment`. User-defined
//! environments are saved in the module's data folder, so new processes know them too (as the
//! official module does); `settings` (JSON `CacheSettings`: `dataDir`, `keyStore`) says where
//! that folder is, as PowerShell's environment says.

use graph_core::auth::token_cache::CacheSettings;
use graph_core::{Environment, EnvironmentRegistry, GraphError, environment_store};
use serde::{Deserialize, Serialize};

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_json, input_str};
use crate::status::GraphStatus;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddEnvironmentRequest {
    name: String,
    graph_endpoint: String,
    #[serde(rename = "azureADEndpoint")]
    azure_ad_endpoint: String,
}

/// The answer of add and remove: the environment, and why it could not be saved, if so.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvironmentChange {
    environment: Environment,
    warning: Option<String>,
}

/// # Safety
/// `settings` null with length 0 or that many readable bytes.
unsafe fn read_settings(
    settings: *const u8,
    settings_len: usize,
) -> Result<CacheSettings, GraphError> {
    // SAFETY: forwarded contract.
    let text = unsafe { input_str(settings, settings_len, "the data folder settings") }?;
    if text.trim().is_empty() {
        return Ok(CacheSettings::default());
    }
    serde_json::from_str(text).map_err(|error| {
        GraphError::invalid_argument(format!("the data folder settings are not valid: {error}"))
    })
}

/// Loads the saved user-defined environments into this process, once (later calls do nothing).
///
/// # Safety
/// `settings` null with length 0 or that many readable bytes; `out` null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_environment_load(
    settings: *const u8,
    settings_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            environment_store::load_once(&read_settings(settings, settings_len)?);
            Ok(serde_json::json!({}))
        })
    }
}

/// Writes every known environment as a JSON array.
///
/// # Safety
/// `out` must be null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_environment_list(out: *mut GraphBuffer) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe { guard(out, || Ok(EnvironmentRegistry::global().list())) }
}

/// Adds or replaces a user-defined environment from `{"name","graphEndpoint","azureADEndpoint"}`,
/// saves it, and writes `{environment, warning}` (warning: why it could not be saved).
///
/// # Safety
/// `request` and `settings` null with length 0, or pointing to that many readable bytes;
/// `out` must be null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_environment_add(
    request: *const u8,
    request_len: usize,
    settings: *const u8,
    settings_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let settings = read_settings(settings, settings_len)?;
            let request: AddEnvironmentRequest =
                input_json(request, request_len, "the environment request")?;
            let environment = Environment::user_defined(
                &request.name,
                &request.graph_endpoint,
                &request.azure_ad_endpoint,
            )?;
            environment_store::load_once(&settings);
            let environment = EnvironmentRegistry::global().add(environment)?;
            let warning = environment_store::save(&settings, &environment)
                .err()
                .map(|error| error.message);
            Ok(EnvironmentChange {
                environment,
                warning,
            })
        })
    }
}

/// Removes a user-defined environment by name, here and in the saved file, and writes
/// `{environment, warning}` for the removed one.
///
/// # Safety
/// As for [`graph_environment_add`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_environment_remove(
    name: *const u8,
    name_len: usize,
    settings: *const u8,
    settings_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let settings = read_settings(settings, settings_len)?;
            let name = input_str(name, name_len, "the environment name")?;
            environment_store::load_once(&settings);
            let environment = EnvironmentRegistry::global().remove(name)?;
            let warning = environment_store::forget(&settings, &environment.name)
                .err()
                .map(|error| error.message);
            Ok(EnvironmentChange {
                environment,
                warning,
            })
        })
    }
}
