//! Comparing and merging refs: diffRefs, mergeIntoBranch, findMergeBase.

use super::auth::principal;
use super::bad_input::OptionalJson;
use super::branches::{branch_name, DiffQuery};
use super::error::{ApiError, ApiResult};
use super::models::{Diff, Listing};
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::{Engine, MergeRequest};
use tarn_model::MergeStrategy;
use utoipa::ToSchema;

operations! {
    tag = "refs";
    diffRefs: get "/repositories/{repository}/refs/{leftRef}/diff/{rightRef}" => diff,
        Requires(Action::ListObjects, REPO),
        openapi(
            params(("repository" = String, Path), ("leftRef" = String, Path), ("rightRef" = String, Path)),
            responses((status = 200, body = Listing<Diff>)),
        );
    mergeIntoBranch: post "/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}" => merge,
        Requires(Action::CreateCommit, DEST_BRANCH),
        openapi(
            params(("repository" = String, Path), ("sourceRef" = String, Path), ("destinationBranch" = String, Path)),
            request_body = Merge,
            responses((status = 200, body = MergeResult), (status = 409, body = ErrorBody)),
        );
    findMergeBase: get "/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}" => merge_base,
        Requires(Action::ListCommits, REPO),
        openapi(
            params(("repository" = String, Path), ("sourceRef" = String, Path), ("destinationBranch" = String, Path)),
            responses((status = 200, body = FindMergeBaseResult)),
        );
}

#[derive(Debug, Deserialize)]
struct DiffRefsQuery {
    #[serde(flatten)]
    diff: DiffQuery,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

async fn diff(
    engine: web::Data<Engine>,
    path: web::Path<(String, String, String)>,
    q: web::Query<DiffRefsQuery>,
) -> ApiResult<web::Json<Listing<Diff>>> {
    let (repo, left, right) = path.into_inner();
    let three_dot = match q.kind.as_deref() {
        None | Some("") | Some("three_dot") => true,
        Some("two_dot") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid diff type {other:?}"
            )))
        }
    };
    let page = engine
        .diff_refs(
            &repo_id(&repo)?,
            &left,
            &right,
            three_dot,
            &q.diff.request(),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, Diff::from)))
}

/// `POST /merge` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Merge {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    strategy: Option<String>,
    #[serde(default)]
    force: Option<bool>,
    #[serde(default)]
    allow_empty: Option<bool>,
    #[serde(default)]
    squash_merge: Option<bool>,
}

/// A merge's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeResult {
    reference: String,
}

impl MergeResult {
    /// The outcome of a merge that made commit `reference`.
    pub fn of(reference: String) -> Self {
        Self { reference }
    }
}

async fn merge(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: OptionalJson<Merge>,
) -> ApiResult<web::Json<MergeResult>> {
    let (repo, source, dest) = path.into_inner();
    let body = body.0.unwrap_or_default();
    let strategy = match body.strategy.as_deref() {
        None | Some("") => MergeStrategy::None,
        Some("source-wins") => MergeStrategy::SourceWins,
        Some("dest-wins") => MergeStrategy::DestWins,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid merge strategy {other:?}"
            )))
        }
    };
    if body.force == Some(true) {
        return Err(ApiError::not_implemented("merge with force"));
    }
    let request = MergeRequest {
        strategy,
        squash: body.squash_merge.unwrap_or(false),
        allow_empty: body.allow_empty.unwrap_or(false),
        message: body.message.filter(|m| !m.is_empty()),
        committer: principal(&req)?.id.into_string(),
        metadata: body.metadata.unwrap_or_default(),
    };
    let commit = engine
        .merge(&repo_id(&repo)?, &source, &branch_name(&dest)?, request)
        .await?;
    Ok(web::Json(MergeResult {
        reference: commit.id.into_string(),
    }))
}

/// The merge base of two refs.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindMergeBaseResult {
    source_commit_id: String,
    destination_commit_id: String,
    base_commit_id: String,
}

async fn merge_base(
    engine: web::Data<Engine>,
    path: web::Path<(String, String, String)>,
) -> ApiResult<web::Json<FindMergeBaseResult>> {
    let (repo, source, dest) = path.into_inner();
    let repo = repo_id(&repo)?;
    let src = engine.get_commit(&repo, &source).await?;
    let dst = engine.get_commit(&repo, &dest).await?;
    let base = engine.find_merge_base(&repo, &source, &dest).await?;
    Ok(web::Json(FindMergeBaseResult {
        source_commit_id: src.id.into_string(),
        destination_commit_id: dst.id.into_string(),
        base_commit_id: base.id.into_string(),
    }))
}
