//! Refresh tokens: opaque random strings bound to an app, a tenant, a user and scopes. Redeeming
//! one rotates it (a new one comes back; the old one dies after the configured grace), and they
//! can be revoked by the control API or, as on the real service, by revoking the user's sessions
//! through Graph (`invalidateAllRefreshTokens` / `revokeSignInSessions`): AADSTS50173 afterwards.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::errors::AadError;

/// What a refresh token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub app_id: String,
    pub tenant_id: String,
    pub upn: String,
    /// Space-separated scopes as granted.
    pub scope: String,
}

#[derive(Debug, Clone)]
struct Entry {
    grant: Grant,
    issued_at: i64,
    /// When it was redeemed (rotated), if it was.
    redeemed_at: Option<i64>,
    revoked: bool,
}

#[derive(Default)]
pub(crate) struct RefreshStore {
    tokens: HashMap<String, Entry>,
}

/// Lifetimes that apply at redemption.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub lifetime: i64,
    pub grace: i64,
}

impl RefreshStore {
    pub fn issue(&mut self, grant: Grant, now: i64) -> String {
        let bytes: [u8; 48] = rand::random();
        let token = format!("1.mock.{}", URL_SAFE_NO_PAD.encode(bytes));
        self.tokens.insert(
            token.clone(),
            Entry {
                grant,
                issued_at: now,
                redeemed_at: None,
                revoked: false,
            },
        );
        token
    }

    /// Checks `token` for `client_id` and marks it redeemed; the grant to issue new tokens for.
    pub fn redeem(
        &mut self,
        token: &str,
        client_id: &str,
        now: i64,
        policy: Policy,
    ) -> Result<Grant, AadError> {
        let invalid = |code, message: &str| AadError::bad("invalid_grant", code, message);
        let Some(entry) = self.tokens.get_mut(token) else {
            return Err(invalid(
                9_002_313,
                "Invalid request. Request is malformed or invalid.",
            ));
        };
        if !entry.grant.app_id.eq_ignore_ascii_case(client_id) {
            return Err(invalid(
                70_000,
                "Provided grant is invalid or malformed. The refresh token was issued to a different client.",
            ));
        }
        if entry.revoked {
            return Err(invalid(
                50_173,
                &format!(
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{}' and the TokensValidFrom date (before which tokens are not valid) for this user is later.",
                    super::errors::entra_timestamp(
                        time::OffsetDateTime::from_unix_timestamp(entry.issued_at)
                            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                    )
                ),
            ));
        }
        if now - entry.issued_at >= policy.lifetime {
            return Err(invalid(
                700_082,
                "The refresh token has expired due to inactivity. The token was issued and was inactive for longer than allowed.",
            ));
        }
        if entry.redeemed_at.is_some_and(|at| now - at >= policy.grace) {
            return Err(invalid(
                70_000,
                "Provided grant is invalid or malformed. The refresh token was already redeemed.",
            ));
        }
        entry.redeemed_at.get_or_insert(now);
        Ok(entry.grant.clone())
    }

    /// Revokes every token matching the filters (None matches all); how many were live.
    pub fn revoke(&mut self, upn: Option<&str>, app_id: Option<&str>) -> usize {
        let mut n = 0;
        for e in self.tokens.values_mut() {
            let upn_ok = upn.is_none_or(|u| e.grant.upn.eq_ignore_ascii_case(u));
            let app_ok = app_id.is_none_or(|a| e.grant.app_id.eq_ignore_ascii_case(a));
            if upn_ok && app_ok && !e.revoked {
                e.revoked = true;
                n += 1;
            }
        }
        n
    }

    pub fn clear(&mut self) {
        self.tokens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            app_id: "app".into(),
            tenant_id: "t".into(),
            upn: "a@x.com".into(),
            scope: "User.Read offline_access".into(),
        }
    }

    const POLICY: Policy = Policy {
        lifetime: 100,
        grace: 0,
    };

    #[test]
    fn rotation_revocation_and_expiry() {
        let mut s = RefreshStore::default();
        let t = s.issue(grant(), 0);
        assert!(s.redeem(&t, "APP", 1, POLICY).is_ok());
        assert_eq!(
            s.redeem(&t, "app", 1, POLICY).map_err(|e| e.code),
            Err(70_000)
        );
        let graced = Policy {
            grace: 10,
            ..POLICY
        };
        let t2 = s.issue(grant(), 0);
        assert!(s.redeem(&t2, "app", 1, graced).is_ok());
        assert!(s.redeem(&t2, "app", 5, graced).is_ok());
        assert!(s.redeem(&t2, "app", 11, graced).is_err());
        let t3 = s.issue(grant(), 0);
        assert_eq!(
            s.redeem(&t3, "other", 1, POLICY).map_err(|e| e.code),
            Err(70_000)
        );
        assert_eq!(s.revoke(Some("A@X.com"), None), 3);
        assert_eq!(
            s.redeem(&t3, "app", 1, POLICY).map_err(|e| e.code),
            Err(50_173)
        );
        let t4 = s.issue(grant(), 0);
        assert_eq!(
            s.redeem(&t4, "app", 100, POLICY).map_err(|e| e.code),
            Err(700_082)
        );
        assert_eq!(
            s.redeem("nope", "app", 1, POLICY).map_err(|e| e.code),
            Err(9_002_313)
        );
    }
}
