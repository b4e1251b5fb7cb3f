//! Diffs: uncommitted changes of a branch, and two-dot or three-dot
//! differences between refs, with prefix, delimiter and pagination.

use crate::error::Result;
use crate::page::Page;
use crate::staging::{StagingCursor, ViewCursor};
use crate::trees::compare::Scope;
use crate::Engine;
use tarn_model::{
    BranchName, Change, ChangeKind, Entry, MetaRangeId, ObjectPath, RepositoryId, StorageNamespace,
};

/// The kind of a diff result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    /// Only on the right.
    Added,
    /// Only on the left.
    Removed,
    /// Changed identity.
    Changed,
    /// Something under this common prefix changed.
    PrefixChanged,
    /// Three-dot only: changed on both sides since the merge base, differently
    /// (a merge would conflict here).
    Conflict,
}

/// One diff result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffItem {
    /// The path, or the common prefix for `PrefixChanged`.
    pub path: String,
    /// What happened.
    pub kind: DiffKind,
    /// The right side's entry (the left's for removals, and for conflicts
    /// where the right removed the path); none for prefixes.
    pub entry: Option<Entry>,
}

/// Paging and scoping of a diff.
#[derive(Debug, Clone, Default)]
pub struct DiffRequest {
    /// Only paths under this prefix.
    pub prefix: String,
    /// Only results after this.
    pub after: Option<String>,
    /// At most this many results.
    pub amount: usize,
    /// Collapse paths into common prefixes at this delimiter.
    pub delimiter: Option<String>,
}

/// Where changes come from.
enum Feed<'a> {
    Trees(&'a MetaRangeId, &'a MetaRangeId),
    /// Left, right and their merge base's trees: lakeFS's three-dot compare.
    Compare(&'a MetaRangeId, &'a MetaRangeId, &'a MetaRangeId),
    Uncommitted(&'a tarn_model::Branch, &'a MetaRangeId),
}

/// Changes fetched per step while paging.
const BATCH: usize = 1024;

