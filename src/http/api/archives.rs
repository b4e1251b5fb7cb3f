//! Tarn's many-objects extension: many small objects in one request, as a
//! tar archive (docs/archives.md). An upload
//! stages every file of the archive on a branch, all or nothing; a download
//! streams the objects at a list of paths as one archive. Object paths and
//! metadata travel in PAX records, so any path and any metadata round-trip.

use super::branches::branch_name;
use super::error::{ApiError, ApiResult};
use super::models::ObjectStats;
use super::objects::object_path;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use crate::http::shared::body::payload_stream;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use tarn_archive_protocol::tar::{Archive, EntryType};
use tarn_archive_protocol::{self as wire, EntryError, MAX_OBJECTS};
use tarn_domain::{Engine, ObjectBatch};
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::{Entry, ObjectPath, StorageNamespace};
use tarn_ports::ByteStream;
use tokio::io::AsyncReadExt;
use utoipa::ToSchema;

/// The latest mtime a tar header holds (11 octal digits; year 2242): a
/// client mtime past it is not sent.
const MAX_MTIME: u64 = 0o77_777_777_777;

/// Entries up to this size are read whole and written with others.
const SMALL_ENTRY: u64 = 1 << 20;

operations! {
    tag = "objects";
    /// Tarn's extension: stages every regular file of a tar archive (the
    /// request body) on the branch, all or nothing. Needs fs:WriteObject on
    /// each path.
    uploadObjectArchive: post "/repositories/{repository}/branches/{branch}/objects/archive" => upload,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path), ("prefix" = Option<String>, Query)),
            request_body(content = Vec<u8>, content_type = "application/x-tar"),
            responses((status = 201, body = ObjectStatsResults), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
    /// Tarn's extension: the objects at the listed paths, in that order, as
    /// one tar archive. Needs fs:ReadObject on each path.
    getObjectArchive: post "/repositories/{repository}/refs/{ref}/objects/archive" => download,
        InHandler,
        openapi(
            params(("repository" = String, Path), ("ref" = String, Path)),
            request_body = ArchivePaths,
            responses((status = 200, body = Vec<u8>, content_type = "application/x-tar"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    /// Put in front of every entry's path (e.g. `datasets/v1/`).
    #[serde(default)]
    prefix: String,
}

/// What an archive upload staged, in the archive's order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectStatsResults {
    results: Vec<ObjectStats>,
}

/// `getObjectArchive` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ArchivePaths {
    /// At most 4,096 paths.
    paths: Vec<String>,
}

fn bad_archive(e: io::Error) -> ApiError {
    ApiError::bad_request(format!("invalid tar archive: {e}"))
}

fn entry_error(e: EntryError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

/// The domain's description of an upload from the wire's.
fn described(d: wire::Described) -> tarn_domain::Described {
    (d.content_type, d.metadata, BTreeMap::new())
}

async fn upload(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<UploadQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (repo_text, branch) = path.into_inner();
    let (repo, branch) = (repo_id(&repo_text)?, branch_name(&branch)?);
    // The branch is looked at once the first file is authorized: a caller
    // who may write nothing learns nothing of it.
    let mut batch: Option<ObjectBatch<'_>> = None;
    let (reader, guard) = wire::guarded(tokio_util::io::StreamReader::new(payload_stream(payload)));
    let mut archive = Archive::new(reader);
    let mut entries = archive.entries().map_err(bad_archive)?;
    while let Some(entry) = entries.next().await {
        let mut entry = entry.map_err(bad_archive)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let name = wire::entry_path(&entry).map_err(entry_error)?;
        let object = object_path(&format!("{}{name}", q.prefix))?;
        if !(kind.is_file() || kind == EntryType::Continuous) {
            return Err(ApiError::bad_request(format!(
                "{object}: only regular files can be uploaded, not {kind:?} entries"
            )));
        }
        let wanted = Permission::new(
            Action::WriteObject,
            arn::object(&repo_text, object.as_str()),
        );
        super::auth::require(&req, &[wanted]).await?;
        let batch = match &mut batch {
            Some(b) => b,
            None => batch.insert(engine.object_batch(&repo, &branch).await?),
        };
        let described = described(
            wire::entry_described(&mut entry)
                .await
                .map_err(entry_error)?,
        );
        let size = entry.effective_size();
        guard.body();
        if size <= SMALL_ENTRY {
            let mut body = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut body).await.map_err(bad_archive)?;
            batch
                .add_small(object, Bytes::from(body), described)
                .await?;
        } else {
            add_streamed(batch, object, &mut entry, size, described).await?;
        }
        guard.headers();
    }
    let batch = batch.ok_or_else(|| ApiError::bad_request("the archive holds no files"))?;
    if guard.input_ended() {
        return Err(ApiError::bad_request(
            "invalid tar archive: it was cut short (the end-of-archive blocks are missing)",
        ));
    }
    let (written, ns) = batch.stage().await?;
    let results = written
        .into_iter()
        .map(|(path, entry)| ObjectStats::object(path.into_string(), entry, &ns, true))
        .collect();
    Ok(HttpResponse::Created().json(ObjectStatsResults { results }))
}

/// Streams a large entry into the batch: the entry is read while the
/// block store writes, through a channel of a few chunks.
async fn add_streamed(
    batch: &mut ObjectBatch<'_>,
    object: ObjectPath,
    entry: &mut (impl tokio::io::AsyncRead + Unpin),
    size: u64,
    described: tarn_domain::Described,
) -> ApiResult<()> {
    let (mut tx, rx) = futures::channel::mpsc::channel::<io::Result<Bytes>>(4);
    let pump = async move {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let chunk = match entry.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    };
    let put = batch.add_stream(object, ByteStream::new(rx), Some(size), described);
    let (put, ()) = futures::join!(put, pump);
    Ok(put?)
}

async fn download(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<ArchivePaths>,
) -> ApiResult<HttpResponse> {
    let (repo_text, reference) = path.into_inner();
    let repo = repo_id(&repo_text)?;
    if body.paths.is_empty() {
        return Err(ApiError::bad_request("paths is empty"));
    }
    if body.paths.len() > MAX_OBJECTS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_OBJECTS} paths per request"
        )));
    }
    let wanted: Vec<Permission> = body
        .paths
        .iter()
        .map(|p| Permission::new(Action::ReadObject, arn::object(&repo_text, p)))
        .collect();
    super::auth::require(&req, &wanted).await?;
    let paths = body
        .paths
        .iter()
        .map(|p| object_path(p))
        .collect::<ApiResult<Vec<_>>>()?;
    let (entries, ns) = engine.stat_many(&repo, &reference, &paths).await?;
    let (tx, rx) = futures::channel::mpsc::channel::<io::Result<Bytes>>(8);
    let engine = engine.into_inner();
    actix_web::rt::spawn(async move {
        let objects = paths.into_iter().zip(entries);
        if let Err(e) = stream_archive(&engine, &ns, objects, tx.clone()).await {
            // The client sees the body fail, not an archive cut short.
            let mut tx = tx;
            let _ = tx.send(Err(e)).await;
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-tar")
        .streaming(rx.map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError))))
}

