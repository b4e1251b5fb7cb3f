//! Multipart uploads: create, upload (streamed or copied) parts, complete,
//! abort.

use crate::body::{checked, expect_empty, Blocks};
use crate::errors::{etag, from_sdk};
use crate::location::ObjectAt;
use crate::read;
use aws_sdk_s3::primitives::ByteStream as SdkStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart as SdkPart};
use aws_sdk_s3::Client;
use bytes::Bytes;
use tarn_model::PartNumber;
use tarn_ports::{
    ByteRange, ByteStream, CompletedPart, ErrorKind, PortError, PortResult, PutOutcome,
};

/// Largest part of unknown length: such a part is read into memory first,
/// as S3 needs its length up front.
const MAX_UNSIZED_PART: usize = 64 << 20;

pub(crate) async fn create(client: &Client, at: &ObjectAt) -> PortResult<String> {
    let out = client
        .create_multipart_upload()
        .bucket(&at.bucket)
        .key(&at.key)
        .send()
        .await
        .map_err(|e| from_sdk(e, "CreateMultipartUpload"))?;
    out.upload_id().map(str::to_owned).ok_or_else(|| {
        PortError::new(
            ErrorKind::Internal,
            "S3 CreateMultipartUpload: no upload id",
        )
    })
}

pub(crate) async fn upload_part(
    client: &Client,
    at: &ObjectAt,
    id: &str,
    number: PartNumber,
    body: ByteStream,
    size: Option<u64>,
) -> PortResult<String> {
    let number = part_number(number);
    let length = match size {
        Some(0) => {
            expect_empty(body).await?;
            return Ok(upload_bytes(client, at, id, number, Bytes::new()).await?.1);
        }
        Some(n) => n,
        None => {
            let mut blocks = Blocks::new(body, MAX_UNSIZED_PART);
            let data = blocks.next().await?.unwrap_or_default();
            if !blocks.exhausted() && blocks.next().await?.is_some() {
                return Err(PortError::invalid_input(format!(
                    "a part of unknown length may hold at most {MAX_UNSIZED_PART} bytes; send its length"
                )));
            }
            return Ok(upload_bytes(client, at, id, number, data).await?.1);
        }
    };
    let (stream, fault) = checked(body, length);
    let sent = client
        .upload_part()
        .bucket(&at.bucket)
        .key(&at.key)
        .upload_id(id)
        .part_number(number)
        .content_length(length as i64)
        .body(stream)
        .send()
        .await;
    match sent {
        Ok(out) => etag(out.e_tag(), "UploadPart"),
        Err(e) => Err(match fault.take() {
            Some(fault) => fault.into_error(),
            None => from_sdk(e, "UploadPart"),
        }),
    }
}

/// Uploads part `number` from memory; returns it as a completed part.
pub(crate) async fn upload_bytes(
    client: &Client,
    at: &ObjectAt,
    id: &str,
    number: i32,
    data: Bytes,
) -> PortResult<(i32, String)> {
    let out = client
        .upload_part()
        .bucket(&at.bucket)
        .key(&at.key)
        .upload_id(id)
        .part_number(number)
        .content_length(data.len() as i64)
        .body(SdkStream::from(data))
        .send()
        .await
        .map_err(|e| from_sdk(e, "UploadPart"))?;
    Ok((number, etag(out.e_tag(), "UploadPart")?))
}

pub(crate) async fn upload_part_copy(
    client: &Client,
    at: &ObjectAt,
    id: &str,
    number: PartNumber,
    from: &ObjectAt,
    range: Option<ByteRange>,
) -> PortResult<String> {
    let number = part_number(number);
    let Some(range) = range else {
        return copy_part(client, at, id, number, from, None).await;
    };
    // S3 takes only `bytes=first-last` here, within the object: resolve
    // open and suffix ranges against the source's size.
    read::range_header(range)?;
    let size = read::head(client, from).await?.size;
    let (first, last) = range.resolve(size).ok_or_else(|| {
        PortError::new(
            ErrorKind::InvalidRange,
            format!("{range:?} cannot be satisfied for {size} bytes"),
        )
    })?;
    copy_part(client, at, id, number, from, Some((first, last))).await
}

