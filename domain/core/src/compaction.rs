//! Compaction of layered trees off the commit path (see `trees::compact`
//! and `docs/trees.md`): the engine tells a [`CompactionRequests`] when a
//! commit leaves a layer worth folding, and [`Engine::compact_trees`] (run
//! as a job by the server) folds the layered trees at a repository's branch
//! heads.

use crate::error::Result;
use crate::trees::Compacted;
use crate::Engine;
use std::sync::Arc;
use tarn_model::{BranchName, MetaRangeId, RepositoryId, StorageNamespace};

/// Told when a commit leaves a layered tree whose overlay is large enough to
/// compact ([`crate::TreeLayering::wants_compaction`]). Called on the commit
/// path: it must only take note (start a job), never do the work.
pub trait CompactionRequests: Send + Sync {
    /// Layers in `repo` want compacting.
    fn wanted(&self, repo: &RepositoryId);
}

/// What [`Engine::compact_trees`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompactionReport {
    /// Branches whose head was looked at.
    pub branches: u64,
    /// Layered trees folded now.
    pub folded: u64,
    /// Layered trees an earlier compaction had folded.
    pub already: u64,
    /// Records in the overlays folded now.
    pub records: u64,
}

/// Branches read per page.
const PAGE: usize = 1000;

impl Engine {
    /// This engine, telling `requests` when a commit leaves a layer worth
    /// compacting.
    pub fn with_compactions(mut self, requests: Arc<dyn CompactionRequests>) -> Self {
        self.compactions = Some(requests);
        self
    }

    /// Tells the compaction requests about tree `tree` of `repo` if it is a
    /// layer worth compacting (known from the cache: the commit just wrote
    /// it). Called once the commit's branch has moved, so that a job finds
    /// the tree at the branch's head.
    pub(crate) fn note_layer(&self, repo: &RepositoryId, tree: &MetaRangeId) {
        let Some(requests) = &self.compactions else {
            return;
        };
        let layering = self.trees.layering();
        if self
            .trees
            .cached_overlay_len(tree)
            .is_some_and(|n| layering.wants_compaction(n))
        {
            requests.wanted(repo);
        }
    }

    /// Folds the layered trees at the heads of `repo`'s branches whose
    /// overlays hold at least `compact_records` records
    /// ([`crate::TreeLayering`]) into plain trees, so that the next commit onto each starts a
    /// fresh overlay. Nothing users see changes: commit ids, trees as read,
    /// listings and diffs stay as they were. Safe to run anywhere, any
    /// number of times, at once; `step` is told of each branch done (and
    /// may stop the run by answering `false`).
    pub async fn compact_trees(
        &self,
        repo: &RepositoryId,
        step: &mut (dyn FnMut(&BranchName, &CompactionReport) -> bool + Send),
    ) -> Result<CompactionReport> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let mut report = CompactionReport::default();
        let mut after: Option<BranchName> = None;
        loop {
            let page = self
                .stores
                .refs
                .list_branches(repo, after.as_ref(), PAGE)
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.name.clone());
            for branch in &page {
                let head = self.get_commit(repo, branch.commit_id.as_str()).await?;
                self.compact_tree(&ns, &head.meta_range_id, &mut report)
                    .await?;
                report.branches += 1;
                if !step(&branch.name, &report) {
                    return Ok(report);
                }
            }
            if page.len() < PAGE {
                break;
            }
        }
        Ok(report)
    }

    async fn compact_tree(
        &self,
        ns: &StorageNamespace,
        tree: &MetaRangeId,
        report: &mut CompactionReport,
    ) -> Result<()> {
        let records = self.trees.overlay_len(ns, tree).await?;
        if !self.trees.layering().wants_compaction(records) {
            return Ok(());
        }
        match self.trees.compact(ns, tree).await? {
            Compacted::Plain => {}
            Compacted::Already(_) => report.already += 1,
            Compacted::Folded(plain) => {
                tracing::info!(%tree, %plain, records, "compacted a layered tree");
                report.folded += 1;
                report.records += records as u64;
            }
        }
        Ok(())
    }
}
