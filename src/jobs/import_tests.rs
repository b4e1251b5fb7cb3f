//! The `import` job across a crash and a vanishing source, on the local
//! store (a directory imports read) and on the test S3 server (a bucket).
//! The block store is the real adapter behind a gate that holds the
//! source's listing after its first page, so that the test acts while the
//! import is known to be half way.

use super::import::{ImportResult, ImportSource, ImportTask, IMPORT_KIND};
use super::runner::RunningJobs;
use super::{JobRegistry, JobRunner, RunnerSettings};
use crate::jobs::import::ImportHandler;
use async_trait::async_trait;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tarn_adapter_local::LocalBlockStore;
use tarn_adapter_memory::{SystemClock, UniqueIds};
use tarn_adapter_sql::{Backend, SqlStore};
use tarn_domain::{
    CommitRequest, Engine, EngineSettings, ListRequest, Listing, Stores, UploadRequest,
};
use tarn_model::jobs::{Job, JobId, JobKind, JobOwner, JobState};
use tarn_model::{BlockKey, BranchName, ObjectPath, PartNumber, RepositoryId, StorageNamespace};
use tarn_ports::{
    BlockStore, ByteRange, ByteStream, Clock, CompletedPart, GetOutcome, JobStore, ListedBlock,
    NewJob, ObjectMeta, PortResult, PutOutcome,
};
use tokio::sync::{Notify, Semaphore};

/// How many source objects: three listing pages (the import lists 1,000
/// at a time).
const OBJECTS: usize = 2_500;

/// The real store, whose listings of `source` pass while there are
/// permits and otherwise wait (saying so on `stalled`).
struct Gated {
    inner: Arc<dyn BlockStore>,
    source: String,
    permits: Semaphore,
    stalled: Notify,
    waiting: AtomicUsize,
}

