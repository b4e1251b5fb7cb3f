//! Memory under steady commits (`make bench`): the release binary on the
//! quickstart default (SQLite + local disk) takes 10 minutes of mixed work —
//! 6 clients uploading through the gateway, 2 loops of "upload 10 objects
//! and commit" through the API, and 1 client reading and listing committed
//! data — while its resident memory is sampled. The tree cache is bounded by
//! the memory it holds (`cache.trees_bytes`); the figures show RSS
//! plateauing under that budget plus the server's own overhead, instead of
//! growing with the number of commits.
//!
//! `TARN_BENCH_SOAK_SECS` sets the duration (default 600 under `cargo
//! bench`; 15 under `cargo test --all-targets`, which passes no `--bench`:
//! a smoke run);
//! `TARN_BENCH_SOAK_TREES_BYTES` the tree cache budget (default: the
//! server's default, 128 MiB). Any other `TARN_*` variable reaches the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::{create_repository, rss_kib, signed, start_with, KEY, SECRET};

/// What the server may hold beyond its caches' byte budgets: the runtime
/// and its threads (tokio's blocking pool grows to ~90 here), the HTTP
/// stacks, buffers of requests in flight, the commit and auth caches
/// (bounded by entries), and pages jemalloc keeps for ~10 s after a free.
const OVERHEAD_MIB: u64 = 96;
/// SQLite's page caches, all connections together (the default).
const SQLITE_CACHE_MIB: u64 = 64;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn put(http: &reqwest::Client, url: &str, body: Vec<u8>) {
    let resp = signed(http, reqwest::Method::PUT, url)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "PUT {url}: {:?}", resp.text().await);
}

