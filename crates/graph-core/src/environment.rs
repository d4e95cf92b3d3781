//! Clouds the module can talk to: the four national clouds and the ones users add.
//!
//! An environment pairs an Entra ID authority with a Graph endpoint; tokens never cross
//! from one environment to another. Endpoints must use TLS, with one exception: plain
//! `http` to a loopback address, so tests and local tools can stand in for Graph without
//! ever opening a way to send a token in clear text over a network.
//!
//! User-defined environments are persisted across processes by [`crate::environment_store`].

use std::net::IpAddr;

use once_cell::sync::Lazy;
use parking_lot::RwLock;
use serde::Serialize;
use url::Url;

use crate::error::GraphError;

/// Where to sign in and where to send Graph requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub name: String,
    #[serde(rename = "azureADEndpoint")]
    pub azure_ad_endpoint: String,
    pub graph_endpoint: String,
    pub built_in: bool,
}

impl Environment {
    /// Validates a user-defined environment.
    pub fn user_defined(
        name: &str,
        graph_endpoint: &str,
        azure_ad_endpoint: &str,
    ) -> Result<Environment, GraphError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(GraphError::invalid_argument(
                "the environment name is empty: give it a name such as 'Contoso'",
            ));
        }
        Ok(Environment {
            name: name.to_owned(),
            graph_endpoint: validate_endpoint(graph_endpoint, "GraphEndpoint")?,
            azure_ad_endpoint: validate_endpoint(azure_ad_endpoint, "AzureADEndpoint")?,
            built_in: false,
        })
    }

    fn built_in(name: &str, azure_ad_endpoint: &str, graph_endpoint: &str) -> Environment {
        Environment {
            name: name.to_owned(),
            azure_ad_endpoint: azure_ad_endpoint.to_owned(),
            graph_endpoint: graph_endpoint.to_owned(),
            built_in: true,
        }
    }
}

