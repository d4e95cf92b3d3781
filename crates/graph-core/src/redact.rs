//! The one pass that makes text safe to show: every piece of text that came from the network
//! (bodies, header values, Graph's and Entra's messages and codes) and every error message goes
//! through [`clean`] before it reaches PowerShell, a log or a trace.
//!
//! It does two things:
//! - **secrets out:** the value after `Bearer`/`Basic`, JWT-shaped strings wherever they sit
//!   (`token=eyJ...`, `"x":"eyJ..."`), and the values of `access_token`, `refresh_token`,
//!   `id_token`, `client_secret`, `client_assertion`, `code`, `device_code`, `password` in form,
//!   query or JSON syntax become `[redacted]`;
//! - **terminal control out:** control characters (C0 with CR, LF and ESC, DEL, C1 such as
//!   CSI) and bidirectional overrides are written as visible escapes (`\x1B`), so a server
//!   cannot recolour the console, move the cursor, forge lines or set the window title.

const MARKER: &str = "[redacted]";

/// Keys whose values are credentials in OAuth forms, queries and JSON answers.
const SECRET_KEYS: [&str; 9] = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "device_code",
    "code",
    "password",
    "assertion",
];

/// Secrets redacted and control characters escaped: text safe to show anywhere.
pub fn clean(text: &str) -> String {
    escape_controls(&redact_secrets(text))
}

/// Replaces credentials with `[redacted]` (see the module's description).
pub fn redact_secrets(text: &str) -> String {
    redact_keyed_values(&redact_jwts(&redact_schemes(text)))
}

/// Writes control characters and bidirectional overrides as visible escapes.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(is_unsafe_char) {
        return text.to_owned();
    }
    let mut output = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_char(c) {
            let code = u32::from(c);
            if code <= 0xFF {
                output.push_str(&format!("\\x{code:02X}"));
            } else {
                output.push_str(&format!("\\u{{{code:X}}}"));
            }
        } else {
            output.push(c);
        }
    }
    output
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The word after `Bearer` or `Basic` (an Authorization value quoted anywhere).
fn redact_schemes(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut previous_was_scheme = false;
    for word in text.split_inclusive(char::is_whitespace) {
        let token = word.trim_end();
        let trailing = &word[token.len()..];
        if previous_was_scheme && !token.is_empty() {
            output.push_str(MARKER);
            output.push_str(trailing);
        } else {
            output.push_str(word);
        }
        let bare = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        previous_was_scheme = (bare.eq_ignore_ascii_case("bearer")
            || bare.eq_ignore_ascii_case("basic"))
            && !(previous_was_scheme && token.is_empty());
    }
    output
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Every run of base64url-and-dot characters that is shaped like a JWT (`eyJ...` with at
/// least three dot-separated parts), wherever it sits in the text.
fn redact_jwts(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        output.push_str(&rest[..start]);
        let run_end = rest[start..]
            .find(|c: char| !is_token_char(c))
            .map_or(rest.len(), |end| start + end);
        let run = &rest[start..run_end];
        if looks_like_jwt(run) {
            output.push_str(MARKER);
        } else {
            output.push_str(run);
        }
        rest = &rest[run_end..];
    }
    output.push_str(rest);
    output
}

fn looks_like_jwt(run: &str) -> bool {
    let run = run.trim_matches('.');
    run.starts_with("eyJ")
        && run.split('.').count() >= 3
        && run.split('.').all(|part| !part.is_empty())
}

/// `key=value`, `key: value`, `"key":"value"` for the keys in [`SECRET_KEYS`].
fn redact_keyed_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut output = String::with_capacity(text.len());
    let mut copied = 0;
    let mut index = 0;
    while index < bytes.len() {
        // Keys are ASCII: they start only where a character does.
        if !text.is_char_boundary(index) {
            index += 1;
            continue;
        }
        let Some(key) = SECRET_KEYS
            .iter()
            .find(|key| lower[index..].starts_with(**key) && starts_word(bytes, index))
        else {
            index += 1;
            continue;
        };
        let mut cursor = index + key.len();
        if bytes
            .get(cursor)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            index += 1;
            continue;
        }
        cursor = skip(bytes, cursor, b"\" \t");
        if !matches!(bytes.get(cursor), Some(b'=' | b':')) {
            index += 1;
            continue;
        }
        cursor = skip(bytes, cursor + 1, b"\" \t");
        let value_end = bytes[cursor..]
            .iter()
            .position(|b| {
                matches!(
                    b,
                    b'&' | b'"' | b',' | b'}' | b';' | b' ' | b'\t' | b'\r' | b'\n' | b'\''
                )
            })
            .map_or(bytes.len(), |end| cursor + end);
        if value_end > cursor && text[cursor..value_end] != *MARKER {
            output.push_str(&text[copied..cursor]);
            output.push_str(MARKER);
            copied = value_end;
        }
        index = value_end.max(index + 1);
    }
    output.push_str(&text[copied..]);
    output
}

