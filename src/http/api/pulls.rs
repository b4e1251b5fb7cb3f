//! Pull requests (lakeFS's experimental `pulls` API): list, create, get,
//! update, merge.

use super::auth::{principal, require};
use super::branches::branch_name;
use super::error::{ApiError, ApiResult};
use super::models::{amount, Listing, PageQuery};
use super::refs::MergeResult;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::dates::iso8601;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::{Engine, PullCreation, PullFilter, PullRequest, PullStatus, PullUpdate};
use tarn_model::auth::{arn, Action, Permission};
use utoipa::ToSchema;

operations! {
    tag = "pulls";
    listPullRequests: get "/repositories/{repository}/pulls" => list,
        Requires(Action::ListPullRequests, REPO),
        openapi(
            params(("repository" = String, Path), ("status" = Option<String>, Query)),
            responses((status = 200, body = Listing<PullRequestBody>)),
        );
    createPullRequest: post "/repositories/{repository}/pulls" => create,
        Requires(Action::WritePullRequest, REPO),
        openapi(
            params(("repository" = String, Path)),
            request_body = PullRequestCreation,
            responses((status = 201, body = PullRequestCreationResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
    getPullRequest: get "/repositories/{repository}/pulls/{pull_request}" => get,
        Requires(Action::ReadPullRequest, REPO),
        openapi(
            params(("repository" = String, Path), ("pull_request" = String, Path)),
            responses((status = 200, body = PullRequestBody), (status = 404, body = ErrorBody)),
        );
    updatePullRequest: patch "/repositories/{repository}/pulls/{pull_request}" => update,
        Requires(Action::WritePullRequest, REPO),
        openapi(
            params(("repository" = String, Path), ("pull_request" = String, Path)),
            request_body = PullRequestBasic,
            responses((status = 204), (status = 404, body = ErrorBody)),
        );
    mergePullRequest: put "/repositories/{repository}/pulls/{pull_request}/merge" => merge,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("pull_request" = String, Path)),
            responses((status = 200, body = MergeResult), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
        );
}

/// A pull request on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct PullRequestBody {
    id: String,
    status: &'static str,
    title: String,
    description: String,
    creation_date: String,
    author: String,
    source_branch: String,
    destination_branch: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    merged_commit_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_date: Option<String>,
}

impl From<PullRequest> for PullRequestBody {
    fn from(p: PullRequest) -> Self {
        Self {
            id: p.id,
            status: p.status.as_str(),
            title: p.title,
            description: p.description,
            creation_date: iso8601(p.creation_date.unix_micros()),
            author: p.author,
            source_branch: p.source_branch.into_string(),
            destination_branch: p.destination_branch.into_string(),
            merged_commit_id: p.merged_commit_id.map(|c| c.into_string()),
            closed_date: p.closed_date.map(|d| iso8601(d.unix_micros())),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    status: Option<String>,
}

async fn list(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> ApiResult<web::Json<Listing<PullRequestBody>>> {
    let filter = match q.status.as_deref() {
        None | Some("") | Some("all") => PullFilter::All,
        Some("open") => PullFilter::Open,
        Some("closed") => PullFilter::Closed,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "status {other:?}: one of open, closed, all"
            )))
        }
    };
    let page = engine
        .list_pull_requests(
            &repo_id(&path)?,
            filter,
            (
                q.page.prefix.as_deref().unwrap_or(""),
                q.page.after.as_deref().filter(|a| !a.is_empty()),
                amount(q.page.amount),
            ),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, PullRequestBody::from)))
}

/// `POST /pulls` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PullRequestCreation {
    title: String,
    #[serde(default)]
    description: Option<String>,
    source_branch: String,
    destination_branch: String,
}

/// The id of a new pull request.
#[derive(Debug, Serialize, ToSchema)]
pub struct PullRequestCreationResponse {
    id: String,
}

async fn create(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<PullRequestCreation>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let creation = PullCreation {
        title: body.title,
        description: body.description.unwrap_or_default(),
        source_branch: branch_name(&body.source_branch)?,
        destination_branch: branch_name(&body.destination_branch)?,
        author: principal(&req)?.id.into_string(),
    };
    let pr = engine
        .create_pull_request(&repo_id(&path)?, creation)
        .await?;
    Ok(HttpResponse::Created().json(PullRequestCreationResponse { id: pr.id }))
}

async fn get(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<PullRequestBody>> {
    let (repo, id) = path.into_inner();
    let pr = engine.get_pull_request(&repo_id(&repo)?, &id).await?;
    Ok(web::Json(pr.into()))
}

/// `PATCH /pulls/{id}` body: any of the three.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PullRequestBasic {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

async fn update(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: web::Json<PullRequestBasic>,
) -> ApiResult<HttpResponse> {
    let (repo, id) = path.into_inner();
    let body = body.into_inner();
    let update = PullUpdate {
        title: body.title,
        description: body.description,
        status: body.status.as_deref().map(PullStatus::parse).transpose()?,
    };
    engine
        .update_pull_request(&repo_id(&repo)?, &id, update)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Merging needs the pull request permission, then (once the request names
/// its destination) a commit on that branch.
async fn merge(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<MergeResult>> {
    let (repo, id) = path.into_inner();
    require(
        &req,
        &[Permission::new(
            Action::WritePullRequest,
            arn::repository(&repo),
        )],
    )
    .await?;
    let repo_id = repo_id(&repo)?;
    let pr = engine.get_pull_request(&repo_id, &id).await?;
    require(
        &req,
        &[Permission::new(
            Action::CreateCommit,
            arn::branch(&repo, pr.destination_branch.as_str()),
        )],
    )
    .await?;
    let committer = principal(&req)?.id.into_string();
    let (_, commit) = engine.merge_pull_request(&repo_id, &id, &committer).await?;
    Ok(web::Json(MergeResult::of(commit.into_string())))
}
