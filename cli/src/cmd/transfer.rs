//! Moving object data: one file up or down, streamed (memory does not grow
//! with the size), retried on transient failures, through the server or
//! directly by presigned URL when the server offers it. Downloads resume:
//! the bytes already fetched wait in `<file>.tarn-partial-<checksum>` and
//! a retry or a later run asks only for the rest.

use crate::client::{check, seg, Client};
use crate::error::{CliError, CliResult};
use crate::progress::Progress;
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// The metadata key lakectl stores a file's mtime under.
pub(crate) const CLIENT_MTIME: &str = "::lakefs::client-mtime";

/// What goes with an upload.
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadMeta {
    pub content_type: Option<String>,
    /// User metadata; keys starting `::lakefs::` travel as
    /// `x-lakefs-internal-*` headers, others as `x-lakefs-meta-*`.
    pub metadata: BTreeMap<String, String>,
}

/// Whether data moves by presigned URL: asked for and offered.
pub(crate) async fn presign_mode(client: &Client, asked: bool) -> bool {
    if !asked {
        return false;
    }
    match client.get("/config").value().await {
        Ok(config) => config["storage_config"]["pre_sign_support"].as_bool() == Some(true),
        Err(_) => false,
    }
}

pub(crate) const ATTEMPTS: u32 = 4;

pub(crate) fn transient(e: &CliError) -> bool {
    match e {
        CliError::Unreachable { .. } => true,
        CliError::Api { status, .. } => matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504),
        _ => false,
    }
}

pub(crate) async fn pause(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(200u64 << attempt.min(6))).await;
}

/// A file's mtime in whole seconds since the epoch.
pub(crate) fn mtime_secs(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The mtime an object stands for: its client mtime, else its server mtime.
pub(crate) fn object_mtime(stats: &Value) -> i64 {
    stats["metadata"][CLIENT_MTIME]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| stats["mtime"].as_i64().unwrap_or_default())
}

/// A file's body as a stream that moves `progress` as it is read.
async fn file_body(local: &Path, progress: &Progress) -> CliResult<(reqwest::Body, u64)> {
    let file = tokio::fs::File::open(local)
        .await
        .map_err(|e| CliError::io(format!("open {}", local.display()), e))?;
    let size = file
        .metadata()
        .await
        .map_err(|e| CliError::io(format!("stat {}", local.display()), e))?
        .len();
    let progress = progress.clone();
    let stream =
        tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024).inspect(move |chunk| {
            if let Ok(c) = chunk {
                progress.inc(c.len() as u64);
            }
        });
    Ok((reqwest::Body::wrap_stream(stream), size))
}

/// Where uploads go: a branch of a repository on a server, by presigned
/// URL when `presign`.
pub(crate) struct Target<'a> {
    pub client: &'a Client,
    pub repo: &'a str,
    pub branch: &'a str,
    pub presign: bool,
}

/// Uploads `local` to `path` on the target branch; the object's stats.
pub(crate) async fn upload_file(
    to: &Target<'_>,
    path: &str,
    local: &Path,
    meta: &UploadMeta,
    progress: &Progress,
) -> CliResult<Value> {
    let mut attempt = 0;
    loop {
        // One presigned PUT takes at most 5 GiB (S3's limit): larger files
        // go through the server, which uploads them in parts.
        let size = std::fs::metadata(local).map(|m| m.len()).unwrap_or(0);
        let result = if to.presign && size <= 5 << 30 {
            upload_presigned(to, path, local, meta, progress).await
        } else {
            upload_through(to, path, local, meta, progress).await
        };
        match result {
            Err(e) if transient(&e) && attempt + 1 < ATTEMPTS => {
                attempt += 1;
                pause(attempt).await;
            }
            other => return other,
        }
    }
}

