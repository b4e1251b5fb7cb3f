//! Walking a committed tree in key order, loading ranges as needed; over a
//! layered tree, the overlay's changes are merged in (its removals hide the
//! base's records).

use super::{MetaRange, Overlay, Range, TreeStore};
use crate::error::Result;
use std::cmp::Ordering;
use tarn_model::tree::TreeRecord;
use tarn_model::{MetaRangeId, StorageNamespace};

/// A position in a plain tree.
struct BaseCursor {
    store: TreeStore,
    ns: StorageNamespace,
    meta: MetaRange,
    range_index: usize,
    range: Option<Range>,
    pos: usize,
    /// The record at `pos`, decoded once the cursor has settled there.
    cur: Option<TreeRecord>,
}

impl BaseCursor {
    async fn seek(&mut self, key: &str) -> Result<()> {
        self.range_index = self.meta.partition_point(|r| r.last.as_str() < key);
        self.range = match self.meta.get(self.range_index) {
            Some(info) => Some(self.store.range(&self.ns, &info.id).await?),
            None => None,
        };
        self.pos = match &self.range {
            Some(range) => range.partition_point(|p| p < key.as_bytes()),
            None => 0,
        };
        self.cur = None;
        Ok(())
    }

    async fn fill(&mut self) -> Result<()> {
        loop {
            match &self.range {
                Some(r) if self.pos < r.len() => {
                    if self.cur.is_none() {
                        self.cur = r.record(self.pos)?;
                    }
                    return Ok(());
                }
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
                    self.cur = None;
                }
            }
        }
    }

    /// Steps past the current record.
    fn step(&mut self) {
        self.pos += 1;
        self.cur = None;
    }

    async fn peek(&mut self) -> Result<Option<&TreeRecord>> {
        self.fill().await?;
        Ok(self.current())
    }

    fn current(&self) -> Option<&TreeRecord> {
        self.cur.as_ref()
    }
}

/// Where the cursor's current record comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    /// Not settled since the last move.
    Unsettled,
    Base,
    /// The overlay's record, held in `held`.
    Overlay,
    End,
}

/// A position in a tree: the next record to visit.
pub(crate) struct TreeCursor {
    base: BaseCursor,
    overlay: Option<Overlay>,
    /// The next overlay record.
    opos: usize,
    held: Option<TreeRecord>,
    at: At,
}

impl TreeCursor {
    /// A cursor at the start of tree `id`.
    pub(crate) async fn open(
        store: &TreeStore,
        ns: &StorageNamespace,
        id: &MetaRangeId,
    ) -> Result<Self> {
        let tree = store.tree(ns, id).await?;
        Ok(Self {
            base: BaseCursor {
                store: store.clone(),
                ns: ns.clone(),
                meta: tree.base,
                range_index: 0,
                range: None,
                pos: 0,
                cur: None,
            },
            overlay: tree.overlay,
            opos: 0,
            held: None,
            at: At::Unsettled,
        })
    }

    /// Moves to the first record whose path is `>= key`.
    pub(crate) async fn seek(&mut self, key: &str) -> Result<()> {
        self.base.seek(key).await?;
        if let Some(o) = &self.overlay {
            self.opos = o.records.partition_point(|(p, _)| p.as_str() < key);
        }
        self.held = None;
        self.at = At::Unsettled;
        Ok(())
    }

    /// Decides where the next visible record is: the overlay's changes
    /// replace or remove base records of the same path.
    async fn settle(&mut self) -> Result<()> {
        if self.at != At::Unsettled {
            return Ok(());
        }
        loop {
            let Some(overlay) = &self.overlay else {
                self.base.fill().await?;
                self.at = if self.base.current().is_some() {
                    At::Base
                } else {
                    At::End
                };
                return Ok(());
            };
            let overlay = overlay.clone();
            let next = overlay.records.get(self.opos);
            let order = match (self.base.peek().await?, next) {
                (None, None) => {
                    self.at = At::End;
                    return Ok(());
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((b, _)), Some((o, _))) => b.cmp(o),
            };
            if order == Ordering::Equal {
                // Replaced or removed by the overlay.
                self.base.step();
            }
            let from_overlay = order != Ordering::Less;
            if !from_overlay {
                self.at = At::Base;
                return Ok(());
            }
            match next {
                Some((p, Some(e))) => {
                    self.held = Some((p.clone(), e.clone()));
                    self.at = At::Overlay;
                    return Ok(());
                }
                // A removal: nothing to show here.
                _ => self.opos += 1,
            }
        }
    }

    /// The record at the cursor, loading as needed.
    pub(crate) async fn peek(&mut self) -> Result<Option<&TreeRecord>> {
        self.settle().await?;
        Ok(self.current())
    }

    /// The record at the cursor, if loaded (call [`Self::peek`] first).
    pub(crate) fn current(&self) -> Option<&TreeRecord> {
        match self.at {
            At::Base => self.base.current(),
            At::Overlay => self.held.as_ref(),
            At::Unsettled | At::End => None,
        }
    }

    /// Steps past the current record.
    pub(crate) fn advance(&mut self) {
        match self.at {
            At::Base => self.base.step(),
            At::Overlay => {
                self.opos += 1;
                self.held = None;
            }
            At::Unsettled | At::End => return,
        }
        self.at = At::Unsettled;
    }
}
