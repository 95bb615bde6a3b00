//! Redis and NATS servers of a test's own, on fixed loopback ports (56300-56399, one per
//! test), for tests that stop, kill or pause them. The shared instances on 6379 / 4222 are
//! never touched: tests that only use them keep to their own key prefix and subject.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server or nats-server process, killed on drop.
pub struct Service {
    name: &'static str,
    pub port: u16,
    child: Option<Child>,
    args: Vec<String>,
    program: &'static str,
}

impl Service {
    /// `redis-server` on `port`, in memory only.
    pub fn redis(port: u16) -> Service {
        let args = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Service::start("redis", "redis-server", port, args)
    }

    /// `nats-server` on `port` (plain NATS; no JetStream needed for invalidations).
    pub fn nats(port: u16) -> Service {
        let args = ["-a", "127.0.0.1", "-p", &port.to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        Service::start("nats", "/usr/sbin/nats-server", port, args)
    }

    fn start(name: &'static str, program: &'static str, port: u16, args: Vec<String>) -> Service {
        let mut service = Service {
            name,
            port,
            child: None,
            args,
            program,
        };
        service.restart();
        service
    }

    /// The URL clients use.
    pub fn url(&self) -> String {
        match self.name {
            "redis" => format!("redis://127.0.0.1:{}/0", self.port),
            _ => format!("nats://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the process (SIGKILL) and waits until the port is closed.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while port_open(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(self.program)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.program));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !port_open(self.port) {
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {}",
                self.name,
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGSTOP (`pause = true`) or SIGCONT: the process keeps its sockets but answers nothing.
    pub fn signal_pause(&self, pause: bool) {
        let Some(child) = &self.child else {
            return;
        };
        let signal = if pause { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} failed");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.signal_pause(false);
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// A name no other test (or earlier run) uses: for a key prefix on the shared Redis and a
/// subject on the shared NATS.
pub fn unique(tag: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{tag}{}x{n}x{nanos}", std::process::id())
}

/// Deletes every key under `prefix` on the shared Redis (a test's own keys only).
pub fn drop_redis_prefix(port: u16, prefix: &str) {
    let keys = Command::new("redis-cli")
        .args([
            "-p",
            &port.to_string(),
            "--scan",
            "--pattern",
            &format!("{prefix}*"),
        ])
        .output();
    let Ok(keys) = keys else {
        return;
    };
    let keys = String::from_utf8_lossy(&keys.stdout);
    for chunk in keys.lines().collect::<Vec<_>>().chunks(200) {
        let _ = Command::new("redis-cli")
            .args(["-p", &port.to_string(), "DEL"])
            .args(chunk)
            .output();
    }
}

/// `GET key` on a Redis (`None` when absent).
pub fn redis_get(port: u16, key: &str) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "--raw", "GET", key])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!text.is_empty()).then_some(text)
}
