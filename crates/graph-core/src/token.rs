//! Access tokens: the secret itself, kept in zeroizing memory, and the claims a caller may see.
//!
//! The module never validates a token's signature (only Entra and Graph can); it reads the
//! claims so it can show the sign-in context (tenant, app, account, scopes) and refuse a
//! token that is malformed or already expired before sending it anywhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{ErrorKind, GraphError};

/// A bearer token and what it says about itself.
pub struct AccessToken {
    secret: Zeroizing<String>,
    claims: TokenClaims,
    claims_readable: bool,
}

/// Claims shown to the user; never the token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenClaims {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    /// Expiry as seconds since the Unix epoch.
    pub expires_on: Option<i64>,
}

#[derive(Deserialize)]
struct RawClaims {
    tid: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
    upn: Option<String>,
    unique_name: Option<String>,
    preferred_username: Option<String>,
    scp: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    exp: Option<i64>,
}

impl AccessToken {
    /// Reads a token the user handed to `Connect-MgGraph -AccessToken`. A JWT's claims are
    /// read for `Get-MgContext`, and an expired one is refused before it is sent anywhere; a
    /// token that is not a JWT (access tokens are opaque to clients) is accepted as it is, and
    /// [`AccessToken::claims_readable`] says nothing could be shown. The bytes are copied into
    /// zeroizing memory; the caller remains responsible for wiping its own copy.
    pub fn parse(token: &[u8], now_unix: i64) -> Result<AccessToken, GraphError> {
        let token = AccessToken::issued(token)?;
        if let Some(expires_on) = token.claims.expires_on
            && expires_on <= now_unix
        {
            return Err(GraphError::new(
                ErrorKind::Authentication,
                format!(
                    "the access token expired {} seconds ago: get a new token and run Connect-MgGraph again",
                    now_unix.saturating_sub(expires_on)
                ),
            ));
        }
        Ok(token)
    }

    /// Takes a token as Entra ID (or a managed identity endpoint, or the token cache) issued
    /// it. Microsoft's guidance is that clients treat access tokens as opaque: its expiry comes
    /// from `expires_in`, and its claims are read only when it happens to be a JWT, for display.
    /// Only a token that cannot travel in an HTTP header (empty, spaces, control characters)
    /// is refused.
    pub fn issued(token: &[u8]) -> Result<AccessToken, GraphError> {
        let malformed = |why: &str| {
            GraphError::new(
                ErrorKind::Authentication,
                format!(
                    "the access token is malformed ({why}): pass the whole token as issued by Entra ID, without the 'Bearer ' prefix"
                ),
            )
        };
        let text = std::str::from_utf8(token).map_err(|_| malformed("it is not text"))?;
        let text = Zeroizing::new(text.trim().to_owned());
        if text.is_empty() {
            return Err(malformed("it is empty"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed("it contains spaces or control characters"));
        }
        let claims = read_claims(&text);
        Ok(AccessToken {
            claims_readable: claims.is_some(),
            claims: claims.unwrap_or_default(),
            secret: text,
        })
    }

    /// Whether the token is a JWT whose claims could be read (tenant, app, account, scopes).
    pub fn claims_readable(&self) -> bool {
        self.claims_readable
    }

    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// The token itself, for the encrypted token cache only.
    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }

    /// The value of the `Authorization` header.
    pub(crate) fn authorization_header(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("Bearer {}", self.secret.as_str()))
    }
}

/// The claims of a JWT (`header.payload.signature`, payload base64url JSON); `None` for
/// anything else.
fn read_claims(text: &str) -> Option<TokenClaims> {
    let mut parts = text.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let payload = Zeroizing::new(URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?);
    let raw: RawClaims = serde_json::from_slice(&payload).ok()?;
    Some(TokenClaims {
        tenant_id: raw.tid,
        client_id: raw.appid.or(raw.azp),
        account: raw.upn.or(raw.preferred_username).or(raw.unique_name),
        scopes: match raw.scp {
            Some(scp) => scp.split_whitespace().map(str::to_owned).collect(),
            None => raw.roles,
        },
        expires_on: raw.exp,
    })
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AccessToken")
            .field("secret", &"[redacted]")
            .field("claims", &self.claims)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn app_only_claims_are_read() {
        let token =
            jwt(r#"{"tid":"t1","appid":"a1","roles":["User.RevokeSessions.All"],"exp":2000}"#);
        let token = AccessToken::parse(token.as_bytes(), 1000).expect("valid");
        assert_eq!(
            token.claims(),
            &TokenClaims {
                tenant_id: Some("t1".into()),
                client_id: Some("a1".into()),
                account: None,
                scopes: vec!["User.RevokeSessions.All".into()],
                expires_on: Some(2000),
            }
        );
    }

    #[test]
    fn delegated_scopes_and_account_are_read() {
        let token = jwt(r#"{"upn":"admin@contoso.com","scp":"User.Read User.RevokeSessions.All"}"#);
        let claims = AccessToken::parse(token.as_bytes(), 0)
            .expect("valid")
            .claims()
            .clone();
        assert_eq!(claims.account.as_deref(), Some("admin@contoso.com"));
        assert_eq!(claims.scopes, ["User.Read", "User.RevokeSessions.All"]);
    }

    #[test]
    fn tokens_that_cannot_travel_in_a_header_are_refused_with_the_reason() {
        for (token, reason) in [
            ("", "empty"),
            ("Bearer a.b.c", "spaces"),
            ("a\u{1b}b", "control"),
        ] {
            let error = AccessToken::parse(token.as_bytes(), 0).expect_err(token);
            assert_eq!(error.kind, ErrorKind::Authentication);
            assert!(error.message.contains(reason), "{token}: {}", error.message);
        }
        assert!(AccessToken::parse(&[0xff, 0xfe], 0).is_err());
    }

    #[test]
    fn opaque_tokens_are_accepted_without_claims() {
        for token in [
            "abc",
            "a.b.c.d",
            "a.!!!.c",
            "a.bm90IGpzb24.c",
            "EwBwA8l6BAAU-opaque",
        ] {
            let parsed = AccessToken::parse(token.as_bytes(), 0).expect(token);
            assert!(!parsed.claims_readable(), "{token}");
            assert_eq!(parsed.claims(), &TokenClaims::default());
            let issued = AccessToken::issued(token.as_bytes()).expect(token);
            assert_eq!(issued.secret(), token);
        }
        let jwt = jwt(r#"{"tid":"t1"}"#);
        assert!(
            AccessToken::issued(jwt.as_bytes())
                .expect("jwt")
                .claims_readable()
        );
    }

    #[test]
    fn an_issued_token_is_not_judged_by_its_exp_claim() {
        let token = jwt(r#"{"exp":100}"#);
        assert!(AccessToken::issued(token.as_bytes()).is_ok());
    }

    #[test]
    fn expired_token_is_refused() {
        let token = jwt(r#"{"exp":100}"#);
        let error = AccessToken::parse(token.as_bytes(), 160).expect_err("expired");
        assert!(
            error.message.contains("expired 60 seconds ago"),
            "{}",
            error.message
        );
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let token = jwt(r#"{"exp":2000}"#);
        let parsed = AccessToken::parse(token.as_bytes(), 0).expect("valid");
        assert!(!format!("{parsed:?}").contains("c2lnbmF0dXJl"));
    }
}
