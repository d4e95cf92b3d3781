//! One token bucket: `capacity` tokens, refilled continuously at `capacity / window` per second,
//! which is how Entra describes its limits ("3,000 writes per 2 min 30 s" is a bucket of 3,000
//! refilled at 20 per second, not a fixed window that empties at once).

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn full(capacity: f64, now: Instant) -> Self {
        Bucket {
            tokens: capacity,
            last: now,
        }
    }

    /// Adds what has dripped in since the last look. The capacity is passed in every time because
    /// it may change (the resource-unit tier follows the number of users).
    pub fn refill(&mut self, capacity: f64, window_seconds: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        let rate = capacity / window_seconds;
        self.tokens = (self.tokens + elapsed * rate).min(capacity);
    }

    /// How long until `cost` tokens are there (zero when they already are).
    pub fn wait_for(&self, cost: f64, capacity: f64, window_seconds: f64) -> Duration {
        let missing = cost - self.tokens;
        if missing <= 0.0 {
            return Duration::ZERO;
        }
        let rate = capacity / window_seconds;
        Duration::try_from_secs_f64(missing / rate).unwrap_or(Duration::from_secs(3600))
    }

    pub fn take(&mut self, cost: f64) {
        self.tokens -= cost;
    }

    /// The used fraction, 0 (full) to 1 (empty).
    pub fn usage(&self, capacity: f64) -> f64 {
        (1.0 - self.tokens / capacity).clamp(0.0, 1.0)
    }

    #[cfg(test)]
    pub fn tokens(&self) -> f64 {
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drains_and_refills_continuously() {
        let t0 = Instant::now();
        let mut b = Bucket::full(10.0, t0);
        for _ in 0..10 {
            assert_eq!(b.wait_for(1.0, 10.0, 5.0), Duration::ZERO);
            b.take(1.0);
        }
        // 2 tokens per second: one token is half a second away.
        assert_eq!(b.wait_for(1.0, 10.0, 5.0), Duration::from_millis(500));
        assert!((b.usage(10.0) - 1.0).abs() < 1e-9);
        b.refill(10.0, 5.0, t0 + Duration::from_millis(1500));
        assert!((b.tokens() - 3.0).abs() < 1e-9);
        b.refill(10.0, 5.0, t0 + Duration::from_secs(100));
        assert!((b.tokens() - 10.0).abs() < 1e-9);
    }
}
