//! Group commit of single staging writes: concurrent `put`s share one
//! transaction, so one WAL sync (SQLite) or one statement and one commit
//! (PostgreSQL) serves them all.
//!
//! Each `put` queues its row and waits. Whoever finds no flush under way
//! spawns one; it takes everything queued (up to [`MAX_BATCH`] rows), writes
//! it in one transaction, answers every writer in it, and goes on while rows
//! are queued. A writer is answered only after its transaction committed,
//! so an acknowledged write is as durable as one written alone, and a `put`
//! that returned is seen by every later read. Writes queued together are
//! concurrent: if two name one path, the later in the queue wins, as it
//! would have one after the other. If the shared transaction fails with an
//! error that one row can cause (a value the database refuses), each row is
//! written alone, so that a bad row fails only its own writer; if the
//! database itself failed (unreachable, busy), every writer in the batch
//! gets that error at once.
//!
//! A write may ask for its branch as it is after the write (what a staging
//! write needs to know that no commit missed it): after the rows are
//! written, each branch asked for is read once for the batch, on the same
//! connection, and every writer that asked for it gets it.
//!
//! The flush runs in a spawned task: a writer that gives up waiting (its
//! request was dropped) leaves the others' batch to finish.

use crate::db::{db_error, Pool};
use crate::rows::{BranchRow, StagingRow};
use crate::schema::{branches, staging};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tarn_model::Branch;
use tarn_ports::{ErrorKind, PortError, PortResult};
use tokio::sync::oneshot;

/// Rows per shared transaction: bounds the statement (PostgreSQL binds 3
/// parameters a row) and the time a transaction holds SQLite's write lock.
pub(crate) const MAX_BATCH: usize = 1024;

/// A branch by (repository, name).
pub(crate) type BranchKey = (String, String);

/// What a writer hears: its branch after the write, if it asked for it.
type Answer = PortResult<Option<Branch>>;

type Waiter = oneshot::Sender<Answer>;

/// A queued write: the row, the branch to read after it, who waits.
type Queued = (StagingRow, Option<BranchKey>, Waiter);

#[derive(Default)]
struct Queue {
    rows: Vec<Queued>,
    flushing: bool,
}

/// The queue of staging writes of one pool.
#[derive(Clone, Default)]
pub(crate) struct GroupCommit {
    queue: Arc<Mutex<Queue>>,
    counts: Arc<Counts>,
}

/// What the shared transactions did so far.
#[derive(Default)]
struct Counts {
    batches: AtomicU64,
    rows: AtomicU64,
    /// Shared transactions that failed and were retried row by row.
    retried: AtomicU64,
}

/// The flush under way: if it ends without emptying the queue (its task
/// panicked, or was dropped, even before it first ran), it marks no flush
/// under way and drops the queued writers' answers, so that they hear
/// "abandoned" instead of waiting for a flush that will not come.
struct Flushing(GroupCommit, bool);

impl Drop for Flushing {
    fn drop(&mut self) {
        if self.1 {
            let stranded = {
                let mut q = self.0.lock();
                q.flushing = false;
                std::mem::take(&mut q.rows)
            };
            drop(stranded);
        }
    }
}

