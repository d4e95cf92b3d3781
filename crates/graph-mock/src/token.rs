//! Access tokens: HS256 JWTs minted and verified with a random per-server key. They are real JWTs
//! with Entra ID's v1 claim names so that clients which read claims (expiry, `tid`, `roles`/`scp`)
//! behave as they would against Entra; only the signature algorithm differs, which no Graph client
//! checks (only the resource server does, and here that is us).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// `aud` of the tokens this mock mints, as Entra writes it for Graph v1 tokens.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// Graph's well-known application id, also accepted as an audience (Entra mints either form).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Tenant written into tokens when the request names none.
pub const DEFAULT_TENANT_ID: &str = "6e2f3b5c-9a1d-4c8e-b7f0-2d4a6c8e0f13";
/// Client application id written into tokens when the request names none.
pub const DEFAULT_APP_ID: &str = "3c7a9e1b-5d2f-4a6c-8e0b-1f3d5a7c9e2b";
/// Any one of these, as an application role or a delegated scope, allows revoking sessions.
pub const REVOKE_PERMISSIONS: [&str; 3] = [
    "User.RevokeSessions.All",
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
];
/// Roles and scopes that allow reading a user's `signInSessionsValidFromDateTime`.
pub const READ_PERMISSIONS: [&str; 4] = [
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
/// Lifetime of a minted token when the request does not say (Entra's usual hour).
pub const DEFAULT_LIFETIME_SECONDS: i64 = 3600;

/// What token to mint (the body of `POST /_mock/tokens`). A token is delegated when `scp` is set,
/// app-only otherwise; `upn` is only written into delegated tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// Application roles (app-only tokens), e.g. `["User.RevokeSessions.All"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Space-separated delegated scopes; setting it makes the token delegated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Seconds until `exp` (default 3600); zero or negative mints an already expired token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
    /// Seconds from now to `nbf` (default 0); positive mints a not-yet-valid token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before_in_seconds: Option<i64>,
    /// `tid` (default [`DEFAULT_TENANT_ID`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `appid` (default [`DEFAULT_APP_ID`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// `upn` of the signed-in user (delegated tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// `oid`; by default the id of the known user named by `upn`, else a new GUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// `aud` override, to mint a token for the wrong resource (default [`GRAPH_AUDIENCE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

impl TokenRequest {
    /// An app-only token carrying these application roles.
    pub fn app_only<S: Into<String>>(roles: impl IntoIterator<Item = S>) -> Self {
        TokenRequest {
            roles: Some(roles.into_iter().map(Into::into).collect()),
            ..Default::default()
        }
    }

    /// A delegated token for `upn` carrying these space-separated scopes.
    pub fn delegated(scp: impl Into<String>, upn: impl Into<String>) -> Self {
        TokenRequest {
            scp: Some(scp.into()),
            upn: Some(upn.into()),
            ..Default::default()
        }
    }

    /// Sets the lifetime in seconds (negative for an expired token).
    pub fn expires_in(mut self, seconds: i64) -> Self {
        self.expires_in_seconds = Some(seconds);
        self
    }
}

/// The answer of `POST /_mock/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MintedToken {
    /// The compact JWT.
    pub access_token: String,
    /// `exp`, in seconds since the Unix epoch.
    pub expires_on: i64,
}

/// The claims the mock writes and reads. Every field is optional on reading so that a token
/// missing one fails validation with a Graph error instead of a parse error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
}

impl Claims {
    /// Delegated tokens carry `scp`; app-only ones do not.
    pub fn is_delegated(&self) -> bool {
        self.scp.is_some()
    }

    /// Whether any role or scope is one that allows revoking sessions.
    pub fn may_revoke(&self) -> bool {
        self.holds_any(&REVOKE_PERMISSIONS)
    }

    /// Whether any role or scope is one that allows reading users in full.
    pub fn may_read_users(&self) -> bool {
        self.holds_any(&READ_PERMISSIONS)
    }

    fn holds_any(&self, permissions: &[&str]) -> bool {
        let allowed = |p: &str| permissions.iter().any(|r| r.eq_ignore_ascii_case(p));
        self.roles.iter().flatten().any(|r| allowed(r))
            || self
                .scp
                .iter()
                .flat_map(|s| s.split_ascii_whitespace())
                .any(allowed)
    }
}

