//! The commit log: ancestors of a ref, newest generation first, with path
//! filters, first-parent mode, a date floor and a stop commit.

use crate::error::Result;
use crate::history::History;
use crate::page::Page;
use crate::trees::compare::Scope;
use crate::Engine;
use std::collections::{BinaryHeap, HashSet};
use tarn_model::changed_paths::PathQuery;
use tarn_model::{
    Commit, CommitId, MetaRangeId, ObjectPath, RepositoryId, StorageNamespace, Timestamp,
};
use tarn_ports::CommitLink;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    /// Start after this commit id (pagination).
    pub after: Option<String>,
    /// At most this many commits.
    pub amount: usize,
    /// Only commits that changed one of these paths...
    pub objects: Vec<ObjectPath>,
    /// ... or something under one of these prefixes.
    pub prefixes: Vec<String>,
    /// Follow only first parents.
    pub first_parent: bool,
    /// Only commits created at or after this time.
    pub since: Option<Timestamp>,
    /// Stop after this ref's commit (included).
    pub stop_at: Option<String>,
}

impl Engine {
    /// Commits reachable from `reference`, by generation then time, newest
    /// first. The walk reads commits a page at a time; with path filters,
    /// each commit's summary of what it changed rules most commits out
    /// without reading a tree (see [`tarn_model::changed_paths`]).
    pub async fn log(
        &self,
        repo: &RepositoryId,
        reference: &str,
        req: &LogRequest,
    ) -> Result<Page<Commit>> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let start = self.resolve_commit(repo, reference).await?;
        let stop = match &req.stop_at {
            Some(s) if !s.is_empty() => Some(self.resolve_commit(repo, s).await?.id),
            _ => None,
        };
        let amount = req.amount.max(1);
        let mut history = History::new(self, repo);
        let query = PathQuery::new(
            req.objects.iter().map(ObjectPath::as_str),
            req.prefixes.iter().map(String::as_str),
        );
        let mut queue: BinaryHeap<(u64, Timestamp, CommitId)> = BinaryHeap::new();
        let mut seen: HashSet<CommitId> = HashSet::new();
        seen.insert(start.id.clone());
        queue.push((start.generation, start.creation_date, start.id.clone()));
        let mut out = Vec::new();
        let mut passed_after = req.after.as_deref().is_none_or(str::is_empty);
        while let Some((generation, _, id)) = queue.pop() {
            let c = history.link(&id, generation).await?;
            history.passed(generation);
            if req.since.is_some_and(|since| c.creation_date < since) {
                continue;
            }
            let parents: &[CommitId] = if req.first_parent {
                &c.parents[..c.parents.len().min(1)]
            } else {
                &c.parents
            };
            let is_stop = stop.as_ref() == Some(&c.id);
            if !is_stop {
                for p in parents {
                    if seen.insert(p.clone()) {
                        let pc = history.link(p, c.generation.saturating_sub(1)).await?;
                        queue.push((pc.generation, pc.creation_date, p.clone()));
                    }
                }
            }
            if passed_after && self.touches(&ns, &mut history, &c, (req, &query)).await? {
                out.push(self.get_commit_record(repo, &c.id).await?);
                if out.len() > amount {
                    break;
                }
            }
            if !passed_after && req.after.as_deref() == Some(c.id.as_str()) {
                passed_after = true;
            }
            if is_stop {
                break;
            }
        }
        Ok(Page::from_overfetch(out, amount, |c| c.id.to_string()))
    }

    /// Whether a commit changed any filtered path (true with no filter):
    /// "no" from its summary when it has one, else from its tree and its
    /// first parent's.
    async fn touches(
        &self,
        ns: &StorageNamespace,
        history: &mut History<'_>,
        c: &CommitLink,
        (req, query): (&LogRequest, &PathQuery),
    ) -> Result<bool> {
        if req.objects.is_empty() && req.prefixes.is_empty() {
            return Ok(true);
        }
        // An unreadable summary is no summary: the trees answer.
        let said = c.summary.as_deref().and_then(|s| query.may_match_stored(s));
        if said == Some(false) {
            return Ok(false);
        }
        let empty = self.trees.empty_tree_id();
        if c.parents.is_empty() && c.meta_range_id == empty {
            // A repository's first commit: nothing changed.
            return Ok(false);
        }
        let parent_tree: MetaRangeId = match c.parents.first() {
            Some(p) => history
                .link(p, c.generation.saturating_sub(1))
                .await?
                .meta_range_id
                .clone(),
            None => empty,
        };
        for path in &req.objects {
            let before = self.trees.get(ns, &parent_tree, path).await?;
            let after = self.trees.get(ns, &c.meta_range_id, path).await?;
            let same = match (&before, &after) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same_identity(b),
                _ => false,
            };
            if !same {
                return Ok(true);
            }
        }
        for prefix in &req.prefixes {
            let scope = Scope {
                prefix,
                after: None,
            };
            if !self
                .trees
                .diff(ns, &parent_tree, &c.meta_range_id, scope, 1)
                .await?
                .is_empty()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
