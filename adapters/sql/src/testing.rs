//! Helpers for tests and benchmarks that need a database of their own.

use crate::migrate::unreachable_db;
use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use std::sync::atomic::{AtomicU64, Ordering};
use tarn_ports::PortResult;

/// The variable naming the server that tests use: a connection string to
/// any database of a PostgreSQL server where the user may create databases
/// (`make test` starts one and sets it).
pub const POSTGRES_URL_VAR: &str = "TARN_TEST_POSTGRES_URL";

/// The test server's connection string, if one is configured.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|s| !s.is_empty())
}

/// The test server's connection string; without one, `None` after saying
/// the calling test skips (or a panic under `make test`: see
/// [`tarn_ports::testkit::skip_without_server`]).
pub fn postgres_url_or_skip() -> Option<String> {
    let url = postgres_url();
    if url.is_none() {
        tarn_ports::testkit::skip_without_server(&format!(
            "{POSTGRES_URL_VAR} is not set; run `make test`, or scripts/with-postgres.sh cargo test"
        ));
    }
    url
}

/// Replaces the database of a `postgres://…/db?params` connection string.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{database}?{q}"),
        None => format!("{host_part}/{database}"),
    }
}

/// Creates an empty database with a unique name on the server of `url` and
/// returns its connection string.
pub async fn fresh_postgres_database(url: &str) -> PortResult<String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "tarn_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| unreachable_db(&e))?;
    sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .map_err(crate::db::db_error)?;
    Ok(with_database(url, &name))
}

/// Whether a connection to `url` (trusting `ca_file`) runs over TLS, as the
/// server itself reports it.
pub async fn connection_uses_tls(url: &str, ca_file: Option<&std::path::Path>) -> PortResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Ssl {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ssl: bool,
    }
    let mut conn = crate::pg_tls::connect(url, ca_file)
        .await
        .map_err(|e| unreachable_db(&e))?;
    let row: Ssl = sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut conn)
        .await
        .map_err(crate::db::db_error)?;
    Ok(row.ssl)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_replaced_in_connection_strings() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5/postgres", "t1"),
            "postgres://u@127.0.0.1:5/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h:5/db?sslmode=disable", "t2"),
            "postgres://u:p@h:5/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
    }
}