/// Why a bearer token was refused; each maps to one Graph 401 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthError {
    Empty,
    Malformed,
    BadSignature,
    BadAudience,
    Expired,
}

impl AuthError {
    /// The `message` Graph sends (code is always `InvalidAuthenticationToken`).
    pub fn message(self) -> &'static str {
        match self {
            AuthError::Empty => "Access token is empty.",
            AuthError::Malformed => "CompactToken parsing failed with error code: 80049217",
            AuthError::BadSignature => "Access token validation failure.",
            AuthError::BadAudience => "Access token validation failure. Invalid audience.",
            AuthError::Expired => "Access token has expired or is not yet valid.",
        }
    }
}

/// Mints and verifies tokens with one random key (never leaves the process, survives resets, so a
/// token minted before `POST /_mock/reset` stays valid).
pub(crate) struct Signer {
    mac: HmacSha256,
}

#[derive(Serialize, Deserialize)]
struct JwtHeader {
    alg: String,
    typ: Option<String>,
}

impl Signer {
    pub fn random() -> anyhow::Result<Self> {
        let key: [u8; 32] = rand::random();
        let mac = HmacSha256::new_from_slice(&key)
            .map_err(|e| anyhow::anyhow!("cannot key HMAC-SHA256: {e}"))?;
        Ok(Signer { mac })
    }

    /// Mints a token for `req`, issued at `now` (epoch seconds), with `oid` already resolved.
    pub fn mint(&self, req: &TokenRequest, oid: String, now: i64) -> MintedToken {
        let tid = req
            .tenant_id
            .clone()
            .unwrap_or_else(|| DEFAULT_TENANT_ID.to_owned());
        let lifetime = req.expires_in_seconds.unwrap_or(DEFAULT_LIFETIME_SECONDS);
        let exp = now.saturating_add(lifetime);
        // An expired token still looks like one that was issued an hour before it expired.
        let iat = if lifetime > 0 {
            now
        } else {
            exp.saturating_sub(DEFAULT_LIFETIME_SECONDS)
        };
        let nbf = match req.not_before_in_seconds {
            Some(offset) => now.saturating_add(offset),
            None => iat,
        };
        let delegated = req.scp.is_some();
        let claims = Claims {
            aud: Some(
                req.audience
                    .clone()
                    .unwrap_or_else(|| GRAPH_AUDIENCE.to_owned()),
            ),
            iss: Some(format!("https://sts.windows.net/{tid}/")),
            iat: Some(iat),
            nbf: Some(nbf),
            exp: Some(exp),
            appid: Some(
                req.app_id
                    .clone()
                    .unwrap_or_else(|| DEFAULT_APP_ID.to_owned()),
            ),
            idtyp: Some(if delegated { "user" } else { "app" }.to_owned()),
            sub: Some(oid.clone()),
            oid: Some(oid),
            // App-only tokens always carry `roles` (maybe empty) like Entra's; delegated ones only
            // when asked.
            roles: if delegated {
                req.roles.clone()
            } else {
                Some(req.roles.clone().unwrap_or_default())
            },
            scp: req.scp.clone(),
            tid: Some(tid),
            upn: if delegated { req.upn.clone() } else { None },
            ver: Some("1.0".to_owned()),
        };
        let header = JwtHeader {
            alg: "HS256".to_owned(),
            typ: Some("JWT".to_owned()),
        };
        let header_json = serde_json::to_vec(&header).unwrap_or_default();
        let claims_json = serde_json::to_vec(&claims).unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header_json),
            URL_SAFE_NO_PAD.encode(claims_json)
        );
        let signature = self
            .mac
            .clone()
            .chain_update(signing_input.as_bytes())
            .finalize()
            .into_bytes();
        MintedToken {
            access_token: format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)),
            expires_on: exp,
        }
    }

    /// Validates an `Authorization` header value as Graph would: structure, signature, audience,
    /// then lifetime (no clock-skew allowance, so tests can mint a token expired by one second).
    pub fn verify(&self, authorization: Option<&str>, now: i64) -> Result<Claims, AuthError> {
        let value = authorization.map(str::trim).unwrap_or_default();
        if value.is_empty() {
            return Err(AuthError::Empty);
        }
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Malformed);
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Empty);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed);
        };
        let header: JwtHeader = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(AuthError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| AuthError::Malformed)?;
        // Only HS256 with our key is valid: `alg: none` or an RS256 token from elsewhere is a
        // signature failure, never a pass.
        if header.alg != "HS256" {
            return Err(AuthError::BadSignature);
        }
        let signing_input_len = h.len() + 1 + c.len();
        let signing_input = token.get(..signing_input_len).ok_or(AuthError::Malformed)?;
        self.mac
            .clone()
            .chain_update(signing_input.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| AuthError::BadSignature)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(AuthError::Malformed)?;
        let aud_ok = claims.aud.as_deref().is_some_and(|a| {
            a.trim_end_matches('/').eq_ignore_ascii_case(GRAPH_AUDIENCE)
                || a.eq_ignore_ascii_case(GRAPH_APP_ID)
        });
        if !aud_ok {
            return Err(AuthError::BadAudience);
        }
        match (claims.exp, claims.nbf) {
            (Some(exp), _) if exp <= now => Err(AuthError::Expired),
            (Some(_), Some(nbf)) if nbf > now => Err(AuthError::Expired),
            (Some(_), _) => Ok(claims),
            (None, _) => Err(AuthError::Expired),
        }
    }
}

