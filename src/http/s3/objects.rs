//! Objects through the gateway: Get, Head, Put, Copy, Delete, DeleteObjects.

use super::error::{s3_err, S3Error, S3Result};
use super::request::{bucket_repository, split_key, write_err, write_target, Ctx};
use super::xml::{self, to_xml};
use crate::http::shared::entry_headers::{
    etag_of, get_response, head_response, http_date, parse_range,
};
use crate::http::shared::write_headers;
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use std::collections::BTreeMap;
use tarn_domain::Entity;
use tarn_domain::{CopyChanges, Error, UploadRequest, WriteCondition};
use tarn_model::auth::{Action, Permission};
use tarn_model::{Entry, RepositoryId};
use tarn_ports::ByteStream;
use tarn_s3_protocol::ErrorCode;

const META_PREFIX: &str = "x-amz-meta-";

/// `x-amz-meta-*` headers, at most 2 KiB (S3's limit).
pub fn user_metadata(ctx: &Ctx<'_>) -> S3Result<BTreeMap<String, String>> {
    let limit = Some(write_headers::S3_MAX_METADATA);
    Ok(write_headers::user_metadata(
        ctx.req.headers(),
        META_PREFIX,
        limit,
    )?)
}

/// `If-None-Match: *` / `If-Match` on writes.
pub fn write_condition(ctx: &Ctx<'_>) -> S3Result<WriteCondition> {
    Ok(write_headers::write_condition(ctx.req.headers())?)
}

fn object_headers(resp: &mut actix_web::HttpResponseBuilder, e: &Entry, ctx: &Ctx<'_>) {
    let content_type = ctx
        .param("response-content-type")
        .map(str::to_owned)
        .or_else(|| e.content_type.clone())
        .unwrap_or_else(|| "application/octet-stream".into());
    resp.insert_header((header::ETAG, etag_of(e)))
        .insert_header((header::LAST_MODIFIED, http_date(e)))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if let Some(count) = super::tagging::count_header(&e.tags) {
        resp.insert_header(count);
    }
    for (param, name) in [
        ("response-cache-control", header::CACHE_CONTROL),
        ("response-content-disposition", header::CONTENT_DISPOSITION),
        ("response-content-encoding", header::CONTENT_ENCODING),
        ("response-content-language", header::CONTENT_LANGUAGE),
        ("response-expires", header::EXPIRES),
    ] {
        if let Some(v) = ctx.param(param) {
            resp.insert_header((name, v.to_owned()));
        }
    }
    for (k, v) in &e.metadata {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(format!("{META_PREFIX}{k}").as_bytes()),
            header::HeaderValue::from_str(v),
        ) {
            resp.insert_header((name, value));
        }
    }
}

