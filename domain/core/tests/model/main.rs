//! Model-based test of the versioning engine.
//!
//! Random sequences of operations (stage, delete, commit, create/delete
//! branch, hard reset, merge, reset, revert, cherry-pick, create/delete tag)
//! are applied both to the engine and to a naive model: one
//! `BTreeMap<path, value>` per commit, a staging map per branch, tags and the
//! commit DAG. Every operation's outcome (`Ok` or which error, conflicting
//! paths included) and every new commit's parents and generation must match
//! the model; after every step every read (`b`, `b@`, `b$`, `b~1`), listing
//! (prefixes, delimiters, pagination, arbitrary `after`), branch diff, ref
//! diff (two- and three-dot), merge base, log (first-parent, full, path
//! filters, stop commits), branch and tag list must agree with it, and at the
//! end every commit ever made must still read as it was made.
//!
//! The split rule is tiny (content-defined cuts every ~4 keys plus size cuts
//! every few records) so that trees have several ranges and range reuse and
//! rewrites are exercised; the model also checks that equal trees always get
//! equal metarange ids and different trees different ones.
//!
//! The model follows upstream lakeFS (graveler) except where [`SEMANTICS`]
//! says otherwise. Since the engine records a merge unless the source's tree
//! is the base's, refuses to merge a branch into itself (`InvalidInput` on
//! `source`) and gives cherry-picks lakeFS's metadata, the model follows
//! lakeFS there. These differences from lakeFS are deliberate, and the model
//! follows the engine:
//!
//! - a branch is dirty when it has *any* staged entry, tombstones and
//!   entries that restage the committed identity included (lakeFS looks at
//!   the uncommitted diff): otherwise a stale staged entry or tombstone would
//!   shadow what a merge, revert or hard reset brings to the branch;
//! - a revert or cherry-pick whose change is already on the branch answers
//!   `NoChanges` instead of making an empty commit;
//! - a commit whose staged changes are all no-ops drops them and answers
//!   `NoChanges` (lakeFS keeps them staged).
//!
//! The layout: [`ops`] generates operations, [`naive`] is the model,
//! [`check`] compares every read of the engine with it, and this file runs
//! the operations on both.

#![allow(clippy::unwrap_used)]

mod check;
mod naive;
mod ops;
mod scenarios;

use naive::{entry_of, outcome, MBranch, MCommit, Model, Outcome, Tree, Val};
use ops::{ops, Op, Scope, Target, PATHS};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tarn_adapter_memory::{
    FixedClock, MemoryBlockStore, MemoryMultipartStore, MemoryRefStore, MemoryStagingStore,
    UniqueIds,
};
use tarn_domain::{
    CommitRequest, Engine, EngineSettings, MergeRequest, PickRequest, ResetScope, Stores,
    TreeLayering,
};
use tarn_model::tree::SplitRule;
use tarn_model::{
    Branch, BranchName, Commit, CommitId, MergeStrategy, ObjectPath, RepositoryId, StagingToken,
    StorageNamespace, TagName, Timestamp,
};

// ---------------------------------------------------------------------------
// Semantics

/// Where the engine and upstream lakeFS (graveler) behave differently, which
/// one the model follows. `true` is lakeFS.
struct Semantics {
    /// lakeFS `committedManager.Merge`: a merge is "no changes" only when the
    /// source's tree is the base's; a merge whose result equals the
    /// destination still commits (recording the merge, which moves later
    /// merge bases). The engine does the same now; `false` models its earlier
    /// rule (`NoChanges` whenever the result is the destination's tree).
    merge_commits_when_source_changed: bool,
    /// lakeFS `Revert`/`CherryPick` (a merge with the picked commit as base or
    /// source): "no changes" only when the picked commit itself changed
    /// nothing; a pick already present on the branch makes an empty commit.
    /// The engine refuses it with `NoChanges` (deliberately).
    pick_commits_when_commit_changed: bool,
    /// lakeFS `isStagingEmpty`/`checkEmpty`: a branch is dirty only when its
    /// uncommitted diff is non-empty (re-staging the committed identity or a
    /// tombstone of a never-committed path does not count). The engine counts
    /// any staged entry (deliberately; documented on `Engine::is_dirty`).
    dirty_means_uncommitted_diff: bool,
    /// lakeFS `Commit`: a commit of only no-op changes fails with
    /// `NoChanges` and leaves them staged (sealed). The engine drops them
    /// (deliberately; documented in `Engine::commit`).
    keep_noop_staging: bool,
    /// lakeFS `CherryPick`: the new commit carries the picked commit's message
    /// and metadata plus `cherry-pick-origin` and `cherry-pick-committer`. The
    /// engine does the same now; `false` checks no message or metadata.
    cherry_pick_metadata: bool,
}

