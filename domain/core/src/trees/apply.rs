//! Applying sorted changes to a tree: ranges the changes do not touch are
//! reused as they are, so a commit costs what it changes.

use super::writer::TreeWriter;
use super::TreeStore;
use crate::error::Result;
use futures::future::BoxFuture;
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
    /// identity as it was is no change (the base record stays), and removing
    /// an absent path is none either.
    pub(crate) async fn apply(
        &self,
        ns: &StorageNamespace,
        base: &MetaRangeId,
        changes: &mut dyn ChangeSource,
    ) -> Result<Applied> {
        let meta = self.metarange(ns, base).await?;
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
            let mut records = range.iter().peekable();
            loop {
                let change_here = next.as_ref().filter(|(p, _)| is_last || *p <= info.last);
                match (records.peek(), change_here) {
                    (None, None) => break,
                    (Some(_), None) => {
                        let Some((p, e)) = records.next() else { break };
                        out.push(p.clone(), e.clone()).await?;
                    }
                    (rec, Some((cp, _))) => {
                        let order = rec.map(|(rp, _)| rp.cmp(cp));
                        match order {
                            Some(std::cmp::Ordering::Less) => {
                                let Some((p, e)) = records.next() else { break };
                                out.push(p.clone(), e.clone()).await?;
                            }
                            _ => {
                                let same_path = order == Some(std::cmp::Ordering::Equal);
                                let old = if same_path { records.next() } else { None };
                                let Some((path, value)) = next.take() else {
                                    break;
                                };
                                changed +=
                                    write_change(&mut out, &mut paths, path, value, old).await?;
                                next = changes.next_change().await?;
                            }
                        }
                    }
                }
            }
        }
        // Past the last range (or into an empty tree): all that is left.
        while let Some((path, value)) = next.take() {
            changed += write_change(&mut out, &mut paths, path, value, None).await?;
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

/// Writes the result of one change over the old record; 1 if it changed identity.
async fn write_change(
    out: &mut TreeWriter,
    paths: &mut ChangedPathsBuilder,
    path: ObjectPath,
    value: Option<Entry>,
    old: Option<&(ObjectPath, Entry)>,
) -> Result<u64> {
    match (value, old) {
        (Some(new), Some((_, old))) if new.same_identity(old) => {
            out.push(path, old.clone()).await?;
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
