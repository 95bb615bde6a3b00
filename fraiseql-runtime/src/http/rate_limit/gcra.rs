//! The generic cell rate algorithm, the one rule both limiters apply (in process here, in Redis
//! as a Lua script in `shared.rs`): each client has a theoretical arrival time (TAT); a request
//! moves it one emission interval on, and is refused while that would put it more than the
//! burst ahead of now. One number per client, no timers, no refill task.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A client's key: a hash of its bearer token or its address.
pub(crate) type ClientKey = [u8; 16];

/// Rate and burst in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gcra {
    /// Microseconds between requests at the sustained rate.
    pub interval: u64,
    /// How far ahead of now the TAT may run: burst × interval.
    pub tolerance: u64,
}

impl Gcra {
    /// With the client's stored TAT (none: a new client), at `now`: `Ok(new TAT)` to admit, or
    /// `Err(microseconds until it would be admitted)`.
    pub fn decide(&self, tat: Option<u64>, now: u64) -> Result<u64, u64> {
        let tat = tat.map_or(now, |t| t.max(now));
        let next = tat.saturating_add(self.interval);
        let admit_at = next.saturating_sub(self.tolerance);
        if admit_at > now {
            return Err(admit_at - now);
        }
        Ok(next)
    }
}

/// Entries at which the table is swept of clients whose budget is whole again.
const SWEEP_AT: usize = 65_536;

/// The in-process limiter: one TAT per client.
pub(crate) struct Local {
    gcra: Gcra,
    started: Instant,
    tats: Mutex<HashMap<ClientKey, u64>>,
}

impl Local {
    pub fn new(gcra: Gcra) -> Local {
        Local {
            gcra,
            started: Instant::now(),
            tats: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok(())` to admit, or `Err(microseconds to wait)`.
    pub fn check(&self, client: &ClientKey) -> Result<(), u64> {
        let now = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        // A poisoned lock only means another request panicked mid-update of one number.
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        if tats.len() >= SWEEP_AT {
            // A TAT in the past is the same as no entry: the client's burst is whole.
            tats.retain(|_, tat| *tat > now);
        }
        let next = self.gcra.decide(tats.get(client).copied(), now)?;
        tats.insert(*client, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        // One request per second, bursts of three.
        let gcra = Gcra {
            interval: 1_000_000,
            tolerance: 3_000_000,
        };
        let mut tat = None;
        for _ in 0..3 {
            tat = Some(gcra.decide(tat, 0).expect("within the burst"));
        }
        assert_eq!(gcra.decide(tat, 0), Err(1_000_000));
        assert_eq!(gcra.decide(tat, 400_000), Err(600_000));
        let later = gcra
            .decide(tat, 1_000_000)
            .expect("one more a second later");
        assert_eq!(gcra.decide(Some(later), 1_000_000), Err(1_000_000));
        // Idle long enough, the whole burst is back.
        assert!(gcra.decide(Some(later), 60_000_000).is_ok());
    }

    #[test]
    fn clients_have_their_own_budgets() {
        let local = Local::new(Gcra {
            interval: 60_000_000,
            tolerance: 60_000_000,
        });
        assert!(local.check(&[1; 16]).is_ok());
        assert!(local.check(&[1; 16]).is_err());
        assert!(local.check(&[2; 16]).is_ok());
    }
}
