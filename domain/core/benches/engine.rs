//! Engine benchmarks (`make bench`): memory metadata, a local block store in a
//! temporary directory. Every figure is printed with a baseline measured in
//! the same run, as a ratio, because machines are noisy.
//!
//! `TARN_BENCH_OBJECTS` sets the large tree's size (default 1,000,000),
//! `TARN_BENCH_CACHE_MIB` the tree cache's budget (default 2048).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tarn_adapter_local::LocalBlockStore;
use tarn_adapter_memory::{
    MemoryMultipartStore, MemoryRefStore, MemoryStagingStore, SystemClock, UniqueIds,
};
use tarn_domain::{
    CommitRequest, DiffRequest, Engine, EngineSettings, ListRequest, MergeRequest, Stores,
};
use tarn_model::{
    BlockKey, BranchName, Entry, ObjectPath, PhysicalAddress, RepositoryId, StagedValue,
    StorageNamespace, Timestamp,
};
use tarn_ports::StagingEntry;

const SMALL: usize = 1_000;
const CHANGES: usize = 1_000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn key(i: usize) -> String {
    format!("tables/events/date={:04}/part-{i:08}.parquet", i / 10_000)
}

fn entry(i: usize, version: u32) -> Entry {
    Entry {
        address: PhysicalAddress::Relative(
            BlockKey::new(format!("data/g{version}/{i:010}")).unwrap(),
        ),
        size: 1_000 + i as u64,
        checksum: format!("{:032x}", (i as u128) << 8 | u128::from(version)),
        last_modified: Timestamp::from_unix_seconds(1_700_000_000),
        content_type: Some("application/octet-stream".into()),
        metadata: BTreeMap::new(),
        tags: Default::default(),
    }
}

/// `CHANGES` distinct indices below `size`, one at a random place in each of
/// `CHANGES` equal slices: spread over the whole key space.
fn spread(rng: &mut Rng, size: usize) -> impl Iterator<Item = usize> + '_ {
    let slice = (size / CHANGES).max(1);
    (0..CHANGES).map(move |k| k * slice + rng.below(slice))
}

fn b(s: &str) -> BranchName {
    BranchName::new(s).unwrap()
}

struct Bench {
    engine: Engine,
    dir: tempfile::TempDir,
}

