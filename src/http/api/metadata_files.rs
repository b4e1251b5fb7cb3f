//! The committed tree files (lakeFS's "metadata" endpoints): where a range or
//! metarange lives in the repository's namespace, and its bytes.

use super::auth::require;
use super::config::ServerInfo;
use super::error::{ApiError, ApiResult};
use super::models::de_opt_bool;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::entry_headers::get_response;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::{Engine, TreeFile};
use tarn_model::auth::{arn, Action, Permission};
use utoipa::ToSchema;

operations! {
    tag = "metadata";
    getMetaRange: get "/repositories/{repository}/metadata/meta_range/{meta_range}" => meta_range,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("meta_range" = String, Path)),
            responses((status = 200, body = StorageUri), (status = 404, body = ErrorBody)),
        );
    getRange: get "/repositories/{repository}/metadata/range/{range}" => range,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("range" = String, Path)),
            responses((status = 200, body = StorageUri), (status = 404, body = ErrorBody)),
        );
    getMetadataObject: get "/repositories/{repository}/metadata/object/{type}/{object_id}" => object,
        InHandler,
        openapi(
            tag = "internal",
            params(("repository" = String, Path), ("type" = String, Path), ("object_id" = String, Path)),
            responses((status = 200), (status = 302), (status = 410, body = ErrorBody)),
        );
}

/// Where a tree file is, relative to the repository's namespace.
#[derive(Debug, Serialize, ToSchema)]
pub struct StorageUri {
    location: String,
}

/// As lakeFS: listing objects and reading the repository, both.
async fn may_read_trees(req: &HttpRequest, repo: &str) -> ApiResult<()> {
    let resource = arn::repository(repo);
    require(
        req,
        &[
            Permission::new(Action::ListObjects, resource.clone()),
            Permission::new(Action::ReadRepository, resource),
        ],
    )
    .await
}

async fn locate(
    req: HttpRequest,
    engine: &Engine,
    (repo, id): (String, String),
    kind: TreeFile,
) -> ApiResult<HttpResponse> {
    may_read_trees(&req, &repo).await?;
    engine.get_repository(&repo_id(&repo)?).await?;
    let location = engine.tree_file_key(kind, &id)?.as_str().to_owned();
    Ok(HttpResponse::Ok()
        .insert_header((header::LOCATION, location.clone()))
        .json(StorageUri { location }))
}

async fn meta_range(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    locate(req, &engine, path.into_inner(), TreeFile::MetaRange).await
}

async fn range(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    locate(req, &engine, path.into_inner(), TreeFile::Range).await
}

#[derive(Debug, Deserialize)]
struct ObjectQuery {
    #[serde(default, deserialize_with = "de_opt_bool")]
    presign: Option<bool>,
}

/// A tree file's bytes, or with `presign=true` a redirect to a presigned URL.
async fn object(
    req: HttpRequest,
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String, String)>,
    q: web::Query<ObjectQuery>,
) -> ApiResult<HttpResponse> {
    let (repo, kind, id) = path.into_inner();
    may_read_trees(&req, &repo).await?;
    let kind = match kind.as_str() {
        "range" => TreeFile::Range,
        "meta_range" => TreeFile::MetaRange,
        other => {
            return Err(ApiError::bad_request(format!(
                "type {other:?}: must be range or meta_range"
            )))
        }
    };
    let repo = repo_id(&repo)?;
    if q.presign == Some(true) {
        let Some(expiry) = info.presign_for(Some(true)) else {
            return Err(ApiError::bad_request(
                "presign: operation not supported by this block store",
            ));
        };
        let url = engine.presign_tree_file(&repo, kind, &id, expiry).await?;
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .finish());
    }
    let read = engine.read_tree_file(&repo, kind, &id).await?;
    let mut resp = HttpResponse::Ok();
    resp.insert_header((header::CONTENT_TYPE, "application/octet-stream"));
    Ok(get_response(resp, read))
}
