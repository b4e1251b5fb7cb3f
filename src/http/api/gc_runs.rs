//! Garbage collection runs (Tarn's own API): start one (a `gc` job on the
//! runner), list a repository's runs, read one with its report, cancel one.

use super::bad_input::OptionalJson;
use super::error::{ApiError, ApiResult};
use super::models::{Listing, PageQuery};
use super::repo_jobs::{JobProgressBody, JobsOf};
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::dates::{iso8601, parse_rfc3339};
use crate::jobs::gc::{is_gc_kind, GcMode, GcParameters, GC_KIND};
use crate::jobs::Jobs;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::{Engine, GcReport};
use tarn_model::jobs::{Job, JobKind};
use utoipa::ToSchema;

operations! {
    tag = "retention";
    startGarbageCollection: post "/repositories/{repository}/gc/runs" => start,
        Requires(Action::RunGarbageCollection, REPO),
        openapi(
            params(("repository" = String, Path)),
            request_body = GcRunCreation,
            responses((status = 202, body = GcRun), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
    listGarbageCollectionRuns: get "/repositories/{repository}/gc/runs" => list,
        Requires(Action::GetGarbageCollectionRules, REPO),
        openapi(
            params(("repository" = String, Path), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<GcRun>), (status = 404, body = ErrorBody)),
        );
    getGarbageCollectionRun: get "/repositories/{repository}/gc/runs/{run_id}" => get,
        Requires(Action::GetGarbageCollectionRules, REPO),
        openapi(
            params(("repository" = String, Path), ("run_id" = String, Path)),
            responses((status = 200, body = GcRun), (status = 404, body = ErrorBody)),
        );
    cancelGarbageCollectionRun: delete "/repositories/{repository}/gc/runs/{run_id}" => cancel,
        Requires(Action::RunGarbageCollection, REPO),
        openapi(
            params(("repository" = String, Path), ("run_id" = String, Path)),
            responses((status = 202, body = GcRun), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
        );
}

/// `POST .../gc/runs` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct GcRunCreation {
    /// `full` (mark, then sweep; the default), `dry_run` (report only),
    /// `mark_only` (write the list to `_tarn/gc/<run>/`) or `sweep` (delete
    /// the list of `sweep_run`).
    #[serde(default)]
    mode: Option<String>,
    /// For `sweep`: the mark-only run whose list to delete.
    #[serde(default)]
    sweep_run: Option<String>,
    /// Evaluate retention at this instant (RFC 3339) instead of now.
    #[serde(default)]
    as_of: Option<String>,
}

/// Objects and bytes.
#[derive(Debug, Serialize, ToSchema)]
pub struct GcTally {
    objects: u64,
    bytes: u64,
}

/// What only one branch keeps alive.
#[derive(Debug, Serialize, ToSchema)]
pub struct GcBranchFootprint {
    branch: String,
    objects: u64,
    bytes: u64,
}

/// A run's findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct GcRunReport {
    /// When retention was evaluated.
    as_of: String,
    /// Data written at or after this was too young to collect.
    grace_cutoff: String,
    commits: u64,
    kept_commits: u64,
    ranges_read: u64,
    scanned: GcTally,
    live: GcTally,
    skipped_grace: GcTally,
    garbage: GcTally,
    deleted: GcTally,
    abandoned_uploads: u64,
    uploads_aborted: u64,
    marked: bool,
    swept: bool,
    branches: Vec<GcBranchFootprint>,
}

/// A garbage collection run.
#[derive(Debug, Serialize, ToSchema)]
pub struct GcRun {
    /// The run id (its job's).
    id: String,
    /// `full`, `dry_run`, `mark_only` or `sweep`.
    mode: String,
    /// The run swept (for `sweep`).
    #[serde(skip_serializing_if = "Option::is_none")]
    sweep_run: Option<String>,
    /// `pending`, `running`, `succeeded`, `failed` or `canceled`.
    state: String,
    /// Work done so far.
    progress: JobProgressBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    cancel_requested: bool,
    creation_date: String,
    update_date: String,
    /// The findings, once the mark has finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<GcRunReport>,
}

fn tally(t: tarn_domain::Tally) -> GcTally {
    GcTally {
        objects: t.objects,
        bytes: t.bytes,
    }
}

impl From<GcReport> for GcRunReport {
    fn from(r: GcReport) -> Self {
        Self {
            as_of: iso8601(r.as_of.saturating_mul(1_000_000)),
            grace_cutoff: iso8601(r.cutoff.saturating_mul(1_000_000)),
            commits: r.commits,
            kept_commits: r.kept_commits,
            ranges_read: r.ranges_read,
            scanned: tally(r.scanned),
            live: tally(r.live),
            skipped_grace: tally(r.skipped_grace),
            garbage: tally(r.garbage),
            deleted: tally(r.deleted),
            abandoned_uploads: r.abandoned_uploads.len() as u64,
            uploads_aborted: r.uploads_aborted,
            marked: r.marked,
            swept: r.swept,
            branches: r
                .branches
                .into_iter()
                .map(|b| GcBranchFootprint {
                    branch: b.branch,
                    objects: b.exclusive.objects,
                    bytes: b.exclusive.bytes,
                })
                .collect(),
        }
    }
}

