//! The three-way merge of committed trees as a stream: every path the source
//! changed relative to the base is resolved against the destination, a batch
//! at a time, and fed to `apply`. Memory stays bounded by the batch whatever
//! the size of the change.

use crate::error::{Error, Result};
use crate::trees::compare::Scope;
use crate::trees::{Applied, ChangeSource, TreeChange};
use crate::Engine;
use futures::future::BoxFuture;
use std::collections::VecDeque;
use tarn_model::{
    three_way, Change, Entry, MergeStrategy, MetaRangeId, ObjectPath, Resolution, StorageNamespace,
};

/// Changed paths read from the diff at a time.
const BATCH: usize = 4096;
/// Conflicting paths reported at most (all are counted).
const MAX_CONFLICTS_LISTED: usize = 1000;

/// The resolved changes of a three-way merge, in path order.
struct Resolved<'a> {
    engine: &'a Engine,
    ns: &'a StorageNamespace,
    trees: (&'a MetaRangeId, &'a MetaRangeId, &'a MetaRangeId),
    strategy: MergeStrategy,
    after: Option<String>,
    pending: VecDeque<Change>,
    exhausted: bool,
    conflicts: Vec<ObjectPath>,
}

impl<'a> Resolved<'a> {
    fn new(
        engine: &'a Engine,
        ns: &'a StorageNamespace,
        trees: (&'a MetaRangeId, &'a MetaRangeId, &'a MetaRangeId),
        strategy: MergeStrategy,
    ) -> Self {
        Self {
            engine,
            ns,
            trees,
            strategy,
            after: None,
            pending: VecDeque::new(),
            exhausted: false,
            conflicts: Vec::new(),
        }
    }

    async fn next_resolved(&mut self) -> Result<Option<TreeChange>> {
        let (base, source, dest) = self.trees;
        loop {
            if self.pending.is_empty() && !self.exhausted {
                let scope = Scope {
                    prefix: "",
                    after: self.after.as_deref(),
                };
                let batch = self
                    .engine
                    .trees
                    .diff(self.ns, base, source, scope, BATCH)
                    .await?;
                self.exhausted = batch.len() < BATCH;
                self.after = batch.last().map(|c| c.path.as_str().to_owned());
                self.pending.extend(batch);
            }
            let Some(c) = self.pending.pop_front() else {
                return Ok(None);
            };
            let d = self.engine.trees.get(self.ns, dest, &c.path).await?;
            match three_way(c.left.as_ref(), c.right.as_ref(), d.as_ref(), self.strategy) {
                Resolution::KeepDestination => {}
                Resolution::Take(v) => return Ok(Some((c.path, v))),
                Resolution::Conflict => {
                    if self.conflicts.len() < MAX_CONFLICTS_LISTED {
                        self.conflicts.push(c.path);
                    }
                }
            }
        }
    }
}

impl ChangeSource for Resolved<'_> {
    fn next_change(&mut self) -> BoxFuture<'_, Result<Option<TreeChange>>> {
        Box::pin(self.next_resolved())
    }
}

/// The identity comparison of the merge table.
fn same(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_identity(b),
        _ => false,
    }
}

/// A merge of three trees that lie over one base, resolved from their
/// overlays: what [`Resolved`] finds, but a base record is read only where
/// one side's overlay names a path and the other sides' do not decide it.
struct OverOneBase {
    changes: Vec<TreeChange>,
    conflicts: Vec<ObjectPath>,
}

