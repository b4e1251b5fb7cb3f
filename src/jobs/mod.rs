//! Background work: handlers of job kinds, and the runner that claims jobs
//! from the `JobStore` under a lease, runs them, heartbeats while they run
//! and records how they ended. Every instance runs one; the store's atomic
//! claim makes sure a job runs in one place at a time.

pub mod compact;
pub mod gc;
pub mod gc_schedule;
pub mod import;
#[cfg(test)]
mod import_tests;
pub mod refs;
mod runner;
#[cfg(test)]
mod testing;

pub use runner::{JobRunner, RunnerSettings};

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use tarn_model::jobs::{Job, JobId, JobKind, JobProgress};
use tarn_model::RepositoryId;
use tarn_ports::{Clock, IdGenerator, JobStore, NewJob, PortError, PortResult};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Runs the jobs of one kind.
///
/// A job may run more than once: when its runner dies, another takes it over
/// after the lease lapses and starts it again. Handlers must make a re-run
/// safe (idempotent steps, or a cursor recorded in the progress message).
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Does the work: `Ok` with a result for people, or `Err` with why it
    /// failed. Should return soon after `ctx.cancelled()` fires (it is
    /// aborted otherwise).
    async fn run(&self, ctx: JobContext) -> Result<String, String>;
}

/// What a handler gets: the job, a progress reporter and the cancellation
/// signal.
pub struct JobContext {
    job: Job,
    progress: watch::Sender<JobProgress>,
    cancel: CancellationToken,
}

impl JobContext {
    /// The job as it was claimed (progress from an earlier attempt included).
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// The job's parameters.
    pub fn parameters(&self) -> &str {
        &self.job.parameters
    }

    /// Records progress; the runner stores it with its next heartbeat (and
    /// when the job ends).
    pub fn report(&self, done: u64, total: Option<u64>, message: impl Into<String>) {
        self.progress.send_replace(JobProgress {
            done,
            total,
            message: message.into(),
        });
    }

    /// Whether someone asked the job to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Resolves once someone asked the job to stop.
    #[cfg_attr(not(test), allow(dead_code))]
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }
}

/// The handlers of the job kinds this instance runs.
#[derive(Default, Clone)]
pub struct JobRegistry {
    handlers: BTreeMap<JobKind, Arc<dyn JobHandler>>,
}

impl JobRegistry {
    /// No handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs jobs of `kind` with `handler` (replacing an earlier one).
    pub fn register(&mut self, kind: JobKind, handler: Arc<dyn JobHandler>) -> &mut Self {
        self.handlers.insert(kind, handler);
        self
    }

    /// The kinds this registry runs.
    pub fn kinds(&self) -> Vec<JobKind> {
        self.handlers.keys().cloned().collect()
    }

    fn handler(&self, kind: &JobKind) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }
}

/// Creating, reading and canceling jobs, for the drivers (API, command line).
#[derive(Clone)]
pub struct Jobs {
    store: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    gc: gc::GcTuning,
}

impl Jobs {
    pub fn new(
        store: Arc<dyn JobStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        gc: gc::GcTuning,
    ) -> Self {
        Self {
            store,
            clock,
            ids,
            gc,
        }
    }

    /// This instance's garbage collection settings, which runs it starts
    /// carry.
    pub fn gc_tuning(&self) -> &gc::GcTuning {
        &self.gc
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn JobStore> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Adds a pending job of `kind`.
    pub async fn create(
        &self,
        kind: &JobKind,
        parameters: String,
        repository: Option<RepositoryId>,
    ) -> PortResult<Job> {
        let id = JobId::new(self.ids.new_id())
            .map_err(|e| PortError::internal(format!("a generated job id: {e}")))?;
        self.store
            .create(&NewJob {
                id,
                kind: kind.clone(),
                parameters,
                repository,
                created: self.clock.now(),
            })
            .await
    }
}
