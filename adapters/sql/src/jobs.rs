//! `JobStore`: one row per job. Every change is one conditional `UPDATE`
//! (owner and state in its `WHERE`), so a lost race changes nothing; the
//! claim is one `UPDATE` of the row a subquery picks, which on PostgreSQL
//! locks it `FOR UPDATE SKIP LOCKED` (concurrent claimers pass over each
//! other's rows instead of queueing) and on SQLite runs under the single
//! writer lock.

use crate::db::{corrupt, db_error, with_conn, Pool};
use crate::rows::{limit, to_i64};
use crate::schema::jobs;
use crate::SqlStore;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use tarn_model::jobs::{Job, JobId, JobKind, JobLease, JobOwner, JobProgress, JobState};
use tarn_model::{RepositoryId, Timestamp};
use tarn_ports::{ErrorKind, JobOutcome, JobQuery, JobStore, NewJob, PortError, PortResult};

#[derive(Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = jobs)]
struct JobRow {
    id: String,
    kind: String,
    parameters: String,
    repository: Option<String>,
    state: String,
    progress_done: i64,
    progress_total: Option<i64>,
    progress_message: String,
    result: Option<String>,
    error: Option<String>,
    lease_owner: Option<String>,
    lease_expires: Option<i64>,
    cancel_requested: bool,
    attempts: i32,
    created: i64,
    updated: i64,
}

fn valid<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> PortResult<T> {
    r.map_err(|e| corrupt(what, e))
}

impl JobRow {
    fn pending(new: &NewJob) -> Self {
        Self {
            id: new.id.as_str().to_owned(),
            kind: new.kind.as_str().to_owned(),
            parameters: new.parameters.clone(),
            repository: new.repository.as_ref().map(|r| r.as_str().to_owned()),
            state: JobState::Pending.as_str().to_owned(),
            progress_done: 0,
            progress_total: None,
            progress_message: String::new(),
            result: None,
            error: None,
            lease_owner: None,
            lease_expires: None,
            cancel_requested: false,
            attempts: 0,
            created: new.created.unix_micros(),
            updated: new.created.unix_micros(),
        }
    }

    fn into_model(self) -> PortResult<Job> {
        let lease = match (self.lease_owner, self.lease_expires) {
            (Some(owner), Some(expires)) => Some(JobLease {
                owner: valid(JobOwner::new(owner), "job owner")?,
                expires: Timestamp::from_unix_micros(expires),
            }),
            _ => None,
        };
        let total = self
            .progress_total
            .map(|t| valid(u64::try_from(t), "total"));
        Ok(Job {
            id: valid(JobId::new(self.id), "job id")?,
            kind: valid(JobKind::new(self.kind), "job kind")?,
            parameters: self.parameters,
            repository: self
                .repository
                .map(|r| valid(RepositoryId::new(r), "repository id"))
                .transpose()?,
            state: valid(self.state.parse::<JobState>(), "job state")?,
            progress: JobProgress {
                done: valid(u64::try_from(self.progress_done), "progress")?,
                total: total.transpose()?,
                message: self.progress_message,
            },
            result: self.result,
            error: self.error,
            lease,
            cancel_requested: self.cancel_requested,
            attempts: valid(u32::try_from(self.attempts), "attempts")?,
            created: Timestamp::from_unix_micros(self.created),
            updated: Timestamp::from_unix_micros(self.updated),
        })
    }
}

/// Progress as stored: (done, total, message).
fn progress_columns(p: &JobProgress) -> PortResult<(i64, Option<i64>, String)> {
    let total = p.total.map(|t| to_i64(t, "progress total")).transpose()?;
    Ok((to_i64(p.done, "progress")?, total, p.message.clone()))
}

fn missing(id: &JobId) -> PortError {
    PortError::not_found(format!("job {id} not found"))
}

/// Why a conditional update of job `id` matched no row: it is missing, or
/// not in a state (or not under the lease) the update requires.
macro_rules! refused {
    ($conn:expr, $id:expr, $why:expr) => {{
        let exists: bool = diesel::select(diesel::dsl::exists(jobs::table.find($id.as_str())))
            .get_result($conn)
            .await
            .map_err(db_error)?;
        if exists {
            Err(PortError::precondition_failed(format!(
                "job {}: {}",
                $id, $why
            )))
        } else {
            Err(missing($id))
        }
    }};
}

