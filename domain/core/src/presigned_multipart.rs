//! Presigned multipart uploads (lakeFS's experimental `/staging/pmpu`): the
//! client uploads an object's parts straight to the block store with URLs
//! Tarn presigns, then Tarn assembles them and stages the object. The
//! address is one Tarn gave out for that path (MAC-bound, as for
//! `getPhysicalAddress`), so a completion cannot stage someone else's data.

use crate::data::Described;
use crate::error::{Error, Result};
use crate::Engine;
use tarn_model::{BlockKey, BranchName, Entry, ObjectPath, PartNumber, RepositoryId};
use tarn_ports::CompletedPart;

/// A started presigned upload.
#[derive(Debug, Clone)]
pub struct PresignedUpload {
    /// The block store's upload id.
    pub upload_id: String,
    /// The full URI the object will have.
    pub physical_address: String,
    /// One URL per part asked for, in part order.
    pub part_urls: Vec<String>,
}

impl Engine {
    /// The key of `physical_address` (a full URI in the repository's
    /// namespace that Tarn gave out for `path`), or an invalid-input error.
    async fn presigned_key(
        &self,
        repo: &RepositoryId,
        path: &ObjectPath,
        physical_address: &str,
    ) -> Result<(tarn_model::StorageNamespace, BlockKey)> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let refused = || {
            Error::invalid(
                "physical_address",
                "not an address this server gave out for this path",
            )
        };
        let key = physical_address
            .strip_prefix(&format!("{}/", ns.as_str()))
            .ok_or_else(refused)?;
        let key = BlockKey::new(key).map_err(|_| refused())?;
        if !key.as_str().starts_with("data/") || !self.link_key_valid(repo, path, &key) {
            return Err(refused());
        }
        if !self.link_key_fresh(&key) {
            return Err(crate::data::link_expired());
        }
        Ok((ns, key))
    }

    /// Starts an upload to `path` on `branch` and presigns `parts` part URLs,
    /// valid for `expiry_secs`.
    pub async fn create_presigned_upload(
        &self,
        repo: &RepositoryId,
        branch: &BranchName,
        path: &ObjectPath,
        parts: u32,
        expiry_secs: u64,
    ) -> Result<PresignedUpload> {
        let ns = self
            .writable_branch(repo, branch)
            .await?
            .0
            .storage_namespace;
        let key = self.new_link_key(repo, path)?;
        let upload_id = self.stores.blocks.create_multipart(&ns, &key).await?;
        let mut part_urls = Vec::new();
        for n in 1..=parts {
            let number = PartNumber::new(n)?;
            part_urls.push(
                self.stores
                    .blocks
                    .presign_part(&ns, &key, &upload_id, number, expiry_secs)
                    .await?,
            );
        }
        Ok(PresignedUpload {
            upload_id,
            physical_address: ns.uri_of(&key),
            part_urls,
        })
    }

    /// A URL for one more part of a presigned upload.
    pub async fn presign_upload_part(
        &self,
        repo: &RepositoryId,
        path: &ObjectPath,
        (upload_id, physical_address): (&str, &str),
        number: PartNumber,
        expiry_secs: u64,
    ) -> Result<String> {
        let (ns, key) = self.presigned_key(repo, path, physical_address).await?;
        Ok(self
            .stores
            .blocks
            .presign_part(&ns, &key, upload_id, number, expiry_secs)
            .await?)
    }

    /// Copies (a range of) an object into part `number` of a presigned
    /// upload, server-side; returns the part's ETag.
    pub async fn copy_upload_part(
        &self,
        repo: &RepositoryId,
        path: &ObjectPath,
        (upload_id, physical_address): (&str, &str),
        number: PartNumber,
        (src_repo, src_ref, src_path, range): (
            &RepositoryId,
            &str,
            &ObjectPath,
            Option<tarn_ports::ByteRange>,
        ),
    ) -> Result<String> {
        let (ns, key) = self.presigned_key(repo, path, physical_address).await?;
        let src_ns = self.get_repository(src_repo).await?.storage_namespace;
        let src = self.stat_object(src_repo, src_ref, src_path).await?;
        let (from_ns, from_key) = crate::data::locate(&src_ns, &src.address);
        Ok(self
            .stores
            .blocks
            .upload_part_copy(&ns, &key, upload_id, number, &from_ns, &from_key, range)
            .await?)
    }

    /// Assembles a presigned upload's parts and stages the object.
    pub async fn complete_presigned_upload(
        &self,
        repo: &RepositoryId,
        (branch, path): (&BranchName, &ObjectPath),
        (upload_id, physical_address): (&str, &str),
        parts: &[CompletedPart],
        described: Described,
    ) -> Result<Entry> {
        let (ns, key) = self.presigned_key(repo, path, physical_address).await?;
        let token = self.writable_branch(repo, branch).await?.1.staging_token;
        let put = self
            .stores
            .blocks
            .complete_multipart(&ns, &key, upload_id, parts)
            .await?;
        let entry = self.fresh_entry(key, (put.size, put.etag), described);
        self.stage_if(
            repo,
            (branch, path),
            entry,
            &crate::WriteCondition::Always,
            token,
        )
        .await
    }

    /// Discards a presigned upload and its parts.
    pub async fn abort_presigned_upload(
        &self,
        repo: &RepositoryId,
        path: &ObjectPath,
        (upload_id, physical_address): (&str, &str),
    ) -> Result<()> {
        let (ns, key) = self.presigned_key(repo, path, physical_address).await?;
        Ok(self
            .stores
            .blocks
            .abort_multipart(&ns, &key, upload_id)
            .await?)
    }
}
