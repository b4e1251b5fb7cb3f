//! Tree compactions (Tarn's own API): the `trees.compact` jobs that fold a
//! repository's large layers into plain trees (see `docs/trees.md`). Commits
//! start them on their own; here they are listed, read, started by hand and
//! cancelled.

use super::error::{ApiError, ApiResult};
use super::models::{Listing, PageQuery};
use super::repo_jobs::{JobProgressBody, JobsOf};
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::dates::iso8601;
use crate::jobs::compact::{start_unless_waiting, COMPACT_KIND};
use crate::jobs::Jobs;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use tarn_domain::{CompactionReport, Engine};
use tarn_model::jobs::Job;
use utoipa::ToSchema;

operations! {
    tag = "retention";
    startTreeCompaction: post "/repositories/{repository}/trees/compactions" => start,
        Requires(Action::RunGarbageCollection, REPO),
        openapi(
            params(("repository" = String, Path)),
            responses((status = 202, body = TreeCompaction), (status = 404, body = ErrorBody)),
        );
    listTreeCompactions: get "/repositories/{repository}/trees/compactions" => list,
        Requires(Action::ReadRepository, REPO),
        openapi(
            params(("repository" = String, Path), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<TreeCompaction>), (status = 404, body = ErrorBody)),
        );
    getTreeCompaction: get "/repositories/{repository}/trees/compactions/{compaction_id}" => get,
        Requires(Action::ReadRepository, REPO),
        openapi(
            params(("repository" = String, Path), ("compaction_id" = String, Path)),
            responses((status = 200, body = TreeCompaction), (status = 404, body = ErrorBody)),
        );
    cancelTreeCompaction: delete "/repositories/{repository}/trees/compactions/{compaction_id}" => cancel,
        Requires(Action::RunGarbageCollection, REPO),
        openapi(
            params(("repository" = String, Path), ("compaction_id" = String, Path)),
            responses((status = 202, body = TreeCompaction), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
        );
}

/// What a finished compaction did.
#[derive(Debug, Serialize, ToSchema)]
pub struct TreeCompactionReport {
    /// Branches whose head tree was looked at.
    branches: u64,
    /// Layered trees folded into plain trees by this compaction.
    folded: u64,
    /// Layered trees an earlier compaction had already folded.
    already: u64,
    /// Records in the layers folded.
    records: u64,
}

/// A compaction of a repository's layered trees (a `trees.compact` job).
#[derive(Debug, Serialize, ToSchema)]
pub struct TreeCompaction {
    /// Its id (its job's).
    id: String,
    /// `pending`, `running`, `succeeded`, `failed` or `canceled`.
    state: String,
    progress: JobProgressBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    cancel_requested: bool,
    creation_date: String,
    update_date: String,
    /// What it did, once it has succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<TreeCompactionReport>,
}

fn is_compact_kind(kind: &str) -> bool {
    kind == COMPACT_KIND
}

const COMPACTIONS: JobsOf = JobsOf {
    is_kind: is_compact_kind,
    what: "compaction",
};

fn body(job: Job) -> TreeCompaction {
    let report: Option<CompactionReport> = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    TreeCompaction {
        id: job.id.to_string(),
        state: job.state.to_string(),
        progress: JobProgressBody::of(&job),
        error: job.error.clone(),
        cancel_requested: job.cancel_requested,
        creation_date: iso8601(job.created.unix_micros()),
        update_date: iso8601(job.updated.unix_micros()),
        report: report.map(|r| TreeCompactionReport {
            branches: r.branches,
            folded: r.folded,
            already: r.already,
            records: r.records,
        }),
    }
}

/// Starts a compaction, or answers with the one already waiting to run.
async fn start(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let repo = repo_id(&path)?;
    engine.get_repository(&repo).await?;
    let job = start_unless_waiting(&jobs, &repo)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))?;
    Ok(HttpResponse::Accepted().json(body(job)))
}

async fn list(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<TreeCompaction>>> {
    let repo = repo_id(&path)?;
    engine.get_repository(&repo).await?;
    let (found, pagination) = COMPACTIONS.page(&jobs, &repo, &q).await?;
    Ok(web::Json(Listing {
        pagination,
        results: found.into_iter().map(body).collect(),
    }))
}

async fn get(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<TreeCompaction>> {
    let (repo, id) = path.into_inner();
    let repo = repo_id(&repo)?;
    engine.get_repository(&repo).await?;
    Ok(web::Json(body(COMPACTIONS.find(&jobs, &repo, &id).await?)))
}

async fn cancel(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (repo, id) = path.into_inner();
    let repo = repo_id(&repo)?;
    engine.get_repository(&repo).await?;
    let job = COMPACTIONS.find(&jobs, &repo, &id).await?;
    let job = COMPACTIONS.cancel(&jobs, &job).await?;
    Ok(HttpResponse::Accepted().json(body(job)))
}
