//! Direct data access: hand out a physical address, then link what the
//! client wrote there.

use super::branches::branch_name;
use super::config::ServerInfo;
use super::error::{ApiError, ApiResult};
use super::models::{de_opt_bool, ObjectStats};
use super::objects::{expires_at, object_path};
use super::repositories::repo_id;
use super::uploads::write_condition;
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::{Engine, LinkRequest};
use tarn_model::BlockKey;
use utoipa::ToSchema;

operations! {
    tag = "staging";
    getPhysicalAddress: get "/repositories/{repository}/branches/{branch}/staging/backing" => get_address,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("path" = String, Query)),
            responses((status = 200, body = StagingLocation)),
        );
    linkPhysicalAddress: put "/repositories/{repository}/branches/{branch}/staging/backing" => link,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("path" = String, Query)),
            request_body = StagingMetadata,
            responses((status = 200, body = ObjectStats)),
        );
}

#[derive(Debug, Deserialize)]
struct AddressQuery {
    path: String,
    #[serde(default, deserialize_with = "de_opt_bool")]
    presign: Option<bool>,
}

/// Where to write data for a path.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StagingLocation {
    #[serde(default)]
    physical_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    presigned_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    presigned_url_expiry: Option<i64>,
}

async fn get_address(
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String)>,
    q: web::Query<AddressQuery>,
) -> ApiResult<web::Json<StagingLocation>> {
    let (repo, branch) = path.into_inner();
    let repo = repo_id(&repo)?;
    engine.get_branch(&repo, &branch_name(&branch)?).await?;
    let object = object_path(&q.path)?;
    if let Some(expiry) = info.presign_for(q.presign) {
        let (uri, url) = engine.presign_new_address(&repo, &object, expiry).await?;
        return Ok(web::Json(StagingLocation {
            physical_address: Some(uri),
            presigned_url: Some(url),
            presigned_url_expiry: Some(expires_at(engine.now(), expiry)),
        }));
    }
    if q.presign == Some(true) {
        return Err(ApiError::not_implemented(
            "presigned staging on this block store",
        ));
    }
    let (_, uri) = engine.new_physical_address(&repo, &object).await?;
    Ok(web::Json(StagingLocation {
        physical_address: Some(uri),
        presigned_url: None,
        presigned_url_expiry: None,
    }))
}

/// `linkPhysicalAddress` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StagingMetadata {
    staging: StagingLocation,
    checksum: String,
    size_bytes: u64,
    #[serde(default)]
    user_metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    content_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LinkQuery {
    path: String,
}

async fn link(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<LinkQuery>,
    body: web::Json<StagingMetadata>,
) -> ApiResult<web::Json<ObjectStats>> {
    let (repo, branch) = path.into_inner();
    let (repo, branch, object) = (
        repo_id(&repo)?,
        branch_name(&branch)?,
        object_path(&q.path)?,
    );
    let ns = engine.get_repository(&repo).await?.storage_namespace;
    let body = body.into_inner();
    let address = body.staging.physical_address.unwrap_or_default();
    let prefix = format!("{}/", ns.as_str());
    let key = address.strip_prefix(&prefix).ok_or_else(|| {
        ApiError::bad_request("physical_address is not in the repository's storage namespace")
    })?;
    let request = LinkRequest {
        key: BlockKey::new(key)?,
        checksum: body.checksum,
        size: body.size_bytes,
        content_type: body.content_type,
        metadata: body.user_metadata.unwrap_or_default(),
        condition: write_condition(&req)?,
    };
    let entry = engine.link_object(&repo, &branch, &object, request).await?;
    Ok(web::Json(ObjectStats::object(
        object.into_string(),
        entry,
        &ns,
        true,
    )))
}
