//! Recognises the Graph routes from the RAW request path, before any percent-decoding. Splitting on
//! `/` first and decoding only the one id segment afterwards is what makes an id such as
//! `x%2F..%2F..%2Fgroups` stay a (non-existent) user instead of naming another resource: a mock that
//! decoded first would hide exactly the path-injection bugs its clients must not have.

use percent_encoding::percent_decode_str;

/// The Graph API version named by the first path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/beta`
    Beta,
    /// `/v1.0`
    V1,
}

impl ApiVersion {
    /// The segment as it appears in URLs and `@odata.context`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::Beta => "beta",
            ApiVersion::V1 => "v1.0",
        }
    }
}

/// Who a revoke request is aimed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `/users/{id}` or `/users('{id}')`, already decoded.
    User(String),
    /// `/me`: resolved from the token's `upn`/`oid` once it has been verified.
    Me,
}

/// What the raw path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A revoke action.
    Revoke { version: ApiVersion, target: Target },
    /// A revoke action whose id Graph would refuse with 400 (invalid percent-encoding, malformed
    /// OData key literal, or a leading `$`, which OData reads as a system segment). `id` is the
    /// best-effort decoded text, for the message and the recording.
    InvalidId { version: ApiVersion, id: String },
    /// `POST /{version}/$batch` (JSON batching).
    Batch { version: ApiVersion },
    /// `GET /{version}/users/{id}` or `/users('{id}')`: a user read back, id decoded.
    ReadUser { version: ApiVersion, id: String },
    /// No route of this mock.
    NotFound,
}

impl Parsed {
    /// The API version the path names, when it is one of our routes.
    pub fn version(&self) -> Option<ApiVersion> {
        match self {
            Parsed::Revoke { version, .. }
            | Parsed::InvalidId { version, .. }
            | Parsed::Batch { version }
            | Parsed::ReadUser { version, .. } => Some(*version),
            Parsed::NotFound => None,
        }
    }

