//! The server's starting configuration, shared by `MockServer::start`, the binary's `--config`
//! file and (for its `users` part) the control API, so one JSON shape serves all three.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::users::User;

/// `{"users":[{"id":"<guid>","userPrincipalName":"a@contoso.com"}], "latencyMs": 0}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MockConfig {
    /// Users known from the start.
    #[serde(default)]
    pub users: Vec<User>,
    /// Delay added to every Graph answer, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
}

impl MockConfig {
    /// Reads a JSON config file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("invalid config file {}", path.display()))
    }

    /// Adds users (builder style).
    pub fn with_users(mut self, users: impl IntoIterator<Item = User>) -> Self {
        self.users.extend(users);
        self
    }
}