/// Evaluates If-Match / If-None-Match / If-(Un)Modified-Since on reads.
fn read_precondition(ctx: &Ctx<'_>, e: &Entry) -> Option<StatusCode> {
    let matches = |v: &str| {
        v.split(',')
            .any(|t| t.trim() == "*" || t.trim().trim_matches('"') == e.checksum)
    };
    let modified = e.last_modified.unix_seconds();
    let since = |name| {
        ctx.header(name)
            .and_then(|v| v.parse::<header::HttpDate>().ok())
            .and_then(|d| {
                std::time::SystemTime::from(d)
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
            })
            .map(|d| d.as_secs() as i64)
    };
    if let Some(v) = ctx.header("if-match") {
        if !matches(v) {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    } else if since("if-unmodified-since").is_some_and(|t| modified > t) {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    if let Some(v) = ctx.header("if-none-match") {
        if matches(v) {
            return Some(StatusCode::NOT_MODIFIED);
        }
    } else if since("if-modified-since").is_some_and(|t| modified <= t) {
        return Some(StatusCode::NOT_MODIFIED);
    }
    None
}

/// GetObject and HeadObject.
pub async fn get(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    with_body: bool,
) -> S3Result<HttpResponse> {
    let repo = bucket_repository(bucket)?;
    let (reference, path) = ctx.bucket_first(bucket, split_key(bucket, key)).await?;
    let entry = ctx
        .engine
        .stat_object(&repo, &reference, &path)
        .await
        .map_err(s3_err(bucket, key))?;
    match read_precondition(ctx, &entry) {
        Some(StatusCode::NOT_MODIFIED) => {
            return Ok(HttpResponse::NotModified()
                .insert_header((header::ETAG, etag_of(&entry)))
                .finish())
        }
        Some(_) => {
            return Err(S3Error::new(
                ErrorCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            ))
        }
        None => {}
    }
    let range = parse_range(ctx.req);
    let mut resp = HttpResponse::Ok();
    object_headers(&mut resp, &entry, ctx);
    if !with_body {
        return head_response(resp, entry.size, range).ok_or_else(|| {
            S3Error::new(
                ErrorCode::InvalidRange,
                "The requested range is not satisfiable",
            )
        });
    }
    let read = ctx
        .engine
        .read_object(&repo, &reference, &path, range)
        .await
        .map_err(s3_err(bucket, key))?;
    Ok(get_response(resp, read.data))
}

/// PutObject.
pub async fn put(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    body: ByteStream,
    size: Option<u64>,
) -> S3Result<HttpResponse> {
    let target = write_target(bucket, key).and_then(|target| {
        let request = UploadRequest {
            size,
            content_type: ctx.header("content-type").map(str::to_owned),
            metadata: user_metadata(ctx)?,
            tags: super::tagging::header_tags(ctx)?.unwrap_or_default(),
            condition: write_condition(ctx)?,
        };
        Ok((target, request))
    });
    let ((repo, branch, path), request) = ctx.bucket_first(bucket, target).await?;
    let entry = ctx
        .engine
        .upload_object(&repo, &branch, &path, body, request)
        .await
        .map_err(write_err(bucket, key))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag_of(&entry)))
        .finish())
}

/// The source of a copy: `x-amz-copy-source: /<bucket>/<ref>/<path>` (URL-encoded).
pub fn copy_source(ctx: &Ctx<'_>) -> S3Result<(String, String)> {
    decoded_copy_source(ctx.req)
}

/// [`copy_source`] of a request.
pub fn decoded_copy_source(req: &actix_web::HttpRequest) -> S3Result<(String, String)> {
    let raw = req
        .headers()
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let decoded = super::router::decode(raw.split('?').next().unwrap_or(raw), "x-amz-copy-source")
        .map_err(|e| S3Error::invalid_argument(e.to_string()))?;
    let trimmed = decoded.trim_start_matches('/');
    let (bucket, key) = trimmed.split_once('/').ok_or_else(|| {
        S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: /bucket/ref/path",
        )
    })?;
    Ok((bucket.to_owned(), key.to_owned()))
}

/// CopyObject: across branches and repositories; metadata is copied unless
/// `x-amz-metadata-directive: REPLACE`.
pub async fn copy(ctx: &Ctx<'_>, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let (repo, branch, path) = ctx.bucket_first(bucket, write_target(bucket, key)).await?;
    let (src_bucket, src_key) = copy_source(ctx)?;
    let src_repo = bucket_repository(&src_bucket)?;
    let (src_ref, src_path) = ctx
        .bucket_first(&src_bucket, split_key(&src_bucket, &src_key))
        .await?;
    let replacing = |name: &str| {
        ctx.header(name)
            .is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"))
    };
    let changes = CopyChanges {
        described: if replacing("x-amz-metadata-directive") {
            Some((
                ctx.header("content-type").map(str::to_owned),
                user_metadata(ctx)?,
            ))
        } else {
            None
        },
        tags: if replacing("x-amz-tagging-directive") {
            Some(super::tagging::header_tags(ctx)?.unwrap_or_default())
        } else {
            None
        },
    };
    if src_repo != repo {
        // Across repositories the source is read first; a destination that
        // does not exist is still reported before the source.
        ctx.engine
            .get_branch(&repo, &branch)
            .await
            .map_err(write_err(bucket, key))?;
    }
    let entry = if src_repo == repo {
        // A missing branch is the destination's; anything else missing is
        // the source's.
        ctx.engine
            .copy_object_with(&repo, &src_ref, &src_path, &branch, &path, changes)
            .await
            .map_err(write_err(&src_bucket, &src_key))?
    } else {
        copy_across(
            ctx,
            (&src_repo, &src_ref, &src_path),
            (&repo, &branch, &path),
            changes,
        )
        .await
        .map_err(|side| match side {
            Side::Source(e) => S3Error::from_domain(e, &src_bucket, &src_key),
            Side::Destination(e) => write_err(bucket, key)(e),
        })?
    };
    let doc = xml::CopyResult {
        xmlns: xml::NS,
        last_modified: xml::iso8601(entry.last_modified.unix_micros()),
        etag: etag_of(&entry),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("CopyObjectResult", &doc)))
}

