//! The throttling configuration (`PUT /_mock/throttling`, `MockConfig::throttling`) and the limits
//! it yields. The defaults are Entra's identity and access limits from graph-wire.md; `scale` and
//! `windowScale` shrink them proportionally so a test can reach a limit with a few dozen requests
//! and see it refill in milliseconds, while explicit `limits` entries pin one limit exactly.

use serde::{Deserialize, Serialize};

/// Which of Entra's token buckets a limit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LimitName {
    /// Resource units per app and tenant: 3,500 / 5,000 / 8,000 per 10 s by tenant size.
    AppTenantResourceUnits,
    /// Writes per app and tenant: 3,000 per 150 s.
    AppTenantWrites,
    /// Writes per tenant, all apps together: 18,000 per 5 min.
    TenantWrites,
    /// Resource units per app, all tenants together: 150,000 per 20 s.
    AppResourceUnits,
    /// Writes per app, all tenants together: 70,000 per 5 min.
    AppWrites,
    /// Requests per app, all tenants together: 2,000 per second.
    AppRequests,
}

impl LimitName {
    /// Every limit, in the order they are checked and reported.
    pub const ALL: [LimitName; 6] = [
        LimitName::AppTenantResourceUnits,
        LimitName::AppTenantWrites,
        LimitName::TenantWrites,
        LimitName::AppResourceUnits,
        LimitName::AppWrites,
        LimitName::AppRequests,
    ];

    /// The camelCase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitName::AppTenantResourceUnits => "appTenantResourceUnits",
            LimitName::AppTenantWrites => "appTenantWrites",
            LimitName::TenantWrites => "tenantWrites",
            LimitName::AppResourceUnits => "appResourceUnits",
            LimitName::AppWrites => "appWrites",
            LimitName::AppRequests => "appRequests",
        }
    }

    /// Entra's capacity and window in seconds. The app+tenant resource-unit capacity depends on
    /// the tenant's size (fewer than 50 users, 50 to 500, more).
    pub fn default_limit(self, tenant_users: u64) -> (f64, f64) {
        match self {
            LimitName::AppTenantResourceUnits => match tenant_users {
                0..50 => (3_500.0, 10.0),
                50..=500 => (5_000.0, 10.0),
                _ => (8_000.0, 10.0),
            },
            LimitName::AppTenantWrites => (3_000.0, 150.0),
            LimitName::TenantWrites => (18_000.0, 300.0),
            LimitName::AppResourceUnits => (150_000.0, 20.0),
            LimitName::AppWrites => (70_000.0, 300.0),
            LimitName::AppRequests => (2_000.0, 1.0),
        }
    }

    /// `x-ms-throttle-information` when this limit refuses a request.
    pub fn information(self) -> &'static str {
        match self {
            LimitName::AppTenantResourceUnits | LimitName::AppResourceUnits => {
                "ResourceUnitLimitExceeded"
            }
            LimitName::AppTenantWrites | LimitName::TenantWrites | LimitName::AppWrites => {
                "WriteLimitExceeded"
            }
            LimitName::AppRequests => "RequestLimitExceeded",
        }
    }

    /// `x-ms-throttle-scope` when this limit refuses a request of `app` in `tenant`. Graph's
    /// format is `<Scope>/<Limit>/<ApplicationId>/<TenantId>`, every part present, with
    /// `Limit` one of `Read`, `Write` or `ReadWrite` (resource units and requests count every
    /// request, so they are `ReadWrite`).
    pub fn scope(self, app: &str, tenant: &str) -> String {
        let (scope, limit) = match self {
            LimitName::AppTenantResourceUnits => ("Tenant_Application", "ReadWrite"),
            LimitName::AppTenantWrites => ("Tenant_Application", "Write"),
            LimitName::TenantWrites => ("Tenant", "Write"),
            LimitName::AppResourceUnits | LimitName::AppRequests => ("Application", "ReadWrite"),
            LimitName::AppWrites => ("Application", "Write"),
        };
        format!("{scope}/{limit}/{app}/{tenant}")
    }

    /// The bucket key: which requests share this limit.
    pub fn key(self, app: &str, tenant: &str) -> String {
        match self {
            LimitName::AppTenantResourceUnits | LimitName::AppTenantWrites => {
                format!("{app}/{tenant}")
            }
            LimitName::TenantWrites => tenant.to_owned(),
            LimitName::AppResourceUnits | LimitName::AppWrites | LimitName::AppRequests => {
                app.to_owned()
            }
        }
    }
}

