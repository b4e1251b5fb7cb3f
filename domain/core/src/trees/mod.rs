//! Committed trees over the block store: immutable range and metarange files
//! under `_tarn/` in the repository's namespace, named by content hash, with a
//! byte-bounded cache of decoded files.

mod apply;
mod compact;
pub(crate) mod compare;
mod described;
mod index;
mod layered;
mod walk;
mod writer;

pub(crate) use apply::{Applied, ChangeSource, TreeChange};
pub(crate) use compact::Compacted;
pub(crate) use described::base_values_key;
pub use layered::Layering;
pub(crate) use layered::{Overlay, Tree};
pub(crate) use walk::TreeCursor;

use crate::counted_cache::{CacheStats, CountedCache};
use crate::error::{Error, Result};
use moka::sync::Cache;
use std::sync::Arc;
use tarn_model::tree::{self, RangeInfo, SplitRule};
use tarn_model::{BlockKey, Entry, MetaRangeId, ObjectPath, RangeId, StorageNamespace};
use tarn_ports::{BlockStore, ByteStream};

/// Where committed-tree files live inside a namespace.
const TREE_PREFIX: &str = "_tarn/";

/// A cached range: its sorted records, decoded on demand.
pub(crate) type Range = Arc<index::RangeData>;
/// A decoded metarange: the ranges of a tree in key order.
pub(crate) type MetaRange = Arc<index::MetaRangeData>;

/// Reads and writes committed trees.
#[derive(Clone)]
pub(crate) struct TreeStore {
    blocks: Arc<dyn BlockStore>,
    ranges: CountedCache<RangeId, Range>,
    metaranges: CountedCache<MetaRangeId, MetaRange>,
    overlays: CountedCache<MetaRangeId, Overlay>,
    /// Compaction markers found, by namespace and layered tree (markers
    /// never change once written).
    markers: Cache<(String, MetaRangeId), MetaRangeId>,
    /// Base values of layered trees by namespace and tree (see
    /// `described`), and the trees found without them a little while ago.
    base_values: CountedCache<(String, MetaRangeId), Overlay>,
    undescribed: Cache<(String, MetaRangeId), ()>,
    split: SplitRule,
    layering: Layering,
    /// How much of what one write produces the cache keeps (bytes): a
    /// bulk write (an import, a huge commit) must not fill it alone.
    remember_per_write: u64,
}

pub(crate) fn range_key(id: &RangeId) -> Result<BlockKey> {
    Ok(BlockKey::new(format!("{TREE_PREFIX}range/{id}"))?)
}

pub(crate) fn metarange_key(id: &MetaRangeId) -> Result<BlockKey> {
    Ok(BlockKey::new(format!("{TREE_PREFIX}metarange/{id}"))?)
}

/// Files larger than this are corrupt: ranges are capped well below it.
const MAX_TREE_FILE: usize = 256 << 20;

impl TreeStore {
    /// A store caching files in up to `cache_bytes` of memory, as the
    /// allocator counts it (a range is kept encoded, with 12 bytes of index
    /// per record; a metarange or overlay is decoded).
    pub(crate) fn new(
        blocks: Arc<dyn BlockStore>,
        split: SplitRule,
        cache_bytes: u64,
        layering: Layering,
    ) -> Self {
        // The cache's own bookkeeping per entry (key, node, timers).
        const ENTRY_OVERHEAD: usize = 256;
        let weigh = |bytes: usize| u32::try_from(bytes + ENTRY_OVERHEAD).unwrap_or(u32::MAX);
        Self {
            blocks,
            ranges: CountedCache::new(
                "ranges",
                Cache::builder()
                    .max_capacity(cache_bytes / 10 * 8)
                    .weigher(move |_, r: &Range| weigh(r.footprint()))
                    .build(),
            )
            .in_bytes(),
            metaranges: CountedCache::new(
                "metaranges",
                Cache::builder()
                    .max_capacity(cache_bytes / 10)
                    .weigher(move |_, m: &MetaRange| weigh(m.footprint()))
                    .build(),
            )
            .in_bytes(),
            overlays: CountedCache::new(
                "overlays",
                Cache::builder()
                    .max_capacity(cache_bytes / 20)
                    .weigher(move |_, o: &Overlay| weigh(o.footprint()))
                    .build(),
            )
            .in_bytes(),
            base_values: CountedCache::new(
                "base_values",
                Cache::builder()
                    .max_capacity(cache_bytes / 20)
                    .weigher(move |_, o: &Overlay| weigh(o.footprint()))
                    .build(),
            )
            .in_bytes(),
            undescribed: Cache::builder()
                .max_capacity(4096)
                .time_to_live(std::time::Duration::from_secs(2))
                .build(),
            markers: Cache::new(4096),
            split,
            layering,
            remember_per_write: cache_bytes / 16,
        }
    }

