//! `JobStore` in memory: jobs by id under one mutex, which makes every
//! operation (claims included) atomic.

use crate::lock;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Mutex;
use tarn_model::jobs::{Job, JobId, JobKind, JobLease, JobOwner, JobProgress, JobState};
use tarn_model::Timestamp;
use tarn_ports::{JobOutcome, JobQuery, JobStore, NewJob, PortError, PortResult};

/// A `JobStore` in memory.
#[derive(Default)]
pub struct MemoryJobStore {
    jobs: Mutex<BTreeMap<String, Job>>,
}

impl MemoryJobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn missing(id: &JobId) -> PortError {
    PortError::not_found(format!("job {id} not found"))
}

fn runnable(job: &Job, now: Timestamp) -> bool {
    match job.state {
        JobState::Pending => true,
        JobState::Running => job.lease.as_ref().is_none_or(|l| l.expires <= now),
        _ => false,
    }
}

/// The job `id`, if `owner` holds it while it runs; `NotFound` or
/// `PreconditionFailed` otherwise.
fn held<'a>(
    jobs: &'a mut BTreeMap<String, Job>,
    id: &JobId,
    owner: &JobOwner,
) -> PortResult<&'a mut Job> {
    let job = jobs.get_mut(id.as_str()).ok_or_else(|| missing(id))?;
    let owns = job.lease.as_ref().is_some_and(|l| l.owner == *owner);
    if job.state != JobState::Running || !owns {
        return Err(PortError::precondition_failed(format!(
            "job {id} is not running under {owner}'s lease"
        )));
    }
    Ok(job)
}

#[async_trait]
impl JobStore for MemoryJobStore {
    async fn create(&self, new: &NewJob) -> PortResult<Job> {
        let mut jobs = lock(&self.jobs)?;
        if jobs.contains_key(new.id.as_str()) {
            return Err(PortError::already_exists(format!(
                "job {} already exists",
                new.id
            )));
        }
        let job = Job {
            id: new.id.clone(),
            kind: new.kind.clone(),
            parameters: new.parameters.clone(),
            repository: new.repository.clone(),
            state: JobState::Pending,
            progress: JobProgress::default(),
            result: None,
            error: None,
            lease: None,
            cancel_requested: false,
            attempts: 0,
            created: new.created,
            updated: new.created,
        };
        jobs.insert(new.id.as_str().to_owned(), job.clone());
        Ok(job)
    }

    async fn get(&self, id: &JobId) -> PortResult<Job> {
        lock(&self.jobs)?
            .get(id.as_str())
            .cloned()
            .ok_or_else(|| missing(id))
    }

    async fn list(&self, query: JobQuery<'_>) -> PortResult<Vec<Job>> {
        let jobs = lock(&self.jobs)?;
        let range = (Bound::Excluded(query.after.to_owned()), Bound::Unbounded);
        Ok(jobs
            .range::<String, _>(range)
            .map(|(_, job)| job)
            .filter(|job| query.kind.is_none_or(|k| job.kind == *k))
            .filter(|job| query.state.is_none_or(|s| job.state == s))
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn claim(
        &self,
        kinds: &[JobKind],
        owner: &JobOwner,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> PortResult<Option<Job>> {
        let mut jobs = lock(&self.jobs)?;
        let Some(job) = jobs
            .values_mut()
            .filter(|job| kinds.contains(&job.kind) && runnable(job, now))
            .min_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)))
        else {
            return Ok(None);
        };
        job.state = JobState::Running;
        job.lease = Some(JobLease {
            owner: owner.clone(),
            expires: lease_until,
        });
        job.attempts = job.attempts.saturating_add(1);
        job.updated = now;
        Ok(Some(job.clone()))
    }

    async fn heartbeat(
        &self,
        id: &JobId,
        owner: &JobOwner,
        progress: &JobProgress,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> PortResult<Job> {
        let mut jobs = lock(&self.jobs)?;
        let job = held(&mut jobs, id, owner)?;
        job.progress = progress.clone();
        job.lease = Some(JobLease {
            owner: owner.clone(),
            expires: lease_until,
        });
        job.updated = now;
        Ok(job.clone())
    }

    async fn finish(
        &self,
        id: &JobId,
        owner: &JobOwner,
        outcome: &JobOutcome,
        progress: &JobProgress,
        now: Timestamp,
    ) -> PortResult<Job> {
        let mut jobs = lock(&self.jobs)?;
        let job = held(&mut jobs, id, owner)?;
        (job.state, job.result, job.error) = match outcome {
            JobOutcome::Succeeded(result) => (JobState::Succeeded, Some(result.clone()), None),
            JobOutcome::Failed(error) => (JobState::Failed, None, Some(error.clone())),
            JobOutcome::Canceled => (JobState::Canceled, None, None),
        };
        job.progress = progress.clone();
        job.lease = None;
        job.updated = now;
        Ok(job.clone())
    }

    async fn request_cancel(&self, id: &JobId, now: Timestamp) -> PortResult<Job> {
        let mut jobs = lock(&self.jobs)?;
        let job = jobs.get_mut(id.as_str()).ok_or_else(|| missing(id))?;
        match job.state {
            JobState::Pending => job.state = JobState::Canceled,
            JobState::Running => {}
            _ => {
                return Err(PortError::precondition_failed(format!(
                    "job {id} is already {}",
                    job.state
                )))
            }
        }
        job.cancel_requested = true;
        job.updated = now;
        Ok(job.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tarn_ports::testkit::JobFixture;

    async fn fixture() -> JobFixture {
        JobFixture {
            store: Arc::new(MemoryJobStore::new()),
            guard: Box::new(()),
        }
    }

    tarn_ports::job_store_conformance!(fixture);
}
