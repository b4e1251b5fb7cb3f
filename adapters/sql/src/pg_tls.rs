//! PostgreSQL connections: TLS unless the connection string says
//! `sslmode=disable`. With `prefer` (tokio-postgres's default) a server
//! without TLS is reached in plaintext; with `require`, TLS or nothing.
//! Certificates are always verified: against the system's roots, plus the
//! PEM file of `Backend::Postgres::ca_file` when set (private CAs, e.g. a
//! cloud provider's database CA).

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use std::path::Path;
use std::sync::Arc;
use tokio_postgres::config::SslMode;

/// Opens one connection to `url`.
pub(crate) async fn connect(
    url: &str,
    ca_file: Option<&Path>,
) -> Result<AsyncPgConnection, ConnectionError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| ConnectionError::InvalidConnectionUrl(format!("{e}")))?;
    let failed = |e: tokio_postgres::Error| ConnectionError::BadConnection(with_causes(&e));
    if config.get_ssl_mode() == SslMode::Disable {
        let (client, conn) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(failed)?;
        return AsyncPgConnection::try_from_client_and_connection(client, conn).await;
    }
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config(ca_file)?);
    let (client, conn) = config.connect(tls).await.map_err(failed)?;
    AsyncPgConnection::try_from_client_and_connection(client, conn).await
}

fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, ConnectionError> {
    let bad = |what: String| ConnectionError::BadConnection(what);
    let mut roots = rustls::RootCertStore::empty();
    // The system's roots; unreadable ones are skipped (a private CA file
    // may be all that is needed).
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| bad(format!("cannot read the CA file {}: {e}", path.display())))?;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| bad(format!("bad CA file {}: {e}", path.display())))?;
            roots
                .add(cert)
                .map_err(|e| bad(format!("bad CA file {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// An error with its causes ("error performing TLS handshake: invalid peer
/// certificate: UnknownIssuer"): tokio-postgres's own text omits them.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
