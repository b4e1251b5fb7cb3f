//! Compaction: folding a layered tree into a plain one off the commit path.
//!
//! A fold writes the base with the overlay applied, each record as the layer
//! held it, then `_tarn/compacted/<layered id>`, a marker naming the plain
//! tree. The same layered tree always folds to the same plain tree, so the
//! marker is immutable and any instance may write it, any number of times.
//! Commits onto a layered tree whose overlay is large look for the marker
//! and, when it is there, layer onto the plain tree instead: the overlay
//! starts over, and the commit's cost stays that of its own change. Reads
//! never look for markers (a layered tree reads the same either way).

use super::{corrupt_text, metarange_key, Tree, TreeStore};
use crate::error::{Error, Result};
use tarn_model::{BlockKey, MetaRangeId, StorageNamespace};
use tarn_ports::ByteStream;

/// Where compaction markers live.
const COMPACTED_PREFIX: &str = "_tarn/compacted/";

fn marker_key(id: &MetaRangeId) -> Result<BlockKey> {
    Ok(BlockKey::new(format!("{COMPACTED_PREFIX}{id}"))?)
}

/// What [`TreeStore::compact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Compacted {
    /// The tree is plain: nothing to do.
    Plain,
    /// An earlier compaction folded it into this plain tree.
    Already(MetaRangeId),
    /// Folded now into this plain tree.
    Folded(MetaRangeId),
}

impl TreeStore {
    /// How many records the overlay of tree `id` holds (0 for a plain tree).
    pub(crate) async fn overlay_len(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<usize> {
        Ok(self.tree(ns, id).await?.overlay_records().len())
    }

    /// The same, when the cache holds the overlay (`None` otherwise, and
    /// for a plain tree).
    pub(crate) fn cached_overlay_len(&self, id: &MetaRangeId) -> Option<usize> {
        self.overlays.peek(id).map(|o| o.records.len())
    }

    /// The plain tree a compaction folded layered tree `id` into, as its
    /// marker says (the tree itself is not read here).
    pub(crate) async fn compacted(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<Option<MetaRangeId>> {
        let cached = (ns.as_str().to_owned(), id.clone());
        if let Some(plain) = self.markers.get(&cached) {
            return Ok(Some(plain));
        }
        let key = marker_key(id)?;
        let got = match self.blocks.get(ns, &key, None).await {
            Ok(got) => got,
            Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bytes = got
            .body
            .collect_bounded(256)
            .await
            .map_err(|e| Error::Internal(tarn_ports::PortError::internal(e.to_string())))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| corrupt_text("compaction marker"))?;
        let plain = MetaRangeId::new(text.trim()).map_err(|_| corrupt_text("compaction marker"))?;
        self.markers.insert(cached, plain.clone());
        Ok(Some(plain))
    }

    /// The tree a commit onto tree `id` starts from: `id` itself, or the
    /// plain tree a compaction folded it into when its overlay is large
    /// enough to have been compacted. A marker whose plain tree cannot be
    /// read is passed over (the layered tree holds the same records).
    pub(crate) async fn tree_for_commit(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<Tree> {
        let tree = self.tree(ns, id).await?;
        if !self
            .layering()
            .wants_compaction(tree.overlay_records().len())
        {
            return Ok(tree);
        }
        let plain = match self.compacted(ns, id).await {
            Ok(Some(plain)) => plain,
            Ok(None) => return Ok(tree),
            Err(e) => {
                tracing::warn!(tree = %id, error = %e, "cannot read a compaction marker; committing onto the layered tree");
                return Ok(tree);
            }
        };
        match self.tree(ns, &plain).await {
            Ok(folded) if folded.overlay.is_none() => Ok(folded),
            Ok(_) => Ok(tree),
            Err(e) => {
                tracing::warn!(tree = %id, compacted = %plain, error = %e, "cannot read a compacted tree; committing onto the layered tree");
                Ok(tree)
            }
        }
    }

    /// Layered tree `tree` (of id `id`) as the plain tree a compaction folded
    /// it into, when that is `other_base`: the two then compare by their
    /// overlays alone, where comparing the bases would read every range
    /// the fold rewrote. Otherwise `tree` as it is.
    pub(crate) async fn as_compacted_onto(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
        tree: Tree,
        other_base: &MetaRangeId,
    ) -> Result<Tree> {
        if !self
            .layering()
            .wants_compaction(tree.overlay_records().len())
        {
            return Ok(tree);
        }
        match self.compacted(ns, id).await {
            Ok(Some(plain)) if plain == *other_base => self.tree(ns, &plain).await,
            Ok(_) => Ok(tree),
            Err(e) => {
                tracing::warn!(tree = %id, error = %e, "cannot read a compaction marker; comparing the layered tree");
                Ok(tree)
            }
        }
    }

    /// Folds layered tree `id` into a plain tree and writes the marker that
    /// names it. Safe to run any number of times, anywhere, at once.
    pub(crate) async fn compact(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<Compacted> {
        let tree = self.tree_uncached(ns, id).await?;
        let Some(overlay) = tree.overlay.clone() else {
            return Ok(Compacted::Plain);
        };
        if let Some(plain) = self.compacted(ns, id).await? {
            // Written last, so the plain tree was whole; it may have been
            // trashed since by garbage collection, which a read restores.
            if self.blocks.head(ns, &metarange_key(&plain)?).await.is_ok()
                || self
                    .restore_from_trash(ns, &metarange_key(&plain)?)
                    .await
                    .is_ok()
            {
                return Ok(Compacted::Already(plain));
            }
        }
        let mut changes = overlay.records.clone().into_iter();
        let plain = self
            .apply_plain(ns, &tree.base, &mut changes, true)
            .await?
            .tree;
        let text = plain.to_string().into_bytes();
        let size = text.len() as u64;
        self.blocks
            .put(
                ns,
                &marker_key(id)?,
                ByteStream::from_bytes(text),
                Some(size),
            )
            .await?;
        Ok(Compacted::Folded(plain))
    }
}
