//! Metrics as decorators of the ports (DESIGN: observability wraps ports,
//! the domain counts nothing by hand). [`MeteredBlockStore`] counts every
//! block store call, its errors by kind and its latency, by operation.

use async_trait::async_trait;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tarn_model::{BlockKey, PartNumber, StorageNamespace};
use tarn_ports::{
    BlockStore, ByteRange, ByteStream, CompletedPart, GetOutcome, ListedBlock, ObjectMeta,
    PortResult, PutOutcome,
};
use tracing::Instrument;

/// Times `call` as block store operation `op`, in a span of its own
/// (`blockstore`, at debug level, named `blockstore <op>` when exported).
async fn measured<T>(op: &'static str, call: impl Future<Output = PortResult<T>>) -> PortResult<T> {
    let span = tracing::debug_span!(
        "blockstore",
        operation = op,
        otel.name = %format_args!("blockstore {op}"),
        error = tracing::field::Empty,
    );
    let start = Instant::now();
    let result = call.instrument(span.clone()).await;
    metrics::counter!("tarn_blockstore_calls_total", "operation" => op).increment(1);
    metrics::histogram!("tarn_blockstore_call_duration_seconds", "operation" => op)
        .record(start.elapsed().as_secs_f64());
    if let Err(e) = &result {
        let kind = e.kind().to_string();
        span.record("error", kind.as_str());
        metrics::counter!("tarn_blockstore_errors_total", "operation" => op, "kind" => kind)
            .increment(1);
    }
    result
}

/// A block store whose calls are counted and timed. For reads, the time is
/// to the first byte (the body streams afterwards).
pub struct MeteredBlockStore(pub Arc<dyn BlockStore>);

#[async_trait]
impl BlockStore for MeteredBlockStore {
    async fn put(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome> {
        measured("put", self.0.put(ns, key, body, size)).await
    }

    async fn put_fresh(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome> {
        measured("put_fresh", self.0.put_fresh(ns, key, body, size)).await
    }

    async fn put_small_many(
        &self,
        ns: &StorageNamespace,
        objects: &[(BlockKey, bytes::Bytes)],
    ) -> PortResult<Vec<PutOutcome>> {
        measured("put_small_many", self.0.put_small_many(ns, objects)).await
    }

    async fn get(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<GetOutcome> {
        measured("get", self.0.get(ns, key, range)).await
    }

    async fn head(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<ObjectMeta> {
        measured("head", self.0.head(ns, key)).await
    }

    async fn delete(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<()> {
        measured("delete", self.0.delete(ns, key)).await
    }

    async fn delete_many(&self, ns: &StorageNamespace, keys: &[BlockKey]) -> PortResult<()> {
        measured("delete_many", self.0.delete_many(ns, keys)).await
    }

    async fn copy(
        &self,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        dst_ns: &StorageNamespace,
        dst: &BlockKey,
    ) -> PortResult<PutOutcome> {
        measured("copy", self.0.copy(src_ns, src, dst_ns, dst)).await
    }

    async fn list(
        &self,
        ns: &StorageNamespace,
        prefix: &str,
        after: Option<&BlockKey>,
        limit: usize,
    ) -> PortResult<Vec<ListedBlock>> {
        measured("list", self.0.list(ns, prefix, after, limit)).await
    }

    async fn create_multipart(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<String> {
        measured("create_multipart", self.0.create_multipart(ns, key)).await
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
        let call = self.0.upload_part(ns, key, upload_id, number, body, size);
        measured("upload_part", call).await
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
        let call = self
            .0
            .upload_part_copy(ns, key, upload_id, number, src_ns, src, range);
        measured("upload_part_copy", call).await
    }

    async fn complete_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> PortResult<PutOutcome> {
        let call = self.0.complete_multipart(ns, key, upload_id, parts);
        measured("complete_multipart", call).await
    }

    async fn abort_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
    ) -> PortResult<()> {
        measured(
            "abort_multipart",
            self.0.abort_multipart(ns, key, upload_id),
        )
        .await
    }

    fn supports_presign(&self) -> bool {
        self.0.supports_presign()
    }

    async fn presign(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        method: &str,
        expiry_secs: u64,
    ) -> PortResult<String> {
        measured("presign", self.0.presign(ns, key, method, expiry_secs)).await
    }

    async fn presign_part(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        expiry_secs: u64,
    ) -> PortResult<String> {
        let call = self.0.presign_part(ns, key, upload_id, number, expiry_secs);
        measured("presign_part", call).await
    }
}
