//! History and staging at scale (`make bench`, inside scripts/with-postgres.sh):
//! the same work on memory metadata (the baseline), SQLite and PostgreSQL, in
//! one run.
//!
//! 1. Listing a branch holding 1,000,000 uncommitted objects (1,000 folders
//!    of 1,000), a page of 1,000 at a time: with no delimiter, and with `/`
//!    (a page of folders, a page inside a folder). Goal: < 50 ms a page.
//! 2. A path-filtered log over a 100,000-commit history: the first page of
//!    commits that changed one object, or something under a prefix, that
//!    few commits touched. Goal: < 1 s.
//!
//! `TARN_BENCH_STAGED` and `TARN_BENCH_COMMITS` set the sizes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tarn_adapter_local::LocalBlockStore;
use tarn_adapter_memory::{
    MemoryMultipartStore, MemoryRefStore, MemoryStagingStore, SystemClock, UniqueIds,
};
use tarn_adapter_sql::testing::{fresh_postgres_database, postgres_url_or_skip};
use tarn_adapter_sql::{Backend, SqlStore};
use tarn_domain::{CommitRequest, Engine, EngineSettings, ListRequest, LogRequest, Stores};
use tarn_model::{
    BlockKey, Branch, BranchName, Entry, ObjectPath, PhysicalAddress, RepositoryId, StagedValue,
    StorageNamespace, Timestamp,
};
use tarn_ports::{BlockStore, StagingEntry};

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

fn staged_key(i: usize) -> String {
    format!("folder-{:04}/object-{i:07}.json", i / 1000)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Side {
    name: &'static str,
    engine: Engine,
}

async fn engine(blocks: Arc<dyn BlockStore>, backend: Option<Backend>) -> Engine {
    let settings = EngineSettings {
        cache_bytes: 256 << 20,
        ..EngineSettings::default()
    };
    let stores = match backend {
        None => Stores {
            blocks,
            refs: Arc::new(MemoryRefStore::new()),
            staging: Arc::new(MemoryStagingStore::new()),
            multipart: Arc::new(MemoryMultipartStore::new()),
            clock: Arc::new(SystemClock::new()),
            ids: Arc::new(UniqueIds::new()),
        },
        Some(backend) => {
            let sql = Arc::new(SqlStore::open(&backend).await.unwrap());
            Stores {
                blocks,
                refs: sql.clone(),
                staging: sql.clone(),
                multipart: sql,
                clock: Arc::new(SystemClock::new()),
                ids: Arc::new(UniqueIds::new()),
            }
        }
    };
    Engine::new(stores, settings)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and
    // then a small run checks that the benchmark still works.
    let full = std::env::args().any(|a| a == "--bench");
    let size = |var: &str, full_size: usize, small: usize| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if full { full_size } else { small })
    };
    let staged = size("TARN_BENCH_STAGED", 1_000_000, 20_000);
    let commits = size("TARN_BENCH_COMMITS", 100_000, 2_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(staged, commits));
}

async fn run(staged: usize, commits: usize) {
    // Under make, a missing server fails the run; a bare cargo skips it.
    let Some(url) = postgres_url_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Tree files on tmpfs where there is one: building a long history
    // (setup, not measured) then costs no fsyncs.
    let tree_dir = match tempfile::Builder::new().tempdir_in("/dev/shm") {
        Ok(d) => d,
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let blocks: Arc<dyn BlockStore> =
        Arc::new(LocalBlockStore::open(tree_dir.path()).await.unwrap());
    let sides = vec![
        Side {
            name: "memory",
            engine: engine(blocks.clone(), None).await,
        },
        Side {
            name: "sqlite",
            engine: engine(
                blocks.clone(),
                Some(Backend::Sqlite {
                    path: dir.path().join("tarn.db"),
                    max_connections: 8,
                    cache_bytes: tarn_adapter_sql::DEFAULT_SQLITE_CACHE_BYTES,
                }),
            )
            .await,
        },
        Side {
            name: "postgres",
            engine: engine(
                blocks.clone(),
                Some(Backend::Postgres {
                    connection_string: fresh_postgres_database(&url).await.unwrap(),
                    max_connections: 16,
                    ca_file: None,
                }),
            )
            .await,
        },
    ];
    println!(
        "history benchmarks: memory (baseline), SQLite and PostgreSQL metadata, local block store"
    );
    staging(&sides, staged).await;
    history(&sides, commits).await;
}

async fn create(engine: &Engine, name: &str) -> RepositoryId {
    let id = RepositoryId::new(name).unwrap();
    let ns = StorageNamespace::new(format!("local://{name}")).unwrap();
    engine
        .create_repository(id.clone(), ns, b("main"))
        .await
        .unwrap();
    id
}

/// The best of five listings.
async fn page(engine: &Engine, repo: &RepositoryId, req: &ListRequest, want: usize) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let got = engine.list_objects(repo, "main", req).await.unwrap();
        best = best.min(t.elapsed());
        assert_eq!(got.items.len(), want, "{req:?}");
    }
    best
}

