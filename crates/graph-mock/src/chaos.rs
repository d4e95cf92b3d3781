//! Probability-based faults for bulk tests (`POST /_mock/chaos`): each Graph request (revoke or
//! `$batch` item, never the `$batch` envelope itself) draws one number and, with the configured
//! rates, is throttled, answered 503 or 504, or has its connection reset. The generator is seeded
//! (see `rng`), so with a sequential client the whole run is reproducible.

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix;

/// Rates are fractions of requests, 0 to 1, together at most 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChaosConfig {
    /// Answered 429 `TooManyRequests` with `Retry-After: retryAfterSeconds`.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Answered 503 `ServiceUnavailable`.
    #[serde(default)]
    pub service_unavailable_rate: f64,
    /// Answered 504 `GatewayTimeout`.
    #[serde(default)]
    pub gateway_timeout_rate: f64,
    /// Connection dropped without an answer; a `$batch` item answers 504 instead.
    #[serde(default)]
    pub reset_rate: f64,
    /// `Retry-After` of the injected 429s (fractional seconds allowed).
    #[serde(default = "one")]
    pub retry_after_seconds: f64,
    /// Seed of the generator (default 0).
    #[serde(default)]
    pub seed: u64,
}

fn one() -> f64 {
    1.0
}

// `validate` refuses NaN before a config is stored, so equality is total on stored configs.
impl Eq for ChaosConfig {}

impl Default for ChaosConfig {
    fn default() -> Self {
        ChaosConfig {
            throttle_rate: 0.0,
            service_unavailable_rate: 0.0,
            gateway_timeout_rate: 0.0,
            reset_rate: 0.0,
            retry_after_seconds: 1.0,
            seed: 0,
        }
    }
}

impl ChaosConfig {
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            ("throttleRate", self.throttle_rate),
            ("serviceUnavailableRate", self.service_unavailable_rate),
            ("gatewayTimeoutRate", self.gateway_timeout_rate),
            ("resetRate", self.reset_rate),
        ];
        for (name, r) in rates {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("{name} must be between 0 and 1, not {r}"));
            }
        }
        if rates.iter().map(|(_, r)| r).sum::<f64>() > 1.0 + 1e-9 {
            return Err("the rates add up to more than 1".to_owned());
        }
        if !(self.retry_after_seconds.is_finite() && self.retry_after_seconds >= 0.0) {
            return Err("retryAfterSeconds must be a non-negative number".to_owned());
        }
        Ok(())
    }
}

/// What chaos does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Mischief {
    Throttle,
    ServiceUnavailable,
    GatewayTimeout,
    Reset,
}

/// Counters since chaos was last configured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChaosStats {
    /// Requests that drew a number.
    pub requests: u64,
    pub throttled: u64,
    pub service_unavailable: u64,
    pub gateway_timeout: u64,
    pub reset: u64,
}

#[derive(Default)]
pub(crate) struct Chaos {
    config: Option<ChaosConfig>,
    rng: SplitMix,
    stats: ChaosStats,
}

impl Chaos {
    /// Replaces the configuration (None switches chaos off); the generator restarts from the seed
    /// and the counters from zero.
    pub fn configure(&mut self, config: Option<ChaosConfig>) {
        self.rng = SplitMix::new(config.as_ref().map_or(0, |c| c.seed));
        self.config = config;
        self.stats = ChaosStats::default();
    }

    pub fn config(&self) -> Option<&ChaosConfig> {
        self.config.as_ref()
    }

    pub fn stats(&self) -> ChaosStats {
        self.stats.clone()
    }

    /// Draws the fate of one request.
    pub fn draw(&mut self) -> Option<(Mischief, f64)> {
        let config = self.config.clone()?;
        self.stats.requests += 1;
        let r = self.rng.next_unit();
        let mut edge = 0.0;
        for (rate, mischief) in [
            (config.throttle_rate, Mischief::Throttle),
            (
                config.service_unavailable_rate,
                Mischief::ServiceUnavailable,
            ),
            (config.gateway_timeout_rate, Mischief::GatewayTimeout),
            (config.reset_rate, Mischief::Reset),
        ] {
            edge += rate;
            if r < edge {
                let counter = match mischief {
                    Mischief::Throttle => &mut self.stats.throttled,
                    Mischief::ServiceUnavailable => &mut self.stats.service_unavailable,
                    Mischief::GatewayTimeout => &mut self.stats.gateway_timeout,
                    Mischief::Reset => &mut self.stats.reset,
                };
                *counter += 1;
                return Some((mischief, config.retry_after_seconds));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, n: usize) -> Vec<Option<Mischief>> {
        let mut c = Chaos::default();
        c.configure(Some(ChaosConfig {
            throttle_rate: 0.1,
            service_unavailable_rate: 0.05,
            reset_rate: 0.05,
            seed,
            ..Default::default()
        }));
        (0..n).map(|_| c.draw().map(|(m, _)| m)).collect()
    }

    #[test]
    fn seeded_and_close_to_the_rates() {
        assert_eq!(run(42, 200), run(42, 200));
        assert_ne!(run(42, 200), run(43, 200));
        let all = run(7, 10_000);
        let count = |m| all.iter().filter(|x| **x == Some(m)).count();
        assert!((800..1200).contains(&count(Mischief::Throttle)));
        assert!((350..650).contains(&count(Mischief::ServiceUnavailable)));
        assert!((350..650).contains(&count(Mischief::Reset)));
        assert_eq!(count(Mischief::GatewayTimeout), 0);
        let mut off = Chaos::default();
        assert!(off.draw().is_none());
        assert_eq!(off.stats().requests, 0);
    }

    #[test]
    fn validation() {
        let bad = ChaosConfig {
            throttle_rate: 0.7,
            reset_rate: 0.4,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let nan = ChaosConfig {
            throttle_rate: f64::NAN,
            ..Default::default()
        };
        assert!(nan.validate().is_err());
        assert!(ChaosConfig::default().validate().is_ok());
    }
}