/// lakeFS where the engine follows it, the engine where it deliberately
/// differs.
const SEMANTICS: Semantics = Semantics {
    merge_commits_when_source_changed: true,
    pick_commits_when_commit_changed: false,
    dirty_means_uncommitted_diff: false,
    keep_noop_staging: false,
    cherry_pick_metadata: true,
};

// ---------------------------------------------------------------------------
// The harness

struct Harness {
    engine: Engine,
    /// Whether commits may write layered trees.
    pub(crate) layered: bool,
    repo: RepositoryId,
    clock: Arc<FixedClock>,
    model: Model,
    serial: u32,
    /// Layered trees compaction folded in this case.
    compacted: u64,
    /// Trees whose base values were written.
    described: u64,
}

fn bn(name: &str) -> BranchName {
    BranchName::new(name).unwrap()
}

fn op_path(p: &str) -> ObjectPath {
    ObjectPath::new(p).unwrap()
}

fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
}

static CASE: AtomicU64 = AtomicU64::new(0);

/// Half the cases keep every tree plain; the others write layers over trees
/// of any size and fold overlays past a few records, so that folding
/// (compaction) interleaves with every operation.
fn layering(case: u64) -> TreeLayering {
    if case.is_multiple_of(2) {
        TreeLayering::off()
    } else {
        TreeLayering {
            min_base_records: case % 3,
            max_overlay_records: (case % 7) as usize,
            compact_records: (case % 5) as usize,
        }
    }
}

impl Harness {
    /// A repository with `main` and `dev`, on an engine that reads at most
    /// `staging_page` staged entries at a time.
    async fn new(staging_page: usize, layered: Option<TreeLayering>) -> Self {
        let clock = Arc::new(FixedClock::new(Timestamp::from_unix_seconds(1_700_000_000)));
        let stores = Stores {
            blocks: Arc::new(MemoryBlockStore::new(clock.clone())),
            refs: Arc::new(MemoryRefStore::new()),
            staging: Arc::new(MemoryStagingStore::new()),
            multipart: Arc::new(MemoryMultipartStore::new()),
            clock: clock.clone(),
            ids: Arc::new(UniqueIds::new()),
        };
        let n = CASE.fetch_add(1, Ordering::SeqCst);
        let layers = layered.unwrap_or_else(|| layering(n));
        let engine = Engine::new(
            stores,
            EngineSettings {
                split: SplitRule {
                    raggedness: 4,
                    max_bytes: 256,
                },
                layering: layers,
                staging_page,
                ..EngineSettings::default()
            },
        )
        // Base values only where an `Op::Describe` writes them, so that a
        // case runs the same way every time.
        .describing_on_request_only();
        let repo = RepositoryId::new("repo").unwrap();
        let ns = StorageNamespace::new(format!("mem://model-test-{n}")).unwrap();
        engine
            .create_repository(repo.clone(), ns, bn("main"))
            .await
            .unwrap();
        let main = engine.get_branch(&repo, &bn("main")).await.unwrap();
        let root = engine
            .get_commit(&repo, main.commit_id.as_str())
            .await
            .unwrap();
        let mut model = Model::default();
        model.by_id.insert(root.id.clone(), 0);
        model.commits.push(MCommit {
            id: root.id,
            tree: Tree::new(),
            parents: Vec::new(),
            generation: 1,
            date: root.creation_date,
            meta_range: root.meta_range_id,
        });
        // `main` and `dev` start at the first commit, so that operations on
        // branches mostly meet existing ones; `feat` is created later from
        // anywhere, and deletes and creates vary the set.
        for name in ["main", "dev"] {
            if name != "main" {
                engine.create_branch(&repo, bn(name), "main").await.unwrap();
            }
            model.branches.insert(
                name,
                MBranch {
                    head: 0,
                    staging: BTreeMap::new(),
                    sealed: false,
                },
            );
        }
        Self {
            engine,
            layered: layers != TreeLayering::off(),
            repo,
            clock,
            model,
            serial: 0,
            compacted: 0,
            described: 0,
        }
    }