async fn staging(sides: &[Side], staged: usize) {
    let folders = staged / 1000;
    let cases = [
        (
            "no delimiter, from the middle",
            ListRequest {
                prefix: String::new(),
                after: Some(staged_key(staged / 2)),
                amount: 1000,
                delimiter: None,
            },
            1000.min(staged / 2 - 1),
        ),
        (
            "delimiter /, the folders",
            ListRequest {
                prefix: String::new(),
                after: None,
                amount: 1000,
                delimiter: Some("/".into()),
            },
            folders.min(1000),
        ),
        (
            "delimiter /, inside a folder",
            ListRequest {
                prefix: format!("folder-{:04}/", folders / 2),
                after: None,
                amount: 1000,
                delimiter: Some("/".into()),
            },
            1000,
        ),
    ];
    let mut rows: Vec<(String, Vec<f64>)> =
        cases.iter().map(|c| (c.0.to_owned(), vec![])).collect();
    for side in sides {
        let repo = create(&side.engine, &format!("staged-{}", side.name)).await;
        let token = side
            .engine
            .get_branch(&repo, &b("main"))
            .await
            .unwrap()
            .staging_token;
        let t = Instant::now();
        let mut batch: Vec<StagingEntry> = Vec::with_capacity(10_000);
        for i in 0..staged {
            batch.push((
                ObjectPath::new(staged_key(i)).unwrap(),
                StagedValue::Entry(entry(i)),
            ));
            if batch.len() == batch.capacity() || i + 1 == staged {
                side.engine
                    .stores()
                    .staging
                    .put_many(&token, &batch)
                    .await
                    .unwrap();
                batch.clear();
            }
        }
        println!(
            "  {}: staged {staged} objects in {:.1} s",
            side.name,
            t.elapsed().as_secs_f64()
        );
        for (i, (_, req, want)) in cases.iter().enumerate() {
            rows[i]
                .1
                .push(ms(page(&side.engine, &repo, req, *want).await));
        }
    }
    println!("list a page of 1,000 of {staged} uncommitted objects (best of 5; goal < 50 ms on SQLite and PostgreSQL):");
    for (label, t) in rows {
        println!(
            "  {label:<32} memory {:>8.2} ms  sqlite {:>8.2} ms ({:.1}x)  postgres {:>8.2} ms ({:.1}x)",
            t[0],
            t[1],
            t[1] / t[0],
            t[2],
            t[2] / t[0]
        );
    }
}

