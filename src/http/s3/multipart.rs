//! Multipart uploads through the gateway: Create, UploadPart(Copy),
//! Complete, Abort, ListParts, ListMultipartUploads.

use super::error::{s3_err, S3Error, S3Result};
use super::objects::{copy_source, user_metadata, write_condition};
use super::request::{bucket_repository, split_key, write_err, write_target, Ctx};
use super::xml::{self, to_xml};
use actix_web::http::header;
use actix_web::HttpResponse;
use tarn_domain::Entity;
use tarn_domain::Error;
use tarn_model::PartNumber;
use tarn_ports::{ByteRange, ByteStream, CompletedPart};
use tarn_s3_protocol::ErrorCode;

fn part_number(raw: &str) -> S3Result<PartNumber> {
    raw.parse::<u32>()
        .ok()
        .and_then(|n| PartNumber::new(n).ok())
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })
}

/// The repository of an upload addressed at `bucket`/`key`: the key must be
/// the one the upload was created for (`NoSuchUpload` otherwise), so that a
/// URL never completes, feeds or aborts another key's upload.
async fn upload_at(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<tarn_model::RepositoryId> {
    let repo = ctx.repository(bucket).await?;
    let upload = ctx
        .engine
        .get_multipart_upload(&repo, upload_id)
        .await
        .map_err(s3_err(bucket, key))?;
    if upload.gateway_key() != key {
        return Err(S3Error::from_domain(
            Error::NotFound {
                entity: Entity::Upload,
                name: upload_id.to_owned(),
            },
            bucket,
            key,
        ));
    }
    Ok(repo)
}

/// CreateMultipartUpload.
pub async fn create(ctx: &Ctx<'_>, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let target = write_target(bucket, key).and_then(|t| {
        let tags = super::tagging::header_tags(ctx)?.unwrap_or_default();
        Ok((t, (user_metadata(ctx)?, tags)))
    });
    let ((repo, branch, path), (metadata, tags)) = ctx.bucket_first(bucket, target).await?;
    let content_type = ctx.header("content-type").map(str::to_owned);
    let upload = ctx
        .engine
        .create_multipart_upload(&repo, &branch, &path, (content_type, metadata, tags))
        .await
        .map_err(write_err(bucket, key))?;
    let doc = xml::InitiateMultipartUpload {
        xmlns: xml::NS,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        upload_id: upload.upload_id.to_string(),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("InitiateMultipartUploadResult", &doc)))
}

/// UploadPart.
pub async fn upload_part(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part: &str,
    body: ByteStream,
    size: Option<u64>,
) -> S3Result<HttpResponse> {
    let repo = upload_at(ctx, bucket, key, upload_id).await?;
    let number = part_number(part)?;
    let etag = ctx
        .engine
        .upload_part(&repo, upload_id, number, body, size)
        .await
        .map_err(s3_err(bucket, key))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{etag}\"")))
        .finish())
}

/// `x-amz-copy-source-range: bytes=first-last`.
fn copy_range(ctx: &Ctx<'_>) -> S3Result<Option<ByteRange>> {
    let Some(raw) = ctx.header("x-amz-copy-source-range") else {
        return Ok(None);
    };
    let bad = || {
        S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last",
        )
    };
    let (first, last) = raw
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    let (first, last) = (
        first.parse().map_err(|_| bad())?,
        last.parse().map_err(|_| bad())?,
    );
    if last < first {
        return Err(bad());
    }
    Ok(Some(ByteRange::Inclusive { first, last }))
}

/// UploadPartCopy.
pub async fn upload_part_copy(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part: &str,
) -> S3Result<HttpResponse> {
    let repo = upload_at(ctx, bucket, key, upload_id).await?;
    let number = part_number(part)?;
    let (src_bucket, src_key) = copy_source(ctx)?;
    let src_repo = bucket_repository(&src_bucket)?;
    let (src_ref, src_path) = ctx
        .bucket_first(&src_bucket, split_key(&src_bucket, &src_key))
        .await?;
    let range = copy_range(ctx)?;
    let etag = ctx
        .engine
        .upload_part_copy(
            &repo, upload_id, number, &src_repo, &src_ref, &src_path, range,
        )
        .await
        .map_err(s3_err(&src_bucket, &src_key))?;
    let doc = xml::CopyResult {
        xmlns: xml::NS,
        last_modified: xml::iso8601(ctx.engine.now().unix_micros()),
        etag: format!("\"{etag}\""),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("CopyPartResult", &doc)))
}

