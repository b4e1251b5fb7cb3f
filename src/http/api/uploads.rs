//! Writing objects: upload (raw or multipart/form-data), delete, delete
//! many, copy, and user metadata updates.

use super::branches::branch_name;
use super::error::{ApiError, ApiResult};
use super::models::{de_opt_bool, ObjectStats};
use super::objects::object_path;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::body::{payload_stream, request_stream};
use crate::http::shared::write_headers;
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::Entity;
use tarn_domain::{Engine, Error, UploadRequest, WriteCondition};
use tarn_model::auth::{arn, Action, Permission};
use tarn_ports::ByteStream;
use utoipa::ToSchema;

/// User metadata travels as `x-lakefs-meta-<key>` headers.
const META_PREFIX: &str = "x-lakefs-meta-";
/// lakeFS's own metadata (`::lakefs::<key>`, e.g. lakectl local's
/// `::lakefs::client-mtime`) travels as `x-lakefs-internal-<key>`.
const INTERNAL_PREFIX: &str = "x-lakefs-internal-";
/// The most paths one `deleteObjects` call takes.
const MAX_DELETE: usize = 1000;

operations! {
    tag = "objects";
    uploadObject: post "/repositories/{repository}/branches/{branch}/objects" => upload,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("path" = String, Query)),
            request_body(content = Vec<u8>, content_type = "application/octet-stream"),
            responses((status = 201, body = ObjectStats), (status = 412, body = ErrorBody)),
        );
    deleteObject: delete "/repositories/{repository}/branches/{branch}/objects" => delete,
        Requires(Action::DeleteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("path" = String, Query)),
            responses((status = 204)),
        );
    deleteObjects: post "/repositories/{repository}/branches/{branch}/objects/delete" => delete_many,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            request_body = PathList,
            responses((status = 200, body = ObjectErrorList)),
        );
    copyObject: post "/repositories/{repository}/branches/{branch}/objects/copy" => copy,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("dest_path" = String, Query)),
            request_body = ObjectCopyCreation,
            responses((status = 201, body = ObjectStats)),
        );
    updateObjectUserMetadata: put "/repositories/{repository}/branches/{branch}/objects/stat/user_metadata" => update_metadata,
        Requires(Action::WriteObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("path" = String, Query)),
            request_body = UpdateObjectUserMetadata,
            responses((status = 201)),
        );
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    path: String,
    #[serde(default, rename = "storageClass")]
    #[allow(dead_code)]
    storage_class: Option<String>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    #[allow(dead_code)]
    force: Option<bool>,
}

/// `If-None-Match: *` and `If-Match: <etag>` as a write condition.
pub fn write_condition(req: &HttpRequest) -> ApiResult<WriteCondition> {
    Ok(write_headers::write_condition(req.headers())?)
}

fn declared_size(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

async fn upload(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<UploadQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let (repo, branch, object) = (
        repo_id(&repo)?,
        branch_name(&branch)?,
        object_path(&q.path)?,
    );
    let condition = write_condition(&req)?;
    let mut metadata = write_headers::user_metadata(req.headers(), META_PREFIX, None)?;
    for (key, value) in write_headers::user_metadata(req.headers(), INTERNAL_PREFIX, None)? {
        metadata.insert(format!("::lakefs::{key}"), value);
    }
    let is_form = req
        .content_type()
        .eq_ignore_ascii_case("multipart/form-data");
    let (body, content_type, size) = if is_form {
        let (body, content_type) = form_content(&req, payload).await?;
        (body, content_type, None)
    } else {
        let ct = Some(req.content_type().to_owned()).filter(|c| !c.is_empty());
        (payload_stream(payload), ct, declared_size(&req))
    };
    let request = UploadRequest {
        size,
        content_type,
        metadata,
        tags: BTreeMap::new(),
        condition,
    };
    let (entry, ns) = engine
        .upload_object_in(&repo, &branch, &object, body, request)
        .await?;
    Ok(HttpResponse::Created().json(ObjectStats::object(object.into_string(), entry, &ns, true)))
}

/// The part named `content` of a `multipart/form-data` body, streamed.
async fn form_content(
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<(ByteStream, Option<String>)> {
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = form.next().await {
        let field =
            field.map_err(|e| ApiError::bad_request(format!("invalid multipart body: {e}")))?;
        if field.name() != Some("content") {
            continue;
        }
        let content_type = field.content_type().map(ToString::to_string);
        // The rest of the form is not read: `content` is the object.
        // The field reads through the form: both live as long as the stream.
        let owned = futures::stream::unfold((form, field), |(form, mut field)| async move {
            field.next().await.map(|item| (item, (form, field)))
        });
        return Ok((request_stream(Box::pin(owned)), content_type));
    }
    Err(ApiError::bad_request(
        "multipart body has no part named 'content'",
    ))
}

async fn delete(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    q: web::Query<UploadQuery>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    match engine
        .delete_object(
            &repo_id(&repo)?,
            &branch_name(&branch)?,
            &object_path(&q.path)?,
        )
        .await
    {
        // Deleting what is not there is done already (as lakeFS).
        Ok(())
        | Err(Error::NotFound {
            entity: Entity::Object,
            ..
        }) => Ok(HttpResponse::NoContent().finish()),
        Err(e) => Err(e.into()),
    }
}

/// `deleteObjects` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PathList {
    paths: Vec<String>,
}

/// One path that could not be deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectError {
    status_code: u16,
    message: String,
    path: String,
}

