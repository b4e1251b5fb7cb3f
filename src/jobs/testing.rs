//! Test-only job kinds (`test.sleep`, `test.stubborn`, `test.fail`,
//! `test.panic`) and the runner's tests, on memory, SQLite and PostgreSQL.

use super::runner::RunningJobs;
use super::{JobContext, JobHandler, JobRegistry, JobRunner, RunnerSettings};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tarn_adapter_memory::{MemoryJobStore, SystemClock};
use tarn_adapter_sql::{Backend, SqlStore};
use tarn_model::jobs::{Job, JobId, JobKind, JobOwner, JobState};
use tarn_ports::{Clock, JobStore, NewJob};

/// How many times each job's handler started.
type Starts = Arc<Mutex<BTreeMap<String, u32>>>;

fn record_start(starts: &Starts, ctx: &JobContext) {
    let mut starts = starts.lock().unwrap();
    *starts.entry(ctx.job().id.as_str().to_owned()).or_default() += 1;
}

#[derive(Deserialize)]
struct SleepParams {
    steps: u64,
    step_ms: u64,
}

/// `test.sleep`: `steps` sleeps of `step_ms`, reporting each, resuming from
/// the progress of an earlier attempt; stops when cancelled.
struct Sleeper(Starts);

#[async_trait]
impl JobHandler for Sleeper {
    async fn run(&self, ctx: JobContext) -> Result<String, String> {
        record_start(&self.0, &ctx);
        let p: SleepParams = serde_json::from_str(ctx.parameters()).map_err(|e| e.to_string())?;
        for step in ctx.job().progress.done..p.steps {
            if ctx.is_cancelled() {
                return Err("stopped on request".into());
            }
            tokio::select! {
                () = ctx.cancelled() => return Err("stopped on request".into()),
                () = tokio::time::sleep(Duration::from_millis(p.step_ms)) => {}
            }
            ctx.report(step + 1, Some(p.steps), format!("step {}", step + 1));
        }
        Ok(format!("slept {} steps", p.steps))
    }
}

/// `test.stubborn`: never returns, cancelled or not.
struct Stubborn;

#[async_trait]
impl JobHandler for Stubborn {
    async fn run(&self, ctx: JobContext) -> Result<String, String> {
        ctx.report(1, None, "ignoring everyone");
        std::future::pending().await
    }
}

/// `test.fail`: fails with its parameters as the error.
struct Failer;

#[async_trait]
impl JobHandler for Failer {
    async fn run(&self, ctx: JobContext) -> Result<String, String> {
        Err(ctx.parameters().to_owned())
    }
}

/// `test.panic`: panics.
struct Panicker;

#[async_trait]
impl JobHandler for Panicker {
    async fn run(&self, _ctx: JobContext) -> Result<String, String> {
        panic!("test.panic panics")
    }
}

fn kind(s: &str) -> JobKind {
    JobKind::new(s).unwrap()
}

/// A store, the test kinds' shared start counts, and runners on them.
struct Harness {
    store: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    starts: Starts,
    _guard: Box<dyn std::any::Any + Send>,
}

