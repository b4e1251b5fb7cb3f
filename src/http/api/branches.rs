//! Branches: list, create, get, delete, reset, hard reset, revert,
//! cherry-pick, and uncommitted changes.

use super::error::{ApiError, ApiResult};
use super::models::{amount, CommitBody, Diff, Listing, PageQuery, Ref};
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::collections::BTreeMap;
use tarn_domain::{DiffRequest, Engine, PickRequest, ResetScope};
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::{BranchName, ObjectPath};
use utoipa::ToSchema;

operations! {
    tag = "branches";
    listBranches: get "/repositories/{repository}/branches" => list,
        Requires(Action::ListBranches, REPO),
        openapi(
            params(("repository" = String, Path)),
            responses((status = 200, body = Listing<Ref>)),
        );
    /// Creates a branch; answers 201 with the commit id as text (as lakeFS).
    createBranch: post "/repositories/{repository}/branches" => create,
        InHandler,
        openapi(
            params(("repository" = String, Path)),
            request_body = BranchCreation,
            responses((status = 201, body = String, content_type = "text/html"), (status = 409, body = ErrorBody)),
        );
    getBranch: get "/repositories/{repository}/branches/{branch}" => get,
        Requires(Action::ReadBranch, BRANCH),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            responses((status = 200, body = Ref)),
        );
    deleteBranch: delete "/repositories/{repository}/branches/{branch}" => delete,
        Requires(Action::DeleteBranch, BRANCH),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            responses((status = 204), (status = 403, body = ErrorBody)),
        );
    resetBranch: put "/repositories/{repository}/branches/{branch}" => reset,
        Requires(Action::RevertBranch, BRANCH),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            request_body = ResetCreation,
            responses((status = 204)),
        );
    revertBranch: post "/repositories/{repository}/branches/{branch}/revert" => revert,
        Requires(Action::RevertBranch, BRANCH),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            request_body = PickCreation,
            responses((status = 204), (status = 409, body = ErrorBody)),
        );
    cherryPick: post "/repositories/{repository}/branches/{branch}/cherry-pick" => cherry_pick,
        Requires(Action::CreateCommit, BRANCH),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            request_body = PickCreation,
            responses((status = 201, body = CommitBody)),
        );
    diffBranch: get "/repositories/{repository}/branches/{branch}/diff" => diff,
        Requires(Action::ListObjects, REPO),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            responses((status = 200, body = Listing<Diff>)),
        );
    hardResetBranch: put "/repositories/{repository}/branches/{branch}/hard_reset" => hard_reset,
        Requires(Action::RevertBranch, BRANCH),
        openapi(
            tag = "experimental",
            params(("repository" = String, Path), ("branch" = String, Path), ("ref" = String, Query)),
            responses((status = 204)),
        );
}

/// Parses a branch name from the path.
pub fn branch_name(s: &str) -> ApiResult<BranchName> {
    Ok(BranchName::new(s)?)
}

#[derive(Debug, Deserialize)]
struct BranchListQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "super::models::de_opt_bool")]
    show_hidden: Option<bool>,
}

async fn list(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    q: web::Query<BranchListQuery>,
) -> ApiResult<web::Json<Listing<Ref>>> {
    let repo = repo_id(&path)?;
    let after = q.page.after.as_deref().filter(|a| !a.is_empty());
    let prefix = q.page.prefix.as_deref().unwrap_or("");
    let show_hidden = q.show_hidden.unwrap_or(false);
    let page = engine
        .list_branches_with(&repo, prefix, after, amount(q.page.amount), show_hidden)
        .await?;
    Ok(web::Json(Listing::from_page(page, |b| Ref {
        id: b.name.into_string(),
        commit_id: b.commit_id.into_string(),
    })))
}

/// `POST /branches` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BranchCreation {
    name: String,
    source: String,
    #[serde(default)]
    hidden: Option<bool>,
}

