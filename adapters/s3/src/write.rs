//! Writes: `put` (one streamed `PutObject`, or a multipart upload when the
//! length is unknown and over a part, or over 5 GiB), `delete` and `copy`.

use crate::body::{checked, expect_empty, Blocks, Source};
use crate::errors::{etag, from_sdk};
use crate::location::ObjectAt;
use crate::multipart::Upload;
use crate::{multipart, read, S3BlockStore, MAX_SINGLE_REQUEST};
use aws_sdk_s3::primitives::ByteStream as SdkStream;
use aws_sdk_s3::Client;
use bytes::Bytes;
use tarn_model::PartNumber;
use tarn_ports::{ByteStream, ErrorKind, PortError, PortResult, PutOutcome};

/// Most parts of one multipart upload.
const MAX_PARTS: u64 = 10_000;
/// Largest S3 object.
const MAX_OBJECT: u64 = 5 << 40;
/// Part size of server-side copies of objects over 5 GiB.
const COPY_PART_SIZE: u64 = 1 << 30;

pub(crate) async fn put(
    store: &S3BlockStore,
    at: &ObjectAt,
    body: ByteStream,
    size: Option<u64>,
) -> PortResult<PutOutcome> {
    let client = &store.client;
    match size {
        Some(0) => {
            expect_empty(body).await?;
            put_bytes(client, at, Bytes::new()).await
        }
        Some(n) if n <= MAX_SINGLE_REQUEST => put_streamed(client, at, body, n).await,
        Some(n) if n > MAX_OBJECT => Err(PortError::invalid_input(format!(
            "{n} bytes is more than the {MAX_OBJECT} an S3 object may hold"
        ))),
        Some(n) => put_streamed_parts(client, at, body, n, store.part_size).await,
        None => {
            let mut blocks = Blocks::new(body, store.part_size as usize);
            let first = blocks.next().await?.unwrap_or_default();
            if blocks.exhausted() {
                return put_bytes(client, at, first).await;
            }
            put_buffered_parts(client, at, first, blocks).await
        }
    }
}

/// One `PutObject` streaming `body`, which must hold `length` bytes.
async fn put_streamed(
    client: &Client,
    at: &ObjectAt,
    body: ByteStream,
    length: u64,
) -> PortResult<PutOutcome> {
    let (stream, fault) = checked(body, length);
    let sent = client
        .put_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .content_length(length as i64)
        .body(stream)
        .send()
        .await;
    match sent {
        Ok(out) => Ok(PutOutcome {
            size: length,
            etag: etag(out.e_tag(), "PutObject")?,
        }),
        Err(e) => Err(match fault.take() {
            Some(fault) => fault.into_error(),
            None => from_sdk(e, "PutObject"),
        }),
    }
}

/// One `PutObject` of bytes in memory (retried as a whole when it fails).
async fn put_bytes(client: &Client, at: &ObjectAt, data: Bytes) -> PortResult<PutOutcome> {
    let size = data.len() as u64;
    let out = client
        .put_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .content_length(size as i64)
        .body(SdkStream::from(data))
        .send()
        .await
        .map_err(|e| from_sdk(e, "PutObject"))?;
    Ok(PutOutcome {
        size,
        etag: etag(out.e_tag(), "PutObject")?,
    })
}

/// A body of unknown length over one part: a multipart upload of `first`,
/// then the rest a part at a time (one part in memory).
async fn put_buffered_parts(
    client: &Client,
    at: &ObjectAt,
    first: Bytes,
    mut blocks: Blocks,
) -> PortResult<PutOutcome> {
    let upload = Upload::create(client, at).await?;
    let uploaded = async {
        let mut parts = Vec::new();
        let mut total = 0u64;
        let mut block = Some(first);
        while let Some(data) = block {
            if parts.len() as u64 == MAX_PARTS {
                return Err(PortError::invalid_input(format!(
                    "a body of unknown length may have at most {MAX_PARTS} parts; send its length"
                )));
            }
            total += data.len() as u64;
            let number = parts.len() as i32 + 1;
            parts.push(multipart::upload_bytes(client, at, &upload.id, number, data).await?);
            block = blocks.next().await?;
        }
        let etag = multipart::complete_parts(client, at, &upload.id, parts).await?;
        Ok(PutOutcome { size: total, etag })
    }
    .await;
    upload.finish(uploaded.is_ok()).await;
    uploaded
}

