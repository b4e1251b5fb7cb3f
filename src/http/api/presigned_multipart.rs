//! Presigned multipart uploads (lakeFS's experimental `/staging/pmpu`): the
//! client writes parts straight to S3 with presigned URLs, then Tarn
//! assembles and stages the object. Only where the block store presigns
//! (S3); elsewhere 501, as lakeFS answers.

use super::auth::require;
use super::branches::branch_name;
use super::config::ServerInfo;
use super::error::{ApiError, ApiResult};
use super::models::ObjectStats;
use super::objects::object_path;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::entry_headers::range_spec;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::Engine;
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::PartNumber;
use tarn_ports::CompletedPart;
use utoipa::ToSchema;

operations! {
    tag = "experimental";
    createPresignMultipartUpload: post "/repositories/{repository}/branches/{branch}/staging/pmpu" => create,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("path" = String, Query), ("parts" = Option<u32>, Query)),
            responses((status = 201, body = PresignMultipartUpload), (status = 501, body = ErrorBody)),
        );
    completePresignMultipartUpload: put "/repositories/{repository}/branches/{branch}/staging/pmpu/{uploadId}" => complete,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("uploadId" = String, Path), ("path" = String, Query)),
            request_body = CompletePresignMultipartUpload,
            responses((status = 200, body = ObjectStats), (status = 400, body = ErrorBody)),
        );
    abortPresignMultipartUpload: delete "/repositories/{repository}/branches/{branch}/staging/pmpu/{uploadId}" => abort,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("uploadId" = String, Path), ("path" = String, Query)),
            request_body = AbortPresignMultipartUpload,
            responses((status = 204), (status = 400, body = ErrorBody)),
        );
    uploadPart: put "/repositories/{repository}/branches/{branch}/staging/pmpu/{uploadId}/parts/{partNumber}" => part,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("uploadId" = String, Path), ("partNumber" = u32, Path), ("path" = String, Query)),
            request_body = UploadPartFrom,
            responses((status = 200, body = UploadTo), (status = 400, body = ErrorBody)),
        );
    uploadPartCopy: put "/repositories/{repository}/branches/{branch}/staging/pmpu/{uploadId}/parts/{partNumber}/copy" => part_copy,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("uploadId" = String, Path), ("partNumber" = u32, Path), ("path" = String, Query)),
            request_body = UploadPartCopyFrom,
            responses((status = 204, headers(("ETag" = String))), (status = 400, body = ErrorBody)),
        );
}

/// The `{partNumber}` of the path (read after the body, so that a bad body
/// is reported as for any other operation).
fn part_number(s: &str) -> ApiResult<PartNumber> {
    let n: u32 = s
        .parse()
        .map_err(|_| ApiError::bad_request(format!("partNumber {s:?}: not a number")))?;
    Ok(PartNumber::new(n)?)
}

fn unsupported() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "presign multipart upload API is not supported",
    )
}

/// The presign lifetime, or 501 where the block store cannot presign.
fn expiry(info: &ServerInfo) -> ApiResult<u64> {
    info.presign_for(Some(true)).ok_or_else(unsupported)
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    path: String,
    #[serde(default)]
    parts: Option<u32>,
}

/// A started upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresignMultipartUpload {
    upload_id: String,
    physical_address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    presigned_urls: Option<Vec<String>>,
}

async fn create(
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String)>,
    q: web::Query<CreateQuery>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let repo = repo_id(&repo)?;
    engine.get_repository(&repo).await?;
    let expiry = expiry(&info)?;
    let parts = q.parts.unwrap_or(0);
    if parts > u32::from(PartNumber::MAX) {
        return Err(ApiError::bad_request("parts can be between 0 and 10000"));
    }
    let upload = engine
        .create_presigned_upload(
            &repo,
            &branch_name(&branch)?,
            &object_path(&q.path)?,
            parts,
            expiry,
        )
        .await?;
    Ok(HttpResponse::Created().json(PresignMultipartUpload {
        upload_id: upload.upload_id,
        physical_address: upload.physical_address,
        presigned_urls: (parts > 0).then_some(upload.part_urls),
    }))
}

#[derive(Debug, Deserialize)]
struct PathQuery {
    path: String,
}

/// One uploaded part.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadPart {
    part_number: u32,
    etag: String,
}

/// `PUT .../pmpu/{uploadId}` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompletePresignMultipartUpload {
    physical_address: String,
    parts: Vec<UploadPart>,
    #[serde(default)]
    user_metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    content_type: Option<String>,
}

