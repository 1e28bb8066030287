//! TLS to PostgreSQL (`sslmode=require`): rustls, as for HTTP, with the
//! server's certificate verified against `[storage] ca_file` or else the
//! system's trusted roots, and its name against the URL's host.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The TLS connector for a server whose certificate chains to `ca_file`'s
/// certificates, or, without one, to a root the system trusts. The error
/// says what is wrong with the file.
pub(super) fn connector(ca_file: Option<&Path>) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set TLS up: {e}"))?;
    let config = match ca_file {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let unreadable = |e: rustls::pki_types::pem::Error| {
                format!(
                    "cannot read the CA certificates in {} ({e}): check [storage] ca_file, \
                     a PEM file of one or more certificates",
                    path.display()
                )
            };
            for cert in CertificateDer::pem_file_iter(path).map_err(unreadable)? {
                roots.add(cert.map_err(unreadable)?).map_err(|e| {
                    format!(
                        "{}: not a CA certificate rustls accepts: {e}",
                        path.display()
                    )
                })?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "{} holds no certificate (check [storage] ca_file: a PEM file with \
                     -----BEGIN CERTIFICATE----- blocks)",
                    path.display()
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|e| format!("cannot read the system's trusted certificates: {e}"))?
                .with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}
