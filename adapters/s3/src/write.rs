//! Writes: `put` (one streamed `PutObject`, or a multipart upload when the
//! length is unknown and over a part, or over 5 GiB), `delete` and `copy`.

use crate::body::{checked, next_block};
use crate::errors::{etag, from_sdk};
use crate::location::ObjectAt;
use crate::{multipart, read, S3BlockStore, MAX_SINGLE_REQUEST};
use aws_sdk_s3::primitives::ByteStream as SdkStream;
use aws_sdk_s3::Client;
use bytes::Bytes;
use std::collections::VecDeque;
use tarn_ports::{ByteStream, ErrorKind, PortError, PortResult, PutOutcome};

/// Most parts of one multipart upload.
const MAX_PARTS: u64 = 10_000;
/// Part size of server-side copies of objects over 5 GiB.
const COPY_PART_SIZE: u64 = 1 << 30;

pub(crate) async fn put(
    store: &S3BlockStore,
    at: &ObjectAt,
    mut body: ByteStream,
    size: Option<u64>,
) -> PortResult<PutOutcome> {
    let client = &store.client;
    match size {
        Some(n) if n <= MAX_SINGLE_REQUEST => put_streamed(client, at, body, n).await,
        Some(n) => {
            // Parts big enough that 10,000 of them hold the object.
            let part = store.part_size.max(n.div_ceil(MAX_PARTS));
            put_in_parts(client, at, body, VecDeque::new(), part, Some(n)).await
        }
        None => {
            let part = store.part_size;
            let mut carry = None;
            let first = next_block(&mut body, &mut carry, part as usize).await?;
            let first = first.unwrap_or_default();
            if (first.len() as u64) < part {
                return put_bytes(client, at, first).await;
            }
            match next_block(&mut body, &mut carry, part as usize).await? {
                None => put_bytes(client, at, first).await,
                Some(second) => {
                    let mut pending = VecDeque::from([first, second]);
                    if let Some(rest) = carry {
                        pending.push_back(rest);
                    }
                    put_in_parts(client, at, body, pending, part, None).await
                }
            }
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

/// A multipart upload of `pending` blocks, then the rest of `body` in parts
/// of `part` bytes; aborted (nothing stored) on any failure.
async fn put_in_parts(
    client: &Client,
    at: &ObjectAt,
    mut body: ByteStream,
    mut pending: VecDeque<Bytes>,
    part: u64,
    expected: Option<u64>,
) -> PortResult<PutOutcome> {
    let id = multipart::create(client, at).await?;
    let mut carry = None;
    let uploaded = async {
        let mut parts = Vec::new();
        let mut total = 0u64;
        loop {
            let block = match pending.pop_front() {
                Some(block) => block,
                None => match next_block(&mut body, &mut carry, part as usize).await? {
                    Some(block) => block,
                    None => break,
                },
            };
            total += block.len() as u64;
            if expected.is_some_and(|n| total > n) {
                return Err(PortError::invalid_input(format!(
                    "the body is longer than the declared {} bytes",
                    expected.unwrap_or_default()
                )));
            }
            if parts.len() as u64 == MAX_PARTS {
                return Err(PortError::invalid_input(format!(
                    "an object of unknown length may have at most {MAX_PARTS} parts of {part} bytes"
                )));
            }
            let number = parts.len() as i32 + 1;
            parts.push(multipart::upload_bytes(client, at, &id, number, block).await?);
        }
        if let Some(n) = expected.filter(|n| *n != total) {
            return Err(PortError::invalid_input(format!(
                "the body ended after {total} of the declared {n} bytes"
            )));
        }
        let etag = multipart::complete_parts(client, at, &id, parts).await?;
        Ok(PutOutcome { size: total, etag })
    }
    .await;
    if uploaded.is_err() {
        multipart::abort_quietly(client, at, &id).await;
    }
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
    let id = multipart::create(client, to).await?;
    let copied = async {
        let mut parts = Vec::new();
        let mut first = 0;
        while first < size {
            let last = (first + COPY_PART_SIZE).min(size) - 1;
            let number = parts.len() as i32 + 1;
            let etag =
                multipart::copy_part(client, to, &id, number, from, Some((first, last))).await?;
            parts.push((number, etag));
            first = last + 1;
        }
        multipart::complete_parts(client, to, &id, parts).await
    }
    .await;
    match copied {
        Ok(etag) => Ok(PutOutcome { size, etag }),
        Err(e) => {
            multipart::abort_quietly(client, to, &id).await;
            Err(e)
        }
    }
}
