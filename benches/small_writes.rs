//! Small uploads at full speed (`make bench`, inside
//! scripts/with-postgres.sh): 1 KiB uploads from 32 kept-alive connections,
//! through the API and through the S3 gateway, on SQLite (the default) and
//! PostgreSQL metadata with the local block store; each against the same
//! binary on memory metadata (the baseline: same disk, same run). Reports
//! uploads per second and the server's CPU time per upload (user + system,
//! from /proc), the better of two runs each.
//!
//! `TARN_BENCH_UPLOADS` sets the uploads per case (default 6,400);
//! `TARN_BENCH_SETTLE_SECS` the wait before the first (default 65 s).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bytes::Bytes;
use futures::{stream, StreamExt};
use std::time::{Duration, Instant};
use tarn_adapter_sql::testing::{fresh_postgres_database, postgres_url};

const CONNECTIONS: usize = 32;
const GOAL: f64 = 3_000.0;

#[derive(Clone, Copy)]
enum Via {
    Api,
    Gateway,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Via::Api => "API",
            Via::Gateway => "gateway",
        }
    }
}

/// The server's CPU time so far (user + system).
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command may hold spaces: fields are counted after its ')'.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / clock_ticks())
}

fn clock_ticks() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Uploads `n` objects of `body` under `prefix` (100 folders) from
/// `CONNECTIONS` concurrent requests; returns the time taken.
async fn uploads(
    http: &reqwest::Client,
    base: &str,
    via: Via,
    prefix: &str,
    n: usize,
    body: &Bytes,
) -> Duration {
    let t = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let path = format!("{prefix}/f{:02}/{i:07}", i % 100);
            let req = match via {
                Via::Api => http
                    .post(format!(
                        "{base}/api/v1/repositories/bench/branches/main/objects"
                    ))
                    .query(&[("path", &path)])
                    .basic_auth(support::KEY, Some(support::SECRET)),
                Via::Gateway => support::signed(
                    http,
                    reqwest::Method::PUT,
                    &format!("{base}/bench/main/{path}"),
                ),
            };
            let req = req.body(body.clone());
            async move {
                let resp = req.send().await.unwrap();
                let status = resp.status();
                assert!(status.is_success(), "{path}: {status}");
                let _ = resp.bytes().await;
            }
        })
        .buffer_unordered(CONNECTIONS)
        .collect::<Vec<_>>()
        .await;
    t.elapsed()
}

struct Rate {
    per_second: f64,
    cpu_per_upload: Duration,
}

/// Uploads per second and server CPU per upload on a server started with
/// `env`, through `via`.
/// The data directory is left to the caller: removing thousands of files
/// just before the next case makes that case's file creations slower on
/// some file systems (ext4 without a journal skips recently freed inodes).
async fn measure(env: &[(&str, String)], via: Via, n: usize, dir: &std::path::Path) -> Rate {
    let (mut child, base) = support::start_with(dir, env);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    support::create_repository(&http, &base, "bench").await;
    let body = Bytes::from(vec![7u8; 1024]);
    // Warm: connections open, caches and pools filled.
    uploads(&http, &base, via, "warm", 2 * CONNECTIONS, &body).await;
    let before = cpu(child.id());
    let took = uploads(&http, &base, via, "load", n, &body).await;
    let used = cpu(child.id()) - before;
    child.kill().unwrap();
    child.wait().unwrap();
    Rate {
        per_second: n as f64 / took.as_secs_f64(),
        cpu_per_upload: used / n as u32,
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and
    // then a small, short run (one run a case, no settling) checks that the
    // benchmark still works.
    let full = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("TARN_BENCH_UPLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 6_400 } else { 320 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "small uploads: {n} of 1 KiB from {CONNECTIONS} kept-alive connections, local block store (release binary)"
    );
    // Let the file system settle first: ext4 without a journal (this test
    // machine's) skips inodes freed in the last 60 s (300 s while their
    // inode table block is unwritten) when it allocates new ones, which made
    // file creation several times costlier, and the figures bimodal, right
    // after a benchmark that removed many files. `sync` writes the blocks
    // back; then a minute passes.
    let settle: u64 = std::env::var("TARN_BENCH_SETTLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 65 } else { 0 });
    if settle > 0 {
        let _ = std::process::Command::new("sync").status();
        std::thread::sleep(Duration::from_secs(settle));
    }
    let pg = postgres_url();
    if pg.is_none() {
        println!("(no PostgreSQL: run inside scripts/with-postgres.sh for its figures)");
    }
    let mut backends = vec!["memory", "sqlite"];
    backends.extend(pg.as_ref().map(|_| "postgres"));
    // Removed at the end (see `measure`).
    let mut dirs = Vec::new();
    for via in [Via::Api, Via::Gateway] {
        let mut baseline = None;
        for &name in &backends {
            // The better of two runs: a file system busy with what ran
            // before (write-back, freed inodes) slows whichever comes first.
            let mut best: Option<Rate> = None;
            for _ in 0..if full { 2 } else { 1 } {
                let env: Vec<(&str, String)> = match name {
                    "memory" => vec![("TARN_DATABASE__TYPE", "memory".to_owned())],
                    "postgres" => {
                        let url = pg.as_deref().unwrap_or_default();
                        let db = rt.block_on(fresh_postgres_database(url)).unwrap();
                        vec![
                            ("TARN_DATABASE__TYPE", "postgres".to_owned()),
                            ("TARN_DATABASE__POSTGRES__CONNECTION_STRING", db),
                        ]
                    }
                    _ => vec![],
                };
                let dir = tempfile::tempdir().unwrap();
                let r = rt.block_on(measure(&env, via, n, dir.path()));
                dirs.push(dir);
                if best.as_ref().is_none_or(|b| r.per_second > b.per_second) {
                    best = Some(r);
                }
            }
            let r = best.unwrap();
            let ms = r.cpu_per_upload.as_secs_f64() * 1e3;
            match baseline {
                None => {
                    println!(
                        "{:<7} {name:<8} (baseline): {:>6.0} uploads/s, server CPU {ms:.2} ms/upload",
                        via.name(),
                        r.per_second
                    );
                    baseline = Some(r.per_second);
                }
                Some(b) => println!(
                    "{:<7} {name:<8}:            {:>6.0} uploads/s ({:.2}x memory; goal >= {GOAL:.0}/s), server CPU {ms:.2} ms/upload",
                    via.name(),
                    r.per_second,
                    r.per_second / b
                ),
            }
        }
    }
}
