//! Multipart uploads (S3 gateway): tracked in the metadata store so that
//! ListParts and ListMultipartUploads work on every block store; parts go
//! straight to the block store's multipart API.

use crate::data::{locate, WriteCondition};
use crate::error::{body_write_error, Error, PortResultExt, Result};
use crate::Engine;
use crate::Entity;
use tarn_model::{
    BranchName, Entry, MultipartUpload, ObjectPath, PartNumber, PartRecord, RepositoryId, UploadId,
};
use tarn_ports::{multipart_etag, ByteRange, ByteStream, CompletedPart, ErrorKind};

/// A completed upload: its entry and its multipart ETag.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The staged entry.
    pub entry: Entry,
    /// The S3 multipart ETag (`<hex>-<parts>`).
    pub etag: String,
}

impl Engine {
    /// Starts an upload to `path` on branch `branch`.
    pub async fn create_multipart_upload(
        &self,
        repo: &RepositoryId,
        branch: &BranchName,
        path: &ObjectPath,
        (content_type, metadata, tags): crate::data::Described,
    ) -> Result<MultipartUpload> {
        // One read of the repository and branch (refusing read-only
        // repositories and protected branches before any data arrives).
        let ns = self
            .writable_branch(repo, branch)
            .await?
            .0
            .storage_namespace;
        let key = self.new_data_key()?;
        let block_upload_id = self.stores.blocks.create_multipart(&ns, &key).await?;
        let upload = MultipartUpload {
            upload_id: UploadId::new(self.stores.ids.new_id())?,
            repository: repo.clone(),
            branch: branch.clone(),
            path: path.clone(),
            physical_key: key,
            block_upload_id,
            initiated: self.stores.clock.now(),
            content_type: content_type.filter(|c| !c.is_empty()),
            metadata,
            tags,
        };
        self.stores.multipart.create_upload(&upload).await?;
        Ok(upload)
    }

    /// An upload of `repo`, or `NotFound` ("upload").
    pub async fn get_multipart_upload(
        &self,
        repo: &RepositoryId,
        upload_id: &str,
    ) -> Result<MultipartUpload> {
        let id =
            UploadId::new(upload_id).map_err(|_| Error::not_found(Entity::Upload, upload_id))?;
        let upload = self
            .stores
            .multipart
            .get_upload(&id)
            .await
            .named(Entity::Upload, upload_id)?;
        if upload.repository != *repo {
            return Err(Error::not_found(Entity::Upload, upload_id));
        }
        Ok(upload)
    }

    /// Stores part `number` of an upload; returns its ETag.
    pub async fn upload_part(
        &self,
        repo: &RepositoryId,
        upload_id: &str,
        number: PartNumber,
        body: ByteStream,
        size: Option<u64>,
    ) -> Result<String> {
        let ns = self.writable_repository(repo).await?.storage_namespace;
        let upload = self.get_multipart_upload(repo, upload_id).await?;
        let etag = self
            .stores
            .blocks
            .upload_part(
                &ns,
                &upload.physical_key,
                &upload.block_upload_id,
                number,
                body,
                size,
            )
            .await
            .map_err(body_write_error)?;
        let size = size.unwrap_or(0);
        self.record_part(&upload.upload_id, number, &etag, size)
            .await?;
        Ok(etag)
    }

