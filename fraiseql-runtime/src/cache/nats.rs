//! The invalidation bus: every instance publishes what its mutations wrote on one NATS subject
//! (`FRAISEQL_CACHE_NATS_SUBJECT`, default `fraiseql.cache.invalidate`) and applies what the
//! others publish to its L1 and its region's L2. Plain NATS (no JetStream): an invalidation
//! missed while NATS was down is not replayed; instead, while NATS is down and for entries made
//! before it came back, entries are served for at most `FRAISEQL_CACHE_NATS_DOWN_TTL_S`.
//!
//! A message is JSON: `{"v":1,"origin":"<instance>","region":"<region>","l2":true,
//! "tags":["t:posts","r:1234"]}`. `l2` says the publisher's region's Redis already has the
//! bump, so the instances of that region only apply it to their L1.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use prometheus::IntCounter;
use tokio::sync::mpsc;

use super::entry::now_ms;

/// Invalidations received and not yet applied (beyond it, the oldest wait in NATS's buffer).
const RECEIVED_QUEUE: usize = 1024;

/// One invalidation on the wire.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Message {
    /// Format version.
    pub v: u32,
    /// The publishing instance (instances ignore their own messages).
    pub origin: String,
    /// The publisher's region.
    pub region: String,
    /// Whether the publisher's region's L2 already has the bump.
    pub l2: bool,
    /// Tag names (`all`, `t:<table>`, `k:<table>`, `r:<bucket>`).
    pub tags: Vec<String>,
}

/// Whether NATS is up, and since when invalidations may have been missed.
#[derive(Default)]
pub(crate) struct Link {
    connected: AtomicBool,
    down_since_ms: AtomicU64,
    back_at_ms: AtomicU64,
}

impl Link {
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// Whether an entry made at `created_ms` may have missed invalidations: NATS is down now,
    /// or the entry is older than NATS's return.
    pub fn may_have_missed(&self, created_ms: u64) -> bool {
        !self.connected() || created_ms < self.back_at_ms.load(Ordering::Acquire)
    }

    fn up(&self) {
        let now = now_ms();
        self.back_at_ms.store(now, Ordering::Release);
        if !self.connected.swap(true, Ordering::AcqRel) {
            let since = self.down_since_ms.load(Ordering::Acquire);
            if since > 0 {
                tracing::warn!(
                    gap_ms = now.saturating_sub(since),
                    "NATS is back: invalidations published in the gap were missed; entries made before now are served for at most the NATS-down bound"
                );
            } else {
                tracing::info!("connected to NATS; cache invalidations flow");
            }
        }
    }

    fn down(&self) {
        if self.connected.swap(false, Ordering::AcqRel) {
            self.down_since_ms.store(now_ms(), Ordering::Release);
            tracing::warn!("NATS is down: invalidations from other instances may be missed; entries are served for at most the NATS-down bound until it is back");
        }
    }
}

/// The publishing side.
pub(crate) struct Bus {
    client: async_nats::Client,
    subject: String,
    origin: String,
    pub link: Arc<Link>,
    errors: IntCounter,
}

impl Bus {
    /// Connects in the background (retrying for ever) and subscribes; received messages
    /// from other instances come out of the returned channel. Must run inside a tokio runtime
    /// that lives as long as the server.
    pub async fn start(
        url: &str,
        subject: &str,
        origin: &str,
        errors: IntCounter,
    ) -> Result<(Bus, mpsc::Receiver<Message>), async_nats::Error> {
        let link = Arc::new(Link::default());
        let events = link.clone();
        let event_errors = errors.clone();
        let client = async_nats::ConnectOptions::new()
            .name(format!("fraiseql-cache {origin}"))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .ping_interval(Duration::from_secs(5))
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(250 * u64::try_from(attempts.min(8)).unwrap_or(8))
            })
            .event_callback(move |event| {
                let link = events.clone();
                let errors = event_errors.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => link.up(),
                        async_nats::Event::Disconnected | async_nats::Event::Closed => {
                            errors.inc();
                            link.down();
                        }
                        other => tracing::debug!(event = %other, "NATS event"),
                    }
                }
            })
            .connect(url)
            .await?;
        let mut subscriber = client.subscribe(subject.to_owned()).await?;
        let (sender, receiver) = mpsc::channel(RECEIVED_QUEUE);
        let own = origin.to_owned();
        let decode_errors = errors.clone();
        tokio::spawn(async move {
            while let Some(message) = subscriber.next().await {
                match serde_json::from_slice::<Message>(&message.payload) {
                    Ok(m) if m.origin == own => {}
                    Ok(m) => {
                        if sender.send(m).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        decode_errors.inc();
                        tracing::warn!(error = %e, "ignored a message on the invalidation subject that is not one");
                    }
                }
            }
        });
        Ok((
            Bus {
                client,
                subject: subject.to_owned(),
                origin: origin.to_owned(),
                link,
                errors,
            },
            receiver,
        ))
    }

    /// Publishes an invalidation; returns whether it was handed to the client.
    pub async fn publish(&self, region: &str, l2: bool, tags: Vec<String>) -> bool {
        let message = Message {
            v: 1,
            origin: self.origin.clone(),
            region: region.to_owned(),
            l2,
            tags,
        };
        let payload = match serde_json::to_vec(&message) {
            Ok(p) => p,
            Err(_) => return false,
        };
        match self
            .client
            .publish(self.subject.clone(), payload.into())
            .await
        {
            Ok(()) => true,
            Err(e) => {
                self.errors.inc();
                tracing::warn!(error = %e, "could not publish a cache invalidation");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_cuts_entries_older_than_its_return() {
        let link = Link::default();
        assert!(link.may_have_missed(now_ms()));
        link.up();
        let back = link.back_at_ms.load(Ordering::Acquire);
        assert!(link.may_have_missed(back - 1));
        assert!(!link.may_have_missed(back));
        link.down();
        assert!(link.may_have_missed(back + 10));
    }

    #[test]
    fn messages_round_trip() {
        let m = Message {
            v: 1,
            origin: "a1".into(),
            region: "a".into(),
            l2: true,
            tags: vec!["t:users".into(), "r:7".into()],
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"origin":"a1","region":"a","l2":true,"tags":["t:users","r:7"]}"#
        );
        assert_eq!(serde_json::from_str::<Message>(&text).unwrap(), m);
    }
}