/// The claim statement for `kinds` kinds: `$1` owner, `$2` lease end,
/// `$3` now, then the kinds. The runnable condition is repeated outside the
/// subquery so that a row changed since the subquery read it is not taken.
fn claim_sql(postgres: bool, kinds: usize) -> String {
    // Numbered placeholders on both: `$n` on PostgreSQL, `?n` on SQLite.
    let p = |n: usize| format!("{}{n}", if postgres { '$' } else { '?' });
    let kinds: Vec<String> = (4..4 + kinds).map(p).collect();
    let runnable = format!(
        "state IN ('pending', 'running') AND (state = 'pending' OR lease_expires <= {})",
        p(3)
    );
    let lock = if postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    format!(
        "UPDATE jobs SET state = 'running', lease_owner = {owner}, lease_expires = {until}, \
         attempts = attempts + 1, updated = {now} \
         WHERE id = (SELECT id FROM jobs WHERE kind IN ({kinds}) AND {runnable} \
         ORDER BY created, id LIMIT 1{lock}) AND {runnable} RETURNING *",
        owner = p(1),
        until = p(2),
        now = p(3),
        kinds = kinds.join(", "),
    )
}

#[async_trait]
impl JobStore for SqlStore {
    async fn create(&self, new: &NewJob) -> PortResult<Job> {
        let row = JobRow::pending(new);
        let inserted: JobRow = with_conn!(&self.pool, conn => {
            diesel::insert_into(jobs::table)
                .values(&row)
                .returning(JobRow::as_returning())
                .get_result(conn)
                .await
                .map_err(|e| match db_error(e) {
                    e if e.kind() == ErrorKind::AlreadyExists => {
                        PortError::already_exists(format!("job {} already exists", new.id))
                    }
                    e => e,
                })?
        });
        inserted.into_model()
    }

    async fn get(&self, id: &JobId) -> PortResult<Job> {
        let row: Option<JobRow> = with_conn!(&self.pool, conn => {
            jobs::table
                .find(id.as_str())
                .select(JobRow::as_select())
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?
        });
        row.ok_or_else(|| missing(id))?.into_model()
    }

    async fn list(&self, q: JobQuery<'_>) -> PortResult<Vec<Job>> {
        let rows: Vec<JobRow> = with_conn!(&self.pool, conn => {
            let mut query = jobs::table
                .select(JobRow::as_select())
                .filter(jobs::id.gt(q.after))
                .order(jobs::id)
                .limit(limit(q.limit))
                .into_boxed();
            if let Some(kind) = q.kind {
                query = query.filter(jobs::kind.eq(kind.as_str()));
            }
            if let Some(state) = q.state {
                query = query.filter(jobs::state.eq(state.as_str()));
            }
            query.load(conn).await.map_err(db_error)?
        });
        rows.into_iter().map(JobRow::into_model).collect()
    }

    async fn claim(
        &self,
        kinds: &[JobKind],
        owner: &JobOwner,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> PortResult<Option<Job>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let sql = claim_sql(matches!(self.pool, Pool::Pg(_)), kinds.len());
        let row: Option<JobRow> = with_conn!(&self.pool, conn => {
            let mut query = diesel::sql_query(sql.as_str())
                .into_boxed()
                .bind::<Text, _>(owner.as_str())
                .bind::<BigInt, _>(lease_until.unix_micros())
                .bind::<BigInt, _>(now.unix_micros());
            for kind in kinds {
                query = query.bind::<Text, _>(kind.as_str());
            }
            query.get_result(conn).await.optional().map_err(db_error)?
        });
        row.map(JobRow::into_model).transpose()
    }

