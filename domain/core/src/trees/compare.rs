//! Differences between two trees. Ranges with the same id on both sides hold
//! the same records, so only ranges that differ are read: the cost follows
//! the size of the difference, not of the trees.

use super::{Range, TreeStore};
use crate::error::Result;
use std::cmp::Ordering;
use std::collections::HashSet;
use tarn_model::tree::{RangeInfo, TreeRecord};
use tarn_model::{Change, ChangeKind, MetaRangeId, ObjectPath, RangeId, StorageNamespace};

/// Which part of the key space a comparison looks at.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scope<'a> {
    /// Only paths starting with this.
    pub(crate) prefix: &'a str,
    /// Only paths strictly after this.
    pub(crate) after: Option<&'a str>,
}

impl Scope<'_> {
    fn before_start(&self, p: &str) -> bool {
        p < self.prefix || self.after.is_some_and(|a| p <= a)
    }
    fn past_end(&self, p: &str) -> bool {
        p > self.prefix && !p.starts_with(self.prefix)
    }
}

/// The records of some ranges of a tree, in order, within a scope.
struct Seq<'a> {
    store: &'a TreeStore,
    ns: &'a StorageNamespace,
    scope: Scope<'a>,
    ranges: Vec<RangeInfo>,
    index: usize,
    range: Option<Range>,
    pos: usize,
}

impl<'a> Seq<'a> {
    fn new(
        store: &'a TreeStore,
        ns: &'a StorageNamespace,
        scope: Scope<'a>,
        all: &[RangeInfo],
        skip: &HashSet<&RangeId>,
    ) -> Self {
        let ranges = all
            .iter()
            .filter(|r| !skip.contains(&r.id))
            .filter(|r| !scope.before_start(r.last.as_str()))
            .filter(|r| !scope.past_end(r.first.as_str()))
            .cloned()
            .collect();
        Self {
            store,
            ns,
            scope,
            ranges,
            index: 0,
            range: None,
            pos: 0,
        }
    }

    /// Positions on the next record in scope, loading ranges as needed.
    async fn fill(&mut self) -> Result<()> {
        loop {
            match &self.range {
                Some(r) => match r.get(self.pos) {
                    Some((p, _)) if self.scope.before_start(p.as_str()) => self.pos += 1,
                    Some((p, _)) if self.scope.past_end(p.as_str()) => {
                        self.ranges.clear();
                        self.range = None;
                        return Ok(());
                    }
                    Some(_) => return Ok(()),
                    None => {
                        self.range = None;
                        self.index += 1;
                    }
                },
                None => {
                    let Some(info) = self.ranges.get(self.index) else {
                        return Ok(());
                    };
                    let r = self.store.range(self.ns, &info.id).await?;
                    // Start inside the range by binary search rather than a scan.
                    let start = match self.scope.after {
                        Some(a) if a >= self.scope.prefix => {
                            r.partition_point(|(p, _)| p.as_str() <= a)
                        }
                        _ => r.partition_point(|(p, _)| p.as_str() < self.scope.prefix),
                    };
                    self.pos = start;
                    self.range = Some(r);
                }
            }
        }
    }

    fn current(&self) -> Option<&TreeRecord> {
        self.range.as_ref().and_then(|r| r.get(self.pos))
    }
}

impl TreeStore {
    /// Up to `limit` differences from tree `left` to tree `right` in `scope`,
    /// in path order.
    pub(crate) async fn diff(
        &self,
        ns: &StorageNamespace,
        left: &MetaRangeId,
        right: &MetaRangeId,
        scope: Scope<'_>,
        limit: usize,
    ) -> Result<Vec<Change>> {
        if left == right || limit == 0 {
            return Ok(Vec::new());
        }
        let (lm, rm) = (
            self.metarange(ns, left).await?,
            self.metarange(ns, right).await?,
        );
        let left_ids: HashSet<&RangeId> = lm.iter().map(|r| &r.id).collect();
        let common: HashSet<&RangeId> = rm
            .iter()
            .map(|r| &r.id)
            .filter(|id| left_ids.contains(id))
            .collect();
        let mut l = Seq::new(self, ns, scope, &lm, &common);
        let mut r = Seq::new(self, ns, scope, &rm, &common);
        let mut out = Vec::new();
        while out.len() < limit {
            l.fill().await?;
            r.fill().await?;
            let change = match (l.current(), r.current()) {
                (None, None) => break,
                (Some((lp, le)), None) => change(lp, ChangeKind::Removed, Some(le), None),
                (None, Some((rp, re))) => change(rp, ChangeKind::Added, None, Some(re)),
                (Some((lp, le)), Some((rp, re))) => match lp.cmp(rp) {
                    Ordering::Less => change(lp, ChangeKind::Removed, Some(le), None),
                    Ordering::Greater => change(rp, ChangeKind::Added, None, Some(re)),
                    Ordering::Equal if le.same_identity(re) => {
                        l.pos += 1;
                        r.pos += 1;
                        continue;
                    }
                    Ordering::Equal => change(lp, ChangeKind::Changed, Some(le), Some(re)),
                },
            };
            match change.kind {
                ChangeKind::Removed => l.pos += 1,
                ChangeKind::Added => r.pos += 1,
                ChangeKind::Changed => {
                    l.pos += 1;
                    r.pos += 1;
                }
            }
            out.push(change);
        }
        Ok(out)
    }
}

fn change(
    p: &ObjectPath,
    kind: ChangeKind,
    l: Option<&tarn_model::Entry>,
    r: Option<&tarn_model::Entry>,
) -> Change {
    Change {
        path: p.clone(),
        kind,
        left: l.cloned(),
        right: r.cloned(),
    }
}
