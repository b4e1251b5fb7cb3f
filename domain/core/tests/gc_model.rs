//! Model-based test of garbage collection.
//!
//! Random histories (uploads, overwrites, deletes, resets, commits, merges,
//! branch creation and deletion, hard resets, clock moves, retention rules)
//! run on the engine; at each `Gc` step the test snapshots, *before*
//! collecting, what every commit and every branch shows (bytes and
//! addresses, read through the engine), then runs mark and sweep with a
//! random `as_of` and grace period, and checks against a naive model of
//! lakeFS's retention rule (independent of the engine's walk):
//!
//! - every object of every commit the rules keep, and every object every
//!   branch shows, reads back byte-exact;
//! - every data file deleted was garbage: no kept commit or branch view
//!   references it, and it was older than the grace period;
//! - nothing that was garbage and older than the grace period survives
//!   (the collector is complete, not only safe).

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tarn_adapter_memory::{
    FixedClock, MemoryBlockStore, MemoryMultipartStore, MemoryRefStore, MemoryStagingStore,
    UniqueIds,
};
use tarn_domain::{
    CommitRequest, Engine, EngineSettings, Error, GcOptions, GcRules, ListRequest, Listing,
    MergeRequest, ResetScope, Stores, TreeLayering, Unobserved, UploadRequest,
};
use tarn_model::tree::SplitRule;
use tarn_model::{
    BranchName, Commit, CommitId, MergeStrategy, ObjectPath, PhysicalAddress, RepositoryId,
    StorageNamespace, Timestamp,
};
use tarn_ports::ByteStream;

const PATHS: [&str; 6] = ["a", "a/b", "b", "c/d", "c/e", "f"];
const BRANCHES: [&str; 3] = ["main", "dev", "feat"];
const HOUR: i64 = 3_600_000_000;