    async fn heartbeat(
        &self,
        id: &JobId,
        owner: &JobOwner,
        progress: &JobProgress,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> PortResult<Job> {
        let (done, total, message) = progress_columns(progress)?;
        let row: JobRow = with_conn!(&self.pool, conn => {
            let updated = diesel::update(
                jobs::table
                    .find(id.as_str())
                    .filter(jobs::state.eq(JobState::Running.as_str()))
                    .filter(jobs::lease_owner.eq(owner.as_str())),
            )
            .set((
                jobs::progress_done.eq(done),
                jobs::progress_total.eq(total),
                jobs::progress_message.eq(&message),
                jobs::lease_expires.eq(lease_until.unix_micros()),
                jobs::updated.eq(now.unix_micros()),
            ))
            .returning(JobRow::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(db_error)?;
            match updated {
                Some(row) => row,
                None => return refused!(conn, id, format!("not running under {owner}'s lease")),
            }
        });
        row.into_model()
    }

    async fn finish(
        &self,
        id: &JobId,
        owner: &JobOwner,
        outcome: &JobOutcome,
        progress: &JobProgress,
        now: Timestamp,
    ) -> PortResult<Job> {
        let (done, total, message) = progress_columns(progress)?;
        let (state, result, error) = match outcome {
            JobOutcome::Succeeded(r) => (JobState::Succeeded, Some(r.as_str()), None),
            JobOutcome::Failed(e) => (JobState::Failed, None, Some(e.as_str())),
            JobOutcome::Canceled => (JobState::Canceled, None, None),
        };
        let row: JobRow = with_conn!(&self.pool, conn => {
            let updated = diesel::update(
                jobs::table
                    .find(id.as_str())
                    .filter(jobs::state.eq(JobState::Running.as_str()))
                    .filter(jobs::lease_owner.eq(owner.as_str())),
            )
            .set((
                jobs::state.eq(state.as_str()),
                jobs::result.eq(result),
                jobs::error.eq(error),
                jobs::progress_done.eq(done),
                jobs::progress_total.eq(total),
                jobs::progress_message.eq(&message),
                jobs::lease_owner.eq(None::<&str>),
                jobs::lease_expires.eq(None::<i64>),
                jobs::updated.eq(now.unix_micros()),
            ))
            .returning(JobRow::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(db_error)?;
            match updated {
                Some(row) => row,
                None => return refused!(conn, id, format!("not running under {owner}'s lease")),
            }
        });
        row.into_model()
    }

    async fn request_cancel(&self, id: &JobId, now: Timestamp) -> PortResult<Job> {
        // Two conditional updates, each atomic: a pending job is canceled at
        // once; failing that (it was claimed meanwhile, or was running), a
        // running job is flagged for its runner.
        let row: JobRow = with_conn!(&self.pool, conn => {
            let canceled = diesel::update(
                jobs::table
                    .find(id.as_str())
                    .filter(jobs::state.eq(JobState::Pending.as_str())),
            )
            .set((
                jobs::state.eq(JobState::Canceled.as_str()),
                jobs::cancel_requested.eq(true),
                jobs::updated.eq(now.unix_micros()),
            ))
            .returning(JobRow::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(db_error)?;
            let flagged = match canceled {
                Some(row) => Some(row),
                None => diesel::update(
                    jobs::table
                        .find(id.as_str())
                        .filter(jobs::state.eq(JobState::Running.as_str())),
                )
                .set((
                    jobs::cancel_requested.eq(true),
                    jobs::updated.eq(now.unix_micros()),
                ))
                .returning(JobRow::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(db_error)?,
            };
            match flagged {
                Some(row) => row,
                None => return refused!(conn, id, "already finished"),
            }
        });
        row.into_model()
    }
}

#[cfg(test)]
mod tests {
    use super::claim_sql;

    #[test]
    fn claim_placeholders_are_numbered_for_each_backend() {
        let pg = claim_sql(true, 2);
        assert!(pg.contains("kind IN ($4, $5)"), "{pg}");
        assert!(pg.contains("FOR UPDATE SKIP LOCKED"), "{pg}");
        let lite = claim_sql(false, 1);
        assert!(lite.contains("kind IN (?4)"), "{lite}");
        assert!(lite.contains("lease_expires <= ?3"), "{lite}");
        assert!(!lite.contains("FOR UPDATE"), "{lite}");
    }
}
