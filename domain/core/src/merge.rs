//! Merge, revert and cherry-pick: three-way merges of committed trees by
//! identity, and the merge-base search.

use crate::actions::{HookCommit, HookEvent, HookRecord};
use crate::commits::CommitRequest;
use crate::error::{Error, Result};
use crate::Engine;
use crate::Entity;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use tarn_model::changed_paths::ChangedPaths;
use tarn_model::{Branch, BranchName, Commit, CommitId, MergeStrategy, MetaRangeId, RepositoryId};
use tracing::field::Empty;

/// The metadata key recording a merge's strategy (as lakeFS).
pub const MERGE_STRATEGY_KEY: &str = ".lakefs.merge.strategy";

/// Metadata keys of a cherry-picked commit (as lakeFS): where it came from.
pub const CHERRY_PICK_ORIGIN_KEY: &str = "cherry-pick-origin";
/// ... and who committed the original.
pub const CHERRY_PICK_COMMITTER_KEY: &str = "cherry-pick-committer";

/// A merge of a ref into a branch.
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    /// How conflicts resolve.
    pub strategy: MergeStrategy,
    /// One parent (the destination) instead of two.
    pub squash: bool,
    /// Merge even when nothing changes.
    pub allow_empty: bool,
    /// The message (default: `Merge '<source>' into '<destination>'`).
    pub message: Option<String>,
    /// Who merges.
    pub committer: String,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
}

/// A revert or cherry-pick of one commit onto a branch.
#[derive(Debug, Clone, Default)]
pub struct PickRequest {
    /// For a merge commit, which parent (1-based) its change is taken against.
    pub parent_number: Option<u32>,
    /// Who commits.
    pub committer: String,
}

/// The hook events of a change made by [`Engine::commit_onto`].
struct Event<'a> {
    ns: &'a tarn_model::StorageNamespace,
    pre: HookEvent,
    post: HookEvent,
    /// The reference the pre event's action files are read from.
    files_from: String,
    /// The merged reference, as the caller named it.
    merge_source: String,
}

impl Engine {
    /// The nearest common ancestor of two commits, by generation.
    pub async fn merge_base(
        &self,
        repo: &RepositoryId,
        a: &CommitId,
        b: &CommitId,
    ) -> Result<Option<Commit>> {
        const FROM_A: u8 = 1;
        const FROM_B: u8 = 2;
        let mut seen: HashMap<CommitId, u8> = HashMap::new();
        let mut queue: BinaryHeap<(u64, CommitId)> = BinaryHeap::new();
        let mut records: HashMap<CommitId, Commit> = HashMap::new();
        for (id, flag) in [(a, FROM_A), (b, FROM_B)] {
            let c = self.get_commit_record(repo, id).await?;
            *seen.entry(id.clone()).or_default() |= flag;
            queue.push((c.generation, id.clone()));
            records.insert(id.clone(), c);
        }
        while let Some((_, id)) = queue.pop() {
            let flags = seen.get(&id).copied().unwrap_or_default();
            if flags == FROM_A | FROM_B {
                return Ok(records.remove(&id));
            }
            let Some(c) = records.get(&id).cloned() else {
                continue;
            };
            for p in &c.parents {
                let before = seen.get(p).copied().unwrap_or_default();
                let after = before | flags;
                if after == before {
                    continue;
                }
                seen.insert(p.clone(), after);
                if !records.contains_key(p) {
                    let pc = self.get_commit_record(repo, p).await?;
                    queue.push((pc.generation, p.clone()));
                    records.insert(p.clone(), pc);
                } else {
                    queue.push((records[p].generation, p.clone()));
                }
            }
        }
        Ok(None)
    }

    /// The merge base of two refs.
    pub async fn find_merge_base(
        &self,
        repo: &RepositoryId,
        left: &str,
        right: &str,
    ) -> Result<Commit> {
        let l = self.resolve_commit(repo, left).await?;
        let r = self.resolve_commit(repo, right).await?;
        self.merge_base(repo, &l.id, &r.id)
            .await?
            .ok_or_else(|| Error::not_found(Entity::MergeBase, format!("{left}...{right}")))
    }

