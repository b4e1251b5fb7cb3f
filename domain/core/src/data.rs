//! Object data: writing bytes to fresh physical addresses and staging them,
//! reading them back (whole or by range), copying, and linking data written
//! directly to the store.

use crate::error::{body_write_error, Error, Result};
use crate::Engine;
use crate::Entity;
use std::collections::BTreeMap;
use tarn_model::{
    BlockKey, BranchName, Entry, ObjectPath, PhysicalAddress, RepositoryId, StagedValue,
    StagingToken, StorageNamespace,
};
use tarn_ports::{ByteRange, ByteStream, ErrorKind, GetOutcome};

/// A precondition on the current value of a path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WriteCondition {
    /// Write whatever is there.
    #[default]
    Always,
    /// Only if the path shows no object (`If-None-Match: *`).
    IfAbsent,
    /// Only if the current object's checksum is this (`If-Match`).
    IfMatch(String),
}

/// What describes an upload.
#[derive(Debug, Clone, Default)]
pub struct UploadRequest {
    /// The declared size, checked against the bytes received.
    pub size: Option<u64>,
    /// The MIME type.
    pub content_type: Option<String>,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
    /// Object tags.
    pub tags: BTreeMap<String, String>,
    /// A precondition.
    pub condition: WriteCondition,
}

/// What a copy changes from its source; by default nothing (S3's `COPY`
/// directives).
#[derive(Debug, Clone, Default)]
pub struct CopyChanges {
    /// A new content type (kept when `None` or empty) and user metadata: S3's
    /// `x-amz-metadata-directive: REPLACE`.
    pub described: Option<(Option<String>, BTreeMap<String, String>)>,
    /// New tags: S3's `x-amz-tagging-directive: REPLACE`.
    pub tags: Option<BTreeMap<String, String>>,
}

/// What describes new data: content type, user metadata and tags.
pub type Described = (
    Option<String>,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
);

/// Metadata of data written directly to the store, to link at a path.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    /// The key [`Engine::new_physical_address`] gave out.
    pub key: BlockKey,
    /// Its checksum (ETag).
    pub checksum: String,
    /// Its size.
    pub size: u64,
    /// The MIME type.
    pub content_type: Option<String>,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
    /// A precondition.
    pub condition: WriteCondition,
}

/// An object read.
#[derive(Debug)]
pub struct ObjectRead {
    /// Its entry.
    pub entry: Entry,
    /// Its bytes (possibly a range of them).
    pub data: GetOutcome,
}

impl Engine {
    /// A fresh key for data in a repository's namespace: `data/<hour>/<id>`.
    /// Keys are never reused, so data objects are never overwritten.
    pub fn new_data_key(&self) -> Result<BlockKey> {
        let hour = self.stores.clock.now().unix_seconds().div_euclid(3600);
        Ok(BlockKey::new(format!(
            "data/h{hour}/{}",
            self.stores.ids.new_id()
        ))?)
    }

    /// A fresh key for a client to write `path` of `repo` to directly:
    /// `data/<hour>/<id>-<mac>`, the MAC binding it to the repository and
    /// path, so that [`Self::link_object`] links only addresses given out
    /// for that path (not other objects' data, which listings show).
    pub(crate) fn new_link_key(&self, repo: &RepositoryId, path: &ObjectPath) -> Result<BlockKey> {
        let base = self.new_data_key()?;
        let mac = self.link_mac(repo, path, base.as_str());
        Ok(BlockKey::new(format!("{}-{mac}", base.as_str()))?)
    }

    fn link_mac(&self, repo: &RepositoryId, path: &ObjectPath, base: &str) -> String {
        use hmac::{Hmac, Mac};
        // HMAC accepts keys of any length: this cannot fail.
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.settings.link_key.0) else {
            return String::new();
        };
        for part in [repo.as_str(), path.as_str(), base] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Whether `key`, a data key (`data/h<hour>/…`), was written within the
    /// link lifetime: given-out addresses link only then, so that garbage
    /// collection can treat older ones as abandoned.
    pub(crate) fn link_key_fresh(&self, key: &BlockKey) -> bool {
        let hour = key
            .as_str()
            .strip_prefix("data/h")
            .and_then(|rest| rest.split('/').next())
            .and_then(|h| h.parse::<i64>().ok());
        let now = self.stores.clock.now().unix_seconds().div_euclid(3600);
        hour.is_some_and(|h| now - h <= LINK_LIFETIME_HOURS)
    }

