//! Connections: one pool per backend, the round-trip counter, migrations and
//! the mapping of database errors onto port errors.

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Pool as Deadpool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures::FutureExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tarn_ports::{ErrorKind, PortError};

/// SQLite behind diesel-async: every statement runs on tokio's blocking pool.
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Which database, and how to reach it.
#[derive(Clone)]
pub enum Backend {
    /// PostgreSQL over the network (tokio-postgres, no libpq).
    Postgres {
        /// `postgres://user:password@host:port/database[?sslmode=...]`.
        connection_string: String,
        /// Pool size.
        max_connections: usize,
        /// Extra CA certificates (PEM) to trust for TLS, beyond the system's.
        ca_file: Option<PathBuf>,
    },
    /// An embedded SQLite file (created if missing), in WAL mode.
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Pool size (readers run in parallel; writers take turns).
        max_connections: usize,
        /// Memory for page caches, shared out among the connections.
        cache_bytes: u64,
    },
}

impl std::fmt::Debug for Backend {
    // The connection string may hold a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Postgres {
                max_connections,
                ca_file,
                ..
            } => f
                .debug_struct("Postgres")
                .field("max_connections", max_connections)
                .field("ca_file", ca_file)
                .finish_non_exhaustive(),
            Self::Sqlite {
                path,
                max_connections,
                cache_bytes,
            } => f
                .debug_struct("Sqlite")
                .field("path", path)
                .field("max_connections", max_connections)
                .field("cache_bytes", cache_bytes)
                .finish(),
        }
    }
}

/// The pool of the configured backend. Query code is written once and
/// expanded for each arm by [`with_conn!`].
#[derive(Clone)]
pub(crate) enum Pool {
    Pg(Deadpool<AsyncPgConnection>),
    Sqlite(Deadpool<SqliteConn>),
}

/// Runs `$body` with `$conn` bound to a pooled connection of whichever
/// backend is configured. The body is the same tokens for both backends;
/// diesel type-checks it once per backend.
macro_rules! with_conn {
    ($pool:expr, $conn:ident => $body:expr) => {
        match $pool {
            $crate::db::Pool::Pg(pool) => {
                let _call = $crate::db::call_span("postgres");
                let waited = std::time::Instant::now();
                let mut pooled = pool.get().await.map_err($crate::db::pool_error)?;
                $crate::db::checked_out(waited, pool.status());
                let $conn = &mut *pooled;
                $body
            }
            $crate::db::Pool::Sqlite(pool) => {
                let _call = $crate::db::call_span("sqlite");
                let waited = std::time::Instant::now();
                let mut pooled = pool.get().await.map_err($crate::db::pool_error)?;
                $crate::db::checked_out(waited, pool.status());
                let $conn = &mut *pooled;
                $body
            }
        }
    };
}
pub(crate) use with_conn;

/// A span for one call to the database: from waiting for a connection to
/// giving it back (`db`, at debug level). It is not entered (the call
/// awaits), so it only times the call under the caller's span.
pub(crate) fn call_span(system: &'static str) -> tracing::Span {
    tracing::debug_span!("db", db.system = system, otel.name = "db")
}

/// Counts statements sent to the database (queries and transaction
/// boundaries): the round trips that `make bench` reports per operation.
#[derive(Clone, Default)]
pub struct RoundTrips(Arc<AtomicU64>);

