//! Entra's identity-and-access throttling, as token buckets keyed by the token's `appid` and
//! `tid` (see `config` for the limits). A request must find its cost in every bucket it draws
//! from, or it is refused as a whole (nothing is taken) with the wait until the emptiest one has
//! refilled enough: the `Retry-After` a perfect client would honour and then succeed.

mod bucket;
mod config;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

use crate::wire::{self, Correlation};
use bucket::Bucket;
pub use config::{EffectiveLimit, LimitName, LimitOverride, LimitOverrides, ThrottleConfig};

/// What one request costs. A revoke is one resource unit, one write and one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cost {
    pub resource_units: f64,
    pub writes: f64,
}

impl Cost {
    pub const REVOKE: Cost = Cost {
        resource_units: 1.0,
        writes: 1.0,
    };

    /// A user read: one resource unit, no write.
    pub const READ: Cost = Cost {
        resource_units: 1.0,
        writes: 0.0,
    };

    fn of(self, name: LimitName) -> f64 {
        match name {
            LimitName::AppTenantResourceUnits | LimitName::AppResourceUnits => self.resource_units,
            LimitName::AppTenantWrites | LimitName::TenantWrites | LimitName::AppWrites => {
                self.writes
            }
            LimitName::AppRequests => 1.0,
        }
    }
}

/// Counters since throttling was last configured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStats {
    /// Requests that passed every bucket.
    pub accepted: u64,
    /// Requests answered 429.
    pub throttled: u64,
    /// 429s by the limit that refused them (the one with the longest wait).
    pub throttled_by: BTreeMap<String, u64>,
}

/// The throttle's decision on one request.
#[derive(Debug, Clone)]
pub(crate) enum Verdict {
    /// Passed; `usage` is the highest used fraction among its buckets afterwards (0 when off).
    Accepted {
        usage: f64,
    },
    Throttled(Throttled),
}

#[derive(Debug, Clone)]
pub(crate) struct Throttled {
    pub limit: LimitName,
    pub retry_after: Duration,
    pub scope: String,
    pub fractional: bool,
}

#[derive(Default)]
pub(crate) struct Throttler {
    config: ThrottleConfig,
    buckets: HashMap<(LimitName, String), Bucket>,
    stats: ThrottleStats,
}

impl Throttler {
    pub fn new(config: ThrottleConfig) -> Self {
        Throttler {
            config,
            ..Default::default()
        }
    }

    /// Replaces the configuration; buckets start full again and the counters restart at zero.
    pub fn configure(&mut self, config: ThrottleConfig) {
        *self = Throttler::new(config);
    }

    pub fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    pub fn stats(&self) -> ThrottleStats {
        self.stats.clone()
    }

    pub fn effective_limits(&self, directory_users: u64) -> Vec<EffectiveLimit> {
        LimitName::ALL
            .into_iter()
            .map(|name| {
                let (capacity, window_seconds) = self.config.limit(name, directory_users);
                EffectiveLimit {
                    name,
                    capacity,
                    window_seconds,
                }
            })
            .collect()
    }

    /// Charges `cost` to the buckets of `app` in `tenant`, or refuses without charging anything.
    pub fn check(
        &mut self,
        app: &str,
        tenant: &str,
        cost: Cost,
        directory_users: u64,
        now: Instant,
    ) -> Verdict {
        if !self.config.enabled {
            return Verdict::Accepted { usage: 0.0 };
        }
        let mut worst: Option<(LimitName, Duration)> = None;
        for name in LimitName::ALL {
            let (capacity, window) = self.config.limit(name, directory_users);
            let bucket = self
                .buckets
                .entry((name, name.key(app, tenant)))
                .or_insert_with(|| Bucket::full(capacity, now));
            bucket.refill(capacity, window, now);
            let wait = bucket.wait_for(cost.of(name), capacity, window);
            if !wait.is_zero() && worst.is_none_or(|(_, w)| wait > w) {
                worst = Some((name, wait));
            }
        }
        if let Some((limit, retry_after)) = worst {
            self.stats.throttled += 1;
            *self
                .stats
                .throttled_by
                .entry(limit.as_str().to_owned())
                .or_default() += 1;
            return Verdict::Throttled(Throttled {
                limit,
                retry_after,
                scope: limit.scope(app, tenant),
                fractional: self.config.fractional_retry_after,
            });
        }
        let mut usage: f64 = 0.0;
        for name in LimitName::ALL {
            let (capacity, _) = self.config.limit(name, directory_users);
            if let Some(bucket) = self.buckets.get_mut(&(name, name.key(app, tenant))) {
                bucket.take(cost.of(name));
                usage = usage.max(bucket.usage(capacity));
            }
        }
        self.stats.accepted += 1;
        Verdict::Accepted { usage }
    }
}

