//! PostgreSQL over TLS: the test server (scripts/with-postgres.sh) serves
//! TLS with a CA of its own, named by `TARN_TEST_POSTGRES_CA`. Without them
//! the cases skip, except under `make test`.

use tarn_adapter_sql::testing::{connection_uses_tls, postgres_url_or_skip, with_database};
use tarn_adapter_sql::{Backend, SqlStore};
use tarn_ports::ErrorKind;

/// The test server and its CA, or `None` (the case skips) without them.
fn server() -> Option<(String, std::path::PathBuf)> {
    let url = postgres_url_or_skip()?;
    match std::env::var("TARN_TEST_POSTGRES_CA") {
        Ok(ca) if !ca.is_empty() => Some((url, ca.into())),
        _ => {
            tarn_ports::testkit::skip_without_server(
                "TARN_TEST_POSTGRES_CA is not set; run `make test`, or scripts/with-postgres.sh cargo test",
            );
            None
        }
    }
}

/// The test URL with `sslmode` set to `mode`.
fn with_mode(url: &str, mode: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    format!("{}?sslmode={mode}", with_database(base, "postgres"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_tls_is_used_and_the_server_verified() {
    let Some((url, ca)) = server() else {
        return;
    };
    let url = with_mode(&url, "require");
    assert!(connection_uses_tls(&url, Some(&ca))
        .await
        .expect("connect over TLS"));
    let store = SqlStore::open(&Backend::Postgres {
        connection_string: url,
        max_connections: 2,
        ca_file: Some(ca),
    })
    .await
    .expect("open over TLS");
    let repos = tarn_ports::RefStore::list_repositories(&store, None, 1).await;
    assert!(repos.is_ok(), "{:?}", repos.err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferred_tls_is_used_when_offered() {
    let Some((url, ca)) = server() else {
        return;
    };
    assert!(connection_uses_tls(&with_mode(&url, "prefer"), Some(&ca))
        .await
        .expect("connect"));
    assert!(
        !connection_uses_tls(&url, None)
            .await
            .expect("connect in plaintext"),
        "sslmode=disable"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_certificate_authority_is_refused() {
    let Some((url, _)) = server() else {
        return;
    };
    let err = SqlStore::open(&Backend::Postgres {
        connection_string: with_mode(&url, "require"),
        max_connections: 2,
        ca_file: None,
    })
    .await
    .err()
    .expect("a server certificate from an unknown CA must not be accepted");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}
