//! Tarn's use cases, over the ports: repositories, branches, objects on refs,
//! commits, committed trees, log, diff, merge, revert, cherry-pick and tags.
//!
//! The engine is built on [`Stores`], the bundle of port implementations that
//! the composition root chooses at startup. Nothing here knows about HTTP,
//! SQL or any SDK.

pub use counted_cache::CacheStats;
pub mod actions;
pub mod auth;
mod branches;
mod commits;
mod compaction;
mod counted_cache;
mod data;
mod describe;
mod diff;
mod error;
mod gc;
mod gc_rules;
mod history;
mod import;
mod log;
mod many;
mod merge;
mod multipart;
mod objects;
mod page;
mod presigned_multipart;
mod pulls;
mod refs;
mod refs_dump;
mod repo_metadata;
mod repos;
mod resolve;
mod settings;
mod staging;
mod tags;
mod tree_files;
mod trees;

pub use branches::ResetScope;
pub use commits::CommitRequest;
pub use compaction::{CompactionReport, CompactionRequests};
pub use data::{CopyChanges, Described, LinkRequest, ObjectRead, UploadRequest, WriteCondition};
pub use diff::{DiffItem, DiffKind, DiffRequest};
pub use error::{Entity, Error, Protected, Result};
pub use gc::{BranchFootprint, GcObserver, GcOptions, GcReport, Tally, Unobserved};
pub use gc_rules::GcRules;
pub use import::{ImportKind, ImportObserver, ImportPath};
pub use log::LogRequest;
pub use many::{ObjectBatch, MAX_BATCH_OBJECTS};
pub use merge::{MergeRequest, PickRequest};
pub use multipart::Completed;
pub use objects::{ListRequest, Listing};
pub use page::{amount, Page, DEFAULT_AMOUNT, MAX_AMOUNT};
pub use presigned_multipart::PresignedUpload;
pub use pulls::{PullCreation, PullFilter, PullRequest, PullStatus, PullUpdate};
pub use refs::{RefView, ResolvedRef};
pub use refs_dump::RefsDump;
pub use settings::ProtectionRules;
pub use tree_files::TreeFile;
pub use trees::Layering as TreeLayering;

use std::sync::Arc;
use tarn_model::tree::SplitRule;
use tarn_model::{Commit, CommitId, RepositoryId};
use tarn_ports::{BlockStore, Clock, IdGenerator, MultipartStore, RefStore, StagingStore};
use trees::{Layering, TreeStore};

/// The adapters behind every port, chosen once at startup.
#[derive(Clone)]
pub struct Stores {
    /// Object data and committed trees.
    pub blocks: Arc<dyn BlockStore>,
    /// Repositories, branches, tags and commits.
    pub refs: Arc<dyn RefStore>,
    /// Uncommitted changes.
    pub staging: Arc<dyn StagingStore>,
    /// Tracked gateway multipart uploads.
    pub multipart: Arc<dyn MultipartStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Unique ids.
    pub ids: Arc<dyn IdGenerator>,
}

/// Tunables of the engine.
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Where committed trees are cut into ranges.
    pub split: SplitRule,
    /// Memory (as the allocator counts it) for decoded ranges and
    /// metaranges (`cache.trees_bytes`).
    pub cache_bytes: u64,
    /// Commit records kept in memory (`cache.commits_entries`; a record
    /// takes a few hundred bytes, more with long messages or metadata).
    pub commit_cache_entries: u64,
    /// When commits write layers over large trees instead of rewriting
    /// the ranges they touch (see `docs/trees.md`).
    pub layering: Layering,
    /// How often a commit or merge retries a lost compare-and-set.
    pub max_attempts: u32,
    /// Staged entries one read of the staging store returns at most
    /// (listings, diffs, commits); reads start smaller where fewer are
    /// likely needed. Tiny values are for tests, which then cross read
    /// boundaries often.
    pub staging_page: usize,
    /// Signs the addresses given out for direct writes; every instance
    /// serving one database must use the same key.
    pub link_key: LinkKey,
}

