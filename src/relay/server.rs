//! The relay's HTTP server: its own accept loop over hyper's HTTP/1, with the
//! limits that keep slow or hostile peers from starving everyone.
//!
//! - Every connection must send its request headers within the header
//!   timeout, which is also the idle keep-alive timeout (hyper starts it
//!   whenever a connection waits for a request).
//! - Every request must be answered within the request timeout from its
//!   headers; the body itself has its own, shorter deadline (see `body.rs`).
//! - At most `max_connections` are served. When all are taken, the newcomer
//!   is not left in the listen backlog: the connection that has waited longest
//!   without a request in hand (idle, sending headers, or still sending its
//!   body) is closed to make room. Only when every connection is being
//!   answered does the newcomer wait. A shed connection's slot is free at
//!   once; its socket closes a moment later (at most [`SHED_PIPELINE`] at a
//!   time), so `/metrics` counts connections served, not sockets closing.
//! - At most `max_connections_per_ip` come from one address: its oldest
//!   waiting connection makes room, or the newcomer is closed.
//!
//! - On the HTTPS listener the TLS handshake runs inside the admitted
//!   connection's task, within the header timeout, so a peer that opens a
//!   connection and never finishes its handshake is closed like one that
//!   never sends its headers, and counts against the same limits.
//!
//! Shedding works behind a reverse proxy too, where every client has the
//! proxy's address; the per-address limit then only caps the proxy (see
//! `docs/deploy.md`).

use super::RelayOptions;
use super::metrics::Metrics;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};

/// hyper's read buffer per connection; bounds what one connection can make
/// the relay hold before a handler sees it (headers must fit in it too).
pub(crate) const MAX_BUF_BYTES: usize = 32 * 1024;
/// How long the accept loop waits, while every connection is being answered,
/// before it looks again for one to shed.
const SHED_RETRY: Duration = Duration::from_millis(25);
/// Most shed connections still closing at once: the sockets open stay under
/// `max_connections` plus this many.
const SHED_PIPELINE: usize = 32;
/// How long graceful shutdown waits for connections to finish.
const SHUTDOWN_GRACE_SECS: u64 = 30;
/// A connection younger than this in its phase is shed only when no older
/// one can be.
const SHED_GRACE_MS: u64 = 1000;
/// A new connection is never shed in its first this many ms: enough for a
/// real client's request headers to be read, even on a busy relay.
const SHED_MIN_AGE_MS: u64 = 200;

