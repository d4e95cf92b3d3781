//! The HTTP clients of a session: one per proxy choice, each with its own connection pool.
//!
//! The timeout is set per request, from the process's request context. TLS validation is always on (platform verifier); redirects never leave https; the system
//! proxy (`HTTPS_PROXY`/`NO_PROXY`) applies when the caller names no proxy.

use std::time::Duration;

use parking_lot::Mutex;

use crate::error::{ErrorKind, GraphError};
use crate::proxy::ProxyConfig;
use crate::runtime::runtime;

pub(crate) struct HttpClients {
    user_agent: String,
    /// A handful of entries at most (one per distinct -Proxy), so a list beats a map.
    clients: Mutex<Vec<(Option<ProxyConfig>, reqwest::Client)>>,
}

impl HttpClients {
    pub(crate) fn new(user_agent: String) -> Result<HttpClients, GraphError> {
        let clients = HttpClients {
            user_agent,
            clients: Mutex::new(Vec::new()),
        };
        // Build the default client now so configuration problems surface at Connect time.
        clients.get(None)?;
        Ok(clients)
    }

    pub(crate) fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The client for a proxy choice, built on first use.
    pub(crate) fn get(&self, proxy: Option<&ProxyConfig>) -> Result<reqwest::Client, GraphError> {
        let mut clients = self.clients.lock();
        if let Some((_, client)) = clients.iter().find(|(key, _)| key.as_ref() == proxy) {
            return Ok(client.clone());
        }
        let client = self.build(proxy)?;
        clients.push((proxy.cloned(), client.clone()));
        Ok(client)
    }

    fn build(&self, proxy: Option<&ProxyConfig>) -> Result<reqwest::Client, GraphError> {
        // Initialises the TLS provider before the first client is built.
        runtime()?;
        let mut builder = reqwest::Client::builder()
            .user_agent(&self.user_agent)
            .connect_timeout(Duration::from_secs(30))
            .redirect(redirect_policy());
        if let Some(proxy) = proxy {
            builder = builder.proxy(proxy.to_reqwest()?);
        }
        builder.build().map_err(|error| {
            GraphError::new(
                ErrorKind::Internal,
                format!("the HTTP client could not be created: {error}"),
            )
        })
    }
}

/// Follows at most 5 redirects, and never from https to anything else: a token must not
/// leave TLS because a server said so.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt
            .previous()
            .iter()
            .any(|previous| previous.scheme() == "https")
            && attempt.url().scheme() != "https";
        if downgrade {
            attempt.error("refused a redirect from https to another scheme")
        } else if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}
