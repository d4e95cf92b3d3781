//! The server's starting configuration, shared by `MockServer::start`, the binary's `--config`
//! file and (for its `users` part) the control API, so one JSON shape serves all three.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::chaos::ChaosConfig;
use crate::throttle::ThrottleConfig;
use crate::users::User;

/// `{"users":[{"id":"<guid>","userPrincipalName":"a@contoso.com"}], "latencyMs": 0,
/// "throttling": {"enabled": true, "scale": 0.01}, "chaos": {"throttleRate": 0.1, "seed": 42}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MockConfig {
    /// Users known from the start.
    #[serde(default)]
    pub users: Vec<User>,
    /// Delay added to every Graph answer, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Entra's throttling model (off by default).
    #[serde(default)]
    pub throttling: ThrottleConfig,
    /// Random faults (off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<ChaosConfig>,
}

impl MockConfig {
    /// Reads a JSON config file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("invalid config file {}", path.display()))
    }

    /// Sets the throttling model (builder style).
    pub fn with_throttling(mut self, throttling: ThrottleConfig) -> Self {
        self.throttling = throttling;
        self
    }

    /// Adds users (builder style).
    pub fn with_users(mut self, users: impl IntoIterator<Item = User>) -> Self {
        self.users.extend(users);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_settings_in_the_config_file_shape() {
        let c: MockConfig = serde_json::from_str(
            r#"{"users":[],"latencyMs":5,"throttling":{"enabled":true,"scale":0.5},
                "chaos":{"throttleRate":0.1,"seed":42}}"#,
        )
        .unwrap_or_default();
        assert!(c.throttling.enabled);
        assert_eq!(c.throttling.scale, 0.5);
        assert_eq!(c.chaos.map(|c| c.seed), Some(42));
        let plain: MockConfig = serde_json::from_str(r#"{"users":[]}"#).unwrap_or_default();
        assert!(!plain.throttling.enabled && plain.chaos.is_none());
        assert_eq!(plain, MockConfig::default());
    }
}
