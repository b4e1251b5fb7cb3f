//! Reading objects: get (ranges, ETag, If-None-Match), head, stat, list.

use super::config::ServerInfo;
use super::error::{ApiError, ApiResult};
use super::models::{amount, de_opt_bool, Listing, ObjectStats, PageQuery};
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::entry_headers::{
    etag_of, get_response, head_response, http_date, parse_range,
};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::{Engine, ListRequest, Listing as Item};
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::{Entry, ObjectPath};
use utoipa::ToSchema;

operations! {
    tag = "objects";
    getObject: get "/repositories/{repository}/refs/{ref}/objects" => get,
        Requires(Action::ReadObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("ref" = String, Path), ("path" = String, Query)),
            responses((status = 200, body = Vec<u8>), (status = 206, body = Vec<u8>), (status = 304), (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)),
        );
    headObject: head "/repositories/{repository}/refs/{ref}/objects" => head,
        Requires(Action::ReadObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("ref" = String, Path), ("path" = String, Query)),
            responses((status = 200), (status = 206), (status = 404)),
        );
    statObject: get "/repositories/{repository}/refs/{ref}/objects/stat" => stat,
        Requires(Action::ReadObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("ref" = String, Path), ("path" = String, Query)),
            responses((status = 200, body = ObjectStats), (status = 404, body = ErrorBody)),
        );
    listObjects: get "/repositories/{repository}/refs/{ref}/objects/ls" => list,
        Requires(Action::ListObjects, REPO),
        openapi(
            params(("repository" = String, Path), ("ref" = String, Path)),
            responses((status = 200, body = Listing<ObjectStats>)),
        );
    getUnderlyingProperties: get "/repositories/{repository}/refs/{ref}/objects/underlyingProperties" => underlying,
        Requires(Action::ReadObject, OBJECT),
        openapi(
            params(("repository" = String, Path), ("ref" = String, Path), ("path" = String, Query)),
            responses((status = 200, body = UnderlyingObjectProperties)),
        );
}

/// The `path` query parameter of object operations.
#[derive(Debug, Deserialize)]
pub struct PathQuery {
    /// The object's path.
    pub path: String,
    #[serde(default, deserialize_with = "de_opt_bool")]
    presign: Option<bool>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    user_metadata: Option<bool>,
}

/// Parses the `path` query parameter.
pub fn object_path(s: &str) -> ApiResult<ObjectPath> {
    if s.is_empty() {
        return Err(ApiError::bad_request("path is required"));
    }
    Ok(ObjectPath::new(s)?)
}

fn not_modified(req: &HttpRequest, e: &Entry) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_matches('"') == e.checksum)
        })
}

async fn read(
    engine: &Engine,
    req: &HttpRequest,
    repo: &str,
    reference: &str,
    path: &str,
    with_body: bool,
) -> ApiResult<HttpResponse> {
    let repo = repo_id(repo)?;
    let path = object_path(path)?;
    let entry = engine.stat_object(&repo, reference, &path).await?;
    if not_modified(req, &entry) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag_of(&entry)))
            .finish());
    }
    let range = parse_range(req);
    let content_type = entry
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let mut resp = HttpResponse::build(StatusCode::OK);
    resp.insert_header((header::ETAG, etag_of(&entry)))
        .insert_header((header::LAST_MODIFIED, http_date(&entry)))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_TYPE, content_type));
    if !with_body {
        let size = entry.size;
        return head_response(resp, size, range)
            .ok_or_else(|| tarn_domain::Error::InvalidRange { size }.into());
    }
    let read = engine.read_object(&repo, reference, &path, range).await?;
    Ok(get_response(resp, read.data))
}

async fn get(
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<PathQuery>,
) -> ApiResult<HttpResponse> {
    let (repo, reference) = path.into_inner();
    if let Some(expiry) = info.presign_for(q.presign) {
        // As lakeFS: the data comes from the store, by a presigned URL.
        let url = engine
            .presign_read(&repo_id(&repo)?, &reference, &object_path(&q.path)?, expiry)
            .await?;
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .finish());
    }
    read(&engine, &req, &repo, &reference, &q.path, true).await
}