async fn complete(
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String, String)>,
    q: web::Query<PathQuery>,
    body: web::Json<CompletePresignMultipartUpload>,
) -> ApiResult<web::Json<ObjectStats>> {
    let (repo, branch, upload_id) = path.into_inner();
    let repo = repo_id(&repo)?;
    let ns = engine.get_repository(&repo).await?.storage_namespace;
    expiry(&info)?;
    let body = body.into_inner();
    if body.parts.is_empty() {
        return Err(ApiError::bad_request("parts are required"));
    }
    let parts = body
        .parts
        .into_iter()
        .map(|p| {
            Ok(CompletedPart {
                number: PartNumber::new(p.part_number)?,
                etag: p.etag,
            })
        })
        .collect::<Result<Vec<_>, tarn_model::InvalidValue>>()?;
    let (branch, object) = (branch_name(&branch)?, object_path(&q.path)?);
    let described = (
        body.content_type,
        body.user_metadata.unwrap_or_default(),
        BTreeMap::new(),
    );
    let entry = engine
        .complete_presigned_upload(
            &repo,
            (&branch, &object),
            (&upload_id, &body.physical_address),
            &parts,
            described,
        )
        .await?;
    Ok(web::Json(ObjectStats::object(
        object.into_string(),
        entry,
        &ns,
        true,
    )))
}

/// `DELETE .../pmpu/{uploadId}` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AbortPresignMultipartUpload {
    physical_address: String,
}

async fn abort(
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String, String)>,
    q: web::Query<PathQuery>,
    body: web::Json<AbortPresignMultipartUpload>,
) -> ApiResult<HttpResponse> {
    let (repo, _branch, upload_id) = path.into_inner();
    let repo = repo_id(&repo)?;
    engine.get_repository(&repo).await?;
    expiry(&info)?;
    engine
        .abort_presigned_upload(
            &repo,
            &object_path(&q.path)?,
            (&upload_id, &body.physical_address),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT .../parts/{partNumber}` body: the upload's address.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadPartFrom {
    physical_address: String,
}

/// A presigned part URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadTo {
    presigned_url: String,
}

async fn part(
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String, String, String)>,
    q: web::Query<PathQuery>,
    body: web::Json<UploadPartFrom>,
) -> ApiResult<web::Json<UploadTo>> {
    let (repo, _branch, upload_id, number) = path.into_inner();
    let repo = repo_id(&repo)?;
    // As lakeFS: no support check here; a store that cannot presign says so.
    let url = engine
        .presign_upload_part(
            &repo,
            &object_path(&q.path)?,
            (&upload_id, &body.physical_address),
            part_number(&number)?,
            info.presign_expiry_secs,
        )
        .await?;
    Ok(web::Json(UploadTo { presigned_url: url }))
}

/// Where a copied part comes from.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CopyPartSource {
    repository: String,
    #[serde(rename = "ref")]
    reference: String,
    path: String,
    #[serde(default)]
    range: Option<String>,
}

/// `PUT .../parts/{partNumber}/copy` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadPartCopyFrom {
    physical_address: String,
    copy_source: CopyPartSource,
}

async fn part_copy(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<(String, String, String, String)>,
    q: web::Query<PathQuery>,
    body: web::Json<UploadPartCopyFrom>,
) -> ApiResult<HttpResponse> {
    let (repo, _branch, upload_id, number) = path.into_inner();
    let body = body.into_inner();
    let src = body.copy_source;
    require(
        &req,
        &[
            Permission::new(Action::WriteObject, arn::object(&repo, &q.path)),
            Permission::new(Action::ReadObject, arn::object(&src.repository, &src.path)),
        ],
    )
    .await?;
    let repo = repo_id(&repo)?;
    let range = match src.range.as_deref() {
        None | Some("") => None,
        Some(r) => Some(range_spec(r).ok_or_else(|| {
            ApiError::bad_request(format!("range {r:?}: expected bytes=<first>-<last>"))
        })?),
    };
    let etag = engine
        .copy_upload_part(
            &repo,
            &object_path(&q.path)?,
            (&upload_id, &body.physical_address),
            part_number(&number)?,
            (
                &repo_id(&src.repository)?,
                &src.reference,
                &object_path(&src.path)?,
                range,
            ),
        )
        .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ETAG, format!("\"{}\"", etag.trim_matches('"'))))
        .finish())
}