async fn create(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<BranchCreation>,
) -> ApiResult<HttpResponse> {
    let branch_arn = arn::branch(&path, &body.name);
    super::auth::require(&req, &[Permission::new(Action::CreateBranch, branch_arn)]).await?;
    let repo = repo_id(&path)?;
    let hidden = body.hidden.unwrap_or(false);
    let branch = super::auth::acting(&req, &engine)?
        .create_branch_with(&repo, branch_name(&body.name)?, &body.source, hidden)
        .await?;
    Ok(HttpResponse::Created()
        .content_type("text/html; charset=utf-8")
        .body(branch.commit_id.into_string()))
}

async fn get(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<Ref>> {
    let (repo, branch) = path.into_inner();
    let b = engine
        .get_branch(&repo_id(&repo)?, &branch_name(&branch)?)
        .await?;
    Ok(web::Json(Ref {
        id: b.name.into_string(),
        commit_id: b.commit_id.into_string(),
    }))
}

async fn delete(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    super::auth::acting(&req, &engine)?
        .delete_branch(&repo_id(&repo)?, &branch_name(&branch)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /branches/{branch}` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetCreation {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: Option<String>,
}

async fn reset(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: web::Json<ResetCreation>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let scope = match (body.kind.as_str(), body.path.as_deref()) {
        ("reset", _) => ResetScope::All,
        ("object", Some(p)) => ResetScope::Object(ObjectPath::new(p)?),
        ("common_prefix", Some(p)) => ResetScope::Prefix(p.to_owned()),
        ("object" | "common_prefix", None) => {
            return Err(ApiError::bad_request("path is required"))
        }
        (other, _) => {
            return Err(ApiError::bad_request(format!(
                "invalid reset type {other:?}"
            )))
        }
    };
    engine
        .reset_branch(&repo_id(&repo)?, &branch_name(&branch)?, scope)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
struct HardResetQuery {
    #[serde(rename = "ref")]
    reference: String,
}

async fn hard_reset(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    q: web::Query<HardResetQuery>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    engine
        .hard_reset_branch(&repo_id(&repo)?, &branch_name(&branch)?, &q.reference)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Overrides of a revert's or cherry-pick's commit.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CommitOverrides {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
}

/// `POST /revert` and `/cherry-pick` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PickCreation {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    parent_number: Option<u32>,
    #[serde(default)]
    commit_overrides: Option<CommitOverrides>,
}

fn pick_request(req: &HttpRequest, body: &PickCreation) -> ApiResult<PickRequest> {
    if body
        .commit_overrides
        .as_ref()
        .is_some_and(|o| o.message.is_some() || o.metadata.is_some())
    {
        return Err(ApiError::not_implemented("commit_overrides"));
    }
    let committer = super::auth::principal(req)?.id.into_string();
    Ok(PickRequest {
        parent_number: body.parent_number,
        committer,
    })
}

async fn revert(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<PickCreation>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let pick = pick_request(&req, &body)?;
    engine
        .revert(
            &repo_id(&repo)?,
            &branch_name(&branch)?,
            &body.reference,
            pick,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn cherry_pick(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<PickCreation>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let pick = pick_request(&req, &body)?;
    let commit = engine
        .cherry_pick(
            &repo_id(&repo)?,
            &branch_name(&branch)?,
            &body.reference,
            pick,
        )
        .await?;
    Ok(HttpResponse::Created().json(CommitBody::from(commit)))
}

/// `after`, `amount`, `prefix`, `delimiter` of diffs.
#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    delimiter: Option<String>,
}

impl DiffQuery {
    /// The domain's request.
    pub fn request(&self) -> DiffRequest {
        DiffRequest {
            prefix: self.page.prefix.clone().unwrap_or_default(),
            after: self.page.after.clone().filter(|a| !a.is_empty()),
            amount: amount(self.page.amount),
            delimiter: self.delimiter.clone().filter(|d| !d.is_empty()),
        }
    }
}

async fn diff(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    q: web::Query<DiffQuery>,
) -> ApiResult<web::Json<Listing<Diff>>> {
    let (repo, branch) = path.into_inner();
    let page = engine
        .diff_branch(&repo_id(&repo)?, &branch_name(&branch)?, &q.request())
        .await?;
    Ok(web::Json(Listing::from_page(page, Diff::uncommitted)))
}