/// `deleteObjects` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectErrorList {
    errors: Vec<ObjectError>,
}

async fn delete_many(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: web::Json<PathList>,
) -> ApiResult<web::Json<ObjectErrorList>> {
    if body.paths.len() > MAX_DELETE {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_DELETE} paths per request"
        )));
    }
    // As lakeFS: every path needs fs:DeleteObject; one refused refuses all.
    let wanted: Vec<Permission> = body
        .paths
        .iter()
        .map(|p| Permission::new(Action::DeleteObject, arn::object(&path.0, p)))
        .collect();
    super::auth::require(&req, &wanted).await?;
    let (repo, branch) = path.into_inner();
    let (repo, branch) = (repo_id(&repo)?, branch_name(&branch)?);
    let mut errors = Vec::new();
    for p in &body.paths {
        let result = match object_path(p) {
            Ok(object) => match engine.delete_object(&repo, &branch, &object).await {
                Ok(())
                | Err(Error::NotFound {
                    entity: Entity::Object,
                    ..
                }) => Ok(()),
                Err(e) => Err(ApiError::from(e)),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            use actix_web::ResponseError;
            errors.push(ObjectError {
                status_code: e.status_code().as_u16(),
                message: e.to_string(),
                path: p.clone(),
            });
        }
    }
    Ok(web::Json(ObjectErrorList { errors }))
}

#[derive(Debug, Deserialize)]
struct CopyQuery {
    dest_path: String,
}

/// `copyObject` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ObjectCopyCreation {
    src_path: String,
    #[serde(default)]
    src_ref: Option<String>,
}

async fn copy(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    q: web::Query<CopyQuery>,
    body: web::Json<ObjectCopyCreation>,
) -> ApiResult<HttpResponse> {
    super::auth::require(
        &req,
        &[
            Permission::new(Action::ReadObject, arn::object(&path.0, &body.src_path)),
            Permission::new(Action::WriteObject, arn::object(&path.0, &q.dest_path)),
        ],
    )
    .await?;
    let (repo, branch) = path.into_inner();
    let (repo, dest) = (repo_id(&repo)?, branch_name(&branch)?);
    let src_ref = body
        .src_ref
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| dest.to_string());
    let dest_path = object_path(&q.dest_path)?;
    let entry = engine
        .copy_object(
            &repo,
            &src_ref,
            &object_path(&body.src_path)?,
            &dest,
            &dest_path,
        )
        .await?;
    let ns = engine.get_repository(&repo).await?.storage_namespace;
    Ok(HttpResponse::Created().json(ObjectStats::object(
        dest_path.into_string(),
        entry,
        &ns,
        true,
    )))
}

/// `updateObjectUserMetadata` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateObjectUserMetadata {
    set: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct MetadataQuery {
    path: String,
}

async fn update_metadata(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    q: web::Query<MetadataQuery>,
    body: web::Json<UpdateObjectUserMetadata>,
) -> ApiResult<HttpResponse> {
    let (repo, branch) = path.into_inner();
    let set = body.into_inner().set;
    engine
        .update_user_metadata(
            &repo_id(&repo)?,
            &branch_name(&branch)?,
            &object_path(&q.path)?,
            set,
        )
        .await?;
    Ok(HttpResponse::Created().finish())
}