#[derive(Debug, Clone)]
enum Op {
    Upload(&'static str, &'static str),
    Delete(&'static str, &'static str),
    Commit(&'static str),
    CreateBranch(&'static str, &'static str),
    DeleteBranch(&'static str),
    ResetStaging(&'static str),
    HardResetToParent(&'static str),
    Merge(&'static str, &'static str),
    /// Layered trees at the branch heads folded off the commit path.
    Compact,
    Advance(i64),
    Rules(u8, Option<(&'static str, u8)>),
    Gc {
        as_of_hours: i64,
        grace_hours: i64,
    },
}

fn branch() -> impl Strategy<Value = &'static str> {
    prop::sample::select(BRANCHES.to_vec())
}

fn path() -> impl Strategy<Value = &'static str> {
    prop::sample::select(PATHS.to_vec())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (branch(), path()).prop_map(|(b, p)| Op::Upload(b, p)),
        2 => (branch(), path()).prop_map(|(b, p)| Op::Delete(b, p)),
        5 => branch().prop_map(Op::Commit),
        2 => (branch(), branch()).prop_map(|(n, f)| Op::CreateBranch(n, f)),
        1 => branch().prop_map(Op::DeleteBranch),
        1 => branch().prop_map(Op::ResetStaging),
        1 => branch().prop_map(Op::HardResetToParent),
        2 => (branch(), branch()).prop_map(|(s, d)| Op::Merge(s, d)),
        2 => Just(Op::Compact),
        3 => prop_oneof![Just(1i64), Just(12), Just(24), Just(72)].prop_map(Op::Advance),
        1 => (0u8..4, prop::option::of((branch(), 0u8..6)))
            .prop_map(|(d, b)| Op::Rules(d, b)),
        2 => (-96i64..96, prop_oneof![Just(0i64), Just(1), Just(30)])
            .prop_map(|(as_of_hours, grace_hours)| Op::Gc { as_of_hours, grace_hours }),
    ]
}

fn bn(s: &str) -> BranchName {
    BranchName::new(s).unwrap()
}

fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
}

/// What a ref shows: path → (its bytes, `None` when an earlier run
/// collected them; its data key).
type View = BTreeMap<String, (Option<String>, String)>;

struct Harness {
    engine: Engine,
    repo: RepositoryId,
    ns: StorageNamespace,
    clock: Arc<FixedClock>,
    serial: u32,
    runs: u32,
    /// Every commit made, as the engine returned it.
    commits: HashMap<CommitId, Commit>,
    /// The rules set: default days, per-branch days.
    rules: Option<(u32, BTreeMap<String, u32>)>,
}

impl Harness {
    async fn new() -> Self {
        let clock = Arc::new(FixedClock::new(Timestamp::from_unix_seconds(1_700_000_000)));
        let stores = Stores {
            blocks: Arc::new(MemoryBlockStore::new(clock.clone())),
            refs: Arc::new(MemoryRefStore::new()),
            staging: Arc::new(MemoryStagingStore::new()),
            multipart: Arc::new(MemoryMultipartStore::new()),
            clock: clock.clone(),
            ids: Arc::new(UniqueIds::new()),
        };
        // Every other case writes layered trees (overlays folded past a
        // few records), so that marking through overlays is checked too.
        static CASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = CASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let layering = if n.is_multiple_of(2) {
            TreeLayering::off()
        } else {
            TreeLayering {
                min_base_records: 0,
                max_overlay_records: (n % 5) as usize,
                compact_records: (n % 3) as usize,
            }
        };
        let engine = Engine::new(
            stores,
            EngineSettings {
                split: SplitRule {
                    raggedness: 2,
                    max_bytes: 256,
                },
                layering,
                ..EngineSettings::default()
            },
        );
        let repo = RepositoryId::new("repo").unwrap();
        let ns = StorageNamespace::new("mem://gc-model").unwrap();
        engine
            .create_repository(repo.clone(), ns.clone(), bn("main"))
            .await
            .unwrap();
        let mut h = Self {
            engine,
            repo,
            ns,
            clock,
            serial: 0,
            runs: 0,
            commits: HashMap::new(),
            rules: None,
        };
        let head = h.head("main").await.unwrap();
        h.remember(head).await;
        h.engine
            .create_branch(&h.repo, bn("dev"), "main")
            .await
            .unwrap();
        h
    }

    async fn head(&self, b: &str) -> Option<CommitId> {
        self.engine
            .get_branch(&self.repo, &bn(b))
            .await
            .ok()
            .map(|b| b.commit_id)
    }

    async fn remember(&mut self, id: CommitId) {
        let c = self
            .engine
            .get_commit(&self.repo, id.as_str())
            .await
            .unwrap();
        self.commits.insert(c.id.clone(), c);
    }

    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.clock.advance(1_000_000);
        let repo = &self.repo;
        match op {
            Op::Upload(b, p) => {
                self.serial += 1;
                let body = format!("{b}:{p}:{}", self.serial);
                let _ = self
                    .engine
                    .upload_object(
                        repo,
                        &bn(b),
                        &ObjectPath::new(*p).unwrap(),
                        ByteStream::from_bytes(body.into_bytes()),
                        UploadRequest::default(),
                    )
                    .await;
            }
            Op::Delete(b, p) => {
                let _ = self
                    .engine
                    .delete_object(repo, &bn(b), &ObjectPath::new(*p).unwrap())
                    .await;
            }
            Op::Commit(b) => {
                let req = CommitRequest {
                    message: "c".into(),
                    committer: "t".into(),
                    ..Default::default()
                };
                if let Ok(c) = self.engine.commit(repo, &bn(b), req).await {
                    self.remember(c.id).await;
                }
            }
            Op::CreateBranch(n, from) => {
                let _ = self.engine.create_branch(repo, bn(n), from).await;
            }
            Op::DeleteBranch(b) => {
                let _ = self.engine.delete_branch(repo, &bn(b)).await;
            }
            Op::ResetStaging(b) => {
                let _ = self
                    .engine
                    .reset_branch(repo, &bn(b), ResetScope::All)
                    .await;
            }
            Op::HardResetToParent(b) => {
                let _ = self
                    .engine
                    .hard_reset_branch(repo, &bn(b), &format!("{b}~1"))
                    .await;
            }
            Op::Merge(s, d) => {
                let req = MergeRequest {
                    strategy: MergeStrategy::SourceWins,
                    committer: "t".into(),
                    ..Default::default()
                };
                if let Ok(c) = self.engine.merge(repo, s, &bn(d), req).await {
                    self.remember(c.id).await;
                }
            }
            Op::Compact => {
                if let Err(e) = self.engine.compact_trees(repo, &mut |_, _| true).await {
                    return Err(TestCaseError::fail(format!("compaction: {e}")));
                }
            }
            Op::Advance(hours) => self.clock.advance(hours * HOUR),
            Op::Rules(days, branch) => {
                let per: Vec<(String, i64)> = branch
                    .iter()
                    .map(|(b, d)| (b.to_string(), i64::from(*d)))
                    .collect();
                let rules = GcRules::new(i64::from(*days), per).unwrap();
                self.engine.set_gc_rules(repo, &rules).await.unwrap();
                self.rules = Some((
                    rules.default_retention_days,
                    rules
                        .branches
                        .iter()
                        .map(|(b, d)| (b.to_string(), *d))
                        .collect(),
                ));
            }
            Op::Gc {
                as_of_hours,
                grace_hours,
            } => self.gc(*as_of_hours, *grace_hours).await?,
        }
        Ok(())
    }

    /// Everything `reference` shows, read through the engine.
    async fn view(&self, reference: &str) -> Result<View, Error> {
        let mut out = View::new();
        let mut after = None;
        loop {
            let req = ListRequest {
                prefix: String::new(),
                after: after.clone(),
                amount: 100,
                delimiter: None,
            };
            let page = self
                .engine
                .list_objects(&self.repo, reference, &req)
                .await?;
            for item in &page.items {
                if let Listing::Object(p, entry) = item {
                    // The address from the listing (the tree), the bytes
                    // from the store: a kept commit may have lost data to an
                    // earlier run whose `as_of` was later.
                    let key = match &entry.address {
                        PhysicalAddress::Relative(k) => k.as_str().to_owned(),
                        other => panic!("uploads are relative: {other:?}"),
                    };
                    let body = match self
                        .engine
                        .read_object(&self.repo, reference, p, None)
                        .await
                    {
                        Ok(read) => {
                            let bytes = read.data.body.collect_bounded(1 << 20).await.unwrap();
                            Some(String::from_utf8(bytes.to_vec()).unwrap())
                        }
                        Err(Error::Gone(_)) => None,
                        Err(e) => return Err(e),
                    };
                    out.insert(p.as_str().to_owned(), (body, key));
                }
            }
            if !page.has_more {
                return Ok(out);
            }
            after = page.items.last().map(|l| l.key().to_owned());
        }
    }

    async fn data_files(&self) -> BTreeMap<String, Timestamp> {
        let listed = self
            .engine
            .stores()
            .blocks
            .list(&self.ns, "data/", None, 1_000_000)
            .await
            .unwrap();
        listed
            .into_iter()
            .map(|b| (b.key.as_str().to_owned(), b.meta.last_modified))
            .collect()
    }

    /// The commits the rules keep at `as_of`, computed naively: a commit
    /// is kept when it is a head, or when a walk start (a head, or a
    /// dangling commit within its own window) reaches it along first
    /// parents with its first-parent child created within the start's
    /// window (creation times grow along first parents, so the whole path
    /// is then within it).
    fn kept(&self, heads: &BTreeMap<String, CommitId>, as_of: Timestamp) -> BTreeSet<CommitId> {
        let window = |branch: Option<&str>| -> Option<Timestamp> {
            let (default, per) = self.rules.as_ref()?;
            let days = branch.and_then(|b| per.get(b)).copied().unwrap_or(*default);
            Some(Timestamp::from_unix_micros(
                as_of.unix_micros() - i64::from(days) * 24 * HOUR,
            ))
        };
        let within = |t: Timestamp, w: Option<Timestamp>| w.is_none_or(|w| t >= w);
        let first_parents: BTreeSet<&CommitId> = self
            .commits
            .values()
            .filter_map(|c| c.parents.first())
            .collect();
        let head_ids: BTreeSet<&CommitId> = heads.values().collect();
        let mut starts: Vec<(CommitId, Option<Timestamp>)> = heads
            .iter()
            .map(|(b, id)| (id.clone(), window(Some(b))))
            .collect();
        for c in self.commits.values() {
            if !first_parents.contains(&c.id)
                && !head_ids.contains(&c.id)
                && within(c.creation_date, window(None))
            {
                starts.push((c.id.clone(), window(None)));
            }
        }
        let mut kept = BTreeSet::new();
        for (start, w) in starts {
            kept.insert(start.clone());
            let mut child = self.commits[&start].clone();
            while let Some(parent) = child.parents.first() {
                if !within(child.creation_date, w) {
                    break;
                }
                kept.insert(parent.clone());
                child = self.commits[parent].clone();
            }
        }
        kept
    }

    async fn gc(&mut self, as_of_hours: i64, grace_hours: i64) -> Result<(), TestCaseError> {
        let now = self.engine.now();
        let as_of = Timestamp::from_unix_micros(now.unix_micros() + as_of_hours * HOUR);
        let cutoff = Timestamp::from_unix_micros(now.unix_micros() - grace_hours * HOUR);
        // Before: what every branch and every kept commit shows.
        let mut heads = BTreeMap::new();
        let mut views: Vec<(String, View)> = Vec::new();
        for b in BRANCHES {
            if let Some(head) = self.head(b).await {
                heads.insert(b.to_owned(), head);
                views.push((b.to_owned(), self.view(b).await.unwrap()));
            }
        }
        let kept = self.kept(&heads, as_of);
        for id in &kept {
            let v = self
                .view(id.as_str())
                .await
                .map_err(|e| fail(format!("reading {id}: {e}")))?;
            views.push((id.to_string(), v));
        }
        let live: BTreeSet<String> = views
            .iter()
            .flat_map(|(_, v)| v.values().map(|(_, k)| k.clone()))
            .collect();
        let before = self.data_files().await;

        self.runs += 1;
        let run = format!("run{}", self.runs);
        let options = GcOptions {
            as_of: Some(as_of),
            grace_period_secs: (grace_hours * 3600) as u64,
            sort_budget_bytes: 64,
            ..GcOptions::default()
        };
        self.engine
            .gc_mark(&self.repo, &run, &options, &Unobserved)
            .await
            .map_err(|e| fail(format!("mark: {e}")))?;
        let report = self
            .engine
            .gc_sweep(&self.repo, &run, &Unobserved)
            .await
            .map_err(|e| fail(format!("sweep: {e}")))?;

        // Everything kept reads back as it did.
        for (name, view) in &views {
            let now = self
                .view(name)
                .await
                .map_err(|e| fail(format!("after gc, {name}: {e}")))?;
            prop_assert_eq!(&now, view, "{} changed", name);
        }
        // Exactly the garbage older than the grace period went.
        let after = self.data_files().await;
        for (key, written) in &before {
            let should_go = !live.contains(key) && *written < cutoff;
            let gone = !after.contains_key(key);
            prop_assert_eq!(
                gone,
                should_go,
                "{} (live: {}, written {:?}, cutoff {:?}); report {:?}",
                key,
                live.contains(key),
                written,
                cutoff,
                report
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn gc_keeps_everything_reachable_and_collects_the_rest(
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut h = Harness::new().await;
            for op in &ops {
                h.apply(op).await?;
            }
            // Always end with a collection under the rules in force.
            h.apply(&Op::Gc { as_of_hours: 0, grace_hours: 0 }).await
        })?;
    }
}
