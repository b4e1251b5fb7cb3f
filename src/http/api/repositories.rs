//! Repositories: list, create, get, delete, metadata.

use super::error::{ApiError, ApiResult};
use super::models::{amount, de_opt_bool, Listing, PageQuery};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::Engine;
use tarn_model::{BranchName, Repository, RepositoryId, StorageNamespace};
use utoipa::ToSchema;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/repositories").get(list).post(create))
        .service(
            super::resource("/repositories/{repository}")
                .get(get)
                .delete(delete),
        )
        .service(super::resource("/repositories/{repository}/metadata").get(metadata));
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

#[utoipa::path(get, path = "/api/v1/repositories", tag = "repositories", operation_id = "listRepositories",
    responses((status = 200, body = Listing<RepositoryBody>)))]
async fn list(
    engine: web::Data<Engine>,
    q: web::Query<ListQuery>,
) -> ApiResult<web::Json<Listing<RepositoryBody>>> {
    let prefix = q.page.prefix.as_deref().unwrap_or("");
    let after = q.page.after.as_deref().filter(|a| !a.is_empty());
    let page = engine
        .list_repositories(prefix, after, amount(q.page.amount))
        .await?;
    let mut listing = Listing::from_page(page, RepositoryBody::from);
    if let Some(search) = q.search.as_deref().filter(|s| !s.is_empty()) {
        listing.results.retain(|r| r.id.contains(search));
        listing.pagination.results = listing.results.len();
    }
    Ok(web::Json(listing))
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
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    #[serde(default, deserialize_with = "de_opt_bool")]
    bare: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/repositories", tag = "repositories", operation_id = "createRepository",
    request_body = RepositoryCreation,
    responses((status = 201, body = RepositoryBody), (status = 400, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)))]
async fn create(
    engine: web::Data<Engine>,
    q: web::Query<CreateQuery>,
    body: web::Json<RepositoryCreation>,
) -> ApiResult<HttpResponse> {
    if q.bare == Some(true) {
        return Err(ApiError::not_implemented("createRepository with bare=true"));
    }
    if body.sample_data == Some(true) {
        return Err(ApiError::not_implemented(
            "createRepository with sample_data",
        ));
    }
    let id = repo_id(&body.name)?;
    let ns = StorageNamespace::new(&body.storage_namespace)?;
    let branch = BranchName::new(
        body.default_branch
            .as_deref()
            .filter(|b| !b.is_empty())
            .unwrap_or("main"),
    )?;
    let read_only = body.read_only.unwrap_or(false);
    let repo = engine
        .create_repository_with(id, ns, branch, read_only)
        .await?;
    Ok(HttpResponse::Created().json(RepositoryBody::from(repo)))
}

#[utoipa::path(get, path = "/api/v1/repositories/{repository}", tag = "repositories", operation_id = "getRepository",
    params(("repository" = String, Path)), responses((status = 200, body = RepositoryBody), (status = 404, body = super::error::ErrorBody)))]
async fn get(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> ApiResult<web::Json<RepositoryBody>> {
    let repo = engine.get_repository(&repo_id(&path)?).await?;
    Ok(web::Json(repo.into()))
}

#[utoipa::path(delete, path = "/api/v1/repositories/{repository}", tag = "repositories", operation_id = "deleteRepository",
    params(("repository" = String, Path)), responses((status = 204), (status = 404, body = super::error::ErrorBody)))]
async fn delete(engine: web::Data<Engine>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    engine.delete_repository(&repo_id(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/repositories/{repository}/metadata", tag = "repositories", operation_id = "getRepositoryMetadata",
    params(("repository" = String, Path)), responses((status = 200, body = BTreeMap<String, String>)))]
async fn metadata(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> ApiResult<web::Json<BTreeMap<String, String>>> {
    engine.get_repository(&repo_id(&path)?).await?;
    Ok(web::Json(BTreeMap::new()))
}