fn starts_word(bytes: &[u8], index: usize) -> bool {
    index == 0 || !(bytes[index - 1].is_ascii_alphanumeric() || bytes[index - 1] == b'_')
}

fn skip(bytes: &[u8], mut index: usize, set: &[u8]) -> usize {
    while bytes.get(index).is_some_and(|b| set.contains(b)) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";

    #[test]
    fn bearer_and_basic_values_and_bare_jwts_are_redacted() {
        assert_eq!(
            redact_secrets("Authorization: Bearer abc.def"),
            "Authorization: Bearer [redacted]"
        );
        assert_eq!(
            redact_secrets("Proxy-Authorization: Basic dTpw"),
            "Proxy-Authorization: Basic [redacted]"
        );
        assert_eq!(
            redact_secrets(&format!("token {JWT}, next")),
            "token [redacted], next"
        );
    }

    #[test]
    fn jwts_inside_words_forms_and_json_are_redacted() {
        for text in [
            format!("token={JWT}"),
            format!("see ?t={JWT}&x=1"),
            format!(r#"{{"access_token":"{JWT}","x":1}}"#),
            format!("'{JWT}'"),
            format!("({JWT})."),
        ] {
            let cleaned = redact_secrets(&text);
            assert!(!cleaned.contains("eyJ"), "{text} -> {cleaned}");
            assert!(cleaned.contains(MARKER), "{cleaned}");
        }
    }

    #[test]
    fn secret_keys_lose_their_values_in_every_syntax() {
        for (text, kept) in [
            (
                "grant_type=refresh_token&refresh_token=0.AXYZ-opaque&scope=x",
                "scope=x",
            ),
            (
                r#"{"access_token": "opaque-value", "expires_in": 3599}"#,
                "expires_in",
            ),
            ("client_secret=s3cr3t~value&client_id=abc", "client_id=abc"),
            ("code=AQABAAIAAAD--abc&state=1", "state=1"),
            (
                r#"{"device_code":"DAQABAAEAAA","user_code":"ABCD"}"#,
                "ABCD",
            ),
            ("password: hunter2", "password"),
        ] {
            let cleaned = redact_secrets(text);
            for secret in [
                "0.AXYZ",
                "opaque-value",
                "s3cr3t",
                "AQABAAIAAAD",
                "DAQABAAEAAA",
                "hunter2",
            ] {
                assert!(!cleaned.contains(secret), "{text} -> {cleaned}");
            }
            assert!(cleaned.contains(kept), "{text} -> {cleaned}");
        }
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for text in [
            "Resource 'a.b.c' does not exist.",
            "Insufficient privileges to complete the operation.",
            "the encode=1 and barcode: 5 fields",
            "Request_ResourceNotFound",
        ] {
            assert_eq!(clean(text), text);
        }
    }

    #[test]
    fn any_text_is_cleaned_without_a_panic() {
        let pieces = [
            "é",
            "\u{9b}",
            "code",
            "=",
            ":",
            "\"",
            "eyJ",
            ".",
            "token",
            "€",
            "\u{1b}",
            " ",
            "&",
            "access_token",
            "Bearer",
            "💥",
            "_",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = format!("{a}{b}{c}{a}");
                    let cleaned = clean(&text);
                    assert!(!cleaned.chars().any(char::is_control), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(
            clean("red\u{1b}[31m\r\nforged line\u{7}\u{9b}2J\u{202E}"),
            "red\\x1B[31m\\x0D\\x0Aforged line\\x07\\x9B2J\\u{202E}"
        );
        assert_eq!(clean("\u{1b}]0;title\u{7}"), "\\x1B]0;title\\x07");
    }
}
