//! Base values of layered trees: for each path a layered tree's overlay
//! names, the record its base holds there (or none), in
//! `_tarn/basevalues/<tree id>`.
//!
//! A diff between two layers over one base needs, for each path one
//! overlay alone names, the base's record there (to tell "added" from
//! "changed"). Scattered changes fall each in a range of their own, so
//! without this file a diff reads a range per change. The file is written
//! off the commit path (see `crate::describe`), from the parent tree's
//! file and reads for the change alone. It is deterministic (the same tree
//! always describes to the same bytes), so any instance may write it, any
//! number of times; a diff that finds none (or cannot read it) reads the
//! base as before.
//! Garbage collection deletes it with its tree.

use super::layered::OverlayData;
use super::{corrupt, Overlay, TreeStore};
use crate::error::{Error, Result};
use futures::StreamExt;
use std::sync::Arc;
use tarn_model::tree::{self, DecodedTree, OverlayRecord};
use tarn_model::{BlockKey, Entry, MetaRangeId, StorageNamespace};

/// Where base values live.
const BASE_VALUES_PREFIX: &str = "_tarn/basevalues/";

/// Ranges read at once while describing a tree.
const PARALLEL_READS: usize = 8;

pub(crate) fn base_values_key(id: &MetaRangeId) -> Result<BlockKey> {
    Ok(BlockKey::new(format!("{BASE_VALUES_PREFIX}{id}"))?)
}

impl TreeStore {
    /// The base values of layered tree `id` over base `base`: `None` when
    /// none were written, or they cannot be read (a warning says why: a
    /// diff then reads the base, so a damaged file costs speed, never an
    /// answer), or they describe another base (which a file named by the
    /// tree cannot, unless damaged).
    pub(crate) async fn base_values(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
        base: &MetaRangeId,
    ) -> Option<Overlay> {
        let cached = (ns.as_str().to_owned(), id.clone());
        let values = match self.base_values.get(&cached) {
            Some(v) => v,
            None if self.undescribed.contains_key(&cached) => return None,
            None => match self.read_base_values(ns, id).await {
                Ok(Some(v)) => {
                    self.base_values.insert(cached, v.clone());
                    v
                }
                // Remembered a little while: a paginated diff asks once
                // per page.
                Ok(None) => {
                    self.undescribed.insert(cached, ());
                    return None;
                }
                Err(e) => {
                    tracing::warn!(tree = %id, %ns, error = %e, "cannot read base values; reading the base instead");
                    self.undescribed.insert(cached, ());
                    return None;
                }
            },
        };
        (values.base == *base).then_some(values)
    }

    /// The base values file of tree `id`, decoded; `None` if there is none.
    async fn read_base_values(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<Option<Overlay>> {
        let got = match self.blocks.get(ns, &base_values_key(id)?, None).await {
            Ok(got) => got,
            Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bytes = got
            .body
            .collect_bounded(super::MAX_TREE_FILE)
            .await
            .map_err(|e| Error::Internal(tarn_ports::PortError::internal(e.to_string())))?;
        let DecodedTree::Layered { base, overlay } = tree::decode_tree(&bytes).map_err(corrupt)?
        else {
            return Err(super::corrupt_text("base values without a base"));
        };
        Ok(Some(Arc::new(OverlayData::new(base, overlay))))
    }

    /// Whether a read found layered tree `id` without base values a moment
    /// ago.
    pub(crate) fn found_undescribed(&self, ns: &StorageNamespace, id: &MetaRangeId) -> bool {
        self.undescribed
            .contains_key(&(ns.as_str().to_owned(), id.clone()))
    }

    /// Writes the base values of tree `id` unless they are there; whether
    /// it wrote them (a plain tree has none). Those of `parent`, a tree
    /// over the same base, are reused for the paths both overlays name:
    /// only the change is looked up. Ranges are read past the cache, as
    /// garbage collection reads them: describing must not evict what
    /// serves requests.
    pub(crate) async fn describe(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
        parent: Option<&MetaRangeId>,
    ) -> Result<bool> {
        let tree = self.tree(ns, id).await?;
        let Some(overlay) = &tree.overlay else {
            return Ok(false);
        };
        let key = base_values_key(id)?;
        // Written already (and readable): nothing to do. A damaged file is
        // written again.
        if let Ok(Some(v)) = self.read_base_values(ns, id).await {
            if v.base == tree.base_id {
                return Ok(false);
            }
        }
        let known = match parent {
            Some(p) => self.base_values(ns, p, &tree.base_id).await,
            None => None,
        };
        // Each path's base value: known from the parent's, else looked up
        // in the range that may hold it, each range read once.
        let mut values: Vec<Option<Option<Entry>>> = Vec::with_capacity(overlay.records.len());
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (k, (path, _)) in overlay.records.iter().enumerate() {
            if let Some(v) = known.as_ref().and_then(|o| o.find(path)) {
                values.push(Some(v.clone()));
                continue;
            }
            let i = tree.base.locate(path);
            match tree.base.get(i) {
                Some(info) if info.first <= *path => {
                    match groups.last_mut() {
                        Some((at, ks)) if *at == i => ks.push(k),
                        _ => groups.push((i, vec![k])),
                    }
                    values.push(None);
                }
                // Before a range's first key, or past the last: in none.
                _ => values.push(Some(None)),
            }
        }
        let base = &tree.base;
        let mut reads = futures::stream::iter(groups)
            .map(|(i, ks)| async move {
                let info = base
                    .get(i)
                    .ok_or_else(|| super::corrupt_text("a range past the metarange's end"))?;
                let range = self.range_uncached(ns, &info.id).await?;
                ks.into_iter()
                    .map(|k| {
                        let value = match range.find(&overlay.records[k].0) {
                            Some(j) => range.entry(j)?,
                            None => None,
                        };
                        Ok((k, value))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .buffer_unordered(PARALLEL_READS);
        while let Some(found) = reads.next().await {
            for (k, value) in found? {
                values[k] = Some(value);
            }
        }
        let records = overlay
            .records
            .iter()
            .zip(values)
            .map(|((path, _), value)| {
                let value = value.ok_or_else(|| super::corrupt_text("a path not described"))?;
                Ok((path.clone(), value))
            })
            .collect::<Result<Vec<OverlayRecord>>>()?;
        self.write_file(ns, key, tree::encode_layered(&tree.base_id, &records))
            .await?;
        let cached = (ns.as_str().to_owned(), id.clone());
        self.undescribed.invalidate(&cached);
        self.base_values.insert(
            cached,
            Arc::new(OverlayData::new(tree.base_id.clone(), records)),
        );
        Ok(true)
    }
}
