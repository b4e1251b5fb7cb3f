//! The runner: a loop that claims runnable jobs of the registered kinds,
//! and one task per claimed job that runs its handler and heartbeats.

use super::{JobContext, JobRegistry};
use std::sync::Arc;
use std::time::Duration;
use tarn_model::jobs::{Job, JobId, JobKind, JobOwner, JobProgress};
use tarn_model::Timestamp;
use tarn_ports::{Clock, ErrorKind, JobOutcome, JobStore};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How a runner works.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// How long to wait between claims when there was nothing to claim.
    pub poll_interval: Duration,
    /// How long a claim or heartbeat holds a job. Heartbeats go every third
    /// of it (at most every [`MAX_HEARTBEAT`], which is also how soon a
    /// cancellation is seen), so a job outlives two missed heartbeats; a
    /// job whose runner died is taken over at most this long after its last
    /// heartbeat.
    pub lease: Duration,
    /// How many jobs this runner runs at once.
    pub max_concurrent: usize,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            max_concurrent: 1,
        }
    }
}

/// The longest time between heartbeats: a cancellation request is seen
/// within it, and a handler that ignores it is aborted as long again later.
pub const MAX_HEARTBEAT: Duration = Duration::from_secs(2);

impl RunnerSettings {
    fn heartbeat_interval(&self) -> Duration {
        (self.lease / 3).clamp(Duration::from_millis(1), MAX_HEARTBEAT)
    }
}

/// A runner, not yet started.
pub struct JobRunner {
    shared: Arc<Shared>,
}

/// What the loop and every job task share.
struct Shared {
    store: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    registry: JobRegistry,
    owner: JobOwner,
    settings: RunnerSettings,
}

/// A started runner. [`RunningJobs::stop`] stops it; dropping it aborts it
/// at once, as a crash would.
pub struct RunningJobs {
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl JobRunner {
    /// A runner of `registry`'s kinds over `store`, whose leases name `owner`
    /// (unique per instance).
    pub fn new(
        store: Arc<dyn JobStore>,
        clock: Arc<dyn Clock>,
        registry: JobRegistry,
        owner: JobOwner,
        settings: RunnerSettings,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                clock,
                registry,
                owner,
                settings,
            }),
        }
    }

    /// Starts claiming and running jobs on the current tokio runtime.
    pub fn start(self) -> RunningJobs {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run_loop(self.shared, shutdown.clone()));
        RunningJobs {
            shutdown,
            task: Some(task),
        }
    }
}

impl RunningJobs {
    /// Stops claiming and abandons the jobs in hand without finishing them:
    /// their leases lapse and a runner elsewhere (or after a restart) takes
    /// them over, as after a crash. Returns once nothing runs any more.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "the job runner ended abnormally");
            }
        }
    }
}

impl Drop for RunningJobs {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// `t` plus `d`, saturating.
fn later(t: Timestamp, d: Duration) -> Timestamp {
    let micros = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    Timestamp::from_unix_micros(t.unix_micros().saturating_add(micros))
}

async fn run_loop(shared: Arc<Shared>, shutdown: CancellationToken) {
    let kinds = shared.registry.kinds();
    let max = shared.settings.max_concurrent.max(1);
    tracing::info!(owner = %shared.owner, kinds = ?kinds, "job runner started");
    let mut running = JoinSet::new();
    while !shutdown.is_cancelled() {
        while let Some(done) = running.try_join_next() {
            report_task_end(done);
        }
        let claimed = if running.len() < max {
            claim(&shared, &kinds).await
        } else {
            None
        };
        if let Some(job) = claimed {
            running.spawn(run_job(shared.clone(), job));
            continue; // there may be more
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(shared.settings.poll_interval) => {}
            Some(done) = running.join_next(), if !running.is_empty() => report_task_end(done),
        }
    }
    // Abandoned, not finished: see `RunningJobs::stop`.
    running.shutdown().await;
    tracing::info!(owner = %shared.owner, "job runner stopped");
}

fn report_task_end(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            tracing::error!(error = %e, "a job task panicked");
        }
    }
}

async fn claim(shared: &Shared, kinds: &[JobKind]) -> Option<Job> {
    if kinds.is_empty() {
        return None;
    }
    let now = shared.clock.now();
    let until = later(now, shared.settings.lease);
    match shared.store.claim(kinds, &shared.owner, now, until).await {
        Ok(job) => job,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim jobs");
            None
        }
    }
}

/// Aborts the task it holds when dropped: a handler never outlives the job
/// task that watches it.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why a job task stopped before its handler ended.
enum Abandoned {
    /// Another owner holds the job now (or it is gone).
    LostLease,
    /// Heartbeats failed until the lease lapsed.
    LeaseLapsed,
}

