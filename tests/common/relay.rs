//! A real `refboard relay` process on 127.0.0.1 for the relay tests (SQLite
//! or PostgreSQL storage), and signed webhook bodies to post to it.

use super::FIXTURE_APP_SECRET;
use refboard::messenger::{SIGNATURE_HEADER, sign};
use std::path::Path;
use std::time::{Duration, Instant};

/// The page id every test body is addressed to.
pub const PAGE_ID: &str = "104729178032417";

/// Where the relay keeps its events.
pub enum Storage<'a> {
    /// `--data FILE` (SQLite).
    Data(&'a Path),
    /// `REFBOARD_RELAY_DATABASE=postgres://…`.
    Database(&'a str),
}

/// A relay process that is killed when dropped.
pub struct RelayProcess {
    pub child: std::process::Child,
    pub url: String,
}

impl RelayProcess {
    /// Starts a relay on a free port and waits until `/healthz` answers 200.
    pub fn start(storage: Storage<'_>, verify_token: &str, api_token: &str) -> Self {
        Self::start_with_args(storage, verify_token, api_token, &[])
    }

    /// [`RelayProcess::start`] with extra `refboard relay` flags (limits).
    pub fn start_with_args(
        storage: Storage<'_>,
        verify_token: &str,
        api_token: &str,
        extra: &[&str],
    ) -> Self {
        Self::start_with_env(storage, verify_token, api_token, extra, &[])
    }

    /// [`RelayProcess::start_with_args`] with extra environment variables
    /// (secrets such as `REFBOARD_EVENTS_TOKEN` stay out of argv).
    pub fn start_with_env(
        storage: Storage<'_>,
        verify_token: &str,
        api_token: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"));
        cmd.args(["relay", "--listen", &format!("127.0.0.1:{port}")]);
        cmd.args(extra);
        cmd.envs(envs.iter().copied());
        match storage {
            Storage::Data(path) => cmd.arg("--data").arg(path),
            Storage::Database(url) => cmd.env("REFBOARD_RELAY_DATABASE", url),
        };
        let child = cmd
            .env("REFBOARD_APP_SECRET", FIXTURE_APP_SECRET)
            .env("REFBOARD_VERIFY_TOKEN", verify_token)
            .env("REFBOARD_API_TOKEN", api_token)
            .env("RUST_LOG", "warn")
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the relay starts");
        let relay = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        relay.wait_healthy();
        relay
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let healthz = format!("{}/healthz", self.url);
        while !reqwest::blocking::get(&healthz).is_ok_and(|r| r.status() == 200) {
            assert!(
                Instant::now() < deadline,
                "relay at {} did not come up",
                self.url
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on at this moment.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A one-item Messenger webhook body for `r` from `sender` at `ts` (ms).
pub fn referral_body(r: &str, sender: &str, ts: i64) -> Vec<u8> {
    serde_json::json!({"object":"page","entry":[{"id":PAGE_ID,"time":ts,"messaging":[
        {"sender":{"id":sender},"recipient":{"id":PAGE_ID},"timestamp":ts,
         "referral":{"ref":r,"source":"SHORTLINK","type":"OPEN_THREAD"}}]}]})
    .to_string()
    .into_bytes()
}

/// The signature header value Meta would send for `body`.
pub fn signature(body: &[u8]) -> String {
    sign(FIXTURE_APP_SECRET.as_bytes(), body)
}

/// Posts `body` to `/webhook` with `sig` (none: no header); the status, or 0
/// when the relay could not be reached.
pub fn post(client: &reqwest::blocking::Client, url: &str, body: &[u8], sig: Option<&str>) -> u16 {
    let mut req = client
        .post(format!("{url}/webhook"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = sig {
        req = req.header(SIGNATURE_HEADER, s);
    }
    req.send().map(|r| r.status().as_u16()).unwrap_or(0)
}

/// Posts `body` correctly signed.
pub fn post_signed(client: &reqwest::blocking::Client, url: &str, body: &[u8]) -> u16 {
    post(client, url, body, Some(&signature(body)))
}