async fn head(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<PathQuery>,
) -> ApiResult<HttpResponse> {
    let (repo, reference) = path.into_inner();
    read(&engine, &req, &repo, &reference, &q.path, false).await
}

async fn stat(
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String)>,
    q: web::Query<PathQuery>,
) -> ApiResult<web::Json<ObjectStats>> {
    let (repo, reference) = path.into_inner();
    let repo = repo_id(&repo)?;
    let p = object_path(&q.path)?;
    let entry = engine.stat_object(&repo, &reference, &p).await?;
    let ns = engine.get_repository(&repo).await?.storage_namespace;
    let presigned = match info.presign_for(q.presign) {
        Some(expiry) => Some((
            engine.presign_address(&ns, &entry.address, expiry).await?,
            expires_at(engine.now(), expiry),
        )),
        None => None,
    };
    let mut stats =
        ObjectStats::object(p.into_string(), entry, &ns, q.user_metadata.unwrap_or(true));
    if let Some((url, expiry)) = presigned {
        stats = stats.presigned(url, expiry);
    }
    Ok(web::Json(stats))
}

/// The Unix time `secs` from now: when a presigned URL stops working.
pub fn expires_at(now: tarn_model::Timestamp, secs: u64) -> i64 {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    now.unix_seconds().saturating_add(secs)
}

#[derive(Debug, Deserialize)]
struct LsQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    delimiter: Option<String>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    user_metadata: Option<bool>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    presign: Option<bool>,
}

async fn list(
    req: HttpRequest,
    engine: web::Data<Engine>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String)>,
    q: web::Query<LsQuery>,
) -> ApiResult<web::Json<Listing<ObjectStats>>> {
    let (repo, reference) = path.into_inner();
    let repo = repo_id(&repo)?;
    let request = ListRequest {
        prefix: q.page.prefix.clone().unwrap_or_default(),
        after: q.page.after.clone().filter(|a| !a.is_empty()),
        amount: amount(q.page.amount),
        delimiter: q.delimiter.clone().filter(|d| !d.is_empty()),
    };
    let page = engine.list_objects(&repo, &reference, &request).await?;
    let ns = engine.get_repository(&repo).await?.storage_namespace;
    let with_metadata = q.user_metadata.unwrap_or(true);
    // Presigned URLs (signed locally, no request to the store), in order.
    // They grant reads, so they need fs:ReadObject on every object listed,
    // not fs:ListObjects alone.
    let mut presigned = Vec::new();
    if let Some(expiry) = info.presign_for(q.presign) {
        let reads: Vec<Permission> = page
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Object(p, _) => Some(Permission::new(
                    Action::ReadObject,
                    arn::object(repo.as_str(), p.as_str()),
                )),
                _ => None,
            })
            .collect();
        super::auth::require(&req, &reads).await?;
        for item in &page.items {
            if let Item::Object(_, e) = item {
                let url = engine.presign_address(&ns, &e.address, expiry).await?;
                presigned.push((url, expires_at(engine.now(), expiry)));
            }
        }
    }
    let mut presigned = presigned.into_iter();
    Ok(web::Json(Listing::from_page(page, |item| match item {
        Item::Object(p, e) => {
            let stats = ObjectStats::object(p.into_string(), e, &ns, with_metadata);
            match presigned.next() {
                Some((url, expiry)) => stats.presigned(url, expiry),
                None => stats,
            }
        }
        Item::CommonPrefix(p) => ObjectStats::common_prefix(p),
    })))
}

/// Properties of the stored data.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnderlyingObjectProperties {
    storage_class: Option<String>,
}

async fn underlying(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    q: web::Query<PathQuery>,
) -> ApiResult<web::Json<UnderlyingObjectProperties>> {
    let (repo, reference) = path.into_inner();
    engine
        .stat_object(&repo_id(&repo)?, &reference, &object_path(&q.path)?)
        .await?;
    Ok(web::Json(UnderlyingObjectProperties {
        storage_class: None,
    }))
}
