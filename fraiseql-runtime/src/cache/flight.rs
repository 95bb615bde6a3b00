//! Single-flight: concurrent misses of one key in one process run the SQL once. The first
//! request leads (looks in L2, runs, stores); the others follow and take its entry. A leader
//! whose request is dropped (client gone) or whose result may not be cached ends the flight
//! without an entry, and each follower then runs the field itself.
//!
//! A request that leads a flight never waits for another one (it runs those fields itself), so
//! two requests can never wait on each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::entry::Entry;
use super::key::Key;

/// Longest a follower waits before running the field itself.
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(30);

type Outcome = Option<Option<Arc<Entry>>>;

/// The flights in progress.
#[derive(Default)]
pub(crate) struct Flights {
    running: Mutex<HashMap<Key, watch::Receiver<Outcome>>>,
}

/// Leading a flight: finish it with the entry, or drop it to let followers run.
pub(crate) struct Leader {
    flights: Arc<Flights>,
    key: Key,
    sender: Option<watch::Sender<Outcome>>,
}

/// Joining a flight.
pub(crate) enum Joined {
    Leader(Leader),
    Follower(watch::Receiver<Outcome>),
}

impl Flights {
    /// Leads the flight of `key`, or follows the one running.
    pub fn join(self: &Arc<Flights>, key: Key) -> Joined {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(receiver) = running.get(&key) {
            return Joined::Follower(receiver.clone());
        }
        let (sender, receiver) = watch::channel(None);
        running.insert(key, receiver);
        Joined::Leader(Leader {
            flights: self.clone(),
            key,
            sender: Some(sender),
        })
    }

    /// Leads the flight of `key` if none is running (a refresh of a stale entry).
    pub fn try_lead(self: &Arc<Flights>, key: Key) -> Option<Leader> {
        match self.join(key) {
            Joined::Leader(leader) => Some(leader),
            Joined::Follower(_) => None,
        }
    }

    fn end(&self, key: &Key) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.remove(key);
    }
}

impl Leader {
    /// Ends the flight; followers get `entry` (`None`: they run the field themselves).
    pub fn finish(mut self, entry: Option<Arc<Entry>>) {
        self.flights.end(&self.key);
        if let Some(sender) = self.sender.take() {
            // No follower left is fine.
            let _ = sender.send(Some(entry));
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.flights.end(&self.key);
        }
    }
}

/// Waits for a flight's entry; `None` when the leader gave none, went away or took too long.
pub(crate) async fn follow(mut receiver: watch::Receiver<Outcome>) -> Option<Arc<Entry>> {
    let waited = tokio::time::timeout(FOLLOW_TIMEOUT, receiver.wait_for(Option::is_some)).await;
    match waited {
        Ok(Ok(outcome)) => outcome.clone().flatten(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Arc<Entry> {
        Arc::new(Entry::new(b"1".to_vec(), &[0; 32], 1000, 0, 0, Vec::new()))
    }

    #[tokio::test]
    async fn followers_get_the_leaders_entry() {
        let flights = Arc::new(Flights::default());
        let Joined::Leader(leader) = flights.join([1; 32]) else {
            panic!("first joiner leads");
        };
        let Joined::Follower(follower) = flights.join([1; 32]) else {
            panic!("second joiner follows");
        };
        let waiting = tokio::spawn(follow(follower));
        leader.finish(Some(entry()));
        assert_eq!(waiting.await.unwrap().unwrap().json, b"1");
        assert!(matches!(flights.join([1; 32]), Joined::Leader(_)));
    }

    #[tokio::test]
    async fn a_dropped_leader_releases_its_followers() {
        let flights = Arc::new(Flights::default());
        let leader = flights.try_lead([2; 32]).unwrap();
        assert!(flights.try_lead([2; 32]).is_none());
        let Joined::Follower(follower) = flights.join([2; 32]) else {
            panic!("follows");
        };
        drop(leader);
        assert!(follow(follower).await.is_none());
        assert!(flights.try_lead([2; 32]).is_some());
    }
}