/// Connections the kernel may queue for the accept loop (capped by
/// `net.core.somaxconn`). The usual 128 fills under a flood of connects, and
/// a real client's dropped SYN is retried only after a second.
const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` with [`LISTEN_BACKLOG`]; runs inside a Tokio runtime.
pub(crate) fn bind(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std's bind does: a restarted relay can listen at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Milliseconds from `epoch` to now.
fn ms_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Where a connection is in its current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Waiting for a request: fresh, idle keep-alive, or headers still coming.
    Waiting = 0,
    /// Headers in, body still coming.
    Body = 1,
    /// The request is complete and being answered.
    Answering = 2,
}

/// One connection's phase and when it began, shared by the accept loop (which
/// picks whom to shed) and the request handlers.
pub(crate) struct ConnPhase {
    phase: AtomicU8,
    since_ms: AtomicU64,
    /// At least one request was answered on this connection.
    served: AtomicBool,
    epoch: Instant,
}

impl ConnPhase {
    fn new(epoch: Instant) -> Self {
        let p = Self {
            phase: AtomicU8::new(Phase::Waiting as u8),
            since_ms: AtomicU64::new(0),
            served: AtomicBool::new(false),
            epoch,
        };
        p.set(Phase::Waiting);
        p
    }

    fn set(&self, phase: Phase) {
        self.since_ms.store(ms_since(self.epoch), Ordering::SeqCst);
        self.phase.store(phase as u8, Ordering::SeqCst);
    }

    /// The order in which connections are shed, lowest first; `None` for
    /// one never to shed now: being answered, or new and in its first
    /// [`SHED_MIN_AGE_MS`]. First those already served and now idle (or
    /// throwing away a refused body), then those waiting or sending a body
    /// for over [`SHED_GRACE_MS`], then the rest; the oldest first within each.
    fn shed_rank(&self, now_ms: u64) -> Option<(u8, u64)> {
        let (phase, since) = self.get();
        let age_ms = now_ms.saturating_sub(since);
        let class = match phase {
            Phase::Answering => return None,
            Phase::Waiting if self.served.load(Ordering::SeqCst) => 0,
            Phase::Waiting if age_ms < SHED_MIN_AGE_MS => return None,
            _ if age_ms >= SHED_GRACE_MS => 1,
            _ => 2,
        };
        Some((class, since))
    }

    fn get(&self) -> (Phase, u64) {
        let phase = match self.phase.load(Ordering::SeqCst) {
            0 => Phase::Waiting,
            1 => Phase::Body,
            _ => Phase::Answering,
        };
        (phase, self.since_ms.load(Ordering::SeqCst))
    }
}

/// Request extension: lets the webhook handler say its body has arrived, so
/// the connection is no longer one to shed.
#[derive(Clone)]
pub(crate) struct BodyArrived(Arc<ConnPhase>);

impl BodyArrived {
    /// The whole body is in; the request is being answered.
    pub(crate) fn mark(&self) {
        self.0.set(Phase::Answering);
    }
}

/// A connection the accept loop knows of.
struct Entry {
    ip: IpAddr,
    phase: Arc<ConnPhase>,
    evict: Option<oneshot::Sender<()>>,
}

/// Every open connection, by id, and how many each address holds.
#[derive(Default)]
struct Table {
    conns: HashMap<u64, Entry>,
    per_ip: HashMap<IpAddr, usize>,
    next_id: u64,
    /// Shed connections whose tasks have not yet closed their sockets.
    closing: usize,
}

impl Table {
    fn insert(&mut self, ip: IpAddr, phase: Arc<ConnPhase>, evict: oneshot::Sender<()>) -> u64 {
        self.next_id += 1;
        let entry = Entry {
            ip,
            phase,
            evict: Some(evict),
        };
        self.conns.insert(self.next_id, entry);
        *self.per_ip.entry(ip).or_default() += 1;
        self.next_id
    }

    /// Forgets a connection; the returned entry still holds its evict signal.
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.conns.remove(&id)?;
        if let Some(n) = self.per_ip.get_mut(&entry.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_ip.remove(&entry.ip);
            }
        }
        Some(entry)
    }

    /// A connection's task ended; true when it was still registered (not shed).
    fn finish(&mut self, id: u64) -> bool {
        let registered = self.remove(id).is_some();
        if !registered {
            self.closing = self.closing.saturating_sub(1);
        }
        registered
    }

    fn count(&self, ip: IpAddr) -> usize {
        self.per_ip.get(&ip).copied().unwrap_or(0)
    }

    /// Closes the connection (of `ip`, or of anyone) first in the shedding
    /// order of [`ConnPhase::shed_rank`]; false when every one is being
    /// answered, or [`SHED_PIPELINE`] shed ones are still closing. `now_ms`
    /// counts from the epoch the phases count from.
    fn shed_oldest(&mut self, ip: Option<IpAddr>, now_ms: u64) -> bool {
        if self.closing >= SHED_PIPELINE {
            return false;
        }
        let victim = self
            .conns
            .iter()
            .filter(|(_, e)| ip.is_none_or(|ip| e.ip == ip))
            .filter_map(|(id, e)| e.phase.shed_rank(now_ms).map(|rank| (rank, *id)))
            .min()
            .map(|(_, id)| id);
        match victim.and_then(|id| self.remove(id)) {
            Some(mut entry) => {
                if let Some(tx) = entry.evict.take() {
                    let _ = tx.send(());
                }
                self.closing += 1;
                true
            }
            None => false,
        }
    }
}

/// The server limits, from [`RelayOptions`].
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    header_timeout: Duration,
    request_timeout: Duration,
    max_connections: usize,
    max_connections_per_ip: usize,
}

impl Limits {
    pub(crate) fn new(options: &RelayOptions) -> Self {
        Self {
            header_timeout: Duration::from_secs(options.header_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(options.request_timeout_secs.max(1)),
            max_connections: options.max_connections.max(1),
            max_connections_per_ip: options.max_connections_per_ip,
        }
    }
}

/// Everything the accept loop shares with its connection tasks.
struct Shared {
    app: Router,
    table: Mutex<Table>,
    metrics: Arc<Metrics>,
    limits: Limits,
    epoch: Instant,
    /// Told when a connection ends.
    slot_freed: Notify,
}

impl Shared {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the table cannot leave it inconsistent in a
        // way that matters more than refusing every connection would.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes room for one more connection from `ip` under the per-address
    /// limit; false when the newcomer must be closed.
    fn admit_address(&self, ip: IpAddr) -> bool {
        let limit = self.limits.max_connections_per_ip;
        let mut table = self.table();
        if limit == 0 || table.count(ip) < limit {
            return true;
        }
        if table.shed_oldest(Some(ip), ms_since(self.epoch)) {
            self.metrics.count_shed();
            self.metrics.connection_closed();
            return true;
        }
        self.metrics.count_refused_per_ip();
        false
    }

    /// Registers a connection from `ip`, shedding one first when all slots
    /// are taken. A shed connection gives up its slot at once and its socket
    /// closes when its task next runs, so a flood of connects does not wait
    /// on each task it displaces (up to [`SHED_PIPELINE`] at a time). Waits
    /// only while every connection is being answered.
    async fn take_slot(&self, ip: IpAddr) -> (u64, Arc<ConnPhase>, oneshot::Receiver<()>) {
        loop {
            {
                let mut table = self.table();
                let room = if table.conns.len() < self.limits.max_connections {
                    true
                } else if table.shed_oldest(None, ms_since(self.epoch)) {
                    self.metrics.count_shed();
                    self.metrics.connection_closed();
                    true
                } else {
                    false
                };
                if room {
                    let phase = Arc::new(ConnPhase::new(self.epoch));
                    let (evict_tx, evict_rx) = oneshot::channel();
                    let id = table.insert(ip, phase.clone(), evict_tx);
                    return (id, phase, evict_rx);
                }
            }
            // A connection ending, or one being answered going idle, makes room.
            let _ = tokio::time::timeout(SHED_RETRY, self.slot_freed.notified()).await;
        }
    }
}

/// Accepts connections until `shutdown` resolves, then lets requests in
/// flight finish (up to [`SHUTDOWN_GRACE_SECS`]).
pub(crate) async fn accept_loop(
    listener: tokio::net::TcpListener,
    tls: Option<super::tls::Acceptor>,
    app: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::TokioTimer;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_BUF_BYTES);
    let shared = Arc::new(Shared {
        app,
        table: Mutex::new(Table::default()),
        metrics,
        limits,
        epoch: Instant::now(),
        slot_freed: Notify::new(),
    });
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        if !shared.admit_address(peer.ip()) {
            drop(stream);
            continue;
        }
        let (id, phase, evict_rx) = tokio::select! {
            admitted = shared.take_slot(peer.ip()) => admitted,
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        shared.metrics.connection_opened();
        let service = ConnService {
            shared: shared.clone(),
            phase,
        };
        let serve = serve_connection(
            stream,
            tls.clone(),
            http.clone(),
            graceful.watcher(),
            service,
            shared.limits.header_timeout,
        );
        let shared = shared.clone();
        tokio::spawn(async move {
            // A shed connection is dropped, which closes its socket.
            tokio::select! {
                _ = serve => {}
                _ = evict_rx => {}
            }
            if shared.table().finish(id) {
                shared.metrics.connection_closed();
            }
            shared.slot_freed.notify_one();
        });
    }
    drop(listener);
    tracing::info!("shutting down; finishing requests in flight");
    let _ = tokio::time::timeout(
        Duration::from_secs(SHUTDOWN_GRACE_SECS),
        graceful.shutdown(),
    )
    .await;
}

/// Serves one admitted connection: over TLS when `tls` is given, its
/// handshake bounded by `header_timeout`, like the request headers that follow.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    tls: Option<super::tls::Acceptor>,
    http: hyper::server::conn::http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
    service: ConnService,
    header_timeout: Duration,
) {
    use hyper_util::rt::TokioIo;
    let Some(tls) = tls else {
        let _ = watcher
            .watch(http.serve_connection(TokioIo::new(stream), service))
            .await;
        return;
    };
    match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
        Ok(Ok(Some(stream))) => {
            let _ = watcher
                .watch(http.serve_connection(TokioIo::new(stream), service))
                .await;
        }
        // An ACME validation: done once its handshake is.
        Ok(Ok(None)) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!("TLS handshake timed out"),
    }
}

/// One connection's service: tracks its phase and puts a deadline on each request.
#[derive(Clone)]
struct ConnService {
    shared: Arc<Shared>,
    phase: Arc<ConnPhase>,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let (shared, phase) = (self.shared.clone(), self.phase.clone());
        Box::pin(async move { Ok(answer(&shared, phase, req).await) })
    }
}

/// Runs the router on `req` within the request timeout.
async fn answer(shared: &Shared, phase: Arc<ConnPhase>, mut req: Request<Incoming>) -> Response {
    use hyper::body::Body as _;
    phase.set(if req.body().is_end_stream() {
        Phase::Answering
    } else {
        Phase::Body
    });
    req.extensions_mut().insert(BodyArrived(phase.clone()));
    let app = hyper_util::service::TowerToHyperService::new(shared.app.clone());
    let timeout = shared.limits.request_timeout;
    let resp = match tokio::time::timeout(timeout, hyper::service::Service::call(&app, req)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(never)) => match never {},
        Err(_) => timed_out(phase.get().0 == Phase::Body, timeout),
    };
    phase.served.store(true, Ordering::SeqCst);
    phase.set(Phase::Waiting);
    resp
}

/// The answer to a request that ran out of time; the connection is closed.
fn timed_out(body_missing: bool, timeout: Duration) -> Response {
    let (status, message) = if body_missing {
        (
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                timeout.as_secs()
            ),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the relay could not answer within {} s", timeout.as_secs()),
        )
    };
    tracing::warn!(status = status.as_u16(), "request timed out");
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(serde_json::json!({ "error": message }).to_string()),
    )
        .into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Now" for these tests, in ms from the epoch.
    const NOW: u64 = 60_000;

    /// A connection in `phase` since `ago_ms` before [`NOW`], registered in `table`.
    fn entry(
        table: &mut Table,
        epoch: Instant,
        ip: u8,
        phase: Phase,
        ago_ms: u64,
    ) -> (Arc<ConnPhase>, oneshot::Receiver<()>) {
        let p = Arc::new(ConnPhase::new(epoch));
        p.set(phase);
        p.since_ms.store(NOW - ago_ms, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        table.insert(IpAddr::from([127, 0, 0, ip]), p.clone(), tx);
        (p, rx)
    }

    #[test]
    fn a_served_idle_connection_goes_before_an_older_fresh_one() {
        let (epoch, mut table) = (Instant::now(), Table::default());
        let (_, mut fresh) = entry(&mut table, epoch, 1, Phase::Waiting, 5_000);
        // Younger, but it has been answered and is idle now.
        let (served, mut idle) = entry(&mut table, epoch, 1, Phase::Waiting, 10);
        served.served.store(true, Ordering::SeqCst);
        assert!(table.shed_oldest(None, NOW));
        assert!(idle.try_recv().is_ok());
        assert!(fresh.try_recv().is_err());
    }

    #[test]
    fn the_oldest_connection_without_a_request_is_shed_first() {
        let (epoch, mut table) = (Instant::now(), Table::default());
        let (_, mut answering) = entry(&mut table, epoch, 1, Phase::Answering, 9_000);
        let (_, mut body) = entry(&mut table, epoch, 1, Phase::Body, 5_000);
        let (_, mut waiting) = entry(&mut table, epoch, 2, Phase::Waiting, 500);
        let (_, mut newest) = entry(&mut table, epoch, 2, Phase::Waiting, 50);
        // Of address 1, the one still sending its body goes; the answering one stays.
        assert!(table.shed_oldest(Some(IpAddr::from([127, 0, 0, 1])), NOW));
        assert!(body.try_recv().is_ok());
        assert_eq!(table.count(IpAddr::from([127, 0, 0, 1])), 1);
        assert!(!table.shed_oldest(Some(IpAddr::from([127, 0, 0, 1])), NOW));
        // Anyone: the waiting one over 200 ms; never the new one nor the answering one.
        assert!(table.shed_oldest(None, NOW));
        assert!(waiting.try_recv().is_ok());
        assert!(!table.shed_oldest(None, NOW));
        assert!(answering.try_recv().is_err() && newest.try_recv().is_err());
        // A shed connection's task ending releases its place in the pipeline.
        assert_eq!(table.closing, 2);
        assert!(!table.finish(1_000_000));
        assert_eq!(table.closing, 1);
    }

    #[test]
    fn no_more_than_the_pipeline_of_shed_connections_close_at_once() {
        let (epoch, mut table) = (Instant::now(), Table::default());
        let receivers: Vec<_> = (0..SHED_PIPELINE + 5)
            .map(|_| entry(&mut table, epoch, 1, Phase::Waiting, 5_000).1)
            .collect();
        let shed = (0..SHED_PIPELINE + 5)
            .filter(|_| table.shed_oldest(None, NOW))
            .count();
        assert_eq!(shed, SHED_PIPELINE);
        assert_eq!(receivers.len(), SHED_PIPELINE + 5);
    }
}