impl Engine {
    /// Uncommitted changes of a branch against its head commit.
    pub async fn diff_branch(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        req: &DiffRequest,
    ) -> Result<Page<DiffItem>> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let mut attempts = self.settings.max_attempts;
        loop {
            let b = self.get_branch(repo, name).await?;
            let head = self.get_commit_record(repo, &b.commit_id).await?;
            let page = self
                .diff_page(&ns, Feed::Uncommitted(&b, &head.meta_range_id), req)
                .await?;
            attempts = attempts.saturating_sub(1);
            // A commit that moved meanwhile may have dropped tokens read here.
            if attempts == 0 || self.get_branch(repo, name).await? == b {
                return Ok(page);
            }
        }
    }

    /// Differences from `left` to `right`: with `three_dot`, the changes on
    /// `right` since the merge base of the two; otherwise the plain difference.
    pub async fn diff_refs(
        &self,
        repo: &RepositoryId,
        left: &str,
        right: &str,
        three_dot: bool,
        req: &DiffRequest,
    ) -> Result<Page<DiffItem>> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let l = self.resolve_commit(repo, left).await?;
        let r = self.resolve_commit(repo, right).await?;
        let page = if three_dot {
            let base_tree = match self.merge_base(repo, &l.id, &r.id).await? {
                Some(base) => base.meta_range_id,
                None => l.meta_range_id.clone(),
            };
            let feed = Feed::Compare(&l.meta_range_id, &r.meta_range_id, &base_tree);
            self.diff_page(&ns, feed, req).await?
        } else {
            self.diff_page(&ns, Feed::Trees(&l.meta_range_id, &r.meta_range_id), req)
                .await?
        };
        // Layers this diff found without base values (made before them, or
        // their ask dropped) get them, so that the next diff reads no base.
        self.describe_missing(repo, &ns, [&l, &r]);
        Ok(page)
    }

    async fn diff_page(
        &self,
        ns: &StorageNamespace,
        feed: Feed<'_>,
        req: &DiffRequest,
    ) -> Result<Page<DiffItem>> {
        let amount = req.amount.max(1);
        let after = req.after.as_deref().filter(|a| !a.is_empty());
        let delimiter = req.delimiter.as_deref().filter(|d| !d.is_empty());
        let mut out: Vec<DiffItem> = Vec::new();
        let mut cursor: Option<String> = after.map(str::to_owned);
        let mut skipping: Option<String> = None;
        'fetch: loop {
            let scope = Scope {
                prefix: &req.prefix,
                after: cursor.as_deref(),
            };
            let (batch, done) = self.changes(ns, &feed, scope, BATCH).await?;
            for (c, conflict) in batch {
                cursor = Some(c.path.as_str().to_owned());
                if skipping
                    .as_deref()
                    .is_some_and(|s| c.path.as_str().starts_with(s))
                {
                    continue;
                }
                let rest = &c.path.as_str()[req.prefix.len()..];
                let item = match delimiter.and_then(|d| rest.find(d).map(|i| i + d.len())) {
                    Some(end) => {
                        let common = c.path.as_str()[..req.prefix.len() + end].to_owned();
                        skipping = Some(common.clone());
                        if after.is_some_and(|a| common.as_str() <= a) {
                            continue;
                        }
                        DiffItem {
                            path: common,
                            kind: DiffKind::PrefixChanged,
                            entry: None,
                        }
                    }
                    None => item_of(c, conflict),
                };
                out.push(item);
                if out.len() > amount {
                    break 'fetch;
                }
            }
            if done {
                break;
            }
        }
        Ok(Page::from_overfetch(out, amount, |d| d.path.clone()))
    }

    /// Up to `limit` changes of `feed` in `scope`, in path order, each with
    /// whether it is a conflict; and whether the feed is exhausted.
    async fn changes(
        &self,
        ns: &StorageNamespace,
        feed: &Feed<'_>,
        scope: Scope<'_>,
        limit: usize,
    ) -> Result<(Vec<(Change, bool)>, bool)> {
        match feed {
            Feed::Trees(l, r) => {
                let batch = self.trees.diff(ns, l, r, scope, limit).await?;
                let done = batch.len() < limit;
                Ok((batch.into_iter().map(|c| (c, false)).collect(), done))
            }
            Feed::Compare(l, r, base) => self.compare(ns, (l, r, base), scope, limit).await,
            Feed::Uncommitted(b, head) => {
                let after = scope.after.and_then(|a| ObjectPath::new(a).ok());
                let staging = std::iter::once(&b.staging_token)
                    .chain(&b.sealed_tokens)
                    .map(|t| {
                        StagingCursor::new(
                            self.stores.staging.clone(),
                            t.clone(),
                            scope.prefix,
                            after.clone(),
                            self.settings.staging_page,
                        )
                    })
                    .collect();
                let mut cursor = ViewCursor::new(staging, None);
                let mut out = Vec::new();
                while out.len() < limit {
                    let Some((path, staged)) = cursor.next_raw().await? else {
                        break;
                    };
                    let committed = self.trees.get(ns, head, &path).await?;
                    let kind = match (&committed, &staged) {
                        (None, None) => continue,
                        (Some(c), Some(s)) if c.same_identity(s) => continue,
                        (None, Some(_)) => ChangeKind::Added,
                        (Some(_), None) => ChangeKind::Removed,
                        (Some(_), Some(_)) => ChangeKind::Changed,
                    };
                    out.push((
                        Change {
                            path,
                            kind,
                            left: committed,
                            right: staged,
                        },
                        false,
                    ));
                }
                let done = out.len() < limit;
                Ok((out, done))
            }
        }
    }

    /// lakeFS's three-dot compare: of the paths that differ between `left`
    /// and `right`, those the right changed since the merge base (the left
    /// kept the base's value) are reported as the plain difference, those
    /// only the left changed are skipped, and those both changed are
    /// conflicts.
    async fn compare(
        &self,
        ns: &StorageNamespace,
        (left, right, base): (&MetaRangeId, &MetaRangeId, &MetaRangeId),
        scope: Scope<'_>,
        limit: usize,
    ) -> Result<(Vec<(Change, bool)>, bool)> {
        let mut out = Vec::new();
        let mut after = scope.after.map(str::to_owned);
        let (base_tree, left_tree, right_tree) = (
            self.trees.tree(ns, base).await?,
            self.trees.tree(ns, left).await?,
            self.trees.tree(ns, right).await?,
        );
        let one_base = base_tree.base_id == left_tree.base_id;
        let one_base_right = base_tree.base_id == right_tree.base_id;
        // The base values of the sides over the merge base's base: a path
        // both sides name and the merge base does not holds the base's
        // record there.
        let mut values = Vec::new();
        for (id, tree, over) in [
            (left, &left_tree, one_base),
            (right, &right_tree, one_base_right),
        ] {
            if over && tree.overlay.is_some() {
                values.extend(self.trees.base_values(ns, id, &tree.base_id).await);
            }
        }
        loop {
            let step = Scope {
                prefix: scope.prefix,
                after: after.as_deref(),
            };
            let batch = self.trees.diff(ns, left, right, step, limit).await?;
            let done = batch.len() < limit;
            for c in batch {
                after = Some(c.path.as_str().to_owned());
                let named = |t: &crate::trees::Tree| {
                    t.overlay.as_ref().and_then(|o| o.find(&c.path)).cloned()
                };
                // Where the merge base and the left lie over one base and
                // neither overlay names the path, both hold the base's
                // record: the base's value is the left's, with no lookup.
                let described = || values.iter().find_map(|v| v.find(&c.path)).cloned();
                let was = match named(&base_tree) {
                    Some(said) => said,
                    None if one_base && named(&left_tree).is_none() => c.left.clone(),
                    None if one_base_right && named(&right_tree).is_none() => c.right.clone(),
                    None => match described() {
                        Some(v) => v,
                        None => self.trees.tree_get(ns, &base_tree, &c.path).await?,
                    },
                };
                let same = |e: &Option<Entry>| match (e, &was) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a.same_identity(b),
                    _ => false,
                };
                if same(&c.right) {
                    continue; // only the left changed it
                }
                let conflict = !same(&c.left);
                out.push((c, conflict));
            }
            if done || out.len() >= limit {
                return Ok((out, done));
            }
        }
    }
}

fn item_of(c: Change, conflict: bool) -> DiffItem {
    let (kind, entry) = match c.kind {
        _ if conflict => (DiffKind::Conflict, c.right.or(c.left)),
        ChangeKind::Added => (DiffKind::Added, c.right),
        ChangeKind::Removed => (DiffKind::Removed, c.left),
        ChangeKind::Changed => (DiffKind::Changed, c.right),
    };
    DiffItem {
        path: c.path.into_string(),
        kind,
        entry,
    }
}
