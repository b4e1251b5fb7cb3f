//! Differences between two trees. Ranges with the same id on both sides hold
//! the same records, so only ranges that differ are read: the cost follows
//! the size of the difference, not of the trees.

use super::{MetaRange, Overlay, Range, Tree, TreeStore};
use crate::error::Result;
use futures::StreamExt;
use std::cmp::Ordering;
use std::collections::{HashSet, VecDeque};
use tarn_model::tree::OverlayRecord;
use tarn_model::tree::{RangeInfo, TreeRecord};
use tarn_model::Entry;
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
        !self.prefix.is_empty() && p > self.prefix && !p.starts_with(self.prefix)
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
    /// The record at `pos`, decoded once `fill` has settled there.
    cur: Option<TreeRecord>,
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
            cur: None,
        }
    }

    /// Positions on the next record in scope, loading ranges as needed.
    async fn fill(&mut self) -> Result<()> {
        loop {
            match &self.range {
                Some(r) => match r.path(self.pos) {
                    Some(p) if self.scope.before_start(p) => self.pos += 1,
                    Some(p) if self.scope.past_end(p) => {
                        self.ranges.clear();
                        self.range = None;
                        return Ok(());
                    }
                    Some(_) => {
                        if self.cur.is_none() {
                            self.cur = r.record(self.pos)?;
                        }
                        return Ok(());
                    }
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
                            r.partition_point(|p| p <= a.as_bytes())
                        }
                        _ => r.partition_point(|p| p < self.scope.prefix.as_bytes()),
                    };
                    self.pos = start;
                    self.cur = None;
                    self.range = Some(r);
                }
            }
        }
    }

    fn current(&self) -> Option<&TreeRecord> {
        self.cur.as_ref()
    }

    /// Steps past the current record.
    fn step(&mut self) {
        self.pos += 1;
        self.cur = None;
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
        let (mut l, mut r) = (self.tree(ns, left).await?, self.tree(ns, right).await?);
        if l.base_id != r.base_id {
            // A commit onto a compacted layer lies over the folded tree.
            l = self.as_compacted_onto(ns, left, l, &r.base_id).await?;
            r = self.as_compacted_onto(ns, right, r, &l.base_id).await?;
        }
        if l.overlay.is_none() && r.overlay.is_none() {
            return self.diff_plain(ns, &l.base, &r.base, scope, limit).await;
        }
        let values = if l.base_id == r.base_id {
            futures::join!(self.values_of(ns, left, &l), self.values_of(ns, right, &r))
        } else {
            (None, None)
        };
        self.diff_layered(ns, (&l, &r), values, scope, limit).await
    }

    /// The base values of layered tree `id` (read as `tree`), if written.
    async fn values_of(
        &self,
        ns: &StorageNamespace,
        id: &MetaRangeId,
        tree: &Tree,
    ) -> Option<Overlay> {
        tree.overlay.as_ref()?;
        self.base_values(ns, id, &tree.base_id).await
    }

    /// Differences between two plain trees.
    async fn diff_plain(
        &self,
        ns: &StorageNamespace,
        lm: &MetaRange,
        rm: &MetaRange,
        scope: Scope<'_>,
        limit: usize,
    ) -> Result<Vec<Change>> {
        let left_ids: HashSet<&RangeId> = lm.iter().map(|r| &r.id).collect();
        let common: HashSet<&RangeId> = rm
            .iter()
            .map(|r| &r.id)
            .filter(|id| left_ids.contains(id))
            .collect();
        let mut l = Seq::new(self, ns, scope, lm, &common);
        let mut r = Seq::new(self, ns, scope, rm, &common);
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
                        l.step();
                        r.step();
                        continue;
                    }
                    Ordering::Equal => change(lp, ChangeKind::Changed, Some(le), Some(re)),
                },
            };
            match change.kind {
                ChangeKind::Removed => l.step(),
                ChangeKind::Added => r.step(),
                ChangeKind::Changed => {
                    l.step();
                    r.step();
                }
            }
            out.push(change);
        }
        Ok(out)
    }
}

/// Ranges read at once to look paths up in a base.
const PARALLEL_READS: usize = 8;

