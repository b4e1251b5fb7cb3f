//! Garbage collection (`make bench`): a repository of N committed objects
//! plus N/10 garbage objects on the local store, data spread over 1,000
//! hour directories, at N = 100,000 and N = 1,000,000
//! (`TARN_BENCH_GC_OBJECTS` sets the larger). Reported, with baselines from
//! the same run:
//! - mark speed (objects listed and classified per second) against a bare
//!   listing of the same `data/` through the same store;
//! - the peak RSS of the `tarn gc run` process doing the mark (and of the
//!   one doing the sweep) at both sizes, with an 8 MiB sort budget that both
//!   sizes exceed (it must not grow with the object count);
//! - sweep deletes per second on the local store, and on an S3 server
//!   (s3s-fs) with batched `DeleteObjects` against one `DeleteObject` per
//!   key.
//!
//! Setup writes the data files directly (empty objects, in the local
//! store's layout) and commits the entries into a SQLite database; neither
//! is measured. The mark and the sweep are `tarn gc run --mark-only` and
//! `--sweep` on that data, timed from outside, so the figures are those of
//! the real binary with its whole runtime.
//! Without `--bench` (under `cargo test --all-targets`) it runs once at
//! N = 2,000 and skips S3 unless a server is at hand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use support::S3sFs;
use tarn_adapter_local::LocalBlockStore;
use tarn_adapter_memory::{SystemClock, UniqueIds};
use tarn_domain::{CommitRequest, Engine, EngineSettings, Stores};
use tarn_model::{
    BlockKey, BranchName, Entry, ObjectPath, PhysicalAddress, RepositoryId, StagedValue,
    StorageNamespace, Timestamp,
};
use tarn_ports::{BlockStore, ByteStream, StagingEntry, DELETE_BATCH};

const HOURS: u64 = 1_000;
/// The sort budget: smaller than the live set at both sizes, so that both
/// spill sorted runs and the peak shows what bounds it.
const SORT_BUDGET: usize = 8 << 20;

fn data_key(i: u64, base_hour: u64) -> String {
    format!("data/h{}/{i:026}", base_hour - HOURS + i % HOURS)
}

struct Outcome {
    n: u64,
    list_secs: f64,
    mark_secs: f64,
    sweep_secs: f64,
    scanned: u64,
    deleted: u64,
    mark_peak_mib: f64,
    sweep_peak_mib: f64,
}

/// Runs `tarn gc run <args>` on the bench's data; its stdout, wall time and
/// peak RSS (MiB).
fn gc_command(dir: &std::path::Path, args: &[&str]) -> (String, f64, f64) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let t = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tarn"))
        .args(["admin", "gc", "run", "--repository", "gcbench"])
        .args(args)
        .env("RUST_LOG", "warn")
        .env("TARN_DATABASE__TYPE", "sqlite")
        .env("TARN_DATABASE__SQLITE__PATH", dir.join("tarn.db"))
        .env("TARN_BLOCKSTORE__TYPE", "local")
        .env("TARN_BLOCKSTORE__LOCAL__PATH", dir.join("block"))
        .env("TARN_GC__GRACE_PERIOD_SECS", "0")
        .env("TARN_GC__SORT_BUDGET_BYTES", SORT_BUDGET.to_string())
        .env("TARN_JOBS__POLL_INTERVAL_MS", "50")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = support::sampler(child.id(), stop.clone(), peak.clone());
    let out = child.wait_with_output().unwrap();
    let secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    sampling.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "tarn gc run {args:?} failed:\n{stdout}"
    );
    (stdout, secs, peak.load(Ordering::SeqCst) as f64 / 1024.0)
}

