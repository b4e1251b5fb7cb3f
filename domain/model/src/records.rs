//! The entities that ports persist: repositories, refs, commits, entries and
//! tracked multipart uploads.

use crate::{
    BlockKey, BranchName, CommitId, IdentHasher, InvalidValue, MetaRangeId, ObjectPath,
    RepositoryId, StagingToken, StorageNamespace, TagName, Timestamp, UploadId,
};
use std::collections::BTreeMap;

/// A repository: a namespace of versioned objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// Its id.
    pub id: RepositoryId,
    /// Where its objects and committed trees are stored.
    pub storage_namespace: StorageNamespace,
    /// The branch created with it; it can never be deleted.
    pub default_branch: BranchName,
    /// When it was created.
    pub creation_date: Timestamp,
    /// A read-only repository refuses every write.
    pub read_only: bool,
}

/// A branch: a moving pointer to a commit plus its uncommitted changes.
///
/// Writes go to `staging_token`; a commit in progress has moved the previous
/// token to the front of `sealed_tokens` (newest first). Every update of a
/// branch is a compare-and-set on the whole record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// Its name.
    pub name: BranchName,
    /// The head commit.
    pub commit_id: CommitId,
    /// The token new writes go to.
    pub staging_token: StagingToken,
    /// Tokens being committed, newest first.
    pub sealed_tokens: Vec<StagingToken>,
    /// Hidden branches (ephemeral ones, e.g. of client transactions) are left
    /// out of listings unless asked for.
    pub hidden: bool,
}

/// A tag: an immutable name for a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Its name.
    pub name: TagName,
    /// The commit it names.
    pub commit_id: CommitId,
}

/// A commit record. Its id is the hash of its content (see the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Content-addressed id.
    pub id: CommitId,
    /// Who committed.
    pub committer: String,
    /// The commit message.
    pub message: String,
    /// The committed tree.
    pub meta_range_id: MetaRangeId,
    /// When it was committed.
    pub creation_date: Timestamp,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
    /// Parent commits; the first is the first parent.
    pub parents: Vec<CommitId>,
    /// 1 for the first commit, otherwise 1 + the largest parent generation.
    pub generation: u64,
    /// Record format version (lakeFS's `CommitVersionParentSwitch` = 1).
    pub version: u8,
}

/// Where an entry's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PhysicalAddress {
    /// A key inside the repository's storage namespace (data written through Tarn).
    Relative(BlockKey),
    /// An object elsewhere (linked or imported data).
    Full {
        /// The namespace that holds it.
        namespace: StorageNamespace,
        /// Its key there.
        key: BlockKey,
    },
}

impl PhysicalAddress {
    /// The full URI, resolving a relative address against `repository_namespace`.
    pub fn uri(&self, repository_namespace: &StorageNamespace) -> String {
        match self {
            Self::Relative(key) => repository_namespace.uri_of(key),
            Self::Full { namespace, key } => namespace.uri_of(key),
        }
    }
}

/// The value of one path: where its bytes are and what describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where the bytes are.
    pub address: PhysicalAddress,
    /// Size in bytes.
    pub size: u64,
    /// The ETag: hex MD5 for single-part data, the S3 multipart ETag otherwise.
    pub checksum: String,
    /// When it was written.
    pub last_modified: Timestamp,
    /// The MIME type, if one was given.
    pub content_type: Option<String>,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
    /// Object tags (S3 object tagging): versioned with the entry, but kept
    /// apart from user metadata.
    pub tags: BTreeMap<String, String>,
}

/// The identity of an entry: equal identities mean "no change".
pub type Identity = [u8; 32];

impl Entry {
    /// Hash of size, checksum, metadata and (if any) content type and tags;
    /// never of the address or the time, so re-uploading identical bytes is
    /// no change.
    pub fn identity(&self) -> Identity {
        let mut h = IdentHasher::new();
        h.int64(i64::try_from(self.size).unwrap_or(i64::MAX))
            .string(&self.checksum)
            .string_map(&self.metadata);
        if let Some(ct) = self.content_type.as_deref().filter(|c| !c.is_empty()) {
            h.string(ct);
        }
        if !self.tags.is_empty() {
            h.string("tags").string_map(&self.tags);
        }
        h.finish()
    }

