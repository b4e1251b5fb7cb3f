//! Layered trees: a plain tree (the *base*, a metarange) with a sorted
//! *overlay* of changes over it, in one file named by its content like a
//! metarange. A commit onto a large tree writes only the overlay, so its cost
//! follows the change and not the repository; once the overlay outgrows its
//! bound, a commit folds it into a new plain tree (see `docs/trees.md`).
//! Every tree written before layers existed is a plain tree.

use super::index::PathIndex;
use super::{corrupt, metarange_key, MetaRange, TreeStore};
use crate::error::Result;
use std::sync::Arc;
use tarn_model::footprint::{heap_block, HeapSize};
use tarn_model::tree::{self, DecodedTree, OverlayRecord};
use tarn_model::{Entry, MetaRangeId, ObjectPath, StorageNamespace};
use tarn_ports::ByteStream;

/// When commits write layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layering {
    /// A tree whose base holds at least this many records takes commits as
    /// layers; smaller ones are rewritten as plain trees.
    pub min_base_records: u64,
    /// An overlay past this many records is folded into a new plain tree.
    pub max_overlay_records: usize,
    /// An overlay of at least this many records is worth folding off the
    /// commit path, by compaction (0: never; commits fold past the bound).
    pub compact_records: usize,
}

impl Default for Layering {
    fn default() -> Self {
        Self {
            min_base_records: 100_000,
            max_overlay_records: 16_384,
            compact_records: 4_096,
        }
    }
}

impl Layering {
    /// Whether an overlay of `records` is worth compacting off the commit
    /// path.
    pub fn wants_compaction(&self, records: usize) -> bool {
        self.compact_records > 0 && records >= self.compact_records
    }

    /// Never layered (every tree plain, as before layers existed).
    pub fn off() -> Self {
        Self {
            min_base_records: u64::MAX,
            max_overlay_records: 0,
            compact_records: 0,
        }
    }
}

/// A decoded overlay: the base it lies over, and its changes by path.
#[derive(Debug)]
pub(crate) struct OverlayData {
    pub(crate) base: MetaRangeId,
    pub(crate) records: Vec<OverlayRecord>,
    index: PathIndex,
}

impl OverlayData {
    pub(crate) fn new(base: MetaRangeId, records: Vec<OverlayRecord>) -> Self {
        let index = PathIndex::new(records.iter().map(|(p, _)| p.as_str().as_bytes()));
        Self {
            base,
            records,
            index,
        }
    }

    /// The memory this overlay holds behind its `Arc`.
    pub(crate) fn footprint(&self) -> usize {
        heap_block(std::mem::size_of::<Self>() + 16)
            + self.base.as_str().heap_bytes()
            + self.records.heap_bytes()
            + self.index.heap_bytes()
    }

    /// The overlay's say on `path`: `Some(None)` where it removes it.
    pub(crate) fn find(&self, path: &ObjectPath) -> Option<&Option<Entry>> {
        let (lo, hi) = self.index.window(path.as_str().as_bytes());
        self.records[lo..hi]
            .binary_search_by(|(p, _)| p.cmp(path))
            .ok()
            .map(|i| &self.records[lo + i].1)
    }
}

pub(crate) type Overlay = Arc<OverlayData>;

/// A committed tree as read: its plain base and, for a layered tree, the
/// overlay over it.
#[derive(Clone)]
pub(crate) struct Tree {
    pub(crate) base_id: MetaRangeId,
    pub(crate) base: MetaRange,
    pub(crate) overlay: Option<Overlay>,
}

impl Tree {
    /// Records in the base.
    pub(crate) fn base_records(&self) -> u64 {
        self.base.iter().map(|r| r.count).sum()
    }

    /// The overlay's changes (none for a plain tree).
    pub(crate) fn overlay_records(&self) -> &[OverlayRecord] {
        self.overlay.as_deref().map_or(&[], |o| &o.records)
    }
}