impl Gated {
    /// Lets every listing through from now on.
    fn open(&self) {
        self.permits.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    /// Waits until a listing of the source is held.
    async fn until_stalled(&self) {
        tokio::time::timeout(Duration::from_secs(30), async {
            while self.waiting.load(Ordering::SeqCst) == 0 {
                let stalled = self.stalled.notified();
                if self.waiting.load(Ordering::SeqCst) > 0 {
                    break;
                }
                stalled.await;
            }
        })
        .await
        .expect("the import never reached its second listing page");
    }
}

#[async_trait]
impl BlockStore for Gated {
    async fn put(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome> {
        self.inner.put(ns, key, body, size).await
    }
    async fn get(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<GetOutcome> {
        self.inner.get(ns, key, range).await
    }
    async fn head(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<ObjectMeta> {
        self.inner.head(ns, key).await
    }
    async fn delete(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<()> {
        self.inner.delete(ns, key).await
    }
    async fn copy(
        &self,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        dst_ns: &StorageNamespace,
        dst: &BlockKey,
    ) -> PortResult<PutOutcome> {
        self.inner.copy(src_ns, src, dst_ns, dst).await
    }
    async fn list(
        &self,
        ns: &StorageNamespace,
        prefix: &str,
        after: Option<&BlockKey>,
        limit: usize,
    ) -> PortResult<Vec<ListedBlock>> {
        if ns.as_str() == self.source {
            self.waiting.fetch_add(1, Ordering::SeqCst);
            self.stalled.notify_waiters();
            let permit = self.permits.acquire().await;
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            permit.expect("the gate is never closed").forget();
        }
        self.inner.list(ns, prefix, after, limit).await
    }
    async fn create_multipart(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<String> {
        self.inner.create_multipart(ns, key).await
    }
    async fn upload_part(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<String> {
        self.inner
            .upload_part(ns, key, upload_id, number, body, size)
            .await
    }
    async fn upload_part_copy(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<String> {
        self.inner
            .upload_part_copy(ns, key, upload_id, number, src_ns, src, range)
            .await
    }
    async fn complete_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> PortResult<PutOutcome> {
        self.inner
            .complete_multipart(ns, key, upload_id, parts)
            .await
    }
    async fn abort_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
    ) -> PortResult<()> {
        self.inner.abort_multipart(ns, key, upload_id).await
    }
}

/// Where the source objects live and how to make them vanish.
enum Source {
    /// A directory under an allowed prefix.
    Directory(PathBuf),
    /// A prefix in the test S3 server's bucket (the store, the bucket, the
    /// prefix).
    Prefix(Arc<dyn BlockStore>, String, String),
}

impl Source {
    /// The namespace the gate watches and the import URI.
    fn uri(&self) -> (String, String) {
        match self {
            Self::Directory(dir) => {
                let first = dir.iter().nth(1).and_then(|c| c.to_str()).unwrap_or("");
                (
                    format!("local:///{first}"),
                    format!("local://{}/", dir.display()),
                )
            }
            Self::Prefix(_, bucket, prefix) => {
                (format!("s3://{bucket}"), format!("s3://{bucket}/{prefix}"))
            }
        }
    }

    /// Removes every source object.
    async fn vanish(&self) {
        match self {
            Self::Directory(dir) => std::fs::remove_dir_all(dir).unwrap(),
            Self::Prefix(store, bucket, prefix) => {
                let ns = StorageNamespace::new(format!("s3://{bucket}")).unwrap();
                let keys: Vec<BlockKey> = (0..OBJECTS)
                    .map(|i| BlockKey::new(format!("{prefix}{}", key_of(i))).unwrap())
                    .collect();
                for batch in keys.chunks(tarn_ports::DELETE_BATCH) {
                    store.delete_many(&ns, batch).await.unwrap();
                }
            }
        }
    }
}

struct Harness {
    engine: Engine,
    jobs: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    gate: Arc<Gated>,
    source: Source,
    repo: RepositoryId,
    main: BranchName,
    _dir: tempfile::TempDir,
}

fn key_of(i: usize) -> String {
    format!("part-{:02}/{i:05}.csv", i % 7)
}

impl Harness {
    /// A repository on SQLite whose `main` has `dest/old.csv` and
    /// `keep.txt` committed, and a source of [`OBJECTS`] objects.
    async fn new(on_s3: bool) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let sql = Arc::new(
            SqlStore::open(&Backend::Sqlite {
                path: dir.path().join("tarn.db"),
                max_connections: 4,
                cache_bytes: 8 << 20,
            })
            .await
            .unwrap(),
        );
        let (inner, source, repo_ns): (Arc<dyn BlockStore>, Source, String) = if on_s3 {
            let (settings, bucket) = tarn_adapter_s3::testing::test_server_or_skip()?;
            let store: Arc<dyn BlockStore> = Arc::new(
                tarn_adapter_s3::S3BlockStore::connect(&settings)
                    .await
                    .unwrap(),
            );
            let prefix = format!(
                "{}/lake/",
                tarn_adapter_s3::testing::unique_prefix("import-src")
            );
            let ns = StorageNamespace::new(format!("s3://{bucket}")).unwrap();
            let puts = (0..OBJECTS).map(|i| {
                let (store, ns) = (store.clone(), ns.clone());
                let key = BlockKey::new(format!("{prefix}{}", key_of(i))).unwrap();
                async move {
                    let body = format!("row {i}\n").into_bytes();
                    let len = body.len() as u64;
                    store
                        .put(&ns, &key, ByteStream::from_bytes(body), Some(len))
                        .await
                        .unwrap();
                }
            });
            futures::stream::iter(puts)
                .buffer_unordered(16)
                .collect::<Vec<()>>()
                .await;
            let repo_ns = format!(
                "s3://{bucket}/{}",
                tarn_adapter_s3::testing::unique_prefix("import-repo")
            );
            (
                store.clone(),
                Source::Prefix(store, bucket, prefix),
                repo_ns,
            )
        } else {
            let allowed = dir.path().join("allowed");
            let src = allowed.join("lake");
            for i in 0..OBJECTS {
                let path = src.join(key_of(i));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, format!("row {i}\n")).unwrap();
            }
            let store = LocalBlockStore::open(&dir.path().join("block"))
                .await
                .unwrap()
                .with_import_prefixes(&[allowed])
                .unwrap();
            let src = std::fs::canonicalize(src).unwrap();
            (
                Arc::new(store),
                Source::Directory(src),
                "local://repo".into(),
            )
        };
        let gate = Arc::new(Gated {
            inner,
            source: source.uri().0,
            permits: Semaphore::new(usize::MAX >> 4),
            stalled: Notify::new(),
            waiting: AtomicUsize::new(0),
        });
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
        let stores = Stores {
            blocks: gate.clone(),
            refs: sql.clone(),
            staging: sql.clone(),
            multipart: sql.clone(),
            clock: clock.clone(),
            ids: Arc::new(UniqueIds::new()),
        };
        let engine = Engine::new(stores, EngineSettings::default());
        let repo = RepositoryId::new("imports").unwrap();
        let main = BranchName::new("main").unwrap();
        engine
            .create_repository(
                repo.clone(),
                StorageNamespace::new(repo_ns).unwrap(),
                main.clone(),
            )
            .await
            .unwrap();
        let h = Self {
            engine,
            jobs: sql,
            clock,
            gate,
            source,
            repo,
            main,
            _dir: dir,
        };
        for (path, body) in [("dest/old.csv", "old"), ("keep.txt", "kept")] {
            h.engine
                .upload_object(
                    &h.repo,
                    &h.main,
                    &ObjectPath::new(path).unwrap(),
                    ByteStream::from_bytes(body.as_bytes().to_vec()),
                    UploadRequest::default(),
                )
                .await
                .unwrap();
        }
        let req = CommitRequest {
            message: "before".into(),
            committer: "tester".into(),
            ..CommitRequest::default()
        };
        h.engine.commit(&h.repo, &h.main, req).await.unwrap();
        Some(h)
    }

    /// Holds the source's listings after the first page.
    fn hold_after_first_page(&self) {
        let spare = self.gate.permits.available_permits();
        self.gate.permits.forget_permits(spare.saturating_sub(1));
    }

    fn runner(&self, name: &str) -> RunningJobs {
        let mut registry = JobRegistry::new();
        registry.register(
            JobKind::new(IMPORT_KIND).unwrap(),
            Arc::new(ImportHandler(self.engine.clone())),
        );
        let settings = RunnerSettings {
            poll_interval: Duration::from_millis(20),
            lease: Duration::from_millis(600),
            max_concurrent: 1,
        };
        JobRunner::new(
            self.jobs.clone(),
            self.clock.clone(),
            registry,
            JobOwner::new(format!("runner-{name}")).unwrap(),
            settings,
        )
        .start()
    }

    async fn submit(&self) -> JobId {
        let task = ImportTask {
            repository: self.repo.to_string(),
            branch: self.main.to_string(),
            paths: vec![ImportSource {
                source: self.source.uri().1,
                destination: "dest/".into(),
                kind: "common_prefix".into(),
            }],
            message: "imported".into(),
            metadata: BTreeMap::new(),
            committer: "tester".into(),
        };
        let id = JobId::new("import-1").unwrap();
        self.jobs
            .create(&NewJob {
                id: id.clone(),
                kind: JobKind::new(IMPORT_KIND).unwrap(),
                parameters: serde_json::to_string(&task).unwrap(),
                repository: Some(self.repo.clone()),
                created: self.clock.now(),
            })
            .await
            .unwrap();
        id
    }

    async fn wait_final(&self, id: &JobId) -> Job {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let job = self.jobs.get(id).await.unwrap();
            if job.state.is_final() {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never ended: {job:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The branch head and every path on it.
    async fn branch(&self) -> (String, Vec<String>) {
        let head = self
            .engine
            .get_branch(&self.repo, &self.main)
            .await
            .unwrap();
        let mut paths = Vec::new();
        let mut after = None;
        loop {
            let req = ListRequest {
                prefix: String::new(),
                after: after.clone(),
                amount: 1000,
                delimiter: None,
            };
            let page = self
                .engine
                .list_objects(&self.repo, "main", &req)
                .await
                .unwrap();
            for item in page.items {
                if let Listing::Object(p, _) = item {
                    paths.push(p.to_string());
                }
            }
            if !page.has_more {
                break;
            }
            after = Some(page.next_offset);
        }
        (head.commit_id.to_string(), paths)
    }
}

async fn a_crash_mid_import_shows_nothing_and_the_heir_imports_once(on_s3: bool) {
    let Some(h) = Harness::new(on_s3).await else {
        return;
    };
    let before = h.branch().await;
    assert_eq!(before.1, ["dest/old.csv", "keep.txt"]);
    h.hold_after_first_page();
    let id = h.submit().await;
    let doomed = h.runner("doomed");
    h.gate.until_stalled().await;
    let running = h.jobs.get(&id).await.unwrap();
    assert_eq!(running.state, JobState::Running, "{running:?}");
    assert_eq!(h.branch().await, before, "half an import is visible");
    drop(doomed); // the process dies mid-listing
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.branch().await, before, "a dead import changed the branch");

    h.gate.open();
    let heir = h.runner("heir");
    let done = h.wait_final(&id).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert!(done.attempts >= 2, "taken over after the crash: {done:?}");
    let result: ImportResult = serde_json::from_str(done.result.as_deref().unwrap()).unwrap();
    assert_eq!(result.ingested, OBJECTS as u64);
    let (head, paths) = h.branch().await;
    assert_eq!(head, result.commit_id);
    let mut expected: Vec<String> = (0..OBJECTS)
        .map(|i| format!("dest/{}", key_of(i)))
        .collect();
    expected.sort();
    expected.push("keep.txt".into());
    assert_eq!(paths, expected, "the destination replaced, once");
    // One commit on top of the old head: the dead attempt left none.
    let commit = h
        .engine
        .get_commit(&h.repo, &result.commit_id)
        .await
        .unwrap();
    assert_eq!(commit.parents.len(), 1);
    assert_eq!(commit.parents[0].to_string(), before.0);
    heir.stop().await;
}

async fn a_source_vanishing_mid_listing_fails_the_import_cleanly(on_s3: bool) {
    let Some(h) = Harness::new(on_s3).await else {
        return;
    };
    let before = h.branch().await;
    h.hold_after_first_page();
    let id = h.submit().await;
    let runner = h.runner("r");
    h.gate.until_stalled().await;
    h.source.vanish().await;
    h.gate.open();
    let done = h.wait_final(&id).await;
    assert_eq!(done.state, JobState::Failed, "{done:?}");
    let error = done.error.clone().unwrap_or_default();
    assert!(error.contains("vanished"), "a clear error: {error}");
    assert_eq!(
        h.branch().await,
        before,
        "a failed import changed the branch"
    );
    runner.stop().await;
}

async fn a_cancel_mid_import_stops_it_and_leaves_the_branch(on_s3: bool) {
    let Some(h) = Harness::new(on_s3).await else {
        return;
    };
    let before = h.branch().await;
    h.hold_after_first_page();
    let id = h.submit().await;
    let runner = h.runner("r");
    h.gate.until_stalled().await;
    // What `DELETE …/import?id=` does.
    let flagged = h.jobs.request_cancel(&id, h.clock.now()).await.unwrap();
    assert!(flagged.cancel_requested);
    let asked = tokio::time::Instant::now();
    // The listing stays held: the cancel must stop an import stuck in a
    // slow store too (the runner aborts a handler that does not return).
    let done = h.wait_final(&id).await;
    h.gate.open();
    assert_eq!(done.state, JobState::Canceled, "{done:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "stopped within seconds: {:?}",
        asked.elapsed()
    );
    assert_eq!(
        h.branch().await,
        before,
        "a canceled import changed the branch"
    );
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_import_from_a_directory() {
    a_cancel_mid_import_stops_it_and_leaves_the_branch(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_import_from_s3() {
    a_cancel_mid_import_stops_it_and_leaves_the_branch(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_import_from_a_directory() {
    a_crash_mid_import_shows_nothing_and_the_heir_imports_once(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_import_from_s3() {
    a_crash_mid_import_shows_nothing_and_the_heir_imports_once(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_vanishing_mid_import() {
    a_source_vanishing_mid_listing_fails_the_import_cleanly(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_prefix_vanishing_mid_import() {
    a_source_vanishing_mid_listing_fails_the_import_cleanly(true).await;
}