/// Builds a history of `commits` commits on the memory side; copies the
/// records (their trees are in the shared block store) to the others.
async fn history(sides: &[Side], commits: usize) {
    let memory = &sides[0].engine;
    let repo = create(memory, "history").await;
    let rare_every = (commits / 100).max(1);
    let t = Instant::now();
    for i in 0..commits {
        let token = memory
            .get_branch(&repo, &b("main"))
            .await
            .unwrap()
            .staging_token;
        let mut batch = vec![(
            ObjectPath::new(format!("data/part-{:04}.parquet", i % 100)).unwrap(),
            StagedValue::Entry(entry(i)),
        )];
        if i % rare_every == rare_every / 2 {
            batch.push((
                ObjectPath::new(format!("rare/file-{i:07}")).unwrap(),
                StagedValue::Entry(entry(i)),
            ));
        }
        memory
            .stores()
            .staging
            .put_many(&token, &batch)
            .await
            .unwrap();
        let req = CommitRequest {
            message: format!("commit {i}"),
            committer: "bench".into(),
            ..Default::default()
        };
        memory.commit(&repo, &b("main"), req).await.unwrap();
    }
    println!(
        "  built a history of {commits} commits in {:.1} s ({:.0} commits/s, memory metadata)",
        t.elapsed().as_secs_f64(),
        commits as f64 / t.elapsed().as_secs_f64()
    );
    let head = memory
        .get_branch(&repo, &b("main"))
        .await
        .unwrap()
        .commit_id;
    let mut records = Vec::with_capacity(commits + 1);
    let mut after = None;
    loop {
        let page = memory
            .stores()
            .refs
            .list_commits(&repo, after.as_ref(), 10_000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        records.extend(page);
    }
    // With the summaries they were stored with.
    let mut summaries = std::collections::HashMap::new();
    let mut after: Option<(u64, tarn_model::CommitId)> = None;
    loop {
        let page = memory
            .stores()
            .refs
            .commit_links(&repo, after.as_ref().map(|(g, id)| (*g, id)), 10_000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.generation, last.id.clone()));
        summaries.extend(page.into_iter().filter_map(|l| Some((l.id, l.summary?))));
    }
    println!(
        "  {} of {} commits carry a summary of their changes",
        summaries.len(),
        records.len()
    );
    for side in &sides[1..] {
        let t = Instant::now();
        // The same repository, its trees in the same namespace.
        let r = memory.get_repository(&repo).await.unwrap();
        side.engine
            .stores()
            .refs
            .create_bare_repository(&r)
            .await
            .unwrap();
        let r = r.id;
        for c in &records {
            let refs = &side.engine.stores().refs;
            match summaries.get(&c.id) {
                Some(s) => refs.put_commit_with_summary(&r, c, s).await.unwrap(),
                None => refs.put_commit(&r, c).await.unwrap(),
            }
        }
        let branch = Branch {
            name: b("history"),
            commit_id: head.clone(),
            staging_token: tarn_model::StagingToken::new("history-token").unwrap(),
            sealed_tokens: Vec::new(),
            hidden: false,
        };
        side.engine
            .stores()
            .refs
            .create_branch(&r, &branch)
            .await
            .unwrap();
        println!(
            "  {}: loaded {} commit records in {:.1} s",
            side.name,
            records.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let rare = rare_every / 2 + rare_every * 50.min(commits / rare_every / 2);
    let cases = [
        (
            "no filter, a page of 100",
            LogRequest {
                amount: 100,
                ..Default::default()
            },
            100,
        ),
        (
            "one object changed by 1 commit",
            LogRequest {
                amount: 100,
                objects: vec![ObjectPath::new(format!("rare/file-{rare:07}")).unwrap()],
                ..Default::default()
            },
            1,
        ),
        (
            "a prefix changed by 1% of commits",
            LogRequest {
                amount: 100,
                prefixes: vec!["rare/".into()],
                ..Default::default()
            },
            100.min(commits / rare_every),
        ),
    ];
    println!(
        "log of a {commits}-commit history, first page, a fresh engine (nothing cached; best of 3; goal < 1 s):"
    );
    for (label, req, want) in cases {
        let mut t = Vec::new();
        for (i, side) in sides.iter().enumerate() {
            let reference = if i == 0 { "main" } else { "history" };
            let mut best = Duration::MAX;
            for _ in 0..3 {
                // A fresh engine: nothing of the history in its caches.
                let fresh = Engine::new(side.engine.stores().clone(), EngineSettings::default());
                let start = Instant::now();
                let page = fresh.log(&repo, reference, &req).await.unwrap();
                best = best.min(start.elapsed());
                assert_eq!(page.items.len(), want, "{label} on {}", side.name);
            }
            t.push(ms(best));
        }
        println!(
            "  {label:<36} memory {:>8.1} ms  sqlite {:>8.1} ms  postgres {:>8.1} ms",
            t[0], t[1], t[2]
        );
    }
}