async fn upload_through(
    to: &Target<'_>,
    path: &str,
    local: &Path,
    meta: &UploadMeta,
    progress: &Progress,
) -> CliResult<Value> {
    let (client, repo, branch) = (to.client, to.repo, to.branch);
    let (body, size) = file_body(local, progress).await?;
    let mut call = client
        .post(format!(
            "/repositories/{}/branches/{}/objects",
            seg(repo),
            seg(branch)
        ))
        .query("path", path)
        .header("content-length", size.to_string());
    for (k, v) in &meta.metadata {
        let header = match k.strip_prefix("::lakefs::") {
            Some(internal) => format!("x-lakefs-internal-{internal}"),
            None => format!("x-lakefs-meta-{k}"),
        };
        call = call.header(&header, v.clone());
    }
    let content_type = meta
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    let response = call.send_body(body, content_type).await?;
    response
        .json()
        .await
        .map_err(|e| CliError::Failed(format!("the server's answer to an upload is not JSON: {e}")))
}

async fn upload_presigned(
    to: &Target<'_>,
    path: &str,
    local: &Path,
    meta: &UploadMeta,
    progress: &Progress,
) -> CliResult<Value> {
    let (client, repo, branch) = (to.client, to.repo, to.branch);
    let staging_path = format!(
        "/repositories/{}/branches/{}/staging/backing",
        seg(repo),
        seg(branch)
    );
    let location = client
        .get(staging_path.clone())
        .query("path", path)
        .query("presign", true)
        .value()
        .await?;
    let url = location["presigned_url"].as_str().ok_or_else(|| {
        CliError::Failed("the server offered presigned uploads but gave no URL".into())
    })?;
    let (body, size) = file_body(local, progress).await?;
    let mut put = client
        .http()
        .put(url)
        .header("content-length", size)
        .body(body);
    if let Some(ct) = &meta.content_type {
        put = put.header("content-type", ct);
    }
    let response = put.send().await.map_err(|e| CliError::Unreachable {
        endpoint: "the object store".into(),
        cause: e.to_string(),
    })?;
    let response = check(response).await?;
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned();
    client
        .put(staging_path)
        .query("path", path)
        .json(json!({
            "staging": {"physical_address": location["physical_address"]},
            "checksum": etag,
            "size_bytes": size,
            "user_metadata": meta.metadata,
            "content_type": meta.content_type,
        }))
        .value()
        .await
}

/// The partial file of `dest` for an object with `checksum`.
fn partial_path(dest: &Path, checksum: &str) -> PathBuf {
    let tag: String = checksum
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tarn-partial-{tag}"));
    dest.with_file_name(name)
}

/// What a download needs to know of the object (from a listing or stat).
pub(crate) struct Remote<'a> {
    pub repo: &'a str,
    pub reference: &'a str,
    pub path: &'a str,
    pub stats: &'a Value,
}

/// Downloads an object to `dest`, resuming a partial download of the same
/// object (same checksum), and sets the file's mtime to the object's.
pub(crate) async fn download_to(
    client: &Client,
    remote: &Remote<'_>,
    dest: &Path,
    presign: bool,
    progress: &Progress,
) -> CliResult<()> {
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| CliError::io(format!("create {}", parent.display()), e))?;
    }
    let checksum = remote.stats["checksum"].as_str().unwrap_or_default();
    let size = remote.stats["size_bytes"].as_u64().unwrap_or_default();
    let partial = partial_path(dest, checksum);
    let mut attempt = 0;
    loop {
        match fetch_into(client, remote, &partial, size, presign, progress).await {
            Ok(()) => break,
            Err(e) if transient(&e) && attempt + 1 < ATTEMPTS => {
                attempt += 1;
                pause(attempt).await;
            }
            Err(e) => return Err(e),
        }
    }
    tokio::fs::rename(&partial, dest)
        .await
        .map_err(|e| CliError::io(format!("rename to {}", dest.display()), e))?;
    let mtime = object_mtime(remote.stats);
    if mtime > 0 {
        let when = UNIX_EPOCH + Duration::from_secs(mtime as u64);
        if let Ok(file) = std::fs::OpenOptions::new().write(true).open(dest) {
            let _ = file.set_modified(when);
        }
    }
    Ok(())
}