impl GroupCommit {
    /// Writes `row` in the next shared transaction; returns once it
    /// committed (or failed), with branch `check` as read after the commit
    /// when asked for (`NotFound` when it is missing).
    pub(crate) async fn put(
        &self,
        pool: &Pool,
        row: StagingRow,
        check: Option<BranchKey>,
    ) -> Answer {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut q = self.lock();
            q.rows.push((row, check, tx));
            !std::mem::replace(&mut q.flushing, true)
        };
        if start {
            let (flushing, pool) = (Flushing(self.clone(), true), pool.clone());
            tokio::spawn(async move { flushing.0.clone().flush(pool, flushing).await });
        }
        rx.await.unwrap_or_else(|_| {
            Err(PortError::new(
                ErrorKind::Unavailable,
                "the staging write was abandoned (the server is shutting down)",
            ))
        })
    }

    /// Shared transactions written so far, the rows they held, and how many
    /// of them failed and were retried row by row.
    pub(crate) fn counts(&self) -> (u64, u64, u64) {
        let c = &self.counts;
        (
            AtomicU64::load(&c.batches, Ordering::Relaxed),
            AtomicU64::load(&c.rows, Ordering::Relaxed),
            AtomicU64::load(&c.retried, Ordering::Relaxed),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves a queue of plain values:
        // still consistent.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes batches until the queue is empty, then marks no flush under way
    /// (under the same lock, so a row queued meanwhile is never stranded).
    async fn flush(&self, pool: Pool, mut flushing: Flushing) {
        loop {
            let batch: Vec<Queued> = {
                let mut q = self.lock();
                if q.rows.is_empty() {
                    q.flushing = false;
                    flushing.1 = false;
                    return;
                }
                let n = q.rows.len().min(MAX_BATCH);
                q.rows.drain(..n).collect()
            };
            metrics::histogram!("tarn_staging_group_commit_rows").record(batch.len() as f64);
            self.counts.batches.fetch_add(1, Ordering::Relaxed);
            let n = batch.len() as u64;
            self.counts.rows.fetch_add(n, Ordering::Relaxed);
            let mut rows = Vec::with_capacity(batch.len());
            let mut checks = Vec::with_capacity(batch.len());
            let mut waiters = Vec::with_capacity(batch.len());
            for (row, check, waiter) in batch {
                rows.push(row);
                checks.push(check);
                waiters.push(waiter);
            }
            let wanted = distinct(&checks);
            match write_and_read(&pool, &rows, &wanted).await {
                Ok(found) => {
                    for (check, w) in checks.iter().zip(waiters) {
                        let _ = w.send(answer(check.as_ref(), &found));
                    }
                }
                // One row can make the whole batch fail (a value the
                // database refuses): alone, each row gets its own answer.
                Err(e) if rows.len() > 1 && row_caused(&e) => {
                    tracing::warn!(error = %e, rows = rows.len(), "a shared staging transaction failed; writing its rows one by one");
                    self.counts.retried.fetch_add(1, Ordering::Relaxed);
                    for ((row, check), w) in rows.iter().zip(checks).zip(waiters) {
                        let wanted: Vec<BranchKey> = check.iter().cloned().collect();
                        let written =
                            write_and_read(&pool, std::slice::from_ref(row), &wanted).await;
                        let _ = w.send(written.and_then(|found| answer(check.as_ref(), &found)));
                    }
                }
                // Anything else (the database unreachable or busy) would
                // fail each row alone too, after as long a wait.
                Err(e) => {
                    let last = waiters.pop();
                    for w in waiters {
                        let _ = w.send(Err(PortError::new(e.kind(), e.to_string())));
                    }
                    if let Some(w) = last {
                        let _ = w.send(Err(e));
                    }
                }
            }
        }
    }
}

/// The branches asked for, each once.
fn distinct(checks: &[Option<BranchKey>]) -> Vec<BranchKey> {
    let mut keys: Vec<BranchKey> = checks.iter().flatten().cloned().collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// A writer's answer: its branch from `found` if it asked for one.
fn answer(check: Option<&BranchKey>, found: &HashMap<BranchKey, Branch>) -> Answer {
    let Some(key) = check else { return Ok(None) };
    match found.get(key) {
        Some(branch) => Ok(Some(branch.clone())),
        None => Err(PortError::not_found(format!("branch {} not found", key.1))),
    }
}

/// Whether `e` is an error one row can cause (so that writing the rows alone
/// tells their writers apart), not one of the database as a whole.
fn row_caused(e: &PortError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::InvalidInput
            | ErrorKind::AlreadyExists
            | ErrorKind::NotFound
            | ErrorKind::Internal
    )
}

/// Upserts `rows` in one transaction, the later of two rows for one path
/// winning.
pub(crate) async fn write_together(pool: &Pool, rows: &[StagingRow]) -> PortResult<()> {
    write_and_read(pool, rows, &[]).await.map(|_| ())
}

/// Upserts `rows` in one transaction, the later of two rows for one path
/// winning; then, once it committed, reads the branches `wanted` (those
/// missing are missing from the answer) on the same connection.
async fn write_and_read(
    pool: &Pool,
    rows: &[StagingRow],
    wanted: &[BranchKey],
) -> PortResult<HashMap<BranchKey, Branch>> {
    let found: Vec<BranchRow> = match pool {
        // One statement may not touch a row twice: keep each path's last row.
        Pool::Pg(p) => {
            let mut conn = p.get().await.map_err(crate::db::pool_error)?;
            upsert_pg(&mut conn, rows).await.map_err(db_error)?;
            let mut found = Vec::with_capacity(wanted.len());
            for (repo, name) in wanted {
                let row: Option<BranchRow> = branches::table
                    .find((repo.as_str(), name.as_str()))
                    .select(BranchRow::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()
                    .map_err(db_error)?;
                found.extend(row);
            }
            found
        }
        // diesel cannot batch an upsert on SQLite; an embedded database has
        // no round trips to save, so one transaction of single-row upserts
        // on one blocking task does the same (and syncs the WAL once).
        Pool::Sqlite(p) => {
            let (rows, wanted) = (rows.to_vec(), wanted.to_vec());
            let mut conn = p.get().await.map_err(crate::db::pool_error)?;
            conn.spawn_blocking(move |c| {
                match rows.as_slice() {
                    // A row alone is its own transaction: no BEGIN and COMMIT.
                    [row] => upsert_sqlite(c, row).map(|_| ())?,
                    _ => c.immediate_transaction(|c| {
                        for row in &rows {
                            upsert_sqlite(c, row)?;
                        }
                        Ok::<_, diesel::result::Error>(())
                    })?,
                }
                let mut found = Vec::with_capacity(wanted.len());
                for (repo, name) in &wanted {
                    let row: Option<BranchRow> = diesel::RunQueryDsl::first(
                        branches::table
                            .find((repo.as_str(), name.as_str()))
                            .select(BranchRow::as_select()),
                        c,
                    )
                    .optional()?;
                    found.extend(row);
                }
                Ok(found)
            })
            .await
            .map_err(db_error)?
        }
    };
    found
        .into_iter()
        .map(|row| {
            Ok((
                (row.repository.clone(), row.name.clone()),
                row.into_model()?,
            ))
        })
        .collect()
}

/// Upserts `rows` in one statement (PostgreSQL), the later of two rows for
/// one path winning (a statement may not touch a row twice).
pub(crate) async fn upsert_pg(
    conn: &mut diesel_async::AsyncPgConnection,
    rows: &[StagingRow],
) -> diesel::QueryResult<usize> {
    let mut last: HashMap<(&str, &str), usize> = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert((r.token.as_str(), r.path.as_str()), i);
    }
    // In key order: two instances writing overlapping rows take their locks
    // in the same order, so they cannot deadlock.
    let mut unique: Vec<&StagingRow> = last.into_values().map(|i| &rows[i]).collect();
    unique.sort_unstable_by(|a, b| (&a.token, &a.path).cmp(&(&b.token, &b.path)));
    diesel::insert_into(staging::table)
        .values(unique)
        .on_conflict((staging::token, staging::path))
        .do_update()
        .set(staging::entry.eq(excluded(staging::entry)))
        .execute(conn)
        .await
}

/// Upserts one row (SQLite, blocking). diesel cannot batch an upsert on
/// SQLite; callers run many in one transaction on one blocking task.
pub(crate) fn upsert_sqlite(
    c: &mut diesel::SqliteConnection,
    row: &StagingRow,
) -> diesel::QueryResult<usize> {
    diesel::RunQueryDsl::execute(
        diesel::insert_into(staging::table)
            .values(row)
            .on_conflict((staging::token, staging::path))
            .do_update()
            .set(staging::entry.eq(excluded(staging::entry))),
        c,
    )
}