impl RoundTrips {
    /// Statements sent so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn instrumentation(&self) -> impl Instrumentation {
        let counter = self.0.clone();
        // One query at a time per connection: the one under way.
        let mut running: Option<(std::time::Instant, &'static str)> = None;
        move |event: InstrumentationEvent<'_>| {
            match &event {
                InstrumentationEvent::StartQuery { query, .. } => {
                    // Only the statement's head is formatted (never its
                    // binds, which may be large).
                    let mut head = Capped(String::new());
                    let _ = std::fmt::Write::write_fmt(&mut head, format_args!("{query}"));
                    running = Some((std::time::Instant::now(), statement_family(&head.0)));
                }
                InstrumentationEvent::FinishQuery { error, .. } => {
                    if let Some((start, family)) = running.take() {
                        metrics::histogram!("tarn_db_query_duration_seconds", "statement" => family)
                            .record(start.elapsed().as_secs_f64());
                        if error.is_some() {
                            metrics::counter!("tarn_db_query_errors_total", "statement" => family)
                                .increment(1);
                        }
                    }
                }
                _ => {}
            }
            if matches!(
                event,
                InstrumentationEvent::StartQuery { .. }
                    | InstrumentationEvent::BeginTransaction { .. }
                    | InstrumentationEvent::CommitTransaction { .. }
                    | InstrumentationEvent::RollbackTransaction { .. }
            ) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// SQLite settings of every connection: WAL (readers never block the
/// writer), foreign keys on, and a wait instead of an error while another
/// connection writes.
/// The timeout comes first: even switching the journal mode may wait.
/// `synchronous = FULL`: an acknowledged write survives a power loss too.
/// Reads go through a memory map (file pages, which the kernel reclaims)
/// and a page cache per connection of `cache_bytes` / connections, at least
/// SQLite's default 2 MiB: process memory that fills as the database grows,
/// so it is budgeted (`database.sqlite.cache_bytes`).
pub(crate) fn sqlite_setup(cache_bytes: u64, connections: usize) -> String {
    let kib = (cache_bytes / connections.max(1) as u64 / 1024).max(2048);
    format!(
        "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -{kib};"
    )
}

/// The default page cache budget of all connections together.
pub const DEFAULT_SQLITE_CACHE_BYTES: u64 = 64 << 20;

/// How long a request waits for a connection, or for a new one to open.
const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A pool of `max` connections from `manager`, with the timeouts above.
macro_rules! pool_of {
    ($manager:expr, $max:expr) => {
        Deadpool::builder($manager)
            .max_size($max.max(1))
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| PortError::internal(format!("cannot build the pool: {e}")))
    };
}

pub(crate) fn build_pool(backend: &Backend, trips: &RoundTrips) -> Result<Pool, PortError> {
    match backend {
        Backend::Postgres {
            connection_string,
            max_connections,
            ca_file,
        } => {
            let trips = trips.clone();
            let ca_file = ca_file.clone();
            let mut config = ManagerConfig::<AsyncPgConnection>::default();
            // No test query per checkout: it would double the round trips.
            config.recycling_method = RecyclingMethod::Fast;
            config.custom_setup = Box::new(move |url| {
                let trips = trips.clone();
                let url = url.to_owned();
                let ca_file = ca_file.clone();
                async move {
                    let mut conn = crate::pg_tls::connect(&url, ca_file.as_deref()).await?;
                    conn.set_instrumentation(trips.instrumentation());
                    Ok(conn)
                }
                .boxed()
            });
            let manager =
                AsyncDieselConnectionManager::new_with_config(connection_string.clone(), config);
            pool_of!(manager, *max_connections).map(Pool::Pg)
        }
        Backend::Sqlite {
            path,
            max_connections,
            cache_bytes,
        } => {
            let trips = trips.clone();
            let setup = sqlite_setup(*cache_bytes, *max_connections);
            let mut config = ManagerConfig::<SqliteConn>::default();
            config.recycling_method = RecyclingMethod::Fast;
            config.custom_setup = Box::new(move |url| {
                let trips = trips.clone();
                let url = url.to_owned();
                let setup = setup.clone();
                async move {
                    let mut conn = SqliteConn::establish(&url).await?;
                    conn.batch_execute(&setup)
                        .await
                        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                    conn.set_instrumentation(trips.instrumentation());
                    Ok(conn)
                }
                .boxed()
            });
            let manager =
                AsyncDieselConnectionManager::new_with_config(path.display().to_string(), config);
            pool_of!(manager, *max_connections).map(Pool::Sqlite)
        }
    }
}

/// The row of a lookup by a unique key (at most one row).
///
/// Such lookups load rather than take `.first()`: `.first()` binds its
/// `LIMIT 1`, and SQLite re-prepares a statement whose LIMIT is a bound
/// parameter every time that parameter is bound again (the value may
/// change the plan), which cost a statement parse on every lookup.
pub(crate) fn first_row<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

/// A pool failure: the database is unreachable or every connection is busy.
/// A string that stops taking text past 256 bytes (formatting stops there).
struct Capped(String);

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = 256usize.saturating_sub(self.0.len());
        if s.len() > room {
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.0.push_str(&s[..end]);
            return Err(std::fmt::Error);
        }
        self.0.push_str(s);
        Ok(())
    }
}

/// Records a connection checkout: how long it waited, and the pool's
/// state after it.
pub(crate) fn checked_out(waited: std::time::Instant, status: deadpool::Status) {
    metrics::histogram!("tarn_db_pool_wait_seconds").record(waited.elapsed().as_secs_f64());
    metrics::gauge!("tarn_db_pool_connections", "state" => "open").set(status.size as f64);
    metrics::gauge!("tarn_db_pool_connections", "state" => "idle").set(status.available as f64);
    metrics::gauge!("tarn_db_pool_waiting").set(status.waiting as f64);
}

/// The family of a SQL statement, for metrics: its verb and main table
/// (`select staging_entries`, `insert commits`), from a fixed vocabulary of
/// verbs so that labels stay few; never the statement's values.
pub(crate) fn statement_family(sql: &str) -> &'static str {
    let words: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ',')
        .filter(|w| !w.is_empty())
        .take(64)
        .map(|w| w.trim_matches('"').trim_matches('`').to_ascii_lowercase())
        .collect();
    let verb = words.first().map(String::as_str).unwrap_or("");
    let after = |kw: &str| {
        words
            .iter()
            .position(|w| w == kw)
            .and_then(|i| words.get(i + 1))
            .map(String::as_str)
    };
    let table = match verb {
        "select" | "delete" => after("from"),
        "insert" => after("into"),
        "update" => words.get(1).map(String::as_str),
        // A query over common table expressions (the folder scan): the first
        // table it reads.
        "with" => words
            .windows(2)
            .find(|w| w[0] == "from" && w[1] != "select")
            .map(|w| w[1].as_str()),
        _ => None,
    };
    let verb = if verb == "with" { "select" } else { verb };
    intern(verb, table.unwrap_or(""))
}