    /// Runs `op` on the engine and on the model and compares the outcomes.
    async fn step(&mut self, step: usize, op: &Op) -> Result<(), TestCaseError> {
        self.serial += 1;
        let content = match op {
            Op::Stage { content, .. } => *content,
            _ => 0,
        };
        let val = Val {
            content,
            serial: self.serial,
        };
        let mut next = self.model.clone();
        let expected = next.apply_op(op, val);
        let (e, repo, m) = (&self.engine, &self.repo, &self.model);
        let (got, commit): (Outcome, Option<Commit>) = match op {
            Op::Stage { branch, path, .. } => {
                let r = e
                    .stage_object(repo, &bn(branch), &op_path(path), entry_of(&val))
                    .await;
                (outcome(&r), None)
            }
            Op::Delete { branch, path } => {
                let r = e.delete_object(repo, &bn(branch), &op_path(path)).await;
                (outcome(&r), None)
            }
            Op::DeleteExisting { .. } => return Err(fail("ops must be made concrete first")),
            Op::Commit {
                branch,
                allow_empty,
            } => {
                let req = CommitRequest {
                    message: format!("step {step}"),
                    committer: "model".to_owned(),
                    allow_empty: *allow_empty,
                    ..CommitRequest::default()
                };
                let r = e.commit(repo, &bn(branch), req).await;
                (outcome(&r), r.ok())
            }
            Op::CreateBranch { name, from } => {
                let r = e.create_branch(repo, bn(name), &m.ref_string(from)).await;
                (outcome(&r), None)
            }
            Op::DeleteBranch { name } => {
                let r = e.delete_branch(repo, &bn(name)).await;
                (outcome(&r), None)
            }
            Op::HardReset { branch, target } => {
                let r = e
                    .hard_reset_branch(repo, &bn(branch), &m.ref_string(target))
                    .await;
                (outcome(&r), None)
            }
            Op::Merge {
                source,
                dest,
                strategy,
                squash,
                allow_empty,
            } => {
                let req = MergeRequest {
                    strategy: *strategy,
                    squash: *squash,
                    allow_empty: *allow_empty,
                    committer: "model".to_owned(),
                    ..MergeRequest::default()
                };
                let r = e.merge(repo, &m.ref_string(source), &bn(dest), req).await;
                (outcome(&r), r.ok())
            }
            Op::CreateTag { name, target } => {
                let r = e
                    .create_tag(repo, TagName::new(*name).unwrap(), &m.ref_string(target))
                    .await;
                (outcome(&r), None)
            }
            Op::DeleteTag { name } => {
                let r = e.delete_tag(repo, &TagName::new(*name).unwrap()).await;
                (outcome(&r), None)
            }
            Op::Reset { branch, scope } => {
                let scope = match scope {
                    Scope::All => ResetScope::All,
                    Scope::Object(p) => ResetScope::Object(op_path(p)),
                    Scope::Prefix(p) => ResetScope::Prefix((*p).to_owned()),
                };
                let r = e.reset_branch(repo, &bn(branch), scope).await;
                (outcome(&r), None)
            }
            Op::Revert {
                branch,
                target,
                parent,
            } => {
                let req = PickRequest {
                    parent_number: *parent,
                    committer: "model".to_owned(),
                };
                let r = e
                    .revert(repo, &bn(branch), &m.ref_string(target), req)
                    .await;
                (outcome(&r), r.ok())
            }
            Op::CherryPick {
                branch,
                target,
                parent,
            } => {
                let req = PickRequest {
                    parent_number: *parent,
                    committer: "model".to_owned(),
                };
                let r = e
                    .cherry_pick(repo, &bn(branch), &m.ref_string(target), req)
                    .await;
                (outcome(&r), r.ok())
            }
            Op::Seal { branch } => {
                let r = self.seal(branch).await;
                (outcome(&r), None)
            }
            Op::Compact => {
                let r = e.compact_trees(repo, &mut |_, _| true).await;
                if let Ok(report) = &r {
                    self.compacted += report.folded;
                }
                (outcome(&r), None)
            }
            Op::Describe { branch } => {
                let r = e.describe_tree(repo, branch).await;
                if let Ok(true) = &r {
                    self.described += 1;
                }
                (outcome(&r), None)
            }
        };
        let want = match &expected {
            Ok(_) => Outcome::Ok,
            Err(o) => o.clone(),
        };
        prop_assert_eq!(
            &got,
            &want,
            "step {}: {:?}: engine vs model outcome",
            step,
            op
        );
        if let Ok(Some(nc)) = expected {
            let Some(c) = commit else {
                return Err(fail(format!("step {step}: {op:?}: no commit returned")));
            };
            let want_parents: Vec<CommitId> = nc
                .parents
                .iter()
                .map(|&p| next.commits[p].id.clone())
                .collect();
            prop_assert_eq!(&c.parents, &want_parents, "step {}: parents", step);
            let generation = 1 + nc
                .parents
                .iter()
                .map(|&p| next.commits[p].generation)
                .max()
                .unwrap_or(0);
            prop_assert_eq!(c.generation, generation, "step {}: generation", step);
            prop_assert_eq!(c.creation_date, self.clock_now(), "step {}: date", step);
            if let (true, Op::CherryPick { target, .. }) = (SEMANTICS.cherry_pick_metadata, op) {
                let picked = self
                    .model
                    .resolve(target)
                    .map_err(|o| fail(format!("{o:?}")))?;
                let picked = &self.model.commits[picked];
                let original = self
                    .engine
                    .get_commit(&self.repo, picked.id.as_str())
                    .await
                    .map_err(|e| fail(format!("get_commit {}: {e}", picked.id)))?;
                prop_assert_eq!(
                    &c.message,
                    &original.message,
                    "step {}: cherry-pick message",
                    step
                );
                let mut want = original.metadata.clone();
                want.insert("cherry-pick-origin".to_owned(), original.id.to_string());
                want.insert(
                    "cherry-pick-committer".to_owned(),
                    original.committer.clone(),
                );
                prop_assert_eq!(&c.metadata, &want, "step {}: cherry-pick metadata", step);
            }
            prop_assert!(
                !next.by_id.contains_key(&c.id),
                "step {}: commit id {} reused",
                step,
                c.id
            );
            // Trees are content-addressed: one id is always the same
            // records. Plain trees are canonical too (the same records always
            // make the same id); layered ones are not (a layer over one base
            // and the fold of it hold the same records).
            for old in &next.commits {
                let same_id = old.meta_range == c.meta_range_id;
                let same_records = old.tree == nc.tree;
                prop_assert!(
                    if self.layered {
                        !same_id || same_records
                    } else {
                        same_id == same_records
                    },
                    "step {}: metarange of {} vs {} ({:?} vs {:?})",
                    step,
                    c.id,
                    old.id,
                    nc.tree,
                    old.tree
                );
            }
            let index = next.commits.len();
            next.by_id.insert(c.id.clone(), index);
            next.commits.push(MCommit {
                id: c.id,
                tree: nc.tree,
                parents: nc.parents,
                generation,
                date: c.creation_date,
                meta_range: c.meta_range_id,
            });
            next.branches
                .get_mut(nc.branch)
                .ok_or_else(|| fail("branch of a new commit vanished"))?
                .head = index;
        }
        self.model = next;
        Ok(())
    }