/// Decodes a token's claims without checking anything (for tests and diagnostics).
pub fn decode_claims_unverified(token: &str) -> Option<Claims> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_739_441_826;

    fn signer() -> Signer {
        match Signer::random() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn round_trip_app_only() {
        let s = signer();
        let t = s.mint(
            &TokenRequest::app_only(["User.RevokeSessions.All"]),
            "oid-1".into(),
            NOW,
        );
        assert_eq!(t.expires_on, NOW + 3600);
        let c = s.verify(Some(&format!("Bearer {}", t.access_token)), NOW + 1);
        assert!(c.is_ok_and(|c| c.may_revoke() && !c.is_delegated() && c.upn.is_none()));
    }

    #[test]
    fn delegated_claims() {
        let s = signer();
        let t = s.mint(
            &TokenRequest::delegated("User.Read Directory.ReadWrite.All", "a@b.com"),
            "oid-2".into(),
            NOW,
        );
        let c = decode_claims_unverified(&t.access_token).unwrap_or_default();
        assert_eq!(c.upn.as_deref(), Some("a@b.com"));
        assert_eq!(
            c.iss.as_deref(),
            Some("https://sts.windows.net/6e2f3b5c-9a1d-4c8e-b7f0-2d4a6c8e0f13/")
        );
        assert!(c.may_revoke());
        assert!(c.roles.is_none());
    }

    #[test]
    fn refusals() {
        let s = signer();
        let ok = s
            .mint(&TokenRequest::app_only(["x"]), "o".into(), NOW)
            .access_token;
        assert_eq!(s.verify(None, NOW), Err(AuthError::Empty));
        assert_eq!(s.verify(Some("Bearer  "), NOW), Err(AuthError::Empty));
        assert_eq!(s.verify(Some("Bearer abc"), NOW), Err(AuthError::Malformed));
        let mut tampered = ok.clone();
        tampered.push('A');
        assert!(s.verify(Some(&format!("Bearer {tampered}")), NOW).is_err());
        let other = signer()
            .mint(&TokenRequest::app_only(["x"]), "o".into(), NOW)
            .access_token;
        assert_eq!(
            s.verify(Some(&format!("Bearer {other}")), NOW),
            Err(AuthError::BadSignature)
        );
        let expired = s
            .mint(
                &TokenRequest::app_only(["x"]).expires_in(-1),
                "o".into(),
                NOW,
            )
            .access_token;
        assert_eq!(
            s.verify(Some(&format!("Bearer {expired}")), NOW),
            Err(AuthError::Expired)
        );
        let wrong_aud = s
            .mint(
                &TokenRequest {
                    audience: Some("api://other".into()),
                    ..Default::default()
                },
                "o".into(),
                NOW,
            )
            .access_token;
        assert_eq!(
            s.verify(Some(&format!("Bearer {wrong_aud}")), NOW),
            Err(AuthError::BadAudience)
        );
        assert!(
            !s.verify(Some(&format!("Bearer {ok}")), NOW)
                .is_ok_and(|c| c.may_revoke())
        );
    }
}