impl Engine {
    /// The merge of `base → source` into `dest` from their overlays when the
    /// three lie over one base (`None` otherwise).
    ///
    /// A path no overlay of `base` or `source` names is unchanged. Where
    /// neither `base`'s nor `dest`'s overlay names a path, both hold the
    /// base's record, so `source`'s value is taken without reading it: when
    /// that value has the base record's identity this writes it where the
    /// table would keep the destination's record, the same content at the
    /// address of the newer upload, as a commit onto a layer does (see
    /// docs/trees.md).
    async fn merge_over_one_base(
        &self,
        ns: &StorageNamespace,
        (base, source, dest): (&MetaRangeId, &MetaRangeId, &MetaRangeId),
        strategy: MergeStrategy,
    ) -> Result<Option<OverOneBase>> {
        let (mut b, mut s, mut d) = (
            self.trees.tree(ns, base).await?,
            self.trees.tree(ns, source).await?,
            self.trees.tree(ns, dest).await?,
        );
        // A layered tree that a compaction folded into the plain tree the
        // others lie over reads as that plain tree: the merge base is often
        // from before a fold, and either side may be.
        let trees = &self.trees;
        if s.base_id != d.base_id {
            d = trees.as_compacted_onto(ns, dest, d, &s.base_id).await?;
        }
        if s.base_id != d.base_id {
            s = trees.as_compacted_onto(ns, source, s, &d.base_id).await?;
        }
        if b.base_id != s.base_id {
            b = trees.as_compacted_onto(ns, base, b, &s.base_id).await?;
        }
        if b.base_id != s.base_id || b.base_id != d.base_id {
            return Ok(None);
        }
        let (bo, so) = (b.overlay_records(), s.overlay_records());
        let d_overlay = d.overlay.clone();
        let said_d = |p: &ObjectPath| d_overlay.as_ref().and_then(|o| o.find(p));
        let mut out = OverOneBase {
            changes: Vec::new(),
            conflicts: Vec::new(),
        };
        let (mut i, mut j) = (0, 0);
        loop {
            let path = match (bo.get(i), so.get(j)) {
                (None, None) => break,
                (Some((pb, _)), Some((ps, _))) => pb.min(ps).clone(),
                (Some((pb, _)), None) => pb.clone(),
                (None, Some((ps, _))) => ps.clone(),
            };
            let said_b = bo.get(i).filter(|(p, _)| *p == path).map(|(_, v)| v);
            let said_s = so.get(j).filter(|(p, _)| *p == path).map(|(_, v)| v);
            i += usize::from(said_b.is_some());
            j += usize::from(said_s.is_some());
            let said_dest = said_d(&path);
            let unchanged = match (said_b, said_s) {
                (Some(vb), Some(vs)) => same(vb.as_ref(), vs.as_ref()),
                _ => false,
            };
            if unchanged || (said_s.is_none() && said_dest.is_none()) {
                // Source left it as it was, or source and dest both hold
                // the base's record: the destination stays.
                continue;
            }
            if let (None, None, Some(vs)) = (said_b, said_dest, said_s) {
                out.changes.push((path, vs.clone()));
                continue;
            }
            let from_base = self.trees.base_get(ns, &b.base, &path).await?;
            let value = |said: Option<&Option<Entry>>| match said {
                Some(v) => v.clone(),
                None => from_base.clone(),
            };
            let (vb, vs, vd) = (value(said_b), value(said_s), value(said_dest));
            if same(vb.as_ref(), vs.as_ref()) {
                continue;
            }
            match three_way(vb.as_ref(), vs.as_ref(), vd.as_ref(), strategy) {
                Resolution::KeepDestination => {}
                Resolution::Take(v) => out.changes.push((path, v)),
                Resolution::Conflict => out.conflicts.push(path),
            }
        }
        Ok(Some(out))
    }

    /// Merges the change `base → source` into `dest`: fails with the
    /// conflicting paths (at most 1,000 listed) before writing anything when
    /// the strategy resolves no conflict; otherwise applies the resolved
    /// changes to `dest`, reusing every range they leave alone.
    pub(crate) async fn merge_trees(
        &self,
        ns: &StorageNamespace,
        (base, source, dest): (&MetaRangeId, &MetaRangeId, &MetaRangeId),
        strategy: MergeStrategy,
    ) -> Result<Applied> {
        let trees = (base, source, dest);
        if let Some(mut merged) = self.merge_over_one_base(ns, trees, strategy).await? {
            if !merged.conflicts.is_empty() {
                merged.conflicts.truncate(MAX_CONFLICTS_LISTED);
                return Err(Error::Conflict {
                    paths: merged.conflicts,
                });
            }
            let mut changes = merged.changes.into_iter();
            return self.trees.apply(ns, dest, &mut changes).await;
        }
        if strategy == MergeStrategy::None {
            let mut scan = Resolved::new(self, ns, (base, source, dest), strategy);
            while scan.next_resolved().await?.is_some() {}
            if !scan.conflicts.is_empty() {
                return Err(Error::Conflict {
                    paths: scan.conflicts,
                });
            }
        }
        let mut changes = Resolved::new(self, ns, (base, source, dest), strategy);
        self.trees.apply(ns, dest, &mut changes).await
    }
}
