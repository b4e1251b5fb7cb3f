//! `ActionRunStore`: a row per run and a row per hook of it; a run and its
//! hooks are inserted in one transaction.

use crate::db::{db_error, with_conn};
use crate::rows::limit;
use crate::schema::{action_hook_runs, action_runs};
use crate::SqlStore;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tarn_model::runs::{ActionRun, HookRun};
use tarn_model::{RepositoryId, Timestamp};
use tarn_ports::{ActionRunStore, ErrorKind, PortError, PortResult, RunFilter};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = action_runs)]
struct RunRow {
    repository: String,
    run_id: String,
    event_type: String,
    branch: String,
    source_ref: String,
    commit_id: String,
    start_time: i64,
    end_time: i64,
    passed: bool,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = action_hook_runs)]
struct HookRow {
    repository: String,
    run_id: String,
    hook_run_id: String,
    hook_id: String,
    action_name: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
    passed: bool,
}

impl RunRow {
    fn of(r: &ActionRun) -> Self {
        Self {
            repository: r.repository.as_str().to_owned(),
            run_id: r.run_id.clone(),
            event_type: r.event_type.clone(),
            branch: r.branch.clone(),
            source_ref: r.source_ref.clone(),
            commit_id: r.commit_id.clone(),
            start_time: r.start_time.unix_micros(),
            end_time: r.end_time.unix_micros(),
            passed: r.passed,
        }
    }

    fn into_model(self) -> PortResult<ActionRun> {
        Ok(ActionRun {
            repository: RepositoryId::new(self.repository)
                .map_err(|e| crate::db::corrupt("repository id", e))?,
            run_id: self.run_id,
            event_type: self.event_type,
            branch: self.branch,
            source_ref: self.source_ref,
            commit_id: self.commit_id,
            start_time: Timestamp::from_unix_micros(self.start_time),
            end_time: Timestamp::from_unix_micros(self.end_time),
            passed: self.passed,
        })
    }
}

impl HookRow {
    fn of(repo: &RepositoryId, h: &HookRun) -> Self {
        Self {
            repository: repo.as_str().to_owned(),
            run_id: h.run_id.clone(),
            hook_run_id: h.hook_run_id.clone(),
            hook_id: h.hook_id.clone(),
            action_name: h.action_name.clone(),
            start_time: h.start_time.map(Timestamp::unix_micros),
            end_time: h.end_time.map(Timestamp::unix_micros),
            passed: h.passed,
        }
    }

    fn into_model(self) -> HookRun {
        HookRun {
            run_id: self.run_id,
            hook_run_id: self.hook_run_id,
            hook_id: self.hook_id,
            action_name: self.action_name,
            start_time: self.start_time.map(Timestamp::from_unix_micros),
            end_time: self.end_time.map(Timestamp::from_unix_micros),
            passed: self.passed,
        }
    }
}

fn missing(run_id: &str) -> PortError {
    PortError::not_found(format!("run {run_id} not found"))
}

#[async_trait]
impl ActionRunStore for SqlStore {
    async fn record(&self, run: &ActionRun, hooks: &[HookRun]) -> PortResult<()> {
        let run_row = RunRow::of(run);
        let hook_rows: Vec<HookRow> = hooks
            .iter()
            .map(|h| HookRow::of(&run.repository, h))
            .collect();
        let result: Result<(), DieselError> = with_conn!(&self.pool, conn => {
            conn.transaction(async |c| {
                diesel::insert_into(action_runs::table).values(&run_row).execute(c).await?;
                for row in &hook_rows {
                    diesel::insert_into(action_hook_runs::table).values(row).execute(c).await?;
                }
                Ok(())
            })
            .await
        });
        result.map_err(|e| match db_error(e) {
            e if e.kind() == ErrorKind::AlreadyExists => {
                PortError::already_exists(format!("run {} already exists", run.run_id))
            }
            e => e,
        })
    }

    async fn set_commit(
        &self,
        repo: &RepositoryId,
        run_id: &str,
        commit_id: &str,
    ) -> PortResult<()> {
        let changed: usize = with_conn!(&self.pool, conn => {
            diesel::update(action_runs::table.find((repo.as_str(), run_id)))
                .set(action_runs::commit_id.eq(commit_id))
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        if changed == 0 {
            return Err(missing(run_id));
        }
        Ok(())
    }

    async fn get_run(&self, repo: &RepositoryId, run_id: &str) -> PortResult<ActionRun> {
        let row: Option<RunRow> = with_conn!(&self.pool, conn => {
            action_runs::table
                .find((repo.as_str(), run_id))
                .select(RunRow::as_select())
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?
        });
        row.ok_or_else(|| missing(run_id))?.into_model()
    }

    async fn list_runs(
        &self,
        repo: &RepositoryId,
        filter: RunFilter<'_>,
        after: &str,
        limit_to: usize,
    ) -> PortResult<Vec<ActionRun>> {
        let rows: Vec<RunRow> = with_conn!(&self.pool, conn => {
            let mut query = action_runs::table
                .select(RunRow::as_select())
                .filter(action_runs::repository.eq(repo.as_str()))
                .filter(action_runs::run_id.gt(after))
                .order(action_runs::run_id)
                .limit(limit(limit_to))
                .into_boxed();
            match filter {
                RunFilter::All => {}
                RunFilter::Branch(b) => query = query.filter(action_runs::branch.eq(b)),
                RunFilter::Commit(c) => query = query.filter(action_runs::commit_id.eq(c)),
            }
            query.load(conn).await.map_err(db_error)?
        });
        rows.into_iter().map(RunRow::into_model).collect()
    }

    async fn list_hook_runs(
        &self,
        repo: &RepositoryId,
        run_id: &str,
        after: &str,
        limit_to: usize,
    ) -> PortResult<Vec<HookRun>> {
        let rows: Vec<HookRow> = with_conn!(&self.pool, conn => {
            action_hook_runs::table
                .select(HookRow::as_select())
                .filter(action_hook_runs::repository.eq(repo.as_str()))
                .filter(action_hook_runs::run_id.eq(run_id))
                .filter(action_hook_runs::hook_run_id.gt(after))
                .order(action_hook_runs::hook_run_id)
                .limit(limit(limit_to))
                .load(conn)
                .await
                .map_err(db_error)?
        });
        Ok(rows.into_iter().map(HookRow::into_model).collect())
    }

    async fn delete_repository(&self, repo: &RepositoryId) -> PortResult<()> {
        let result: Result<(), DieselError> = with_conn!(&self.pool, conn => {
            conn.transaction(async |c| {
                diesel::delete(action_hook_runs::table.filter(action_hook_runs::repository.eq(repo.as_str())))
                    .execute(c)
                    .await?;
                diesel::delete(action_runs::table.filter(action_runs::repository.eq(repo.as_str())))
                    .execute(c)
                    .await?;
                Ok(())
            })
            .await
        });
        result.map_err(db_error)
    }
}
