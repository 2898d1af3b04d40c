//! HTTPS in the relay (issue #20): a certificate from a real ACME server
//! (Debian's `pebble`, with `pebble-challtestsrv` as its DNS) on 127.0.0.1,
//! a signed webhook posted over HTTPS that trusts only pebble's root, the
//! event pulled back, and a second start that serves the cached certificate
//! with pebble gone. Then the failures: a directory that does not answer, a
//! domain with no DNS record, certificate files that are not PEM or do not
//! belong together. Each is one line, exit 1 for the world's, 2 for the user's.
//!
//! pebble must be installed (`.ci/run` installs it): these tests fail without it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::FIXTURE_APP_SECRET;
use common::relay::{free_port, referral_body, signature};
use refboard::messenger::SIGNATURE_HEADER;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const API_TOKEN: &str = "tls-test-api-token";
const DOMAIN: &str = "relay.refboard.test";

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `ok` until it holds, failing with `what` after `secs`.
fn wait_until(secs: u64, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A self-signed certificate and key (PEM) for `names`.
fn self_signed(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let c = rcgen::generate_simple_self_signed(names).unwrap();
    (c.cert.pem(), c.key_pair.serialize_pem())
}

/// pebble and its DNS stand-in on free loopback ports.
struct Pebble {
    _dns: Proc,
    server: Proc,
    directory: String,
    /// pebble's own HTTPS certificate, to trust for its directory.
    tls_root: PathBuf,
    /// The root pebble signs certificates under.
    issuing_root: String,
}

impl Pebble {
    /// Starts both; `tls_port` is where pebble validates TLS-ALPN-01 (the
    /// relay's HTTPS port). Only `DOMAIN` resolves (to 127.0.0.1).
    fn start(dir: &Path, tls_port: u16) -> Self {
        let (dns_port, dns_admin) = (free_port(), free_port());
        let dns = Proc(
            Command::new("/usr/bin/pebble-challtestsrv")
                .args(["-defaultIPv4", "", "-defaultIPv6", ""])
                .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
                .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
                .args(["-management", &format!("127.0.0.1:{dns_admin}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("pebble-challtestsrv runs (Debian package pebble; .ci/run installs it)"),
        );
        let admin = reqwest::blocking::Client::new();
        let add_a = format!("http://127.0.0.1:{dns_admin}/add-a");
        let record = serde_json::json!({"host": DOMAIN, "addresses": ["127.0.0.1"]});
        wait_until(20, "pebble-challtestsrv", || {
            admin
                .post(&add_a)
                .json(&record)
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
        let (cert, key) = self_signed(&["localhost", "127.0.0.1"]);
        let tls_root = dir.join("pebble-tls.pem");
        std::fs::write(&tls_root, &cert).unwrap();
        std::fs::write(dir.join("pebble-key.pem"), key).unwrap();
        let (port, management) = (free_port(), free_port());
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{port}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.join("pebble-tls.pem"),
            "privateKey": dir.join("pebble-key.pem"),
            "httpPort": free_port(),
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        }});
        let config_file = dir.join("pebble.json");
        std::fs::write(&config_file, config.to_string()).unwrap();
        let server = Proc(
            Command::new("/usr/bin/pebble")
                .arg("-config")
                .arg(&config_file)
                .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
                .env("PEBBLE_VA_NOSLEEP", "1")
                // Pebble refuses 5% of nonces by default, to test clients' retries.
                .env("PEBBLE_WFE_NONCEREJECT", "0")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("pebble runs (Debian package pebble; .ci/run installs it)"),
        );
        let client = reqwest::blocking::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(cert.as_bytes()).unwrap()])
            .build()
            .unwrap();
        let mut issuing_root = String::new();
        wait_until(20, "pebble's management port", || {
            match client
                .get(format!("https://127.0.0.1:{management}/roots/0"))
                .send()
            {
                Ok(r) if r.status().is_success() => {
                    issuing_root = r.text().unwrap();
                    true
                }
                _ => false,
            }
        });
        Self {
            _dns: dns,
            server,
            directory: format!("https://127.0.0.1:{port}/dir"),
            tls_root,
            issuing_root,
        }
    }
}

/// `refboard relay` with ACME flags; its stderr goes to `log`.
fn relay_cmd(dir: &Path, domain: &str, directory: &str, root: &Path, https: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_refboard"));
    cmd.args(["relay", "--listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--data")
        .arg(dir.join("relay.db"))
        .args(["--domain", domain, "--acme-email", "ops@example.com"])
        .args(["--acme-directory", directory])
        .arg("--acme-root-cert")
        .arg(root)
        .args(["--https-listen", &format!("127.0.0.1:{https}")])
        .env("REFBOARD_APP_SECRET", FIXTURE_APP_SECRET)
        .env("REFBOARD_VERIFY_TOKEN", "v")
        .env("REFBOARD_API_TOKEN", API_TOKEN)
        .env("RUST_LOG", "info");
    cmd
}

/// A client that trusts only `root` and finds `DOMAIN` at 127.0.0.1:`port`.
fn https_client(root: &str, port: u16) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(root.as_bytes()).unwrap()])
        .resolve(DOMAIN, SocketAddr::from(([127, 0, 0, 1], port)))
        .tls_info(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Waits until the relay serves `/healthz` over HTTPS with a certificate
/// `client` trusts; returns the leaf it served (DER).
fn served_certificate(
    client: &reqwest::blocking::Client,
    port: u16,
    relay: &mut Proc,
    log: &Path,
) -> Vec<u8> {
    let url = format!("https://{DOMAIN}:{port}/healthz");
    let mut leaf = Vec::new();
    wait_until(60, "the relay's HTTPS certificate", || {
        if let Ok(Some(status)) = relay.0.try_wait() {
            panic!(
                "the relay exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        match client.get(&url).send() {
            Ok(r) if r.status() == 200 => {
                let info = r.extensions().get::<reqwest::tls::TlsInfo>().unwrap();
                leaf = info.peer_certificate().unwrap().to_vec();
                true
            }
            _ => false,
        }
    });
    leaf
}

#[test]
fn the_relay_gets_a_certificate_from_pebble_serves_https_and_reuses_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let https = free_port();
    let pebble = Pebble::start(dir.path(), https);
    let log = dir.path().join("relay.log");
    let start = || {
        Proc(
            relay_cmd(
                dir.path(),
                DOMAIN,
                &pebble.directory,
                &pebble.tls_root,
                https,
            )
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
        )
    };
    let mut relay = start();
    let client = https_client(&pebble.issuing_root, https);
    let first = served_certificate(&client, https, &mut relay, &log);

    // A Meta-signed webhook over HTTPS, and the event pulled back over HTTPS.
    let base = format!("https://{DOMAIN}:{https}");
    let body = referral_body(
        "tls-spring",
        "psid-1",
        chrono::Utc::now().timestamp_millis(),
    );
    let posted = client
        .post(format!("{base}/webhook"))
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature(&body))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(posted.status(), 200);
    let page: serde_json::Value = client
        .get(format!("{base}/v1/referrals"))
        .bearer_auth(API_TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(page["events"][0]["ref"], "tls-spring", "{page}");

    // The cache is private; the second start needs no ACME server.
    let cache = dir.path().join("acme");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 2, "an account and a certificate: {files:?}");
    for f in &files {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    drop(relay);
    let Pebble { server, .. } = pebble;
    drop(server);
    let mut relay = start();
    let second = served_certificate(&client, https, &mut relay, &log);
    assert_eq!(first, second, "the cached certificate is served again");
}

/// Runs the relay to its end (within 60 s); its exit code and stderr.
fn run_to_end(mut cmd: Command) -> (i32, String) {
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Proc(out);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code().unwrap_or(-1), err);
        }
        assert!(Instant::now() < deadline, "the relay did not give up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `error:` line of a relay's stderr (the log lines come before it).
fn error_line(stderr: &str) -> String {
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line in:\n{stderr}");
    errors[0].to_string()
}

#[test]
fn acme_failures_are_one_line_that_says_what_to_check_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not answer: nothing listens on its port.
    let (cert, _) = self_signed(&["localhost"]);
    let root = dir.path().join("root.pem");
    std::fs::write(&root, cert).unwrap();
    let silent = format!("https://127.0.0.1:{}/dir", free_port());
    let (code, err) = run_to_end(relay_cmd(dir.path(), DOMAIN, &silent, &root, free_port()));
    let line = error_line(&err);
    assert_eq!(code, 1, "{err}");
    assert!(
        line.contains("does not answer") && line.contains("directory URL"),
        "{line}"
    );

    // A domain with no DNS record: pebble cannot validate it.
    let https = free_port();
    let pebble = Pebble::start(dir.path(), https);
    let (code, err) = run_to_end(relay_cmd(
        dir.path(),
        "nowhere.refboard.test",
        &pebble.directory,
        &pebble.tls_root,
        https,
    ));
    let line = error_line(&err);
    assert_eq!(code, 1, "{err}");
    assert!(
        line.contains("nowhere.refboard.test") && line.contains("DNS"),
        "{line}"
    );
}