/// Differences the bases of two layered trees are read for at a time.
const BASE_BATCH: usize = 1024;

/// The next overlay record at or after `i` within `scope`.
fn overlay_at<'a>(
    recs: &'a [OverlayRecord],
    i: usize,
    scope: &Scope<'_>,
) -> Option<&'a OverlayRecord> {
    recs.get(i).filter(|(p, _)| !scope.past_end(p.as_str()))
}

/// Where `scope` starts in sorted overlay records.
fn overlay_start(recs: &[OverlayRecord], scope: &Scope<'_>) -> usize {
    recs.partition_point(|(p, _)| scope.before_start(p.as_str()))
}

impl TreeStore {
    /// Reads, in parallel, the base ranges not yet cached that the first
    /// `limit` paths named by one overlay alone will be looked up in (the
    /// other side's base), so that the comparison then finds them cached: scattered changes are
    /// each in a range of their own, and one read after another would add
    /// up every read's latency.
    async fn prefetch_for_diff(
        &self,
        ns: &StorageNamespace,
        (l, r): (&Tree, &Tree),
        (lo, ro): (&[OverlayRecord], &[OverlayRecord]),
        (lv, rv): (Option<&Overlay>, Option<&Overlay>),
        scope: &Scope<'_>,
        limit: usize,
    ) -> Result<()> {
        let described =
            |v: Option<&Overlay>, path: &ObjectPath| v.is_some_and(|v| v.find(path).is_some());
        let (mut i, mut j) = (0, 0);
        let mut wanted: Vec<(MetaRange, usize)> = Vec::new();
        let mut seen: HashSet<RangeId> = HashSet::new();
        // Reads past what the cache can keep would be read again.
        let budget = self.remember_per_write() * 4;
        let mut bytes = 0u64;
        let mut want = |base: &MetaRange, path: &ObjectPath| {
            let i = base.locate(path);
            if let Some(info) = base.get(i) {
                if info.first <= *path
                    && bytes < budget
                    && !base.has_shortcut(i)
                    && seen.insert(info.id.clone())
                {
                    bytes += info.bytes;
                    wanted.push((base.clone(), i));
                }
            }
        };
        let mut found = 0;
        while found < limit {
            let (a, b) = (overlay_at(lo, i, scope), overlay_at(ro, j, scope));
            match (a, b) {
                (None, None) => break,
                (Some((pa, _)), Some((pb, _))) if pa == pb => {
                    i += 1;
                    j += 1;
                    continue;
                }
                (Some((pa, _)), Some((pb, _))) if pa < pb => {
                    if !described(lv, pa) {
                        want(&r.base, pa);
                    }
                    i += 1;
                }
                (Some((pa, _)), None) => {
                    if !described(lv, pa) {
                        want(&r.base, pa);
                    }
                    i += 1;
                }
                (_, Some((pb, _))) => {
                    if !described(rv, pb) {
                        want(&l.base, pb);
                    }
                    j += 1;
                }
            }
            found += 1;
        }
        let mut reads = futures::stream::iter(wanted)
            .map(|(base, i)| async move { self.range_of(ns, &base, i).await.map(|_| ()) })
            .buffer_unordered(PARALLEL_READS);
        while let Some(read) = reads.next().await {
            read?;
        }
        Ok(())
    }