    /// The decoded id the route addresses, when it names one.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Parsed::Revoke {
                target: Target::User(id),
                ..
            } => Some(id),
            Parsed::InvalidId { id, .. } | Parsed::ReadUser { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// Parses a raw (still percent-encoded) request path.
pub(crate) fn parse(raw_path: &str) -> Parsed {
    let Some(rest) = raw_path.strip_prefix('/') else {
        return Parsed::NotFound;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let Some((first, segments)) = segments.split_first() else {
        return Parsed::NotFound;
    };
    let version = match *first {
        "beta" => ApiVersion::Beta,
        "v1.0" => ApiVersion::V1,
        _ => return Parsed::NotFound,
    };
    match segments {
        // `$` may come percent-encoded; either spelling is the batch endpoint.
        [batch] if decode_segment(batch).as_deref() == Some("$batch") => Parsed::Batch { version },
        [users, id] if users.eq_ignore_ascii_case("users") => match decode_segment(id) {
            Some(id) if !id.is_empty() && !id.starts_with('$') => Parsed::ReadUser { version, id },
            _ => Parsed::NotFound,
        },
        [key_segment] => {
            let key = decode_segment(key_segment)
                .and_then(|text| {
                    strip_prefix_ci(&text, "users(")
                        .and_then(|s| s.strip_suffix(')'))
                        .map(str::to_owned)
                })
                .and_then(|inner| parse_key_literal(&inner));
            match key {
                Some(id) => Parsed::ReadUser { version, id },
                None => Parsed::NotFound,
            }
        }
        [users, id, action] if users.eq_ignore_ascii_case("users") => {
            if !is_revoke_action(version, action) || id.is_empty() {
                return Parsed::NotFound;
            }
            match decode_segment(id) {
                Some(decoded) if !decoded.starts_with('$') => Parsed::Revoke {
                    version,
                    target: Target::User(decoded),
                },
                Some(decoded) => Parsed::InvalidId {
                    version,
                    id: decoded,
                },
                None => Parsed::InvalidId {
                    version,
                    id: lossy_decode(id),
                },
            }
        }
        [me, action] if me.eq_ignore_ascii_case("me") => {
            if !is_revoke_action(version, action) {
                return Parsed::NotFound;
            }
            Parsed::Revoke {
                version,
                target: Target::Me,
            }
        }
        [key_segment, action] => {
            if !is_revoke_action(version, action) {
                return Parsed::NotFound;
            }
            // OData reads the key literal after percent-decoding the whole segment, so an encoded
            // quote (`%27`) delimits just like a bare one.
            let decoded = decode_segment(key_segment);
            let text = decoded.clone().unwrap_or_else(|| lossy_decode(key_segment));
            let Some(inner) = strip_prefix_ci(&text, "users(").and_then(|s| s.strip_suffix(')'))
            else {
                return Parsed::NotFound;
            };
            match (decoded.is_some(), parse_key_literal(inner)) {
                (true, Some(id)) => Parsed::Revoke {
                    version,
                    target: Target::User(id),
                },
                _ => Parsed::InvalidId {
                    version,
                    id: inner.to_owned(),
                },
            }
        }
        _ => Parsed::NotFound,
    }
}

/// Beta has both `invalidateAllRefreshTokens` and `revokeSignInSessions`; v1.0 only the latter.
/// Both the bare and the namespace-qualified (`microsoft.graph.`) spellings are bound actions.
fn is_revoke_action(version: ApiVersion, segment: &str) -> bool {
    let name = strip_prefix_ci(segment, "microsoft.graph.").unwrap_or(segment);
    name.eq_ignore_ascii_case("revokeSignInSessions")
        || (version == ApiVersion::Beta && name.eq_ignore_ascii_case("invalidateAllRefreshTokens"))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Percent-decodes one segment; `None` when the bytes are not UTF-8.
fn decode_segment(segment: &str) -> Option<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

fn lossy_decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// An OData key literal: `'text'` with inner quotes doubled, or a bare GUID.
fn parse_key_literal(inner: &str) -> Option<String> {
    if let Some(quoted) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        let mut out = String::with_capacity(quoted.len());
        let mut chars = quoted.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                // A lone quote would have ended the literal early: that is a syntax error in OData.
                chars.next_if_eq(&'\'')?;
            }
            out.push(c);
        }
        return Some(out);
    }
    if inner.len() == 36 && uuid::Uuid::try_parse(inner).is_ok() {
        return Some(inner.to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(v: ApiVersion, id: &str) -> Parsed {
        Parsed::Revoke {
            version: v,
            target: Target::User(id.to_owned()),
        }
    }

    #[test]
    fn plain_and_qualified_actions() {
        use ApiVersion::*;
        assert_eq!(
            parse("/beta/users/abc@x.com/invalidateAllRefreshTokens"),
            user(Beta, "abc@x.com")
        );
        assert_eq!(
            parse("/beta/users/abc/microsoft.graph.invalidateAllRefreshTokens"),
            user(Beta, "abc")
        );
        assert_eq!(
            parse("/v1.0/users/abc/revokeSignInSessions"),
            user(V1, "abc")
        );
        assert_eq!(
            parse("/v1.0/users/abc/microsoft.graph.revokeSignInSessions"),
            user(V1, "abc")
        );
        assert_eq!(
            parse("/v1.0/users/abc/invalidateAllRefreshTokens"),
            Parsed::NotFound
        );
        assert_eq!(
            parse("/beta/me/invalidateAllRefreshTokens"),
            Parsed::Revoke {
                version: Beta,
                target: Target::Me
            }
        );
    }

    #[test]
    fn id_is_one_raw_segment() {
        use ApiVersion::*;
        assert_eq!(
            parse("/beta/users/a%23EXT%23@t.com/invalidateAllRefreshTokens"),
            user(Beta, "a#EXT#@t.com")
        );
        assert_eq!(
            parse("/beta/users/x%2F..%2F..%2Fgroups/invalidateAllRefreshTokens"),
            user(Beta, "x/../../groups")
        );
        assert_eq!(
            parse("/beta/users/x/../../groups/invalidateAllRefreshTokens"),
            Parsed::NotFound
        );
        assert_eq!(
            parse("/beta/users//invalidateAllRefreshTokens"),
            Parsed::NotFound
        );
        assert_eq!(parse("/beta/users/a%3Fb/x"), Parsed::NotFound);
        assert_eq!(
            parse("/beta/users/a%3Fb/invalidateAllRefreshTokens"),
            user(Beta, "a?b")
        );
    }

    #[test]
    fn odata_key_form() {
        use ApiVersion::*;
        assert_eq!(
            parse("/beta/users('$x@y.com')/invalidateAllRefreshTokens"),
            user(Beta, "$x@y.com")
        );
        assert_eq!(
            parse("/beta/users(%27o%27%27brien@y.com%27)/invalidateAllRefreshTokens"),
            user(Beta, "o'brien@y.com")
        );
        assert_eq!(
            parse("/beta/users('a'b')/invalidateAllRefreshTokens"),
            Parsed::InvalidId {
                version: Beta,
                id: "'a'b'".into()
            }
        );
        assert_eq!(
            parse("/beta/users(00000000-0000-0000-0000-000000000001)/invalidateAllRefreshTokens"),
            user(Beta, "00000000-0000-0000-0000-000000000001")
        );
        assert_eq!(
            parse("/beta/groups('x')/invalidateAllRefreshTokens"),
            Parsed::NotFound
        );
    }

    #[test]
    fn user_reads() {
        use ApiVersion::*;
        let read = |id: &str| Parsed::ReadUser {
            version: Beta,
            id: id.to_owned(),
        };
        assert_eq!(parse("/beta/users/a%23EXT%23@t.com"), read("a#EXT#@t.com"));
        assert_eq!(parse("/beta/users('$x@y.com')"), read("$x@y.com"));
        assert_eq!(parse("/beta/users/$x@y.com"), Parsed::NotFound);
        assert_eq!(parse("/beta/groups('x')"), Parsed::NotFound);
    }

    #[test]
    fn batch_endpoint() {
        use ApiVersion::*;
        assert_eq!(parse("/beta/$batch"), Parsed::Batch { version: Beta });
        assert_eq!(parse("/v1.0/%24batch"), Parsed::Batch { version: V1 });
        assert_eq!(parse("/beta/$batch/x"), Parsed::NotFound);
        assert_eq!(parse("/$batch"), Parsed::NotFound);
    }

    #[test]
    fn dollar_and_bad_utf8_are_invalid_ids() {
        use ApiVersion::*;
        assert_eq!(
            parse("/beta/users/$x@y.com/invalidateAllRefreshTokens"),
            Parsed::InvalidId {
                version: Beta,
                id: "$x@y.com".into()
            }
        );
        assert!(matches!(
            parse("/beta/users/%FF/invalidateAllRefreshTokens"),
            Parsed::InvalidId { .. }
        ));
    }
}
