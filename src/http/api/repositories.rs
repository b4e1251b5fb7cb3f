//! Repositories: list, create, get, delete, metadata.

use super::auth::AuthState;
use super::error::{ApiError, ApiResult};
use super::models::{amount, de_opt_bool, Listing, PageQuery};
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::visibility::visible_repositories;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::Engine;
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::{BranchName, Repository, RepositoryId, StorageNamespace};
use utoipa::ToSchema;

operations! {
    tag = "repositories";
    listRepositories: get "/repositories" => list,
        Requires(Action::ListRepositories, ANY),
        openapi(responses((status = 200, body = Listing<RepositoryBody>)));
    createRepository: post "/repositories" => create,
        InHandler,
        openapi(
            request_body = RepositoryCreation,
            responses((status = 201, body = RepositoryBody), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
        );
    getRepository: get "/repositories/{repository}" => get,
        Requires(Action::ReadRepository, REPO),
        openapi(
            params(("repository" = String, Path)),
            responses((status = 200, body = RepositoryBody), (status = 404, body = ErrorBody)),
        );
    deleteRepository: delete "/repositories/{repository}" => delete,
        Requires(Action::DeleteRepository, REPO),
        openapi(
            params(("repository" = String, Path)),
            responses((status = 204), (status = 404, body = ErrorBody)),
        );
    getRepositoryMetadata: get "/repositories/{repository}/metadata" => metadata,
        Requires(Action::ReadRepository, REPO),
        openapi(
            params(("repository" = String, Path)),
            responses((status = 200, body = BTreeMap<String, String>)),
        );
    setRepositoryMetadata: post "/repositories/{repository}/metadata" => set_metadata,
        Requires(Action::UpdateRepository, REPO),
        openapi(
            params(("repository" = String, Path)),
            request_body = RepositoryMetadataSet,
            responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
    deleteRepositoryMetadata: delete "/repositories/{repository}/metadata" => delete_metadata,
        Requires(Action::UpdateRepository, REPO),
        openapi(
            params(("repository" = String, Path)),
            request_body = RepositoryMetadataKeys,
            responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
}

/// Parses a repository id from the path.
pub fn repo_id(s: &str) -> ApiResult<RepositoryId> {
    Ok(RepositoryId::new(s)?)
}

/// A repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryBody {
    id: String,
    creation_date: i64,
    default_branch: String,
    storage_namespace: String,
    storage_id: String,
    read_only: bool,
}

impl From<Repository> for RepositoryBody {
    fn from(r: Repository) -> Self {
        Self {
            id: r.id.into_string(),
            creation_date: r.creation_date.unix_seconds(),
            default_branch: r.default_branch.into_string(),
            storage_namespace: r.storage_namespace.as_str().to_owned(),
            storage_id: String::new(),
            read_only: r.read_only,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    search: Option<String>,
}

async fn list(
    req: HttpRequest,
    engine: web::Data<Engine>,
    auth: web::Data<AuthState>,
    q: web::Query<ListQuery>,
) -> ApiResult<web::Json<Listing<RepositoryBody>>> {
    let who = super::auth::principal(&req)?;
    let search = q.search.as_deref().unwrap_or("");
    let page = visible_repositories(
        &engine,
        &auth.auth,
        &who.id,
        q.page.prefix.as_deref().unwrap_or(""),
        q.page.after.as_deref().filter(|a| !a.is_empty()),
        amount(q.page.amount),
        |r| r.id.as_str().contains(search),
    )
    .await?;
    Ok(web::Json(Listing::from_page(page, RepositoryBody::from)))
}

/// `POST /repositories` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RepositoryCreation {
    name: String,
    storage_namespace: String,
    #[serde(default)]
    default_branch: Option<String>,
    #[serde(default)]
    read_only: Option<bool>,
    #[serde(default)]
    sample_data: Option<bool>,
    #[serde(default)]
    storage_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    #[serde(default, deserialize_with = "de_opt_bool")]
    bare: Option<bool>,
}

async fn create(
    req: HttpRequest,
    engine: web::Data<Engine>,
    q: web::Query<CreateQuery>,
    body: web::Json<RepositoryCreation>,
) -> ApiResult<HttpResponse> {
    // As lakeFS: creating needs the repository and the namespace it claims.
    super::auth::require(
        &req,
        &[
            Permission::new(Action::CreateRepository, arn::repository(&body.name)),
            Permission::new(
                Action::AttachStorageNamespace,
                arn::namespace(&body.storage_namespace),
            ),
        ],
    )
    .await?;
    let id = repo_id(&body.name)?;
    // As lakeFS: an existing repository answers 409 before anything else is
    // looked at (a restore re-runs creation and must learn this first).
    match engine.get_repository(&id).await {
        Ok(_) => {
            return Err(tarn_domain::Error::AlreadyExists {
                entity: tarn_domain::Entity::Repository,
                name: id.into_string(),
            }
            .into())
        }
        Err(tarn_domain::Error::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(storage) = body.storage_id.as_deref() {
        if !storage.is_empty() && storage != "default" {
            return Err(ApiError::bad_request(format!(
                "storage id {storage:?}: invalid value: this server has one block store (\"\" or \"default\")"
            )));
        }
    }
    let ns = StorageNamespace::new(&body.storage_namespace)?;
    let branch = BranchName::new(
        body.default_branch
            .as_deref()
            .filter(|b| !b.is_empty())
            .unwrap_or("main"),
    )?;
    let read_only = body.read_only.unwrap_or(false);
    if q.bare == Some(true) {
        let repo = engine
            .create_bare_repository(id, ns, branch, read_only)
            .await?;
        return Ok(HttpResponse::Created().json(RepositoryBody::from(repo)));
    }
    let repo = engine
        .create_repository_with(id, ns, branch, read_only)
        .await?;
    if body.sample_data == Some(true) {
        let committer = super::auth::principal(&req)?.id.into_string();
        crate::sample_data::populate(&engine, &repo.id, &repo.default_branch, &committer).await?;
    }
    Ok(HttpResponse::Created().json(RepositoryBody::from(repo)))
}

async fn get(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> ApiResult<web::Json<RepositoryBody>> {
    let repo = engine.get_repository(&repo_id(&path)?).await?;
    Ok(web::Json(repo.into()))
}

async fn delete(
    engine: web::Data<Engine>,
    runs: web::Data<crate::actions::ActionRuns>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let repo = repo_id(&path)?;
    engine.delete_repository(&repo).await?;
    // Its action runs go with it: a new repository of the same name starts
    // with none.
    runs.0
        .delete_repository(&repo)
        .await
        .map_err(tarn_domain::Error::from)?;
    Ok(HttpResponse::NoContent().finish())
}

async fn metadata(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> ApiResult<web::Json<BTreeMap<String, String>>> {
    Ok(web::Json(
        engine.repository_metadata(&repo_id(&path)?).await?,
    ))
}

/// `POST /repositories/{repository}/metadata` body: keys to set.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RepositoryMetadataSet {
    metadata: BTreeMap<String, String>,
}

/// `DELETE /repositories/{repository}/metadata` body: keys to remove.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RepositoryMetadataKeys {
    keys: Vec<String>,
}

async fn set_metadata(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<RepositoryMetadataSet>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    engine
        .set_repository_metadata(&repo_id(&path)?, body.metadata)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_metadata(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<RepositoryMetadataKeys>,
) -> ApiResult<HttpResponse> {
    engine
        .delete_repository_metadata(&repo_id(&path)?, &body.keys)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
