//! The root marker of a ref, `<ref>/`: tools that model directories create
//! an empty object for each one, the branch itself included (pyarrow's
//! `create_dir("repo/main")` PUTs `main/`). A ref's root always exists, so
//! the marker needs no storage: on an existing ref GET and HEAD answer an
//! empty directory marker, a PUT of no bytes and a DELETE succeed.

use super::error::{S3Error, S3Result};
use super::request::{bucket_repository, write_err, Ctx};
use super::router::RootMethod;
use actix_web::http::header;
use actix_web::HttpResponse;
use futures::StreamExt;
use std::time::{Duration, UNIX_EPOCH};
use tarn_model::BranchName;
use tarn_ports::ByteStream;
use tarn_s3_protocol::ErrorCode;

/// The ETag of no bytes (the MD5 of the empty string).
const EMPTY_ETAG: &str = "\"d41d8cd98f00b204e9800998ecf8427e\"";
/// What S3 tools mark directories with.
const DIRECTORY_TYPE: &str = "application/x-directory";

/// Serves `method` on the root marker of `reference`; `body` is a PUT's.
pub async fn serve(
    ctx: &Ctx<'_>,
    method: RootMethod,
    bucket: &str,
    reference: &str,
    body: Option<ByteStream>,
) -> S3Result<HttpResponse> {
    let key = format!("{reference}/");
    let repo = ctx.bucket_first(bucket, bucket_repository(bucket)).await?;
    match method {
        RootMethod::Get | RootMethod::Head => {
            let commit = ctx
                .engine
                .get_commit(&repo, reference)
                .await
                .map_err(|e| S3Error::from_domain(e, bucket, &key))?;
            let secs = u64::try_from(commit.creation_date.unix_seconds()).unwrap_or(0);
            let modified =
                actix_web::http::header::HttpDate::from(UNIX_EPOCH + Duration::from_secs(secs));
            Ok(HttpResponse::Ok()
                .insert_header((header::ETAG, EMPTY_ETAG))
                .insert_header((header::CONTENT_TYPE, DIRECTORY_TYPE))
                .insert_header((header::LAST_MODIFIED, modified))
                .insert_header((header::CONTENT_LENGTH, 0))
                .finish())
        }
        RootMethod::Put | RootMethod::Delete => {
            let branch = BranchName::new(reference).map_err(|_| S3Error::no_such_bucket(bucket))?;
            ctx.engine
                .get_branch(&repo, &branch)
                .await
                .map_err(write_err(bucket, &key))?;
            if method == RootMethod::Delete {
                return Ok(HttpResponse::NoContent().finish());
            }
            if let Some(mut body) = body {
                while let Some(chunk) = body.next().await {
                    let chunk = chunk
                        .map_err(|e| S3Error::new(ErrorCode::IncompleteBody, e.to_string()))?;
                    if !chunk.is_empty() {
                        return Err(S3Error::invalid_argument(
                            "the root of a ref is a directory and holds no data: an object key is <ref>/<path>, with a path after the ref",
                        )
                        .at(format!("/{bucket}/{key}")));
                    }
                }
            }
            Ok(HttpResponse::Ok()
                .insert_header((header::ETAG, EMPTY_ETAG))
                .finish())
        }
    }
}