    /// The operation with any "n-th existing path" resolved against the model.
    fn concrete(&self, op: &Op) -> Op {
        match op {
            Op::DeleteExisting { branch, nth } => {
                let shown: Vec<&'static str> = match self.model.branches.get(branch) {
                    Some(_) => {
                        let view = self.model.view(branch);
                        PATHS
                            .into_iter()
                            .filter(|p| view.contains_key(*p))
                            .collect()
                    }
                    None => Vec::new(),
                };
                Op::Delete {
                    branch,
                    path: shown
                        .get(nth % shown.len().max(1))
                        .copied()
                        .unwrap_or(PATHS[0]),
                }
            }
            op => op.clone(),
        }
    }

    /// What `Engine::commit` does before it writes the tree.
    async fn seal(&self, branch: &str) -> Result<(), tarn_domain::Error> {
        let stores = self.engine.stores();
        let old = self.engine.get_branch(&self.repo, &bn(branch)).await?;
        let staged = stores.staging.scan(&old.staging_token, "", None, 1).await?;
        if staged.is_empty() {
            return Ok(());
        }
        let mut sealed_tokens = vec![old.staging_token.clone()];
        sealed_tokens.extend(old.sealed_tokens.iter().cloned());
        let new = Branch {
            staging_token: StagingToken::new(format!("t-sealed-{}", self.serial)).unwrap(),
            sealed_tokens,
            ..old.clone()
        };
        stores.refs.update_branch(&self.repo, &old, &new).await?;
        Ok(())
    }

    fn clock_now(&self) -> Timestamp {
        use tarn_ports::Clock;
        self.clock.now()
    }
}

