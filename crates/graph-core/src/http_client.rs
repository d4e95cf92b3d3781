//! The HTTP clients of a session and the rules every exchange with the network follows.
//!
//! - **No automatic redirects.** Every client is built with redirects off; a caller that may
//!   follow one (a Graph request to its own origin) does so itself, and token requests follow
//!   none ([`crate::send`], [`crate::auth::token_endpoint`]).
//! - **Plain http never leaves the machine.** Plain `http` is only allowed to loopback
//!   endpoints (see [`crate::environment`]); such a request goes through a proxy only when the
//!   proxy is on loopback too, otherwise it goes direct, so neither the token nor a proxy's
//!   Basic credential ever crosses a network in clear text.
//! - **Bounded answers.** Bodies are read with [`read_capped`]: these APIs answer in a few
//!   kilobytes, and a server that sends more is not one to believe.
//! - **Timeouts.** Connecting may take [`CONNECT_TIMEOUT`] at most (or the client timeout, if
//!   shorter); the whole exchange, body included, the client timeout (set per request from the
//!   process's request context).
//!
//! TLS validation is always on (platform verifier); the system proxy (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `NO_PROXY`) applies when the caller names no proxy.

use std::time::Duration;

use parking_lot::Mutex;
use url::Url;

use crate::environment::is_loopback;
use crate::error::{ErrorKind, GraphError};
use crate::proxy::ProxyConfig;
use crate::runtime::runtime;

/// Longest wait for a TCP (and TLS) connection: Graph and Entra answer a connect in well under
/// a second; a server that takes longer is not there.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest answer read from Graph or Entra ID for the module's own operations (a revocation,
/// a `$batch` of 20, a token): a few kilobytes in practice.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// How a request reaches its target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// The system proxy settings (environment variables), or none.
    System,
    /// The proxy the caller named.
    Proxy(ProxyConfig),
    /// No proxy at all.
    Direct,
}

pub(crate) struct HttpClients {
    user_agent: String,
    /// A handful of entries at most (one per distinct -Proxy), so a list beats a map.
    clients: Mutex<Vec<(Route, reqwest::Client)>>,
}

impl HttpClients {
    pub(crate) fn new(user_agent: String) -> Result<HttpClients, GraphError> {
        let clients = HttpClients {
            user_agent,
            clients: Mutex::new(Vec::new()),
        };
        // Build the default client now so configuration problems surface at Connect time.
        clients.client(Route::System)?;
        Ok(clients)
    }

    pub(crate) fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The client for requests to `target` through `proxy` (the system settings when `None`).
    pub(crate) fn for_target(
        &self,
        target: &Url,
        proxy: Option<&ProxyConfig>,
    ) -> Result<reqwest::Client, GraphError> {
        self.client(route(target, proxy, &system_http_proxy()))
    }

    /// The client for requests to `url` with the system proxy settings (token endpoints).
    pub(crate) fn for_url(&self, url: &str) -> Result<reqwest::Client, GraphError> {
        let target = Url::parse(url)
            .map_err(|_| GraphError::invalid_argument(format!("'{url}' is not an absolute URL")))?;
        self.for_target(&target, None)
    }

    fn client(&self, route: Route) -> Result<reqwest::Client, GraphError> {
        let mut clients = self.clients.lock();
        if let Some((_, client)) = clients.iter().find(|(key, _)| *key == route) {
            return Ok(client.clone());
        }
        let client = self.build(&route)?;
        clients.push((route, client.clone()));
        Ok(client)
    }

    fn build(&self, route: &Route) -> Result<reqwest::Client, GraphError> {
        // Initialises the TLS provider before the first client is built.
        runtime()?;
        let mut builder = reqwest::Client::builder()
            .user_agent(&self.user_agent)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        match route {
            Route::System => {}
            Route::Proxy(proxy) => builder = builder.proxy(proxy.to_reqwest()?),
            Route::Direct => builder = builder.no_proxy(),
        }
        builder.build().map_err(|error| {
            GraphError::new(
                ErrorKind::Internal,
                format!("the HTTP client could not be created: {error}"),
            )
        })
    }
}

/// How a request to `target` travels. Plain http (loopback only) keeps off any proxy that is
/// not itself on loopback, whether named by the caller or by the environment.
fn route(target: &Url, proxy: Option<&ProxyConfig>, system_http_proxy: &Option<Url>) -> Route {
    let plain_http = target.scheme() == "http";
    match proxy {
        Some(proxy) if plain_http && !proxy_is_loopback(proxy.url()) => Route::Direct,
        Some(proxy) => Route::Proxy(proxy.clone()),
        None if plain_http
            && system_http_proxy
                .as_ref()
                .is_some_and(|proxy| !is_loopback(proxy)) =>
        {
            Route::Direct
        }
        None => Route::System,
    }
}

fn proxy_is_loopback(proxy: &str) -> bool {
    Url::parse(proxy).is_ok_and(|url| is_loopback(&url))
}

/// The proxy the environment names for plain http, as reqwest reads it (lower case first).
/// An unparsable value counts as a proxy elsewhere: the safe side.
fn system_http_proxy() -> Option<Url> {
    ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .find_map(|name| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        })
        .map(|value| {
            let value = value.trim();
            let with_scheme = if value.contains("://") {
                value.to_owned()
            } else {
                format!("http://{value}")
            };
            Url::parse(&with_scheme)
                .unwrap_or_else(|_| Url::parse("http://unparsable.invalid").expect("static url"))
        })
}

/// Why a body could not be read.
pub(crate) enum BodyError {
    /// More than the cap arrived (or was announced).
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a response body, refusing more than `cap` bytes (decompressed) without reading them.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > cap as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error for an answer over the cap, naming who sent it.
pub(crate) fn too_large(who: &str, status: u16, cap: usize) -> GraphError {
    GraphError::new(
        ErrorKind::UnexpectedResponse,
        format!(
            "{who} answered HTTP {status} with a body of more than {} KiB, far more than this request's answer can be: it was not read, and nothing in it was taken as an answer",
            cap / 1024
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("url")
    }

    fn proxy(text: &str) -> ProxyConfig {
        ProxyConfig::new(text, None, None).expect("proxy")
    }

    #[test]
    fn plain_http_to_loopback_never_goes_through_a_proxy_elsewhere() {
        let target = url("http://127.0.0.1:8400/beta/users");
        let remote = proxy("http://10.1.2.3:3128");
        assert_eq!(route(&target, Some(&remote), &None), Route::Direct);
        assert_eq!(
            route(&target, None, &Some(url("http://proxy.contoso.com:3128"))),
            Route::Direct
        );
        let local = proxy("http://127.0.0.1:3128");
        assert_eq!(route(&target, Some(&local), &None), Route::Proxy(local));
        assert_eq!(
            route(&target, None, &Some(url("http://localhost:3128"))),
            Route::System
        );
        assert_eq!(route(&target, None, &None), Route::System);
    }

    #[test]
    fn https_targets_use_the_proxy_they_are_given() {
        let target = url("https://graph.microsoft.com/beta/users");
        let remote = proxy("http://10.1.2.3:3128");
        assert_eq!(
            route(&target, Some(&remote), &None),
            Route::Proxy(remote.clone())
        );
        assert_eq!(
            route(&target, None, &Some(url("http://10.1.2.3:3128"))),
            Route::System
        );
    }
}