/// An explicit capacity and/or window for one limit; what is given is used as is (not scaled).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitOverride {
    /// Bucket size (the burst), in resource units, writes or requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<f64>,
    /// Seconds to refill an empty bucket completely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<f64>,
}

/// Explicit limits, by name; a limit not named keeps its (scaled) default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_tenant_resource_units: Option<LimitOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_tenant_writes: Option<LimitOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_writes: Option<LimitOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_resource_units: Option<LimitOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_writes: Option<LimitOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_requests: Option<LimitOverride>,
}

impl LimitOverrides {
    pub fn get(&self, name: LimitName) -> Option<&LimitOverride> {
        match name {
            LimitName::AppTenantResourceUnits => self.app_tenant_resource_units.as_ref(),
            LimitName::AppTenantWrites => self.app_tenant_writes.as_ref(),
            LimitName::TenantWrites => self.tenant_writes.as_ref(),
            LimitName::AppResourceUnits => self.app_resource_units.as_ref(),
            LimitName::AppWrites => self.app_writes.as_ref(),
            LimitName::AppRequests => self.app_requests.as_ref(),
        }
    }

    fn all(&self) -> impl Iterator<Item = (LimitName, &LimitOverride)> {
        LimitName::ALL
            .into_iter()
            .filter_map(|n| self.get(n).map(|o| (n, o)))
    }
}

/// Throttling settings. Off by default; `{"enabled":true}` applies Entra's real limits.
///
/// ```json
/// {"enabled":true,"scale":0.01,"windowScale":0.01,"fractionalRetryAfter":true,
///  "limits":{"appTenantWrites":{"capacity":10,"windowSeconds":0.5}}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Whether requests are throttled at all.
    #[serde(default)]
    pub enabled: bool,
    /// Multiplies every default capacity (0.01 turns 3,000 writes into 30). Capacities never go
    /// below 1.
    #[serde(default = "one")]
    pub scale: f64,
    /// Multiplies every default window (0.01 turns 150 s into 1.5 s); with the same factor as
    /// `scale`, the sustained rates stay Entra's while bursts and waits shrink.
    #[serde(default = "one")]
    pub window_scale: f64,
    /// `Retry-After` as fractional seconds (`2.128`, as Graph may send) or as whole seconds
    /// rounded up (at least 1).
    #[serde(default = "yes")]
    pub fractional_retry_after: bool,
    /// The tenant size that picks the app+tenant resource-unit tier; default: the number of users
    /// the mock holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_user_count: Option<u64>,
    /// Explicit limits, used as given.
    #[serde(default)]
    pub limits: LimitOverrides,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

// `validate` refuses NaN and infinities before a config is used or stored, so equality is total on
// every config the server holds; `Eq` keeps `MockConfig` comparable as it always was.
impl Eq for ThrottleConfig {}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            enabled: false,
            scale: 1.0,
            window_scale: 1.0,
            fractional_retry_after: true,
            tenant_user_count: None,
            limits: LimitOverrides::default(),
        }
    }
}

impl ThrottleConfig {
    /// Entra's real limits, switched on.
    pub fn entra() -> Self {
        ThrottleConfig {
            enabled: true,
            ..Default::default()
        }
    }

    /// Entra's limits with capacities multiplied by `scale` and windows by `window_scale`.
    pub fn scaled(scale: f64, window_scale: f64) -> Self {
        ThrottleConfig {
            enabled: true,
            scale,
            window_scale,
            ..Default::default()
        }
    }

