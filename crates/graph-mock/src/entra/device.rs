//! The device-code flow's state: codes handed out by `/devicecode` and what each poll of the token
//! endpoint gets, following the [`DeviceCodeScript`] (pending polls, optional `slow_down`, then
//! approve / decline / expire). A code is single-use: once it has produced its outcome, further
//! polls get `bad_verification_code`.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::errors::AadError;
use super::settings::{DeviceCodeOutcome, DeviceCodeScript};

/// A code handed out.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub app_id: String,
    pub tenant_id: String,
    pub scope: String,
    expires_at: i64,
    polls: u32,
    done: bool,
}

/// What a poll gets.
#[derive(Debug)]
pub(crate) enum Poll {
    /// Signed in as `upn`: issue tokens.
    Approved {
        pending: Pending,
        upn: String,
    },
    Refused(AadError),
}

#[derive(Default)]
pub(crate) struct DeviceCodes {
    codes: HashMap<String, Pending>,
}

/// `device_code`, `user_code` of a new code.
pub(crate) struct Issued {
    pub device_code: String,
    pub user_code: String,
}

impl DeviceCodes {
    pub fn issue(
        &mut self,
        app_id: &str,
        tenant_id: &str,
        scope: &str,
        now: i64,
        script: &DeviceCodeScript,
    ) -> Issued {
        let bytes: [u8; 32] = rand::random();
        let device_code = format!("DAQABAAEAAAD.mock.{}", URL_SAFE_NO_PAD.encode(bytes));
        // Nine characters from an alphabet without look-alikes, like Entra's user codes.
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let user_code: String = (0..9)
            .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
            .collect();
        self.codes.insert(
            device_code.clone(),
            Pending {
                app_id: app_id.to_owned(),
                tenant_id: tenant_id.to_owned(),
                scope: scope.to_owned(),
                expires_at: now + i64::try_from(script.expires_in).unwrap_or(i64::MAX / 2),
                polls: 0,
                done: false,
            },
        );
        Issued {
            device_code,
            user_code,
        }
    }

    pub fn poll(
        &mut self,
        device_code: &str,
        client_id: &str,
        now: i64,
        script: &DeviceCodeScript,
    ) -> Poll {
        let bad = || {
            Poll::Refused(AadError::bad(
                "bad_verification_code",
                70_018,
                "Invalid verification code or device code.",
            ))
        };
        let expired = || {
            Poll::Refused(AadError::bad(
                "expired_token",
                70_019,
                "Verification code expired.",
            ))
        };
        let Some(p) = self.codes.get_mut(device_code) else {
            return bad();
        };
        if p.done || !p.app_id.eq_ignore_ascii_case(client_id) {
            return bad();
        }
        if now >= p.expires_at {
            p.done = true;
            return expired();
        }
        p.polls += 1;
        if script.slow_down && p.polls == 1 {
            return Poll::Refused(AadError::bad(
                "slow_down",
                70_016,
                "OAuth 2.0 device flow error. Authorization is pending and the client is polling too often: add 5 seconds to the interval.",
            ));
        }
        if p.polls <= script.pending_polls {
            return Poll::Refused(AadError::bad(
                "authorization_pending",
                70_016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ));
        }
        p.done = true;
        match script.outcome {
            DeviceCodeOutcome::Approve => Poll::Approved {
                pending: p.clone(),
                upn: script.upn.clone(),
            },
            DeviceCodeOutcome::Decline => Poll::Refused(AadError::bad(
                "authorization_declined",
                70_000,
                "The user declined to authorize the request.",
            )),
            DeviceCodeOutcome::Expire => expired(),
        }
    }

    pub fn clear(&mut self) {
        self.codes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(p: Poll) -> &'static str {
        match p {
            Poll::Refused(e) => e.error,
            Poll::Approved { .. } => "approved",
        }
    }

    #[test]
    fn script_is_followed() {
        let mut d = DeviceCodes::default();
        let script = DeviceCodeScript {
            pending_polls: 2,
            slow_down: true,
            ..Default::default()
        };
        let code = d.issue("app", "t", "User.Read", 0, &script).device_code;
        assert_eq!(refused(d.poll(&code, "app", 1, &script)), "slow_down");
        assert_eq!(
            refused(d.poll(&code, "app", 1, &script)),
            "authorization_pending"
        );
        assert_eq!(refused(d.poll(&code, "app", 1, &script)), "approved");
        assert_eq!(
            refused(d.poll(&code, "app", 1, &script)),
            "bad_verification_code"
        );
        let decline = DeviceCodeScript {
            outcome: DeviceCodeOutcome::Decline,
            ..Default::default()
        };
        let code = d.issue("app", "t", "x", 0, &decline).device_code;
        assert_eq!(
            refused(d.poll(&code, "other", 1, &decline)),
            "bad_verification_code"
        );
        assert_eq!(
            refused(d.poll(&code, "app", 1, &decline)),
            "authorization_declined"
        );
        let code = d.issue("app", "t", "x", 0, &decline).device_code;
        assert_eq!(
            refused(d.poll(&code, "app", 900, &decline)),
            "expired_token"
        );
    }
}
