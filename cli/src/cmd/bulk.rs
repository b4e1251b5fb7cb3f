//! Many small files a request, through Tarn's archive extension
//! (docs/archives.md): uploads send up to [`BATCH_FILES`] files
//! in one tar archive that the server stages all or nothing; downloads ask
//! for a list of paths and get one archive back. Servers without it (lakeFS)
//! and files over [`SMALL`] take one request a file (see `transfer`).
//! Either way a batch that fails transiently is sent again, and a run that
//! stops resumes: the callers compare what is there before they send.

use super::transfer::{pause, transient, Target, UploadMeta, ATTEMPTS};
use crate::client::{check, seg, Client};
use crate::error::{CliError, CliResult};
use crate::progress::Progress;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};
use tarn_archive_protocol::tar::Archive;
use tarn_archive_protocol::{self as wire, Described};
use tokio::io::AsyncReadExt;

/// Files up to this size travel in archives.
pub(crate) const SMALL: u64 = 1 << 20;
/// The most files one archive holds.
const BATCH_FILES: usize = 1000;
/// The most bytes of files one archive holds.
const BATCH_BYTES: u64 = 8 << 20;
/// Archives in flight at once: each carries many files, so a few keep the
/// server busy (it is the server's cores, not round trips, that limit).
const ARCHIVES_AT_ONCE: usize = 4;
/// Downloaded files held before they are written, by bytes.
const HELD_BYTES: usize = 4 << 20;

/// Whether to move small files in archives: asked for, and the server is
/// Tarn (it names itself in `GET /config/version`).
pub(crate) async fn archive_mode(client: &Client, asked: bool) -> bool {
    if !asked {
        return false;
    }
    match client.get("/config/version").value().await {
        Ok(v) => v["version_context"]
            .as_str()
            .is_some_and(|c| c.starts_with("tarn ")),
        Err(_) => false,
    }
}

/// Whether a file of `size` bytes goes in an archive, in `archives` mode.
pub(crate) fn batched(archives: bool, size: u64) -> bool {
    archives && size <= SMALL
}