/// Bytes of the files under `dir` (tree files are never rewritten: what a
/// commit adds is what it wrote).
fn bytes_under(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => bytes_under(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// The most memory this process has held (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

impl Bench {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let stores = Stores {
            blocks: Arc::new(LocalBlockStore::open(dir.path()).await.unwrap()),
            refs: Arc::new(MemoryRefStore::new()),
            staging: Arc::new(MemoryStagingStore::new()),
            multipart: Arc::new(MemoryMultipartStore::new()),
            clock: Arc::new(SystemClock::new()),
            ids: Arc::new(UniqueIds::new()),
        };
        // At 10M objects the ranges take about 1.6 GB cached, more than the
        // default budget gives ranges (80% of 2 GiB): a cache that holds
        // the tree there needs TARN_BENCH_CACHE_MIB=4096.
        let cache_mib: u64 = std::env::var("TARN_BENCH_CACHE_MIB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2048);
        let settings = EngineSettings {
            cache_bytes: cache_mib << 20,
            ..EngineSettings::default()
        };
        Self {
            engine: Engine::new(stores, settings),
            dir,
        }
    }

    async fn repo(&self, name: &str) -> RepositoryId {
        let id = RepositoryId::new(name).unwrap();
        let ns = StorageNamespace::new(format!("local://{name}")).unwrap();
        self.engine
            .create_repository(id.clone(), ns, b("main"))
            .await
            .unwrap();
        id
    }

    /// Stages entries straight into the branch's token (setup, not measured).
    async fn stage(
        &self,
        repo: &RepositoryId,
        branch: &str,
        entries: impl Iterator<Item = (String, Entry)>,
    ) {
        let token = self
            .engine
            .get_branch(repo, &b(branch))
            .await
            .unwrap()
            .staging_token;
        let mut batch: Vec<StagingEntry> = Vec::with_capacity(10_000);
        for (path, e) in entries {
            batch.push((ObjectPath::new(path).unwrap(), StagedValue::Entry(e)));
            if batch.len() == 10_000 {
                self.engine
                    .stores()
                    .staging
                    .put_many(&token, &batch)
                    .await
                    .unwrap();
                batch.clear();
            }
        }
        self.engine
            .stores()
            .staging
            .put_many(&token, &batch)
            .await
            .unwrap();
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
}

/// Range-file reads so far (misses of the range cache).
fn ranges_read(engine: &Engine) -> u64 {
    engine
        .cache_stats()
        .iter()
        .filter(|s| s.cache == "ranges")
        .map(|s| s.misses)
        .sum()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and
    // then a small run checks that the benchmark still works.
    let full = std::env::args().any(|a| a == "--bench");
    let large: usize = std::env::var("TARN_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 1_000_000 } else { 20_000 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(large));
}

async fn run(large: usize) {
    let bench = Bench::new().await;
    println!("engine benchmarks: memory metadata, local block store; large tree = {large} objects");

    // 1. Bulk commits: per-entry cost at a tenth of the size is the baseline.
    let tenth = bench.repo("tenth").await;
    bench
        .stage(
            &tenth,
            "main",
            (0..large / 10).map(|i| (key(i), entry(i, 0))),
        )
        .await;
    let t_tenth = bench.commit(&tenth, "main").await;
    let big = bench.repo("large").await;
    let t_build = Instant::now();
    bench
        .stage(&big, "main", (0..large).map(|i| (key(i), entry(i, 0))))
        .await;
    let t_large = bench.commit(&big, "main").await;
    println!(
        "built a {large}-object tree through the engine (staged, then committed) in {:.1} s; peak RSS so far {:.0} MiB; tree files {:.0} MiB",
        t_build.elapsed().as_secs_f64(),
        peak_rss_mib(),
        bytes_under(bench.dir.path()) as f64 / f64::from(1 << 20)
    );
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "commit {:>9} staged objects: {:>8.0} ms  {:>9.0} entries/s",
        large / 10,
        ms(t_tenth),
        rate(large / 10, t_tenth)
    );
    println!(
        "commit {:>9} staged objects: {:>8.0} ms  {:>9.0} entries/s  (per-entry cost vs {}: {:.2}x; goal for 1M: < 5000 ms)",
        large,
        ms(t_large),
        rate(large, t_large),
        large / 10,
        rate(large / 10, t_tenth) / rate(large, t_large)
    );

    // 2. 1,000 changes onto a large vs a small tree.
    let small = bench.repo("small").await;
    bench
        .stage(&small, "main", (0..SMALL).map(|i| (key(i), entry(i, 0))))
        .await;
    bench.commit(&small, "main").await;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (label, clustered) in [
        ("clustered (one new partition)", true),
        ("random (updates across the tree)", false),
    ] {
        let mut times = Vec::new();
        let mut written = Vec::new();
        for (repo, size) in [(&small, SMALL), (&big, large)] {
            let round = if clustered { 1 } else { 2 };
            let changes: Vec<(String, Entry)> = if clustered {
                (0..CHANGES)
                    .map(|i| {
                        (
                            format!("tables/events/new-{round}/part-{i:05}"),
                            entry(i, round),
                        )
                    })
                    .collect()
            } else {
                spread(&mut rng, size)
                    .map(|i| (key(i), entry(i, round)))
                    .collect()
            };
            bench.stage(repo, "main", changes.into_iter()).await;
            let before = bytes_under(bench.dir.path());
            times.push(bench.commit(repo, "main").await);
            written.push(bytes_under(bench.dir.path()).saturating_sub(before));
        }
        println!(
            "commit 1,000 {label}: onto {SMALL}: {:.1} ms, onto {large}: {:.1} ms  ratio {:.2}x (goal <= 2); tree bytes written {:.2} MB vs {:.2} MB",
            ms(times[0]),
            ms(times[1]),
            times[1].as_secs_f64() / times[0].as_secs_f64(),
            written[0] as f64 / 1e6,
            written[1] as f64 / 1e6
        );
    }

    // 3. Diff and merge of 1,000 changes between two commits, large vs small.
    // Each diff reads records its changes' ranges hold, which nothing has
    // read before (the changes are fresh and spread over the tree): the
    // two-dot diff gets changes of its own, so it reads cold too.
    let mut diff3_times = Vec::new();
    let mut diff2_times = Vec::new();
    let mut diff3_warm = Vec::new();
    let mut diff2_warm = Vec::new();
    let mut merge_times = Vec::new();
    let mut described = Vec::new();
    let mut cold_reads = Vec::new();
    for (repo, size) in [(&small, SMALL), (&big, large)] {
        for (branch, three_dot) in [("dev", true), ("dev2", false)] {
            bench
                .engine
                .create_branch(repo, b(branch), "main")
                .await
                .unwrap();
            let changes: Vec<usize> = spread(&mut rng, size).collect();
            let version = if three_dot { 6 } else { 7 };
            bench
                .stage(
                    repo,
                    branch,
                    changes.into_iter().map(|i| (key(i), entry(i, version))),
                )
                .await;
            bench.commit(repo, branch).await;
            // Main moves too, elsewhere, so the merge is a real three-way
            // merge (and the two-dot diff sees main's change as well).
            let round = if three_dot { 8 } else { 9 };
            bench
                .stage(
                    repo,
                    "main",
                    (0..10).map(|i| (format!("other/{round}/{i}"), entry(i, round))),
                )
                .await;
            bench.commit(repo, "main").await;
            // Both commits asked for their trees' base values, written in
            // the background (reading past the range cache); wait for them,
            // as a diff a little after a commit finds them.
            let t = Instant::now();
            bench.engine.layers_described().await;
            described.push(t.elapsed());
            let req = DiffRequest {
                amount: 1000,
                ..Default::default()
            };
            let before = ranges_read(&bench.engine);
            let t = Instant::now();
            let page = bench
                .engine
                .diff_refs(repo, "main", branch, three_dot, &req)
                .await
                .unwrap();
            let took = t.elapsed();
            cold_reads.push(ranges_read(&bench.engine) - before);
            assert_eq!(
                page.items.len(),
                CHANGES,
                "the diff finds a page of changes"
            );
            // The same diff again, now that the ranges it read are cached
            // (as a repository's hot tree is when the cache holds it): the
            // best of 3, as one run of a few milliseconds swings.
            let mut warm = Duration::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                let again = bench
                    .engine
                    .diff_refs(repo, "main", branch, three_dot, &req)
                    .await
                    .unwrap();
                warm = warm.min(t.elapsed());
                assert_eq!(again.items.len(), CHANGES);
            }
            if !three_dot {
                diff2_times.push(took);
                diff2_warm.push(warm);
                continue;
            }
            diff3_times.push(took);
            diff3_warm.push(warm);
            let t = Instant::now();
            bench
                .engine
                .merge(repo, branch, &b("main"), MergeRequest::default())
                .await
                .unwrap();
            merge_times.push(t.elapsed());
        }
    }
    for (label, times) in [
        ("diff  1,000 changes (three-dot)", &diff3_times),
        ("diff  1,000 changes (two-dot)", &diff2_times),
        (
            "diff  1,000 changes (three-dot, warm, best of 3)",
            &diff3_warm,
        ),
        (
            "diff  1,000 changes (two-dot, warm, best of 3)",
            &diff2_warm,
        ),
        ("merge 1,000 changes", &merge_times),
    ] {
        println!(
            "{label}: {SMALL}-object trees {:.1} ms, {large}-object trees {:.1} ms  ratio {:.2}x (goal < 100 ms, <= 2x)",
            ms(times[0]),
            ms(times[1]),
            times[1].as_secs_f64() / times[0].as_secs_f64()
        );
    }

    let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    println!(
        "ranges the cold diffs read (three-dot, two-dot): {SMALL}-object trees {}, {}; {large}-object trees {}, {}; base values of the two commits before each diff written in the background in {}",
        at(&cold_reads, 0),
        at(&cold_reads, 1),
        at(&cold_reads, 2),
        at(&cold_reads, 3),
        described
            .iter()
            .map(|d| format!("{:.1} ms", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 3b. Scattered commits grow the layer (a commit rewrites the layer
    // file, so its cost grows with the layer) until it is worth compacting;
    // then compaction, off the commit path, and a scattered commit after it.
    let mut grown = Vec::new();
    for round in 11..14 {
        let changes: Vec<(String, Entry)> = spread(&mut rng, large)
            .map(|i| (key(i), entry(i, round)))
            .collect();
        bench.stage(&big, "main", changes.into_iter()).await;
        grown.push(format!("{:.1}", ms(bench.commit(&big, "main").await)));
    }
    println!(
        "commits of 1,000 scattered changes onto a growing layer of {large}: {} ms",
        grown.join(", ")
    );
    let t = Instant::now();
    let report = bench
        .engine
        .compact_trees(&big, &mut |_, _| true)
        .await
        .unwrap();
    let t_compact = t.elapsed();
    let changes: Vec<(String, Entry)> = spread(&mut rng, large)
        .map(|i| (key(i), entry(i, 10)))
        .collect();
    bench.stage(&big, "main", changes.into_iter()).await;
    let t_after = bench.commit(&big, "main").await;
    println!(
        "compaction of the {large}-object tree's layer ({} records, {} folded): {:.0} ms in the background; a commit of 1,000 scattered changes after it: {:.1} ms",
        report.records,
        report.folded,
        ms(t_compact),
        ms(t_after)
    );

    // 4. Stat of random committed paths with a warm cache, one task.
    let head = bench
        .engine
        .get_commit(&big, "main")
        .await
        .unwrap()
        .id
        .to_string();
    let paths: Vec<ObjectPath> = (0..200_000)
        .map(|_| ObjectPath::new(key(rng.below(large))).unwrap())
        .collect();
    // Warm: every range these paths fall in is read once (at 10M objects a
    // sample of them would leave thousands of ranges unread).
    for p in &paths {
        bench.engine.stat_object(&big, &head, p).await.unwrap();
    }
    // The best of three passes each, as for the listings below: one pass
    // swings by a fifth from run to run on a busy machine.
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for p in &paths {
            bench.engine.stat_object(&big, &head, p).await.unwrap();
        }
        best = best.min(t.elapsed());
    }
    let engine_rate = rate(paths.len(), best);
    let map: BTreeMap<String, Entry> = (0..large).map(|i| (key(i), entry(i, 0))).collect();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for p in &paths {
            std::hint::black_box(map.get(p.as_str()).cloned().unwrap());
        }
        best = best.min(t.elapsed());
    }
    let map_rate = rate(paths.len(), best);
    println!(
        "stat (warm cache, one task, best of 3 passes): {engine_rate:.0} lookups/s; in-process BTreeMap baseline {map_rate:.0}/s ({:.1}% of it; goal >= 200k/s)",
        engine_rate / map_rate * 100.0
    );

    // Cold: an engine with nothing cached reads tree files to find a path.
    let cold = Engine::new(bench.engine.stores().clone(), EngineSettings::default());
    let misses = |e: &Engine| -> u64 {
        e.cache_stats()
            .iter()
            .filter(|s| s.cache == "ranges" || s.cache == "metaranges")
            .map(|s| s.misses)
            .sum()
    };
    let t = Instant::now();
    cold.stat_object(&big, &head, &paths[0]).await.unwrap();
    println!(
        "stat with a cold cache: {} tree-file reads, {:.2} ms (goal: at most 3 reads)",
        misses(&cold),
        ms(t.elapsed())
    );

    // 5. Listing 1,000 entries from the middle of the large tree.
    let t_small = list(&bench.engine, &small, "main", None).await;
    let t_mid = list(&bench.engine, &big, &head, Some(key(large / 2))).await;
    println!(
        "list 1,000 from the middle of {large}: {:.2} ms; whole {SMALL}-object tree: {:.2} ms  ratio {:.2}x (goal < 5 ms)",
        ms(t_mid),
        ms(t_small),
        t_mid.as_secs_f64() / t_small.as_secs_f64()
    );
}

/// The best of 20 listings of 1,000 entries.
async fn list(
    engine: &Engine,
    repo: &RepositoryId,
    reference: &str,
    after: Option<String>,
) -> Duration {
    let req = ListRequest {
        prefix: String::new(),
        after,
        amount: 1000,
        delimiter: None,
    };
    let mut best = Duration::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        let page = engine.list_objects(repo, reference, &req).await.unwrap();
        best = best.min(t.elapsed());
        assert_eq!(page.items.len(), 1000);
    }
    best
}
