//! An explicit proxy for Graph calls (`-Proxy`, `-ProxyCredential`).
//!
//! Without one, the system settings apply (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`). The
//! proxy password lives in zeroizing memory and never appears in `Debug` output or errors.

use url::Url;
use zeroize::Zeroizing;

use crate::error::GraphError;

/// A proxy chosen by the caller.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    url: String,
    username: Option<String>,
    password: Option<Zeroizing<String>>,
}

impl ProxyConfig {
    /// Validates the proxy URL (`http` or `https`, no embedded credentials: pass those
    /// separately so they are never part of a URL that could be logged).
    pub fn new(
        url: &str,
        username: Option<String>,
        password: Option<Zeroizing<String>>,
    ) -> Result<ProxyConfig, GraphError> {
        let parsed = Url::parse(url.trim()).map_err(|error| {
            GraphError::invalid_argument(format!(
                "the proxy '{url}' is not an absolute URL ({error}): pass one such as http://proxy.contoso.com:3128"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(GraphError::invalid_argument(format!(
                "the proxy scheme '{}' is not supported: use http or https",
                parsed.scheme()
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(GraphError::invalid_argument(
                "the proxy URL must not contain a user name or password: pass them with -ProxyCredential",
            ));
        }
        if username.is_none() && password.is_some() {
            return Err(GraphError::invalid_argument(
                "a proxy password was given without a user name",
            ));
        }
        Ok(ProxyConfig {
            url: parsed.as_str().to_owned(),
            username,
            password,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn to_reqwest(&self) -> Result<reqwest::Proxy, GraphError> {
        let mut proxy = reqwest::Proxy::all(&self.url).map_err(|error| {
            GraphError::invalid_argument(format!(
                "the proxy '{}' cannot be used: {error}",
                self.url
            ))
        })?;
        if let Some(username) = &self.username {
            let password = self.password.as_ref().map(|p| p.as_str()).unwrap_or("");
            proxy = proxy.basic_auth(username, password);
        }
        Ok(proxy)
    }
}

impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProxyConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_proxies_are_accepted() {
        assert!(ProxyConfig::new("http://127.0.0.1:3128", None, None).is_ok());
        assert!(
            ProxyConfig::new(
                "https://proxy.contoso.com",
                Some("u".into()),
                Some(Zeroizing::new("p".into()))
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_proxies_are_refused_with_the_reason() {
        for (url, reason) in [
            ("proxy:3128", "scheme"),
            ("not a url", "not an absolute URL"),
            ("ftp://proxy", "scheme"),
            ("http://user:pass@proxy", "-ProxyCredential"),
        ] {
            let error = ProxyConfig::new(url, None, None).expect_err(url);
            assert!(error.message.contains(reason), "{url}: {}", error.message);
            assert!(!error.message.contains("pass@"), "{}", error.message);
        }
    }

    #[test]
    fn debug_output_hides_the_password() {
        let proxy = ProxyConfig::new(
            "http://p",
            Some("u".into()),
            Some(Zeroizing::new("hunter2".into())),
        )
        .expect("valid");
        assert!(!format!("{proxy:?}").contains("hunter2"));
    }
}
