use rand::Rng;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use tarn_model::Timestamp;
use tarn_ports::{Clock, IdGenerator};

/// The system's wall clock, made monotonic within the process.
#[derive(Debug, Default)]
pub struct SystemClock {
    last: AtomicI64,
}

impl SystemClock {
    /// A new clock.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        // Never go backwards, even if the wall clock does.
        let prev = self.last.fetch_max(wall, Ordering::SeqCst);
        Timestamp::from_unix_micros(prev.max(wall))
    }
}

/// A clock that says what it is told; for deterministic tests.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock stopped at `t`.
    pub fn new(t: Timestamp) -> Self {
        Self(AtomicI64::new(t.unix_micros()))
    }

    /// Moves the clock forward by `micros`.
    pub fn advance(&self, micros: i64) {
        self.0.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_micros(self.0.load(Ordering::SeqCst))
    }
}

/// Ids of 26 characters: 13 base-32 digits of microseconds since the epoch,
/// then 13 of randomness. Within one process, ids generated in the same
/// microsecond increment the random part, so they still sort by creation.
#[derive(Debug, Default)]
pub struct UniqueIds {
    last: Mutex<(u64, u64)>,
}

impl UniqueIds {
    /// A new generator.
    pub fn new() -> Self {
        Self::default()
    }
}

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn push_base32(out: &mut String, mut v: u64, digits: usize) {
    let mut buf = vec![b'0'; digits];
    for slot in buf.iter_mut().rev() {
        *slot = ALPHABET[(v & 31) as usize];
        v >>= 5;
    }
    out.extend(buf.into_iter().map(char::from));
}

impl IdGenerator for UniqueIds {
    fn new_id(&self) -> String {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let (time, random) = {
            // A poisoned lock only means another thread panicked mid-update of
            // two integers; the data is still usable.
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            let next = if micros <= last.0 {
                (last.0, last.1.saturating_add(1))
            } else {
                // Two spare top bits leave room for increments within a microsecond.
                (micros, rand::rng().random::<u64>() >> 2)
            };
            *last = next;
            next
        };
        let mut out = String::with_capacity(26);
        push_base32(&mut out, time, 13);
        push_base32(&mut out, random, 13);
        out
    }
}

/// Ids `000…1`, `000…2`, …: deterministic, for tests.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl SequentialIds {
    /// A generator starting at 1.
    pub fn new() -> Self {
        Self::default()
    }
}

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> String {
        format!("{:020}", self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_ports::testkit::ids::{check_clock, check_id_generator};

    #[test]
    fn unique_ids_keep_the_contract() {
        check_id_generator(&UniqueIds::new());
    }

    #[test]
    fn sequential_ids_keep_the_contract() {
        check_id_generator(&SequentialIds::new());
    }

    #[test]
    fn clocks_keep_the_contract() {
        check_clock(&SystemClock::new());
        let fixed = FixedClock::new(Timestamp::from_unix_seconds(5));
        check_clock(&fixed);
        fixed.advance(1_000_000);
        assert_eq!(fixed.now().unix_seconds(), 6);
    }

    #[test]
    fn system_clock_is_near_the_wall_clock() {
        let now = SystemClock::new().now().unix_seconds();
        assert!(now > 1_700_000_000, "{now}");
    }
}