/// Copies `from`, or its bytes `first..=last`, into part `number`.
pub(crate) async fn copy_part(
    client: &Client,
    at: &ObjectAt,
    id: &str,
    number: i32,
    from: &ObjectAt,
    range: Option<(u64, u64)>,
) -> PortResult<String> {
    let out = client
        .upload_part_copy()
        .bucket(&at.bucket)
        .key(&at.key)
        .upload_id(id)
        .part_number(number)
        .copy_source(from.copy_source())
        .set_copy_source_range(range.map(|(first, last)| format!("bytes={first}-{last}")))
        .send()
        .await
        .map_err(|e| from_sdk(e, "UploadPartCopy"))?;
    etag(
        out.copy_part_result().and_then(|r| r.e_tag()),
        "UploadPartCopy",
    )
}

pub(crate) async fn complete(
    client: &Client,
    at: &ObjectAt,
    id: &str,
    parts: &[CompletedPart],
) -> PortResult<PutOutcome> {
    // S3 answers these with MalformedXML or not at all on some stores;
    // the port's contract is checked here first.
    if parts.is_empty() {
        return Err(PortError::invalid_input(
            "a multipart upload needs at least one part",
        ));
    }
    if parts.windows(2).any(|w| w[1].number <= w[0].number) {
        return Err(PortError::invalid_input(
            "parts must be listed in ascending order",
        ));
    }
    let named = parts
        .iter()
        .map(|p| (part_number(p.number), p.etag.trim_matches('"').to_owned()))
        .collect();
    let etag = complete_parts(client, at, id, named).await?;
    let size = read::head(client, at).await?.size;
    Ok(PutOutcome { size, etag })
}

/// Completes the upload with `parts` (number, ETag); returns its ETag.
pub(crate) async fn complete_parts(
    client: &Client,
    at: &ObjectAt,
    id: &str,
    parts: Vec<(i32, String)>,
) -> PortResult<String> {
    let parts = parts
        .into_iter()
        .map(|(number, etag)| {
            SdkPart::builder()
                .part_number(number)
                .e_tag(format!("\"{etag}\""))
                .build()
        })
        .collect();
    let out = client
        .complete_multipart_upload()
        .bucket(&at.bucket)
        .key(&at.key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .map_err(|e| from_sdk(e, "CompleteMultipartUpload"))?;
    etag(out.e_tag(), "CompleteMultipartUpload")
}

pub(crate) async fn abort(client: &Client, at: &ObjectAt, id: &str) -> PortResult<()> {
    client
        .abort_multipart_upload()
        .bucket(&at.bucket)
        .key(&at.key)
        .upload_id(id)
        .send()
        .await
        .map_err(|e| from_sdk(e, "AbortMultipartUpload"))?;
    Ok(())
}

/// Aborts after a failed upload; a failure here only leaves parts for the
/// bucket's lifecycle rules to collect, so it is logged, not returned.
async fn abort_quietly(client: &Client, at: &ObjectAt, id: &str) {
    if let Err(e) = abort(client, at, id).await {
        tracing::warn!(bucket = %at.bucket, key = %at.key, error = %e, "could not abort a failed multipart upload");
    }
}

/// A multipart upload the adapter runs itself (a `put` or `copy` in parts):
/// aborted unless finished successfully, even when the caller goes away
/// mid-upload (the future is dropped) — then in a task of its own.
pub(crate) struct Upload {
    pub id: String,
    client: Client,
    at: ObjectAt,
    open: bool,
}

impl Upload {
    pub async fn create(client: &Client, at: &ObjectAt) -> PortResult<Self> {
        Ok(Self {
            id: create(client, at).await?,
            client: client.clone(),
            at: at.clone(),
            open: true,
        })
    }

    /// Ends the upload's watch: completed (`ok`), or aborted now.
    pub async fn finish(mut self, ok: bool) {
        self.open = false;
        if !ok {
            abort_quietly(&self.client, &self.at, &self.id).await;
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (client, at, id) = (self.client.clone(), self.at.clone(), self.id.clone());
            runtime.spawn(async move { abort_quietly(&client, &at, &id).await });
        }
    }
}

fn part_number(n: PartNumber) -> i32 {
    i32::from(n.get())
}