/// Splits `items` into batches of at most [`BATCH_FILES`] items and about
/// [`BATCH_BYTES`] bytes.
fn batches<T>(items: Vec<T>, size: impl Fn(&T) -> u64) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let (mut cur, mut bytes) = (Vec::new(), 0u64);
    for item in items {
        let n = size(&item);
        if !cur.is_empty() && (cur.len() >= BATCH_FILES || bytes + n > BATCH_BYTES) {
            out.push(std::mem::take(&mut cur));
            bytes = 0;
        }
        bytes += n;
        cur.push(item);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A local file to send.
pub(crate) struct Upload {
    /// The object path.
    pub path: String,
    /// The file.
    pub local: PathBuf,
    /// Its size, as listed.
    pub size: u64,
    /// Its content type and metadata.
    pub meta: UploadMeta,
}

/// Sends `items` in batches (see [`batches`]) with `send`, a few at once
/// (at most `parallelism`); the first failure stops it. How many were sent.
async fn in_batches<T, F, Fut>(
    items: Vec<T>,
    size: impl Fn(&T) -> u64,
    parallelism: usize,
    send: F,
) -> CliResult<usize>
where
    F: Fn(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = CliResult<usize>>,
{
    futures::stream::iter(batches(items, size))
        .map(send)
        .buffer_unordered(ARCHIVES_AT_ONCE.min(parallelism.max(1)))
        .try_fold(0usize, |n, done| async move { Ok(n + done) })
        .await
}

/// Uploads `files` (each at most [`SMALL`]) in archives, a few at once
/// (at most `parallelism`); how many were uploaded.
pub(crate) async fn upload_archives(
    to: &Target<'_>,
    files: Vec<Upload>,
    parallelism: usize,
    progress: &Progress,
) -> CliResult<usize> {
    in_batches(
        files,
        |f| f.size,
        parallelism,
        |batch| upload_batch(to, batch, progress),
    )
    .await
}

/// Reads the files of `batch` into one archive (on a blocking task: many
/// small reads), then sends it.
async fn upload_batch(
    to: &Target<'_>,
    batch: Vec<Upload>,
    progress: &Progress,
) -> CliResult<usize> {
    let count = batch.len();
    let first = batch.first().map(|f| f.path.clone()).unwrap_or_default();
    let (tar, bytes) = tokio::task::spawn_blocking(move || -> CliResult<(bytes::Bytes, u64)> {
        let mut out = Vec::new();
        let mut bytes = 0u64;
        for f in &batch {
            let data = std::fs::read(&f.local)
                .map_err(|e| CliError::io(format!("read {}", f.local.display()), e))?;
            bytes += data.len() as u64;
            let d = Described {
                content_type: f.meta.content_type.clone(),
                metadata: f.meta.metadata.clone(),
                ..Described::default()
            };
            wire::append_entry(&mut out, &f.path, &data, &d)
                .map_err(|e| CliError::Failed(format!("archive {}: {e}", f.path)))?;
        }
        out.extend_from_slice(&wire::END);
        Ok((bytes::Bytes::from(out), bytes))
    })
    .await
    .map_err(|e| CliError::Failed(format!("reading files stopped: {e}")))??;
    let url = format!(
        "/repositories/{}/branches/{}/objects/archive",
        seg(to.repo),
        seg(to.branch)
    );
    let mut attempt = 0;
    loop {
        let sent = to
            .client
            .post(url.as_str())
            .send_body(reqwest::Body::from(tar.clone()), wire::CONTENT_TYPE)
            .await;
        match sent {
            Ok(_) => break,
            Err(e) if transient(&e) && attempt + 1 < ATTEMPTS => {
                attempt += 1;
                pause(attempt).await;
            }
            Err(e) => {
                return Err(CliError::Failed(format!(
                    "upload of {count} files from {first}: {e}"
                )))
            }
        }
    }
    progress.inc(bytes);
    Ok(count)
}

/// An object to fetch.
pub(crate) struct Download {
    /// The object path.
    pub path: String,
    /// Where it goes.
    pub dest: PathBuf,
    /// Its size, as listed.
    pub size: u64,
}

/// Where remote objects are read from.
pub(crate) struct Source<'a> {
    pub client: &'a Client,
    pub repo: &'a str,
    pub reference: &'a str,
}

/// Downloads `objects` (each at most [`SMALL`]) in archives, a few at
/// once (at most `parallelism`), each file written whole under a temporary
/// name and renamed, its mtime the object's; how many were downloaded.
pub(crate) async fn download_archives(
    from: &Source<'_>,
    objects: Vec<Download>,
    parallelism: usize,
    progress: &Progress,
) -> CliResult<usize> {
    in_batches(
        objects,
        |o| o.size,
        parallelism,
        |batch| download_batch(from, batch, progress),
    )
    .await
}

async fn download_batch(
    from: &Source<'_>,
    batch: Vec<Download>,
    progress: &Progress,
) -> CliResult<usize> {
    let mut attempt = 0;
    loop {
        match fetch_batch(from, &batch, progress).await {
            Ok(()) => return Ok(batch.len()),
            Err(e) if transient(&e) && attempt + 1 < ATTEMPTS => {
                attempt += 1;
                pause(attempt).await;
            }
            Err(e) => {
                let first = batch.first().map(|o| o.path.as_str()).unwrap_or_default();
                return Err(CliError::Failed(format!(
                    "download of {} objects from {first}: {e}",
                    batch.len()
                )));
            }
        }
    }
}

/// A downloaded file waiting to be written.
struct Fetched {
    dest: PathBuf,
    data: Vec<u8>,
    mtime: u64,
}

async fn fetch_batch(from: &Source<'_>, batch: &[Download], progress: &Progress) -> CliResult<()> {
    let paths: Vec<&str> = batch.iter().map(|o| o.path.as_str()).collect();
    let response = from
        .client
        .post(format!(
            "/repositories/{}/refs/{}/objects/archive",
            seg(from.repo),
            seg(from.reference)
        ))
        .json(json!({ "paths": paths }))
        .send_raw()
        .await?;
    let response = check(response).await?;
    let broken = |e: std::io::Error| CliError::Unreachable {
        endpoint: from.client.base().to_owned(),
        cause: format!("the archive broke off: {e}"),
    };
    let body = response
        .bytes_stream()
        .map(|chunk| chunk.map_err(std::io::Error::other));
    // Headers are limited: a server cannot make this hold much memory.
    let (reader, guard) = wire::guarded(tokio_util::io::StreamReader::new(body));
    let mut archive = Archive::new(reader);
    let mut entries = archive.entries().map_err(broken)?;
    let mut wanted = batch.iter();
    let mut held: Vec<Fetched> = Vec::new();
    let mut held_bytes = 0;
    while let Some(entry) = entries.next().await {
        let mut entry = entry.map_err(broken)?;
        let path = wire::entry_path(&entry).map_err(|e| CliError::Failed(e.to_string()))?;
        let Some(object) = wanted.next().filter(|o| o.path == path) else {
            return Err(CliError::Failed(format!(
                "the server sent {path}, which was not asked for here"
            )));
        };
        let d = wire::entry_described(&mut entry)
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?;
        // The object may have changed since it was listed, within reason.
        let size = entry.effective_size();
        if size > object.size.max(SMALL) {
            return Err(CliError::Failed(format!(
                "the server sent {size} bytes for {path}, listed at {}",
                object.size
            )));
        }
        guard.body();
        let mut data = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(size)
            .read_to_end(&mut data)
            .await
            .map_err(broken)?;
        guard.headers();
        progress.inc(data.len() as u64);
        held_bytes += data.len();
        held.push(Fetched {
            dest: object.dest.clone(),
            data,
            mtime: d.mtime,
        });
        if held_bytes >= HELD_BYTES {
            write_files(std::mem::take(&mut held)).await?;
            held_bytes = 0;
        }
    }
    if let Some(missing) = wanted.next() {
        return Err(broken(std::io::Error::other(format!(
            "it ended before {}",
            missing.path
        ))));
    }
    write_files(held).await
}

/// Writes files whole, each under a temporary name then renamed (a reader
/// never sees part of one), with their mtimes; on a blocking task.
async fn write_files(files: Vec<Fetched>) -> CliResult<()> {
    tokio::task::spawn_blocking(move || {
        for f in files {
            write_file(&f)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| CliError::Failed(format!("writing files stopped: {e}")))?
}

fn write_file(f: &Fetched) -> CliResult<()> {
    use std::io::Write;
    if let Some(parent) = f.dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError::io(format!("create {}", parent.display()), e))?;
    }
    let mut name = f.dest.file_name().unwrap_or_default().to_os_string();
    name.push(".tarn-partial-archive");
    let tmp = f.dest.with_file_name(name);
    // Never write through a link planted where the temporary file goes.
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| CliError::io(format!("create {}", tmp.display()), e))?;
    file.write_all(&f.data)
        .map_err(|e| CliError::io(format!("write {}", tmp.display()), e))?;
    // An absurd mtime (a client mtime anyone may set) is not applied.
    if let Some(when) = UNIX_EPOCH.checked_add(Duration::from_secs(f.mtime)) {
        if f.mtime > 0 {
            let _ = file.set_modified(when);
        }
    }
    drop(file);
    std::fs::rename(&tmp, &f.dest)
        .map_err(|e| CliError::io(format!("rename to {}", f.dest.display()), e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_their_files_and_bytes() {
        let sizes: Vec<u64> = (0..2500)
            .map(|i| if i % 100 == 0 { SMALL } else { 10 })
            .collect();
        let out = batches(sizes.clone(), |s| *s);
        assert_eq!(out.iter().map(Vec::len).sum::<usize>(), sizes.len());
        for b in &out {
            assert!(b.len() <= BATCH_FILES);
            assert!(b.iter().sum::<u64>() <= BATCH_BYTES, "{}", b.len());
        }
        // A file larger than a batch's bytes still travels, alone.
        assert_eq!(batches(vec![BATCH_BYTES + 1, 1], |s| *s).len(), 2);
        assert!(batches(Vec::<u64>::new(), |s| *s).is_empty());
    }
}
