//! Certificates from an ACME CA (Let's Encrypt by default), obtained and
//! renewed by the relay itself with `rustls-acme` (TLS-ALPN-01: the CA
//! connects to the relay's HTTPS port, so port 443 must reach it).
//!
//! - The account key and certificate live in a cache directory of the
//!   relay's own (0700, files 0600, each written to a temp file and renamed),
//!   so a restart serves the cached certificate without asking the CA.
//! - The first certificate must arrive before the relay reports itself up:
//!   a failure then stops the relay with one line that says what to check
//!   ([`explain`]). Later renewals that fail are logged and retried.

use crate::model::ValidationError;
use futures_util::StreamExt;
use rustls_acme::{AcmeConfig, AcmeState, EventError, EventOk, OrderError};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Let's Encrypt's production directory, the default.
pub const LETS_ENCRYPT_DIRECTORY: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Field of a refused extra root certificate (the CLI shows its flag).
pub const ACME_ROOT_FIELD: &str = "acme_root_cert";
/// Field of a refused domain.
pub const DOMAIN_FIELD: &str = "domain";
/// Field of a refused contact address.
pub const ACME_EMAIL_FIELD: &str = "acme_email";
/// Field of a refused cache directory.
pub const ACME_CACHE_FIELD: &str = "acme_cache";
/// How long the first certificate may take before the relay gives up.
pub const FIRST_CERTIFICATE_SECS: u64 = 120;

/// What the relay asks the ACME CA for, and where it keeps the answers.
#[derive(Debug, Clone)]
pub struct AcmeOptions {
    /// The public name the certificate is for; its DNS must point here.
    pub domain: String,
    /// Contact address for the CA's notices (optional for Let's Encrypt).
    pub email: Option<String>,
    /// The cache directory (created 0700).
    pub cache_dir: PathBuf,
    /// The CA's directory URL.
    pub directory_url: String,
    /// A PEM root to trust for the directory too (a private CA, or pebble).
    pub extra_root: Option<PathBuf>,
}

/// Why the first certificate could not be had, in words that say what to check.
#[derive(Debug, thiserror::Error)]
#[error("no certificate for {domain} from the ACME server at {directory}: {reason}")]
pub struct AcmeError {
    /// The domain asked for.
    pub domain: String,
    /// The directory URL.
    pub directory: String,
    /// What went wrong and what to check.
    pub reason: String,
}

/// The crypto the relay's TLS uses: aws-lc-rs, named so that no process-wide
/// default has to be installed.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Checks the domain and builds the ACME state that drives ordering and
/// renewal; the root file and the cache directory are checked here, so bad
/// input stops the relay before it listens.
pub(crate) fn state(
    options: &AcmeOptions,
) -> Result<AcmeState<std::io::Error, std::io::Error>, ValidationError> {
    check_domain(&options.domain)?;
    if let Some(email) = &options.email {
        check_email(email)?;
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &options.extra_root {
        add_root(&mut roots, path)?;
    }
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ValidationError::new(ACME_ROOT_FIELD, "", e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let cache = Cache::open(&options.cache_dir)?;
    let mut config =
        AcmeConfig::new_with_client_config([options.domain.as_str()], Arc::new(client))
            .directory(&options.directory_url)
            .cache(cache);
    if let Some(email) = &options.email {
        config = config.contact_push(format!("mailto:{email}"));
    }
    Ok(config.state())
}

/// A DNS name with a dot, no scheme, port or path: the name Meta will call.
fn check_domain(domain: &str) -> Result<(), ValidationError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.len() <= 253 && domain.contains('.') && domain.split('.').all(label_ok) {
        return Ok(());
    }
    Err(ValidationError::new(
        DOMAIN_FIELD,
        domain,
        "a public DNS name such as relay.example.com (no https://, port or path)",
    ))
}

/// An address the CA can write to: one `@` with text on both sides, and
/// nothing that would break the `mailto:` URL.
fn check_email(email: &str) -> Result<(), ValidationError> {
    let plain = !email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>,;?".contains(c));
    match email.split_once('@') {
        Some((user, host))
            if plain && !user.is_empty() && host.contains('.') && !host.contains('@') =>
        {
            Ok(())
        }
        _ => Err(ValidationError::new(
            ACME_EMAIL_FIELD,
            email,
            "an e-mail address such as ops@example.com",
        )),
    }
}

fn add_root(roots: &mut rustls::RootCertStore, path: &Path) -> Result<(), ValidationError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let refuse =
        |rule: String| ValidationError::new(ACME_ROOT_FIELD, &path.display().to_string(), rule);
    let bytes = std::fs::read(path).map_err(|e| refuse(format!("a readable file ({e})")))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(refuse(
            "a PEM root certificate (-----BEGIN CERTIFICATE-----) of the ACME server".into(),
        ));
    }
    Ok(())
}