    /// Sets one limit exactly (builder style).
    pub fn with_limit(mut self, name: LimitName, capacity: f64, window_seconds: f64) -> Self {
        let o = Some(LimitOverride {
            capacity: Some(capacity),
            window_seconds: Some(window_seconds),
        });
        match name {
            LimitName::AppTenantResourceUnits => self.limits.app_tenant_resource_units = o,
            LimitName::AppTenantWrites => self.limits.app_tenant_writes = o,
            LimitName::TenantWrites => self.limits.tenant_writes = o,
            LimitName::AppResourceUnits => self.limits.app_resource_units = o,
            LimitName::AppWrites => self.limits.app_writes = o,
            LimitName::AppRequests => self.limits.app_requests = o,
        }
        self
    }

    /// Refuses numbers that would make a bucket meaningless.
    pub fn validate(&self) -> Result<(), String> {
        let positive = |what: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be a positive number, not {v}"))
            }
        };
        positive("scale", self.scale)?;
        positive("windowScale", self.window_scale)?;
        for (name, o) in self.limits.all() {
            if let Some(c) = o.capacity {
                positive(&format!("limits.{}.capacity", name.as_str()), c)?;
            }
            if let Some(w) = o.window_seconds {
                positive(&format!("limits.{}.windowSeconds", name.as_str()), w)?;
            }
        }
        Ok(())
    }

    /// The effective (capacity, window seconds) of one limit for a tenant of this many users.
    pub fn limit(&self, name: LimitName, directory_users: u64) -> (f64, f64) {
        let users = self.tenant_user_count.unwrap_or(directory_users);
        let (capacity, window) = name.default_limit(users);
        let o = self.limits.get(name).copied().unwrap_or_default();
        let capacity = o.capacity.unwrap_or(capacity * self.scale).max(1.0);
        let window = o.window_seconds.unwrap_or(window * self.window_scale);
        (capacity, window)
    }
}

/// One limit as it applies right now (in `GET /_mock/throttling`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveLimit {
    pub name: LimitName,
    pub capacity: f64,
    pub window_seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_scale_and_overrides() {
        let c = ThrottleConfig::default();
        assert_eq!(
            c.limit(LimitName::AppTenantResourceUnits, 10),
            (3500.0, 10.0)
        );
        assert_eq!(
            c.limit(LimitName::AppTenantResourceUnits, 50),
            (5000.0, 10.0)
        );
        assert_eq!(
            c.limit(LimitName::AppTenantResourceUnits, 501),
            (8000.0, 10.0)
        );
        let s = ThrottleConfig::scaled(0.01, 0.1);
        assert_eq!(s.limit(LimitName::AppTenantWrites, 0), (30.0, 15.0));
        assert_eq!(s.limit(LimitName::AppRequests, 0), (20.0, 0.1));
        let o = s.with_limit(LimitName::AppTenantWrites, 5.0, 2.0);
        assert_eq!(o.limit(LimitName::AppTenantWrites, 0), (5.0, 2.0));
        let tiny = ThrottleConfig::scaled(1e-9, 1.0);
        assert_eq!(tiny.limit(LimitName::AppWrites, 0).0, 1.0);
    }

    #[test]
    fn validation_and_json() {
        assert!(ThrottleConfig::scaled(0.0, 1.0).validate().is_err());
        assert!(ThrottleConfig::scaled(f64::NAN, 1.0).validate().is_err());
        let c: ThrottleConfig = serde_json::from_str(
            r#"{"enabled":true,"scale":0.01,"limits":{"appTenantWrites":{"capacity":10}}}"#,
        )
        .unwrap_or_default();
        assert!(c.enabled && c.fractional_retry_after && c.window_scale == 1.0);
        assert_eq!(c.limit(LimitName::AppTenantWrites, 0), (10.0, 150.0));
        assert!(serde_json::from_str::<ThrottleConfig>(r#"{"enabeld":true}"#).is_err());
        assert_eq!(
            LimitName::AppTenantWrites.scope("a", "t"),
            "Tenant_Application/Write/a/t"
        );
    }
}
