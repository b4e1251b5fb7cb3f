//! Streaming through the REST API (`make bench`): upload and download 1 GiB
//! with the real binary and report the server's memory (RSS) while it does,
//! against its idle RSS, and the throughput against writing and reading the
//! same bytes to a file on the same disk in this process.
//!
//! `TARN_BENCH_STREAM_MIB` sets the size (default 1024).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::{create_repository, rss_kib, sampler, start, KEY, SECRET};
const CHUNK: usize = 1 << 20;

fn main() {
    let mib: usize = std::env::var("TARN_BENCH_STREAM_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = (mib * CHUNK) as u64;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path());
    let pid = child.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    rt.block_on(create_repository(&http, &url, "stream"));
    std::thread::sleep(Duration::from_millis(200));
    let idle = rss_kib(pid);

    // Upload.
    let (stop, peak) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let s = sampler(pid, stop.clone(), peak.clone());
    let t = Instant::now();
    rt.block_on(async {
        let chunks = futures::stream::iter(0..mib)
            .map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![7u8; CHUNK])));
        let resp = http
            .post(format!(
                "{url}/api/v1/repositories/stream/branches/main/objects?path=big.bin"
            ))
            .basic_auth(KEY, Some(SECRET))
            .header("content-type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    });
    let up = t.elapsed();
    stop.store(true, Ordering::SeqCst);
    s.join().unwrap();
    let up_peak = peak.load(Ordering::SeqCst);

    // Download.
    let (stop, peak) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let s = sampler(pid, stop.clone(), peak.clone());
    let t = Instant::now();
    let got = rt.block_on(async {
        let resp = http
            .get(format!(
                "{url}/api/v1/repositories/stream/refs/main/objects?path=big.bin"
            ))
            .basic_auth(KEY, Some(SECRET))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = body.next().await {
            n += chunk.unwrap().len() as u64;
        }
        n
    });
    let down = t.elapsed();
    stop.store(true, Ordering::SeqCst);
    s.join().unwrap();
    let down_peak = peak.load(Ordering::SeqCst);
    assert_eq!(got, size);
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();

    // Baseline: the same bytes written to and read from a file on the same disk.
    let file = dir.path().join("baseline.bin");
    let t = Instant::now();
    {
        let mut f = std::fs::File::create(&file).unwrap();
        let chunk = vec![7u8; CHUNK];
        for _ in 0..mib {
            f.write_all(&chunk).unwrap();
        }
        f.sync_all().unwrap();
    }
    let base_up = t.elapsed();
    let t = Instant::now();
    {
        let mut f = std::fs::File::open(&file).unwrap();
        let mut chunk = vec![0u8; CHUNK];
        while f.read(&mut chunk).unwrap() > 0 {}
    }
    let base_down = t.elapsed();

    let mibps = |d: Duration| mib as f64 / d.as_secs_f64();
    println!("API streaming of a {mib} MiB object (release binary, local block store)");
    println!("server RSS idle {:.1} MiB; peak during upload {:.1} MiB (+{:.1}); during download {:.1} MiB (+{:.1})",
        idle as f64 / 1024.0, up_peak as f64 / 1024.0, (up_peak.saturating_sub(idle)) as f64 / 1024.0,
        down_peak as f64 / 1024.0, (down_peak.saturating_sub(idle)) as f64 / 1024.0);
    println!(
        "upload   {:>7.0} MiB/s; file write baseline {:>7.0} MiB/s ({:.0}%)",
        mibps(up),
        mibps(base_up),
        mibps(up) / mibps(base_up) * 100.0
    );
    println!(
        "download {:>7.0} MiB/s; file read baseline  {:>7.0} MiB/s ({:.0}%)",
        mibps(down),
        mibps(base_down),
        mibps(down) / mibps(base_down) * 100.0
    );
}
