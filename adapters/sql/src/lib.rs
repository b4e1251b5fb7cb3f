//! Tarn's metadata ports (`RefStore`, `StagingStore`, `MultipartStore`), its
//! `AuthStore` (users, groups, policies, credentials) and its `JobStore` on
//! PostgreSQL and on embedded SQLite.
//!
//! One query code serves both: every statement is written once, inside
//! [`db::with_conn!`], which expands it for the connection type of each
//! backend (diesel type-checks it for both). Only the schema SQL differs, in
//! `migrations/postgres` and `migrations/sqlite`.

mod auth;
mod auth_rows;
mod db;
mod group_commit;
mod guarded;
mod jobs;
mod migrate;
mod multipart;
mod pg_tls;
mod refs;
mod rows;
mod runs;
mod schema;
mod staging;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, RoundTrips, DEFAULT_SQLITE_CACHE_BYTES};
pub use migrate::migrate;

use tarn_ports::PortResult;

/// The metadata stores on one database: implements every metadata port, the
/// `AuthStore` and the `JobStore`.
/// Holds no state but its connection pool (and the staging writes waiting
/// for their shared transaction), so many instances (and many processes) may
/// share one database.
pub struct SqlStore {
    pool: db::Pool,
    round_trips: RoundTrips,
    /// Single staging writes, committed together when they come together.
    staging_writes: group_commit::GroupCommit,
}

impl SqlStore {
    /// Migrates the schema to this version, then opens the pool.
    pub async fn open(backend: &Backend) -> PortResult<Self> {
        migrate(backend).await?;
        let round_trips = RoundTrips::default();
        let pool = db::build_pool(backend, &round_trips)?;
        Ok(Self {
            pool,
            round_trips,
            staging_writes: Default::default(),
        })
    }

    /// Single staging writes so far: the shared transactions that wrote them
    /// (see the group commit in `group_commit.rs`), how many rows they held,
    /// and how many of those transactions failed and were retried row by
    /// row.
    pub fn staging_group_commits(&self) -> (u64, u64, u64) {
        self.staging_writes.counts()
    }

    /// Statements sent to the database so far by this store.
    pub fn round_trips(&self) -> RoundTrips {
        self.round_trips.clone()
    }
}
