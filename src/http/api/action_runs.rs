//! Action runs (lakeFS's `actions` API): a repository's runs, one run, its
//! hooks, and a hook's log.

use super::error::{ApiError, ApiResult};
use super::models::{amount, Listing, Pagination, MAX_PER_PAGE};
use super::repositories::repo_id;
use crate::actions::ActionRuns;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::dates::iso8601;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::Engine;
use tarn_model::runs::{ActionRun as RunRecord, HookRun as HookRecord};
use tarn_model::{BlockKey, RepositoryId};
use tarn_ports::RunFilter;
use utoipa::ToSchema;

operations! {
    tag = "actions";
    listRepositoryRuns: get "/repositories/{repository}/actions/runs" => list_runs,
        Requires(Action::ReadAction, REPO),
        openapi(
            params(("repository" = String, Path), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query),
                   ("branch" = Option<String>, Query), ("commit" = Option<String>, Query)),
            responses((status = 200, body = Listing<ActionRun>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
    getRun: get "/repositories/{repository}/actions/runs/{run_id}" => get_run,
        Requires(Action::ReadAction, REPO),
        openapi(
            params(("repository" = String, Path), ("run_id" = String, Path)),
            responses((status = 200, body = ActionRun), (status = 404, body = ErrorBody)),
        );
    listRunHooks: get "/repositories/{repository}/actions/runs/{run_id}/hooks" => list_hooks,
        Requires(Action::ReadAction, REPO),
        openapi(
            params(("repository" = String, Path), ("run_id" = String, Path), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<HookRun>), (status = 404, body = ErrorBody)),
        );
    getRunHookOutput: get "/repositories/{repository}/actions/runs/{run_id}/hooks/{hook_run_id}/output" => hook_output,
        Requires(Action::ReadAction, REPO),
        openapi(
            params(("repository" = String, Path), ("run_id" = String, Path), ("hook_run_id" = String, Path)),
            responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody)),
        );
}

/// A run (lakeFS's `ActionRun`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionRun {
    run_id: String,
    branch: String,
    start_time: String,
    end_time: String,
    event_type: String,
    /// `completed` or `failed`.
    status: String,
    commit_id: String,
}

/// A hook of a run (lakeFS's `HookRun`).
#[derive(Debug, Serialize, ToSchema)]
pub struct HookRun {
    hook_run_id: String,
    action: String,
    hook_id: String,
    start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<String>,
    /// `completed`, `failed` or `skipped` (its condition was false).
    status: String,
}

/// Query of `listRepositoryRuns`.
#[derive(Debug, Deserialize)]
pub struct RunsQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default, deserialize_with = "super::models::de_opt_i64")]
    amount: Option<i64>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    commit: Option<String>,
}

/// Query of `listRunHooks`.
#[derive(Debug, Deserialize)]
pub struct HooksQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default, deserialize_with = "super::models::de_opt_i64")]
    amount: Option<i64>,
}

/// The zero time lakeFS writes for a hook that never started.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn run_of(r: RunRecord) -> ActionRun {
    ActionRun {
        run_id: r.run_id,
        branch: r.branch,
        start_time: iso8601(r.start_time.unix_micros()),
        end_time: iso8601(r.end_time.unix_micros()),
        event_type: r.event_type,
        status: if r.passed { "completed" } else { "failed" }.to_owned(),
        commit_id: r.commit_id,
    }
}

fn hook_of(h: HookRecord) -> HookRun {
    let status = match (h.start_time, h.passed) {
        (None, _) => "skipped",
        (Some(_), true) => "completed",
        (Some(_), false) => "failed",
    };
    HookRun {
        hook_run_id: h.hook_run_id,
        action: h.action_name,
        hook_id: h.hook_id,
        start_time: h
            .start_time
            .map_or_else(|| ZERO_TIME.to_owned(), |t| iso8601(t.unix_micros())),
        end_time: h.end_time.map(|t| iso8601(t.unix_micros())),
        status: status.to_owned(),
    }
}

