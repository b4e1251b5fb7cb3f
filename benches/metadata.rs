//! Metadata benchmarks (`make bench`, inside scripts/with-postgres.sh with a
//! durable server): the same work on memory (the baseline), SQLite and
//! PostgreSQL metadata, in one run.
//!
//! 1. Commit of 1M staged objects (engine in process, local block store).
//! 2. Database round trips per operation (stat, upload, commit, merge).
//! 3. Stat and write throughput through the HTTP API at 64 concurrent clients
//!    (release binary), PostgreSQL against memory metadata.
//!
//! `TARN_BENCH_OBJECTS` sets the commit size (default 1,000,000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tarn_adapter_local::LocalBlockStore;
use tarn_adapter_memory::{
    MemoryMultipartStore, MemoryRefStore, MemoryStagingStore, SystemClock, UniqueIds,
};
use tarn_adapter_sql::testing::{fresh_postgres_database, postgres_url};
use tarn_adapter_sql::{Backend, RoundTrips, SqlStore};
use tarn_domain::{CommitRequest, Engine, EngineSettings, MergeRequest, Stores, UploadRequest};
use tarn_model::{
    BlockKey, BranchName, Entry, ObjectPath, PhysicalAddress, RepositoryId, StagedValue,
    StorageNamespace, Timestamp,
};
use tarn_ports::{ByteStream, StagingEntry};

const CLIENTS: usize = 64;

fn b(s: &str) -> BranchName {
    BranchName::new(s).unwrap()
}

fn entry(i: usize) -> Entry {
    Entry {
        address: PhysicalAddress::Relative(BlockKey::new(format!("data/g0/{i:010}")).unwrap()),
        size: 1_000 + i as u64,
        checksum: format!("{i:032x}"),
        last_modified: Timestamp::from_unix_seconds(1_700_000_000),
        content_type: Some("application/octet-stream".into()),
        metadata: BTreeMap::new(),
        tags: Default::default(),
    }
}

struct Setup {
    name: &'static str,
    engine: Engine,
    trips: Option<RoundTrips>,
    _dir: tempfile::TempDir,
}

async fn setup(name: &'static str, backend: Option<Backend>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let blocks = Arc::new(
        LocalBlockStore::open(dir.path().join("block"))
            .await
            .unwrap(),
    );
    let (stores, trips) = match backend {
        None => (
            Stores {
                blocks,
                refs: Arc::new(MemoryRefStore::new()),
                staging: Arc::new(MemoryStagingStore::new()),
                multipart: Arc::new(MemoryMultipartStore::new()),
                clock: Arc::new(SystemClock::new()),
                ids: Arc::new(UniqueIds::new()),
            },
            None,
        ),
        Some(backend) => {
            let sql = Arc::new(SqlStore::open(&backend).await.unwrap());
            let trips = sql.round_trips();
            (
                Stores {
                    blocks,
                    refs: sql.clone(),
                    staging: sql.clone(),
                    multipart: sql,
                    clock: Arc::new(SystemClock::new()),
                    ids: Arc::new(UniqueIds::new()),
                },
                Some(trips),
            )
        }
    };
    let settings = EngineSettings {
        cache_bytes: 1 << 30,
        ..EngineSettings::default()
    };
    Setup {
        name,
        engine: Engine::new(stores, settings),
        trips,
        _dir: dir,
    }
}

impl Setup {
    async fn repo(&self, name: &str) -> RepositoryId {
        let id = RepositoryId::new(name).unwrap();
        let ns = StorageNamespace::new(format!("local://{name}")).unwrap();
        self.engine
            .create_repository(id.clone(), ns, b("main"))
            .await
            .unwrap();
        id
    }

    /// Stages `n` entries straight into main's token; returns how long it took.
    async fn stage(&self, repo: &RepositoryId, n: usize) -> Duration {
        let token = self
            .engine
            .get_branch(repo, &b("main"))
            .await
            .unwrap()
            .staging_token;
        let t = Instant::now();
        let mut batch: Vec<StagingEntry> = Vec::with_capacity(20_000);
        for i in 0..n {
            let path = format!("tables/events/date={:04}/part-{i:08}.parquet", i / 10_000);
            batch.push((ObjectPath::new(path).unwrap(), StagedValue::Entry(entry(i))));
            if batch.len() == batch.capacity() || i + 1 == n {
                let staging = &self.engine.stores().staging;
                staging.put_many(&token, &batch).await.unwrap();
                batch.clear();
            }
        }
        t.elapsed()
    }

    async fn commit(&self, repo: &RepositoryId, branch: &str) -> Duration {
        let req = CommitRequest {
            message: "bench".into(),
            committer: "bench".into(),
            ..Default::default()
        };
        let t = Instant::now();
        self.engine.commit(repo, &b(branch), req).await.unwrap();
        t.elapsed()
    }