#[test]
fn certificate_files_that_are_not_pem_or_do_not_match_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(&[DOMAIN]);
    let (_, other_key) = self_signed(&[DOMAIN]);
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (cert, key, other_key) = (
        write("cert.pem", &cert),
        write("key.pem", &key),
        write("other.pem", &other_key),
    );
    let der = write("cert.der", "0\u{82}\u{1}\u{a}not pem at all");
    let run = |cert: &Path, key: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_refboard"));
        cmd.args(["relay", "--listen", &format!("127.0.0.1:{}", free_port())])
            .arg("--data")
            .arg(dir.path().join("relay.db"))
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .args(["--https-listen", &format!("127.0.0.1:{}", free_port())])
            .env("REFBOARD_APP_SECRET", FIXTURE_APP_SECRET)
            .env("REFBOARD_VERIFY_TOKEN", "v")
            .env("REFBOARD_API_TOKEN", API_TOKEN);
        run_to_end(cmd)
    };
    let (code, err) = run(&der, &key);
    let line = error_line(&err);
    assert_eq!(code, 2, "{err}");
    assert!(
        line.contains("--tls-cert") && line.contains("cert.der") && line.contains("PEM"),
        "{line}"
    );
    let (code, err) = run(&cert, &other_key);
    let line = error_line(&err);
    assert_eq!(code, 2, "{err}");
    assert!(
        line.contains("--tls-key")
            && line.contains("other.pem")
            && line.contains("another certificate"),
        "{line}"
    );
    // ACME flags the user got wrong: a URL for a name, a root that is not PEM.
    let (code, err) = run_to_end(relay_cmd(
        dir.path(),
        "https://relay.example.com/webhook",
        "https://127.0.0.1:1/dir",
        &key,
        free_port(),
    ));
    let line = error_line(&err);
    assert_eq!(code, 2, "{err}");
    assert!(
        line.contains("--domain") && line.contains("no https://"),
        "{line}"
    );
    let (code, err) = run_to_end(relay_cmd(
        dir.path(),
        DOMAIN,
        "https://127.0.0.1:1/dir",
        &der,
        free_port(),
    ));
    let line = error_line(&err);
    assert_eq!(code, 2, "{err}");
    assert!(
        line.contains("--acme-root-cert") && line.contains("cert.der"),
        "{line}"
    );
    // Refused before the relay opened anything: no database, no ACME cache.
    assert!(!dir.path().join("relay.db").exists());
    assert!(!dir.path().join("acme").exists());
}

