//! Password logins cost an argon2 hash each, and only a few run at once
//! (`tarn_domain::auth::MAX_PASSWORD_CHECKS`). A flood must cost its
//! sender, not everyone:
//! - each source address has at most [`PER_SOURCE`] password checks in
//!   flight; more from it answer 429 at once, so one client cannot take
//!   every slot;
//! - a source's failed logins are answered ever later (up to
//!   [`MAX_PENALTY`]), so guessing from one address crawls while its
//!   connections wait without holding a slot;
//! - the slots are a fair queue: a login waits its turn (up to
//!   [`QUEUE_WAIT`]) instead of being refused because others arrived first.
//!
//! (Logins with an access-key-shaped name that matches no key never hash at
//! all; see `Auth::authenticate_password`.) Behind a proxy every client
//! has the proxy's address: the per-source limits then apply to it as a
//! whole, and the fair queue still serves logins in order.

use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Password checks one source may have in flight (queued or hashing).
pub const PER_SOURCE: u32 = 2;
/// The longest a login waits for a free slot before 503.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// The delay added per recent failure from a source...
const PENALTY_STEP: Duration = Duration::from_millis(100);
/// ...up to this much.
pub const MAX_PENALTY: Duration = Duration::from_secs(2);
/// How long a source's failures are remembered.
const FAILURE_MEMORY: Duration = Duration::from_secs(600);
/// Sources remembered at most (a bounded table, whatever the flood).
const SOURCES: u64 = 100_000;

/// Why a login is not checked now.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// This source already has [`PER_SOURCE`] checks in flight (429).
    SourceBusy,
    /// No slot came free within [`QUEUE_WAIT`] (503).
    QueueFull,
}

/// The login throttle of one instance.
pub struct LoginThrottle {
    slots: Arc<Semaphore>,
    in_flight: Mutex<std::collections::HashMap<IpAddr, u32>>,
    failures: Cache<IpAddr, Arc<AtomicU32>>,
}

/// A login's turn: a slot of the fair queue and its place among its
/// source's in-flight checks, both given back on drop. The slot goes back
/// as soon as the hash is done ([`Turn::hashed`]); the place is kept while
/// a failure's penalty runs, so a source's lanes stay busy for it.
pub struct Turn<'a> {
    throttle: &'a LoginThrottle,
    source: IpAddr,
    slot: Option<OwnedSemaphorePermit>,
}

impl Turn<'_> {
    /// Gives the slot back (the hash is done).
    pub fn hashed(&mut self) {
        self.slot = None;
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.throttle.leave(self.source);
    }
}

impl LoginThrottle {
    /// A throttle with `slots` checks at once (the domain's limit).
    pub fn new(slots: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            in_flight: Mutex::new(std::collections::HashMap::new()),
            failures: Cache::builder()
                .max_capacity(SOURCES)
                .time_to_live(FAILURE_MEMORY)
                .build(),
        }
    }

    fn leave(&self, source: IpAddr) {
        if let Ok(mut m) = self.in_flight.lock() {
            if let Some(n) = m.get_mut(&source) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&source);
                }
            }
        }
    }

    /// Waits for a turn to check a password from `source`.
    pub async fn turn(&self, source: IpAddr) -> Result<Turn<'_>, Refusal> {
        {
            let mut m = self.in_flight.lock().map_err(|_| Refusal::QueueFull)?;
            let n = m.entry(source).or_insert(0);
            if *n >= PER_SOURCE {
                return Err(Refusal::SourceBusy);
            }
            *n += 1;
        }
        match tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(Turn {
                throttle: self,
                source,
                slot: Some(slot),
            }),
            _ => {
                self.leave(source);
                Err(Refusal::QueueFull)
            }
        }
    }

    /// Records a failed login from `source`; the delay to answer it with.
    pub fn failed(&self, source: IpAddr) -> Duration {
        let count = self
            .failures
            .get_with(source, || Arc::new(AtomicU32::new(0)))
            .fetch_add(1, Ordering::SeqCst)
            + 1;
        PENALTY_STEP.saturating_mul(count).min(MAX_PENALTY)
    }

    /// A successful login clears its source's failures.
    pub fn succeeded(&self, source: IpAddr) {
        self.failures.invalidate(&source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[tokio::test]
    async fn one_source_holds_at_most_its_share() {
        let t = LoginThrottle::new(4);
        let a = t.turn(ip(2)).await.unwrap();
        let b = t.turn(ip(2)).await.unwrap();
        assert!(matches!(t.turn(ip(2)).await, Err(Refusal::SourceBusy)));
        // Another source still gets a slot.
        let mut c = t.turn(ip(3)).await.unwrap();
        c.hashed();
        assert_eq!(t.slots.available_permits(), 2, "the slot went back");
        drop(a);
        let again = t.turn(ip(2)).await.unwrap();
        drop((b, c, again));
        assert!(t.in_flight.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_waits_its_turn_then_gives_up() {
        let t = Arc::new(LoginThrottle::new(1));
        let held = t.turn(ip(2)).await.unwrap();
        let waiter = {
            let t = t.clone();
            tokio::spawn(async move { t.turn(ip(3)).await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(held);
        assert_eq!(waiter.await.unwrap(), Ok(()));
        let _held = t.turn(ip(2)).await.unwrap();
        assert!(matches!(t.turn(ip(4)).await, Err(Refusal::QueueFull)));
        assert_eq!(t.in_flight.lock().unwrap().get(&ip(4)), None);
    }

    #[test]
    fn failures_cost_more_each_time_and_success_forgives() {
        let t = LoginThrottle::new(1);
        assert_eq!(t.failed(ip(2)), PENALTY_STEP);
        assert_eq!(t.failed(ip(2)), PENALTY_STEP * 2);
        for _ in 0..100 {
            t.failed(ip(2));
        }
        assert_eq!(t.failed(ip(2)), MAX_PENALTY);
        assert_eq!(t.failed(ip(3)), PENALTY_STEP, "per source");
        t.succeeded(ip(2));
        assert_eq!(t.failed(ip(2)), PENALTY_STEP);
    }
}