async fn api(http: &reqwest::Client, method: reqwest::Method, url: String) -> reqwest::Response {
    http.request(method, url)
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let secs = env_u64("TARN_BENCH_SOAK_SECS", if full { 600 } else { 15 });
    let trees_mib = env_u64("TARN_BENCH_SOAK_TREES_BYTES", 128 << 20) >> 20;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start_with(
        &dir.path().join("tarn"),
        &[
            ("TARN_CACHE__TREES_BYTES", (trees_mib << 20).to_string()),
            (
                "TARN_DATABASE__SQLITE__CACHE_BYTES",
                (SQLITE_CACHE_MIB << 20).to_string(),
            ),
        ],
    );
    let pid = child.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    rt.block_on(async {
        create_repository(&http, &url, "soak").await;
        for b in ["c0", "c1"] {
            let resp = http
                .post(format!("{url}/api/v1/repositories/soak/branches"))
                .basic_auth(KEY, Some(SECRET))
                .json(&serde_json::json!({"name": b, "source": "main"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
        }
    });
    let start_rss = rss_kib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let (uploads, commits, reads) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let deadline = Instant::now() + Duration::from_secs(secs);
    println!(
        "Soak: {secs} s of 6 uploaders, 2 upload-10-and-commit loops and a reader \
         (release binary, SQLite + local disk, cache.trees_bytes = {trees_mib} MiB, \
         database.sqlite.cache_bytes = {SQLITE_CACHE_MIB} MiB)"
    );
    println!("RSS at start {} MiB", start_rss >> 10);
    let samples = rt.block_on(async {
        let mut tasks = Vec::new();
        for u in 0..6 {
            let (http, url, stop, uploads) =
                (http.clone(), url.clone(), stop.clone(), uploads.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // Objects on main, never committed: staging grows in the
                    // database, not in the server.
                    let object = format!("{url}/soak/main/uploads/u{u}/{:04}/{i:08}", i % 1000);
                    put(&http, &object, vec![b'u'; 1024 + (i as usize % 4096)]).await;
                    uploads.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            }));
        }
        for c in 0..2 {
            let (http, url, stop, commits) =
                (http.clone(), url.clone(), stop.clone(), commits.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for k in 0..10 {
                        // Keys spread over the tree, so commits touch many
                        // ranges, with metadata as real writers send.
                        let object = format!(
                            "{url}/soak/c{c}/tables/t{:02}/date={:04}/part-{n:08}-{k}.parquet",
                            (n * 7 + k) % 50,
                            n % 365
                        );
                        let resp = signed(&http, reqwest::Method::PUT, &object)
                            .header("x-amz-meta-writer", format!("loop-{c}"))
                            .header("x-amz-meta-batch", n.to_string())
                            .body(vec![b'c'; 2048])
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(resp.status(), 200);
                    }
                    let resp = http
                        .post(format!("{url}/api/v1/repositories/soak/branches/c{c}/commits"))
                        .basic_auth(KEY, Some(SECRET))
                        .json(&serde_json::json!({"message": format!("batch {n}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
                    commits.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            }));
        }
        {
            let (http, url, stop, reads) =
                (http.clone(), url.clone(), stop.clone(), reads.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let c = n % 2;
                    let list = api(
                        &http,
                        reqwest::Method::GET,
                        format!(
                            "{url}/api/v1/repositories/soak/refs/c{c}/objects/ls?prefix=tables/t{:02}/&amount=100",
                            n % 50
                        ),
                    )
                    .await;
                    assert_eq!(list.status(), 200);
                    let log = api(
                        &http,
                        reqwest::Method::GET,
                        format!("{url}/api/v1/repositories/soak/refs/c{c}/commits?amount=20"),
                    )
                    .await;
                    assert_eq!(log.status(), 200);
                    reads.fetch_add(2, Ordering::Relaxed);
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }));
        }
        let mut samples = Vec::new();
        let t0 = Instant::now();
        let every = Duration::from_secs((secs / 20).max(1));
        while Instant::now() < deadline {
            tokio::time::sleep(every.min(deadline.saturating_duration_since(Instant::now())))
                .await;
            let rss = rss_kib(pid);
            let done = commits.load(Ordering::Relaxed);
            samples.push((t0.elapsed().as_secs(), done, rss));
            println!(
                "  {:>4} s: {:>6} commits, {:>7} uploads, {:>6} reads, RSS {:>5} MiB",
                t0.elapsed().as_secs(),
                done,
                uploads.load(Ordering::Relaxed),
                reads.load(Ordering::Relaxed),
                rss >> 10
            );
        }
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        samples
    });
    let peak = samples.iter().map(|s| s.2).max().unwrap_or(0);
    let limit_kib = (trees_mib + SQLITE_CACHE_MIB + OVERHEAD_MIB) << 10;
    println!(
        "peak RSS {} MiB (budgets: trees {trees_mib} MiB + SQLite {SQLITE_CACHE_MIB} MiB, \
         + overhead {OVERHEAD_MIB} MiB = {} MiB: {})",
        peak >> 10,
        limit_kib >> 10,
        if peak <= limit_kib {
            "within"
        } else {
            "EXCEEDED"
        },
    );
    // Levelling off: the peak of each quarter of the run, and how much it
    // grew per commit from one quarter to the next (before the caches
    // counted real memory: ~150 KiB per commit, without end).
    let quarter = samples.len().div_ceil(4).max(1);
    let quarters: Vec<(u64, u64)> = samples
        .chunks(quarter)
        .map(|q| {
            let rss = q.iter().map(|s| s.2).max().unwrap_or(0);
            (rss, q.last().map_or(0, |s| s.1))
        })
        .collect();
    for (n, pair) in quarters.windows(2).enumerate() {
        let ((before, c0), (after, c1)) = (pair[0], pair[1]);
        println!(
            "quarter {} -> {}: peak {} -> {} MiB over {} commits ({:+.1} KiB per commit)",
            n + 1,
            n + 2,
            before >> 10,
            after >> 10,
            c1 - c0,
            (after as f64 - before as f64) / (c1 - c0).max(1) as f64
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