    /// Whether `key` was given out by [`Self::new_physical_address`] for
    /// `path` of `repo`.
    pub(crate) fn link_key_valid(
        &self,
        repo: &RepositoryId,
        path: &ObjectPath,
        key: &BlockKey,
    ) -> bool {
        let Some((base, mac)) = key.as_str().rsplit_once('-') else {
            return false;
        };
        let expected = self.link_mac(repo, path, base);
        !expected.is_empty() && crate::auth::crypt::same_secret(&expected, mac)
    }

    /// Whether `key` is data this server gave out for `path` of `repo` to be
    /// written directly (and so may be linked there by its writer).
    pub fn is_link_address(&self, repo: &RepositoryId, path: &ObjectPath, key: &BlockKey) -> bool {
        key.as_str().starts_with("data/")
            && self.link_key_valid(repo, path, key)
            && self.link_key_fresh(key)
    }

    /// A fresh physical address for a client to write `path` to directly,
    /// with its full URI.
    pub async fn new_physical_address(
        &self,
        repo: &RepositoryId,
        path: &ObjectPath,
    ) -> Result<(BlockKey, String)> {
        let ns = self.writable_repository(repo).await?.storage_namespace;
        let key = self.new_link_key(repo, path)?;
        let uri = ns.uri_of(&key);
        Ok((key, uri))
    }

    pub(crate) async fn check_write_condition(
        &self,
        repo: &RepositoryId,
        branch: &BranchName,
        path: &ObjectPath,
        c: &WriteCondition,
    ) -> Result<()> {
        if *c == WriteCondition::Always {
            return Ok(());
        }
        let current = match self.stat_object(repo, branch.as_str(), path).await {
            Ok(e) => Some(e),
            Err(Error::NotFound {
                entity: Entity::Object,
                ..
            }) => None,
            Err(e) => return Err(e),
        };
        let ok = match (c, &current) {
            (WriteCondition::IfAbsent, None) => true,
            (WriteCondition::IfMatch(etag), Some(e)) => {
                let want = etag.trim_matches('"');
                want == "*" || want == e.checksum
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::PreconditionFailed)
        }
    }

    /// Streams `body` to a fresh address and stages it at `path`.
    pub async fn upload_object(
        &self,
        repo: &RepositoryId,
        branch: &BranchName,
        path: &ObjectPath,
        body: ByteStream,
        req: UploadRequest,
    ) -> Result<Entry> {
        let (entry, _) = self.upload_object_in(repo, branch, path, body, req).await?;
        Ok(entry)
    }

    /// [`Self::upload_object`], with the repository's storage namespace
    /// (read on the way, so that an answer naming the object's physical
    /// address needs no second read).
    #[tracing::instrument(skip(self, body, req), fields(repo = %repo, branch = %branch, path = %path))]
    pub async fn upload_object_in(
        &self,
        repo: &RepositoryId,
        branch: &BranchName,
        path: &ObjectPath,
        body: ByteStream,
        req: UploadRequest,
    ) -> Result<(Entry, StorageNamespace)> {
        let (repository, b) = self.writable_branch(repo, branch).await?;
        let (ns, token) = (repository.storage_namespace, b.staging_token);
        self.check_write_condition(repo, branch, path, &req.condition)
            .await?;
        let key = self.new_data_key()?;
        let put = self
            .stores
            .blocks
            .put_fresh(&ns, &key, body, req.size)
            .await
            .map_err(body_write_error)?;
        let described = (req.content_type, req.metadata, req.tags);
        let entry = self.fresh_entry(key, (put.size, put.etag), described);
        // Again, now that the data is in: a write that raced this one may
        // have taken the path meanwhile.
        let entry = self
            .stage_if(repo, (branch, path), entry, &req.condition, token)
            .await?;
        Ok((entry, ns))
    }

    /// An entry for data just written to `key`.
    pub(crate) fn fresh_entry(
        &self,
        key: BlockKey,
        (size, checksum): (u64, String),
        (content_type, metadata, tags): Described,
    ) -> Entry {
        Entry {
            address: PhysicalAddress::Relative(key),
            size,
            checksum,
            last_modified: self.stores.clock.now(),
            content_type: content_type.filter(|c| !c.is_empty()),
            metadata,
            tags,
        }
    }