async fn run(ops: Vec<Op>, staging_page: usize) -> Result<(), TestCaseError> {
    run_with(ops, staging_page, None).await.map(|_| ())
}

/// What a run did to layered trees.
pub(crate) struct Tally {
    /// Layered trees compaction folded.
    pub(crate) compacted: u64,
    /// Trees whose base values were written.
    pub(crate) described: u64,
}

/// Runs `ops` with the given layering (by case number when `None`).
async fn run_with(
    ops: Vec<Op>,
    staging_page: usize,
    layering: Option<TreeLayering>,
) -> Result<Tally, TestCaseError> {
    let mut h = Harness::new(staging_page, layering).await;
    h.check_all()
        .await
        .map_err(|e| fail(format!("initially: {e}")))?;
    let mut done: Vec<Op> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let op = h.concrete(op);
        done.push(op.clone());
        // Every commit of a case gets its own second, so commit ids differ.
        h.clock.advance(1_000_000);
        let checked = match h.step(i, &op).await {
            Ok(()) => h.check_all().await,
            Err(e) => Err(e),
        };
        checked.map_err(|e| {
            fail(format!(
                "at step {i} {op:?}: {e}\nconcrete operations: {done:#?}"
            ))
        })?;
    }
    h.check_history()
        .await
        .map_err(|e| fail(format!("at the end: {e}\nconcrete operations: {done:#?}")))?;
    Ok(Tally {
        compacted: h.compacted,
        described: h.described,
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // Seeds of past failures: `main.proptest-regressions`, next to this file.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    /// Staging reads of 1 to 3 entries cross read boundaries (and folder
    /// scans stop) everywhere in the model's few paths; 1024 is the default.
    #[test]
    fn engine_agrees_with_a_naive_model(
        ops in ops(),
        staging_page in prop_oneof![Just(1usize), Just(2), Just(3), Just(1024)],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(ops, staging_page))?;
    }
}