    async fn upload(&self, repo: &RepositoryId, branch: &str, path: &str) {
        let path = ObjectPath::new(path).unwrap();
        let body = ByteStream::from_bytes("sixteen bytes..!");
        self.engine
            .upload_object(repo, &b(branch), &path, body, UploadRequest::default())
            .await
            .unwrap();
    }

    /// Average statements per call of `op` over `n` calls.
    async fn trips_per<F, Fut>(&self, n: usize, mut op: F) -> f64
    where
        F: FnMut(usize) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let trips = self.trips.as_ref().expect("a SQL store");
        let before = trips.get();
        for i in 0..n {
            op(i).await;
        }
        (trips.get() - before) as f64 / n as f64
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and
    // then a small, short run checks that the benchmark still works.
    let full = std::env::args().any(|a| a == "--bench");
    let objects: usize = std::env::var("TARN_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 1_000_000 } else { 10_000 });
    let seconds = if full { 5 } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(objects, seconds));
}

async fn sql_backends() -> Vec<(&'static str, Backend, tempfile::TempDir)> {
    let url = postgres_url()
        .expect("TARN_TEST_POSTGRES_URL is not set: run `make bench` (scripts/with-postgres.sh)");
    let dir = tempfile::tempdir().unwrap();
    vec![
        (
            "sqlite",
            Backend::Sqlite {
                path: dir.path().join("tarn.db"),
                max_connections: 8,
                cache_bytes: tarn_adapter_sql::DEFAULT_SQLITE_CACHE_BYTES,
            },
            tempfile::tempdir().unwrap(),
        ),
        (
            "postgres",
            Backend::Postgres {
                connection_string: fresh_postgres_database(&url).await.unwrap(),
                max_connections: 16,
                ca_file: None,
            },
            dir,
        ),
    ]
}

async fn run(objects: usize, seconds: u64) {
    println!("metadata benchmarks: {objects} staged objects; {CLIENTS} API clients");
    let backends = sql_backends().await;

    // 1. Commit of `objects` staged entries.
    let memory = setup("memory", None).await;
    let repo = memory.repo("big").await;
    memory.stage(&repo, objects).await;
    let base = memory.commit(&repo, "main").await;
    println!(
        "commit {objects} staged, memory (baseline): {:>7.0} ms",
        base.as_secs_f64() * 1e3
    );
    for (name, backend, _keep) in &backends {
        let s = setup(name, Some(backend.clone())).await;
        let repo = s.repo("big").await;
        let staged = s.stage(&repo, objects).await;
        let t = s.commit(&repo, "main").await;
        let goal = if *name == "sqlite" { 5_000 } else { 10_000 };
        println!(
            "commit {objects} staged, {name:<8}:          {:>7.0} ms  ({:.2}x memory; goal < {goal} ms; staging them took {:.0} ms)",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / base.as_secs_f64(),
            staged.as_secs_f64() * 1e3,
        );
    }

    // 2. Round trips per operation, on a repository with some history.
    for (name, backend, _keep) in &backends {
        let s = setup(name, Some(backend.clone())).await;
        let repo = s.repo("trips").await;
        for i in 0..100 {
            s.upload(&repo, "main", &format!("seed/{i:03}")).await;
        }
        s.commit(&repo, "main").await;
        let engine = &s.engine;
        let stat = s
            .trips_per(50, |i| {
                let repo = repo.clone();
                async move {
                    let path = ObjectPath::new(format!("seed/{:03}", i % 100)).unwrap();
                    engine.stat_object(&repo, "main", &path).await.unwrap();
                }
            })
            .await;
        let upload = s
            .trips_per(50, |i| {
                let (s, repo) = (&s, repo.clone());
                async move { s.upload(&repo, "main", &format!("new/{i:03}")).await }
            })
            .await;
        let delete = s
            .trips_per(50, |i| {
                let repo = repo.clone();
                async move {
                    let path = ObjectPath::new(format!("new/{i:03}")).unwrap();
                    engine
                        .delete_object(&repo, &b("main"), &path)
                        .await
                        .unwrap();
                }
            })
            .await;
        let commit = s
            .trips_per(20, |i| {
                let (s, repo) = (&s, repo.clone());
                async move {
                    s.upload(&repo, "main", &format!("c/{i:03}")).await;
                    s.commit(&repo, "main").await;
                }
            })
            .await
            - upload;
        engine
            .create_branch(&repo, b("feature"), "main")
            .await
            .unwrap();
        let merge = s
            .trips_per(20, |i| {
                let (s, repo) = (&s, repo.clone());
                async move {
                    s.upload(&repo, "feature", &format!("m/{i:03}")).await;
                    s.commit(&repo, "feature").await;
                    let req = MergeRequest {
                        committer: "bench".into(),
                        ..Default::default()
                    };
                    s.engine
                        .merge(&repo, "feature", &b("main"), req)
                        .await
                        .unwrap();
                }
            })
            .await
            - upload
            - commit;
        println!(
            "round trips per operation, {:<8}: stat {stat:.1}, upload {upload:.1}, delete {delete:.1}, commit {commit:.1}, merge {merge:.1}",
            s.name
        );
    }

    // 3. Throughput through the API, 64 clients, PostgreSQL vs memory.
    let url = postgres_url().unwrap();
    let pg = fresh_postgres_database(&url).await.unwrap();
    let mut rates = Vec::new();
    for (name, env) in [
        ("memory", vec![("TARN_DATABASE__TYPE", "memory".to_owned())]),
        (
            "postgres",
            vec![
                ("TARN_DATABASE__TYPE", "postgres".to_owned()),
                ("TARN_DATABASE__POSTGRES__CONNECTION_STRING", pg.clone()),
            ],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, base) = support::start_with(dir.path(), &env);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(CLIENTS)
            .build()
            .unwrap();
        support::create_repository(&http, &base, "load").await;
        let (writes, written) = load(&http, &base, Op::Write, seconds, &[]).await;
        let status = http
            .post(format!(
                "{base}/api/v1/repositories/load/branches/main/commits"
            ))
            .basic_auth(support::KEY, Some(support::SECRET))
            .json(&serde_json::json!({"message": "load"}))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "commit: {status}");
        let (stats, _) = load(&http, &base, Op::Stat, seconds, &written).await;
        let deletes = delete_all(&http, &base, &written).await;
        child.kill().unwrap();
        child.wait().unwrap();
        println!(
            "API, {CLIENTS} clients, {name:<8}: {stats:>7.0} stat/s  {writes:>7.0} uploads/s (16-byte objects)  {deletes:>7.0} deletes/s (metadata only)"
        );
        rates.push((stats, writes, deletes));
    }
    let ((ms, mw, md), (ps, pw, pd)) = (rates[0], rates[1]);
    println!(
        "API on postgres vs memory metadata: stat {:.2}x (goal >= 5000/s), uploads {:.2}x, deletes {:.2}x (goal for writes >= 3000/s)",
        ps / ms,
        pw / mw,
        pd / md
    );
}