async fn run(n: u64) -> Outcome {
    let garbage = n / 10;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("block");
    let sql = Arc::new(
        tarn_adapter_sql::SqlStore::open(&tarn_adapter_sql::Backend::Sqlite {
            path: dir.path().join("tarn.db"),
            max_connections: 4,
            cache_bytes: 64 << 20,
        })
        .await
        .unwrap(),
    );
    let stores = Stores {
        blocks: Arc::new(LocalBlockStore::open(&root).await.unwrap()),
        refs: sql.clone(),
        staging: sql.clone(),
        multipart: sql,
        clock: Arc::new(SystemClock::new()),
        ids: Arc::new(UniqueIds::new()),
    };
    let engine = Engine::new(stores, EngineSettings::default());
    let repo = RepositoryId::new("gcbench").unwrap();
    let ns = StorageNamespace::new("local://gcbench").unwrap();
    let main = BranchName::new("main").unwrap();
    engine
        .create_repository(repo.clone(), ns.clone(), main.clone())
        .await
        .unwrap();
    let base_hour = (engine.now().unix_seconds() / 3600) as u64 - 2;

    // The files: n live, then `garbage` more; the local layout is
    // `<ns>/data/h<hour>/<id>%`.
    let ns_dir = root.join("gcbench");
    // One empty object written through the store gives the file format.
    let template_key = BlockKey::new("template").unwrap();
    engine
        .stores()
        .blocks
        .put(
            &ns,
            &template_key,
            ByteStream::from_bytes(Vec::new()),
            Some(0),
        )
        .await
        .unwrap();
    let template = std::fs::read(ns_dir.join("template%")).unwrap();
    engine
        .stores()
        .blocks
        .delete(&ns, &template_key)
        .await
        .unwrap();
    for h in 0..HOURS {
        std::fs::create_dir_all(ns_dir.join(format!("data/h{}", base_hour - HOURS + h))).unwrap();
    }
    for i in 0..n + garbage {
        std::fs::write(
            ns_dir.join(format!("{}%", data_key(i, base_hour))),
            &template,
        )
        .unwrap();
    }
    // The live ones committed on main.
    let token = engine.get_branch(&repo, &main).await.unwrap().staging_token;
    let mut batch: Vec<StagingEntry> = Vec::with_capacity(10_000);
    for i in 0..n {
        let entry = Entry {
            address: PhysicalAddress::Relative(BlockKey::new(data_key(i, base_hour)).unwrap()),
            size: 0,
            checksum: format!("{i:032x}"),
            last_modified: Timestamp::from_unix_seconds(1_700_000_000),
            content_type: None,
            metadata: BTreeMap::new(),
            tags: BTreeMap::new(),
        };
        let path = format!("tables/t{:03}/part-{i:08}.parquet", i % 100);
        batch.push((ObjectPath::new(path).unwrap(), StagedValue::Entry(entry)));
        if batch.len() == 10_000 {
            engine
                .stores()
                .staging
                .put_many(&token, &batch)
                .await
                .unwrap();
            batch.clear();
        }
    }
    engine
        .stores()
        .staging
        .put_many(&token, &batch)
        .await
        .unwrap();
    drop(batch);
    let req = CommitRequest {
        message: "all".into(),
        committer: "bench".into(),
        ..Default::default()
    };
    engine.commit(&repo, &main, req).await.unwrap();

    // Baseline: a bare listing of data/ through the same store.
    let blocks = engine.stores().blocks.clone();
    let t = Instant::now();
    let mut listed = 0u64;
    let mut after: Option<BlockKey> = None;
    loop {
        let page = blocks
            .list(&ns, "data/", after.as_ref(), 1000)
            .await
            .unwrap();
        listed += page.len() as u64;
        after = page.last().map(|b| b.key.clone());
        if page.len() < 1000 {
            break;
        }
    }
    let list_secs = t.elapsed().as_secs_f64();
    assert_eq!(listed, n + garbage);

    drop(engine);
    let (marked, mark_secs, mark_peak) = gc_command(dir.path(), &["--mark-only"]);
    let run_id = marked
        .lines()
        .find_map(|l| l.strip_prefix("gc run ")?.split_whitespace().next())
        .unwrap()
        .to_owned();
    let count = |out: &str, what: &str| -> u64 {
        out.lines()
            .find_map(|l| l.trim_start().strip_prefix(what))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {what} in:\n{out}"))
    };
    assert_eq!(count(&marked, "scanned"), n + garbage, "{marked}");
    assert_eq!(count(&marked, "garbage"), garbage, "{marked}");
    let (swept, sweep_secs, sweep_peak) = gc_command(dir.path(), &["--sweep", &run_id]);
    assert_eq!(count(&swept, "deleted"), garbage, "{swept}");
    Outcome {
        n,
        list_secs,
        mark_secs,
        sweep_secs,
        scanned: n + garbage,
        deleted: garbage,
        mark_peak_mib: mark_peak,
        sweep_peak_mib: sweep_peak,
    }
}

