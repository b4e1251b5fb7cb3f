//! PostgreSQL over TLS: the test server (scripts/with-postgres.sh) serves
//! TLS with a CA of its own, named by `TARN_TEST_POSTGRES_CA`.

use tarn_adapter_sql::testing::{connection_uses_tls, postgres_url, with_database};
use tarn_adapter_sql::{Backend, SqlStore};
use tarn_ports::ErrorKind;

fn server() -> (String, std::path::PathBuf) {
    let url = postgres_url().expect("TARN_TEST_POSTGRES_URL (run make test)");
    let ca = std::env::var("TARN_TEST_POSTGRES_CA").expect("TARN_TEST_POSTGRES_CA (run make test)");
    (url, ca.into())
}

/// The test URL with `sslmode` set to `mode`.
fn with_mode(url: &str, mode: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    format!("{}?sslmode={mode}", with_database(base, "postgres"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_tls_is_used_and_the_server_verified() {
    let (url, ca) = server();
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
    let (url, ca) = server();
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
    let (url, _) = server();
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
