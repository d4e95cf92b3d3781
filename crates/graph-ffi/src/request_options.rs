//! Per-call options as they cross the boundary: JSON for the plain parts, separate bytes for
//! the proxy password so it never sits in a JSON string the shim cannot wipe.

use graph_core::{GraphError, ProxyConfig, RequestOptions};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::buffer::{input_bytes, input_str};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OptionsJson {
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    proxy: Option<ProxyJson>,
    #[serde(default)]
    trace: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProxyJson {
    url: String,
    #[serde(default)]
    username: Option<String>,
}

/// Reads options (empty input = defaults) and the proxy password.
///
/// # Safety
/// Each pointer must be null with length 0 or point to that many readable bytes.
pub(crate) unsafe fn read_options(
    options: *const u8,
    options_len: usize,
    proxy_password: *const u8,
    proxy_password_len: usize,
) -> Result<RequestOptions, GraphError> {
    // The shim passes nothing for a plain call (no -Headers, -Proxy or -Debug): the defaults,
    // with nothing to parse on the per-call path.
    if options_len == 0 && proxy_password_len == 0 {
        return Ok(RequestOptions::default());
    }
    // SAFETY: forwarded contract.
    let text = unsafe { input_str(options, options_len, "the request options") }?;
    let parsed: OptionsJson = if text.trim().is_empty() {
        OptionsJson::default()
    } else {
        serde_json::from_str(text).map_err(|error| {
            GraphError::invalid_argument(format!("the request options are not valid: {error}"))
        })?
    };
    // SAFETY: forwarded contract.
    let password =
        unsafe { input_bytes(proxy_password, proxy_password_len, "the proxy password") }?;
    let password = if password.is_empty() {
        None
    } else {
        let text = std::str::from_utf8(password)
            .map_err(|_| GraphError::invalid_argument("the proxy password is not valid UTF-8"))?;
        Some(Zeroizing::new(text.to_owned()))
    };
    let proxy = match parsed.proxy {
        Some(proxy) => Some(ProxyConfig::new(&proxy.url, proxy.username, password)?),
        None => None,
    };
    let mut options = RequestOptions::default().with_headers(parsed.headers)?;
    options.proxy = proxy;
    options.trace = parsed.trace;
    Ok(options)
}