/// Writes the archive of `objects` into `tx`, then its end.
async fn stream_archive(
    engine: &Engine,
    ns: &StorageNamespace,
    objects: impl Iterator<Item = (ObjectPath, Entry)>,
    mut tx: futures::channel::mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let closed = |_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away");
    for (path, entry) in objects {
        let data = engine
            .read_entry(ns, &path, &entry)
            .await
            .map_err(|e| io::Error::other(e.to_string()))?;
        let start = wire::entry_start(path.as_str(), entry.size, &wire_described(&entry))?;
        tx.send(Ok(Bytes::from(start))).await.map_err(closed)?;
        let mut body = data.body;
        let mut sent = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            sent += chunk.len() as u64;
            // Never a byte past the size the header declared: it would be
            // read as the next entry.
            if sent > entry.size {
                return Err(io::Error::other(format!(
                    "{path}: more than the {} bytes stored",
                    entry.size
                )));
            }
            tx.send(Ok(chunk)).await.map_err(closed)?;
        }
        if sent != entry.size {
            return Err(io::Error::other(format!(
                "{path}: {sent} bytes stored, {} expected",
                entry.size
            )));
        }
        let pad = wire::padding(entry.size);
        if !pad.is_empty() {
            tx.send(Ok(Bytes::from_static(pad))).await.map_err(closed)?;
        }
    }
    tx.send(Ok(Bytes::from_static(&wire::END)))
        .await
        .map_err(closed)
}

/// An object's description on the wire: its ETag, content type and
/// metadata, and as the file's mtime its client mtime (lakectl's
/// `::lakefs::client-mtime`) or else its own.
fn wire_described(entry: &Entry) -> wire::Described {
    let mtime = entry
        .metadata
        .get("::lakefs::client-mtime")
        .and_then(|m| m.parse::<u64>().ok())
        .filter(|m| *m <= MAX_MTIME)
        .unwrap_or_else(|| entry.last_modified.unix_seconds().max(0) as u64);
    wire::Described {
        content_type: entry.content_type.clone(),
        metadata: entry.metadata.clone(),
        checksum: Some(entry.checksum.clone()),
        mtime,
    }
}
