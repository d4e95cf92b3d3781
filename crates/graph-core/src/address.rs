//! How a user id or user principal name becomes exactly one segment of a Graph URL.
//!
//! The id comes from a script, a CSV file or a pipeline, so it is untrusted: whatever it
//! holds, it must name one user and never another resource. Three rules from Graph:
//! - every reserved character is percent-encoded, so `x/../../groups` or `a?b` stay one
//!   segment and `#` (guest UPNs) travels as `%23` instead of starting a fragment;
//! - a UPN starting with `$` collides with OData system query options, so it is sent in
//!   the key form `users('$x@y.com')`, with single quotes doubled;
//! - ids that URL parsers would treat as dot segments (`.`, `..`) or that no directory
//!   object can have (empty, control characters, absurd lengths) are refused up front.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::GraphError;

/// Characters left as they are in a plain path segment: RFC 3986 unreserved plus `@`,
/// which every UPN has and Graph reads literally.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// Inside the OData key form the quotes delimit the key and `$` is the reason the key form
/// is used at all, so both stay literal; everything else is encoded as in [`SEGMENT`].
const QUOTED_KEY: &AsciiSet = &SEGMENT.remove(b'$').remove(b'\'');

/// Longest id accepted. UPNs are at most 113 characters and object ids 36; the margin
/// leaves room for odd tenants without letting a pasted document become a URL.
pub const MAX_USER_ID_CHARS: usize = 1024;

/// A user id (object id or user principal name) that is safe to put in a Graph URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId {
    raw: String,
}

impl UserId {
    /// Checks an id as given by the caller; the error says what is wrong and what to pass.
    pub fn parse(raw: &str) -> Result<UserId, GraphError> {
        if raw.trim().is_empty() {
            return Err(GraphError::invalid_argument(
                "the user id is empty: pass the user's object id or user principal name",
            ));
        }
        if raw.chars().count() > MAX_USER_ID_CHARS {
            return Err(GraphError::invalid_argument(format!(
                "the user id is {} characters long, more than the {MAX_USER_ID_CHARS} allowed: pass the user's object id or user principal name",
                raw.chars().count()
            )));
        }
        if raw.chars().any(char::is_control) {
            return Err(GraphError::invalid_argument(
                "the user id contains control characters: pass the user's object id or user principal name",
            ));
        }
        if raw.chars().all(|c| c == '.') {
            return Err(GraphError::invalid_argument(format!(
                "'{raw}' is not a user id: pass the user's object id or user principal name"
            )));
        }
        Ok(UserId {
            raw: raw.to_owned(),
        })
    }

    /// The id as the caller gave it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The `users/...` part of the URL path, encoded: `users/{segment}` or `users('{key}')`.
    pub fn users_path(&self) -> String {
        if self.raw.starts_with('$') {
            let doubled = self.raw.replace('\'', "''");
            format!("users('{}')", utf8_percent_encode(&doubled, QUOTED_KEY))
        } else {
            format!("users/{}", utf8_percent_encode(&self.raw, SEGMENT))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: &str) {
        let id = UserId::parse(raw).expect("valid id");
        assert_eq!(id.users_path(), expected, "encoding of {raw:?}");
    }

    fn check_refused(raw: &str, message_part: &str) {
        let error = UserId::parse(raw).expect_err("refused id");
        assert_eq!(error.kind, crate::ErrorKind::InvalidArgument);
        assert!(error.message.contains(message_part), "{}", error.message);
    }

    #[test]
    fn guid_and_plain_upn_are_sent_as_they_are() {
        check(
            "0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "users/0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        );
        check("adele.vance@contoso.com", "users/adele.vance@contoso.com");
    }

    #[test]
    fn guest_upn_hash_is_percent_encoded() {
        check(
            "adele_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "users/adele_fabrikam.com%23EXT%23@contoso.onmicrosoft.com",
        );
    }

    #[test]
    fn dollar_upn_uses_the_odata_key_form_with_quotes_doubled() {
        check("$admin@contoso.com", "users('$admin@contoso.com')");
        check("$o'brien@contoso.com", "users('$o''brien@contoso.com')");
        check("$a/b#c@contoso.com", "users('$a%2Fb%23c@contoso.com')");
    }

    #[test]
    fn reserved_characters_stay_inside_one_segment() {
        check("x/../../groups", "users/x%2F..%2F..%2Fgroups");
        check("a?b", "users/a%3Fb");
        check("a%2Fb", "users/a%252Fb");
        check("a\\b c", "users/a%5Cb%20c");
        check("a$b@contoso.com", "users/a%24b@contoso.com");
    }

    #[test]
    fn non_ascii_is_utf8_percent_encoded() {
        check("jürgen@contoso.com", "users/j%C3%BCrgen@contoso.com");
        check("😀@contoso.com", "users/%F0%9F%98%80@contoso.com");
    }

    #[test]
    fn ids_that_cannot_name_a_user_are_refused() {
        check_refused("", "empty");
        check_refused("   ", "empty");
        check_refused("a\u{0}b", "control characters");
        check_refused("a\nb", "control characters");
        check_refused(".", "is not a user id");
        check_refused("..", "is not a user id");
        check_refused(&"x".repeat(MAX_USER_ID_CHARS + 1), "more than the");
    }

    #[test]
    fn longest_allowed_id_is_accepted() {
        assert!(UserId::parse(&"x".repeat(MAX_USER_ID_CHARS)).is_ok());
    }
}
