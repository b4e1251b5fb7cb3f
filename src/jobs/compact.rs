//! `trees.compact`: folds the large layers at a repository's branch heads
//! into plain trees off the commit path (`Engine::compact_trees`, see
//! `docs/trees.md`). A commit that leaves a layer worth folding asks for a
//! job through [`CompactionJobs`]; at most one waits per repository. A
//! re-run after a crash starts over, and finds the folds already done by
//! their markers.

use super::{JobContext, JobHandler, Jobs};
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tarn_domain::{CompactionReport, CompactionRequests, Engine};
use tarn_model::jobs::{Job, JobKind, JobState};
use tarn_model::{BranchName, RepositoryId};
use tarn_ports::JobQuery;

/// The job kind.
pub const COMPACT_KIND: &str = "trees.compact";

/// Runs `trees.compact` jobs.
pub struct CompactHandler(pub Engine);

#[async_trait]
impl JobHandler for CompactHandler {
    async fn run(&self, ctx: JobContext) -> Result<String, String> {
        let repo = ctx
            .job()
            .repository
            .clone()
            .ok_or("a trees.compact job names its repository")?;
        let mut step = |branch: &BranchName, done: &CompactionReport| {
            ctx.report(
                done.branches,
                None,
                format!(
                    "compacting: {} branches looked at (last {branch}), {} layers folded",
                    done.branches, done.folded
                ),
            );
            !ctx.is_cancelled()
        };
        let report = self
            .0
            .compact_trees(&repo, &mut step)
            .await
            .map_err(|e| e.to_string())?;
        if ctx.is_cancelled() {
            return Err("canceled".into());
        }
        ctx.report(report.branches, Some(report.branches), summary(&report));
        serde_json::to_string(&report).map_err(|e| e.to_string())
    }
}

/// A finished compaction in words.
pub fn summary(report: &CompactionReport) -> String {
    format!(
        "{} branches looked at; {} layers folded ({} records), {} already folded",
        report.branches, report.folded, report.records, report.already
    )
}

/// Starts a `trees.compact` job for a repository when a commit asks, unless
/// one is already waiting for it.
pub struct CompactionJobs {
    jobs: Jobs,
    /// Repositories this process is starting a job for right now (commits
    /// come in bursts).
    starting: Arc<Mutex<HashSet<RepositoryId>>>,
}

impl CompactionJobs {
    pub fn new(jobs: Jobs) -> Self {
        Self {
            jobs,
            starting: Arc::default(),
        }
    }
}

impl CompactionRequests for CompactionJobs {
    fn wanted(&self, repo: &RepositoryId) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!(repository = %repo, "no runtime to start a compaction on");
            return;
        };
        let first = match self.starting.lock() {
            Ok(mut starting) => starting.insert(repo.clone()),
            Err(_) => false,
        };
        if !first {
            return;
        }
        let (jobs, starting, repo) = (self.jobs.clone(), self.starting.clone(), repo.clone());
        runtime.spawn(async move {
            if let Err(e) = start_unless_waiting(&jobs, &repo).await {
                tracing::warn!(repository = %repo, error = %e, "cannot start a compaction");
            }
            if let Ok(mut starting) = starting.lock() {
                starting.remove(&repo);
            }
        });
    }
}

/// Creates a job for `repo` unless one is pending; the job that will run.
pub async fn start_unless_waiting(jobs: &Jobs, repo: &RepositoryId) -> anyhow::Result<Job> {
    let kind = JobKind::new(COMPACT_KIND)?;
    let mut after = String::new();
    loop {
        let page = jobs
            .store()
            .list(JobQuery {
                kind: Some(&kind),
                state: Some(JobState::Pending),
                after: &after,
                limit: 1000,
            })
            .await?;
        let next = match page.last() {
            Some(last) if page.len() == 1000 => Some(last.id.to_string()),
            _ => None,
        };
        if let Some(waiting) = page
            .into_iter()
            .find(|j| j.repository.as_ref() == Some(repo))
        {
            return Ok(waiting);
        }
        match next {
            Some(next) => after = next,
            None => break,
        }
    }
    let job = jobs
        .create(&kind, String::new(), Some(repo.clone()))
        .await?;
    tracing::info!(repository = %repo, job = %job.id, "started a compaction of layered trees");
    Ok(job)
}