impl TreeStore {
    /// Tree `id`, of either kind.
    pub(crate) async fn tree(&self, ns: &StorageNamespace, id: &MetaRangeId) -> Result<Tree> {
        // A lookup is counted in the cache of the kind of tree it finds
        // (a hit), or of the kind the file turns out to be (a miss).
        if let Some(overlay) = self.overlays.get_if_present(id) {
            let base = self.metarange(ns, &overlay.base).await?;
            return Ok(Tree {
                base_id: overlay.base.clone(),
                base,
                overlay: Some(overlay),
            });
        }
        if let Some(base) = self.metaranges.get_if_present(id) {
            return Ok(plain(id, base));
        }
        let bytes = self.read_file(ns, &metarange_key(id)?).await?;
        match tree::decode_tree(&bytes).map_err(corrupt)? {
            DecodedTree::Plain(ranges) => {
                self.metaranges.count_miss();
                let base = self.remember_metarange(id, ranges);
                Ok(plain(id, base))
            }
            DecodedTree::Layered { base, overlay } => {
                self.overlays.count_miss();
                let overlay = Arc::new(OverlayData::new(base, overlay));
                self.overlays.insert(id.clone(), overlay.clone());
                let base = self.metarange(ns, &overlay.base).await?;
                Ok(Tree {
                    base_id: overlay.base.clone(),
                    base,
                    overlay: Some(overlay),
                })
            }
        }
    }

    /// Tree `id`, read past the caches when they do not hold it (garbage
    /// collection reads every commit's).
    pub(crate) async fn tree_uncached(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<Tree> {
        if let Some(base) = self.metaranges.peek(id) {
            return Ok(plain(id, base));
        }
        let overlay = match self.overlays.peek(id) {
            Some(o) => o,
            None => {
                let bytes = self.read_file(ns, &metarange_key(id)?).await?;
                match tree::decode_tree(&bytes).map_err(corrupt)? {
                    DecodedTree::Plain(ranges) => {
                        let base = Arc::new(super::index::MetaRangeData::new(ranges));
                        return Ok(plain(id, base));
                    }
                    DecodedTree::Layered { base, overlay } => {
                        Arc::new(OverlayData::new(base, overlay))
                    }
                }
            }
        };
        let base = self.metarange_uncached(ns, &overlay.base).await?;
        Ok(Tree {
            base_id: overlay.base.clone(),
            base,
            overlay: Some(overlay),
        })
    }

    /// Writes a layered tree of `records` over plain tree `base`.
    pub(crate) async fn write_layered(
        &self,
        ns: &StorageNamespace,
        base: &MetaRangeId,
        records: Vec<OverlayRecord>,
    ) -> Result<MetaRangeId> {
        let bytes = tree::encode_layered(base, &records);
        let id = tree::metarange_id(&bytes);
        let size = bytes.len() as u64;
        // Always written: the cache says nothing of this namespace.
        self.blocks
            .put(
                ns,
                &metarange_key(&id)?,
                ByteStream::from_bytes(bytes),
                Some(size),
            )
            .await?;
        self.overlays.insert(
            id.clone(),
            Arc::new(OverlayData::new(base.clone(), records)),
        );
        Ok(id)
    }

    /// The value of `path` in plain tree `base`.
    pub(crate) async fn base_get(
        &self,
        ns: &StorageNamespace,
        base: &MetaRange,
        path: &ObjectPath,
    ) -> Result<Option<Entry>> {
        let i = base.locate(path);
        let Some(info) = base.get(i) else {
            return Ok(None);
        };
        // A path between two ranges is in neither: no need to read the
        // range for it (a cached one answers as fast as its first key).
        if !base.has_shortcut(i) && info.first > *path {
            return Ok(None);
        }
        let range = self.range_of(ns, base, i).await?;
        match range.find(path) {
            Some(j) => range.entry(j),
            None => Ok(None),
        }
    }

    /// The value of `path` in `tree`: the overlay's, else the base's.
    pub(crate) async fn tree_get(
        &self,
        ns: &StorageNamespace,
        tree: &Tree,
        path: &ObjectPath,
    ) -> Result<Option<Entry>> {
        if let Some(said) = tree.overlay.as_ref().and_then(|o| o.find(path)) {
            return Ok(said.clone());
        }
        self.base_get(ns, &tree.base, path).await
    }
}

fn plain(id: &MetaRangeId, base: MetaRange) -> Tree {
    Tree {
        base_id: id.clone(),
        base,
        overlay: None,
    }
}
