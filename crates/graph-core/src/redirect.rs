//! Which redirects a Graph request may follow: only those that stay on the same origin
//! (scheme, host and port) as the request, so the token, the caller's headers and the body
//! (a `$batch` names every user in it) never travel anywhere else because a server said so.
//!
//! 307 and 308 keep the method and body. 301, 302 and 303 are followed only by GET and HEAD:
//! HTTP clients turn them into a GET, and a revocation silently turned into a read would come
//! back "successful" without revoking anything. At most [`MAX_REDIRECTS`] in a row. Token
//! requests follow no redirect at all (see [`crate::auth::token_endpoint`]).

use url::Url;

use crate::error::{ErrorKind, GraphError};

/// Redirects followed in a row before giving up, as in the official module.
pub const MAX_REDIRECTS: u32 = 5;

/// A redirect answer: its status and where it points, as sent.
pub(crate) struct Redirect {
    status: u16,
    location: Option<String>,
}

impl Redirect {
    /// The redirect in an answer, if it is one.
    pub(crate) fn of(response: &reqwest::Response) -> Option<Redirect> {
        let status = response.status().as_u16();
        matches!(status, 301 | 302 | 303 | 307 | 308).then(|| Redirect {
            status,
            location: response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        })
    }

    /// Where to send `method` next, or why not. `followed` redirects came before this one.
    pub(crate) fn follow(
        &self,
        from: &Url,
        method: &reqwest::Method,
        followed: u32,
    ) -> Result<(Url, reqwest::Method), GraphError> {
        let status = self.status;
        let target = self
            .location
            .as_deref()
            .and_then(|location| from.join(location.trim()).ok())
            .ok_or_else(|| {
                GraphError::new(
                    ErrorKind::UnexpectedResponse,
                    format!(
                        "Graph answered HTTP {status} (a redirect) without a usable Location: check the Graph endpoint and any proxy"
                    ),
                )
            })?;
        if target.origin() != from.origin() {
            return Err(GraphError::new(
                ErrorKind::RedirectRefused,
                format!(
                    "Graph answered HTTP {status}, a redirect to another origin ({}): it was not followed, so neither the token nor the request went there; check the Graph endpoint of the environment and any proxy",
                    origin_text(&target)
                ),
            ));
        }
        let safe_method = *method == reqwest::Method::GET || *method == reqwest::Method::HEAD;
        if (301..=303).contains(&status) && !safe_method {
            return Err(GraphError::new(
                ErrorKind::UnexpectedResponse,
                format!(
                    "Graph answered the {method} with HTTP {status}, a redirect that would turn it into a GET: it was not followed, and nothing was done"
                ),
            ));
        }
        if followed >= MAX_REDIRECTS {
            return Err(GraphError::new(
                ErrorKind::UnexpectedResponse,
                format!(
                    "Graph redirected the request more than {MAX_REDIRECTS} times: check the Graph endpoint"
                ),
            ));
        }
        let next = if status == 303 && safe_method {
            reqwest::Method::GET
        } else {
            method.clone()
        };
        Ok((target, next))
    }
}

/// `scheme://host:port` of a URL: enough to tell where a redirect pointed, without its path
/// or query (which may carry anything).
pub(crate) fn origin_text(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect(status: u16, location: &str) -> Redirect {
        Redirect {
            status,
            location: Some(location.to_owned()),
        }
    }

    fn from() -> Url {
        Url::parse("http://127.0.0.1:8400/beta/users/a/invalidateAllRefreshTokens").expect("url")
    }

    #[test]
    fn same_origin_307_and_308_keep_the_method() {
        for status in [307, 308] {
            let (target, method) = redirect(status, "/beta/users/b/invalidateAllRefreshTokens")
                .follow(&from(), &reqwest::Method::POST, 0)
                .expect("same origin");
            assert_eq!(target.port(), Some(8400));
            assert_eq!(method, reqwest::Method::POST);
        }
    }

    #[test]
    fn other_origins_are_refused_naming_the_target() {
        for location in [
            "http://127.0.0.1:8401/x",
            "http://127.0.0.2:8400/x",
            "https://127.0.0.1:8400/x",
            "//evil.example/x",
        ] {
            let error = redirect(307, location)
                .follow(&from(), &reqwest::Method::POST, 0)
                .expect_err(location);
            assert_eq!(error.kind, ErrorKind::RedirectRefused, "{location}");
            assert!(error.message.contains("HTTP 307"), "{}", error.message);
        }
        let error = redirect(308, "http://127.0.0.2:9/secret?token=abc")
            .follow(&from(), &reqwest::Method::POST, 0)
            .expect_err("elsewhere");
        assert!(
            error.message.contains("http://127.0.0.2:9"),
            "{}",
            error.message
        );
        assert!(!error.message.contains("token=abc"), "{}", error.message);
    }

    #[test]
    fn a_post_is_never_turned_into_a_get() {
        for status in [301, 302, 303] {
            let error = redirect(status, "/elsewhere")
                .follow(&from(), &reqwest::Method::POST, 0)
                .expect_err("post");
            assert_eq!(error.kind, ErrorKind::UnexpectedResponse);
        }
        let (_, method) = redirect(303, "/elsewhere")
            .follow(&from(), &reqwest::Method::GET, 0)
            .expect("get");
        assert_eq!(method, reqwest::Method::GET);
    }

    #[test]
    fn redirects_end() {
        assert!(
            redirect(307, "/again")
                .follow(&from(), &reqwest::Method::POST, MAX_REDIRECTS)
                .is_err()
        );
        let missing = Redirect {
            status: 307,
            location: None,
        };
        assert!(missing.follow(&from(), &reqwest::Method::POST, 0).is_err());
    }
}
