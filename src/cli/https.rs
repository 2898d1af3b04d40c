//! The relay's HTTPS flags: a certificate from an ACME CA (`--domain`), or
//! the user's own files (`--tls-cert`/`--tls-key`), served on `--https-listen`
//! beside the plain HTTP of `--listen`.

use crate::model::ValidationError;
use crate::relay::{AcmeOptions, CertificateSource, LETS_ENCRYPT_DIRECTORY, TlsOptions};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(super) struct HttpsArgs {
    /// Serve HTTPS for this public name, with a certificate the relay obtains and renews by itself from an ACME CA (Let's Encrypt by default, TLS-ALPN-01: the name's DNS must point at this machine and port 443 must reach --https-listen)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["tls_cert", "tls_key"])]
    domain: Option<String>,
    /// Contact address given to the ACME CA (expiry and policy notices)
    #[arg(long, value_name = "EMAIL", requires = "domain")]
    acme_email: Option<String>,
    /// Where the ACME account and certificate are kept (created 0700) [default: acme/ beside --data, else the user's data folder]
    #[arg(long, value_name = "DIR", requires = "domain")]
    acme_cache: Option<PathBuf>,
    /// The ACME CA's directory URL (for testing or a private CA)
    #[arg(long, value_name = "URL", default_value = LETS_ENCRYPT_DIRECTORY, requires = "domain")]
    acme_directory: String,
    /// An extra root certificate (PEM) to trust for the ACME directory, for a private ACME server such as pebble (testing) or a company CA
    #[arg(long, value_name = "FILE.pem", requires = "domain")]
    acme_root_cert: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain you already have (PEM, leaf first, e.g. fullchain.pem)
    #[arg(long, value_name = "FILE.pem", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM, unencrypted, e.g. privkey.pem)
    #[arg(long, value_name = "FILE.pem", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Address for HTTPS, with --domain or --tls-cert (ports below 1024 need CAP_NET_BIND_SERVICE, see docs/deploy.md)
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:443")]
    https_listen: String,
}

impl HttpsArgs {
    /// The HTTPS settings, or `None` for plain HTTP only. `data` is the
    /// relay's SQLite file (empty with PostgreSQL), beside which the ACME
    /// cache goes by default.
    pub(super) fn options(&self, data: &Path) -> Result<Option<TlsOptions>, ValidationError> {
        let certificate = match (&self.domain, &self.tls_cert, &self.tls_key) {
            (Some(domain), _, _) => CertificateSource::Acme(AcmeOptions {
                domain: domain.clone(),
                email: self.acme_email.clone().filter(|e| !e.is_empty()),
                cache_dir: self.cache_dir(data)?,
                directory_url: self.acme_directory.clone(),
                extra_root: self.acme_root_cert.clone(),
            }),
            (None, Some(cert), Some(key)) => CertificateSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ => return Ok(None),
        };
        Ok(Some(TlsOptions {
            listen: self.https_listen.clone(),
            certificate,
        }))
    }

    fn cache_dir(&self, data: &Path) -> Result<PathBuf, ValidationError> {
        if let Some(dir) = &self.acme_cache {
            return Ok(dir.clone());
        }
        let beside_data = data
            .parent()
            .filter(|_| !data.as_os_str().is_empty())
            .map(|p| p.join("acme"));
        beside_data
            .or_else(|| {
                directories::ProjectDirs::from("", "", "refboard")
                    .map(|d| d.data_dir().join("relay-acme"))
            })
            .ok_or_else(|| {
                ValidationError::new(
                    "--acme-cache",
                    "",
                    "a directory for the ACME account and certificate (no data folder was found)",
                )
            })
    }
}

/// A relay refusal with the CLI's flag in place of the library's field name.
pub(super) fn with_flag(v: ValidationError) -> ValidationError {
    let flag = match v.field {
        crate::relay::DATABASE_FIELD => "--database",
        crate::relay::TLS_CERT_FIELD => "--tls-cert",
        crate::relay::TLS_KEY_FIELD => "--tls-key",
        crate::relay::ACME_ROOT_FIELD => "--acme-root-cert",
        crate::relay::ACME_CACHE_FIELD => "--acme-cache",
        crate::relay::ACME_EMAIL_FIELD => "--acme-email",
        crate::relay::DOMAIN_FIELD => "--domain",
        other => other,
    };
    ValidationError { field: flag, ..v }
}
