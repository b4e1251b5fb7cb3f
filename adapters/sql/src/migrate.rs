//! Schema migrations, embedded in the binary and run through diesel-async's
//! `AsyncMigrationHarness` at startup and by `tarn migrate`.

use crate::db::{Backend, SqliteConn};
use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncMigrationHarness, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use tarn_ports::PortError;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Any PostgreSQL advisory lock key only Tarn's migrations take: instances
/// starting together migrate one at a time.
const MIGRATION_LOCK: i64 = 0x7461_726e_6d69_6772;

/// Applies every pending migration; returns the versions applied now.
///
/// The harness blocks its thread, so it runs on a thread of its own with a
/// small runtime: callers may be on any runtime, single-threaded included.
pub async fn migrate(backend: &Backend) -> Result<Vec<String>, PortError> {
    let backend = backend.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("tarn-migrate".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(|e| PortError::internal(format!("cannot start a runtime: {e}")))
                .and_then(|rt| rt.block_on(run(backend)));
            let _ = tx.send(result);
        })
        .map_err(|e| PortError::internal(format!("cannot start the migration thread: {e}")))?;
    rx.await
        .map_err(|_| PortError::internal("the migration thread stopped early"))?
}

async fn run(backend: Backend) -> Result<Vec<String>, PortError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
        PortError::internal(format!("migration failed: {e}"))
    };
    match backend {
        Backend::Postgres {
            connection_string,
            ca_file,
            ..
        } => {
            let mut conn = crate::pg_tls::connect(&connection_string, ca_file.as_deref())
                .await
                .map_err(|e| unreachable_db(&e))?;
            sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(&mut conn)
                .await
                .map_err(crate::db::db_error)?;
            let mut harness = AsyncMigrationHarness::new(conn);
            let applied = tokio::task::block_in_place(|| harness.run_pending_migrations(POSTGRES))
                .map(|v| v.iter().map(ToString::to_string).collect())
                .map_err(failed);
            let mut conn = harness.into_inner();
            sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .execute(&mut conn)
                .await
                .map_err(crate::db::db_error)?;
            applied
        }
        Backend::Sqlite { path, .. } => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    PortError::internal(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            let mut conn = SqliteConn::establish(&path.display().to_string())
                .await
                .map_err(|e| unreachable_db(&e))?;
            // Waits for a running instance's writes instead of failing.
            conn.batch_execute(&crate::db::sqlite_setup(0, 1))
                .await
                .map_err(crate::db::db_error)?;
            let mut harness = AsyncMigrationHarness::new(conn);
            tokio::task::block_in_place(|| harness.run_pending_migrations(SQLITE))
                .map(|v| v.iter().map(ToString::to_string).collect())
                .map_err(failed)
        }
    }
}

pub(crate) fn unreachable_db(e: &diesel::ConnectionError) -> PortError {
    PortError::new(
        tarn_ports::ErrorKind::Unavailable,
        format!("cannot connect to the database: {e}"),
    )
}