#[test]
fn the_relay_serves_https_with_the_user_s_own_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(&[DOMAIN]);
    std::fs::write(dir.path().join("cert.pem"), &cert).unwrap();
    std::fs::write(dir.path().join("key.pem"), key).unwrap();
    let https = free_port();
    let log = dir.path().join("relay.log");
    let mut relay = Proc(
        Command::new(env!("CARGO_BIN_EXE_refboard"))
            .args(["relay", "--listen", &format!("127.0.0.1:{}", free_port())])
            .arg("--data")
            .arg(dir.path().join("relay.db"))
            .arg("--tls-cert")
            .arg(dir.path().join("cert.pem"))
            .arg("--tls-key")
            .arg(dir.path().join("key.pem"))
            .args(["--https-listen", &format!("127.0.0.1:{https}")])
            .args(["--header-timeout-secs", "1"])
            .env("REFBOARD_APP_SECRET", FIXTURE_APP_SECRET)
            .env("REFBOARD_VERIFY_TOKEN", "v")
            .env("REFBOARD_API_TOKEN", API_TOKEN)
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let client = https_client(&cert, https);
    let served = served_certificate(&client, https, &mut relay, &log);
    let expected = rustls_pki_pem_der(&cert);
    assert_eq!(served, expected);
    // A renewal on disk (certbot writes new files) is served without a restart.
    let (renewed, renewed_key) = self_signed(&[DOMAIN]);
    std::fs::write(dir.path().join("key.pem"), renewed_key).unwrap();
    std::fs::write(dir.path().join("cert.pem"), &renewed).unwrap();
    let renewed_der = rustls_pki_pem_der(&renewed);
    // A new client each time: a resumed TLS session would show the old leaf.
    let trusts_both = || {
        reqwest::blocking::Client::builder()
            .tls_certs_only([
                reqwest::Certificate::from_pem(cert.as_bytes()).unwrap(),
                reqwest::Certificate::from_pem(renewed.as_bytes()).unwrap(),
            ])
            .resolve(DOMAIN, SocketAddr::from(([127, 0, 0, 1], https)))
            .tls_info(true)
            .build()
            .unwrap()
    };
    wait_until(30, "the renewed certificate", || {
        served_certificate(&trusts_both(), https, &mut relay, &log) == renewed_der
    });
    // A peer that connects and never starts its handshake is closed within
    // the header timeout, as one that never sends its headers is.
    use std::io::Read;
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", https)).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let read = silent.read(&mut buf);
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "closed, not {read:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// The DER bytes of a one-certificate PEM.
fn rustls_pki_pem_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}
