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
    /// `privkey.pem`); read once at start.
    Files {
        /// The certificate chain, leaf first.
        cert: PathBuf,
        /// The leaf's private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// Obtained and renewed by the relay from an ACME CA.
    Acme(super::acme::AcmeOptions),
}

/// The crypto the relay's TLS uses: aws-lc-rs, named so that no process-wide
/// default has to be installed.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A server config that answers HTTP/1.1 with certificates from `resolver`.
pub(crate) fn server_config(
    resolver: Arc<dyn rustls::server::ResolvesServerCert>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
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
    let signing = provider()
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

/// A resolver that always serves one certificate (the user's own files).
#[derive(Debug)]
pub(crate) struct Fixed(pub Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The HTTPS listener, bound, with its TLS ready (a certificate from files,
/// or the ACME state that will fetch one).
pub(crate) struct Https {
    listener: tokio::net::TcpListener,
    acceptor: Acceptor,
    acme: Option<(
        rustls_acme::AcmeState<std::io::Error, std::io::Error>,
        super::acme::AcmeOptions,
    )>,
}

impl Https {
    /// Checks the certificate source and binds the listener; bad files and
    /// flags are [`super::RelayError::Invalid`], before anything listens.
    pub(crate) async fn prepare(options: &TlsOptions) -> Result<Self, super::RelayError> {
        let internal = |e: rustls::Error| super::RelayError::Forward(format!("TLS setup: {e}"));
        let (acceptor, acme) = match &options.certificate {
            CertificateSource::Files { cert, key } => {
                let certified = load_files(cert, key)?;
                let config =
                    server_config(Arc::new(Fixed(Arc::new(certified)))).map_err(internal)?;
                (Acceptor::new(config, None), None)
            }
            CertificateSource::Acme(acme) => {
                let state = super::acme::state(acme)?;
                let config = server_config(state.resolver()).map_err(internal)?;
                let challenge = state.challenge_rustls_config_with_provider(provider());
                (
                    Acceptor::new(config, Some(challenge)),
                    Some((state, acme.clone())),
                )
            }
        };
        let listener = super::bind_listener(&options.listen).await?;
        Ok(Self {
            listener,
            acceptor,
            acme,
        })
    }

    /// Serves HTTP on `http` and HTTPS on this listener until `shutdown`.
    /// With ACME, the first certificate must come (from the cache or the CA)
    /// or both listeners close and the reason is returned.
    pub(crate) async fn serve_both(
        self,
        http: tokio::net::TcpListener,
        app: axum::Router,
        limits: super::server::Limits,
        metrics: Arc<super::metrics::Metrics>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), super::RelayError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        let stop = Arc::new(stop_tx);
        let outer = stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            let _ = outer.send(true);
        });
        let addr = self
            .listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        tracing::info!(%addr, "relay listening for HTTPS");
        let plain = tokio::spawn(super::server::accept_loop(
            http,
            None,
            app.clone(),
            limits.clone(),
            metrics.clone(),
            stopped(),
        ));
        let secure = tokio::spawn(super::server::accept_loop(
            self.listener,
            Some(self.acceptor),
            app,
            limits,
            metrics,
            stopped(),
        ));
        let mut result = Ok(());
        if let Some((state, options)) = self.acme
            && let Err(e) = super::acme::first_certificate(state, &options).await
        {
            let _ = stop.send(true);
            result = Err(e.into());
        }
        let _ = plain.await;
        let _ = secure.await;
        result
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