/// Which side of a copy an error is about.
enum Side {
    Source(Error),
    Destination(Error),
}

/// A copy between repositories streams the data through.
async fn copy_across(
    ctx: &Ctx<'_>,
    (src_repo, src_ref, src_path): (&RepositoryId, &str, &tarn_model::ObjectPath),
    (repo, branch, path): (
        &RepositoryId,
        &tarn_model::BranchName,
        &tarn_model::ObjectPath,
    ),
    changes: CopyChanges,
) -> Result<Entry, Side> {
    let read = ctx
        .engine
        .read_object(src_repo, src_ref, src_path, None)
        .await
        .map_err(Side::Source)?;
    let (content_type, metadata) = match changes.described {
        Some((ct, meta)) => (ct.or_else(|| read.entry.content_type.clone()), meta),
        None => (read.entry.content_type.clone(), read.entry.metadata.clone()),
    };
    let request = UploadRequest {
        size: Some(read.entry.size),
        content_type,
        metadata,
        tags: changes.tags.unwrap_or_else(|| read.entry.tags.clone()),
        condition: WriteCondition::Always,
    };
    ctx.engine
        .upload_object(repo, branch, path, read.data.body, request)
        .await
        .map_err(Side::Destination)
}

/// DeleteObject: a missing key is deleted already.
pub async fn delete(ctx: &Ctx<'_>, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let (repo, branch, path) = ctx.bucket_first(bucket, write_target(bucket, key)).await?;
    match ctx.engine.delete_object(&repo, &branch, &path).await {
        Ok(())
        | Err(Error::NotFound {
            entity: Entity::Object,
            ..
        }) => Ok(HttpResponse::NoContent().finish()),
        Err(e) => Err(write_err(bucket, key)(e)),
    }
}

/// DeleteObjects: keys may span branches; `Quiet` reports errors only.
pub async fn delete_many(ctx: &Ctx<'_>, bucket: &str, body: &[u8]) -> S3Result<HttpResponse> {
    let text =
        std::str::from_utf8(body).map_err(|_| S3Error::malformed_xml("body is not UTF-8"))?;
    let request: xml::DeleteRequest =
        quick_xml::de::from_str(text).map_err(|e| S3Error::malformed_xml(e.to_string()))?;
    if request.objects.is_empty() || request.objects.len() > 1000 {
        return Err(S3Error::malformed_xml(
            "a Delete request names 1 to 1000 objects",
        ));
    }
    // Every key needs fs:DeleteObject; one refused refuses the request,
    // before the repository is looked up.
    let needed: Vec<Permission> = request
        .objects
        .iter()
        .map(|o| {
            Permission::new(
                Action::DeleteObject,
                super::authorize::object(bucket, &o.key),
            )
        })
        .collect();
    ctx.require(&needed).await?;
    // One read answers NoSuchBucket for the whole request, as S3 does.
    ctx.repository(bucket).await?;
    let mut result = xml::DeleteResult {
        xmlns: xml::NS,
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for object in request.objects {
        let outcome = async {
            let (repo, branch, path) = write_target(bucket, &object.key)?;
            match ctx.engine.delete_object(&repo, &branch, &path).await {
                Ok(())
                | Err(Error::NotFound {
                    entity: Entity::Object,
                    ..
                }) => Ok(()),
                Err(e) => Err(write_err(bucket, &object.key)(e)),
            }
        }
        .await;
        match outcome {
            Ok(()) if request.quiet => {}
            Ok(()) => result.deleted.push(xml::Deleted { key: object.key }),
            Err(e) => result.errors.push(xml::DeleteError {
                key: object.key,
                code: e.code.as_str().to_owned(),
                message: e.message,
            }),
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("DeleteResult", &result)))
}