/// Deletes `count` objects from an S3 server: one `DeleteObject` each, then
/// (for as many again) `delete_many` batches; keys per second of each.
async fn s3_deletes(store: &dyn BlockStore, ns: &StorageNamespace, count: usize) -> (f64, f64) {
    let put_all = |prefix: &'static str| async move {
        let keys: Vec<BlockKey> = (0..count)
            .map(|i| BlockKey::new(format!("{prefix}/{i:08}")).unwrap())
            .collect();
        for chunk in keys.chunks(64) {
            let puts = chunk
                .iter()
                .map(|k| store.put(ns, k, ByteStream::from_bytes(b"x".to_vec()), Some(1)));
            for r in futures::future::join_all(puts).await {
                r.unwrap();
            }
        }
        keys
    };
    let one = put_all("one").await;
    let t = Instant::now();
    for k in &one {
        store.delete(ns, k).await.unwrap();
    }
    let single = count as f64 / t.elapsed().as_secs_f64();
    let many = put_all("many").await;
    let t = Instant::now();
    for chunk in many.chunks(DELETE_BATCH) {
        store.delete_many(ns, chunk).await.unwrap();
    }
    let batched = count as f64 / t.elapsed().as_secs_f64();
    let left = store.list(ns, "", None, 10).await.unwrap();
    assert!(left.is_empty(), "every key deleted");
    (single, batched)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let large: u64 = std::env::var("TARN_BENCH_GC_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let sizes: Vec<u64> = if full {
        vec![100_000, large]
    } else {
        vec![2_000]
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "garbage collection on the local store (N committed objects + N/10 garbage, {HOURS} hour directories, 2 workers)"
    );
    let mut peaks = Vec::new();
    for n in sizes {
        let o = rt.block_on(run(n));
        let mark_rate = o.scanned as f64 / o.mark_secs;
        let list_rate = o.scanned as f64 / o.list_secs;
        println!(
            "N = {:>9}: tarn gc run --mark-only {:>9.0} objects/s ({:.2}x a bare listing at {:.0}/s; goal >= 100,000/s), \
             peak RSS {:.1} MiB (sort budget {} MiB; goal < 256 MiB); --sweep {:>7.0} deletes/s on local, peak RSS {:.1} MiB",
            o.n,
            mark_rate,
            mark_rate / list_rate,
            list_rate,
            o.mark_peak_mib,
            SORT_BUDGET >> 20,
            o.deleted as f64 / o.sweep_secs,
            o.sweep_peak_mib,
        );
        peaks.push((o.n, o.mark_peak_mib));
    }
    if let [(n1, p1), (n2, p2)] = peaks[..] {
        println!(
            "peak RSS at N = {n2} is {:.2}x that at N = {n1} ({}x the objects)",
            p2 / p1.max(0.1),
            n2 / n1
        );
    }

    // Sweeps on S3: batched DeleteObjects against one DeleteObject per key.
    let dir = tempfile::tempdir().unwrap();
    let s3s = S3sFs::start(&dir.path().join("s3s"));
    let http = reqwest::Client::new();
    let (settings, bucket, server) = match &s3s {
        Some(s) => {
            rt.block_on(s.create_bucket(&http, "gcbench"));
            let settings = tarn_adapter_s3::S3Settings {
                endpoint: Some(s.url.clone()),
                region: "us-east-1".into(),
                force_path_style: true,
                access_key_id: Some(support::KEY.into()),
                secret_access_key: Some(support::SECRET.into()),
                ..Default::default()
            };
            (settings, "gcbench".to_owned(), "s3s-fs")
        }
        None if !full => match tarn_adapter_s3::testing::test_server() {
            Some((settings, bucket)) => (settings, bucket, "the test S3 server"),
            None => {
                println!("S3 sweep: skipped (no S3 server here; `make bench` installs s3s-fs)");
                return;
            }
        },
        None => panic!("s3s-fs is not installed: `make bench` installs it"),
    };
    let count = if full { 5_000 } else { 200 };
    let (single, batched) = rt.block_on(async {
        let store = tarn_adapter_s3::S3BlockStore::connect(&settings)
            .await
            .unwrap();
        let ns = StorageNamespace::new(format!("s3://{bucket}/gc-bench-{}", std::process::id()))
            .unwrap();
        s3_deletes(&store, &ns, count).await
    });
    println!(
        "S3 sweep on {server} ({count} keys): {batched:.0} deletes/s in DeleteObjects batches vs \
         {single:.0}/s one DeleteObject each ({:.1}x)",
        batched / single
    );
}