/// The key that signs addresses given out for direct writes (never printed).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LinkKey(pub [u8; 32]);

impl LinkKey {
    /// A key derived from secret material (e.g. `auth.encrypt.secret_key`).
    pub fn derive(material: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"tarn/link-address/v1\0");
        h.update(material);
        Self(h.finalize().into())
    }

    /// A random key (addresses then link only on this process).
    pub fn random() -> Self {
        use rand::Rng;
        let mut k = [0u8; 32];
        rand::rng().fill(&mut k);
        Self(k)
    }
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            split: SplitRule::default(),
            cache_bytes: DEFAULT_TREE_CACHE_BYTES,
            commit_cache_entries: DEFAULT_COMMIT_CACHE_ENTRIES,
            layering: Layering::default(),
            max_attempts: 10,
            staging_page: DEFAULT_STAGING_PAGE,
            link_key: LinkKey::random(),
        }
    }
}

/// The versioning engine. Cheap to clone; holds no state but caches of
/// immutable data, so any number of engines may share the same stores.
#[derive(Clone)]
pub struct Engine {
    stores: Stores,
    trees: TreeStore,
    /// Commit records by (repository, id): immutable, so safe to keep in
    /// any number of processes; saves a database round trip on every read
    /// of a ref.
    commits: counted_cache::CountedCache<(RepositoryId, CommitId), Commit>,
    settings: EngineSettings,
    /// Runs the hooks of events (none: no hooks run).
    hooks: Option<std::sync::Arc<dyn actions::Hooks>>,
    /// Told when a commit leaves a layer worth compacting (none: layers
    /// are folded only when a commit passes their bound).
    compactions: Option<std::sync::Arc<dyn compaction::CompactionRequests>>,
    /// The user the events of this engine's operations are told they come
    /// from, when the operation does not name one (see
    /// [`Engine::acting_as`]).
    actor: Option<std::sync::Arc<str>>,
    /// Writes the base values of layered trees in the background.
    describer: std::sync::Arc<describe::Describer>,
}

/// Marks the current engine operation's span (`commit`, `merge`) as
/// succeeded, with the paths it changed when they are known: its fields
/// `outcome` and `entries`. The binary turns these spans into metrics.
pub(crate) fn succeeded(entries: Option<u64>) {
    let span = tracing::Span::current();
    span.record("outcome", "ok");
    if let Some(n) = entries {
        span.record("entries", n);
    }
}

/// The default tree cache: fits, with everything else, in a 512 MiB container.
pub const DEFAULT_TREE_CACHE_BYTES: u64 = 128 << 20;
/// The default number of cached commit records (a few MiB).
pub const DEFAULT_COMMIT_CACHE_ENTRIES: u64 = 10_000;
/// The default most staged entries per read of the staging store.
pub const DEFAULT_STAGING_PAGE: usize = 1024;

impl Engine {
    /// The current time, from the injected [`Clock`]: drivers that put
    /// times on the wire (expiries, copy dates) read it here, never from the
    /// system clock, so tests are deterministic.
    pub fn now(&self) -> tarn_model::Timestamp {
        self.stores.clock.now()
    }

    /// An engine over `stores`.
    pub fn new(stores: Stores, settings: EngineSettings) -> Self {
        let trees = TreeStore::new(
            stores.blocks.clone(),
            settings.split,
            settings.cache_bytes,
            settings.layering,
        );
        Self {
            stores,
            trees,
            commits: counted_cache::CountedCache::new(
                "commits",
                moka::sync::Cache::new(settings.commit_cache_entries),
            ),
            settings,
            hooks: None,
            compactions: None,
            actor: None,
            describer: Default::default(),
        }
    }

    /// Lookups and contents of the engine's caches (trees and commits).
    pub fn cache_stats(&self) -> Vec<CacheStats> {
        let mut stats = self.trees.cache_stats();
        stats.push(self.commits.stats());
        stats
    }

    /// The stores the engine works on.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }
}

#[cfg(test)]
mod tests;
