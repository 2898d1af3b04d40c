//! HTTPS for the relay: where its certificate comes from (the user's own PEM
//! files, or an ACME CA such as Let's Encrypt, see `acme.rs`), and the TLS
//! handshake done inside each connection the accept loop has admitted, so the
//! connection limits and the header timeout hold for HTTPS as for HTTP.
//!
//! A certificate for an ACME TLS-ALPN-01 challenge is served only to a
//! client that asks for the `acme-tls/1` protocol; that connection then ends.

use crate::model::ValidationError;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// Field of a certificate file that is refused (the CLI shows its flag).
pub const TLS_CERT_FIELD: &str = "tls_cert";
/// Field of a key file that is refused.
pub const TLS_KEY_FIELD: &str = "tls_key";

/// How the relay serves HTTPS, beside its plain HTTP listener.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// `host:port` of the HTTPS listener (e.g. `0.0.0.0:443`).
    pub listen: String,
    /// Where the certificate comes from.
    pub certificate: CertificateSource,
}

/// Where the HTTPS certificate comes from.
#[derive(Debug, Clone)]
pub enum CertificateSource {
    /// PEM files the user already has (e.g. certbot's `fullchain.pem` and
    /// `privkey.pem`); read at start, and again when they change on disk.
    Files {
        /// The certificate chain, leaf first.
        cert: PathBuf,
        /// The leaf's private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// Obtained and renewed by the relay from an ACME CA.
    Acme(super::acme::AcmeOptions),
}

/// A server config that answers HTTP/1.1 with certificates from `resolver`.
pub(crate) fn server_config(
    resolver: Arc<dyn rustls::server::ResolvesServerCert>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(super::acme::provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads a certificate chain and its key from PEM files and checks that they
/// belong together. Each refusal names the file and what it should hold.
pub fn load_files(cert: &Path, key: &Path) -> Result<CertifiedKey, ValidationError> {
    let shown = |p: &Path| p.display().to_string();
    let unreadable = |field, p: &Path, e: std::io::Error| {
        ValidationError::new(field, &shown(p), format!("a readable file ({e})"))
    };
    let cert_bytes = std::fs::read(cert).map_err(|e| unreadable(TLS_CERT_FIELD, cert, e))?;
    let key_bytes = std::fs::read(key).map_err(|e| unreadable(TLS_KEY_FIELD, key, e))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    if chain.is_empty() {
        return Err(ValidationError::new(
            TLS_CERT_FIELD,
            &shown(cert),
            "a PEM certificate chain, leaf first (-----BEGIN CERTIFICATE-----, e.g. certbot's fullchain.pem)",
        ));
    }
    let private = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|_| {
        ValidationError::new(
            TLS_KEY_FIELD,
            &shown(key),
            "a PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC; e.g. certbot's privkey.pem), unencrypted",
        )
    })?;
    let signing = super::acme::provider()
        .key_provider
        .load_private_key(private)
        .map_err(|e| {
            ValidationError::new(
                TLS_KEY_FIELD,
                &shown(key),
                format!("a private key rustls can use ({e})"),
            )
        })?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|_| {
        ValidationError::new(
            TLS_KEY_FIELD,
            &shown(key),
            format!(
                "the private key of the certificate in {}; this key belongs to another certificate",
                shown(cert)
            ),
        )
    })?;
    Ok(certified)
}

/// The TLS side of the HTTPS listener: the config for ordinary clients, and
/// for ACME's validation when certificates come from ACME.
#[derive(Clone)]
pub(crate) struct Acceptor {
    config: Arc<ServerConfig>,
    challenge: Option<Arc<ServerConfig>>,
}

impl Acceptor {
    /// Serves `config` to everyone, and `challenge` to ACME's validator.
    pub(crate) fn new(config: Arc<ServerConfig>, challenge: Option<Arc<ServerConfig>>) -> Self {
        Self { config, challenge }
    }

    /// Does the handshake; `None` when the connection was an ACME
    /// validation, answered and done.
    pub(crate) async fn accept(
        &self,
        stream: TcpStream,
    ) -> std::io::Result<Option<TlsStream<TcpStream>>> {
        let acceptor =
            tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
        let start = acceptor.await?;
        if let Some(challenge) = &self.challenge
            && rustls_acme::is_tls_alpn_challenge(&start.client_hello())
        {
            let mut done = start.into_stream(challenge.clone()).await?;
            let _ = done.shutdown().await;
            return Ok(None);
        }
        Ok(Some(start.into_stream(self.config.clone()).await?))
    }
}

/// How often the certificate files are looked at for a renewal.
const RELOAD_CHECK_SECS: u64 = 5;

/// The user's own certificate files, served until they change on disk (a
/// certbot renewal), then read again. A pair that does not load (a renewal
/// half written, a key of another certificate) is logged and the previous
/// certificate stays in use until the files change again.
#[derive(Debug)]
pub(crate) struct Files {
    cert: PathBuf,
    key: PathBuf,
    state: std::sync::Mutex<FilesState>,
}

#[derive(Debug)]
struct FilesState {
    current: Arc<CertifiedKey>,
    /// Modification times of the cert and key when last read.
    stamps: (Option<std::time::SystemTime>, Option<std::time::SystemTime>),
    checked: std::time::Instant,
}

fn stamps(
    cert: &Path,
    key: &Path,
) -> (Option<std::time::SystemTime>, Option<std::time::SystemTime>) {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(cert), modified(key))
}

impl Files {
    /// Loads the pair once; a refusal names the file and the rule.
    pub(crate) fn load(cert: &Path, key: &Path) -> Result<Self, ValidationError> {
        let stamps = stamps(cert, key);
        let current = Arc::new(load_files(cert, key)?);
        Ok(Self {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            state: std::sync::Mutex::new(FilesState {
                current,
                stamps,
                checked: std::time::Instant::now(),
            }),
        })
    }

    /// The certificate to serve, read again when the files changed.
    fn current(&self) -> Option<Arc<CertifiedKey>> {
        let mut state = self.state.lock().ok()?;
        if state.checked.elapsed() >= std::time::Duration::from_secs(RELOAD_CHECK_SECS) {
            state.checked = std::time::Instant::now();
            let now = stamps(&self.cert, &self.key);
            if now != state.stamps {
                state.stamps = now;
                match load_files(&self.cert, &self.key) {
                    Ok(fresh) => {
                        state.current = Arc::new(fresh);
                        tracing::info!(file = %self.cert.display(), "HTTPS certificate read again");
                    }
                    Err(e) => tracing::warn!(
                        error = %e,
                        "the certificate files changed but cannot be used; still serving the previous certificate"
                    ),
                }
            }
        }
        Some(state.current.clone())
    }
}

impl rustls::server::ResolvesServerCert for Files {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_pem_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.der");
        std::fs::write(&cert, [0x30, 0x82, 0x01, 0x00]).unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "not a key").unwrap();
        let e = load_files(&cert, &key).unwrap_err();
        assert_eq!(e.field, TLS_CERT_FIELD);
        assert!(e.rule.contains("PEM"), "{e}");
    }
}