/// Drives `state` until the first certificate is served, then keeps it
/// renewing in the background. Fails with one line when the first one cannot
/// be had within [`FIRST_CERTIFICATE_SECS`].
pub(crate) async fn first_certificate(
    mut state: AcmeState<std::io::Error, std::io::Error>,
    options: &AcmeOptions,
) -> Result<(), AcmeError> {
    let fail = |reason: String| AcmeError {
        domain: options.domain.clone(),
        directory: crate::model::redact_url(&options.directory_url),
        reason,
    };
    let deadline = Duration::from_secs(FIRST_CERTIFICATE_SECS);
    let first = tokio::time::timeout(deadline, async {
        loop {
            match state.next().await {
                Some(Ok(EventOk::DeployedCachedCert)) => return Ok(true),
                Some(Ok(EventOk::DeployedNewCert)) => return Ok(false),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(explain(&e, &options.domain)),
                None => return Err("the ACME client stopped".to_string()),
            }
        }
    })
    .await;
    let cached = match first {
        Ok(Ok(cached)) => cached,
        Ok(Err(reason)) => return Err(fail(reason)),
        Err(_) => {
            return Err(fail(format!(
                "none within {FIRST_CERTIFICATE_SECS} s; check that the directory URL answers and that {} reaches this machine on port 443",
                options.domain
            )));
        }
    };
    tracing::info!(
        domain = %options.domain,
        cached,
        "HTTPS certificate ready"
    );
    let domain = options.domain.clone();
    tokio::spawn(async move {
        while let Some(event) = state.next().await {
            match event {
                Ok(ok) => tracing::info!(event = ?ok, "ACME"),
                Err(e) => {
                    tracing::error!(reason = %explain(&e, &domain), "certificate renewal failed; retrying later")
                }
            }
        }
    });
    Ok(())
}

/// An ACME problem document (RFC 8555 §6.7): its type and detail.
fn problem(body: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let typ = v.get("type")?.as_str()?.to_string();
    let detail = v.get("detail").and_then(|d| d.as_str()).unwrap_or("");
    Some((
        typ,
        crate::model::safe_text(detail).chars().take(300).collect(),
    ))
}

/// What a problem type means for the user, and what to check.
pub(crate) fn problem_words(typ: &str, detail: &str, domain: &str) -> String {
    let kind = typ.rsplit(':').next().unwrap_or(typ);
    // Some servers (pebble among them) report a name that does not resolve
    // as `malformed` or `connection`; the detail says what happened.
    let lower = detail.to_ascii_lowercase();
    let unresolved = [
        "resolve",
        "nxdomain",
        "no valid ip",
        "no a record",
        "servfail",
    ];
    let kind = if unresolved.iter().any(|w| lower.contains(w)) {
        "dns"
    } else {
        kind
    };
    let check = match kind {
        "rateLimited" => "the ACME server's rate limit was reached; wait until the time it names before starting again, and keep the cache directory so a restart reuses the certificate instead of asking again (see https://letsencrypt.org/docs/rate-limits/)".to_string(),
        "dns" => format!("{domain} does not resolve; check its DNS A/AAAA record points at this machine"),
        "connection" | "tls" | "unauthorized" | "incorrectResponse" => format!(
            "the ACME server could not reach this relay at {domain}:443; check that {domain}'s DNS points at this machine and that port 443 is open to the internet and forwarded to the relay's HTTPS port"
        ),
        "caa" => format!("{domain}'s CAA DNS record does not allow this CA"),
        "rejectedIdentifier" => format!("the CA will not issue for {domain}; use a public name you own"),
        "accountDoesNotExist" | "unauthorized_account" => "the cached ACME account is unknown to this server".to_string(),
        _ => format!("the ACME server refused ({kind})"),
    };
    if detail.is_empty() {
        check
    } else {
        format!("{check} (server: {detail})")
    }
}

