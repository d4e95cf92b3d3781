//! How many requests may be in flight: additive increase while Graph answers cleanly,
//! multiplicative decrease when it throttles or says the quota is nearly used. A fixed
//! number either wastes the quota or runs into 429s; this sits at the limit.

/// Above this share of the quota (`x-ms-throttle-limit-percentage`), slow down before 429s.
const NEAR_LIMIT: f64 = 0.9;

#[derive(Debug)]
pub(crate) struct Concurrency {
    limit: f64,
    max: f64,
}

impl Concurrency {
    pub(crate) fn new(initial: usize, max: usize) -> Concurrency {
        let max = max.max(1) as f64;
        Concurrency {
            limit: (initial.max(1) as f64).min(max),
            max,
        }
    }

    /// Requests allowed in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.limit.floor().max(1.0) as usize
    }

    /// A clean answer: about one more request per round trip.
    pub(crate) fn on_success(&mut self) {
        self.limit = (self.limit + 1.0 / self.limit).min(self.max);
    }

    /// Graph reported how much of the quota is used. Near the limit, what is already in
    /// flight may be all the quota has left: one request at a time until it says more.
    pub(crate) fn on_limit_percentage(&mut self, used: f64) {
        if used >= NEAR_LIMIT {
            self.limit = 1.0;
        }
    }

    /// A 429.
    pub(crate) fn on_throttled(&mut self) {
        self.limit = (self.limit / 2.0).max(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::Concurrency;

    #[test]
    fn grows_by_about_one_per_round_and_halves_on_throttling() {
        let mut concurrency = Concurrency::new(4, 32);
        for _ in 0..4 {
            concurrency.on_success();
        }
        assert_eq!(
            concurrency.limit(),
            4,
            "four answers at limit 4 make one round"
        );
        for _ in 0..5 {
            concurrency.on_success();
        }
        assert_eq!(concurrency.limit(), 5);
        concurrency.on_throttled();
        assert_eq!(concurrency.limit(), 2);
    }

    #[test]
    fn never_below_one_nor_above_max() {
        let mut concurrency = Concurrency::new(1, 3);
        for _ in 0..10 {
            concurrency.on_throttled();
        }
        assert_eq!(concurrency.limit(), 1);
        for _ in 0..1000 {
            concurrency.on_success();
        }
        assert_eq!(concurrency.limit(), 3);
    }

    #[test]
    fn near_limit_slows_down() {
        let mut concurrency = Concurrency::new(10, 32);
        concurrency.on_limit_percentage(0.5);
        assert_eq!(concurrency.limit(), 10);
        concurrency.on_limit_percentage(0.95);
        assert_eq!(concurrency.limit(), 1);
    }
}
