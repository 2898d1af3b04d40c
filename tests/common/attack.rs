//! Hostile clients for the relay's attack tests (`tests/relay_attacks.rs`)
//! and the attack example (`examples/relay_attacks.rs`): slow and stalled
//! bodies, idle and slowloris connections, and large bodies with no or a
//! wrong signature; plus a probe that times `/healthz` and a signed webhook
//! on fresh connections, and the RSS of a process.
//!
//! Every attack targets one address (tests and the example only use
//! 127.0.0.1), keeps at most `connections` sockets open, and ends when
//! [`Attack::stop`] is called. A socket the relay closes is opened again, so
//! the pressure lasts as long as the attack does.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The shape of one attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A chunked webhook POST that sends one body byte every `trickle` period.
    SlowChunked,
    /// A webhook POST with `Content-Length: 1000` that never sends its body.
    StalledLength,
    /// A connection that never sends anything.
    Idle,
    /// Request headers that never end: one header line every second.
    Slowloris,
    /// 1 MiB − 1 bodies posted as fast as the relay takes them, half with no
    /// `X-Hub-Signature-256`, half with a well-formed but wrong one.
    LargeUnsigned,
}

/// A signature header that is well formed and wrong.
pub const WRONG_SIGNATURE: &str =
    "sha256=0000000000000000000000000000000000000000000000000000000000000000";

/// Body size of [`Kind::LargeUnsigned`]: one byte under the relay's cap.
pub const LARGE_BODY_BYTES: usize = (1 << 20) - 1;

/// A running attack.
pub struct Attack {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    opened: Arc<AtomicUsize>,
    open_now: Arc<AtomicUsize>,
    closed_by_relay: Arc<AtomicUsize>,
}

/// Counters shared by an attack's threads.
#[derive(Clone)]
struct Counters {
    stop: Arc<AtomicBool>,
    opened: Arc<AtomicUsize>,
    open_now: Arc<AtomicUsize>,
    closed_by_relay: Arc<AtomicUsize>,
}

impl Attack {
    /// Starts `kind` against `target` from `source` with up to `connections`
    /// sockets; slow kinds send a byte every `trickle`.
    pub fn start(
        kind: Kind,
        target: SocketAddr,
        source: IpAddr,
        connections: usize,
        trickle: Duration,
    ) -> Self {
        let c = Counters {
            stop: Arc::new(AtomicBool::new(false)),
            opened: Arc::new(AtomicUsize::new(0)),
            open_now: Arc::new(AtomicUsize::new(0)),
            closed_by_relay: Arc::new(AtomicUsize::new(0)),
        };
        let threads = if kind == Kind::LargeUnsigned {
            let body: Arc<Vec<u8>> = Arc::new(vec![b'x'; LARGE_BODY_BYTES]);
            (0..connections)
                .map(|i| {
                    let (c, body) = (c.clone(), body.clone());
                    let signed = i % 2 == 1;
                    spawn(move || large_bodies(target, source, &body, signed, &c))
                })
                .collect()
        } else {
            let workers = connections.div_ceil(128).clamp(1, 16);
            (0..workers)
                .map(|w| {
                    let share = connections / workers + usize::from(w < connections % workers);
                    let c = c.clone();
                    spawn(move || slow_sockets(kind, target, source, share, trickle, &c))
                })
                .collect()
        };
        Self {
            stop: c.stop,
            threads,
            opened: c.opened,
            open_now: c.open_now,
            closed_by_relay: c.closed_by_relay,
        }
    }

    /// Connections opened so far (reopened ones count again).
    pub fn opened(&self) -> usize {
        self.opened.load(Ordering::SeqCst)
    }

    /// Sockets the attack holds open now (for slow kinds).
    pub fn open_now(&self) -> usize {
        self.open_now.load(Ordering::SeqCst)
    }

    /// Connections the relay closed or answered.
    pub fn closed_by_relay(&self) -> usize {
        self.closed_by_relay.load(Ordering::SeqCst)
    }

    /// Stops every thread and closes every socket.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Starts an attack thread at nice 10. Real attackers run on their own
/// machines; here they share the relay's cores, and a thousand threads at the
/// relay's priority would measure the scheduler rather than the relay.
fn spawn(f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            // Linux: PRIO_PROCESS with 0 is the calling thread alone.
            // SAFETY: setpriority has no memory effects; failure leaves nice 0.
            unsafe {
                libc::setpriority(libc::PRIO_PROCESS, 0, 10);
            }
            f()
        })
        .expect("an attack thread")
}

/// A TCP connection from `source` to `target`, within 1 s.
pub fn connect_from(source: IpAddr, target: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(target),
        socket2::Type::STREAM,
        None,
    )?;
    socket.bind(&SocketAddr::new(source, 0).into())?;
    socket.connect_timeout(&target.into(), Duration::from_secs(1))?;
    let stream: TcpStream = socket.into();
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The bytes a slow kind sends first.
fn opening(kind: Kind) -> String {
    let post = |framing: &str| {
        format!(
            "POST /webhook HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nX-Hub-Signature-256: {WRONG_SIGNATURE}\r\n{framing}\r\n\r\n"
        )
    };
    match kind {
        Kind::SlowChunked => post("Transfer-Encoding: chunked"),
        Kind::StalledLength => post("Content-Length: 1000"),
        Kind::Slowloris => "GET /healthz HTTP/1.1\r\nHost: relay\r\n".into(),
        Kind::Idle | Kind::LargeUnsigned => String::new(),
    }
}

