use crate::PortResult;
use async_trait::async_trait;
use tarn_model::{MultipartUpload, PartNumber, PartRecord, RepositoryId, UploadId};

/// Multipart uploads started through the S3 gateway, tracked in metadata so
/// that ListMultipartUploads and ListParts work on every block store.
///
/// Contract, for every adapter:
/// - `create_upload` of a known upload id answers `AlreadyExists`.
/// - Operations on an unknown upload id answer `NotFound`; `delete_upload`
///   removes the upload and all its parts.
/// - `put_part` replaces a part with the same number.
/// - `list_uploads` orders by ([`MultipartUpload::gateway_key`], upload id),
///   returns those strictly after `after`, at most `limit`; `list_parts`
///   orders by part number, strictly after `after`, at most `limit`.
#[async_trait]
pub trait MultipartStore: Send + Sync + 'static {
    /// Starts tracking an upload.
    async fn create_upload(&self, upload: &MultipartUpload) -> PortResult<()>;

    /// Reads an upload.
    async fn get_upload(&self, id: &UploadId) -> PortResult<MultipartUpload>;

    /// Stops tracking an upload and its parts.
    async fn delete_upload(&self, id: &UploadId) -> PortResult<()>;

    /// Lists a repository's uploads.
    async fn list_uploads(
        &self,
        repo: &RepositoryId,
        after: Option<(&str, &UploadId)>,
        limit: usize,
    ) -> PortResult<Vec<MultipartUpload>>;

    /// Records an uploaded part.
    async fn put_part(&self, id: &UploadId, part: &PartRecord) -> PortResult<()>;

    /// Lists an upload's parts.
    async fn list_parts(
        &self,
        id: &UploadId,
        after: Option<PartNumber>,
        limit: usize,
    ) -> PortResult<Vec<PartRecord>>;
}
