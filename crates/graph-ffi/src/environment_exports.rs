//! Environments: `Get-MgEnvironment`, `Add-MgEnvironment`, `Remove-MgEnvironment`.

use graph_core::{Environment, EnvironmentRegistry, GraphError};
use serde::Deserialize;

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_str};
use crate::status::GraphStatus;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddEnvironmentRequest {
    name: String,
    graph_endpoint: String,
    #[serde(rename = "azureADEndpoint")]
    azure_ad_endpoint: String,
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

/// Adds or replaces a user-defined environment from `{"name","graphEndpoint","azureADEndpoint"}`
/// and writes it back as JSON.
///
/// # Safety
/// `request` must be null with `request_len` 0, or point to `request_len` readable bytes;
/// `out` must be null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_environment_add(
    request: *const u8,
    request_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let request = input_str(request, request_len, "the environment request")?;
            let request: AddEnvironmentRequest =
                serde_json::from_str(request).map_err(|error| {
                    GraphError::invalid_argument(format!(
                        "the environment request is not valid: {error}"
                    ))
                })?;
            let environment = Environment::user_defined(
                &request.name,
                &request.graph_endpoint,
                &request.azure_ad_endpoint,
            )?;
            EnvironmentRegistry::global().add(environment)
        })
    }
}

/// Removes a user-defined environment by name and writes the removed one as JSON.
///
/// # Safety
/// As for [`graph_environment_add`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_environment_remove(
    name: *const u8,
    name_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let name = input_str(name, name_len, "the environment name")?;
            EnvironmentRegistry::global().remove(name)
        })
    }
}
