//! Zero-copy import (`make bench`): N objects imported into a branch of a
//! running `tarn run` (SQLite metadata) through lakeFS's `importStart`, at
//! N = 100,000 and N = 1,000,000 (`TARN_BENCH_IMPORT_OBJECTS` sets the
//! larger), from two sources:
//! - a local directory (`local:///…`, imports enabled), 1,000 files per
//!   subdirectory;
//! - the S3 test server (s3s-fs), as 1,000-object buckets, all imported
//!   by one request with a path per bucket. s3s-fs walks the whole bucket
//!   for every ListObjectsV2 page, so one bucket of a million objects would
//!   take it a million-squared steps; buckets of 1,000 keep its listing
//!   linear, and the baseline lists exactly the same buckets.
//!
//! Reported, with baselines from the same run:
//! - objects imported per second (from the request to the job's
//!   completion, as a client sees it) against a bare listing of the same
//!   source through the same store adapter (page size 1,000, as the import
//!   lists); goals: >= 50,000/s from local, >= 50% of the listing rate
//!   from S3;
//! - the server's peak RSS during the import, and at rest before it (goal:
//!   < 256 MiB, flat from 100k to 1M);
//! - the first commit on the branch after the import (one changed object),
//!   against the same commit on a branch of a few objects on the same
//!   server.
//!
//! The source objects are written directly as empty files (for s3s-fs, in
//! its directory layout); that is not measured.
//! Without `--bench` (under `cargo test --all-targets`) it runs once at
//! N = 2,000, and on S3 only when s3s-fs is installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{S3sFs, KEY, SECRET};
use tarn_model::{BlockKey, StorageNamespace};
use tarn_ports::BlockStore;

/// Objects per directory (local) or bucket (S3).
const GROUP: u64 = 1_000;
/// The page size of the import's listing and of the baseline.
const PAGE: usize = 1_000;

struct Figures {
    n: u64,
    list_secs: f64,
    import_secs: f64,
    rest_mib: f64,
    peak_mib: f64,
    commit_ms: f64,
    small_commit_ms: f64,
}

/// A place the objects come from.
enum Source {
    Local,
    /// The server and the directory it keeps its buckets in.
    S3(S3sFs, PathBuf),
}

impl Source {
    fn name(&self) -> &'static str {
        match self {
            Self::Local => "local directory",
            Self::S3(..) => "S3 (s3s-fs)",
        }
    }
}

fn s3_settings(s3s: &S3sFs) -> tarn_adapter_s3::S3Settings {
    tarn_adapter_s3::S3Settings {
        endpoint: Some(s3s.url.clone()),
        region: "us-east-1".into(),
        force_path_style: true,
        access_key_id: Some(KEY.into()),
        secret_access_key: Some(SECRET.into()),
        ..Default::default()
    }
}

/// Writes `n` empty files in groups of [`GROUP`] under `root`: group `g`
/// is `root/<group name>/data/obj-<i>.csv`. Returns the group names.
fn write_files(root: &Path, n: u64, group_name: impl Fn(u64) -> String) -> Vec<String> {
    let groups: Vec<String> = (0..n.div_ceil(GROUP)).map(group_name).collect();
    for (g, name) in groups.iter().enumerate() {
        let dir = root.join(name).join("data");
        std::fs::create_dir_all(&dir).unwrap();
        let start = g as u64 * GROUP;
        for i in start..(start + GROUP).min(n) {
            std::fs::File::create(dir.join(format!("obj-{i:07}.csv"))).unwrap();
        }
    }
    groups
}

/// Lists every `(namespace, prefix)` to the end, a page at a time; the
/// number of objects.
async fn list_all(store: &dyn BlockStore, sources: &[(StorageNamespace, String)]) -> u64 {
    let mut listed = 0u64;
    for (ns, prefix) in sources {
        let mut after: Option<BlockKey> = None;
        loop {
            let page = store.list(ns, prefix, after.as_ref(), PAGE).await.unwrap();
            listed += page.len() as u64;
            after = page.last().map(|b| b.key.clone());
            if page.len() < PAGE {
                break;
            }
        }
    }
    listed
}

fn api(http: &reqwest::Client, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
    http.request(method, url).basic_auth(KEY, Some(SECRET))
}

/// Uploads `path` with `body` to `branch` of `repo`.
async fn upload(http: &reqwest::Client, url: &str, repo: &str, branch: &str, path: &str) {
    let form = reqwest::multipart::Form::new().part(
        "content",
        reqwest::multipart::Part::bytes(path.as_bytes().to_vec()),
    );
    let resp = api(
        http,
        reqwest::Method::POST,
        &format!("{url}/api/v1/repositories/{repo}/branches/{branch}/objects?path={path}"),
    )
    .multipart(form)
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
}