#[tracing::instrument(skip_all, fields(job = %job.id, kind = %job.kind, attempt = job.attempts))]
async fn run_job(shared: Arc<Shared>, job: Job) {
    let metered = JobMeter::start(job.kind.to_string());
    let (progress, reports) = watch::channel(job.progress.clone());
    let outcome = match shared.registry.handler(&job.kind) {
        _ if job.cancel_requested => JobOutcome::Canceled,
        None => JobOutcome::Failed(format!("no handler for job kind {}", job.kind)),
        Some(handler) => {
            tracing::info!("job started");
            let cancel = CancellationToken::new();
            let ctx = JobContext {
                job: job.clone(),
                progress,
                cancel: cancel.clone(),
            };
            let task = AbortOnDrop(tokio::spawn(async move { handler.run(ctx).await }));
            match supervise(&shared, &job.id, job.kind.as_str(), task, &reports, &cancel).await {
                Ok(outcome) => outcome,
                Err(Abandoned::LostLease) => {
                    tracing::warn!("job taken over by another runner; stopped here");
                    return;
                }
                Err(Abandoned::LeaseLapsed) => {
                    tracing::warn!("job lease lapsed without a heartbeat; stopped here");
                    return;
                }
            }
        }
    };
    let last = reports.borrow().clone();
    metered.ended(&outcome, &last);
    finish(&shared, &job.id, &outcome, &last).await;
}

/// Job metrics: runs under way, how runs end and how long they take, and
/// the progress of the latest run of each kind.
struct JobMeter {
    kind: String,
    started: Instant,
}

impl JobMeter {
    fn start(kind: String) -> Self {
        metrics::gauge!("tarn_jobs_running", "kind" => kind.clone()).increment(1.0);
        Self {
            kind,
            started: Instant::now(),
        }
    }

    fn progress(kind: &str, progress: &JobProgress) {
        metrics::gauge!("tarn_job_progress_done", "kind" => kind.to_owned())
            .set(progress.done as f64);
        if let Some(total) = progress.total {
            metrics::gauge!("tarn_job_progress_total", "kind" => kind.to_owned()).set(total as f64);
        }
    }

    fn ended(&self, outcome: &JobOutcome, progress: &JobProgress) {
        let outcome = match outcome {
            JobOutcome::Succeeded(_) => "succeeded",
            JobOutcome::Failed(_) => "failed",
            JobOutcome::Canceled => "canceled",
        };
        Self::progress(&self.kind, progress);
        metrics::counter!("tarn_jobs_finished_total", "kind" => self.kind.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("tarn_job_duration_seconds", "kind" => self.kind.clone())
            .record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for JobMeter {
    fn drop(&mut self) {
        metrics::gauge!("tarn_jobs_running", "kind" => self.kind.clone()).decrement(1.0);
    }
}

/// Heartbeats while the handler runs; returns how the job ended. A
/// cancellation request fires `cancel`; a handler that has not returned a
/// heartbeat interval later is aborted.
async fn supervise(
    shared: &Shared,
    id: &JobId,
    kind: &str,
    mut task: AbortOnDrop<Result<String, String>>,
    reports: &watch::Receiver<JobProgress>,
    cancel: &CancellationToken,
) -> Result<JobOutcome, Abandoned> {
    let every = shared.settings.heartbeat_interval();
    let mut lease_end = Instant::now() + shared.settings.lease;
    let mut beats = tokio::time::interval_at(Instant::now() + every, every);
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cancel_deadline: Option<Instant> = None;
    loop {
        tokio::select! {
            joined = &mut task.0 => {
                return Ok(match joined {
                    Ok(Ok(result)) => JobOutcome::Succeeded(result),
                    Ok(Err(_)) if cancel.is_cancelled() => JobOutcome::Canceled,
                    Ok(Err(error)) => JobOutcome::Failed(error),
                    Err(e) if e.is_panic() => JobOutcome::Failed("the job's handler panicked".into()),
                    Err(e) => JobOutcome::Failed(format!("the job's handler stopped: {e}")),
                });
            }
            _ = beats.tick() => {
                let sent = Instant::now();
                let now = shared.clock.now();
                let progress = reports.borrow().clone();
                JobMeter::progress(kind, &progress);
                let until = later(now, shared.settings.lease);
                match shared.store.heartbeat(id, &shared.owner, &progress, now, until).await {
                    Ok(job) => {
                        lease_end = sent + shared.settings.lease;
                        if job.cancel_requested && !cancel.is_cancelled() {
                            tracing::info!("cancellation requested");
                            cancel.cancel();
                            cancel_deadline = Some(Instant::now() + every);
                        }
                    }
                    Err(e) if matches!(e.kind(), ErrorKind::PreconditionFailed | ErrorKind::NotFound) => {
                        return Err(Abandoned::LostLease);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "heartbeat failed");
                        if Instant::now() >= lease_end {
                            return Err(Abandoned::LeaseLapsed);
                        }
                    }
                }
            }
            () = sleep_until_some(cancel_deadline) => {
                tracing::warn!("the handler ignored cancellation; aborted");
                return Ok(JobOutcome::Canceled);
            }
        }
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Records how the job ended, retrying a failing store while the lease
/// still holds (after that, whoever takes the job over runs it again).
async fn finish(shared: &Shared, id: &JobId, outcome: &JobOutcome, progress: &JobProgress) {
    let give_up = Instant::now() + shared.settings.lease;
    loop {
        let now = shared.clock.now();
        match shared
            .store
            .finish(id, &shared.owner, outcome, progress, now)
            .await
        {
            Ok(job) => {
                tracing::info!(state = %job.state, "job ended");
                return;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::PreconditionFailed | ErrorKind::NotFound
                ) =>
            {
                tracing::warn!(error = %e, "job taken over before it ended here");
                return;
            }
            Err(e) if Instant::now() + shared.settings.poll_interval < give_up => {
                tracing::warn!(error = %e, "cannot record the end of the job; retrying");
                tokio::time::sleep(shared.settings.poll_interval).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot record the end of the job");
                return;
            }
        }
    }
}