/// Checks an endpoint URL and returns it without a trailing slash.
pub fn validate_endpoint(value: &str, parameter: &str) -> Result<String, GraphError> {
    let url = Url::parse(value.trim()).map_err(|error| {
        GraphError::invalid_argument(format!(
            "{parameter} '{value}' is not an absolute URL ({error}): give one such as https://graph.microsoft.com"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(GraphError::invalid_argument(format!(
            "{parameter} must not contain a user name or password"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(GraphError::invalid_argument(format!(
            "{parameter} '{value}' must not have a query or fragment"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(GraphError::invalid_argument(format!(
                "{parameter} '{value}' uses plain http, which is allowed only to loopback addresses (127.0.0.1, ::1, localhost): use https"
            )));
        }
        other => {
            return Err(GraphError::invalid_argument(format!(
                "{parameter} '{value}' has scheme '{other}': use https"
            )));
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Whether a URL names this machine by a loopback address (127.0.0.0/8, ::1, localhost).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The environments known to this process: built-in clouds first, then user-defined ones.
pub struct EnvironmentRegistry {
    environments: RwLock<Vec<Environment>>,
}

impl EnvironmentRegistry {
    /// The process-wide registry the module uses.
    pub fn global() -> &'static EnvironmentRegistry {
        static GLOBAL: Lazy<EnvironmentRegistry> = Lazy::new(EnvironmentRegistry::with_built_ins);
        &GLOBAL
    }

    pub fn with_built_ins() -> EnvironmentRegistry {
        let login_us = "https://login.microsoftonline.us";
        EnvironmentRegistry {
            environments: RwLock::new(vec![
                Environment::built_in(
                    "Global",
                    "https://login.microsoftonline.com",
                    "https://graph.microsoft.com",
                ),
                Environment::built_in(
                    "China",
                    "https://login.chinacloudapi.cn",
                    "https://microsoftgraph.chinacloudapi.cn",
                ),
                Environment::built_in("USGov", login_us, "https://graph.microsoft.us"),
                Environment::built_in("USGovDoD", login_us, "https://dod-graph.microsoft.us"),
            ]),
        }
    }

    pub fn list(&self) -> Vec<Environment> {
        self.environments.read().clone()
    }

    /// Finds an environment by name, ignoring case as PowerShell users expect.
    pub fn get(&self, name: &str) -> Result<Environment, GraphError> {
        self.environments
            .read()
            .iter()
            .find(|environment| environment.name.eq_ignore_ascii_case(name.trim()))
            .cloned()
            .ok_or_else(|| {
                GraphError::invalid_argument(format!(
                    "no environment is named '{name}': run Get-MgEnvironment to list them, or Add-MgEnvironment to add it"
                ))
            })
    }

    /// Adds a user-defined environment, or replaces the user-defined one of the same name.
    pub fn add(&self, environment: Environment) -> Result<Environment, GraphError> {
        let mut environments = self.environments.write();
        if let Some(existing) = environments
            .iter_mut()
            .find(|existing| existing.name.eq_ignore_ascii_case(&environment.name))
        {
            if existing.built_in {
                return Err(GraphError::invalid_argument(format!(
                    "'{}' is a built-in environment and cannot be changed: choose another name",
                    existing.name
                )));
            }
            *existing = environment.clone();
        } else {
            environments.push(environment.clone());
        }
        Ok(environment)
    }

    /// Removes a user-defined environment and returns it.
    pub fn remove(&self, name: &str) -> Result<Environment, GraphError> {
        let found = self.get(name)?;
        if found.built_in {
            return Err(GraphError::invalid_argument(format!(
                "'{}' is a built-in environment and cannot be removed",
                found.name
            )));
        }
        self.environments
            .write()
            .retain(|environment| !environment.name.eq_ignore_ascii_case(&found.name));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_endpoints_are_accepted_without_trailing_slash() {
        assert_eq!(
            validate_endpoint("https://graph.contoso.test/", "GraphEndpoint").expect("valid"),
            "https://graph.contoso.test"
        );
    }

    #[test]
    fn plain_http_is_accepted_only_for_loopback() {
        for loopback in [
            "http://127.0.0.1:8080",
            "http://[::1]:9",
            "http://localhost:1",
            "http://127.9.9.9",
        ] {
            assert!(
                validate_endpoint(loopback, "GraphEndpoint").is_ok(),
                "{loopback}"
            );
        }
        for remote in [
            "http://graph.microsoft.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
        ] {
            let error = validate_endpoint(remote, "GraphEndpoint").expect_err(remote);
            assert!(error.message.contains("use https"), "{}", error.message);
        }
    }

    #[test]
    fn odd_endpoints_are_refused() {
        for bad in [
            "graph.microsoft.com",
            "ftp://x",
            "https://u:p@x",
            "https://x/?a=b",
            "",
        ] {
            assert!(validate_endpoint(bad, "GraphEndpoint").is_err(), "{bad}");
        }
    }

    #[test]
    fn registry_adds_replaces_and_removes_user_defined_environments() {
        let registry = EnvironmentRegistry::with_built_ins();
        let mock = Environment::user_defined("Mock", "http://127.0.0.1:1", "http://127.0.0.1:1")
            .expect("valid");
        registry.add(mock).expect("added");
        let replaced =
            Environment::user_defined("mock", "http://127.0.0.1:2", "http://127.0.0.1:2")
                .expect("valid");
        registry.add(replaced).expect("replaced");
        assert_eq!(
            registry.get("MOCK").expect("found").graph_endpoint,
            "http://127.0.0.1:2"
        );
        assert_eq!(registry.list().len(), 5);
        registry.remove("Mock").expect("removed");
        assert!(registry.get("Mock").is_err());
    }

    #[test]
    fn built_ins_cannot_be_changed_or_removed() {
        let registry = EnvironmentRegistry::with_built_ins();
        let fake = Environment::user_defined("Global", "https://evil.test", "https://evil.test")
            .expect("valid");
        assert!(registry.add(fake).is_err());
        assert!(registry.remove("global").is_err());
        assert_eq!(
            registry.get("global").expect("found").graph_endpoint,
            "https://graph.microsoft.com"
        );
    }
}
