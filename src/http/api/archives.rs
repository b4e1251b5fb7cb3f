//! Tarn's many-objects extension: many small objects in one request, as a
//! tar archive (docs/api.md, "Many objects in one request"). An upload
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
use tarn_domain::{Engine, ObjectBatch, MAX_BATCH_OBJECTS};
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::{Entry, ObjectPath, StorageNamespace};
use tarn_ports::ByteStream;
use tokio::io::AsyncReadExt;
use tokio_tar::{Archive, EntryType, Header};
use utoipa::ToSchema;

/// Entries up to this size are read whole and written with others.
const SMALL_ENTRY: u64 = 1 << 20;
/// The PAX record of an object's ETag (downloads).
pub const PAX_CHECKSUM: &str = "TARN.checksum";
/// The PAX record of an object's content type.
pub const PAX_CONTENT_TYPE: &str = "TARN.content_type";
/// The prefix of PAX records of user metadata: `TARN.meta.<key>`.
pub const PAX_META: &str = "TARN.meta.";
/// The PAX record of an object's server mtime, in seconds (downloads).
pub const PAX_MTIME: &str = "TARN.mtime";

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

/// An entry's object path: `prefix`, then its PAX `path` (or long name, or
/// name) less a leading `./` as `tar -C dir -c .` writes.
fn entry_path(prefix: &str, raw: &[u8]) -> ApiResult<ObjectPath> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| ApiError::bad_request("an archive entry's path is not UTF-8"))?;
    object_path(&format!(
        "{prefix}{}",
        text.strip_prefix("./").unwrap_or(text)
    ))
}

/// Content type and user metadata from an entry's PAX records.
fn described(
    records: Vec<(String, String)>,
) -> (
    Option<String>,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
) {
    let mut content_type = None;
    let mut metadata = BTreeMap::new();
    for (key, value) in records {
        if key == PAX_CONTENT_TYPE {
            content_type = Some(value);
        } else if let Some(k) = key.strip_prefix(PAX_META).filter(|k| !k.is_empty()) {
            metadata.insert(k.to_owned(), value);
        }
    }
    (content_type, metadata, BTreeMap::new())
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
    let reader = tokio_util::io::StreamReader::new(payload_stream(payload));
    let mut archive = Archive::new(reader);
    let mut entries = archive.entries().map_err(bad_archive)?;
    while let Some(entry) = entries.next().await {
        let mut entry = entry.map_err(bad_archive)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let object = entry_path(&q.prefix, &entry.path_bytes().map_err(bad_archive)?)?;
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
        let mut records = Vec::new();
        if let Some(pax) = entry.pax_extensions().await.map_err(bad_archive)? {
            for record in pax {
                let record = record.map_err(bad_archive)?;
                let (Ok(k), Ok(v)) = (record.key(), record.value()) else {
                    return Err(ApiError::bad_request(format!(
                        "{object}: a PAX record is not UTF-8"
                    )));
                };
                records.push((k.to_owned(), v.to_owned()));
            }
        }
        let size = entry.effective_size();
        let described = described(records);
        if size <= SMALL_ENTRY {
            let mut body = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut body).await.map_err(bad_archive)?;
            batch
                .add_small(object, Bytes::from(body), described)
                .await?;
        } else {
            add_streamed(batch, object, &mut entry, size, described).await?;
        }
    }
    let batch = batch.ok_or_else(|| ApiError::bad_request("the archive holds no files"))?;
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
    if body.paths.len() > MAX_BATCH_OBJECTS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_BATCH_OBJECTS} paths per request"
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
        tx.send(Ok(entry_headers(&path, &entry)?))
            .await
            .map_err(closed)?;
        let mut body = data.body;
        let mut sent = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            sent += chunk.len() as u64;
            tx.send(Ok(chunk)).await.map_err(closed)?;
        }
        if sent != entry.size {
            return Err(io::Error::other(format!(
                "{path}: {sent} bytes stored, {} expected",
                entry.size
            )));
        }
        if let Some(pad) = padding(entry.size) {
            tx.send(Ok(pad)).await.map_err(closed)?;
        }
    }
    // The end of an archive: two zero blocks.
    tx.send(Ok(Bytes::from(vec![0u8; 1024])))
        .await
        .map_err(closed)
}

/// Zeros to the next 512-byte block after `len` bytes, if any are needed.
fn padding(len: u64) -> Option<Bytes> {
    let rem = (len % 512) as usize;
    (rem != 0).then(|| Bytes::from(vec![0u8; 512 - rem]))
}

/// One PAX record: `<length> <key>=<value>\n`, the length counting itself.
fn pax_record(out: &mut Vec<u8>, key: &str, value: &str) {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + body.to_string().len();
    if len.to_string().len() != body.to_string().len() {
        len += 1;
    }
    out.extend_from_slice(format!("{len} {key}={value}\n").as_bytes());
}

/// The headers of an object's entry: a PAX header with its path, ETag,
/// content type and metadata, then the file's own header.
fn entry_headers(path: &ObjectPath, entry: &Entry) -> io::Result<Bytes> {
    let mut records = Vec::new();
    pax_record(&mut records, "path", path.as_str());
    pax_record(&mut records, PAX_CHECKSUM, &entry.checksum);
    pax_record(
        &mut records,
        PAX_MTIME,
        &entry.last_modified.unix_seconds().to_string(),
    );
    if let Some(ct) = &entry.content_type {
        pax_record(&mut records, PAX_CONTENT_TYPE, ct);
    }
    for (k, v) in &entry.metadata {
        pax_record(&mut records, &format!("{PAX_META}{k}"), v);
    }
    let mut pax = Header::new_ustar();
    pax.set_entry_type(EntryType::XHeader);
    pax.set_path("PaxHeader")?;
    pax.set_size(records.len() as u64);
    pax.set_mode(0o644);
    pax.set_cksum();
    let mut file = Header::new_ustar();
    file.set_entry_type(EntryType::Regular);
    // Readers that know PAX take the path from the record; the name here is
    // for those that do not, when it fits.
    if file.set_path(path.as_str()).is_err() {
        file.set_path("object")?;
    }
    file.set_size(entry.size);
    file.set_mode(0o644);
    let mtime = entry
        .metadata
        .get("::lakefs::client-mtime")
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or_else(|| entry.last_modified.unix_seconds().max(0) as u64);
    file.set_mtime(mtime);
    file.set_cksum();
    let mut out = Vec::with_capacity(1536 + records.len());
    out.extend_from_slice(pax.as_bytes());
    let records_len = records.len() as u64;
    out.extend_from_slice(&records);
    if let Some(pad) = padding(records_len) {
        out.extend_from_slice(&pad);
    }
    out.extend_from_slice(file.as_bytes());
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_count_their_own_length() {
        for value in ["", "a", "x".repeat(90).as_str(), "y".repeat(994).as_str()] {
            let mut out = Vec::new();
            pax_record(&mut out, "path", value);
            let text = String::from_utf8(out.clone()).unwrap();
            let (len, _) = text.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), out.len(), "{text:?}");
        }
    }
}