    /// Differences where either tree is layered: the paths either overlay
    /// names, and those where the bases differ (none when they share one),
    /// each compared on its value in both trees. Base records are read only
    /// for paths one overlay names and the other does not.
    async fn diff_layered(
        &self,
        ns: &StorageNamespace,
        (l, r): (&Tree, &Tree),
        (lv, rv): (Option<Overlay>, Option<Overlay>),
        scope: Scope<'_>,
        limit: usize,
    ) -> Result<Vec<Change>> {
        let (lo, ro) = (l.overlay_records(), r.overlay_records());
        let (mut li, mut ri) = (overlay_start(lo, &scope), overlay_start(ro, &scope));
        let (lv, rv) = (lv.as_ref(), rv.as_ref());
        self.prefetch_for_diff(ns, (l, r), (&lo[li..], &ro[ri..]), (lv, rv), &scope, limit)
            .await?;
        // A path one overlay alone names holds, on the other side (over the
        // same base), the base's record: from the naming tree's base values
        // when written, else read from the base.
        let described =
            |v: Option<&Overlay>, path: &ObjectPath| v.and_then(|v| v.find(path)).cloned();
        let mut base: VecDeque<Change> = VecDeque::new();
        let mut base_after: Option<String> = None;
        let mut base_done = l.base_id == r.base_id;
        let mut out = Vec::new();
        while out.len() < limit {
            if base.is_empty() && !base_done {
                let after = match (scope.after, base_after.as_deref()) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => b.or(a),
                };
                let step = Scope {
                    prefix: scope.prefix,
                    after,
                };
                let batch = self
                    .diff_plain(ns, &l.base, &r.base, step, BASE_BATCH)
                    .await?;
                base_done = batch.len() < BASE_BATCH;
                base_after = batch.last().map(|c| c.path.as_str().to_owned());
                base.extend(batch);
            }
            let next_l = overlay_at(lo, li, &scope);
            let next_r = overlay_at(ro, ri, &scope);
            // The least path of the two overlays and the bases' differences,
            // found with one comparison of paths where the bases are one
            // (most steps pass a record both overlays hold).
            let (mut take_l, mut take_r) = match (next_l, next_r) {
                (Some((a, _)), Some((b, _))) => match a.cmp(b) {
                    Ordering::Less => (true, false),
                    Ordering::Greater => (false, true),
                    Ordering::Equal => (true, true),
                },
                (a, b) => (a.is_some(), b.is_some()),
            };
            let named = match (take_l, next_l, next_r) {
                (true, Some((p, _)), _) | (false, _, Some((p, _))) => Some(p),
                _ => None,
            };
            let in_base = match (named, base.front()) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(p), Some(c)) => match c.path.cmp(p) {
                    Ordering::Less => {
                        (take_l, take_r) = (false, false);
                        true
                    }
                    Ordering::Equal => true,
                    Ordering::Greater => false,
                },
            };
            let base_change = if in_base { base.pop_front() } else { None };
            let path: &ObjectPath = match (&base_change, named) {
                (Some(c), _) => &c.path,
                (None, Some(p)) => p,
                (None, None) => break,
            };
            let said_l = next_l.filter(|_| take_l).map(|(_, v)| v);
            let said_r = next_r.filter(|_| take_r).map(|(_, v)| v);
            li += usize::from(take_l);
            ri += usize::from(take_r);
            // Where an overlay is silent, its base's record: `base_change`
            // holds both where the bases differ in identity; elsewhere each
            // side reads its own base (records of one identity may differ
            // in address), once when the bases are one.
            let from_l = match (&said_l, &base_change) {
                (None, None) => match described(rv, path) {
                    Some(v) => Some(v),
                    None => Some(self.base_get(ns, &l.base, path).await?),
                },
                _ => None,
            };
            let from_r = match (&said_r, &base_change) {
                (None, None) if l.base_id == r.base_id && from_l.is_some() => from_l.clone(),
                (None, None) => match described(lv, path) {
                    Some(v) => Some(v),
                    None => Some(self.base_get(ns, &r.base, path).await?),
                },
                _ => None,
            };
            let left = pick(
                said_l,
                base_change.as_ref().map(|c| &c.left).or(from_l.as_ref()),
            );
            let right = pick(
                said_r,
                base_change.as_ref().map(|c| &c.right).or(from_r.as_ref()),
            );
            let kind = match (left, right) {
                (None, None) => continue,
                (Some(a), Some(b)) if a.same_identity(b) => continue,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(_), Some(_)) => ChangeKind::Changed,
            };
            out.push(change(path, kind, left, right));
        }
        Ok(out)
    }
}

/// A side's value: what its overlay says, else what its base holds.
fn pick<'a>(
    said: Option<&'a Option<Entry>>,
    from_base: Option<&'a Option<Entry>>,
) -> Option<&'a Entry> {
    said.or(from_base).and_then(Option::as_ref)
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