/// The bytes a slow kind sends every `trickle`.
fn drip(kind: Kind) -> &'static [u8] {
    match kind {
        Kind::SlowChunked => b"1\r\na\r\n",
        Kind::Slowloris => b"X-Slow: a\r\n",
        _ => b"",
    }
}

/// True when the relay closed `s` (or answered it, which ends the attack on it).
pub fn relay_closed(s: &TcpStream) -> bool {
    let _ = s.set_nonblocking(true);
    let mut buf = [0u8; 1024];
    let mut reader = s;
    let closed = match reader.read(&mut buf) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    let _ = s.set_nonblocking(false);
    closed
}

/// Holds `share` slow sockets open, reopening those the relay closes.
fn slow_sockets(
    kind: Kind,
    target: SocketAddr,
    source: IpAddr,
    share: usize,
    trickle: Duration,
    c: &Counters,
) {
    let mut socks: Vec<Option<(TcpStream, Instant)>> = (0..share).map(|_| None).collect();
    let first = opening(kind);
    while !c.stop.load(Ordering::SeqCst) {
        for slot in socks.iter_mut() {
            if c.stop.load(Ordering::SeqCst) {
                break;
            }
            match slot {
                None => {
                    if let Ok(mut s) = connect_from(source, target) {
                        let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
                        if s.write_all(first.as_bytes()).is_ok() {
                            c.opened.fetch_add(1, Ordering::SeqCst);
                            c.open_now.fetch_add(1, Ordering::SeqCst);
                            *slot = Some((s, Instant::now()));
                        }
                    }
                }
                Some((s, last)) => {
                    let mut gone = relay_closed(s);
                    if !gone && !drip(kind).is_empty() && last.elapsed() >= trickle {
                        gone = s.write_all(drip(kind)).is_err();
                        *last = Instant::now();
                    }
                    if gone {
                        c.closed_by_relay.fetch_add(1, Ordering::SeqCst);
                        c.open_now.fetch_sub(1, Ordering::SeqCst);
                        *slot = None;
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    c.open_now
        .fetch_sub(socks.iter().flatten().count(), Ordering::SeqCst);
}

/// Posts large bodies one after another on fresh connections until stopped.
fn large_bodies(target: SocketAddr, source: IpAddr, body: &[u8], signed: bool, c: &Counters) {
    let signature = if signed {
        format!("X-Hub-Signature-256: {WRONG_SIGNATURE}\r\n")
    } else {
        String::new()
    };
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n{signature}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    while !c.stop.load(Ordering::SeqCst) {
        let Ok(mut s) = connect_from(source, target) else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        c.opened.fetch_add(1, Ordering::SeqCst);
        let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(body);
        let mut answer = [0u8; 64];
        if s.read(&mut answer).is_ok() {
            c.closed_by_relay.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Times of one probe round: `/healthz` and signed webhooks on fresh connections.
#[derive(Debug, Default, Clone)]
pub struct Probe {
    /// Milliseconds of each answered `/healthz` (200 within the timeout).
    pub healthz_ms: Vec<f64>,
    /// `/healthz` requests not answered 200 within the timeout.
    pub healthz_failed: usize,
    /// How each failed request failed (status or error), for the report.
    pub failures: Vec<String>,
    /// Milliseconds of each signed webhook answered 200.
    pub webhook_ms: Vec<f64>,
    /// Signed webhooks not answered 200 within the timeout (status, or 0).
    pub webhook_failed: Vec<u16>,
}

impl Probe {
    /// The median and the largest of `ms` (0, 0 when empty).
    pub fn p50_max(ms: &[f64]) -> (f64, f64) {
        let mut v = ms.to_vec();
        v.sort_by(f64::total_cmp);
        match v.last() {
            Some(max) => (v[v.len() / 2], *max),
            None => (0.0, 0.0),
        }
    }
}

/// Asks `/healthz` every `every` for `period`, and posts a signed webhook
/// (`signed(i)` gives the body and its signature header) every fifth time,
/// each on a fresh connection with `timeout`.
pub fn probe(
    url: &str,
    period: Duration,
    every: Duration,
    timeout: Duration,
    signed: impl Fn(usize) -> (Vec<u8>, String),
) -> Probe {
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(0)
        .build()
        .expect("a probe client");
    let mut out = Probe::default();
    let end = Instant::now() + period;
    let mut i = 0;
    while Instant::now() < end {
        let started = Instant::now();
        match client.get(format!("{url}/healthz")).send() {
            Ok(r) if r.status() == 200 && started.elapsed() <= timeout => out
                .healthz_ms
                .push(started.elapsed().as_secs_f64() * 1000.0),
            other => {
                out.healthz_failed += 1;
                out.failures.push(format!(
                    "healthz after {:?}: {:?}",
                    started.elapsed(),
                    other.map(|r| r.status()).map_err(|e| format!("{e:?}"))
                ));
            }
        }
        if i % 5 == 0 {
            let (b, signature) = signed(i);
            let started = Instant::now();
            let status = client
                .post(format!("{url}/webhook"))
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(b)
                .send()
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            if status == 200 && started.elapsed() <= timeout {
                out.webhook_ms
                    .push(started.elapsed().as_secs_f64() * 1000.0);
            } else {
                out.webhook_failed.push(status);
            }
        }
        i += 1;
        std::thread::sleep(every.saturating_sub(started.elapsed()));
    }
    out
}

/// `VmRSS` and `VmHWM` (peak) of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
