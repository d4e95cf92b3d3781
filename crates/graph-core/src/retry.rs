//! When and how long to wait before trying a request again.
//!
//! Retried: 429 (throttled), 503, 504 and connection failures (refused, reset, timed out);
//! revoking a user's sessions twice is harmless, so a POST that may have reached Graph is
//! safe to send again. `Retry-After` is honoured in seconds (fractional too) or as an HTTP
//! date; without it the wait is an exponential backoff with jitter, capped at 180 s. A
//! `Retry-After` of zero, or a date already past, counts as none (a server that says "again,
//! now" every time would otherwise get a request storm), and no wait is shorter than
//! [`MIN_RETRY_AFTER`]. Every retry loop also ends at `RetriesTimeLimit` of wall time.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// Longest backoff between two attempts, as in the official module.
pub const MAX_BACKOFF: Duration = Duration::from_secs(180);

/// What a failed attempt means for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// Graph asked to slow down: wait, without spending a retry.
    Throttled,
    /// A transient failure: wait and spend a retry.
    Transient,
    /// Final: report it.
    Final,
}

/// Shortest wait honoured from a `Retry-After`: Graph asks for seconds; a server asking for
/// less is not throttling anybody, and a floor keeps its retries from becoming a flood.
pub const MIN_RETRY_AFTER: Duration = Duration::from_millis(50);

/// Classifies an HTTP status.
pub fn classify_status(status: u16) -> RetryClass {
    match status {
        429 => RetryClass::Throttled,
        503 | 504 => RetryClass::Transient,
        _ => RetryClass::Final,
    }
}

/// Reads `Retry-After`: delta seconds (`2`, `2.128`) or an HTTP date. `None` when it is
/// unreadable, zero, negative or in the past: the caller then backs off as without one.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<f64>() {
        (seconds.is_finite() && seconds > 0.0)
            .then(|| Duration::from_secs_f64(seconds.min(MAX_BACKOFF.as_secs_f64() * 10.0)))?
    } else {
        SystemTime::from(parse_http_date(value)?)
            .duration_since(now)
            .ok()?
    };
    (!wait.is_zero()).then(|| wait.max(MIN_RETRY_AFTER))
}

/// An HTTP date (`Wed, 02 Dec 2026 20:09:02 GMT`, RFC 7231, or any RFC 2822 date); `None`
/// when it is not one.
pub fn parse_http_date(value: &str) -> Option<time::OffsetDateTime> {
    let value = value.trim();
    let format = time::format_description::well_known::Rfc2822;
    time::OffsetDateTime::parse(value, &format)
        .or_else(|_| time::OffsetDateTime::parse(&value.replace("GMT", "+0000"), &format))
        .ok()
}

/// Exponential backoff with full jitter: a random wait in [delay·2^attempt / 2, delay·2^attempt],
/// capped, so that many clients retrying at once spread out.
pub fn backoff(base_delay: Duration, attempt: u32) -> Duration {
    let exponent = attempt.min(16);
    let ceiling = base_delay.saturating_mul(1u32 << exponent).min(MAX_BACKOFF);
    let floor = ceiling / 2;
    let spread = ceiling.saturating_sub(floor);
    floor + spread.mul_f64(rand::rng().random_range(0.0..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_integer_and_fractional() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("2.128", now),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(parse_retry_after("0", now), None, "zero means back off");
        assert_eq!(parse_retry_after("0.0", now), None);
        assert_eq!(parse_retry_after("0.001", now), Some(MIN_RETRY_AFTER));
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn retry_after_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // 1_700_000_010 = Tue, 14 Nov 2023 22:13:30 GMT
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now),
            None,
            "a date in the past means back off"
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let base = Duration::from_secs(3);
        for attempt in 0..4 {
            let ceiling = base * (1 << attempt);
            let wait = backoff(base, attempt);
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "attempt {attempt}: {wait:?}"
            );
        }
        assert!(backoff(base, 30) <= MAX_BACKOFF);
    }

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify_status(429), RetryClass::Throttled);
        assert_eq!(classify_status(503), RetryClass::Transient);
        assert_eq!(classify_status(504), RetryClass::Transient);
        assert_eq!(classify_status(500), RetryClass::Final);
        assert_eq!(classify_status(404), RetryClass::Final);
    }
}
