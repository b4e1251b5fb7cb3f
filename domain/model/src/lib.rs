//! Tarn's domain vocabulary.
//!
//! Every identifier that crosses a boundary is a newtype with a validating
//! constructor, so that an invalid repository id, branch name or path cannot be
//! represented past the edge that parsed it. This crate has no I/O and no async:
//! it is shared by the ports, the domain and every adapter.

pub mod auth;
pub mod changed_paths;
mod error;
pub mod footprint;
mod glob;
mod ident;
mod ids;
pub mod jobs;
mod namespace;
mod path;
mod records;
mod refexpr;
pub mod runs;
mod time;
pub mod tree;
mod versioning;

pub use error::InvalidValue;
pub use glob::glob_match;
pub use ident::IdentHasher;
pub use ids::{
    BranchName, CommitId, MetaRangeId, RangeId, RepositoryId, StagingToken, TagName, UploadId,
};
pub use namespace::{BlockKey, StorageNamespace};
pub use path::ObjectPath;
pub use records::{
    Branch, Commit, Entry, Identity, MultipartUpload, PartNumber, PartRecord, PhysicalAddress,
    Repository, StagedValue, Tag,
};
pub use refexpr::{RefExpr, RefModifier, ViewModifier};
pub use time::{go_duration, Timestamp};
pub use versioning::{
    commit_id, diff_sorted, three_way, Change, ChangeKind, MergeStrategy, Resolution,
};
