//! Per-account rate limiting: a token bucket kept by the account's Durable Object (the one
//! place that sees every request of an account). Plain data and arithmetic, so it is tested
//! natively; the clock is a parameter.

/// One token in bucket units: a bucket refills `per_minute` units a millisecond, so whole
/// numbers keep the arithmetic exact.
const TOKEN: u128 = 60_000;

/// A token bucket holding up to `per_minute` tokens, refilled continuously at
/// `per_minute / 60` tokens a second. Each request takes one token.
#[derive(Debug, Clone, Default)]
pub struct TokenBucket {
    /// Tokens held, in units of 1/60000 token.
    units: u128,
    updated_ms: Option<i64>,
}

impl TokenBucket {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one token at `now_ms` under a limit of `per_minute` requests a minute.
    /// `Ok(())` lets the request through; `Err(seconds)` refuses it and says after how many
    /// whole seconds (at least 1) a token will be available. A limit of 0 admits everything.
    pub fn take(&mut self, per_minute: u64, now_ms: i64) -> Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        let rate = u128::from(per_minute); // units per millisecond
        let capacity = rate * TOKEN;
        self.units = match self.updated_ms {
            Some(then) => {
                // A clock that goes backwards refills nothing.
                let elapsed = u128::try_from(now_ms.saturating_sub(then)).unwrap_or(0);
                self.units.saturating_add(elapsed.saturating_mul(rate))
            }
            None => capacity,
        }
        // Never more than a full bucket; a lowered limit takes effect at once.
        .min(capacity);
        self.updated_ms = Some(self.updated_ms.map_or(now_ms, |then| then.max(now_ms)));
        if self.units >= TOKEN {
            self.units -= TOKEN;
            Ok(())
        } else {
            let wait_ms = (TOKEN - self.units).div_ceil(rate);
            Err(u64::try_from(wait_ms.div_ceil(1000))
                .unwrap_or(u64::MAX)
                .max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_a_burst_of_the_limit_then_refuses() {
        let mut b = TokenBucket::new();
        for i in 0..5 {
            assert_eq!(b.take(5, 1_000), Ok(()), "request {i}");
        }
        // 5 a minute: one token every 12 s.
        assert_eq!(b.take(5, 1_000), Err(12));
        assert_eq!(b.take(5, 7_000), Err(6));
        assert_eq!(b.take(5, 12_001), Err(1));
        assert_eq!(b.take(5, 12_999), Err(1));
        assert_eq!(b.take(5, 13_000), Ok(()));
        assert_eq!(b.take(5, 13_000), Err(12));
    }

    #[test]
    fn refills_to_capacity_and_no_more() {
        let mut b = TokenBucket::new();
        for _ in 0..3 {
            assert!(b.take(3, 0).is_ok());
        }
        assert!(b.take(3, 0).is_err());
        // An hour later the bucket holds 3 tokens, not 180.
        let later = 3_600_000;
        for _ in 0..3 {
            assert!(b.take(3, later).is_ok());
        }
        assert!(b.take(3, later).is_err());
    }

    #[test]
    fn zero_disables_and_clock_going_back_refills_nothing() {
        let mut b = TokenBucket::new();
        for _ in 0..10_000 {
            assert!(b.take(0, 0).is_ok());
        }
        let mut b = TokenBucket::new();
        assert!(b.take(1, 60_000).is_ok());
        assert_eq!(b.take(1, 0), Err(60));
        assert_eq!(b.take(1, 60_000), Err(60));
        assert!(b.take(1, 120_000).is_ok());
    }
}