    /// Merges `source` (any ref) into branch `dest`, which must be clean.
    #[tracing::instrument(
        skip(self, req),
        fields(repo = %repo, source = source, dest = %dest, entries = Empty, outcome = Empty)
    )]
    pub async fn merge(
        &self,
        repo: &RepositoryId,
        source: &str,
        dest: &BranchName,
        req: MergeRequest,
    ) -> Result<Commit> {
        let ns = self.writable_repository(repo).await?.storage_namespace;
        if source == dest.as_str() {
            return Err(Error::invalid(
                "source",
                "cannot merge a branch into itself",
            ));
        }
        let src = self.resolve_commit(repo, source).await?;
        let mut metadata = req.metadata.clone();
        metadata.insert(
            MERGE_STRATEGY_KEY.to_owned(),
            req.strategy.as_str().to_owned(),
        );
        let commit_req = CommitRequest {
            message: req
                .message
                .clone()
                .unwrap_or_else(|| format!("Merge '{source}' into '{dest}'")),
            committer: req.committer.clone(),
            metadata,
            date: None,
            allow_empty: req.allow_empty,
        };
        for _ in 0..self.settings.max_attempts {
            let b = self.clean_branch(repo, dest).await?;
            let head = self.get_commit_record(repo, &b.commit_id).await?;
            let base = self.merge_base(repo, &head.id, &src.id).await?;
            let base_tree = match &base {
                Some(c) => c.meta_range_id.clone(),
                None => self.trees.empty_tree(&ns).await?,
            };
            // Nothing to merge when the source's tree is the base's (lakeFS's
            // rule): the result may equal the destination and still records
            // the merge, so that the next merge base moves.
            if self.same_tree_as_base(&ns, base.as_ref(), &src).await? && !req.allow_empty {
                return Err(Error::NoChanges);
            }
            // The paths changed are known only when the trees were merged.
            // What changed relative to the first parent (the destination's
            // head) is known only when the trees were merged here.
            let (tree, entries) = if base.as_ref().is_some_and(|c| c.id == head.id) {
                // Source strictly ahead: its tree is the result.
                ((src.meta_range_id.clone(), None), None)
            } else {
                let trees = (&base_tree, &src.meta_range_id, &head.meta_range_id);
                let merged = self.merge_trees(&ns, trees, req.strategy).await?;
                ((merged.tree, merged.paths), Some(merged.changed))
            };
            let parents = if req.squash {
                vec![head.id.clone()]
            } else {
                vec![head.id.clone(), src.id.clone()]
            };
            let generation = if req.squash {
                head.generation
            } else {
                head.generation.max(src.generation)
            } + 1;
            let parents = (parents, generation);
            let event = Event {
                ns: &ns,
                pre: HookEvent::PreMerge,
                post: HookEvent::PostMerge,
                files_from: src.id.to_string(),
                merge_source: source.to_owned(),
            };
            if let Some(commit) = self
                .commit_onto(repo, &b, &commit_req, tree, parents, event)
                .await?
            {
                crate::succeeded(entries);
                return Ok(commit);
            }
        }
        Err(Error::TooManyAttempts(dest.to_string()))
    }

    /// Whether the source `src` brings nothing over `base`, by lakeFS's rule:
    /// their metarange ids are equal. lakeFS's first commit of a repository
    /// has no metarange id at all (Tarn's points at the empty tree), so no
    /// other commit equals it, even one whose tree is empty too: merging a
    /// source that emptied the tree into a branch still at the first commit
    /// makes a merge commit, as on lakeFS. The first commit is recognised as
    /// the parentless commit with the empty tree.
    async fn same_tree_as_base(
        &self,
        ns: &tarn_model::StorageNamespace,
        base: Option<&Commit>,
        src: &Commit,
    ) -> Result<bool> {
        let Some(base) = base else {
            let empty = self.trees.empty_tree(ns).await?;
            if empty == src.meta_range_id {
                return Ok(true);
            }
            // A layered source may hold no records under another id.
            if self
                .trees
                .tree(ns, &src.meta_range_id)
                .await?
                .overlay
                .is_none()
            {
                return Ok(false);
            }
            let scope = crate::trees::compare::Scope::default();
            let first = self
                .trees
                .diff(ns, &empty, &src.meta_range_id, scope, 1)
                .await?;
            return Ok(first.is_empty());
        };
        if base.parents.is_empty() && base.meta_range_id == self.trees.empty_tree_id() {
            return Ok(base.id == src.id);
        }
        if base.meta_range_id == src.meta_range_id {
            return Ok(true);
        }
        // Layered trees are not canonical: the same records may have two ids
        // (a layer, and its fold). lakeFS's rule is about the records.
        let (b, s) = (
            self.trees.tree(ns, &base.meta_range_id).await?,
            self.trees.tree(ns, &src.meta_range_id).await?,
        );
        if b.overlay.is_none() && s.overlay.is_none() {
            return Ok(false);
        }
        let scope = crate::trees::compare::Scope::default();
        let first = self
            .trees
            .diff(ns, &base.meta_range_id, &src.meta_range_id, scope, 1)
            .await?;
        Ok(first.is_empty())
    }

    /// Reverts commit `reference` on branch `name` with a new commit.
    pub async fn revert(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        reference: &str,
        req: PickRequest,
    ) -> Result<Commit> {
        let c = self.resolve_commit(repo, reference).await?;
        let parent = self.picked_parent(repo, &c, req.parent_number).await?;
        let message = (format!("Revert {reference}"), BTreeMap::new());
        // Undo: from the commit back to its parent.
        let events = (HookEvent::PreRevert, HookEvent::PostRevert);
        self.pick(
            repo,
            name,
            (&c.meta_range_id, &parent),
            message,
            &req,
            events,
        )
        .await
    }

    /// Applies the change of commit `reference` to branch `name` with a new commit.
    pub async fn cherry_pick(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        reference: &str,
        req: PickRequest,
    ) -> Result<Commit> {
        let c = self.resolve_commit(repo, reference).await?;
        let parent = self.picked_parent(repo, &c, req.parent_number).await?;
        let mut metadata = c.metadata.clone();
        metadata.insert(CHERRY_PICK_ORIGIN_KEY.to_owned(), c.id.to_string());
        metadata.insert(CHERRY_PICK_COMMITTER_KEY.to_owned(), c.committer.clone());
        let message = (c.message.clone(), metadata);
        let events = (HookEvent::PreCherryPick, HookEvent::PostCherryPick);
        self.pick(
            repo,
            name,
            (&parent, &c.meta_range_id),
            message,
            &req,
            events,
        )
        .await
    }

    /// The tree of the parent a revert or cherry-pick is taken against.
    async fn picked_parent(
        &self,
        repo: &RepositoryId,
        c: &Commit,
        parent_number: Option<u32>,
    ) -> Result<MetaRangeId> {
        let n = match (c.parents.len(), parent_number) {
            (0, _) => return Err(Error::invalid("ref", "the first commit has no parent")),
            (1, None | Some(0) | Some(1)) => 1,
            (_, None) | (_, Some(0)) => {
                return Err(Error::invalid(
                    "parent_number",
                    "a merge commit needs a parent number",
                ))
            }
            (count, Some(n)) if n as usize > count => {
                return Err(Error::invalid(
                    "parent_number",
                    format!("the commit has {count} parents"),
                ))
            }
            (_, Some(n)) => n as usize,
        };
        Ok(self
            .get_commit_record(repo, &c.parents[n - 1])
            .await?
            .meta_range_id)
    }

    /// Applies the change `from → to` onto a clean branch as a new commit.
    async fn pick(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        (from, to): (&MetaRangeId, &MetaRangeId),
        (message, metadata): (String, BTreeMap<String, String>),
        req: &PickRequest,
        (pre, post): (HookEvent, HookEvent),
    ) -> Result<Commit> {
        let ns = self.writable_repository(repo).await?.storage_namespace;
        let commit_req = CommitRequest {
            message,
            committer: req.committer.clone(),
            metadata,
            ..CommitRequest::default()
        };
        for _ in 0..self.settings.max_attempts {
            let b = self.clean_branch(repo, name).await?;
            let head = self.get_commit_record(repo, &b.commit_id).await?;
            let trees = (from, to, &head.meta_range_id);
            let applied = self.merge_trees(&ns, trees, MergeStrategy::None).await?;
            if applied.changed == 0 {
                return Err(Error::NoChanges);
            }
            let parents = (vec![head.id.clone()], head.generation + 1);
            let event = Event {
                ns: &ns,
                pre,
                post,
                files_from: name.to_string(),
                merge_source: String::new(),
            };
            if let Some(commit) = self
                .commit_onto(
                    repo,
                    &b,
                    &commit_req,
                    (applied.tree, applied.paths),
                    parents,
                    event,
                )
                .await?
            {
                return Ok(commit);
            }
        }
        Err(Error::TooManyAttempts(name.to_string()))
    }

    /// Writes a commit of `tree`, runs the event's pre hooks, and moves
    /// branch `b` to it by compare-and-set, then starts the post hooks;
    /// `None` when the race was lost.
    async fn commit_onto(
        &self,
        repo: &RepositoryId,
        b: &Branch,
        req: &CommitRequest,
        tree: (MetaRangeId, Option<ChangedPaths>),
        (parents, generation): (Vec<CommitId>, u64),
        event: Event<'_>,
    ) -> Result<Option<Commit>> {
        let first_parent = parents.first().cloned();
        let commit = self
            .new_commit(repo, req, tree, parents, generation)
            .await?;
        let record = |kind: HookEvent, source_ref: String| {
            let mut rec = HookRecord::new(kind, repo.as_str(), event.ns.as_str(), source_ref);
            rec.branch = b.name.to_string();
            rec.user = req.committer.clone();
            rec.merge_source = event.merge_source.clone();
            rec.commit = Some(HookCommit {
                message: commit.message.clone(),
                committer: commit.committer.clone(),
                metadata: commit.metadata.clone(),
                parents: commit.parents.iter().map(ToString::to_string).collect(),
                meta_range_id: commit.meta_range_id.to_string(),
                creation_date: commit.creation_date.unix_seconds(),
            });
            rec
        };
        let mut pre = record(event.pre, event.files_from.clone());
        if event.pre == HookEvent::PreMerge {
            // lakeFS tells pre-merge hooks the merge commit's id.
            pre.commit_id = commit.id.to_string();
        }
        let pre_run_id = if b.hidden {
            String::new()
        } else {
            self.pre_hook(pre).await?
        };
        let moved = Branch {
            commit_id: commit.id.clone(),
            ..b.clone()
        };
        if !self.try_update(repo, b, &moved).await? {
            return Ok(None);
        }
        self.note_layer(repo, &commit.meta_range_id);
        self.describe_later(repo, event.ns, &commit.meta_range_id, first_parent.as_ref());
        let mut post = record(event.post, commit.id.to_string());
        post.commit_id = commit.id.to_string();
        post.pre_run_id = pre_run_id;
        if !b.hidden {
            self.post_hook(post);
        }
        Ok(Some(commit))
    }

    /// The branch, refusing one with uncommitted changes.
    async fn clean_branch(&self, repo: &RepositoryId, name: &BranchName) -> Result<Branch> {
        let b = self.get_branch(repo, name).await?;
        if self.is_dirty(&b).await? {
            return Err(Error::DirtyBranch);
        }
        Ok(b)
    }
}
