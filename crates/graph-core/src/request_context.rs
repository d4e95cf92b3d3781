//! Retry and timeout settings for every Graph call of the process: what
//! `Set-MgRequestContext` changes and `Get-MgRequestContext` shows.
//!
//! The official module's defaults are kept (3 retries, 3 s base delay, at most 10 retries),
//! with two deliberate differences:
//! - a throttled (429) request does not use up retries, it waits as long as Graph asks,
//!   within `retries_time_limit`, which is wall time for the whole call (or bulk item):
//!   attempts, retries and throttling pauses together. Giving up after 3 throttled retries is
//!   the official module's most complained-about failure in bulk revocations.
//! - the client timeout is 30 s, not 300 s: a revocation or a `$batch` of 20 is answered in
//!   well under a second, and with 300 s a server that never answers held one call for
//!   4 x 300 s. With the defaults a silent server now costs at most 4 x 30 s plus about 20 s
//!   of backoff. Connecting has its own 10 s limit (`http_client::CONNECT_TIMEOUT`).

use std::time::Duration;

use once_cell::sync::Lazy;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::error::GraphError;

/// Upper bound on retries of one request, as in the official module.
pub const MAX_RETRY_LIMIT: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// Retries of a request that failed with 503/504 or a broken connection.
    pub max_retry: u32,
    /// Base delay of the exponential backoff, in seconds, when Graph sends no Retry-After.
    pub retry_delay_seconds: u64,
    /// Longest wall time of one call (or bulk item), attempts and waits together, in seconds.
    pub retries_time_limit_seconds: u64,
    /// Longest wait for one HTTP exchange, in seconds.
    pub client_timeout_seconds: u64,
}

impl Default for RequestContext {
    fn default() -> RequestContext {
        RequestContext {
            max_retry: 3,
            retry_delay_seconds: 3,
            retries_time_limit_seconds: 600,
            client_timeout_seconds: 30,
        }
    }
}

static CURRENT: Lazy<RwLock<RequestContext>> = Lazy::new(|| RwLock::new(RequestContext::default()));

impl RequestContext {
    /// The settings in force now.
    pub fn current() -> RequestContext {
        *CURRENT.read()
    }

    /// Replaces the settings after checking them.
    pub fn set(context: RequestContext) -> Result<RequestContext, GraphError> {
        context.validate()?;
        *CURRENT.write() = context;
        Ok(context)
    }

    pub fn validate(&self) -> Result<(), GraphError> {
        if self.max_retry > MAX_RETRY_LIMIT {
            return Err(GraphError::invalid_argument(format!(
                "MaxRetry {} is more than the {MAX_RETRY_LIMIT} allowed",
                self.max_retry
            )));
        }
        if self.client_timeout_seconds == 0 {
            return Err(GraphError::invalid_argument(
                "ClientTimeout must be at least 1 second",
            ));
        }
        Ok(())
    }

    pub fn retry_delay(&self) -> Duration {
        Duration::from_secs(self.retry_delay_seconds)
    }

    pub fn retries_time_limit(&self) -> Duration {
        Duration::from_secs(self.retries_time_limit_seconds)
    }

    pub fn client_timeout(&self) -> Duration {
        Duration::from_secs(self.client_timeout_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_ten_retries_is_refused() {
        let context = RequestContext {
            max_retry: 11,
            ..RequestContext::default()
        };
        assert!(context.validate().is_err());
    }

    #[test]
    fn zero_timeout_is_refused() {
        let context = RequestContext {
            client_timeout_seconds: 0,
            ..RequestContext::default()
        };
        assert!(context.validate().is_err());
    }
}
