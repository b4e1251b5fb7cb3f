//! Direct data access: hand out a physical address, then link what the
//! client wrote there.

use super::branches::branch_name;
use super::config::ServerInfo;
use super::error::{ApiError, ApiResult};
use super::models::{de_opt_bool, ObjectStats};
use super::objects::{expires_at, object_path};
use super::repositories::repo_id;
use super::uploads::write_condition;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::{Engine, LinkRequest};
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::{BlockKey, Entry, PhysicalAddress, StorageNamespace, Timestamp};
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
    stageObject: put "/repositories/{repository}/branches/{branch}/objects" => stage,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            tag = "internal",
            params(("repository" = String, Path), ("branch" = String, Path), ("path" = String, Query)),
            request_body = ObjectStageCreation,
            responses((status = 201, body = ObjectStats), (status = 400, body = ErrorBody)),
        );
    uploadObjectPreflight: get "/repositories/{repository}/branches/{branch}/objects/stage_allowed" => preflight,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            tag = "internal",
            params(("repository" = String, Path), ("branch" = String, Path), ("path" = String, Query)),
            responses((status = 204)),
        );
}

/// Whether the caller may upload to `path`: the guard has said so (as
/// lakeFS, nothing about the branch is checked; `path` is required).
async fn preflight(q: web::Query<LinkQuery>) -> ApiResult<HttpResponse> {
    object_path(&q.path)?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT .../objects` body: an entry for data already in the object store.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ObjectStageCreation {
    physical_address: String,
    checksum: String,
    size_bytes: i64,
    #[serde(default)]
    mtime: Option<i64>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    content_type: Option<String>,
    /// lakeFS lets it bypass a read-only repository; Tarn accepts the field
    /// and refuses writes to read-only repositories all the same.
    #[serde(default)]
    #[allow(dead_code)]
    force: Option<bool>,
}

/// The address of an entry for `uri`: relative when it is data in the
/// repository's own namespace (`<namespace>/data/...`), else full. The rest
/// of the repository's own namespace (its tree files, refs dumps) is never
/// an object's data.
fn address_of(uri: &str, ns: &StorageNamespace, scheme: &str) -> ApiResult<PhysicalAddress> {
    let own = format!("{}/", ns.as_str());
    if let Some(key) = uri.strip_prefix(&own) {
        if !key.starts_with("data/") {
            return Err(ApiError::bad_request(
                "physical address is the repository's own metadata, not object data",
            ));
        }
        return Ok(PhysicalAddress::Relative(BlockKey::new(key)?));
    }
    if !uri.starts_with(&format!("{scheme}://")) {
        return Err(ApiError::bad_request(format!(
            "physical address is not valid for block adapter: {scheme}"
        )));
    }
    let rest = &uri[scheme.len() + 3..];
    let (location, key) = rest.split_once('/').ok_or_else(|| {
        ApiError::bad_request(format!(
            "physical address {uri:?} names no object: {scheme}://<location>/<key>"
        ))
    })?;
    Ok(PhysicalAddress::Full {
        namespace: StorageNamespace::new(format!("{scheme}://{location}"))?,
        key: BlockKey::new(key)?,
    })
}

/// The `scheme://location` an address is in (all of it, if it has no key).
fn namespace_of(uri: &str) -> &str {
    match uri.find("://") {
        Some(i) => match uri[i + 3..].find('/') {
            Some(j) => &uri[..i + 3 + j],
            None => uri,
        },
        None => uri,
    }
}

/// Stages an entry for data already written anywhere the block store reaches
/// (lakeFS's deprecated `stageObject`): no data moves. Its address is kept as
/// given: outside the repository's namespace it is a full address, which
/// garbage collection never deletes.
///
/// Unlike lakeFS, an address Tarn did not give out for this path (see
/// `getPhysicalAddress`) also needs `fs:ImportFromStorage` on its namespace:
/// otherwise a writer could stage, and then read, any object the server's
/// own credentials reach (another repository's data, another path's).
async fn stage(
    req: HttpRequest,
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String)>,
    q: web::Query<LinkQuery>,
    body: web::Json<ObjectStageCreation>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let (repo, branch, object) = (
        repo_id(&repo)?,
        branch_name(&branch)?,
        object_path(&q.path)?,
    );
    let ns = engine.get_repository(&repo).await?.storage_namespace;
    let body = body.into_inner();
    // Permission before validation: a caller without it learns nothing.
    let uri = body.physical_address.as_str();
    let given_out = uri
        .strip_prefix(&format!("{}/", ns.as_str()))
        .and_then(|key| BlockKey::new(key).ok())
        .is_some_and(|key| engine.is_link_address(&repo, &object, &key));
    if !given_out {
        super::auth::require(
            &req,
            &[Permission::new(
                Action::ImportFromStorage,
                arn::namespace(namespace_of(uri)),
            )],
        )
        .await?;
    }
    let address = address_of(uri, &ns, &info.blockstore_type)?;
    let size = u64::try_from(body.size_bytes)
        .map_err(|_| ApiError::bad_request("size_bytes must not be negative"))?;
    let entry = Entry {
        address,
        size,
        checksum: body.checksum,
        last_modified: match body.mtime {
            Some(secs) => Timestamp::from_unix_seconds(secs),
            None => engine.now(),
        },
        content_type: body.content_type.filter(|c| !c.is_empty()),
        metadata: body.metadata.unwrap_or_default(),
        tags: BTreeMap::new(),
    };
    engine
        .stage_object(&repo, &branch, &object, entry.clone())
        .await?;
    // As lakeFS: the answer carries no user metadata.
    let stats = ObjectStats::object(object.into_string(), entry, &ns, false);
    Ok(HttpResponse::Created().json(stats))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_their_namespace() {
        assert_eq!(namespace_of("s3://bucket/a/b"), "s3://bucket");
        assert_eq!(namespace_of("local://ns/x"), "local://ns");
        assert_eq!(namespace_of("s3://bucket"), "s3://bucket");
        assert_eq!(namespace_of("garbage"), "garbage");
        let ns = StorageNamespace::new("s3://b/repo").unwrap();
        assert!(address_of("s3://b/repo/_tarn/range/x", &ns, "s3").is_err());
        assert!(matches!(
            address_of("s3://b/repo/data/h1/x", &ns, "s3"),
            Ok(PhysicalAddress::Relative(_))
        ));
        assert!(matches!(
            address_of("s3://other/key", &ns, "s3"),
            Ok(PhysicalAddress::Full { .. })
        ));
        assert!(address_of("local://other/key", &ns, "s3").is_err());
    }
}
