//! A `BlockStore` on Amazon S3 or any S3-compatible store, for `s3://…`
//! namespaces.
//!
//! `s3://bucket/prefix` holds key `k` at `prefix/k` in `bucket`; keys are
//! passed to S3 unchanged (S3 keys are opaque, so `..` is an ordinary name
//! and no key can leave its namespace). Requests go through the AWS SDK:
//! SigV4, retries with backoff on throttling, 5xx and connection failures,
//! one TLS stack (rustls on ring) and the standard credential chain when the
//! configuration names no key pair.
//!
//! Object bodies stream both ways. A `put` of known size is one streamed
//! `PutObject` (a multipart upload past 5 GiB); one of unknown size is read a
//! part at a time: one `PutObject` when it fits in a part, else a multipart
//! upload, so memory stays at one part per upload. S3 stores nothing for a
//! request whose body fails or has the wrong length, and parts of a failed
//! multipart upload are aborted, which gives the port's atomic writes.
//!
//! ETags are S3's: the hex MD5 for objects written in one request, the
//! multipart form `<hex>-<parts>` for objects assembled from parts (including
//! `put`s of unknown size larger than a part).

mod body;
mod client;
mod errors;
mod location;
mod multipart;
mod read;
#[cfg(feature = "testing")]
pub mod testing;
mod write;

pub use client::S3Settings;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use std::time::Duration;
use tarn_model::{BlockKey, PartNumber, StorageNamespace};
use tarn_ports::{
    BlockStore, ByteRange, ByteStream, CompletedPart, ErrorKind, GetOutcome, ListedBlock,
    ObjectMeta, PortError, PortResult, PutOutcome,
};

/// Largest object S3 stores with one `PutObject` or `CopyObject`.
pub(crate) const MAX_SINGLE_REQUEST: u64 = 5 << 30;

/// A `BlockStore` on an S3 endpoint.
#[derive(Debug, Clone)]
pub struct S3BlockStore {
    client: Client,
    part_size: u64,
    presign: bool,
}

impl S3BlockStore {
    /// The scheme this store serves.
    pub const SCHEME: &'static str = "s3";

    /// A store reaching the endpoint that `settings` describe. Nothing is
    /// sent until the first operation.
    pub async fn connect(settings: &S3Settings) -> PortResult<Self> {
        Ok(Self {
            client: client::build(settings).await?,
            part_size: settings.part_size(),
            presign: !settings.disable_presign,
        })
    }
}

#[async_trait]
impl BlockStore for S3BlockStore {
    async fn put(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome> {
        let at = location::object(ns, key)?;
        write::put(self, &at, body, size).await
    }

    async fn get(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<GetOutcome> {
        read::get(&self.client, &location::object(ns, key)?, range).await
    }

    async fn head(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<ObjectMeta> {
        read::head(&self.client, &location::object(ns, key)?).await
    }

    async fn delete(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<()> {
        write::delete(&self.client, &location::object(ns, key)?).await
    }

    async fn delete_many(&self, ns: &StorageNamespace, keys: &[BlockKey]) -> PortResult<()> {
        if keys.len() > tarn_ports::DELETE_BATCH {
            return Err(tarn_ports::PortError::invalid_input(format!(
                "at most {} keys per batch delete, not {}",
                tarn_ports::DELETE_BATCH,
                keys.len()
            )));
        }
        let base = location::namespace(ns)?;
        let full = keys
            .iter()
            .map(|k| location::object(ns, k).map(|at| at.key))
            .collect::<PortResult<Vec<_>>>()?;
        write::delete_many(&self.client, &base.bucket, full).await
    }

    async fn copy(
        &self,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        dst_ns: &StorageNamespace,
        dst: &BlockKey,
    ) -> PortResult<PutOutcome> {
        let from = location::object(src_ns, src)?;
        let to = location::object(dst_ns, dst)?;
        write::copy(self, &from, &to).await
    }

    async fn list(
        &self,
        ns: &StorageNamespace,
        prefix: &str,
        after: Option<&BlockKey>,
        limit: usize,
    ) -> PortResult<Vec<ListedBlock>> {
        let base = location::namespace(ns)?;
        read::list(&self.client, &base, prefix, after, limit).await
    }

    async fn create_multipart(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<String> {
        multipart::create(&self.client, &location::object(ns, key)?).await
    }

    async fn upload_part(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<String> {
        let at = location::object(ns, key)?;
        multipart::upload_part(&self.client, &at, upload_id, number, body, size).await
    }

    async fn upload_part_copy(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<String> {
        let at = location::object(ns, key)?;
        let from = location::object(src_ns, src)?;
        multipart::upload_part_copy(&self.client, &at, upload_id, number, &from, range).await
    }

    async fn complete_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> PortResult<PutOutcome> {
        let at = location::object(ns, key)?;
        multipart::complete(&self.client, &at, upload_id, parts).await
    }

    async fn abort_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
    ) -> PortResult<()> {
        multipart::abort(&self.client, &location::object(ns, key)?, upload_id).await
    }

    fn supports_presign(&self) -> bool {
        self.presign
    }

    async fn presign(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        method: &str,
        expiry_secs: u64,
    ) -> PortResult<String> {
        let at = location::object(ns, key)?;
        let config =
            aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(expiry_secs))
                .map_err(|e| PortError::invalid_input(format!("presign expiry: {e}")))?;
        let request = match method {
            "GET" => self
                .client
                .get_object()
                .bucket(&at.bucket)
                .key(&at.key)
                .presigned(config)
                .await
                .map_err(|e| errors::from_sdk(e, "presigning a GET"))?,
            "PUT" => self
                .client
                .put_object()
                .bucket(&at.bucket)
                .key(&at.key)
                .presigned(config)
                .await
                .map_err(|e| errors::from_sdk(e, "presigning a PUT"))?,
            other => {
                return Err(PortError::invalid_input(format!(
                    "cannot presign {other}; only GET and PUT"
                )))
            }
        };
        Ok(request.uri().to_owned())
    }

    async fn presign_part(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        expiry_secs: u64,
    ) -> PortResult<String> {
        if !self.presign {
            return Err(PortError::new(
                ErrorKind::Unsupported,
                "presigning is disabled for this block store",
            ));
        }
        let at = location::object(ns, key)?;
        let config =
            aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(expiry_secs))
                .map_err(|e| PortError::invalid_input(format!("presign expiry: {e}")))?;
        let request = self
            .client
            .upload_part()
            .bucket(&at.bucket)
            .key(&at.key)
            .upload_id(upload_id)
            .part_number(i32::from(number.get()))
            .presigned(config)
            .await
            .map_err(|e| errors::from_sdk(e, "presigning an UploadPart"))?;
        Ok(request.uri().to_owned())
    }
}
