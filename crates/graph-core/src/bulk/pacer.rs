//! How many items may be sent per second once Graph's write quota has been hit.
//!
//! Entra's limits are token buckets: a burst, then a steady refill (3,000 writes, then 20 per
//! second). Counting requests in flight cannot hold a client at 20 items per second when one
//! batch carries 20 items: the smallest concurrency, one batch per round trip, is already
//! above the quota, and every extra item comes back 429. So after a *quota* 429 (one carrying
//! `x-ms-throttle-scope` or `x-ms-throttle-information`: the bucket is empty at that moment)
//! the dispatcher paces items instead.
//!
//! The refill rate is measured, not guessed: between two quota 429s the bucket went from
//! empty to empty, so the items Graph accepted in between, divided by the time between, is its
//! refill rate (to within an item at each end). The pacer sends a little below that rate and
//! creeps up while `x-ms-throttle-limit-percentage` says there is room, holds when it says the
//! bucket is nearly empty, and the next quota 429 refines the measurement. Items wait until the
//! allowance covers a whole batch, so a batch never lands on an empty bucket.
//!
//! 429s without those headers (a busy backend, injected faults) say nothing about a quota: they
//! only make their own items wait their `Retry-After`, and never feed the measurement.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Fewer accepted items than this between two quota 429s, or a shorter span, make no
/// measurement: answers arriving out of order could skew it wildly. A first measurement is
/// rough (a few items over a round trip); every quota 429 after it measures again over a
/// longer span, and a rate measured too low is crept past (see `CREEP_WITH_ROOM`).
const MIN_MEASURED_ITEMS: u64 = 5;
const MIN_MEASURED_SPAN: Duration = Duration::from_millis(20);
/// Measurements reach back this far at most, so a quota that changes (another app starts
/// writing in the tenant) is followed.
const MEASURE_WINDOW: Duration = Duration::from_secs(10);
/// Right after a quota 429, send this much below the measured rate.
const MARGIN: f64 = 0.03;
/// Share of the measured rate added per second while the bucket is not nearly empty.
const CREEP_NEAR_LIMIT: f64 = 0.01;
/// The same while Graph sends no `x-ms-throttle-limit-percentage` (below 80 % used).
const CREEP_WITH_ROOM: f64 = 0.10;
/// `x-ms-throttle-limit-percentage` at or above this: the bucket is about to run dry.
const NEARLY_EMPTY: f64 = 0.99;

#[derive(Debug)]
pub(crate) struct Pacer {
    /// Items a batch can carry: the most the allowance can hold, so it never bursts.
    batch_size: f64,
    /// The measured refill rate, items per second; `None` until measured.
    measured: Option<f64>,
    /// The rate items are sent at now.
    rate: f64,
    /// Share of `measured` added to `rate` per second.
    creep: f64,
    /// Items that may be sent now.
    allowance: f64,
    updated: Instant,
    /// Items Graph accepted during the run.
    accepted: u64,
    /// Quota 429s: when, and `accepted` at that moment; oldest first.
    events: VecDeque<(Instant, u64)>,
    /// Items accepted in the latest answer that had quota 429s.
    accepted_before_refusal: Option<u64>,
}

impl Pacer {
    pub(crate) fn new(batch_size: usize, now: Instant) -> Pacer {
        Pacer {
            batch_size: batch_size.max(1) as f64,
            measured: None,
            rate: 0.0,
            creep: 0.0,
            allowance: 0.0,
            updated: now,
            accepted: 0,
            events: VecDeque::new(),
            accepted_before_refusal: None,
        }
    }

    /// Whether items are paced (the quota's rate is known).
    pub(crate) fn is_pacing(&self) -> bool {
        self.measured.is_some()
    }

    /// The measured refill rate, if any.
    #[cfg(test)]
    pub(crate) fn measured(&self) -> Option<f64> {
        self.measured
    }

    /// Most items the next request may carry. While the rate is being measured, a full batch
    /// into an empty bucket would mostly come back 429: twice what got through last time is
    /// enough to find the bucket empty again, which is all a measurement needs.
    pub(crate) fn batch_limit(&self) -> usize {
        let batch = self.batch_size as usize;
        match (self.measured, self.accepted_before_refusal) {
            (None, Some(accepted)) => (2 * accepted as usize).clamp(2, batch.max(2)).min(batch),
            _ => batch,
        }
    }

    /// Items Graph accepted.
    pub(crate) fn on_accepted(&mut self, items: u64) {
        self.accepted += items;
    }

    /// A quota 429 arrived, in an answer where `accepted` items went through (already counted
    /// with [`Pacer::on_accepted`]). `in_order`: every request sent before it has been
    /// answered, so the count is complete and the moment can anchor a measurement.
    pub(crate) fn on_quota_throttled(&mut self, now: Instant, accepted: u64, in_order: bool) {
        self.advance(now);
        self.accepted_before_refusal = Some(accepted);
        if in_order {
            self.measure(now);
        }
        if let Some(measured) = self.measured {
            // The bucket is empty now: start again below the rate it refills at.
            self.rate = measured * (1.0 - MARGIN);
            self.creep = CREEP_NEAR_LIMIT;
            self.allowance = 0.0;
        }
    }

    fn measure(&mut self, now: Instant) {
        self.events.push_back((now, self.accepted));
        while self.events.len() > 2 && self.events[1].0 + MEASURE_WINDOW <= now {
            self.events.pop_front();
        }
        if let Some(&(since, accepted_then)) = self.events.front() {
            let items = self.accepted - accepted_then;
            let span = now.saturating_duration_since(since);
            if items >= MIN_MEASURED_ITEMS && span >= MIN_MEASURED_SPAN {
                self.measured = Some(items as f64 / span.as_secs_f64());
            }
        }
    }

