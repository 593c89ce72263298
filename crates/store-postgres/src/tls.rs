//! TLS to PostgreSQL, chosen as libpq chooses it, by the URL's `sslmode` and
//! `sslrootcert`:
//!
//! - `disable`: plain TCP.
//! - `prefer` (the default): TLS if the server offers it, else plain; the
//!   server's certificate is not checked.
//! - `require`: TLS or no connection; the certificate is not checked, unless
//!   `sslrootcert` is given, which makes it `verify-ca`.
//! - `verify-ca`: the certificate must chain to a root in `sslrootcert` (a PEM
//!   file), or, without it or with `sslrootcert=system`, to the Mozilla roots
//!   built into hookline.
//! - `verify-full`: as `verify-ca`, and the certificate must name the host.
//!
//! tokio-postgres knows only the first three, so both parameters are taken out
//! of the URL here and the rest of it is left to tokio-postgres.

use std::sync::Arc;

use hookline_core::StoreError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;
pub(crate) use tokio_postgres_rustls::MakeRustlsConnect as Connector;

/// What the URL asks for, libpq's way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Splits the TLS parameters off a `postgres://` URL: the URL left for
/// tokio-postgres, the mode to give it, and the connector that checks the
/// server's certificate as the URL asks.
pub(crate) fn from_url(url: &str) -> Result<(String, SslMode, Connector), StoreError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = Mode::Prefer;
    let mut root: Option<String> = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        match key {
            "sslmode" => {
                mode = match &*value {
                    "disable" => Mode::Disable,
                    "allow" | "prefer" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(StoreError::Backend(format!(
                            "sslmode={other} in the PostgreSQL URL is not one of disable, prefer, \
                             require, verify-ca, verify-full"
                        )))
                    }
                }
            }
            "sslrootcert" => root = Some(value.into_owned()),
            _ => rest.push(pair),
        }
    }
    if mode == Mode::Require && root.is_some() {
        mode = Mode::VerifyCa;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = match mode {
        Mode::Disable | Mode::Prefer | Mode::Require => None,
        Mode::VerifyCa | Mode::VerifyFull => Some(
            WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(root.as_deref())?),
                provider.clone(),
            )
            .build()
            .map_err(|e| StoreError::Backend(format!("invalid sslrootcert: {e}")))?,
        ),
    };
    let verifier: Arc<dyn ServerCertVerifier> = match chain {
        Some(full) if mode == Mode::VerifyFull => full,
        chain => Arc::new(Lenient {
            chain,
            provider: provider.clone(),
        }),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let ssl_mode = match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    };
    Ok((url, ssl_mode, Connector::new(config)))
}

/// The roots a verifying mode trusts: the PEM file named, or the Mozilla
/// roots for none or `system`.
fn roots(file: Option<&str>) -> Result<RootCertStore, StoreError> {
    let Some(path) = file.filter(|p| *p != "system") else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let err = |reason: String| {
        StoreError::Backend(format!(
            "cannot read sslrootcert {path}: {reason}; it must be a PEM file of CA certificates"
        ))
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| err(e.to_string()))? {
        roots
            .add(cert.map_err(|e| err(e.to_string()))?)
            .map_err(|e| err(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(err("no CERTIFICATE block found".into()));
    }
    Ok(roots)
}

/// Every mode short of `verify-full`: with a chain verifier (`verify-ca`)
/// the chain must hold but the certificate may name any host; without one
/// (`prefer`, `require`, as libpq) any certificate is taken. Either way the
/// handshake's signatures are checked against the certificate.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_leave_the_url_and_the_rest_stays() {
        let (url, mode, _) = from_url(
            "postgres://u@h:5432/db?options=-csearch_path%3Ds&sslmode=require&application_name=x",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://u@h:5432/db?options=-csearch_path%3Ds&application_name=x"
        );
        assert_eq!(mode, SslMode::Require);
        let (url, mode, _) = from_url("postgres://u@h/db?sslmode=verify-full").unwrap();
        assert_eq!(
            (url.as_str(), mode),
            ("postgres://u@h/db", SslMode::Require)
        );
        let (url, mode, _) = from_url("postgres://u@h/db").unwrap();
        assert_eq!((url.as_str(), mode), ("postgres://u@h/db", SslMode::Prefer));
        let (_, mode, _) = from_url("postgres://u@h/db?sslmode=disable").unwrap();
        assert_eq!(mode, SslMode::Disable);
    }

    #[test]
    fn bad_tls_parameters_say_what_is_allowed() {
        let err = |url: &str| from_url(url).err().expect("an error").to_string();
        let e = err("postgres://u@h/db?sslmode=on");
        assert!(e.contains("sslmode=on") && e.contains("verify-full"), "{e}");
        let e = err("postgres://u@h/db?sslmode=verify-ca&sslrootcert=/no/such.pem");
        assert!(e.contains("/no/such.pem") && e.contains("PEM"), "{e}");
    }
}
