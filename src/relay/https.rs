//! The HTTPS listener beside the plain HTTP one: binds it with its TLS
//! ready (`tls.rs`), runs both accept loops (`server.rs`) on one shutdown,
//! and, with ACME (`acme.rs`), waits for the first certificate or stops both.

use super::tls::{Acceptor, CertificateSource, Files, TlsOptions, server_config};
use std::sync::Arc;

/// A refused bind of a low port, with what lets a service bind it.
fn privileged_port(e: super::RelayError) -> super::RelayError {
    match e {
        super::RelayError::Listen { source, addr }
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            super::RelayError::Listen {
                source: std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "permission denied; a port below 1024 needs the CAP_NET_BIND_SERVICE capability (AmbientCapabilities= in the systemd unit) or root",
                ),
                addr,
            }
        }
        other => other,
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
                let files = Files::load(cert, key)?;
                let config = server_config(Arc::new(files)).map_err(internal)?;
                (Acceptor::new(config, None), None)
            }
            CertificateSource::Acme(acme) => {
                let state = super::acme::state(acme)?;
                let config = server_config(state.resolver()).map_err(internal)?;
                let challenge =
                    state.challenge_rustls_config_with_provider(super::acme::provider());
                (
                    Acceptor::new(config, Some(challenge)),
                    Some((state, acme.clone())),
                )
            }
        };
        let listener = super::bind_listener(&options.listen)
            .await
            .map_err(privileged_port)?;
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
