//! Tunables of the mock Entra ID: token lifetimes and clock skew (`PUT /_mock/entra`), and the
//! script the simulated user follows in the device-code flow (`POST /_mock/devicecode`).

use serde::{Deserialize, Serialize};

/// Lifetimes and tolerances (the body of `PUT /_mock/entra`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntraSettings {
    /// `expires_in` of issued access tokens (default 3599, Entra's usual); 2 gives a token that
    /// expires while a test runs.
    #[serde(default = "default_access")]
    pub access_token_lifetime_seconds: i64,
    /// How long a refresh token stays usable (default 90 days), AADSTS700082 after.
    #[serde(default = "default_refresh")]
    pub refresh_token_lifetime_seconds: i64,
    /// How long a refresh token stays usable after it was redeemed (rotated). Default 0: a
    /// redeemed refresh token is dead at once (AADSTS70000), so a client that keeps using an old
    /// one, or refreshes twice in parallel, is caught; real Entra is more lenient.
    #[serde(default)]
    pub refresh_token_reuse_grace_seconds: i64,
    /// Clock skew allowed on client assertions' `nbf` and `exp` (default 300, as Entra).
    #[serde(default = "default_skew")]
    pub clock_skew_seconds: i64,
}

fn default_access() -> i64 {
    3599
}

fn default_refresh() -> i64 {
    90 * 24 * 3600
}

fn default_skew() -> i64 {
    300
}

impl Default for EntraSettings {
    fn default() -> Self {
        EntraSettings {
            access_token_lifetime_seconds: default_access(),
            refresh_token_lifetime_seconds: default_refresh(),
            refresh_token_reuse_grace_seconds: 0,
            clock_skew_seconds: default_skew(),
        }
    }
}

/// How the simulated user ends a device-code sign-in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeviceCodeOutcome {
    /// Signs in: tokens are issued.
    #[default]
    Approve,
    /// Refuses: `authorization_declined`.
    Decline,
    /// Never finishes: `expired_token`.
    Expire,
}

/// The device-code script (the body of `POST /_mock/devicecode`); it applies to every code,
/// including those already handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceCodeScript {
    /// Polls answered `authorization_pending` before the outcome (default 0).
    #[serde(default)]
    pub pending_polls: u32,
    #[serde(default)]
    pub outcome: DeviceCodeOutcome,
    /// Who signs in (default `admin@contoso.com`).
    #[serde(default = "default_upn")]
    pub upn: String,
    /// Answer the first poll with `slow_down` (it counts as one of the pending polls).
    #[serde(default)]
    pub slow_down: bool,
    /// `interval` handed out (default 5, as Entra; 0 or 1 for fast tests).
    #[serde(default = "default_interval")]
    pub interval: u64,
    /// `expires_in` handed out (default 900); past it, polls get `expired_token`.
    #[serde(default = "default_expires")]
    pub expires_in: u64,
}

fn default_upn() -> String {
    "admin@contoso.com".to_owned()
}

fn default_interval() -> u64 {
    5
}

fn default_expires() -> u64 {
    900
}

impl Default for DeviceCodeScript {
    fn default() -> Self {
        DeviceCodeScript {
            pending_polls: 0,
            outcome: DeviceCodeOutcome::Approve,
            upn: default_upn(),
            slow_down: false,
            interval: default_interval(),
            expires_in: default_expires(),
        }
    }
}
