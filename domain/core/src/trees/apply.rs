//! Applying sorted changes to a tree: ranges the changes do not touch are
//! reused as they are, so a commit costs what it changes.

use super::writer::TreeWriter;
use super::{MetaRange, Overlay, TreeStore};
use crate::error::Result;
use futures::future::BoxFuture;
use std::cmp::Ordering;
use tarn_model::changed_paths::{ChangedPaths, ChangedPathsBuilder};
use tarn_model::{Entry, MetaRangeId, ObjectPath, StorageNamespace};

/// One change: a new value for a path, or `None` to remove it.
pub(crate) type TreeChange = (ObjectPath, Option<Entry>);

/// A source of changes in strictly ascending path order.
pub(crate) trait ChangeSource: Send {
    /// The next change, or `None` at the end.
    fn next_change(&mut self) -> BoxFuture<'_, Result<Option<TreeChange>>>;
}

impl ChangeSource for std::vec::IntoIter<TreeChange> {
    fn next_change(&mut self) -> BoxFuture<'_, Result<Option<TreeChange>>> {
        let next = self.next();
        Box::pin(async move { Ok(next) })
    }
}

/// The outcome of applying changes.
pub(crate) struct Applied {
    /// The new tree.
    pub(crate) tree: MetaRangeId,
    /// How many paths changed identity (added, removed or replaced).
    pub(crate) changed: u64,
    /// Those paths, summarized for path-filtered logs (`None`: too many
    /// folders to be worth keeping).
    pub(crate) paths: Option<ChangedPaths>,
}

impl TreeStore {
    /// Applies `changes` to tree `base`. A change to a path that leaves its
    /// identity as it was is no change, and removing an absent path is none
    /// either.
    ///
    /// A large tree takes the changes as a layer: its overlay merged with
    /// them, written as one file over the same base, with no base range read
    /// or written (see `layered.rs`). A small tree, or an overlay grown past
    /// its bound, is rewritten as a plain tree.
    pub(crate) async fn apply(
        &self,
        ns: &StorageNamespace,
        base: &MetaRangeId,
        changes: &mut dyn ChangeSource,
    ) -> Result<Applied> {
        let tree = self.tree_for_commit(ns, base).await?;
        let layering = self.layering();
        let large = tree.base_records() >= layering.min_base_records;
        if tree.overlay.is_none() && !large {
            return self.apply_plain(ns, &tree.base, changes, false).await;
        }
        let mut merged = OverlayMerge::new(tree.overlay.clone(), changes);
        let mut records = Vec::new();
        let mut complete = false;
        while large && records.len() <= layering.max_overlay_records {
            match merged.next_merged().await? {
                Some(r) => records.push(r),
                None => {
                    complete = true;
                    break;
                }
            }
        }
        let tree_id = if complete && merged.known == 0 && merged.unknown == 0 {
            // Nothing to write: the records are the overlay's as they were.
            base.clone()
        } else if complete {
            self.write_layered(ns, &tree.base_id, records).await?
        } else {
            // Folded: the base with the whole overlay applied, each record
            // as the layer held it (a fold changes no entry users see).
            let mut all = Chain {
                first: records.into_iter(),
                rest: &mut merged,
            };
            self.apply_plain(ns, &tree.base, &mut all, true).await?.tree
        };
        let OverlayMerge {
            known,
            unknown,
            unchecked,
            paths,
            ..
        } = merged;
        let counted = Counted {
            known,
            unknown,
            unchecked,
        };
        let changed = counted.changed(self, ns, &tree.base).await?;
        Ok(Applied {
            tree: tree_id,
            changed,
            paths: paths.finish(),
        })
    }

    /// Applies `changes` to plain tree `meta`: ranges the changes do not
    /// touch are reused as they are. A change that leaves a path's identity
    /// as it was keeps the old record, unless `verbatim` (then the change's
    /// record is written, and still counts as no change).
    pub(super) async fn apply_plain(
        &self,
        ns: &StorageNamespace,
        meta: &MetaRange,
        changes: &mut dyn ChangeSource,
        verbatim: bool,
    ) -> Result<Applied> {
        let mut out = TreeWriter::new(self, ns);
        let mut changed = 0u64;
        let mut paths = ChangedPathsBuilder::new();
        let mut next = changes.next_change().await?;
        for (i, info) in meta.iter().enumerate() {
            let is_last = i + 1 == meta.len();
            let touches = next
                .as_ref()
                .is_some_and(|(p, _)| is_last || *p <= info.last);
            if !touches && out.at_boundary() {
                out.reuse(info);
                continue;
            }
            let range = self.range(ns, &info.id).await?;
            let mut j = 0;
            loop {
                let change_here = next.as_ref().filter(|(p, _)| is_last || *p <= info.last);
                match (range.path(j), change_here) {
                    (None, None) => break,
                    (Some(rp), Some((cp, _))) if rp < cp.as_str() => {
                        copy_record(&mut out, &range, j).await?;
                        j += 1;
                    }
                    (Some(_), None) => {
                        copy_record(&mut out, &range, j).await?;
                        j += 1;
                    }
                    (rp, Some((cp, _))) => {
                        let old = match rp == Some(cp.as_str()) {
                            true => {
                                j += 1;
                                range.record(j - 1)?
                            }
                            false => None,
                        };
                        let Some((path, value)) = next.take() else {
                            break;
                        };
                        changed += write_change(
                            &mut out,
                            &mut paths,
                            (path, value),
                            old.as_ref(),
                            verbatim,
                        )
                        .await?;
                        next = changes.next_change().await?;
                    }
                }
            }
        }
        // Past the last range (or into an empty tree): all that is left.
        while let Some((path, value)) = next.take() {
            changed += write_change(&mut out, &mut paths, (path, value), None, verbatim).await?;
            next = changes.next_change().await?;
        }
        let tree = out.finish().await?;
        Ok(Applied {
            tree,
            changed,
            paths: paths.finish(),
        })
    }
}

