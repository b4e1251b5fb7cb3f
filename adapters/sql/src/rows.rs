//! Rows as stored, and their conversion to and from the model. Anything that
//! does not decode is reported as corrupt, never unwrapped.

use crate::db::corrupt;
use crate::schema::{
    branches, commits, multipart_parts, multipart_uploads, repositories, staging, tags,
};
use diesel::prelude::*;
use std::collections::BTreeMap;
use tarn_model::tree::{decode_entry_value, encode_entry_value};
use tarn_model::{
    BlockKey, Branch, BranchName, Commit, CommitId, MetaRangeId, MultipartUpload, ObjectPath,
    PartNumber, PartRecord, Repository, RepositoryId, StagedValue, StagingToken, StorageNamespace,
    Tag, TagName, Timestamp, UploadId,
};
use tarn_ports::{CommitLink, PortError, PortResult, StagingEntry};

/// A count or size as the database stores it (signed 64-bit).
pub(crate) fn to_i64(v: u64, what: &str) -> PortResult<i64> {
    i64::try_from(v).map_err(|_| PortError::invalid_input(format!("{what} {v} is too large")))
}

/// A limit as SQL wants it.
pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(v: i64, what: &str) -> PortResult<u64> {
    u64::try_from(v).map_err(|e| corrupt(what, e))
}

fn map_to_json(m: &BTreeMap<String, String>) -> PortResult<String> {
    serde_json::to_string(m).map_err(|e| PortError::internal(format!("cannot encode: {e}")))
}

fn map_from_json(s: &str, what: &str) -> PortResult<BTreeMap<String, String>> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

fn valid<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> PortResult<T> {
    r.map_err(|e| corrupt(what, e))
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = repositories)]
pub(crate) struct RepositoryRow {
    pub id: String,
    pub storage_namespace: String,
    pub default_branch: String,
    pub creation_date: i64,
    pub read_only: bool,
}

impl RepositoryRow {
    pub(crate) fn from_model(r: &Repository) -> Self {
        Self {
            id: r.id.as_str().to_owned(),
            storage_namespace: r.storage_namespace.as_str().to_owned(),
            default_branch: r.default_branch.as_str().to_owned(),
            creation_date: r.creation_date.unix_micros(),
            read_only: r.read_only,
        }
    }