    /// The highest `x-ms-throttle-limit-percentage` of an answer without quota 429s (`None`
    /// when Graph sent none: less than 80 % of the quota is used).
    pub(crate) fn on_limit_percentage(&mut self, now: Instant, used: Option<f64>) {
        let Some(measured) = self.measured else {
            return;
        };
        self.advance(now);
        match used {
            None => self.creep = CREEP_WITH_ROOM,
            Some(used) if used >= NEARLY_EMPTY => {
                // About to run dry: hold at the measured rate until there is room again.
                self.creep = 0.0;
                self.rate = self.rate.min(measured);
            }
            Some(_) => self.creep = CREEP_NEAR_LIMIT,
        }
    }

    /// Nothing to send and nothing in flight: the bucket refills unobserved, so the next quota
    /// 429 cannot be measured against the last one.
    pub(crate) fn on_idle(&mut self) {
        self.events.clear();
    }

    /// Takes the allowance for `count` items if it is there.
    pub(crate) fn try_take(&mut self, now: Instant, count: usize) -> bool {
        if !self.is_pacing() {
            return true;
        }
        self.advance(now);
        let wanted = (count as f64).min(self.batch_size);
        // A hair of tolerance so that floating-point dust never stalls a batch.
        if self.allowance + 1e-9 >= wanted {
            self.allowance -= wanted;
            true
        } else {
            false
        }
    }

    /// When the allowance will cover `count` items.
    pub(crate) fn ready_at(&self, count: usize) -> Option<Instant> {
        if !self.is_pacing() || self.rate <= 0.0 {
            return None;
        }
        let missing = (count as f64).min(self.batch_size) - self.allowance;
        if missing <= 0.0 {
            return Some(self.updated);
        }
        let wait = Duration::try_from_secs_f64(missing / self.rate).unwrap_or(Duration::MAX);
        Some(self.updated + wait.min(Duration::from_secs(3600)))
    }

    fn advance(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.updated = now;
        if let Some(measured) = self.measured {
            self.allowance = (self.allowance + self.rate * elapsed).min(self.batch_size);
            self.rate += measured * self.creep * elapsed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn sends_freely_until_two_quota_429s_measure_the_refill_rate() {
        let start = Instant::now();
        let mut pacer = Pacer::new(20, start);
        assert!(pacer.try_take(start, 20));
        pacer.on_accepted(200);
        pacer.on_quota_throttled(at(start, 100), 0, true);
        assert!(!pacer.is_pacing(), "one 429 says nothing about the rate");
        assert_eq!(
            pacer.batch_limit(),
            2,
            "nothing got through: probe with two"
        );
        assert!(pacer.try_take(at(start, 100), 20));
        // 100 items accepted in the second that followed: the bucket refills at 100 per second.
        pacer.on_accepted(100);
        pacer.on_quota_throttled(at(start, 1100), 0, true);
        let measured = pacer.measured().unwrap_or_default();
        assert!((measured - 100.0).abs() < 1e-6, "{measured}");
        // The bucket is empty: a batch of 20 waits for 20 items' worth of refill, at 97/s.
        assert!(!pacer.try_take(at(start, 1100), 20));
        let ready = pacer.ready_at(20).map(|ready| ready - at(start, 1100));
        assert!(
            ready.is_some_and(
                |wait| wait > Duration::from_millis(200) && wait < Duration::from_millis(210)
            ),
            "{ready:?}"
        );
        assert!(!pacer.try_take(at(start, 1250), 20));
        assert!(pacer.try_take(at(start, 1320), 20));
        assert!(!pacer.try_take(at(start, 1320), 1));
    }

    #[test]
    fn random_429s_without_a_measurable_span_do_not_slow_it() {
        let start = Instant::now();
        let mut pacer = Pacer::new(20, start);
        // Two quota 429s close together with few items between: no measurement.
        pacer.on_quota_throttled(start, 0, true);
        pacer.on_accepted(10);
        pacer.on_quota_throttled(at(start, 5), 0, true);
        assert!(!pacer.is_pacing());
        assert!(pacer.try_take(at(start, 5), 20));
        // Nor does one whose count may miss answers still on their way.
        pacer.on_accepted(100);
        pacer.on_quota_throttled(at(start, 1000), 0, false);
        assert!(!pacer.is_pacing());
    }

    #[test]
    fn creeps_up_with_room_and_holds_when_nearly_empty() {
        let start = Instant::now();
        let mut pacer = Pacer::new(20, start);
        pacer.on_quota_throttled(start, 0, true);
        pacer.on_accepted(1000);
        pacer.on_quota_throttled(at(start, 10_000), 0, true);
        assert!((pacer.rate - 97.0).abs() < 1e-6);
        // No percentage header: room, the rate grows 10 % of the measured rate per second.
        pacer.on_limit_percentage(at(start, 10_000), None);
        pacer.on_limit_percentage(at(start, 11_000), Some(0.95));
        assert!((pacer.rate - 107.0).abs() < 1e-6, "{}", pacer.rate);
        pacer.on_limit_percentage(at(start, 12_000), Some(1.0));
        assert!((pacer.rate - 100.0).abs() < 1e-6, "{}", pacer.rate);
        pacer.on_limit_percentage(at(start, 13_000), Some(1.0));
        assert!((pacer.rate - 100.0).abs() < 1e-6, "{}", pacer.rate);
        // Idle: the next 429 starts a new measurement, the old rate stays meanwhile.
        pacer.on_idle();
        pacer.on_quota_throttled(at(start, 20_000), 0, true);
        assert_eq!(pacer.measured(), Some(100.0));
    }
}
