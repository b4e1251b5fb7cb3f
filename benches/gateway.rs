//! The S3 gateway under load (`make bench`): 64 MiB PUT and GET, and 4 KiB
//! PUT+GET at 32 concurrent clients, each against the same local block store
//! driven directly in this process (the baseline, same disk, same run); and
//! the server's RSS during a 1 GiB upload.
//!
//! `TARN_BENCH_SMALL_OPS` sets the number of 4 KiB PUT+GET pairs (default 4000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use futures::{stream, StreamExt};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tarn_adapter_local::LocalBlockStore;
use tarn_model::{BlockKey, StorageNamespace};
use tarn_ports::{BlockStore, ByteStream};

mod support;

use support::{best, create_repository, rss_kib, sampler, signed, start, zeros, S3sFs, MIB};

fn byte_stream(mib: usize) -> ByteStream {
    ByteStream::new(stream::iter(0..mib).map(|_| Ok(Bytes::from(vec![9u8; MIB]))))
}

/// 4 KiB PUT+GET pairs/s at 32 clients against s3s-fs on `root`, if installed.
fn s3s_fs_rate(
    rt: &tokio::runtime::Runtime,
    http: &reqwest::Client,
    root: &std::path::Path,
    ops: usize,
    payload: &Bytes,
) -> Option<f64> {
    let server = S3sFs::start(root)?;
    let url = server.url.clone();
    Some(rt.block_on(async {
        server.create_bucket(http, "bench").await;
        small_pairs(http, &format!("{url}/bench/small-"), ops, payload).await
    }))
}

/// 4 KiB PUT+GET pairs per second at 32 concurrent clients, on keys
/// `<prefix><n>` of an S3 server.
async fn small_pairs(http: &reqwest::Client, prefix: &str, ops: usize, payload: &Bytes) -> f64 {
    let t = Instant::now();
    stream::iter(0..ops)
        .map(|i| {
            let (http, payload) = (http.clone(), payload.clone());
            let object = format!("{prefix}{i:06}");
            async move {
                let resp = signed(&http, reqwest::Method::PUT, &object)
                    .body(payload)
                    .send()
                    .await
                    .unwrap();
                assert!(
                    resp.status().is_success(),
                    "PUT {object}: {}",
                    resp.status()
                );
                let resp = signed(&http, reqwest::Method::GET, &object)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.bytes().await.unwrap().len(), 4096);
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    ops as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let small_ops: usize = std::env::var("TARN_BENCH_SMALL_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(&dir.path().join("tarn"));
    let pid = child.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    rt.block_on(create_repository(&http, &url, "bench"));
    let object = format!("{url}/bench/main/big.bin");

    // 64 MiB through the gateway.
    let put = best(3, || {
        rt.block_on(async {
            let resp = signed(&http, reqwest::Method::PUT, &object)
                .header("content-length", (64 * MIB).to_string())
                .body(zeros(64))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
        })
    });
    let get = best(3, || {
        rt.block_on(async {
            let resp = signed(&http, reqwest::Method::GET, &object)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let mut body = resp.bytes_stream();
            let mut n = 0;
            while let Some(c) = body.next().await {
                n += c.unwrap().len();
            }
            assert_eq!(n, 64 * MIB);
        })
    });

    // Baseline: the same block store, directly, on the same disk.
    let (store, ns) = rt.block_on(async {
        let store = Arc::new(
            LocalBlockStore::open(dir.path().join("direct"))
                .await
                .unwrap(),
        );
        (store, StorageNamespace::new("local://direct").unwrap())
    });
    let key = BlockKey::new("big.bin").unwrap();
    let direct_put = best(3, || {
        rt.block_on(async {
            store
                .put(&ns, &key, byte_stream(64), Some((64 * MIB) as u64))
                .await
                .unwrap()
        })
    });
    let direct_get = best(3, || {
        rt.block_on(async {
            let mut body = store.get(&ns, &key, None).await.unwrap().body;
            while let Some(c) = body.next().await {
                c.unwrap();
            }
        })
    });
    let mibps = |d: Duration| 64.0 / d.as_secs_f64();
    println!("S3 gateway benchmarks (release binary, local block store, SigV4 UNSIGNED-PAYLOAD)");
    println!(
        "PUT 64 MiB: {:>6.0} MiB/s; block store directly {:>6.0} MiB/s ({:.0}%; goal >= 90%)",
        mibps(put),
        mibps(direct_put),
        mibps(put) / mibps(direct_put) * 100.0
    );
    println!(
        "GET 64 MiB: {:>6.0} MiB/s; block store directly {:>6.0} MiB/s ({:.0}%; goal >= 90%)",
        mibps(get),
        mibps(direct_get),
        mibps(get) / mibps(direct_get) * 100.0
    );

    // 4 KiB PUT+GET at 32 concurrent clients.
    let payload = Bytes::from(vec![5u8; 4096]);
    let gateway_rate = rt.block_on(small_pairs(
        &http,
        &format!("{url}/bench/main/small/"),
        small_ops,
        &payload,
    ));
    let t = Instant::now();
    rt.block_on(async {
        stream::iter(0..small_ops)
            .map(|i| {
                let (store, ns, payload) = (store.clone(), ns.clone(), payload.clone());
                async move {
                    let key = BlockKey::new(format!("small/{i:06}")).unwrap();
                    store
                        .put(&ns, &key, ByteStream::from_bytes(payload), Some(4096))
                        .await
                        .unwrap();
                    let mut body = store.get(&ns, &key, None).await.unwrap().body;
                    while let Some(c) = body.next().await {
                        c.unwrap();
                    }
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await;
    });
    let direct_rate = small_ops as f64 / t.elapsed().as_secs_f64();
    println!(
        "4 KiB PUT+GET, 32 clients: {gateway_rate:>6.0} pairs/s; block store directly {direct_rate:>6.0} pairs/s ({:.0}%)",
        gateway_rate / direct_rate * 100.0
    );
    match s3s_fs_rate(&rt, &http, &dir.path().join("s3s"), small_ops, &payload) {
        Some(plain) => println!(
            "4 KiB PUT+GET, 32 clients: plain S3 server (s3s-fs, same disk) {plain:>6.0} pairs/s; gateway at {:.0}% of it (goal >= 50%)",
            gateway_rate / plain * 100.0
        ),
        None => println!("4 KiB PUT+GET vs s3s-fs: skipped (s3s-fs not installed; `make bench` installs it)"),
    }

    // Server RSS while 1 GiB streams in.
    std::thread::sleep(Duration::from_millis(200));
    let idle = rss_kib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = sampler(pid, stop.clone(), peak.clone());
    rt.block_on(async {
        let resp = signed(
            &http,
            reqwest::Method::PUT,
            &format!("{url}/bench/main/huge.bin"),
        )
        .header("content-length", (1024 * MIB).to_string())
        .body(zeros(1024))
        .send()
        .await
        .unwrap();
        assert_eq!(resp.status(), 200);
    });
    stop.store(true, Ordering::SeqCst);
    sampling.join().unwrap();
    let peak = peak.load(Ordering::SeqCst);
    println!(
        "server RSS during a 1 GiB PUT: idle {:.1} MiB, peak {:.1} MiB (goal < 100 MiB)",
        idle as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
}