impl Harness {
    fn new(store: Arc<dyn JobStore>, guard: Box<dyn std::any::Any + Send>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock::new()),
            starts: Starts::default(),
            _guard: guard,
        }
    }

    /// A started runner named `name` with leases of `lease_ms`.
    fn runner(&self, name: &str, lease_ms: u64) -> RunningJobs {
        let mut registry = JobRegistry::new();
        registry
            .register(kind("test.sleep"), Arc::new(Sleeper(self.starts.clone())))
            .register(kind("test.stubborn"), Arc::new(Stubborn))
            .register(kind("test.fail"), Arc::new(Failer))
            .register(kind("test.panic"), Arc::new(Panicker));
        let settings = RunnerSettings {
            poll_interval: Duration::from_millis(20),
            lease: Duration::from_millis(lease_ms),
            max_concurrent: 2,
        };
        let owner = JobOwner::new(format!("runner-{name}")).unwrap();
        JobRunner::new(
            self.store.clone(),
            self.clock.clone(),
            registry,
            owner,
            settings,
        )
        .start()
    }

    async fn submit(&self, n: usize, kind_name: &str, parameters: &str) -> JobId {
        let id = JobId::new(format!("job{n:04}")).unwrap();
        let job = NewJob {
            id: id.clone(),
            kind: kind(kind_name),
            parameters: parameters.to_owned(),
            repository: None,
            created: self.clock.now(),
        };
        self.store.create(&job).await.unwrap();
        id
    }

    /// Waits (at most 30 s: the machine may be loaded) until job `id`
    /// satisfies `done`.
    async fn wait_for(&self, id: &JobId, what: &str, done: impl Fn(&Job) -> bool) -> Job {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let job = self.store.get(id).await.unwrap();
            if done(&job) {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} never {what}: {job:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn starts_of(&self, id: &JobId) -> u32 {
        self.starts
            .lock()
            .unwrap()
            .get(id.as_str())
            .copied()
            .unwrap_or(0)
    }
}

fn is_final(job: &Job) -> bool {
    job.state.is_final()
}

async fn three_runners_run_each_job_exactly_once(h: Harness) {
    // Leases far longer than the jobs: no takeover may hide a double run.
    let runners: Vec<RunningJobs> = ["a", "b", "c"]
        .iter()
        .map(|n| h.runner(n, 10_000))
        .collect();
    let params = r#"{"steps": 2, "step_ms": 5}"#;
    let mut ids = Vec::new();
    for n in 0..15 {
        ids.push(h.submit(n, "test.sleep", params).await);
    }
    let stranger = h.submit(99, "not.registered", "{}").await;
    for id in &ids {
        let job = h.wait_for(id, "ended", is_final).await;
        assert_eq!(job.state, JobState::Succeeded, "{job:?}");
        assert_eq!(job.result.as_deref(), Some("slept 2 steps"));
        assert_eq!((job.progress.done, job.progress.total), (2, Some(2)));
        assert_eq!(job.attempts, 1);
        assert_eq!(h.starts_of(id), 1, "job {id} ran once");
    }
    assert_eq!(
        h.store.get(&stranger).await.unwrap().state,
        JobState::Pending
    );
    for r in runners {
        r.stop().await;
    }
}

async fn a_dead_runners_job_is_taken_over_after_its_lease(h: Harness) {
    let first = h.runner("doomed", 400);
    let id = h
        .submit(1, "test.sleep", r#"{"steps": 12, "step_ms": 50}"#)
        .await;
    let running = h
        .wait_for(&id, "recorded progress", |j| j.progress.done >= 2)
        .await;
    assert_eq!(running.state, JobState::Running);
    assert_eq!(running.lease.unwrap().owner.as_str(), "runner-doomed");
    drop(first); // dies: no more heartbeats, no finish
    let second = h.runner("heir", 400);
    let done = h.wait_for(&id, "ended", is_final).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.result.as_deref(), Some("slept 12 steps"));
    assert!(done.attempts >= 2, "taken over: {done:?}");
    assert!(h.starts_of(&id) >= 2);
    second.stop().await;
}

async fn cancellation_stops_a_running_job(h: Harness) {
    let runner = h.runner("r", 300);
    let id = h
        .submit(1, "test.sleep", r#"{"steps": 100000, "step_ms": 10}"#)
        .await;
    h.wait_for(&id, "started", |j| j.progress.done >= 1).await;
    let flagged = h.store.request_cancel(&id, h.clock.now()).await.unwrap();
    assert_eq!(flagged.state, JobState::Running);
    let job = h.wait_for(&id, "ended", is_final).await;
    assert_eq!(job.state, JobState::Canceled, "{job:?}");
    assert!(job.progress.done < 100_000);
    assert_eq!(job.lease, None);
    runner.stop().await;
}

async fn a_handler_ignoring_cancellation_is_aborted(h: Harness) {
    let runner = h.runner("r", 300);
    let id = h.submit(1, "test.stubborn", "{}").await;
    let job = h.wait_for(&id, "started", |j| j.progress.done == 1).await;
    assert_eq!(job.state, JobState::Running);
    h.store.request_cancel(&id, h.clock.now()).await.unwrap();
    let job = h.wait_for(&id, "ended", is_final).await;
    assert_eq!(job.state, JobState::Canceled, "{job:?}");
    runner.stop().await;
}

async fn handler_errors_and_panics_mark_the_job_failed(h: Harness) {
    let runner = h.runner("r", 2_000);
    let failing = h.submit(1, "test.fail", "disk on fire").await;
    let panicking = h.submit(2, "test.panic", "{}").await;
    let bad_input = h.submit(3, "test.sleep", "not json").await;
    let job = h.wait_for(&failing, "ended", is_final).await;
    assert_eq!(
        (job.state, job.error.as_deref(), job.result.as_deref()),
        (JobState::Failed, Some("disk on fire"), None)
    );
    let job = h.wait_for(&panicking, "ended", is_final).await;
    assert_eq!(job.state, JobState::Failed);
    assert!(job.error.unwrap().contains("panicked"));
    let job = h.wait_for(&bad_input, "ended", is_final).await;
    assert_eq!(job.state, JobState::Failed);
    runner.stop().await;
}

async fn a_stopped_runner_claims_nothing(h: Harness) {
    let runner = h.runner("r", 2_000);
    runner.stop().await;
    let id = h
        .submit(1, "test.sleep", r#"{"steps": 1, "step_ms": 1}"#)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.store.get(&id).await.unwrap().state, JobState::Pending);
}

/// One `#[tokio::test]` per case on the store that `$harness` builds.
macro_rules! runner_cases {
    ($module:ident, $harness:expr) => {
        mod $module {
            use super::*;
            runner_cases!(@cases $harness;
                three_runners_run_each_job_exactly_once,
                a_dead_runners_job_is_taken_over_after_its_lease,
                cancellation_stops_a_running_job,
                a_handler_ignoring_cancellation_is_aborted,
                handler_errors_and_panics_mark_the_job_failed,
                a_stopped_runner_claims_nothing,
            );
        }
    };
    (@cases $harness:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                // A harness that needs a server it cannot find skips.
                if let Some(harness) = ($harness)().await {
                    super::$case(harness).await;
                }
            }
        )+
    };
}

async fn memory() -> Option<Harness> {
    Some(Harness::new(Arc::new(MemoryJobStore::new()), Box::new(())))
}

async fn sqlite() -> Option<Harness> {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::Sqlite {
        path: dir.path().join("tarn.db"),
        max_connections: 8,
        cache_bytes: tarn_adapter_sql::DEFAULT_SQLITE_CACHE_BYTES,
    };
    let store = SqlStore::open(&backend).await.unwrap();
    Some(Harness::new(Arc::new(store), Box::new(dir)))
}

async fn postgres() -> Option<Harness> {
    use tarn_adapter_sql::testing::{fresh_postgres_database, postgres_url_or_skip};
    let url = postgres_url_or_skip()?;
    let backend = Backend::Postgres {
        connection_string: fresh_postgres_database(&url).await.unwrap(),
        max_connections: 8,
        ca_file: None,
    };
    Some(Harness::new(
        Arc::new(SqlStore::open(&backend).await.unwrap()),
        Box::new(()),
    ))
}

runner_cases!(on_memory, memory);
runner_cases!(on_sqlite, sqlite);
runner_cases!(on_postgres, postgres);
