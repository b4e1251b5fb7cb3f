//! Multipart uploads on disk: `.tarn-multipart/<id>/target` binds the upload
//! to its namespace and key; `part-NNNNN` files hold the parts.

use crate::file::{finish_header, io_error, open_stored, TempFile, HEADER_LEN};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tarn_model::{BlockKey, PartNumber, StorageNamespace};
use tarn_ports::{
    check_completed_parts, multipart_etag, CompletedPart, PortError, PortResult, PutOutcome,
};
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TARGET: &str = "target";

fn target_of(ns: &StorageNamespace, key: &BlockKey) -> String {
    format!("{}\n{}", ns.as_str(), key.as_str())
}

fn missing(upload_id: &str) -> PortError {
    PortError::not_found(format!("no multipart upload {upload_id}"))
}

/// Starts an upload; its id is 32 random hex digits.
pub async fn create(base: &Path, ns: &StorageNamespace, key: &BlockKey) -> PortResult<String> {
    let id = format!("{:032x}", rand::random::<u128>());
    let dir = base.join(&id);
    fs::create_dir(&dir)
        .await
        .map_err(|e| io_error("creating upload", e))?;
    let mut f = fs::File::create(dir.join(TARGET))
        .await
        .map_err(|e| io_error("creating upload", e))?;
    f.write_all(target_of(ns, key).as_bytes())
        .await
        .map_err(|e| io_error("creating upload", e))?;
    f.sync_all()
        .await
        .map_err(|e| io_error("creating upload", e))?;
    Ok(id)
}

/// The directory of an existing upload of `key` in `ns`; `NotFound` for an
/// unknown id, a malformed one (never a path), or one bound to another key.
pub async fn upload_dir(
    base: &Path,
    ns: &StorageNamespace,
    key: &BlockKey,
    upload_id: &str,
) -> PortResult<PathBuf> {
    if upload_id.len() != 32
        || !upload_id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(missing(upload_id));
    }
    let dir = base.join(upload_id);
    match fs::read_to_string(dir.join(TARGET)).await {
        Ok(t) if t == target_of(ns, key) => Ok(dir),
        Ok(_) => Err(missing(upload_id)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(missing(upload_id)),
        Err(e) => Err(io_error(upload_id, e)),
    }
}

fn part_name(n: PartNumber) -> String {
    format!("part-{:05}", n.get())
}

/// Moves a written part into the upload, replacing an earlier one.
pub async fn store_part(
    tmp: TempFile,
    dir: &Path,
    number: PartNumber,
    upload_id: &str,
) -> PortResult<()> {
    if fs::metadata(dir).await.is_err() {
        return Err(missing(upload_id));
    }
    tmp.publish(&dir.join(part_name(number)))
        .await
        .map_err(|e| io_error(upload_id, e))
}

/// Assembles the named parts into `dest` and removes the upload.
pub async fn complete(
    tmp_dir: &Path,
    dir: &Path,
    dest: &Path,
    parts: &[CompletedPart],
) -> PortResult<PutOutcome> {
    let mut uploaded: BTreeMap<PartNumber, String> = BTreeMap::new();
    for p in parts {
        if let Ok((_, etag, _)) = open_stored(&dir.join(part_name(p.number))).await {
            uploaded.insert(p.number, etag);
        }
    }
    let chosen = check_completed_parts(parts, |n| uploaded.get(&n).map(String::as_str))?;
    let etag = multipart_etag(
        chosen
            .iter()
            .filter_map(|n| uploaded.get(n).map(String::as_str)),
    );
    let tmp = TempFile::new(tmp_dir);
    let mut out = fs::File::create(tmp.path())
        .await
        .map_err(|e| io_error("creating temporary file", e))?;
    out.write_all(&[0u8; HEADER_LEN as usize])
        .await
        .map_err(|e| io_error("writing", e))?;
    let mut size = 0u64;
    for n in &chosen {
        let (part, _, part_size) = open_stored(&dir.join(part_name(*n)))
            .await
            .map_err(|e| io_error("reading part", e))?;
        tokio::io::copy(&mut part.take(part_size), &mut out)
            .await
            .map_err(|e| io_error("assembling", e))?;
        size += part_size;
    }
    out.flush().await.map_err(|e| io_error("writing", e))?;
    finish_header(&mut out, &etag).await?;
    tmp.publish(dest)
        .await
        .map_err(|e| io_error("publishing", e))?;
    fs::remove_dir_all(dir)
        .await
        .map_err(|e| io_error("removing upload", e))?;
    Ok(PutOutcome { size, etag })
}