/// The status and problem document of an ACME request that was answered
/// with an error, from the request error's text: `rustls-acme` does not
/// export its type, and shows it as `non 2xx http status: CODE "BODY"`.
fn non_2xx(text: &str) -> Option<(u16, String)> {
    let rest = text.strip_prefix("non 2xx http status: ")?;
    let (code, body) = rest.split_once(' ')?;
    let body = serde_json::from_str::<String>(body).unwrap_or_else(|_| body.to_string());
    Some((code.parse().ok()?, body))
}

/// One line for an event error: what failed and what to check.
pub(crate) fn explain(e: &EventError<std::io::Error, std::io::Error>, domain: &str) -> String {
    use rustls_acme::acme::AcmeError as Ae;
    let words = |p: &rustls_acme::acme::Problem| {
        problem_words(
            p.typ.as_deref().unwrap_or(""),
            &crate::model::safe_text(p.detail.as_deref().unwrap_or("")),
            domain,
        )
    };
    match e {
        EventError::Order(OrderError::Acme(Ae::HttpRequest(request))) => {
            match non_2xx(&request.to_string()) {
                Some((_, body)) if problem(&body).is_some() => {
                    let (typ, detail) = problem(&body).unwrap_or_default();
                    problem_words(&typ, &detail, domain)
                }
                Some((status, _)) => format!(
                    "the ACME server answered HTTP {status} without a problem document; check the directory URL"
                ),
                None => "the ACME directory does not answer; check the directory URL, this machine's network and, for a private CA, its root certificate".to_string(),
            }
        }
        EventError::Order(OrderError::Acme(Ae::Io(_))) => {
            "the ACME directory does not answer; check the directory URL and this machine's network"
                .to_string()
        }
        EventError::Order(OrderError::Acme(Ae::Json(_))) => {
            "the directory URL did not answer as an ACME directory; check the URL".to_string()
        }
        EventError::Order(OrderError::BadAuth(auth)) => {
            match auth.challenges.iter().find_map(|c| c.error.as_ref()) {
                Some(p) => words(p),
                None => problem_words("connection", "", domain),
            }
        }
        EventError::Order(OrderError::TooManyAttemptsAuth(_)) => {
            problem_words("connection", "", domain)
        }
        EventError::Order(OrderError::BadOrder(order)) => match &order.error {
            Some(p) => words(p),
            None => "the ACME server marked the order invalid".to_string(),
        },
        EventError::CertCacheLoad(e) | EventError::AccountCacheLoad(e) => {
            format!("cannot read the ACME cache ({e}); check the cache directory's owner and mode")
        }
        EventError::CertCacheStore(e) | EventError::AccountCacheStore(e) => {
            format!(
                "cannot write the ACME cache ({e}); check the cache directory's owner and free space"
            )
        }
        other => crate::model::safe_text(&other.to_string()),
    }
}

