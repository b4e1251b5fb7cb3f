//! Walking a committed tree in key order, loading ranges as needed.

use super::{MetaRange, Range, TreeStore};
use crate::error::Result;
use tarn_model::tree::TreeRecord;
use tarn_model::{MetaRangeId, StorageNamespace};

/// A position in a tree: the next record to visit.
pub(crate) struct TreeCursor {
    store: TreeStore,
    ns: StorageNamespace,
    meta: MetaRange,
    range_index: usize,
    range: Option<Range>,
    pos: usize,
}

impl TreeCursor {
    /// A cursor at the start of tree `id`.
    pub(crate) async fn open(
        store: &TreeStore,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<Self> {
        let meta = store.metarange(ns, id).await?;
        Ok(Self {
            store: store.clone(),
            ns: ns.clone(),
            meta,
            range_index: 0,
            range: None,
            pos: 0,
        })
    }

    /// Moves to the first record whose path is `>= key`.
    pub(crate) async fn seek(&mut self, key: &str) -> Result<()> {
        self.range_index = self.meta.partition_point(|r| r.last.as_str() < key);
        self.range = None;
        self.fill().await?;
        if let Some(range) = &self.range {
            self.pos = range.partition_point(|(p, _)| p.as_str() < key);
        }
        Ok(())
    }

    /// Loads the current range if needed; past the end of a range, moves on.
    async fn fill(&mut self) -> Result<()> {
        loop {
            match &self.range {
                Some(r) if self.pos < r.len() => return Ok(()),
                Some(_) => {
                    self.range = None;
                    self.range_index += 1;
                }
                None => {
                    let Some(info) = self.meta.get(self.range_index) else {
                        return Ok(());
                    };
                    self.range = Some(self.store.range(&self.ns, &info.id).await?);
                    self.pos = 0;
                }
            }
        }
    }

    /// The record at the cursor, loading as needed.
    pub(crate) async fn peek(&mut self) -> Result<Option<&TreeRecord>> {
        self.fill().await?;
        Ok(self.current())
    }

    /// The record at the cursor, if loaded (call [`Self::peek`] first).
    pub(crate) fn current(&self) -> Option<&TreeRecord> {
        self.range.as_ref().and_then(|r| r.get(self.pos))
    }

    /// Steps past the current record.
    pub(crate) fn advance(&mut self) {
        self.pos += 1;
    }
}
