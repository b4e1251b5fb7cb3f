//! The `gc` job: marks and/or sweeps one repository (see
//! `tarn_domain::gc`). The job id is the run id: a mark-only run is swept
//! later by naming it. One run per repository at a time: a run that finds
//! another live run of its repository fails at once.

use super::{JobContext, JobHandler};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tarn_domain::{Engine, GcObserver, GcOptions, GcReport};
use tarn_model::jobs::{JobKind, JobState};
use tarn_model::{RepositoryId, Timestamp};
use tarn_ports::{Clock, JobQuery, JobStore};

/// The job kind.
pub const GC_KIND: &str = "gc";
/// The kind of runs `tarn gc run` starts: servers run them too, but the
/// command's own runner claims only these, never a server's runs.
pub const GC_CLI_KIND: &str = "gc.cli";

/// Whether `kind` is a garbage collection run.
pub fn is_gc_kind(kind: &str) -> bool {
    kind == GC_KIND || kind == GC_CLI_KIND
}

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GcMode {
    /// Mark, then sweep.
    Full,
    /// Mark and report; write no list, delete nothing.
    DryRun,
    /// Mark and write the list to `_tarn/gc/<run>/`; delete nothing.
    MarkOnly,
    /// Delete the list of an earlier mark-only run.
    Sweep,
}

/// A `gc` job's parameters (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GcParameters {
    /// The repository.
    pub repository: String,
    /// What to do.
    pub mode: GcMode,
    /// For `Sweep`: the run whose list to delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_run: Option<String>,
    /// Retention evaluated at this instant (Unix microseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_micros: Option<i64>,
    /// The grace period of the instance that started the run (so that the
    /// instance that runs it cannot shorten it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_secs: Option<u64>,
    /// Likewise, the abandonment age of multipart uploads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_upload_secs: Option<u64>,
}

impl GcParameters {
    /// A run of `repository` started with `tuning`.
    pub fn new(repository: String, mode: GcMode, tuning: &GcTuning) -> Self {
        Self {
            repository,
            mode,
            sweep_run: None,
            as_of_micros: None,
            grace_period_secs: Some(tuning.grace_period_secs),
            abandoned_upload_secs: Some(tuning.abandoned_upload_secs),
        }
    }
}

/// Settings every run takes from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct GcTuning {
    /// `gc.grace_period_secs`.
    pub grace_period_secs: u64,
    /// `gc.abandoned_upload_secs`.
    pub abandoned_upload_secs: u64,
    /// `gc.sort_budget_bytes`.
    pub sort_budget_bytes: usize,
}

/// Runs `gc` jobs.
pub struct GcHandler {
    engine: Engine,
    jobs: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    tuning: GcTuning,
}

impl GcHandler {
    pub fn new(
        engine: Engine,
        jobs: Arc<dyn JobStore>,
        clock: Arc<dyn Clock>,
        tuning: GcTuning,
    ) -> Self {
        Self {
            engine,
            jobs,
            clock,
            tuning,
        }
    }

    /// Another live run of `repo` (held under an unexpired lease), if any.
    async fn other_run(
        &self,
        ctx: &JobContext,
        repo: &RepositoryId,
    ) -> Result<Option<String>, String> {
        for kind in [GC_KIND, GC_CLI_KIND] {
            let kind = JobKind::new(kind).map_err(|e| e.to_string())?;
            if let Some(other) = self.other_run_of(ctx, repo, &kind).await? {
                return Ok(Some(other));
            }
        }
        Ok(None)
    }

    async fn other_run_of(
        &self,
        ctx: &JobContext,
        repo: &RepositoryId,
        kind: &JobKind,
    ) -> Result<Option<String>, String> {
        let now = self.clock.now();
        let mut after = String::new();
        loop {
            let page = self
                .jobs
                .list(JobQuery {
                    kind: Some(kind),
                    state: Some(JobState::Running),
                    after: &after,
                    limit: 1000,
                })
                .await
                .map_err(|e| e.to_string())?;
            let done = page.len() < 1000;
            if let Some(last) = page.last() {
                after = last.id.to_string();
            }
            for job in page {
                let live = job.lease.as_ref().is_some_and(|l| l.expires > now);
                if job.id != ctx.job().id && job.repository.as_ref() == Some(repo) && live {
                    return Ok(Some(job.id.to_string()));
                }
            }
            if done {
                return Ok(None);
            }
        }
    }
}

/// Reports progress to the job and passes cancellation on.
struct Progress<'a>(&'a JobContext);

impl GcObserver for Progress<'_> {
    fn progress(&self, phase: &str, done: u64, total: Option<u64>) {
        self.0.report(done, total, phase);
    }

    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

#[async_trait]
impl JobHandler for GcHandler {
    async fn run(&self, ctx: JobContext) -> Result<String, String> {
        let params: GcParameters = serde_json::from_str(ctx.parameters())
            .map_err(|e| format!("bad gc parameters: {e}"))?;
        let repo = RepositoryId::new(&params.repository).map_err(|e| e.to_string())?;
        if let Some(other) = self.other_run(&ctx, &repo).await? {
            return Err(format!(
                "garbage collection of {repo} is already running (run {other}); try again when it ends"
            ));
        }
        let run = ctx.job().id.to_string();
        let observer = Progress(&ctx);
        let report = match params.mode {
            GcMode::Sweep => {
                let target = params
                    .sweep_run
                    .as_deref()
                    .ok_or("a sweep names the run to sweep (sweep_run)")?;
                self.engine
                    .gc_sweep(&repo, target, &observer)
                    .await
                    .map_err(|e| e.to_string())?
            }
            mode => {
                let options = GcOptions {
                    as_of: params.as_of_micros.map(Timestamp::from_unix_micros),
                    grace_period_secs: params
                        .grace_period_secs
                        .unwrap_or(self.tuning.grace_period_secs),
                    abandoned_upload_secs: params
                        .abandoned_upload_secs
                        .unwrap_or(self.tuning.abandoned_upload_secs),
                    dry_run: mode == GcMode::DryRun,
                    sort_budget_bytes: self.tuning.sort_budget_bytes,
                };
                // After a restart, a finished mark is not redone.
                let marked = match self.engine.gc_report(&repo, &run).await {
                    Ok(r) if r.marked && !r.dry_run && mode != GcMode::DryRun => r,
                    _ => self
                        .engine
                        .gc_mark(&repo, &run, &options, &observer)
                        .await
                        .map_err(|e| e.to_string())?,
                };
                if mode == GcMode::Full {
                    self.engine
                        .gc_sweep(&repo, &run, &observer)
                        .await
                        .map_err(|e| e.to_string())?
                } else {
                    marked
                }
            }
        };
        summary(&report)
    }
}

/// The job's result: the report as JSON.
fn summary(report: &GcReport) -> Result<String, String> {
    serde_json::to_string(report).map_err(|e| e.to_string())
}