/// Unknown old values checked against the base, at most, to tell "no
/// change" for certain (past that, a change is assumed).
const MAX_CHECKED: usize = 1024;

/// A layered tree's overlay merged with new changes, in path order: a
/// change replaces the overlay's record of its path. Counts what changed
/// against the tree (base and overlay) without reading the base: a change to
/// a path the overlay does not name is counted, and its path kept to check
/// when nothing else changed.
struct OverlayMerge<'a> {
    old: Option<Overlay>,
    oi: usize,
    changes: &'a mut dyn ChangeSource,
    pending: Option<TreeChange>,
    started: bool,
    /// Changes against a value the overlay held.
    known: u64,
    /// Changes to paths the overlay did not name (their base value unread).
    unknown: u64,
    unchecked: Vec<TreeChange>,
    paths: ChangedPathsBuilder,
}

impl<'a> OverlayMerge<'a> {
    fn new(old: Option<Overlay>, changes: &'a mut dyn ChangeSource) -> Self {
        Self {
            old,
            oi: 0,
            changes,
            pending: None,
            started: false,
            known: 0,
            unknown: 0,
            unchecked: Vec::new(),
            paths: ChangedPathsBuilder::new(),
        }
    }

    async fn next_merged(&mut self) -> Result<Option<TreeChange>> {
        if !self.started {
            self.pending = self.changes.next_change().await?;
            self.started = true;
        }
        let old = self.old.as_ref().and_then(|o| o.records.get(self.oi));
        let order = match (old, &self.pending) {
            (None, None) => return Ok(None),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((o, _)), Some((c, _))) => o.cmp(c),
        };
        if order == Ordering::Less {
            self.oi += 1;
            return Ok(old.cloned());
        }
        let old_value = if order == Ordering::Equal {
            self.oi += 1;
            old.map(|(_, v)| v.clone())
        } else {
            None
        };
        let Some((path, value)) = self.pending.take() else {
            return Ok(None);
        };
        self.pending = self.changes.next_change().await?;
        match old_value {
            Some(was) => {
                let same = match (&was, &value) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a.same_identity(b),
                    _ => false,
                };
                if same {
                    return Ok(Some((path, was)));
                }
                self.known += 1;
                self.paths.add(path.as_str());
            }
            None => {
                self.unknown += 1;
                self.paths.add(path.as_str());
                if self.known == 0 && self.unchecked.len() < MAX_CHECKED {
                    self.unchecked.push((path.clone(), value.clone()));
                }
            }
        }
        Ok(Some((path, value)))
    }
}

/// What an overlay merge counted.
struct Counted {
    known: u64,
    unknown: u64,
    unchecked: Vec<TreeChange>,
}

impl Counted {
    /// How many paths changed: exact when none did, else counting each
    /// change to a path the overlay did not name.
    async fn changed(
        &self,
        store: &TreeStore,
        ns: &StorageNamespace,
        base: &MetaRange,
    ) -> Result<u64> {
        if self.known > 0 || self.unknown as usize > self.unchecked.len() {
            return Ok(self.known + self.unknown);
        }
        for (path, value) in &self.unchecked {
            let was = store.base_get(ns, base, path).await?;
            let same = match (&was, value) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same_identity(b),
                _ => false,
            };
            if !same {
                return Ok(self.unknown);
            }
        }
        Ok(0)
    }
}

impl ChangeSource for OverlayMerge<'_> {
    fn next_change(&mut self) -> BoxFuture<'_, Result<Option<TreeChange>>> {
        Box::pin(self.next_merged())
    }
}

/// Records already merged, then the rest of the merge.
struct Chain<'a, 'b> {
    first: std::vec::IntoIter<TreeChange>,
    rest: &'a mut OverlayMerge<'b>,
}

impl ChangeSource for Chain<'_, '_> {
    fn next_change(&mut self) -> BoxFuture<'_, Result<Option<TreeChange>>> {
        match self.first.next() {
            Some(c) => Box::pin(async move { Ok(Some(c)) }),
            None => Box::pin(self.rest.next_merged()),
        }
    }
}

/// Writes record `j` of `range` as it is.
async fn copy_record(out: &mut TreeWriter, range: &super::Range, j: usize) -> Result<()> {
    if let Some((p, e)) = range.record(j)? {
        out.push(p, e).await?;
    }
    Ok(())
}

/// Writes the result of one change over the old record; 1 if it changed identity.
async fn write_change(
    out: &mut TreeWriter,
    paths: &mut ChangedPathsBuilder,
    (path, value): TreeChange,
    old: Option<&(ObjectPath, Entry)>,
    verbatim: bool,
) -> Result<u64> {
    match (value, old) {
        (Some(new), Some((_, old))) if new.same_identity(old) => {
            out.push(path, if verbatim { new } else { old.clone() })
                .await?;
            Ok(0)
        }
        (Some(new), _) => {
            paths.add(path.as_str());
            out.push(path, new).await?;
            Ok(1)
        }
        (None, Some(_)) => {
            paths.add(path.as_str());
            Ok(1)
        }
        (None, None) => Ok(0),
    }
}