    /// Stores part `number` as a copy of (a range of) `src_path` at `src_ref`
    /// in `src_repo`; returns its ETag.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_part_copy(
        &self,
        repo: &RepositoryId,
        upload_id: &str,
        number: PartNumber,
        src_repo: &RepositoryId,
        src_ref: &str,
        src_path: &ObjectPath,
        range: Option<ByteRange>,
    ) -> Result<String> {
        let ns = self.writable_repository(repo).await?.storage_namespace;
        let upload = self.get_multipart_upload(repo, upload_id).await?;
        let src_ns = self.get_repository(src_repo).await?.storage_namespace;
        let src = self.stat_object(src_repo, src_ref, src_path).await?;
        let size = match range {
            Some(r) => {
                let (first, last) = r
                    .resolve(src.size)
                    .ok_or(Error::InvalidRange { size: src.size })?;
                last - first + 1
            }
            None => src.size,
        };
        let (data_ns, key) = locate(&src_ns, &src.address);
        let etag = self
            .stores
            .blocks
            .upload_part_copy(
                &ns,
                &upload.physical_key,
                &upload.block_upload_id,
                number,
                &data_ns,
                &key,
                range,
            )
            .await?;
        self.record_part(&upload.upload_id, number, &etag, size)
            .await?;
        Ok(etag)
    }

    async fn record_part(
        &self,
        id: &UploadId,
        number: PartNumber,
        etag: &str,
        size: u64,
    ) -> Result<()> {
        let part = PartRecord {
            number,
            etag: etag.to_owned(),
            size,
            last_modified: self.stores.clock.now(),
        };
        self.stores
            .multipart
            .put_part(id, &part)
            .await
            .named(Entity::Upload, id)
    }

    /// Assembles the parts, stages the object, ends the upload.
    pub async fn complete_multipart_upload(
        &self,
        repo: &RepositoryId,
        upload_id: &str,
        parts: &[CompletedPart],
        condition: WriteCondition,
    ) -> Result<Completed> {
        let upload = self.get_multipart_upload(repo, upload_id).await?;
        let (repository, branch) = self.writable_branch(repo, &upload.branch).await?;
        let ns = repository.storage_namespace;
        self.check_write_condition(repo, &upload.branch, &upload.path, &condition)
            .await?;
        let recorded = self
            .list_upload_parts(repo, upload_id, None, usize::MAX)
            .await?;
        let size: u64 = parts
            .iter()
            .map(|p| {
                recorded
                    .iter()
                    .find(|r| r.number == p.number)
                    .map_or(0, |r| r.size)
            })
            .sum();
        let put = self
            .stores
            .blocks
            .complete_multipart(&ns, &upload.physical_key, &upload.block_upload_id, parts)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidInput => Error::invalid("part", e.message()),
                ErrorKind::NotFound => Error::not_found(Entity::Upload, upload_id),
                _ => Error::from(e),
            })?;
        let etag = if put.etag.contains('-') {
            put.etag.clone()
        } else {
            multipart_etag(parts.iter().map(|p| p.etag.as_str()))
        };
        // The full S3 multipart ETag (`<hex>-<parts>`), as S3 reports it on
        // reads too: clients that treat a plain 32-hex ETag as the MD5 of the
        // bytes (rclone, s3cmd) must not see this one as such. lakeFS drops
        // the suffix; Tarn keeps it.
        let checksum = etag.clone();
        let size = if put.size > 0 { put.size } else { size };
        let entry = self.fresh_entry(
            upload.physical_key.clone(),
            (size, checksum),
            (
                upload.content_type.clone(),
                upload.metadata.clone(),
                upload.tags.clone(),
            ),
        );
        // Again before staging: another write may have taken the path meanwhile.
        let entry = self
            .stage_if(
                repo,
                (&upload.branch, &upload.path),
                entry,
                &condition,
                branch.staging_token,
            )
            .await?;
        self.stores
            .multipart
            .delete_upload(&upload.upload_id)
            .await
            .named(Entity::Upload, upload_id)?;
        Ok(Completed { entry, etag })
    }

    /// Discards an upload and its parts.
    pub async fn abort_multipart_upload(&self, repo: &RepositoryId, upload_id: &str) -> Result<()> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let upload = self.get_multipart_upload(repo, upload_id).await?;
        match self
            .stores
            .blocks
            .abort_multipart(&ns, &upload.physical_key, &upload.block_upload_id)
            .await
        {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        self.stores
            .multipart
            .delete_upload(&upload.upload_id)
            .await
            .named(Entity::Upload, upload_id)
    }

    /// The recorded parts of an upload after part `after`, at most `limit`.
    pub async fn list_upload_parts(
        &self,
        repo: &RepositoryId,
        upload_id: &str,
        after: Option<PartNumber>,
        limit: usize,
    ) -> Result<Vec<PartRecord>> {
        let upload = self.get_multipart_upload(repo, upload_id).await?;
        let limit = limit.min(10_000);
        self.stores
            .multipart
            .list_parts(&upload.upload_id, after, limit)
            .await
            .named(Entity::Upload, upload_id)
    }

    /// The uploads of a repository after (`gateway key`, upload id), at most `limit`.
    pub async fn list_multipart_uploads(
        &self,
        repo: &RepositoryId,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<MultipartUpload>> {
        self.get_repository(repo).await?;
        let after_id = match after {
            Some((_, id)) => {
                Some(UploadId::new(id).map_err(|e| Error::invalid("upload-id-marker", e.reason))?)
            }
            None => None,
        };
        let after = after.zip(after_id.as_ref()).map(|((key, _), id)| (key, id));
        Ok(self
            .stores
            .multipart
            .list_uploads(repo, after, limit)
            .await?)
    }
}
