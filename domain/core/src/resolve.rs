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
    three_way, Change, MergeStrategy, MetaRangeId, ObjectPath, Resolution, StorageNamespace,
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

impl Engine {
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
