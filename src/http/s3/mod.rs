//! The S3 gateway: bucket = repository, key = `<ref>/<path>`. Requests are
//! routed (framework-free), authenticated, then handled by one operation
//! family per file; failures are S3 XML errors.

mod acl;
mod auth;
mod authorize;
mod buckets;
mod error;
mod list;
mod multipart;
mod objects;
mod request;
mod root;
mod router;
mod tagging;
mod xml;

use crate::http::shared::deadline;
use crate::http::shared::session::AuthState;
use actix_web::guard::GuardContext;
use actix_web::{web, HttpRequest, HttpResponse};
use error::{S3Error, S3Result};
use futures::StreamExt;
use request::Ctx;
use router::Op;
use tarn_domain::Engine;
use tarn_s3_protocol::ErrorCode;

/// Gateway settings (`gateways.s3.*`).
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Host names under which the gateway answers (and their subdomains).
    pub domains: Vec<String>,
    /// The region reported to clients.
    pub region: String,
}

/// The most a request body read whole (XML documents) may hold.
const MAX_XML_BODY: usize = 2 << 20;

/// Whether a request is for the gateway: its Host is a gateway domain or a
/// subdomain of one, or it carries an AWS signature (lakeFS's rule).
pub fn is_gateway(ctx: &GuardContext<'_>) -> bool {
    let head = ctx.head();
    let headers = &head.headers;
    let signed = headers.contains_key("x-amz-signature")
        || headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("AWS4") || v.starts_with("AWS "));
    let query = head.uri.query().unwrap_or("");
    let presigned = query.split('&').any(|p| {
        let k = p.split('=').next().unwrap_or("");
        k == "AWSAccessKeyId" || k == "X-Amz-Credential"
    });
    if signed || presigned {
        return true;
    }
    let Some(config) = ctx.app_data::<web::Data<GatewayConfig>>() else {
        return false;
    };
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
    config
        .domains
        .iter()
        .any(|d| bare == d || bare.ends_with(&format!(".{d}")))
}

/// Registers the gateway: every request the guard accepts.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .guard(actix_web::guard::fn_guard(is_gateway))
            .default_service(web::to(handle)),
    );
}

/// Registers the gateway alone: every request is an S3 request (a dedicated
/// listener, `gateways.s3.listen_address`).
pub fn gateway_only(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(handle));
}

async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    engine: web::Data<Engine>,
    auth_state: web::Data<AuthState>,
    config: web::Data<GatewayConfig>,
) -> HttpResponse {
    let served = serve(&req, payload, &engine, &auth_state, &config).await;
    // A body cut off for crawling fails the write however the handler saw
    // it; the client is told why.
    let served = match served {
        _ if deadline::body_timed_out(&req) => Err(S3Error::new(
            ErrorCode::RequestTimeout,
            deadline::TIMEOUT_MESSAGE,
        )),
        other => other,
    };
    match served {
        Ok(resp) => resp,
        Err(e) => {
            let e = if e.resource.is_empty() {
                e.at(req.path())
            } else {
                e
            };
            // Kept on the response, so that the request's log line names
            // the error (and a server error's causes).
            HttpResponse::from_error(e)
        }
    }
}

/// A URL that is not UTF-8: `InvalidArgument`, as S3 answers keys it
/// cannot parse.
fn not_utf8(e: crate::http::shared::text::NotUtf8) -> S3Error {
    S3Error::invalid_argument(e.to_string())
}

