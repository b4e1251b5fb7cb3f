//! `ActionRunStore` in memory: runs and hooks in ordered maps.

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;
use tarn_model::runs::{ActionRun, HookRun};
use tarn_model::RepositoryId;
use tarn_ports::{ActionRunStore, PortError, PortResult, RunFilter};

type RunKey = (String, String);

/// Action runs, lost on exit.
#[derive(Default)]
pub struct MemoryRunStore {
    inner: Mutex<Runs>,
}

#[derive(Default)]
struct Runs {
    runs: BTreeMap<RunKey, ActionRun>,
    /// (repository, run id) → hook-run id → hook.
    hooks: BTreeMap<RunKey, BTreeMap<String, HookRun>>,
}

impl MemoryRunStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> PortResult<std::sync::MutexGuard<'_, Runs>> {
        crate::lock(&self.inner)
    }
}

fn key(repo: &RepositoryId, run_id: &str) -> RunKey {
    (repo.as_str().to_owned(), run_id.to_owned())
}

#[async_trait]
impl ActionRunStore for MemoryRunStore {
    async fn record(&self, run: &ActionRun, hooks: &[HookRun]) -> PortResult<()> {
        let mut inner = self.lock()?;
        let k = key(&run.repository, &run.run_id);
        if inner.runs.contains_key(&k) {
            return Err(PortError::already_exists(format!(
                "run {} already exists",
                run.run_id
            )));
        }
        inner.runs.insert(k.clone(), run.clone());
        inner.hooks.insert(
            k,
            hooks
                .iter()
                .map(|h| (h.hook_run_id.clone(), h.clone()))
                .collect(),
        );
        Ok(())
    }

    async fn set_commit(
        &self,
        repo: &RepositoryId,
        run_id: &str,
        commit_id: &str,
    ) -> PortResult<()> {
        let mut inner = self.lock()?;
        let run = inner
            .runs
            .get_mut(&key(repo, run_id))
            .ok_or_else(|| PortError::not_found(format!("run {run_id} not found")))?;
        run.commit_id = commit_id.to_owned();
        Ok(())
    }

    async fn get_run(&self, repo: &RepositoryId, run_id: &str) -> PortResult<ActionRun> {
        self.lock()?
            .runs
            .get(&key(repo, run_id))
            .cloned()
            .ok_or_else(|| PortError::not_found(format!("run {run_id} not found")))
    }

    async fn list_runs(
        &self,
        repo: &RepositoryId,
        filter: RunFilter<'_>,
        after: &str,
        limit: usize,
    ) -> PortResult<Vec<ActionRun>> {
        let inner = self.lock()?;
        let from = key(repo, after);
        Ok(inner
            .runs
            .range(from..)
            .take_while(|((r, _), _)| r == repo.as_str())
            .map(|(_, run)| run)
            .filter(|run| run.run_id.as_str() > after)
            .filter(|run| match filter {
                RunFilter::All => true,
                RunFilter::Branch(b) => run.branch == b,
                RunFilter::Commit(c) => run.commit_id == c,
            })
            .take(limit)
            .cloned()
            .collect())
    }

    async fn list_hook_runs(
        &self,
        repo: &RepositoryId,
        run_id: &str,
        after: &str,
        limit: usize,
    ) -> PortResult<Vec<HookRun>> {
        let inner = self.lock()?;
        Ok(inner
            .hooks
            .get(&key(repo, run_id))
            .map(|hooks| {
                hooks
                    .values()
                    .filter(|h| h.hook_run_id.as_str() > after)
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn delete_repository(&self, repo: &RepositoryId) -> PortResult<()> {
        let mut inner = self.lock()?;
        inner.runs.retain(|(r, _), _| r != repo.as_str());
        inner.hooks.retain(|(r, _), _| r != repo.as_str());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tarn_ports::testkit::RunFixture;

    async fn fixture() -> RunFixture {
        RunFixture {
            store: Arc::new(MemoryRunStore::new()),
            guard: Box::new(()),
        }
    }

    tarn_ports::run_store_conformance!(fixture);
}
