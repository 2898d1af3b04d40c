//! Stand-in sync backends: an axum app on 127.0.0.1 with a random port, run
//! on its own thread until dropped, and the page shape of the sync protocol.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A test server on 127.0.0.1 with a random port, running until dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bound port.
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves `app` on a free loopback port.
pub fn serve(app: Router) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            // Not graceful: a client stuck in a loop must not keep the test
            // waiting for its keep-alive connection to close.
            tokio::select! {
                _ = axum::serve(listener, app) => {}
                _ = stop_rx => {}
            }
        });
    });
    Server {
        url: format!("http://127.0.0.1:{port}"),
        port,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

/// A protocol event with id `id` and ref `r`.
pub fn event(id: &str, r: &str) -> serde_json::Value {
    serde_json::json!({
        "event_id": id, "platform": "messenger", "page_id": "104729178032417",
        "sender": format!("s-{id}"), "timestamp_ms": 1_764_201_600_000i64, "kind": "new",
        "ref": r, "source": "SHORTLINK", "type": "OPEN_THREAD",
        "received_at_ms": 1_764_201_600_412i64
    })
}

/// The body of a page.
pub fn page_body(events: &[serde_json::Value], next: &str, has_more: bool) -> String {
    serde_json::json!({"events": events, "next_cursor": next, "has_more": has_more}).to_string()
}

/// A page as a JSON response.
pub fn page(events: &[serde_json::Value], next: &str, has_more: bool) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        page_body(events, next, has_more),
    )
        .into_response()
}

/// The value of `name` in a query string, percent-decoded.
pub fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Runs a sync on its own thread and waits at most `limit` for it to end, so
/// a sync that loops for ever fails the test instead of hanging it.
pub fn sync_within(
    db: &std::path::Path,
    config: refboard::sync::SyncConfig,
    limit: std::time::Duration,
) -> Result<refboard::sync::Progress, refboard::sync::SyncError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let db = db.to_path_buf();
    std::thread::spawn(move || {
        let mut store = refboard::store::Store::open(&db).unwrap();
        let _ = tx.send(refboard::sync::sync(&mut store, &config, &mut |_| true));
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("sync still running after {limit:?}"))
}