/// The cache directory: one file per certificate and per account, named by
/// a hash of the domains (or contacts) and the directory URL, as
/// `rustls-acme`'s own directory cache does, but private and written whole.
pub(crate) struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// Creates the directory 0700 (tightening an existing one).
    pub(crate) fn open(dir: &Path) -> Result<Self, ValidationError> {
        let refuse = |e: std::io::Error| {
            ValidationError::new(
                ACME_CACHE_FIELD,
                &dir.display().to_string(),
                format!("a directory the relay can create and write ({e})"),
            )
        };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
            builder.mode(0o700);
            builder.create(dir).map_err(refuse)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(refuse)?;
        }
        #[cfg(not(unix))]
        builder.create(dir).map_err(refuse)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn name(kind: &str, items: &[String], directory_url: &str) -> String {
        let mut h = sha2::Sha256::new();
        for item in items {
            h.update(item.as_bytes());
            h.update([0]);
        }
        h.update(directory_url.as_bytes());
        format!("{kind}_{}.pem", hex::encode(&h.finalize()[..16]))
    }

    async fn load(&self, name: String) -> Result<Option<Vec<u8>>, std::io::Error> {
        let path = self.dir.join(name);
        tokio::task::spawn_blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Writes a temp file (0600) in the directory, syncs it, renames it.
    async fn store(&self, name: String, bytes: Vec<u8>) -> Result<(), std::io::Error> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::Write as _;
            let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
            tmp.write_all(&bytes)?;
            tmp.as_file().sync_all()?;
            tmp.persist(dir.join(name)).map_err(|e| e.error)?;
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

#[async_trait::async_trait]
impl rustls_acme::CertCache for Cache {
    type EC = std::io::Error;
    async fn load_cert(&self, domains: &[String], url: &str) -> Result<Option<Vec<u8>>, Self::EC> {
        self.load(Self::name("cert", domains, url)).await
    }
    async fn store_cert(&self, domains: &[String], url: &str, cert: &[u8]) -> Result<(), Self::EC> {
        self.store(Self::name("cert", domains, url), cert.to_vec())
            .await
    }
}

#[async_trait::async_trait]
impl rustls_acme::AccountCache for Cache {
    type EA = std::io::Error;
    async fn load_account(
        &self,
        contact: &[String],
        url: &str,
    ) -> Result<Option<Vec<u8>>, Self::EA> {
        self.load(Self::name("account", contact, url)).await
    }
    async fn store_account(
        &self,
        contact: &[String],
        url: &str,
        account: &[u8],
    ) -> Result<(), Self::EA> {
        self.store(Self::name("account", contact, url), account.to_vec())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_problem_says_to_wait_and_keep_the_cache() {
        // RFC 8555 §6.7 and Let's Encrypt's answer to too many certificates.
        let body = r#"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s, retry after 2026-12-07 10:00:00 UTC","status":429}"#;
        let (typ, detail) = problem(body).unwrap();
        let line = problem_words(&typ, &detail, "relay.example.com");
        assert!(line.contains("rate limit"), "{line}");
        assert!(line.contains("wait"), "{line}");
        assert!(line.contains("retry after 2026-12-07"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn an_error_answer_s_problem_document_is_read_from_the_request_error() {
        let text = r#"non 2xx http status: 429 "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"slow down\"}""#;
        let (status, body) = non_2xx(text).unwrap();
        assert_eq!(status, 429);
        let (typ, detail) = problem(&body).unwrap();
        assert_eq!(
            (typ.as_str(), detail.as_str()),
            ("urn:ietf:params:acme:error:rateLimited", "slow down")
        );
        assert_eq!(non_2xx("io error: refused"), None);
    }

    #[test]
    fn dns_and_connection_problems_name_the_domain_and_what_to_check() {
        let dns = problem_words("urn:ietf:params:acme:error:dns", "", "relay.example.com");
        assert!(
            dns.contains("relay.example.com") && dns.contains("DNS"),
            "{dns}"
        );
        let pebble = problem_words(
            "urn:ietf:params:acme:error:malformed",
            "Could not resolve URL \"r.example.com\"",
            "r.example.com",
        );
        assert!(pebble.contains("does not resolve"), "{pebble}");
        let conn = problem_words(
            "urn:ietf:params:acme:error:connection",
            "refused",
            "r.example.com",
        );
        assert!(
            conn.contains("port 443") && conn.contains("(server: refused)"),
            "{conn}"
        );
    }

    #[test]
    fn a_domain_is_a_bare_dns_name() {
        assert!(check_domain("relay.example.com").is_ok());
        for bad in [
            "https://relay.example.com",
            "relay.example.com:443",
            "localhost",
            "",
            "a..b",
            "-a.com",
        ] {
            let e = check_domain(bad).unwrap_err();
            assert_eq!(e.field, DOMAIN_FIELD, "{bad}");
        }
    }

    #[test]
    fn a_contact_is_an_e_mail_address() {
        assert!(check_email("ops@example.com").is_ok());
        for bad in [
            "ops",
            "@example.com",
            "ops@localhost",
            "ops@example.com, x@y.z",
            "a b@c.d",
            "a@b@c.d",
        ] {
            assert_eq!(
                check_email(bad).unwrap_err().field,
                ACME_EMAIL_FIELD,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_cache_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("a/acme");
        Cache::open(&cache).unwrap();
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