    /// Stages `entry` if `condition` holds now (the check is not atomic with
    /// the staging: a staging-store compare-and-set would make it so).
    /// `token` is the branch's staging token as the caller read it with
    /// [`Engine::writable_branch`], which checked the repository and the
    /// branch's protection.
    pub(crate) async fn stage_if(
        &self,
        repo: &RepositoryId,
        (branch, path): (&BranchName, &ObjectPath),
        entry: Entry,
        condition: &WriteCondition,
        token: StagingToken,
    ) -> Result<Entry> {
        self.check_write_condition(repo, branch, path, condition)
            .await?;
        self.safe_write(
            repo,
            branch,
            path,
            &StagedValue::Entry(entry.clone()),
            token,
        )
        .await?;
        Ok(entry)
    }

    /// Stages data a client wrote to an address from [`Self::new_physical_address`].
    pub async fn link_object(
        &self,
        repo: &RepositoryId,
        branch: &BranchName,
        path: &ObjectPath,
        req: LinkRequest,
    ) -> Result<Entry> {
        let (repository, b) = self.writable_branch(repo, branch).await?;
        let ns = repository.storage_namespace;
        if !req.key.as_str().starts_with("data/") || !self.link_key_valid(repo, path, &req.key) {
            return Err(Error::invalid(
                "physical_address",
                "not an address this server gave out for this path",
            ));
        }
        if !self.link_key_fresh(&req.key) {
            return Err(link_expired());
        }
        let meta = self
            .stores
            .blocks
            .head(&ns, &req.key)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => {
                    Error::invalid("physical_address", "no data was written there")
                }
                _ => Error::from(e),
            })?;
        if meta.size != req.size {
            return Err(Error::invalid(
                "size_bytes",
                format!("the data has {} bytes, not {}", meta.size, req.size),
            ));
        }
        // The checksum is the store's ETag of what was written (some stores
        // list none; then the client's word stands).
        let checksum = req.checksum.trim_matches('"');
        if !meta.etag.is_empty() && meta.etag != checksum {
            return Err(Error::invalid(
                "checksum",
                format!("the data's checksum is {}, not {checksum}", meta.etag),
            ));
        }
        let checksum = checksum.to_owned();
        let entry = self.fresh_entry(
            req.key,
            (req.size, checksum),
            (req.content_type, req.metadata, BTreeMap::new()),
        );
        self.stage_if(repo, (branch, path), entry, &req.condition, b.staging_token)
            .await
    }

    /// Whether the block store hands out presigned URLs.
    pub fn supports_presign(&self) -> bool {
        self.stores.blocks.supports_presign()
    }

    /// A URL reading `path` on `reference` straight from the block store,
    /// valid for `expiry_secs`.
    pub async fn presign_read(
        &self,
        repo: &RepositoryId,
        reference: &str,
        path: &ObjectPath,
        expiry_secs: u64,
    ) -> Result<String> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let entry = self.stat_object(repo, reference, path).await?;
        self.presign_address(&ns, &entry.address, expiry_secs).await
    }

    /// A URL reading `address` (of a repository with namespace `ns`)
    /// straight from the block store, valid for `expiry_secs`.
    pub async fn presign_address(
        &self,
        ns: &StorageNamespace,
        address: &PhysicalAddress,
        expiry_secs: u64,
    ) -> Result<String> {
        let (data_ns, key) = locate(ns, address);
        Ok(self
            .stores
            .blocks
            .presign(&data_ns, &key, "GET", expiry_secs)
            .await?)
    }

    /// A fresh address to write for `repo` (see [`Self::new_physical_address`])
    /// and a URL that writes it straight to the block store, valid for
    /// `expiry_secs`.
    pub async fn presign_new_address(
        &self,
        repo: &RepositoryId,
        path: &ObjectPath,
        expiry_secs: u64,
    ) -> Result<(String, String)> {
        let ns = self.writable_repository(repo).await?.storage_namespace;
        let key = self.new_link_key(repo, path)?;
        let url = self
            .stores
            .blocks
            .presign(&ns, &key, "PUT", expiry_secs)
            .await?;
        Ok((ns.uri_of(&key), url))
    }

    /// Reads `path` on `reference`, or a range of it.
    pub async fn read_object(
        &self,
        repo: &RepositoryId,
        reference: &str,
        path: &ObjectPath,
        range: Option<ByteRange>,
    ) -> Result<ObjectRead> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let entry = self.stat_object(repo, reference, path).await?;
        let (data_ns, key) = locate(&ns, &entry.address);
        let data = self
            .stores
            .blocks
            .get(&data_ns, &key, range)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => Error::Gone(path.to_string()),
                ErrorKind::InvalidRange => Error::InvalidRange { size: entry.size },
                _ => Error::from(e),
            })?;
        Ok(ObjectRead { entry, data })
    }

    /// Copies `src_path` at `src_ref` to `dest_path` on branch `dest`: the
    /// data is copied to a fresh address (server-side where the store can).
    pub async fn copy_object(
        &self,
        repo: &RepositoryId,
        src_ref: &str,
        src_path: &ObjectPath,
        dest: &BranchName,
        dest_path: &ObjectPath,
    ) -> Result<Entry> {
        let keep = CopyChanges::default();
        self.copy_object_with(repo, src_ref, src_path, dest, dest_path, keep)
            .await
    }

    /// [`Engine::copy_object`], replacing the content type and user metadata
    /// when `replace` says so (S3's `x-amz-metadata-directive: REPLACE`), in
    /// the one staged entry.
    pub async fn copy_object_with(
        &self,
        repo: &RepositoryId,
        src_ref: &str,
        src_path: &ObjectPath,
        dest: &BranchName,
        dest_path: &ObjectPath,
        changes: CopyChanges,
    ) -> Result<Entry> {
        let ns = self.writable_repository(repo).await?.storage_namespace;
        self.get_branch(repo, dest).await?;
        let src = self.stat_object(repo, src_ref, src_path).await?;
        let (src_ns, src_key) = locate(&ns, &src.address);
        let key = self.new_data_key()?;
        self.stores
            .blocks
            .copy(&src_ns, &src_key, &ns, &key)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => Error::Gone(src_path.to_string()),
                _ => Error::from(e),
            })?;
        let mut entry = Entry {
            address: PhysicalAddress::Relative(key),
            last_modified: self.stores.clock.now(),
            ..src
        };
        if let Some((content_type, metadata)) = changes.described {
            entry.content_type = content_type
                .filter(|c| !c.is_empty())
                .or(entry.content_type);
            entry.metadata = metadata;
        }
        if let Some(tags) = changes.tags {
            entry.tags = tags;
        }
        self.stage_object(repo, dest, dest_path, entry.clone())
            .await?;
        Ok(entry)
    }

    /// Stages `entry`, a changed copy of what `path` holds, unless the path
    /// changed meanwhile (another write or a delete): then 412, rather than
    /// putting back the bytes that were read.
    async fn restage(
        &self,
        repo: &RepositoryId,
        (name, path): (&BranchName, &ObjectPath),
        entry: Entry,
    ) -> Result<Entry> {
        let token = self.writable_branch(repo, name).await?.1.staging_token;
        let read = WriteCondition::IfMatch(entry.checksum.clone());
        let staged = self
            .stage_if(repo, (name, path), entry, &read, token)
            .await?;
        // Re-checked once written: a write that raced this one wins.
        match self.stat_object(repo, name.as_str(), path).await {
            Ok(now) if now.address == staged.address => Ok(staged),
            Ok(_) | Err(Error::NotFound { .. }) => Err(Error::PreconditionFailed),
            Err(e) => Err(e),
        }
    }

    /// Replaces the tags of `path` on branch `name` (S3 object tagging).
    pub async fn set_object_tags(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        path: &ObjectPath,
        tags: BTreeMap<String, String>,
    ) -> Result<Entry> {
        let current = self.stat_object(repo, name.as_str(), path).await?;
        self.restage(repo, (name, path), Entry { tags, ..current })
            .await
    }

    /// Replaces the user metadata of `path` on branch `name`.
    pub async fn update_user_metadata(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        path: &ObjectPath,
        metadata: BTreeMap<String, String>,
    ) -> Result<Entry> {
        let current = self.stat_object(repo, name.as_str(), path).await?;
        let entry = Entry {
            metadata,
            ..current
        };
        self.restage(repo, (name, path), entry).await
    }
}

/// How long an address given out for a direct write stays linkable, in
/// hours (lakeFS's `LinkAddressTime`: 24 hours). Garbage collection treats
/// older unlinked data as abandoned.
pub const LINK_LIFETIME_HOURS: i64 = 24;

/// The answer to linking an address given out too long ago.
pub(crate) fn link_expired() -> Error {
    Error::invalid(
        "physical_address",
        format!("link address expired: addresses given out for direct writes link within {LINK_LIFETIME_HOURS} hours"),
    )
}

/// The namespace and key that hold an entry's bytes.
pub(crate) fn locate(
    repo_ns: &StorageNamespace,
    address: &PhysicalAddress,
) -> (StorageNamespace, BlockKey) {
    match address {
        PhysicalAddress::Relative(key) => (repo_ns.clone(), key.clone()),
        PhysicalAddress::Full { namespace, key } => (namespace.clone(), key.clone()),
    }
}
