//! What the API resources over one repository's jobs share (garbage
//! collection runs, tree compactions): a job's progress on the wire, finding
//! one job, paging through them, asking one to stop.

use super::error::{ApiError, ApiResult};
use super::models::{amount, PageQuery, Pagination};
use crate::jobs::Jobs;
use actix_web::http::StatusCode;
use serde::Serialize;
use tarn_model::jobs::{Job, JobId};
use tarn_model::RepositoryId;
use tarn_ports::{ErrorKind, JobQuery};
use utoipa::ToSchema;

/// A job's progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobProgressBody {
    done: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    message: String,
}

impl JobProgressBody {
    pub(crate) fn of(job: &Job) -> Self {
        Self {
            done: job.progress.done,
            total: job.progress.total,
            message: job.progress.message.clone(),
        }
    }
}

/// Which jobs a resource serves: its kinds, and its name in messages.
pub(crate) struct JobsOf {
    pub is_kind: fn(&str) -> bool,
    /// "gc run", "compaction".
    pub what: &'static str,
}

impl JobsOf {
    fn owns(&self, job: &Job, repo: &RepositoryId) -> bool {
        (self.is_kind)(job.kind.as_str()) && job.repository.as_ref() == Some(repo)
    }

    /// Job `id` of `repo`, or 404.
    pub(crate) async fn find(&self, jobs: &Jobs, repo: &RepositoryId, id: &str) -> ApiResult<Job> {
        let not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("{id}: {} not found", self.what),
            )
        };
        let job_id = JobId::new(id).map_err(|_| not_found())?;
        match jobs.store().get(&job_id).await {
            Ok(job) if self.owns(&job, repo) => Ok(job),
            Ok(_) => Err(not_found()),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(not_found()),
            Err(e) => Err(tarn_domain::Error::from(e).into()),
        }
    }

    /// A page of `repo`'s jobs, oldest first, after `q.after`.
    pub(crate) async fn page(
        &self,
        jobs: &Jobs,
        repo: &RepositoryId,
        q: &PageQuery,
    ) -> ApiResult<(Vec<Job>, Pagination)> {
        let want = amount(q.amount);
        let mut after = q.after.clone().unwrap_or_default();
        let mut found: Vec<Job> = Vec::new();
        let mut has_more = false;
        // Jobs of every repository, filtered: a page scans until it has enough.
        'pages: loop {
            let page = jobs
                .store()
                .list(JobQuery {
                    kind: None,
                    state: None,
                    after: &after,
                    limit: 1000,
                })
                .await
                .map_err(tarn_domain::Error::from)?;
            let last_page = page.len() < 1000;
            for job in page {
                after = job.id.to_string();
                if self.owns(&job, repo) {
                    if found.len() == want {
                        has_more = true;
                        break 'pages;
                    }
                    found.push(job);
                }
            }
            if last_page {
                break;
            }
        }
        let next_offset = if has_more {
            found.last().map(|j| j.id.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        let pagination = Pagination {
            has_more,
            next_offset,
            results: found.len(),
            max_per_page: super::models::MAX_PER_PAGE,
        };
        Ok((found, pagination))
    }

    /// Asks `job` to stop; 409 when it has already ended.
    pub(crate) async fn cancel(&self, jobs: &Jobs, job: &Job) -> ApiResult<Job> {
        match jobs
            .store()
            .request_cancel(&job.id, jobs.clock().now())
            .await
        {
            Ok(job) => Ok(job),
            Err(e) if e.kind() == ErrorKind::PreconditionFailed => Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("{} {} has already ended ({})", self.what, job.id, job.state),
            )),
            Err(e) => Err(tarn_domain::Error::from(e).into()),
        }
    }
}