    /// Whether `self` and `other` have the same identity (see
    /// [`Entry::identity`]), compared field by field without hashing.
    pub fn same_identity(&self, other: &Entry) -> bool {
        fn ct(e: &Entry) -> &str {
            e.content_type.as_deref().unwrap_or("")
        }
        self.size == other.size
            && self.checksum == other.checksum
            && ct(self) == ct(other)
            && self.metadata == other.metadata
            && self.tags == other.tags
    }
}

/// What staging holds for a path: a new value, or a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StagedValue {
    /// The path has this value.
    Entry(Entry),
    /// The path is deleted; hides any value below it.
    Tombstone,
}

/// A part number of a multipart upload: 1 to 10,000 (as S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartNumber(u16);

impl PartNumber {
    /// The largest part number S3 accepts.
    pub const MAX: u16 = 10_000;

    /// Validates a part number.
    pub fn new(n: u32) -> Result<Self, InvalidValue> {
        match u16::try_from(n) {
            Ok(v) if (1..=Self::MAX).contains(&v) => Ok(Self(v)),
            _ => Err(InvalidValue::new(
                "part number",
                &n.to_string(),
                "must be between 1 and 10000",
            )),
        }
    }

    /// The number.
    pub fn get(self) -> u16 {
        self.0
    }
}

/// A multipart upload started through the S3 gateway, tracked in metadata so
/// that ListMultipartUploads and ListParts work on every block store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUpload {
    /// The id given to the client.
    pub upload_id: UploadId,
    /// The target repository.
    pub repository: RepositoryId,
    /// The target branch.
    pub branch: BranchName,
    /// The target path.
    pub path: ObjectPath,
    /// Where the block store assembles the data.
    pub physical_key: BlockKey,
    /// The block store's own id for the upload.
    pub block_upload_id: String,
    /// When it was started.
    pub initiated: Timestamp,
    /// MIME type for the completed object.
    pub content_type: Option<String>,
    /// User metadata for the completed object.
    pub metadata: BTreeMap<String, String>,
    /// Object tags for the completed object.
    pub tags: BTreeMap<String, String>,
}

impl MultipartUpload {
    /// The gateway key `<branch>/<path>`: listings are ordered by it, then by upload id.
    pub fn gateway_key(&self) -> String {
        format!("{}/{}", self.branch, self.path)
    }
}

/// One uploaded part of a tracked multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    /// Its number.
    pub number: PartNumber,
    /// The block store's ETag for the part.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was uploaded.
    pub last_modified: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(addr: &str, time: i64) -> Entry {
        Entry {
            address: PhysicalAddress::Relative(BlockKey::new(addr).unwrap()),
            size: 3,
            checksum: "abc".into(),
            last_modified: Timestamp::from_unix_seconds(time),
            content_type: None,
            metadata: BTreeMap::new(),
            tags: Default::default(),
        }
    }

    #[test]
    fn identity_ignores_address_and_time() {
        assert_eq!(entry("a", 1).identity(), entry("b", 2).identity());
    }

    #[test]
    fn identity_covers_size_checksum_metadata_and_content_type() {
        let base = entry("a", 1);
        let mut sized = base.clone();
        sized.size = 4;
        let mut summed = base.clone();
        summed.checksum = "abd".into();
        let mut meta = base.clone();
        meta.metadata.insert("k".into(), "v".into());
        let mut typed = base.clone();
        typed.content_type = Some("text/plain".into());
        let mut empty_type = base.clone();
        empty_type.content_type = Some(String::new());
        for changed in [&sized, &summed, &meta, &typed] {
            assert_ne!(base.identity(), changed.identity());
        }
        assert_eq!(base.identity(), empty_type.identity());
    }

    #[test]
    fn part_numbers_are_bounded() {
        assert!(PartNumber::new(0).is_err());
        assert_eq!(PartNumber::new(1).unwrap().get(), 1);
        assert_eq!(PartNumber::new(10_000).unwrap().get(), 10_000);
        assert!(PartNumber::new(10_001).is_err());
        assert!(PartNumber::new(70_000).is_err());
    }
}