    pub(crate) fn split_rule(&self) -> SplitRule {
        self.split
    }

    pub(crate) fn layering(&self) -> Layering {
        self.layering
    }

    /// Caches a plain tree's ranges as read; the cached form.
    fn remember_metarange(&self, id: &MetaRangeId, ranges: Vec<RangeInfo>) -> MetaRange {
        let m = Arc::new(index::MetaRangeData::new(ranges));
        self.metaranges.insert(id.clone(), m.clone());
        m
    }

    async fn read_file(&self, ns: &StorageNamespace, key: &BlockKey) -> Result<Vec<u8>> {
        let got = match self.blocks.get(ns, key, None).await {
            Ok(got) => got,
            Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => {
                self.restore_from_trash(ns, key).await.map_err(|_| {
                    let message = format!("reading tree file {key} in {ns}: {e}");
                    Error::Internal(tarn_ports::PortError::internal(message).with_source(e))
                })?
            }
            Err(e) => {
                let message = format!("reading tree file {key} in {ns}: {e}");
                return Err(Error::Internal(
                    tarn_ports::PortError::internal(message).with_source(e),
                ));
            }
        };
        let bytes = got
            .body
            .collect_bounded(MAX_TREE_FILE)
            .await
            .map_err(|e| Error::Internal(tarn_ports::PortError::internal(e.to_string())))?;
        Ok(Vec::from(bytes))
    }

    /// A tree file garbage collection moved to the trash while a commit
    /// came to use it again (see `gc::trees`): put back, then read.
    pub(crate) async fn restore_from_trash(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
    ) -> Result<tarn_ports::GetOutcome> {
        let rest = key
            .as_str()
            .strip_prefix(TREE_PREFIX)
            .ok_or_else(|| Error::Internal(tarn_ports::PortError::internal("not a tree file")))?;
        let trash = BlockKey::new(format!("{}{rest}", crate::gc::TRASH))?;
        self.blocks.copy(ns, &trash, ns, key).await?;
        tracing::warn!(%key, %ns, "restored a tree file from the garbage collection trash");
        Ok(self.blocks.get(ns, key, None).await?)
    }

    async fn write_file(&self, ns: &StorageNamespace, key: BlockKey, bytes: Vec<u8>) -> Result<()> {
        let size = bytes.len() as u64;
        self.blocks
            .put(ns, &key, ByteStream::from_bytes(bytes), Some(size))
            .await?;
        Ok(())
    }

