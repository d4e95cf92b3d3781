//! The one place where text that may hold a credential is made safe to show.
//!
//! Anything the core puts into an error message or a log line that did not come from the
//! core itself (response bodies, header values) goes through [`redact_secrets`].

const MARKER: &str = "[redacted]";

/// Replaces bearer tokens and JWT-shaped strings with `[redacted]`.
pub fn redact_secrets(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let words = text.split_inclusive(char::is_whitespace);
    let mut previous_was_bearer = false;
    for word in words {
        let token = word.trim_end();
        let trailing = &word[token.len()..];
        if previous_was_bearer || looks_like_jwt(token) {
            output.push_str(MARKER);
            output.push_str(trailing);
        } else {
            output.push_str(word);
        }
        previous_was_bearer = token.eq_ignore_ascii_case("bearer");
    }
    output
}

/// Three base64url parts separated by dots, the first starting like a JSON header (`eyJ`).
fn looks_like_jwt(word: &str) -> bool {
    let word =
        word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_' && c != '.');
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && word.starts_with("eyJ")
        && parts.iter().all(|part| {
            part.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::redact_secrets;

    #[test]
    fn bearer_value_and_bare_jwt_are_redacted() {
        assert_eq!(
            redact_secrets("Authorization: Bearer abc.def"),
            "Authorization: Bearer [redacted]"
        );
        assert_eq!(
            redact_secrets("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln, next"),
            "token [redacted] next"
        );
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let text = "Resource 'a.b.c' does not exist.";
        assert_eq!(redact_secrets(text), text);
    }
}
