//! Graceful shutdown. On SIGTERM (an orchestrator replacing the instance) readiness turns 503
//! at once, so load balancers stop sending new requests; the server keeps serving for the drain
//! period (`FRAISEQL_DRAIN_S`) while they notice, answering with `Connection: close` so
//! kept-alive connections end after their current request; then it stops accepting, finishes
//! in-flight requests (at most `FRAISEQL_SHUTDOWN_TIMEOUT_S`) and exits 0. SIGINT (a person at
//! a terminal) does the same with at most one second of drain.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::ConfigError;

/// Default drain period: a few readiness probes of a load balancer checking every second.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);
/// Default bound on finishing in-flight requests once accepting stopped.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
/// Most drain after SIGINT.
const INTERRUPT_DRAIN: Duration = Duration::from_secs(1);

/// `FRAISEQL_DRAIN_S` and `FRAISEQL_SHUTDOWN_TIMEOUT_S`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownSettings {
    /// How long the server keeps serving after SIGTERM, with readiness already 503.
    pub drain: Duration,
    /// How long in-flight requests may take to finish once accepting stopped.
    pub shutdown_timeout: Duration,
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        ShutdownSettings {
            drain: DEFAULT_DRAIN,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

impl ShutdownSettings {
    /// Reads the two variables through `lookup`; unset or empty means the default.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<ShutdownSettings, ConfigError> {
        let seconds = |variable: &'static str, default: Duration| match lookup(variable)
            .filter(|v| !v.trim().is_empty())
        {
            None => Ok(default),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(n) if n <= 3600 => Ok(Duration::from_secs(n)),
                _ => Err(ConfigError::Setting {
                    variable,
                    value,
                    expected: "a whole number of seconds from 0 to 3600",
                }),
            },
        };
        Ok(ShutdownSettings {
            drain: seconds("FRAISEQL_DRAIN_S", DEFAULT_DRAIN)?,
            shutdown_timeout: seconds("FRAISEQL_SHUTDOWN_TIMEOUT_S", DEFAULT_SHUTDOWN_TIMEOUT)?,
        })
    }
}

/// Whether the server is draining; shared by the signal task, readiness and every response.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Whether a shutdown signal arrived.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Waits for SIGTERM or SIGINT, drains, then stops `server` gracefully.
pub(crate) async fn on_signal(
    server: actix_web::dev::ServerHandle,
    draining: Draining,
    settings: ShutdownSettings,
) {
    let drain = match next_signal().await {
        Signal::Terminate => settings.drain,
        Signal::Interrupt => settings.drain.min(INTERRUPT_DRAIN),
    };
    draining.set();
    tracing::info!(
        drain_s = drain.as_secs_f64(),
        "shutdown signal: readiness is 503; draining before closing"
    );
    tokio::time::sleep(drain).await;
    tracing::info!("drain over: no new connections; finishing in-flight requests");
    server.stop(true).await;
}

enum Signal {
    Terminate,
    Interrupt,
}

#[cfg(unix)]
async fn next_signal() -> Signal {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => Signal::Terminate,
            _ = int.recv() => Signal::Interrupt,
        },
        _ => {
            // Without handlers the default disposition (exit) applies; keep serving.
            tracing::error!("cannot install signal handlers; graceful shutdown is unavailable");
            std::future::pending().await
        }
    }
}

#[cfg(not(unix))]
async fn next_signal() -> Signal {
    let _ = tokio::signal::ctrl_c().await;
    Signal::Interrupt
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<ShutdownSettings, ConfigError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        ShutdownSettings::from_lookup(&|k| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn drain_and_shutdown_timeout_are_read() {
        assert_eq!(read(&[]).unwrap(), ShutdownSettings::default());
        let s = read(&[
            ("FRAISEQL_DRAIN_S", "12"),
            ("FRAISEQL_SHUTDOWN_TIMEOUT_S", "0"),
        ])
        .unwrap();
        assert_eq!(s.drain, Duration::from_secs(12));
        assert_eq!(s.shutdown_timeout, Duration::ZERO);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = read(&[("FRAISEQL_DRAIN_S", "soon")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("FRAISEQL_DRAIN_S=\"soon\""), "{e}");
        let e = read(&[("FRAISEQL_SHUTDOWN_TIMEOUT_S", "99999")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("from 0 to 3600"), "{e}");
    }
}