async fn serve(
    req: &HttpRequest,
    payload: web::Payload,
    engine: &Engine,
    auth_state: &AuthState,
    config: &GatewayConfig,
) -> S3Result<HttpResponse> {
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let vhost = router::virtual_host_bucket(host, &config.domains);
    let query = router::parse_query(req.query_string()).map_err(not_utf8)?;
    let path = router::decode(req.uri().path(), "the key").map_err(not_utf8)?;
    let has_copy_source = req.headers().contains_key("x-amz-copy-source");
    let op = router::route(
        req.method().as_str(),
        &path,
        &query,
        has_copy_source,
        vhost.as_deref(),
    );
    crate::http::observe::tag(req, "s3", op.name());
    match op {
        // A bucket and a bare ref (`/repo/main`, `/repo/main/`) name no
        // object: reads find none, writes are told what a key must be.
        Op::NotFound => {
            return Err(match req.method().as_str() {
                "GET" | "HEAD" => {
                    S3Error::new(ErrorCode::NoSuchKey, "The specified key does not exist.")
                }
                _ => S3Error::invalid_argument(
                    "an object key is <ref>/<path>, with a path after the ref",
                ),
            }
            .at(req.uri().path()))
        }
        Op::NotSupported(what) => return Err(S3Error::not_supported(what)),
        _ => {}
    }
    let caller = auth::authenticate(req, auth_state, vhost.as_deref()).await?;
    crate::http::observe::set_user(req, caller.principal.id.as_str());
    let source = has_copy_source
        .then(|| objects::decoded_copy_source(req))
        .transpose()?;
    let needed = authorize::required(
        &op,
        &query,
        source.as_ref().map(|(b, k)| (b.as_str(), k.as_str())),
    )?;
    let ctx = Ctx {
        engine,
        auth: &auth_state.auth,
        req,
        query: &query,
        caller: caller.principal.clone(),
    };
    ctx.require(&needed).await?;
    match op {
        Op::ListBuckets => buckets::list(&ctx).await,
        Op::HeadBucket(b) => buckets::head(&ctx, &b).await,
        Op::GetBucketLocation(b) => buckets::location(&ctx, &b, &config.region).await,
        Op::GetBucketVersioning(b) => buckets::versioning(&ctx, &b).await,
        Op::CreateBucket(b) => buckets::create(&ctx, &b).await,
        Op::ListObjects { bucket, v2 } => list::list(&ctx, &bucket, v2).await,
        Op::ListMultipartUploads(b) => multipart::list_uploads(&ctx, &b).await,
        Op::DeleteObjects(b) => {
            let body = read_whole(req, payload, &caller).await?;
            objects::delete_many(&ctx, &b, &body).await
        }
        Op::GetObject { bucket, key } => objects::get(&ctx, &bucket, &key, true).await,
        Op::HeadObject { bucket, key } => objects::get(&ctx, &bucket, &key, false).await,
        Op::GetObjectTagging { bucket, key } => tagging::get(&ctx, &bucket, &key).await,
        Op::PutObjectTagging { bucket, key } => {
            let body = read_whole(req, payload, &caller).await?;
            tagging::put(&ctx, &bucket, &key, &body).await
        }
        Op::DeleteObjectTagging { bucket, key } => tagging::delete(&ctx, &bucket, &key).await,
        Op::RefRoot {
            method,
            bucket,
            reference,
        } => {
            let body = (method == router::RootMethod::Put)
                .then(|| auth::body(req, payload, &caller))
                .transpose()?;
            let failure = body.as_ref().map(|b| b.failure.clone());
            root::serve(&ctx, method, &bucket, &reference, body.map(|b| b.stream))
                .await
                .map_err(|e| failure.and_then(|f| f.take()).unwrap_or(e))
        }
        Op::GetBucketAcl(b) => acl::get_bucket(&ctx, &b).await,
        Op::PutBucketAcl(b) => {
            let body = read_whole(req, payload, &caller).await?;
            acl::put_bucket(&ctx, &b, &body).await
        }
        Op::GetObjectAcl { bucket, key } => acl::get_object(&ctx, &bucket, &key).await,
        Op::PutObjectAcl { bucket, key } => {
            let body = read_whole(req, payload, &caller).await?;
            acl::put_object(&ctx, &bucket, &key, &body).await
        }
        Op::PutObject { bucket, key } => {
            let body = auth::body(req, payload, &caller)?;
            let failure = body.failure.clone();
            objects::put(&ctx, &bucket, &key, body.stream, body.size)
                .await
                .map_err(|e| failure.take().unwrap_or(e))
        }
        Op::CopyObject { bucket, key } => objects::copy(&ctx, &bucket, &key).await,
        Op::DeleteObject { bucket, key } => objects::delete(&ctx, &bucket, &key).await,
        Op::CreateMultipartUpload { bucket, key } => multipart::create(&ctx, &bucket, &key).await,
        Op::UploadPart {
            bucket,
            key,
            upload_id,
            part,
            copy: true,
        } => multipart::upload_part_copy(&ctx, &bucket, &key, &upload_id, &part).await,
        Op::UploadPart {
            bucket,
            key,
            upload_id,
            part,
            copy: false,
        } => {
            let body = auth::body(req, payload, &caller)?;
            let failure = body.failure.clone();
            multipart::upload_part(
                &ctx,
                &bucket,
                &key,
                &upload_id,
                &part,
                body.stream,
                body.size,
            )
            .await
            .map_err(|e| failure.take().unwrap_or(e))
        }
        Op::CompleteMultipartUpload {
            bucket,
            key,
            upload_id,
        } => {
            let body = read_whole(req, payload, &caller).await?;
            multipart::complete(&ctx, &bucket, &key, &upload_id, &body).await
        }
        Op::AbortMultipartUpload {
            bucket,
            key,
            upload_id,
        } => multipart::abort(&ctx, &bucket, &key, &upload_id).await,
        Op::ListParts {
            bucket,
            key,
            upload_id,
        } => multipart::list_parts(&ctx, &bucket, &key, &upload_id).await,
        Op::NotFound | Op::NotSupported(_) => Ok(HttpResponse::NotFound().finish()),
    }
}

/// Reads a small (XML) body whole, verified like any other.
async fn read_whole(
    req: &HttpRequest,
    payload: web::Payload,
    caller: &auth::Caller,
) -> S3Result<Vec<u8>> {
    let body = auth::body(req, payload, caller)?;
    let mut stream = body.stream;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            body.failure
                .take()
                .unwrap_or_else(|| S3Error::new(ErrorCode::IncompleteBody, e.to_string()))
        })?;
        if out.len() + chunk.len() > MAX_XML_BODY {
            return Err(S3Error::malformed_xml("the request body is too large"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod write_tests;