fn page<T: ToSchema>(mut items: Vec<T>, want: usize, key: impl Fn(&T) -> String) -> Listing<T> {
    let has_more = items.len() > want;
    items.truncate(want);
    let next_offset = if has_more {
        items.last().map(&key).unwrap_or_default()
    } else {
        String::new()
    };
    Listing {
        pagination: Pagination {
            has_more,
            next_offset,
            results: items.len(),
            max_per_page: MAX_PER_PAGE,
        },
        results: items,
    }
}

fn store_error(e: tarn_ports::PortError) -> ApiError {
    tarn_domain::Error::from(e).into()
}

async fn repository(engine: &Engine, name: &str) -> ApiResult<RepositoryId> {
    let repo = repo_id(name)?;
    engine.get_repository(&repo).await?;
    Ok(repo)
}

async fn list_runs(
    engine: web::Data<Engine>,
    runs: web::Data<ActionRuns>,
    path: web::Path<String>,
    q: web::Query<RunsQuery>,
) -> ApiResult<web::Json<Listing<ActionRun>>> {
    let repo = repository(&engine, &path).await?;
    let filter = match (q.branch.as_deref(), q.commit.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "can't use both branchID and MergedCommitID: parameters conflict",
            ))
        }
        (Some(b), None) => RunFilter::Branch(b),
        (None, Some(c)) => RunFilter::Commit(c),
        (None, None) => RunFilter::All,
    };
    let want = amount(q.amount);
    let found = runs
        .0
        .list_runs(&repo, filter, q.after.as_deref().unwrap_or(""), want + 1)
        .await
        .map_err(store_error)?;
    let results = found.into_iter().map(run_of).collect();
    Ok(web::Json(page(results, want, |r: &ActionRun| {
        r.run_id.clone()
    })))
}

async fn get_run(
    engine: web::Data<Engine>,
    runs: web::Data<ActionRuns>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<ActionRun>> {
    let (repo, run_id) = path.into_inner();
    let repo = repository(&engine, &repo).await?;
    let run = runs.0.get_run(&repo, &run_id).await.map_err(|e| {
        if e.kind() == tarn_ports::ErrorKind::NotFound {
            ApiError::new(StatusCode::NOT_FOUND, format!("run {run_id}: not found"))
        } else {
            store_error(e)
        }
    })?;
    Ok(web::Json(run_of(run)))
}

async fn list_hooks(
    engine: web::Data<Engine>,
    runs: web::Data<ActionRuns>,
    path: web::Path<(String, String)>,
    q: web::Query<HooksQuery>,
) -> ApiResult<web::Json<Listing<HookRun>>> {
    let (repo, run_id) = path.into_inner();
    let repo = repository(&engine, &repo).await?;
    let want = amount(q.amount);
    let found = runs
        .0
        .list_hook_runs(&repo, &run_id, q.after.as_deref().unwrap_or(""), want + 1)
        .await
        .map_err(store_error)?;
    let results = found.into_iter().map(hook_of).collect();
    Ok(web::Json(page(results, want, |h: &HookRun| {
        h.hook_run_id.clone()
    })))
}

async fn hook_output(
    engine: web::Data<Engine>,
    runs: web::Data<ActionRuns>,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (repo_name, run_id, hook_run_id) = path.into_inner();
    let repo = repository(&engine, &repo_name).await?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("hook run {hook_run_id} of run {run_id}: not found"),
        )
    };
    let hooks = runs
        .0
        .list_hook_runs(&repo, &run_id, "", MAX_PER_PAGE)
        .await
        .map_err(store_error)?;
    let hook = hooks
        .into_iter()
        .find(|h| h.hook_run_id == hook_run_id)
        .ok_or_else(not_found)?;
    if hook.start_time.is_none() {
        // Skipped: it wrote nothing.
        return Ok(HttpResponse::Ok().finish());
    }
    let ns = engine.get_repository(&repo).await?.storage_namespace;
    let key = BlockKey::new(format!("_lakefs/actions/log/{run_id}/{hook_run_id}.log"))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let got = engine
        .stores()
        .blocks
        .get(&ns, &key, None)
        .await
        .map_err(|e| match e.kind() {
            tarn_ports::ErrorKind::NotFound => not_found(),
            _ => store_error(e),
        })?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename={hook_run_id}.log"),
        ))
        .streaming(crate::http::shared::body::response_stream(got.body)))
}
