//! Wire types shared by several resources: pagination, refs, commits,
//! object stats, diffs; and query-value parsing as lakeFS's clients send it.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use tarn_domain::{DiffItem, DiffKind, Page};
use tarn_model::{Commit, Entry, StorageNamespace};
use utoipa::ToSchema;

/// lakeFS's page size ceiling, reported as `max_per_page`.
pub const MAX_PER_PAGE: usize = tarn_domain::MAX_AMOUNT;

/// Pagination of a listing response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    /// Whether more results follow.
    pub has_more: bool,
    /// The `after` for the next page.
    pub next_offset: String,
    /// How many results this page holds.
    pub results: usize,
    /// The largest page the server returns.
    pub max_per_page: usize,
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Listing<T: ToSchema> {
    /// Paging state.
    pub pagination: Pagination,
    /// The results.
    pub results: Vec<T>,
}

impl<T: ToSchema> Listing<T> {
    /// Converts a domain page.
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let results: Vec<T> = page.items.into_iter().map(f).collect();
        Self {
            pagination: Pagination {
                has_more: page.has_more,
                next_offset: page.next_offset,
                results: results.len(),
                max_per_page: MAX_PER_PAGE,
            },
            results,
        }
    }
}

/// `after`, `amount`, `prefix` of listings.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// Exclusive start.
    #[serde(default)]
    pub after: Option<String>,
    /// Page size: missing or ≤ 0 means 100, at most 1000.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub amount: Option<i64>,
    /// Only keys with this prefix.
    #[serde(default)]
    pub prefix: Option<String>,
}

/// lakeFS's clamp of `amount`.
pub fn amount(requested: Option<i64>) -> usize {
    match requested {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(MAX_PER_PAGE).min(MAX_PER_PAGE),
        _ => tarn_domain::DEFAULT_AMOUNT,
    }
}

/// Booleans as query values: `true`/`false` in any case (lakefs-sdk sends `True`).
pub fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    v.as_deref()
        .map_or(Ok(None), parse_bool)
        .map_err(serde::de::Error::custom)
}

/// A boolean query value, case-insensitively; empty means absent.
pub fn parse_bool(v: &str) -> Result<Option<bool>, String> {
    match v.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        other => Err(format!("invalid boolean {other:?}")),
    }
}

/// Integers as query values.
pub fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("invalid integer {s:?}"))),
    }
}

/// A branch or tag.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ref {
    /// Its name.
    pub id: String,
    /// The commit it points to.
    pub commit_id: String,
}

/// A commit.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitBody {
    id: String,
    parents: Vec<String>,
    committer: String,
    message: String,
    creation_date: i64,
    meta_range_id: String,
    metadata: BTreeMap<String, String>,
    generation: u64,
    version: u8,
}

impl From<Commit> for CommitBody {
    fn from(c: Commit) -> Self {
        Self {
            id: c.id.into_string(),
            parents: c.parents.into_iter().map(|p| p.into_string()).collect(),
            committer: c.committer,
            message: c.message,
            creation_date: c.creation_date.unix_seconds(),
            meta_range_id: c.meta_range_id.into_string(),
            metadata: c.metadata,
            generation: c.generation,
            version: c.version,
        }
    }
}

/// An object (or a common prefix) as listings and stat show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectStats {
    path: String,
    path_type: &'static str,
    physical_address: String,
    checksum: String,
    size_bytes: u64,
    mtime: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    /// When `physical_address` is a presigned URL: when it expires (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_address_expiry: Option<i64>,
}

impl ObjectStats {
    /// These stats with a presigned URL, valid until `expiry`, as the address.
    pub fn presigned(mut self, url: String, expiry: i64) -> Self {
        self.physical_address = url;
        self.physical_address_expiry = Some(expiry);
        self
    }

    /// An object's stats; metadata only when asked for.
    pub fn object(path: String, e: Entry, ns: &StorageNamespace, with_metadata: bool) -> Self {
        Self {
            path,
            path_type: "object",
            physical_address: e.address.uri(ns),
            checksum: e.checksum,
            size_bytes: e.size,
            mtime: e.last_modified.unix_seconds(),
            metadata: with_metadata.then_some(e.metadata),
            content_type: Some(
                e.content_type
                    .unwrap_or_else(|| "application/octet-stream".into()),
            ),
            physical_address_expiry: None,
        }
    }

    /// A common prefix, with placeholder fields (as lakeFS).
    pub fn common_prefix(path: String) -> Self {
        Self {
            path,
            path_type: "common_prefix",
            physical_address: String::new(),
            checksum: String::new(),
            size_bytes: 0,
            mtime: 0,
            metadata: None,
            content_type: None,
            physical_address_expiry: None,
        }
    }
}

/// One diff result.
#[derive(Debug, Serialize, ToSchema)]
pub struct Diff {
    #[serde(rename = "type")]
    kind: &'static str,
    path: String,
    path_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_bytes: Option<u64>,
}

impl From<DiffItem> for Diff {
    fn from(d: DiffItem) -> Self {
        let kind = match d.kind {
            DiffKind::Added => "added",
            DiffKind::Removed => "removed",
            DiffKind::Changed => "changed",
            DiffKind::PrefixChanged => "prefix_changed",
            DiffKind::Conflict => "conflict",
        };
        let path_type = if d.kind == DiffKind::PrefixChanged {
            "common_prefix"
        } else {
            "object"
        };
        Self {
            kind,
            path: d.path,
            path_type,
            size_bytes: d.entry.map(|e| e.size),
        }
    }
}

impl Diff {
    /// An uncommitted change (`diffBranch`): as lakeFS, a removal reports
    /// size 0 (the staged tombstone has none), not the committed size.
    pub fn uncommitted(d: DiffItem) -> Self {
        let removed = d.kind == DiffKind::Removed;
        let mut diff = Self::from(d);
        if removed {
            diff.size_bytes = Some(0);
        }
        diff
    }
}
