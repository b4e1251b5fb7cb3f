//! Tarn on the S3 block store (`make bench`): 64 MiB PUT and GET through
//! Tarn's S3 gateway, with object data on an S3 server, against the same
//! requests sent to that S3 server directly, in the same run. The server is
//! s3s-fs (a Rust S3 server on a directory, checking signatures), which
//! `make bench` installs. Then Tarn's peak RSS while a 1 GiB body of known
//! length (a streamed PutObject) and one of unknown length (chunked, sent
//! to S3 as a multipart upload) stream through it.
//!
//! Without `--bench` (under `cargo test --all-targets`) it runs once on
//! 4 MiB, against s3s-fs if installed, else the test S3 server of
//! `TARN_TEST_S3_*` (scripts/with-s3.sh).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod support;

use support::{
    best, create_repository_at, rss_kib, sampler, signed, start_with, zeros, S3sFs, KEY, MIB,
    SECRET,
};

/// PUTs `mib` MiB to `url` and checks the answer.
async fn put(http: &reqwest::Client, url: &str, mib: usize) {
    let resp = signed(http, reqwest::Method::PUT, url)
        .header("content-length", (mib * MIB).to_string())
        .body(zeros(mib))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "PUT {url}: {:?}", resp.text().await);
}

/// GETs `url`, reading all `mib` MiB of it.
async fn get(http: &reqwest::Client, url: &str, mib: usize) {
    let resp = signed(http, reqwest::Method::GET, url)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    let mut body = resp.bytes_stream();
    let mut n = 0;
    while let Some(chunk) = body.next().await {
        n += chunk.unwrap().len();
    }
    assert_eq!(n, mib * MIB);
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (mib, runs) = if full { (64, 7) } else { (4, 1) };
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();

    // The S3 server: s3s-fs, or (tests only) the one scripts/with-s3.sh started.
    let s3s = S3sFs::start(&dir.path().join("s3s"));
    let (server, endpoint, bucket, key, secret) = match &s3s {
        Some(s3s) => {
            rt.block_on(s3s.create_bucket(&http, "bench"));
            let (k, s) = (KEY.to_owned(), SECRET.to_owned());
            ("s3s-fs 0.14.1", s3s.url.clone(), "bench".to_owned(), k, s)
        }
        None if !full => {
            let (settings, bucket) = tarn_adapter_s3::testing::require_test_server();
            let endpoint = settings.endpoint.clone().unwrap_or_default();
            let k = settings.access_key_id.clone().unwrap_or_default();
            let s = settings.secret_access_key.clone().unwrap_or_default();
            ("the test S3 server", endpoint, bucket, k, s)
        }
        None => panic!("s3s-fs is not installed: `make bench` installs it"),
    };

    let env = [
        ("TARN_BLOCKSTORE__TYPE", "s3".to_owned()),
        ("TARN_BLOCKSTORE__S3__ENDPOINT", endpoint.clone()),
        ("TARN_BLOCKSTORE__S3__FORCE_PATH_STYLE", "true".to_owned()),
        ("TARN_BLOCKSTORE__S3__CREDENTIALS__ACCESS_KEY_ID", key),
        (
            "TARN_BLOCKSTORE__S3__CREDENTIALS__SECRET_ACCESS_KEY",
            secret,
        ),
    ];
    let (mut tarn, url) = start_with(&dir.path().join("tarn"), &env);
    let ns = format!("s3://{bucket}/tarn-bench-{}", std::process::id());
    rt.block_on(create_repository_at(&http, &url, "s3bench", &ns));

    let through = format!("{url}/s3bench/main/big.bin");
    let direct = format!("{endpoint}/{bucket}/direct-{}/big.bin", std::process::id());
    // Runs alternate between the two so that both see the same machine
    // state; the best of each counts.
    let (mut tarn_put, mut direct_put) = (Duration::MAX, Duration::MAX);
    let (mut tarn_get, mut direct_get) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        tarn_put = tarn_put.min(best(1, || rt.block_on(put(&http, &through, mib))));
        direct_put = direct_put.min(best(1, || rt.block_on(put(&http, &direct, mib))));
    }
    for _ in 0..runs {
        tarn_get = tarn_get.min(best(1, || rt.block_on(get(&http, &through, mib))));
        direct_get = direct_get.min(best(1, || rt.block_on(get(&http, &direct, mib))));
    }

    // Tarn's memory while big bodies stream through it to S3: one of known
    // length (a streamed PutObject) and one without (chunked, so multipart
    // in parts of 8 MiB).
    let huge = if full { 1024 } else { 16 };
    let pid = tarn.id();
    let (idle, known) = peak_rss(pid, || {
        rt.block_on(put(&http, &format!("{url}/s3bench/main/huge.bin"), huge))
    });
    let (_, unknown) = peak_rss(pid, || {
        rt.block_on(async {
            let resp = http
                .post(format!(
                    "{url}/api/v1/repositories/s3bench/branches/main/objects"
                ))
                .query(&[("path", "chunked.bin")])
                .basic_auth(KEY, Some(SECRET))
                .body(zeros(huge))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
        })
    });
    let _ = tarn.kill();
    let _ = tarn.wait();

    let mibps = |d: Duration| mib as f64 / d.as_secs_f64();
    println!(
        "Tarn on the S3 block store vs {server} directly ({mib} MiB objects, best of {runs}, SigV4 UNSIGNED-PAYLOAD, all on loopback)"
    );
    for (what, tarn, direct) in [("PUT", tarn_put, direct_put), ("GET", tarn_get, direct_get)] {
        println!(
            "{what} {mib} MiB: through Tarn {:>6.0} MiB/s; S3 directly {:>6.0} MiB/s ({:.0}%; goal >= 90%)",
            mibps(tarn),
            mibps(direct),
            mibps(tarn) / mibps(direct) * 100.0
        );
    }
    let mib_of = |kib: u64| kib as f64 / 1024.0;
    println!(
        "Tarn RSS: idle {:.1} MiB; peak {:.1} MiB during a {huge} MiB gateway PUT, {:.1} MiB during a {huge} MiB chunked API upload of unknown length (goal < 100 MiB)",
        mib_of(idle),
        mib_of(known),
        mib_of(unknown)
    );
}

/// The resident memory of `pid` before `f`, and its peak while `f` runs (KiB).
fn peak_rss(pid: u32, f: impl FnOnce()) -> (u64, u64) {
    std::thread::sleep(Duration::from_millis(200));
    let idle = rss_kib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = sampler(pid, stop.clone(), peak.clone());
    f();
    stop.store(true, Ordering::SeqCst);
    sampling.join().unwrap();
    (idle, peak.load(Ordering::SeqCst))
}