    pub(crate) fn into_model(self) -> PortResult<Repository> {
        Ok(Repository {
            id: valid(RepositoryId::new(self.id), "repository id")?,
            storage_namespace: valid(
                StorageNamespace::new(self.storage_namespace),
                "storage namespace",
            )?,
            default_branch: valid(BranchName::new(self.default_branch), "branch name")?,
            creation_date: Timestamp::from_unix_micros(self.creation_date),
            read_only: self.read_only,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = branches)]
pub(crate) struct BranchRow {
    pub repository: String,
    pub name: String,
    pub commit_id: String,
    pub staging_token: String,
    pub sealed_tokens: String,
    pub hidden: bool,
}

/// Sealed tokens as one column: a JSON array, so that the compare-and-set
/// can compare it as a whole.
pub(crate) fn sealed_json(tokens: &[StagingToken]) -> PortResult<String> {
    let v: Vec<&str> = tokens.iter().map(StagingToken::as_str).collect();
    serde_json::to_string(&v).map_err(|e| PortError::internal(format!("cannot encode: {e}")))
}

impl BranchRow {
    pub(crate) fn from_model(repo: &RepositoryId, b: &Branch) -> PortResult<Self> {
        Ok(Self {
            repository: repo.as_str().to_owned(),
            name: b.name.as_str().to_owned(),
            commit_id: b.commit_id.as_str().to_owned(),
            staging_token: b.staging_token.as_str().to_owned(),
            sealed_tokens: sealed_json(&b.sealed_tokens)?,
            hidden: b.hidden,
        })
    }

    pub(crate) fn into_model(self) -> PortResult<Branch> {
        let sealed: Vec<String> = valid(serde_json::from_str(&self.sealed_tokens), "tokens")?;
        Ok(Branch {
            name: valid(BranchName::new(self.name), "branch name")?,
            commit_id: valid(CommitId::new(self.commit_id), "commit id")?,
            staging_token: valid(StagingToken::new(self.staging_token), "staging token")?,
            sealed_tokens: sealed
                .into_iter()
                .map(|t| valid(StagingToken::new(t), "staging token"))
                .collect::<PortResult<_>>()?,
            hidden: self.hidden,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tags)]
pub(crate) struct TagRow {
    pub repository: String,
    pub name: String,
    pub commit_id: String,
}

impl TagRow {
    pub(crate) fn from_model(repo: &RepositoryId, t: &Tag) -> Self {
        Self {
            repository: repo.as_str().to_owned(),
            name: t.name.as_str().to_owned(),
            commit_id: t.commit_id.as_str().to_owned(),
        }
    }

    pub(crate) fn into_model(self) -> PortResult<Tag> {
        Ok(Tag {
            name: valid(TagName::new(self.name), "tag name")?,
            commit_id: valid(CommitId::new(self.commit_id), "commit id")?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = commits)]
pub(crate) struct CommitRow {
    pub repository: String,
    pub id: String,
    pub committer: String,
    pub message: String,
    pub meta_range_id: String,
    pub creation_date: i64,
    pub metadata: String,
    pub parents: String,
    pub generation: i64,
    pub version: i16,
}

impl CommitRow {
    pub(crate) fn from_model(repo: &RepositoryId, c: &Commit) -> PortResult<Self> {
        let parents: Vec<&str> = c.parents.iter().map(CommitId::as_str).collect();
        Ok(Self {
            repository: repo.as_str().to_owned(),
            id: c.id.as_str().to_owned(),
            committer: c.committer.clone(),
            message: c.message.clone(),
            meta_range_id: c.meta_range_id.as_str().to_owned(),
            creation_date: c.creation_date.unix_micros(),
            metadata: map_to_json(&c.metadata)?,
            parents: serde_json::to_string(&parents)
                .map_err(|e| PortError::internal(format!("cannot encode: {e}")))?,
            generation: to_i64(c.generation, "generation")?,
            version: i16::from(c.version),
        })
    }

    pub(crate) fn into_model(self) -> PortResult<Commit> {
        let parents: Vec<String> = valid(serde_json::from_str(&self.parents), "parents")?;
        Ok(Commit {
            id: valid(CommitId::new(self.id), "commit id")?,
            committer: self.committer,
            message: self.message,
            meta_range_id: valid(MetaRangeId::new(self.meta_range_id), "metarange id")?,
            creation_date: Timestamp::from_unix_micros(self.creation_date),
            metadata: map_from_json(&self.metadata, "commit metadata")?,
            parents: parents
                .into_iter()
                .map(|p| valid(CommitId::new(p), "commit id"))
                .collect::<PortResult<_>>()?,
            generation: to_u64(self.generation, "generation")?,
            version: valid(u8::try_from(self.version), "commit version")?,
        })
    }
}

/// What a walk of the log reads of a commit.
#[derive(Queryable, Selectable)]
#[diesel(table_name = commits)]
pub(crate) struct LinkRow {
    pub id: String,
    pub parents: String,
    pub generation: i64,
    pub creation_date: i64,
    pub meta_range_id: String,
    pub summary: Option<Vec<u8>>,
}

impl LinkRow {
    pub(crate) fn into_link(self) -> PortResult<CommitLink> {
        let parents: Vec<String> = valid(serde_json::from_str(&self.parents), "parents")?;
        Ok(CommitLink {
            id: valid(CommitId::new(self.id), "commit id")?,
            parents: parents
                .into_iter()
                .map(|p| valid(CommitId::new(p), "commit id"))
                .collect::<PortResult<_>>()?,
            generation: to_u64(self.generation, "generation")?,
            creation_date: Timestamp::from_unix_micros(self.creation_date),
            meta_range_id: valid(MetaRangeId::new(self.meta_range_id), "metarange id")?,
            summary: self.summary,
        })
    }
}

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = staging)]
pub(crate) struct StagingRow {
    pub token: String,
    pub path: String,
    pub entry: Option<Vec<u8>>,
}

impl StagingRow {
    pub(crate) fn from_model(token: &StagingToken, path: &ObjectPath, v: &StagedValue) -> Self {
        Self {
            token: token.as_str().to_owned(),
            path: path.as_str().to_owned(),
            entry: match v {
                StagedValue::Entry(e) => Some(encode_entry_value(e)),
                StagedValue::Tombstone => None,
            },
        }
    }
}

/// A staged value from its column (`NULL` is a tombstone).
pub(crate) fn staged_value(entry: Option<Vec<u8>>) -> PortResult<StagedValue> {
    match entry {
        None => Ok(StagedValue::Tombstone),
        Some(bytes) => Ok(StagedValue::Entry(valid(
            decode_entry_value(&bytes),
            "staged entry",
        )?)),
    }
}

pub(crate) fn staging_entry((path, entry): (String, Option<Vec<u8>>)) -> PortResult<StagingEntry> {
    Ok((valid(ObjectPath::new(path), "path")?, staged_value(entry)?))
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = multipart_uploads)]
pub(crate) struct UploadRow {
    pub upload_id: String,
    pub repository: String,
    pub gateway_key: String,
    pub branch: String,
    pub path: String,
    pub physical_key: String,
    pub block_upload_id: String,
    pub initiated: i64,
    pub content_type: Option<String>,
    pub metadata: String,
    pub tags: String,
}

impl UploadRow {
    pub(crate) fn from_model(u: &MultipartUpload) -> PortResult<Self> {
        Ok(Self {
            upload_id: u.upload_id.as_str().to_owned(),
            repository: u.repository.as_str().to_owned(),
            gateway_key: u.gateway_key(),
            branch: u.branch.as_str().to_owned(),
            path: u.path.as_str().to_owned(),
            physical_key: u.physical_key.as_str().to_owned(),
            block_upload_id: u.block_upload_id.clone(),
            initiated: u.initiated.unix_micros(),
            content_type: u.content_type.clone(),
            metadata: map_to_json(&u.metadata)?,
            tags: map_to_json(&u.tags)?,
        })
    }

    pub(crate) fn into_model(self) -> PortResult<MultipartUpload> {
        Ok(MultipartUpload {
            upload_id: valid(UploadId::new(self.upload_id), "upload id")?,
            repository: valid(RepositoryId::new(self.repository), "repository id")?,
            branch: valid(BranchName::new(self.branch), "branch name")?,
            path: valid(ObjectPath::new(self.path), "path")?,
            physical_key: valid(BlockKey::new(self.physical_key), "block key")?,
            block_upload_id: self.block_upload_id,
            initiated: Timestamp::from_unix_micros(self.initiated),
            content_type: self.content_type,
            metadata: map_from_json(&self.metadata, "upload metadata")?,
            tags: map_from_json(&self.tags, "upload tags")?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = multipart_parts)]
pub(crate) struct PartRow {
    pub upload_id: String,
    pub number: i32,
    pub etag: String,
    pub size: i64,
    pub last_modified: i64,
}

impl PartRow {
    pub(crate) fn from_model(id: &UploadId, p: &PartRecord) -> PortResult<Self> {
        Ok(Self {
            upload_id: id.as_str().to_owned(),
            number: i32::from(p.number.get()),
            etag: p.etag.clone(),
            size: to_i64(p.size, "part size")?,
            last_modified: p.last_modified.unix_micros(),
        })
    }

    pub(crate) fn into_model(self) -> PortResult<PartRecord> {
        Ok(PartRecord {
            number: valid(
                PartNumber::new(valid(u32::try_from(self.number), "part number")?),
                "part number",
            )?,
            etag: self.etag,
            size: to_u64(self.size, "part size")?,
            last_modified: Timestamp::from_unix_micros(self.last_modified),
        })
    }
}
