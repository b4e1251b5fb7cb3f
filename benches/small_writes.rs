//! Small uploads at full speed (`make bench`, inside
//! scripts/with-postgres.sh): 1 KiB uploads from 32 kept-alive connections,
//! through the API and through the S3 gateway, on SQLite (the default) and
//! PostgreSQL metadata with the local block store; each against the same
//! binary on memory metadata (the baseline: same disk, same run). Reports
//! uploads per second and the server's CPU time per upload (user + system,
//! from /proc).
//!
//! `TARN_BENCH_UPLOADS` sets the uploads per case (default 6,400).

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
async fn measure(env: &[(&str, String)], via: Via, n: usize) -> Rate {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = support::start_with(dir.path(), env);
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
    let n: usize = std::env::var("TARN_BENCH_UPLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6_400);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "small uploads: {n} of 1 KiB from {CONNECTIONS} kept-alive connections, local block store (release binary)"
    );
    let mut backends: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("memory", vec![("TARN_DATABASE__TYPE", "memory".to_owned())]),
        ("sqlite", vec![]),
    ];
    match postgres_url() {
        Some(url) => {
            let db = rt.block_on(fresh_postgres_database(&url)).unwrap();
            backends.push((
                "postgres",
                vec![
                    ("TARN_DATABASE__TYPE", "postgres".to_owned()),
                    ("TARN_DATABASE__POSTGRES__CONNECTION_STRING", db),
                ],
            ));
        }
        None => println!("(no PostgreSQL: run inside scripts/with-postgres.sh for its figures)"),
    }
    for via in [Via::Api, Via::Gateway] {
        let mut baseline = None;
        for (name, env) in &backends {
            let r = rt.block_on(measure(env, via, n));
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
