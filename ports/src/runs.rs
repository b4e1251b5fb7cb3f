use crate::PortResult;
use async_trait::async_trait;
use tarn_model::runs::{ActionRun, HookRun};
use tarn_model::RepositoryId;

/// Which runs a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFilter<'a> {
    /// Every run of the repository.
    All,
    /// Runs on this branch.
    Branch(&'a str),
    /// Runs about this commit.
    Commit(&'a str),
}

/// Durable records of action runs, per repository.
///
/// Contract:
/// - [`ActionRunStore::record`] stores a run with its hooks at once: a
///   reader sees all of it or nothing; recording a run id again is
///   `AlreadyExists` and changes nothing.
/// - Listings are by run id ascending, strictly after `after` (empty: from
///   the start), at most `limit`; hooks by hook-run id.
/// - [`ActionRunStore::set_commit`] fills the commit of a run recorded
///   before its commit existed (a `pre-commit` run); a missing run is
///   `NotFound`. The run then lists under that commit.
/// - [`ActionRunStore::delete_repository`] forgets every run of a
///   repository (and is `Ok` when there were none).
#[async_trait]
pub trait ActionRunStore: Send + Sync + 'static {
    /// Stores `run` and its `hooks`.
    async fn record(&self, run: &ActionRun, hooks: &[HookRun]) -> PortResult<()>;

    /// Sets the commit of run `run_id`.
    async fn set_commit(
        &self,
        repo: &RepositoryId,
        run_id: &str,
        commit_id: &str,
    ) -> PortResult<()>;

    /// Run `run_id`, or `NotFound`.
    async fn get_run(&self, repo: &RepositoryId, run_id: &str) -> PortResult<ActionRun>;

    /// A page of runs.
    async fn list_runs(
        &self,
        repo: &RepositoryId,
        filter: RunFilter<'_>,
        after: &str,
        limit: usize,
    ) -> PortResult<Vec<ActionRun>>;

    /// A page of run `run_id`'s hooks (empty for an unknown run).
    async fn list_hook_runs(
        &self,
        repo: &RepositoryId,
        run_id: &str,
        after: &str,
        limit: usize,
    ) -> PortResult<Vec<HookRun>>;

    /// Forgets every run of `repo`.
    async fn delete_repository(&self, repo: &RepositoryId) -> PortResult<()>;
}