/// A `'static` label for a (verb, table) pair; the set is bounded by the
/// schema, so what is leaked is bounded too.
fn intern(verb: &str, table: &str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static SEEN: std::sync::OnceLock<Mutex<HashMap<(String, String), &'static str>>> =
        std::sync::OnceLock::new();
    const VERBS: &[&str] = &["select", "insert", "update", "delete"];
    if !VERBS.contains(&verb) {
        return match verb {
            "begin" | "commit" | "rollback" | "savepoint" | "release" => "transaction",
            _ => "other",
        };
    }
    let table: String = table
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .take(48)
        .collect();
    let mut seen = match SEEN.get_or_init(Default::default).lock() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    };
    if seen.len() >= 256 {
        return "other";
    }
    let key = (verb.to_owned(), table);
    if let Some(label) = seen.get(&key) {
        return label;
    }
    let label: &'static str = Box::leak(format!("{} {}", key.0, key.1).into_boxed_str());
    seen.insert(key, label);
    label
}

#[cfg(test)]
mod family_tests {
    use super::statement_family;

    #[test]
    fn statements_fall_into_few_families() {
        assert_eq!(
            statement_family(
                r#"SELECT "a", "b" FROM "staging_entries" WHERE x = $1 -- binds: [1]"#
            ),
            "select staging_entries"
        );
        assert_eq!(
            statement_family("INSERT INTO commits (id) VALUES ($1)"),
            "insert commits"
        );
        assert_eq!(
            statement_family("UPDATE branches SET x = 1"),
            "update branches"
        );
        assert_eq!(
            statement_family("DELETE FROM tags WHERE id = 'secret'"),
            "delete tags"
        );
        assert_eq!(
            statement_family(
                "WITH RECURSIVE f(path, n) AS (SELECT * FROM (SELECT path, 1 FROM staging \
                 WHERE token = $1) AS first UNION ALL SELECT ...) SELECT path FROM f"
            ),
            "select staging"
        );
        assert_eq!(statement_family("BEGIN"), "transaction");
        assert_eq!(statement_family("PRAGMA foreign_keys = ON"), "other");
    }
}

pub(crate) fn pool_error(e: diesel_async::pooled_connection::deadpool::PoolError) -> PortError {
    PortError::new(
        ErrorKind::Unavailable,
        format!("no database connection: {e}"),
    )
    .with_source(e)
}

/// Maps a database error: unique keys → `AlreadyExists`, missing parents →
/// `NotFound`, conflicts and lost connections → `Unavailable` (retryable).
pub(crate) fn db_error(e: DieselError) -> PortError {
    let kind = match &e {
        DieselError::NotFound => ErrorKind::NotFound,
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::UniqueViolation => ErrorKind::AlreadyExists,
            DatabaseErrorKind::ForeignKeyViolation => ErrorKind::NotFound,
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection => {
                ErrorKind::Unavailable
            }
            // PostgreSQL text cannot hold NUL (SQLite can): refuse the input.
            _ if info.message().contains("0x00") => ErrorKind::InvalidInput,
            // SQLite's "database is locked" after the busy timeout.
            _ if info.message().contains("locked") || info.message().contains("busy") => {
                ErrorKind::Unavailable
            }
            _ => ErrorKind::Internal,
        },
        DieselError::BrokenTransactionManager => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    PortError::new(kind, format!("database: {e}")).with_source(e)
}

/// A stored value that does not decode: the database holds something Tarn
/// did not write.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> PortError {
    PortError::internal(format!("stored {what} is not valid: {e}"))
}

/// The smallest string greater than every string that starts with `prefix`
/// (byte order, which is code point order for UTF-8), or `None` if no such
/// bound exists: the upper end of a prefix range scan.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    tarn_ports::after_prefix(prefix)
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;

    #[test]
    fn prefix_upper_bound_is_the_next_string_after_the_prefix_range() {
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("a/b").as_deref(), Some("a/c"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound("x\u{10FFFF}").as_deref(), Some("y"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        for s in ["a/b", "a/b\u{10FFFF}\u{10FFFF}", "a/b/日本"] {
            let upper = prefix_upper_bound("a/b").unwrap_or_default();
            assert!(s < upper.as_str(), "{s:?} sorts below {upper:?}");
        }
        assert!("a/c" >= prefix_upper_bound("a/b").unwrap_or_default().as_str());
    }
}