/// Changes one object on `main` of `repo` and commits; the commit's
/// milliseconds.
async fn timed_commit(http: &reqwest::Client, url: &str, repo: &str, path: &str) -> f64 {
    upload(http, url, repo, "main", path).await;
    let t = Instant::now();
    let resp = api(
        http,
        reqwest::Method::POST,
        &format!("{url}/api/v1/repositories/{repo}/branches/main/commits"),
    )
    .json(&serde_json::json!({"message": format!("change {path}")}))
    .send()
    .await
    .unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    ms
}

/// Starts the import and waits for it; the objects ingested.
async fn import(http: &reqwest::Client, url: &str, paths: Vec<serde_json::Value>) -> u64 {
    let base = format!("{url}/api/v1/repositories/bench/branches/main/import");
    let resp = api(http, reqwest::Method::POST, &base)
        .json(&serde_json::json!({
            "paths": paths,
            "commit": {"message": "import"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202, "{:?}", resp.text().await);
    let id = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let status: serde_json::Value = api(http, reqwest::Method::GET, &format!("{base}?id={id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(error) = status.get("error").filter(|e| !e.is_null()) {
            panic!("the import failed: {error}");
        }
        if status["completed"] == true {
            return status["ingested_objects"].as_u64().unwrap();
        }
    }
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A source's objects, written, and how to reach them.
struct Prepared {
    /// The server's environment.
    env: Vec<(&'static str, String)>,
    /// The import's source URIs.
    uris: Vec<String>,
    /// The store adapter the baseline lists through.
    store: Arc<dyn BlockStore>,
    /// The same sources as (namespace, prefix).
    listed: Vec<(StorageNamespace, String)>,
}

async fn prepare(source: &Source, n: u64, dir: &Path, http: &reqwest::Client) -> Prepared {
    match source {
        Source::Local => {
            let root = dir.join("source");
            let groups = write_files(&root, n, |g| format!("d{g:04}"));
            let root = std::fs::canonicalize(&root).unwrap();
            let store = tarn_adapter_local::LocalBlockStore::open(&dir.join("list"))
                .await
                .unwrap()
                .with_import_prefixes(std::slice::from_ref(&root))
                .unwrap();
            let first: PathBuf = root.components().take(2).collect();
            let ns = StorageNamespace::new(format!("local://{}", first.display())).unwrap();
            let prefix = format!("{}/", root.strip_prefix(&first).unwrap().display());
            let env = vec![
                ("TARN_BLOCKSTORE__LOCAL__IMPORT_ENABLED", "true".to_owned()),
                (
                    "TARN_BLOCKSTORE__LOCAL__ALLOWED_EXTERNAL_PREFIXES",
                    root.display().to_string(),
                ),
            ];
            drop(groups);
            let uri = format!("local://{}/", root.display());
            Prepared {
                env,
                uris: vec![uri],
                store: Arc::new(store),
                listed: vec![(ns, prefix)],
            }
        }
        Source::S3(s3s, s3root) => {
            let groups = write_files(s3root, n, |g| format!("imp{n}-{g:04}"));
            s3s.create_bucket(http, &format!("bench{n}")).await;
            let settings = s3_settings(s3s);
            let store = tarn_adapter_s3::S3BlockStore::connect(&settings)
                .await
                .unwrap();
            let env = vec![
                ("TARN_BLOCKSTORE__TYPE", "s3".to_owned()),
                ("TARN_BLOCKSTORE__S3__ENDPOINT", s3s.url.clone()),
                ("TARN_BLOCKSTORE__S3__FORCE_PATH_STYLE", "true".to_owned()),
                ("TARN_BLOCKSTORE__S3__REGION", "us-east-1".to_owned()),
                (
                    "TARN_BLOCKSTORE__S3__CREDENTIALS__ACCESS_KEY_ID",
                    KEY.to_owned(),
                ),
                (
                    "TARN_BLOCKSTORE__S3__CREDENTIALS__SECRET_ACCESS_KEY",
                    SECRET.to_owned(),
                ),
            ];
            let uris = groups.iter().map(|g| format!("s3://{g}/data/")).collect();
            let listed = groups
                .iter()
                .map(|g| {
                    (
                        StorageNamespace::new(format!("s3://{g}")).unwrap(),
                        "data/".to_owned(),
                    )
                })
                .collect();
            Prepared {
                env,
                uris,
                store: Arc::new(store),
                listed,
            }
        }
    }
}

async fn run(source: &Source, n: u64) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let Prepared {
        env,
        uris,
        store,
        listed,
    } = prepare(source, n, dir.path(), &http).await;

    // Baseline: the bare listing.
    let t = Instant::now();
    assert_eq!(list_all(store.as_ref(), &listed).await, n);
    let list_secs = t.elapsed().as_secs_f64();

    let mut env = env;
    env.push(("TARN_JOBS__POLL_INTERVAL_MS", "50".to_owned()));
    let (child, url) = support::start_with(&dir.path().join("tarn"), &env);
    let server = Server { child, url };
    let ns_of = |name: &str| match source {
        Source::Local => format!("local://{name}"),
        Source::S3(..) => format!("s3://bench{n}/{name}"),
    };
    for repo in ["bench", "small"] {
        support::create_repository_at(&http, &server.url, repo, &ns_of(repo)).await;
    }
    for i in 0..3 {
        upload(&http, &server.url, "small", "main", &format!("f{i}.csv")).await;
    }
    timed_commit(&http, &server.url, "small", "f3.csv").await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.child.id();
    let rest_mib = support::rss_kib(pid) as f64 / 1024.0;
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = support::sampler(pid, stop.clone(), peak.clone());
    let paths = uris
        .iter()
        .enumerate()
        .map(|(g, uri)| {
            let destination = match source {
                Source::Local => "imported/".to_owned(),
                Source::S3(..) => format!("imported/g{g:04}/"),
            };
            serde_json::json!({"type": "common_prefix", "path": uri, "destination": destination})
        })
        .collect();
    let t = Instant::now();
    let ingested = import(&http, &server.url, paths).await;
    let import_secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    sampling.join().unwrap();
    assert_eq!(ingested, n);

    let commit_ms = timed_commit(&http, &server.url, "bench", "after-import.csv").await;
    let small_commit_ms = timed_commit(&http, &server.url, "small", "f4.csv").await;
    drop(server);
    if let Source::S3(_, s3root) = source {
        for (ns, _) in &listed {
            std::fs::remove_dir_all(s3root.join(ns.location())).unwrap();
        }
    }
    Figures {
        n,
        list_secs,
        import_secs,
        rest_mib,
        peak_mib: peak.load(Ordering::SeqCst) as f64 / 1024.0,
        commit_ms,
        small_commit_ms,
    }
}

fn report(source: &Source, f: &Figures) {
    let import_rate = f.n as f64 / f.import_secs;
    let list_rate = f.n as f64 / f.list_secs;
    let goal = match source {
        Source::Local => "goal >= 50,000/s",
        Source::S3(..) => "goal >= 0.50x",
    };
    println!(
        "{:<16} N = {:>9}: import {:>8.0} objects/s in {:>6.2} s ({:.2}x a bare listing at {:.0}/s; {goal}), \
         server RSS {:.1} MiB at rest, peak {:.1} MiB (goal < 256 MiB); first commit after: {:.1} ms \
         ({:.2}x a commit on a 4-object branch, {:.1} ms)",
        source.name(),
        f.n,
        import_rate,
        f.import_secs,
        import_rate / list_rate,
        list_rate,
        f.rest_mib,
        f.peak_mib,
        f.commit_ms,
        f.commit_ms / f.small_commit_ms.max(0.001),
        f.small_commit_ms,
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let large: u64 = std::env::var("TARN_BENCH_IMPORT_OBJECTS")
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
    println!("zero-copy import into a running tarn (SQLite), through importStart");
    let s3dir = tempfile::tempdir().unwrap();
    let s3root = s3dir.path().join("s3s");
    let mut sources = vec![Source::Local];
    match S3sFs::start(&s3root) {
        Some(s) => sources.push(Source::S3(s, s3root)),
        None if !full => {
            println!("S3: skipped (s3s-fs is not installed; `make bench` installs it)")
        }
        None => panic!("s3s-fs is not installed: `make bench` installs it"),
    }
    for source in &sources {
        let mut peaks = Vec::new();
        for &n in &sizes {
            let f = rt.block_on(run(source, n));
            report(source, &f);
            peaks.push((n, f.peak_mib));
        }
        if let [(n1, p1), (n2, p2)] = peaks[..] {
            println!(
                "{:<16} peak RSS at N = {n2} is {:.2}x that at N = {n1} ({}x the objects)",
                source.name(),
                p2 / p1.max(0.1),
                n2 / n1
            );
        }
    }
}
