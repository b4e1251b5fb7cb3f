//! Refs dump and restore as tasks (lakeFS's `dumpSubmit` / `dumpStatus` /
//! `restoreSubmit` / `restoreStatus`): jobs on the runner, polled by id.

use super::auth::require;
use super::bad_input::OptionalJson;
use super::error::{ApiError, ApiResult};
use super::refs_dump::{all_on, RefsDumpBody, RefsRestore};
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::dates::iso8601;
use crate::jobs::refs::{DumpIds, RefsTask, DUMP_KIND, RESTORE_KIND};
use crate::jobs::Jobs;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::{Engine, RefsDump};
use tarn_model::auth::Action;
use tarn_model::jobs::{Job, JobId, JobKind, JobState};
use tarn_model::RepositoryId;
use tarn_ports::ErrorKind;
use utoipa::ToSchema;

operations! {
    tag = "repositories";
    dumpSubmit: post "/repositories/{repository}/dump" => dump_submit,
        InHandler,
        openapi(
            params(("repository" = String, Path)),
            responses((status = 202, body = TaskInfo), (status = 404, body = ErrorBody)),
        );
    dumpStatus: get "/repositories/{repository}/dump" => dump_status,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("task_id" = String, Query)),
            responses((status = 200, body = RepositoryDumpStatus), (status = 404, body = ErrorBody)),
        );
    restoreSubmit: post "/repositories/{repository}/restore" => restore_submit,
        InHandler,
        openapi(
            params(("repository" = String, Path)),
            request_body = RefsRestore,
            responses((status = 202, body = TaskInfo), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
    restoreStatus: get "/repositories/{repository}/restore" => restore_status,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("task_id" = String, Query)),
            responses((status = 200, body = RepositoryRestoreStatus), (status = 404, body = ErrorBody)),
        );
}

/// A submitted task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskInfo {
    id: String,
}

/// Where a dump is.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryDumpStatus {
    id: String,
    done: bool,
    update_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refs: Option<RefsDumpBody>,
}

/// Where a restore is.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryRestoreStatus {
    id: String,
    done: bool,
    update_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `?task_id=`.
#[derive(Debug, Deserialize)]
pub struct TaskQuery {
    task_id: String,
}

const DUMP_ACTIONS: [Action; 3] = [Action::ListTags, Action::ListBranches, Action::ListCommits];
const RESTORE_ACTIONS: [Action; 3] = [
    Action::CreateTag,
    Action::CreateBranch,
    Action::CreateCommit,
];

async fn submit(
    jobs: &Jobs,
    kind: &str,
    task: &RefsTask,
    repo: RepositoryId,
) -> ApiResult<HttpResponse> {
    let kind = JobKind::new(kind)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let text = serde_json::to_string(task)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let job = jobs
        .create(&kind, text, Some(repo))
        .await
        .map_err(tarn_domain::Error::from)?;
    Ok(HttpResponse::Accepted().json(TaskInfo {
        id: job.id.to_string(),
    }))
}

/// Task `id` of `kind` on `repo`, or 404.
async fn find(jobs: &Jobs, kind: &str, repo: &RepositoryId, id: &str) -> ApiResult<Job> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, format!("{id}: task not found"));
    let job_id = JobId::new(id).map_err(|_| not_found())?;
    match jobs.store().get(&job_id).await {
        Ok(job) if job.kind.as_str() == kind && job.repository.as_ref() == Some(repo) => Ok(job),
        Ok(_) => Err(not_found()),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(not_found()),
        Err(e) => Err(tarn_domain::Error::from(e).into()),
    }
}

/// `done` and `error` as lakeFS reports them.
fn outcome(job: &Job) -> (bool, Option<String>) {
    match job.state {
        JobState::Pending | JobState::Running => (false, None),
        JobState::Succeeded => (true, None),
        JobState::Failed => (
            true,
            Some(job.error.clone().unwrap_or_else(|| "failed".into())),
        ),
        JobState::Canceled => (true, Some("canceled".into())),
    }
}

async fn dump_submit(
    req: HttpRequest,
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    require(&req, &all_on(&path, &DUMP_ACTIONS)).await?;
    let repo = repo_id(&path)?;
    engine.get_repository(&repo).await?;
    let task = RefsTask {
        repository: repo.to_string(),
        dump: None,
        force: false,
    };
    submit(&jobs, DUMP_KIND, &task, repo).await
}

async fn dump_status(
    req: HttpRequest,
    jobs: web::Data<Jobs>,
    path: web::Path<String>,
    q: web::Query<TaskQuery>,
) -> ApiResult<web::Json<RepositoryDumpStatus>> {
    require(&req, &all_on(&path, &DUMP_ACTIONS)).await?;
    let repo = repo_id(&path)?;
    let job = find(&jobs, DUMP_KIND, &repo, &q.task_id).await?;
    let (done, error) = outcome(&job);
    let refs = (job.state == JobState::Succeeded)
        .then(|| {
            job.result
                .as_deref()
                .and_then(|r| serde_json::from_str::<DumpIds>(r).ok())
        })
        .flatten()
        .map(|d| RefsDumpBody::from(RefsDump::from(d)));
    Ok(web::Json(RepositoryDumpStatus {
        id: job.id.to_string(),
        done,
        update_time: iso8601(job.updated.unix_micros()),
        error,
        refs,
    }))
}

async fn restore_submit(
    req: HttpRequest,
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<String>,
    body: OptionalJson<RefsRestore>,
) -> ApiResult<HttpResponse> {
    require(&req, &all_on(&path, &RESTORE_ACTIONS)).await?;
    let repo = repo_id(&path)?;
    let body = body
        .0
        .ok_or_else(|| ApiError::bad_request("a restore needs the dump's ids in the body"))?;
    let force = body.force();
    let dump = body.into_dump();
    // Checked now, so that a bad request is a 400, not a failed task.
    engine.check_restore(&repo, &dump, force).await?;
    let task = RefsTask {
        repository: repo.to_string(),
        dump: Some(DumpIds::from(dump)),
        force,
    };
    submit(&jobs, RESTORE_KIND, &task, repo).await
}

async fn restore_status(
    req: HttpRequest,
    jobs: web::Data<Jobs>,
    path: web::Path<String>,
    q: web::Query<TaskQuery>,
) -> ApiResult<web::Json<RepositoryRestoreStatus>> {
    require(&req, &all_on(&path, &RESTORE_ACTIONS)).await?;
    let repo = repo_id(&path)?;
    let job = find(&jobs, RESTORE_KIND, &repo, &q.task_id).await?;
    let (done, error) = outcome(&job);
    Ok(web::Json(RepositoryRestoreStatus {
        id: job.id.to_string(),
        done,
        update_time: iso8601(job.updated.unix_micros()),
        error,
    }))
}