#[derive(Clone, Copy)]
enum Op {
    Stat,
    Write,
}

/// Requests per second of `op` from `CLIENTS` concurrent clients over
/// `seconds`, and how many requests each client made. Writes go to
/// `c<client>/<n>`; stats read back among the `written[client]` objects
/// that the client wrote before.
async fn load(
    http: &reqwest::Client,
    base: &str,
    op: Op,
    seconds: u64,
    written: &[u64],
) -> (f64, Vec<u64>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (http, base) = (http.clone(), base.to_owned());
        let existing = written.get(c).copied().unwrap_or(0).max(1);
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                let resp = match op {
                    Op::Write => http
                        .post(format!(
                            "{base}/api/v1/repositories/load/branches/main/objects"
                        ))
                        .query(&[("path", format!("c{c:02}/{i:08}"))])
                        .body("sixteen bytes..!"),
                    Op::Stat => http
                        .get(format!(
                            "{base}/api/v1/repositories/load/refs/main/objects/stat"
                        ))
                        .query(&[("path", format!("c{c:02}/{:08}", i % existing))]),
                }
                .basic_auth(support::KEY, Some(support::SECRET))
                .send()
                .await
                .unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                let _ = resp.bytes().await;
                i += 1;
            }
            i
        }));
    }
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    let total: u64 = counts.iter().sum();
    (total as f64 / seconds as f64, counts)
}

/// Deletes every object the write load made (`written[client]` each, from
/// `CLIENTS` concurrent clients): tombstones, a write of metadata only.
/// Returns deletes per second.
async fn delete_all(http: &reqwest::Client, base: &str, written: &[u64]) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (c, &n) in written.iter().enumerate() {
        let (http, base) = (http.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            for i in 0..n {
                let resp = http
                    .delete(format!(
                        "{base}/api/v1/repositories/load/branches/main/objects"
                    ))
                    .query(&[("path", format!("c{c:02}/{i:08}"))])
                    .basic_auth(support::KEY, Some(support::SECRET))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 204, "delete c{c:02}/{i:08}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    written.iter().sum::<u64>() as f64 / start.elapsed().as_secs_f64()
}