    /// The ranges of plain tree `id` (a layered tree's id is an error:
    /// read it with [`Self::tree`]).
    pub(crate) async fn metarange(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<MetaRange> {
        if let Some(m) = self.metaranges.get(id) {
            return Ok(m);
        }
        let m = self.metarange_uncached(ns, id).await?;
        self.metaranges.insert(id.clone(), m.clone());
        Ok(m)
    }

    /// The records of range `id`.
    pub(crate) async fn range(&self, ns: &StorageNamespace, id: &RangeId) -> Result<Range> {
        if let Some(r) = self.ranges.get(id) {
            return Ok(r);
        }
        let r = self.range_uncached(ns, id).await?;
        self.ranges.insert(id.clone(), r.clone());
        Ok(r)
    }

    /// Range `i` of `meta`: through the metarange's shortcut while the
    /// cache holds the range (a lookup by id costs as much as the search
    /// in the range), else by id. Some uses through a shortcut are also
    /// looked up in the cache (see [`index::MetaRangeData::shortcut`]), so
    /// that its eviction still sees the range in use; a range served from
    /// memory counts as a hit either way.
    pub(crate) async fn range_of(
        &self,
        ns: &StorageNamespace,
        meta: &MetaRange,
        i: usize,
    ) -> Result<Range> {
        if let Some((range, touch)) = meta.shortcut(i) {
            if touch {
                if let Some(info) = meta.get(i) {
                    self.ranges.peek(&info.id);
                }
            }
            self.ranges.count_hit();
            return Ok(range);
        }
        let info = meta
            .get(i)
            .ok_or_else(|| corrupt_text("a range past the metarange's end"))?;
        let range = self.range(ns, &info.id).await?;
        meta.set_shortcut(i, &range);
        Ok(range)
    }

    /// The records of range `id`, read past the cache when it does not hold
    /// them (a scan of every range, as garbage collection's, would evict
    /// what serves requests).
    pub(crate) async fn range_uncached(
        &self,
        ns: &StorageNamespace,
        id: &RangeId,
    ) -> Result<Range> {
        if let Some(r) = self.ranges.peek(id) {
            return Ok(r);
        }
        let bytes = self.read_file(ns, &range_key(id)?).await?;
        Ok(Arc::new(index::RangeData::parse(bytes).map_err(corrupt)?))
    }

    /// The ranges of tree `id`, read past the cache when it does not hold
    /// them (garbage collection reads every commit's).
    pub(crate) async fn metarange_uncached(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<MetaRange> {
        if let Some(m) = self.metaranges.peek(id) {
            return Ok(m);
        }
        let bytes = self.read_file(ns, &metarange_key(id)?).await?;
        Ok(Arc::new(index::MetaRangeData::new(
            tree::decode_metarange(&bytes).map_err(corrupt)?,
        )))
    }

    /// Caches a range just written (its file's bytes); the memory it takes.
    pub(crate) fn remember_range(&self, id: RangeId, bytes: Vec<u8>) -> Result<u64> {
        let range = Arc::new(index::RangeData::parse(bytes).map_err(corrupt)?);
        let held = range.footprint() as u64;
        self.ranges.insert(id, range);
        Ok(held)
    }

    /// Lookups and contents of the range, metarange and overlay caches.
    pub(crate) fn cache_stats(&self) -> Vec<CacheStats> {
        vec![
            self.ranges.stats(),
            self.metaranges.stats(),
            self.overlays.stats(),
            self.base_values.stats(),
        ]
    }

    /// How many bytes of ranges one write may leave in the cache.
    pub(crate) fn remember_per_write(&self) -> u64 {
        self.remember_per_write
    }

    /// Writes a metarange file; returns its id.
    pub(crate) async fn write_metarange(
        &self,
        ns: &StorageNamespace,
        ranges: Vec<RangeInfo>,
    ) -> Result<MetaRangeId> {
        let bytes = tree::encode_metarange(&ranges);
        let id = tree::metarange_id(&bytes);
        // Always written: the cache is shared by all namespaces, so a cached
        // id says nothing about whether this namespace holds the file.
        self.write_file(ns, metarange_key(&id)?, bytes).await?;
        self.metaranges
            .insert(id.clone(), Arc::new(index::MetaRangeData::new(ranges)));
        Ok(id)
    }

    /// The id of the empty tree (every repository has it from creation).
    pub(crate) fn empty_tree_id(&self) -> MetaRangeId {
        tree::metarange_id(&tree::encode_metarange(&[]))
    }

    /// The empty tree, written if needed.
    pub(crate) async fn empty_tree(&self, ns: &StorageNamespace) -> Result<MetaRangeId> {
        let bytes = tree::encode_metarange(&[]);
        let id = tree::metarange_id(&bytes);
        self.write_file(ns, metarange_key(&id)?, bytes).await?;
        Ok(id)
    }

    /// The value of `path` in tree `id`.
    pub(crate) async fn get(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
        path: &ObjectPath,
    ) -> Result<Option<Entry>> {
        let tree = self.tree(ns, id).await?;
        self.tree_get(ns, &tree, path).await
    }

    /// Deletes nothing, but lists every tree file of a namespace (for tests).
    #[cfg(test)]
    pub(crate) async fn list_files(&self, ns: &StorageNamespace) -> Result<Vec<String>> {
        let listed = self.blocks.list(ns, TREE_PREFIX, None, 1_000_000).await?;
        Ok(listed
            .into_iter()
            .map(|b| b.key.as_str().to_owned())
            .collect())
    }

    pub(crate) fn blocks(&self) -> &Arc<dyn BlockStore> {
        &self.blocks
    }
}

fn corrupt(e: tarn_model::InvalidValue) -> Error {
    Error::Internal(tarn_ports::PortError::internal(format!(
        "corrupt tree file: {e}"
    )))
}

/// A corrupt file of a kind that has no decoder of its own.
fn corrupt_text(what: &str) -> Error {
    Error::Internal(tarn_ports::PortError::internal(format!("corrupt {what}")))
}
