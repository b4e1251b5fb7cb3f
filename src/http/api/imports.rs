//! Zero-copy import (lakeFS's `importStart` / `importStatus` /
//! `importCancel`): an `import` job per request, polled by id.

use super::auth::{principal, require};
use super::branches::branch_name;
use super::error::{ApiError, ApiResult};
use super::models::CommitBody;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::dates::iso8601;
use crate::jobs::import::{ImportResult, ImportSource, ImportTask, IMPORT_KIND};
use crate::jobs::Jobs;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::Engine;
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::jobs::{Job, JobId, JobKind, JobState};
use tarn_model::RepositoryId;
use tarn_ports::ErrorKind;
use utoipa::ToSchema;

operations! {
    tag = "import";
    importStart: post "/repositories/{repository}/branches/{branch}/import" => start,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            request_body = ImportCreation,
            responses((status = 202, body = ImportCreationResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
    importStatus: get "/repositories/{repository}/branches/{branch}/import" => status,
        Requires(Action::ReadBranch, BRANCH),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("id" = String, Query)),
            responses((status = 200, body = ImportStatus), (status = 404, body = ErrorBody)),
        );
    importCancel: delete "/repositories/{repository}/branches/{branch}/import" => cancel,
        Requires(Action::ImportCancel, BRANCH),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("id" = String, Query)),
            responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
        );
}

/// One source of an import.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportLocation {
    /// `common_prefix` or `object`.
    #[serde(rename = "type")]
    kind: String,
    /// The source URI.
    path: String,
    /// Where on the branch.
    destination: String,
}

/// The commit an import makes.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportCommit {
    message: String,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
}

/// `POST …/import` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportCreation {
    paths: Vec<ImportLocation>,
    commit: ImportCommit,
    /// lakeFS lets it bypass branch protection; Tarn refuses all the same.
    #[serde(default)]
    #[allow(dead_code)]
    force: Option<bool>,
}

/// The id of a started import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCreationResponse {
    id: String,
}

/// An error, as lakeFS's `Error` model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportError {
    message: String,
}

/// Where an import is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportStatus {
    completed: bool,
    update_time: String,
    ingested_objects: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    metarange_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<CommitBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ImportError>,
}

/// `?id=`.
#[derive(Debug, Deserialize)]
pub struct IdQuery {
    id: String,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn start(
    req: HttpRequest,
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<(String, String)>,
    body: web::Json<ImportCreation>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let body = body.into_inner();
    // Permission first: writes and a commit on the branch, and reading
    // each source out of the object store.
    let mut needed = vec![
        Permission::new(Action::WriteObject, arn::branch(&repo, &branch)),
        Permission::new(Action::CreateCommit, arn::branch(&repo, &branch)),
    ];
    for p in &body.paths {
        needed.push(Permission::new(
            Action::ImportFromStorage,
            arn::namespace(&p.path),
        ));
        needed.push(Permission::new(
            Action::WriteObject,
            arn::object(&repo, &p.destination),
        ));
    }
    require(&req, &needed).await?;
    let repo = repo_id(&repo)?;
    let branch = branch_name(&branch)?;
    let task = ImportTask {
        repository: repo.to_string(),
        branch: branch.to_string(),
        paths: body
            .paths
            .into_iter()
            .map(|p| ImportSource {
                source: p.path,
                destination: p.destination,
                kind: p.kind,
            })
            .collect(),
        message: body.commit.message,
        metadata: body.commit.metadata.unwrap_or_default(),
        committer: principal(&req)?.id.into_string(),
    };
    let paths = task.import_paths().map_err(ApiError::bad_request)?;
    engine.check_import(&repo, &branch, &paths).await?;
    let text = serde_json::to_string(&task).map_err(internal)?;
    let kind = JobKind::new(IMPORT_KIND).map_err(internal)?;
    let job = jobs
        .create(&kind, text, Some(repo))
        .await
        .map_err(tarn_domain::Error::from)?;
    Ok(HttpResponse::Accepted().json(ImportCreationResponse {
        id: job.id.to_string(),
    }))
}

/// Import `id` into `branch` of `repo`, or 404.
async fn find(jobs: &Jobs, repo: &RepositoryId, branch: &str, id: &str) -> ApiResult<Job> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, format!("{id}: import not found"));
    let job_id = JobId::new(id).map_err(|_| not_found())?;
    let job = match jobs.store().get(&job_id).await {
        Ok(job) => job,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(tarn_domain::Error::from(e).into()),
    };
    let ours = job.kind.as_str() == IMPORT_KIND
        && job.repository.as_ref() == Some(repo)
        && serde_json::from_str::<ImportTask>(&job.parameters).is_ok_and(|t| t.branch == branch);
    if ours {
        Ok(job)
    } else {
        Err(not_found())
    }
}

async fn status(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<(String, String)>,
    q: web::Query<IdQuery>,
) -> ApiResult<web::Json<ImportStatus>> {
    let (repo, branch) = path.into_inner();
    let repo = repo_id(&repo)?;
    let job = find(&jobs, &repo, &branch, &q.id).await?;
    let result: Option<ImportResult> = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    let commit = match &result {
        Some(r) => Some(CommitBody::from(
            engine.get_commit(&repo, &r.commit_id).await?,
        )),
        None => None,
    };
    let error = match job.state {
        JobState::Failed => Some(job.error.clone().unwrap_or_else(|| "failed".into())),
        JobState::Canceled => Some("import canceled".to_owned()),
        _ => None,
    };
    Ok(web::Json(ImportStatus {
        completed: job.state == JobState::Succeeded,
        update_time: iso8601(job.updated.unix_micros()),
        ingested_objects: result.as_ref().map_or(job.progress.done, |r| r.ingested),
        metarange_id: result.map(|r| r.metarange_id),
        commit,
        error: error.map(|message| ImportError { message }),
    }))
}

async fn cancel(
    jobs: web::Data<Jobs>,
    path: web::Path<(String, String)>,
    q: web::Query<IdQuery>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let repo = repo_id(&repo)?;
    let job = find(&jobs, &repo, &branch, &q.id).await?;
    match jobs
        .store()
        .request_cancel(&job.id, jobs.clock().now())
        .await
    {
        Ok(_) => Ok(HttpResponse::NoContent().finish()),
        Err(e) if e.kind() == ErrorKind::PreconditionFailed => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("import {} has already ended ({})", job.id, job.state),
        )),
        Err(e) => Err(tarn_domain::Error::from(e).into()),
    }
}
