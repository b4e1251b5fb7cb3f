use crate::PortResult;
use async_trait::async_trait;
use tarn_model::jobs::{Job, JobId, JobKind, JobOwner, JobProgress, JobState};
use tarn_model::{RepositoryId, Timestamp};

/// What [`JobStore::create`] needs; the store makes it a `Pending` job with
/// no progress, no lease and `updated == created`.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// A fresh id (from an `IdGenerator`: later ids sort later).
    pub id: JobId,
    /// What the job does.
    pub kind: JobKind,
    /// The handler's input, kept byte for byte.
    pub parameters: String,
    /// The repository the job works on, if any.
    pub repository: Option<RepositoryId>,
    /// The creation time.
    pub created: Timestamp,
}

/// One page of [`JobStore::list`]: jobs of `kind` (any when `None`) in
/// `state` (any when `None`) whose id is strictly greater than `after`
/// (empty: from the start), at most `limit`, by id.
#[derive(Debug, Clone, Copy)]
pub struct JobQuery<'a> {
    /// Only jobs of this kind.
    pub kind: Option<&'a JobKind>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only ids strictly greater than this.
    pub after: &'a str,
    /// At most this many.
    pub limit: usize,
}

impl JobQuery<'_> {
    /// Every job, up to `limit`.
    pub fn all(limit: usize) -> JobQuery<'static> {
        JobQuery {
            kind: None,
            state: None,
            after: "",
            limit,
        }
    }
}

/// How a runner ends a job it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done: the job becomes `Succeeded` with this result.
    Succeeded(String),
    /// Gave up: the job becomes `Failed` with this error.
    Failed(String),
    /// Stopped on request: the job becomes `Canceled`.
    Canceled,
}

/// Durable jobs, claimed by runners under leases.
///
/// A job is *runnable* when it is `Pending`, or `Running` with a lease that
/// expired (`lease.expires <= now`): its runner stopped heartbeating and
/// another may take it over. Times are always passed in by the caller (from
/// the `Clock` port); a store never reads a clock of its own.
///
/// Contract, for every adapter:
/// - Every method is atomic: one statement or one compare-and-set. Of any
///   number of concurrent `claim`s, exactly one wins each runnable job;
///   a job is never held by two owners at once.
/// - `create` of a used id answers `AlreadyExists`. `get`, `heartbeat`,
///   `finish` and `request_cancel` of a missing id answer `NotFound`.
/// - `heartbeat` and `finish` succeed only for the lease's current owner of a
///   `Running` job; anyone else (a runner whose lease expired and was taken
///   over, a second `finish`) gets `PreconditionFailed` and changes nothing.
///   An owner whose lease expired but was not taken over may still renew it.
/// - A final state (`Succeeded`, `Failed`, `Canceled`) never changes again;
///   a job in a final state holds no lease.
/// - `request_cancel` makes a `Pending` job `Canceled` at once; on a
///   `Running` job it sets `cancel_requested` (its runner sees it in the job
///   that `heartbeat` returns); a job in a final state answers
///   `PreconditionFailed`.
/// - Every change sets `updated` to the `now` it was given.
/// - `list` follows [`JobQuery`] and orders by id (byte order).
#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Adds a `Pending` job and returns it.
    async fn create(&self, job: &NewJob) -> PortResult<Job>;

    /// Reads a job.
    async fn get(&self, id: &JobId) -> PortResult<Job>;

    /// Lists jobs.
    async fn list(&self, query: JobQuery<'_>) -> PortResult<Vec<Job>>;

    /// Takes the oldest runnable job (by creation time, then id) whose kind
    /// is one of `kinds`: it becomes `Running`, held by `owner` until
    /// `lease_until`, and its `attempts` grows by one. `None` when there is
    /// nothing to take (always for an empty `kinds`). A job taken over after
    /// its lease expired keeps its progress and `cancel_requested` flag.
    async fn claim(
        &self,
        kinds: &[JobKind],
        owner: &JobOwner,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> PortResult<Option<Job>>;

    /// Extends `owner`'s lease of job `id` to `lease_until` and records
    /// `progress`; returns the job (whose `cancel_requested` tells the runner
    /// to stop).
    async fn heartbeat(
        &self,
        id: &JobId,
        owner: &JobOwner,
        progress: &JobProgress,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> PortResult<Job>;

    /// Ends job `id`, held by `owner`, with `outcome` and its last
    /// `progress`; the lease is released. Returns the job.
    async fn finish(
        &self,
        id: &JobId,
        owner: &JobOwner,
        outcome: &JobOutcome,
        progress: &JobProgress,
        now: Timestamp,
    ) -> PortResult<Job>;

    /// Asks job `id` to stop (see the contract above); returns the job.
    async fn request_cancel(&self, id: &JobId, now: Timestamp) -> PortResult<Job>;
}