/// `Retry-After` text: `2.128` (milliseconds precision, never 0) or whole seconds rounded up.
pub(crate) fn format_retry_after(wait: Duration, fractional: bool) -> String {
    let secs = wait.as_secs_f64();
    if fractional {
        let text = format!("{:.3}", secs.max(0.001));
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{}", secs.ceil().max(1.0))
    }
}

impl Throttled {
    /// Graph's 429: the TooManyRequests body and the throttling headers.
    pub fn response(&self, corr: &Correlation) -> Response {
        let mut resp = wire::error_response(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Please retry again later.",
            corr,
        );
        let h = resp.headers_mut();
        insert(
            h,
            "retry-after",
            &format_retry_after(self.retry_after, self.fractional),
        );
        insert(h, "x-ms-throttle-scope", &self.scope);
        insert(h, "x-ms-throttle-information", self.limit.information());
        resp
    }
}

/// Headers of an answer that passed the throttle: its cost, and how close the caller is to a limit
/// once above 80 % (as Graph starts warning).
pub(crate) fn add_accepted_headers(headers: &mut HeaderMap, usage: f64) {
    insert(headers, "x-ms-resource-unit", "1");
    if usage > 0.8 {
        insert(
            headers,
            "x-ms-throttle-limit-percentage",
            &format!("{:.2}", usage.min(1.0)),
        );
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled(v: &Verdict) -> Option<&Throttled> {
        match v {
            Verdict::Throttled(t) => Some(t),
            Verdict::Accepted { .. } => None,
        }
    }

    #[test]
    fn write_bucket_refuses_then_refills() {
        let config = ThrottleConfig::entra().with_limit(LimitName::AppTenantWrites, 3.0, 1.5);
        let mut t = Throttler::new(config);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(throttled(&t.check("a", "t", Cost::REVOKE, 0, t0)).is_none());
        }
        let v = t.check("a", "t", Cost::REVOKE, 0, t0);
        let refused = throttled(&v).cloned();
        assert!(
            refused
                .as_ref()
                .is_some_and(|r| r.limit == LimitName::AppTenantWrites
                    && r.retry_after == Duration::from_millis(500)
                    && r.scope == "Tenant_Application/Write/a/t")
        );
        // Another app in the same tenant has its own app+tenant bucket.
        assert!(throttled(&t.check("b", "t", Cost::REVOKE, 0, t0)).is_none());
        let later = t0 + Duration::from_millis(500);
        assert!(throttled(&t.check("a", "t", Cost::REVOKE, 0, later)).is_none());
        assert_eq!(t.stats().accepted, 5);
        assert_eq!(t.stats().throttled_by.get("appTenantWrites"), Some(&1));
    }

    #[test]
    fn usage_and_formats() {
        let config = ThrottleConfig::entra().with_limit(LimitName::AppTenantWrites, 10.0, 10.0);
        let mut t = Throttler::new(config);
        let t0 = Instant::now();
        let mut last = 0.0;
        for _ in 0..9 {
            if let Verdict::Accepted { usage } = t.check("a", "t", Cost::REVOKE, 0, t0) {
                last = usage;
            }
        }
        assert!((last - 0.9).abs() < 1e-9);
        let mut h = HeaderMap::new();
        add_accepted_headers(&mut h, last);
        assert_eq!(
            h.get("x-ms-throttle-limit-percentage")
                .and_then(|v| v.to_str().ok()),
            Some("0.90")
        );
        assert_eq!(
            format_retry_after(Duration::from_millis(2128), true),
            "2.128"
        );
        assert_eq!(format_retry_after(Duration::from_millis(2000), true), "2");
        assert_eq!(format_retry_after(Duration::ZERO, true), "0.001");
        assert_eq!(format_retry_after(Duration::from_millis(2128), false), "3");
        assert_eq!(format_retry_after(Duration::from_millis(10), false), "1");
        let mut off = Throttler::default();
        assert!(matches!(
            off.check("a", "t", Cost::REVOKE, 0, t0),
            Verdict::Accepted { usage } if usage == 0.0
        ));
        assert_eq!(off.stats().accepted, 0);
    }
}