fn mode_name(mode: GcMode) -> &'static str {
    match mode {
        GcMode::Full => "full",
        GcMode::DryRun => "dry_run",
        GcMode::MarkOnly => "mark_only",
        GcMode::Sweep => "sweep",
    }
}

fn gc_kind() -> ApiResult<JobKind> {
    JobKind::new(GC_KIND)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// The run on the wire: the job, and the stored report when there is one
/// (a finished job's result; a running one's report once its mark wrote it).
async fn run_body(engine: &Engine, job: Job) -> GcRun {
    let params: Option<GcParameters> = serde_json::from_str(&job.parameters).ok();
    let mut report: Option<GcReport> = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    if report.is_none() {
        if let (Some(repo), Some(p)) = (&job.repository, &params) {
            if p.mode != GcMode::Sweep {
                report = engine.gc_report(repo, job.id.as_str()).await.ok();
            }
        }
    }
    GcRun {
        id: job.id.to_string(),
        mode: params
            .as_ref()
            .map_or("unknown", |p| mode_name(p.mode))
            .to_owned(),
        sweep_run: params.and_then(|p| p.sweep_run),
        state: job.state.to_string(),
        progress: JobProgressBody::of(&job),
        error: job.error,
        cancel_requested: job.cancel_requested,
        creation_date: iso8601(job.created.unix_micros()),
        update_date: iso8601(job.updated.unix_micros()),
        report: report.map(GcRunReport::from),
    }
}

const RUNS: JobsOf = JobsOf {
    is_kind: is_gc_kind,
    what: "gc run",
};

async fn start(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<String>,
    body: OptionalJson<GcRunCreation>,
) -> ApiResult<HttpResponse> {
    let repo = repo_id(&path)?;
    engine.get_repository(&repo).await?;
    let body = body.0.unwrap_or_default();
    let mode = match body.mode.as_deref().unwrap_or("full") {
        "full" => GcMode::Full,
        "dry_run" => GcMode::DryRun,
        "mark_only" => GcMode::MarkOnly,
        "sweep" => GcMode::Sweep,
        other => {
            return Err(ApiError::bad_request(format!(
                "mode {other:?}: one of full, dry_run, mark_only, sweep"
            )))
        }
    };
    let sweep_run = match (mode, body.sweep_run) {
        (GcMode::Sweep, Some(run)) => {
            let marked = RUNS.find(&jobs, &repo, &run).await?;
            let report = engine.gc_report(&repo, marked.id.as_str()).await;
            match report {
                Ok(r) if r.marked && !r.dry_run => Some(run),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "run {run} has no garbage list to sweep: it was a dry run or has not finished marking"
                    )))
                }
            }
        }
        (GcMode::Sweep, None) => {
            return Err(ApiError::bad_request(
                "a sweep names the run to sweep: sweep_run",
            ))
        }
        (_, Some(_)) => return Err(ApiError::bad_request("sweep_run goes with mode sweep only")),
        (_, None) => None,
    };
    let as_of_micros = match body.as_of.as_deref() {
        None | Some("") => None,
        Some(t) => Some(
            parse_rfc3339(t)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("invalid as_of {t:?}: expected RFC 3339"))
                })?
                .unix_micros(),
        ),
    };
    if as_of_micros.is_some_and(|t| t > engine.now().unix_micros()) && mode != GcMode::DryRun {
        return Err(ApiError::bad_request(
            "as_of in the future goes with mode dry_run only: a collection never deletes what today's rules keep",
        ));
    }
    let mut params = GcParameters::new(repo.to_string(), mode, jobs.gc_tuning());
    params.sweep_run = sweep_run;
    params.as_of_micros = as_of_micros;
    let text = serde_json::to_string(&params)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let job = jobs
        .create(&gc_kind()?, text, Some(repo))
        .await
        .map_err(tarn_domain::Error::from)?;
    Ok(HttpResponse::Accepted().json(run_body(&engine, job).await))
}

async fn list(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<GcRun>>> {
    let repo = repo_id(&path)?;
    engine.get_repository(&repo).await?;
    let (found, pagination) = RUNS.page(&jobs, &repo, &q).await?;
    let mut results = Vec::with_capacity(found.len());
    for job in found {
        results.push(run_body(&engine, job).await);
    }
    Ok(web::Json(Listing {
        pagination,
        results,
    }))
}

async fn get(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<GcRun>> {
    let (repo, run) = path.into_inner();
    let repo = repo_id(&repo)?;
    engine.get_repository(&repo).await?;
    let job = RUNS.find(&jobs, &repo, &run).await?;
    Ok(web::Json(run_body(&engine, job).await))
}

async fn cancel(
    engine: web::Data<Engine>,
    jobs: web::Data<Jobs>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (repo, run) = path.into_inner();
    let repo = repo_id(&repo)?;
    engine.get_repository(&repo).await?;
    let job = RUNS.find(&jobs, &repo, &run).await?;
    let job = RUNS.cancel(&jobs, &job).await?;
    Ok(HttpResponse::Accepted().json(run_body(&engine, job).await))
}
