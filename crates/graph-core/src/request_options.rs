//! Per-call choices: extra request headers (`-Headers`), a proxy, and whether to trace the
//! exchange for `-Debug`.

use crate::error::{ErrorKind, GraphError};
use crate::proxy::ProxyConfig;

/// Headers a caller may not set: the credential and the routing are the module's job, and
/// letting a script override them would send the token somewhere else or as someone else.
const RESERVED_HEADERS: [&str; 4] = [
    "authorization",
    "host",
    "content-length",
    "transfer-encoding",
];

/// Why a caller may not set this header, if it is reserved.
fn reserved_reason(name: &str) -> Option<&'static str> {
    let reserved = RESERVED_HEADERS
        .iter()
        .find(|reserved| name.eq_ignore_ascii_case(reserved))?;
    Some(match *reserved {
        "authorization" => {
            "the module sends the credential of the current sign-in (run Connect-MgGraph to use another one)"
        }
        _ => "the module computes it from the request itself: remove it from -Headers",
    })
}

/// Whether a header is one only the module may set.
pub(crate) fn is_reserved_header(name: &str) -> bool {
    RESERVED_HEADERS
        .iter()
        .any(|reserved| name.eq_ignore_ascii_case(reserved))
}

/// Options for one Graph call.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    headers: Vec<(String, String)>,
    pub proxy: Option<ProxyConfig>,
    /// Record the exchange (redacted) so the caller can show it.
    pub trace: bool,
}

impl RequestOptions {
    /// Validates extra headers: legal HTTP names and values, none of the reserved ones.
    pub fn with_headers(
        mut self,
        headers: impl IntoIterator<Item = (String, String)>,
    ) -> Result<RequestOptions, GraphError> {
        for (name, value) in headers {
            let name = name.trim().to_owned();
            if let Some(reason) = reserved_reason(&name) {
                return Err(GraphError::new(
                    ErrorKind::InvalidHeader,
                    format!("the header '{name}' cannot be set with -Headers: {reason}"),
                ));
            }
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(GraphError::new(
                    ErrorKind::InvalidHeader,
                    format!(
                        "-Headers has an entry named '{name}', which is not a valid HTTP header name: use letters, digits and '-' only"
                    ),
                ));
            }
            if reqwest::header::HeaderValue::from_str(&value).is_err() {
                return Err(GraphError::new(
                    ErrorKind::InvalidHeader,
                    format!(
                        "the value of the -Headers entry '{name}' is not valid in HTTP (it contains line breaks or control characters): remove them"
                    ),
                ));
            }
            self.headers.push((name, value));
        }
        Ok(self)
    }

    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Result<RequestOptions, GraphError> {
        RequestOptions::default().with_headers(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        )
    }

    #[test]
    fn ordinary_headers_are_kept() {
        let options = headers(&[
            ("x-ms-throttle-priority", "High"),
            ("client-request-id", "abc"),
        ])
        .expect("valid");
        assert_eq!(options.headers().len(), 2);
    }

    #[test]
    fn reserved_headers_are_refused_in_any_case() {
        for name in [
            "Authorization",
            "HOST",
            "content-length",
            "Transfer-Encoding",
        ] {
            let error = headers(&[(name, "x")]).expect_err(name);
            assert_eq!(error.kind, ErrorKind::InvalidHeader);
            assert!(error.message.contains("cannot be set"), "{}", error.message);
            let says_sign_in = error.message.contains("Connect-MgGraph");
            assert_eq!(says_sign_in, name == "Authorization", "{}", error.message);
        }
    }

    #[test]
    fn invalid_names_and_values_are_refused() {
        for pairs in [[("bad name", "x")], [("x-ok", "line\r\nbreak")]] {
            let error = headers(&pairs).expect_err("invalid");
            assert_eq!(error.kind, ErrorKind::InvalidHeader, "{}", error.message);
        }
    }
}