/// CompleteMultipartUpload.
pub async fn complete(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    body: &[u8],
) -> S3Result<HttpResponse> {
    let repo = upload_at(ctx, bucket, key, upload_id).await?;
    let text =
        std::str::from_utf8(body).map_err(|_| S3Error::malformed_xml("body is not UTF-8"))?;
    let request: xml::CompleteRequest =
        quick_xml::de::from_str(text).map_err(|e| S3Error::malformed_xml(e.to_string()))?;
    let parts = request
        .parts
        .iter()
        .map(|p| {
            Ok(CompletedPart {
                number: part_number(&p.part_number.to_string())?,
                etag: p.etag.trim_matches('"').to_owned(),
            })
        })
        .collect::<S3Result<Vec<_>>>()?;
    let condition = write_condition(ctx)?;
    let done = ctx
        .engine
        .complete_multipart_upload(&repo, upload_id, &parts, condition)
        .await
        .map_err(|e| match e {
            Error::InvalidInput {
                field: "part",
                reason,
            } if reason.contains("order") => S3Error::new(ErrorCode::InvalidPartOrder, reason),
            Error::InvalidInput {
                field: "part",
                reason,
            } => S3Error::new(ErrorCode::InvalidPart, reason),
            other => S3Error::from_domain(other, bucket, key),
        })?;
    let doc = xml::CompleteMultipartUploadResult {
        xmlns: xml::NS,
        location: {
            let info = ctx.req.connection_info();
            format!("{}://{}/{bucket}/{key}", info.scheme(), info.host())
        },
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        etag: format!("\"{}\"", done.etag),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("CompleteMultipartUploadResult", &doc)))
}

/// AbortMultipartUpload.
pub async fn abort(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<HttpResponse> {
    let repo = upload_at(ctx, bucket, key, upload_id).await?;
    ctx.engine
        .abort_multipart_upload(&repo, upload_id)
        .await
        .map_err(s3_err(bucket, key))?;
    Ok(HttpResponse::NoContent().finish())
}

/// ListParts.
pub async fn list_parts(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<HttpResponse> {
    let repo = upload_at(ctx, bucket, key, upload_id).await?;
    let max_parts = ctx
        .param("max-parts")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1000)
        .min(1000);
    let marker = match ctx
        .param("part-number-marker")
        .filter(|m| !m.is_empty() && *m != "0")
    {
        Some(m) => Some(part_number(m)?),
        None => None,
    };
    let mut parts = ctx
        .engine
        .list_upload_parts(&repo, upload_id, marker, max_parts + 1)
        .await
        .map_err(s3_err(bucket, key))?;
    let truncated = parts.len() > max_parts;
    parts.truncate(max_parts);
    let doc = xml::ListParts {
        xmlns: xml::NS,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        upload_id: upload_id.to_owned(),
        part_number_marker: marker.map_or(0, |m| u32::from(m.get())),
        next_part_number_marker: parts.last().map_or(0, |p| u32::from(p.number.get())),
        max_parts,
        is_truncated: truncated,
        parts: parts
            .into_iter()
            .map(|p| xml::Part {
                part_number: p.number.get(),
                last_modified: xml::iso8601(p.last_modified.unix_micros()),
                etag: format!("\"{}\"", p.etag),
                size: p.size,
            })
            .collect(),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("ListPartsResult", &doc)))
}

/// ListMultipartUploads.
pub async fn list_uploads(ctx: &Ctx<'_>, bucket: &str) -> S3Result<HttpResponse> {
    if ["prefix", "delimiter", "encoding-type"]
        .iter()
        .any(|k| ctx.param(k).is_some_and(|v| !v.is_empty()))
    {
        return Err(S3Error::new(
            ErrorCode::NotImplemented,
            "ListMultipartUploads supports only key-marker, upload-id-marker and max-uploads",
        ));
    }
    let repo = ctx.repository(bucket).await?;
    let max = ctx
        .param("max-uploads")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1000)
        .min(1000);
    let key_marker = ctx.param("key-marker").unwrap_or("").to_owned();
    let id_marker = ctx.param("upload-id-marker").unwrap_or("").to_owned();
    let after = (!key_marker.is_empty() && !id_marker.is_empty())
        .then_some((key_marker.as_str(), id_marker.as_str()));
    let mut uploads = ctx
        .engine
        .list_multipart_uploads(&repo, after, max + 1)
        .await
        .map_err(s3_err(bucket, ""))?;
    let truncated = uploads.len() > max;
    uploads.truncate(max);
    let (next_key, next_id) = uploads
        .last()
        .map(|u| (u.gateway_key(), u.upload_id.to_string()))
        .unwrap_or_default();
    let doc = xml::ListMultipartUploads {
        xmlns: xml::NS,
        bucket: bucket.to_owned(),
        key_marker,
        upload_id_marker: id_marker,
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        max_uploads: max,
        is_truncated: truncated,
        uploads: uploads
            .into_iter()
            .map(|u| xml::Upload {
                key: u.gateway_key(),
                upload_id: u.upload_id.to_string(),
                initiated: xml::iso8601(u.initiated.unix_micros()),
                storage_class: "STANDARD",
            })
            .collect(),
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("ListMultipartUploadsResult", &doc)))
}