/// A body of known length over 5 GiB: a multipart upload whose parts stream
/// straight from the body (parts big enough that 10,000 hold it).
async fn put_streamed_parts(
    client: &Client,
    at: &ObjectAt,
    body: ByteStream,
    length: u64,
    part_size: u64,
) -> PortResult<PutOutcome> {
    let part = part_size.max(length.div_ceil(MAX_PARTS));
    let source = Source::new(body);
    let upload = Upload::create(client, at).await?;
    let uploaded = async {
        let mut parts = Vec::new();
        let mut offset = 0u64;
        while offset < length {
            let len = part.min(length - offset);
            let number = PartNumber::new(parts.len() as u32 + 1)
                .map_err(|e| PortError::invalid_input(e.to_string()))?;
            let stream = Source::part(&source, len);
            let etag =
                multipart::upload_part(client, at, &upload.id, number, stream, Some(len)).await?;
            parts.push((i32::from(number.get()), etag));
            offset += len;
        }
        if Source::has_more(&source).await {
            return Err(PortError::invalid_input(format!(
                "the body is longer than the declared {length} bytes"
            )));
        }
        let etag = multipart::complete_parts(client, at, &upload.id, parts).await?;
        Ok(PutOutcome { size: length, etag })
    }
    .await;
    upload.finish(uploaded.is_ok()).await;
    uploaded
}

pub(crate) async fn delete(client: &Client, at: &ObjectAt) -> PortResult<()> {
    match client
        .delete_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => match from_sdk(e, "DeleteObject") {
            e if e.kind() == ErrorKind::NotFound => Ok(()),
            e => Err(e),
        },
    }
}

/// A server-side copy: `CopyObject`, or part by part past 5 GiB.
pub(crate) async fn copy(
    store: &S3BlockStore,
    from: &ObjectAt,
    to: &ObjectAt,
) -> PortResult<PutOutcome> {
    let client = &store.client;
    let source = read::head(client, from).await?;
    if source.size > MAX_SINGLE_REQUEST {
        return copy_in_parts(client, from, to, source.size).await;
    }
    let out = client
        .copy_object()
        .bucket(&to.bucket)
        .key(&to.key)
        .copy_source(from.copy_source())
        .send()
        .await
        .map_err(|e| from_sdk(e, "CopyObject"))?;
    let tag = out.copy_object_result().and_then(|r| r.e_tag());
    Ok(PutOutcome {
        size: source.size,
        etag: etag(tag, "CopyObject")?,
    })
}

async fn copy_in_parts(
    client: &Client,
    from: &ObjectAt,
    to: &ObjectAt,
    size: u64,
) -> PortResult<PutOutcome> {
    let upload = Upload::create(client, to).await?;
    let copied = async {
        let mut parts = Vec::new();
        let mut first = 0;
        while first < size {
            let last = (first + COPY_PART_SIZE).min(size) - 1;
            let number = parts.len() as i32 + 1;
            let range = Some((first, last));
            let etag = multipart::copy_part(client, to, &upload.id, number, from, range).await?;
            parts.push((number, etag));
            first = last + 1;
        }
        multipart::complete_parts(client, to, &upload.id, parts).await
    }
    .await;
    upload.finish(copied.is_ok()).await;
    Ok(PutOutcome {
        size,
        etag: copied?,
    })
}

/// Deletes up to 1,000 keys of one bucket with one `DeleteObjects` (quiet:
/// S3 answers only the keys it failed to delete; missing keys are deleted).
pub(crate) async fn delete_many(
    client: &Client,
    bucket: &str,
    keys: Vec<String>,
) -> PortResult<()> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    if keys.is_empty() {
        return Ok(());
    }
    let objects = keys
        .into_iter()
        .map(|k| ObjectIdentifier::builder().key(k).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PortError::internal(format!("DeleteObjects request: {e}")))?;
    let delete = Delete::builder()
        .set_objects(Some(objects))
        .quiet(true)
        .build()
        .map_err(|e| PortError::internal(format!("DeleteObjects request: {e}")))?;
    let out = client
        .delete_objects()
        .bucket(bucket)
        .delete(delete)
        .send()
        .await
        .map_err(|e| from_sdk(e, "DeleteObjects"))?;
    let failed: Vec<String> = out
        .errors()
        .iter()
        .filter(|e| e.code() != Some("NoSuchKey"))
        .map(|e| {
            format!(
                "{}: {} {}",
                e.key().unwrap_or("?"),
                e.code().unwrap_or("?"),
                e.message().unwrap_or("")
            )
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(PortError::new(
            ErrorKind::Unavailable,
            format!(
                "DeleteObjects left {} keys: {}",
                failed.len(),
                failed.join("; ")
            ),
        ))
    }
}