async fn fetch_into(
    client: &Client,
    remote: &Remote<'_>,
    partial: &Path,
    size: u64,
    presign: bool,
    progress: &Progress,
) -> CliResult<()> {
    // Never write through a link planted where the partial file goes.
    if tokio::fs::symlink_metadata(partial)
        .await
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        tokio::fs::remove_file(partial)
            .await
            .map_err(|e| CliError::io(format!("remove {}", partial.display()), e))?;
    }
    let checksum = remote.stats["checksum"].as_str().unwrap_or_default();
    let have = tokio::fs::metadata(partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    // Bytes of an object with no checksum cannot be told from another's.
    let have = if have > size || checksum.is_empty() {
        0
    } else {
        have
    };
    if have == size && size > 0 {
        progress.inc(have);
        return Ok(());
    }
    let range = (have > 0).then(|| format!("bytes={have}-"));
    let response = if presign {
        let stat = client
            .get(format!(
                "/repositories/{}/refs/{}/objects/stat",
                seg(remote.repo),
                seg(remote.reference)
            ))
            .query("path", remote.path)
            .query("presign", true)
            .value()
            .await?;
        let url = stat["physical_address"].as_str().unwrap_or_default();
        let mut get = client.http().get(url);
        if let Some(r) = &range {
            get = get.header("range", r);
        }
        let response = get.send().await.map_err(|e| CliError::Unreachable {
            endpoint: "the object store".into(),
            cause: e.to_string(),
        })?;
        check(response).await?
    } else {
        let mut call = client
            .get(format!(
                "/repositories/{}/refs/{}/objects",
                seg(remote.repo),
                seg(remote.reference)
            ))
            .query("path", remote.path);
        if let Some(r) = &range {
            call = call.header("range", r.clone());
        }
        call.send().await?
    };
    // The answer must be this object (a branch may have moved on since it
    // was listed) and, for a range, start where the partial file ends.
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(|e| e.trim_matches('"').to_owned());
    if let Some(etag) = etag.filter(|e| !e.is_empty() && !checksum.is_empty()) {
        if etag != checksum.trim_matches('"') {
            let _ = tokio::fs::remove_file(partial).await;
            return Err(CliError::Failed(format!(
                "{} changed while it was being downloaded: run the download again",
                remote.path
            )));
        }
    }
    let partial_answer = response.status().as_u16() == 206;
    if partial_answer {
        let start = response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split('-').next())
            .and_then(|v| v.parse::<u64>().ok());
        if start != Some(have) {
            let _ = tokio::fs::remove_file(partial).await;
            return Err(CliError::Unreachable {
                endpoint: "the server".into(),
                cause: format!(
                    "a range answer for {} did not start at byte {have}",
                    remote.path
                ),
            });
        }
    }
    // A server that ignores the range sends everything: start over.
    let append = have > 0 && partial_answer;
    if append {
        progress.inc(have);
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(partial)
        .await
        .map_err(|e| CliError::io(format!("open {}", partial.display()), e))?;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| CliError::Unreachable {
            endpoint: "the server".into(),
            cause: format!("download interrupted: {e}"),
        })?;
        file.write_all(&chunk)
            .await
            .map_err(|e| CliError::io(format!("write {}", partial.display()), e))?;
        progress.inc(chunk.len() as u64);
    }
    file.flush()
        .await
        .map_err(|e| CliError::io(format!("write {}", partial.display()), e))?;
    let got = tokio::fs::metadata(partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    if got != size {
        return Err(CliError::Unreachable {
            endpoint: "the server".into(),
            cause: format!("download of {} ended at {got} of {size} bytes", remote.path),
        });
    }
    Ok(())
}
