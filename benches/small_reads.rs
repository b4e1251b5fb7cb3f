//! Small reads on one kept-alive connection (`make bench`), as boto3,
//! lakefs-sdk and curl make them: p50 and p99 of 200 GETs of an 11 B, a
//! 4 KiB and a 64 KiB object through the API and through the S3 gateway,
//! against a stat (HEAD, no body) on the same connection as the baseline of
//! the same run. Goal: p99 of small GETs < 5 ms on both drivers (a response
//! whose head and body wait out the client's delayed ACK takes ~40 ms).
//!
//! `TARN_BENCH_SMALL_READS` sets the number of GETs per figure (default 200).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

mod support;

use support::{create_repository, signed, start, KEY, SECRET};

/// One connection, reused: a pool of one idle connection and sequential
/// requests.
fn one_connection() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap()
}

/// p50 and p99 of `n` sequential runs of `request`.
async fn percentiles<F, Fut>(n: usize, mut request: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Warm the connection and the caches first.
    for _ in 0..5 {
        request().await;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        request().await;
        times.push(t.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.50), at(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let n: usize = std::env::var("TARN_BENCH_SMALL_READS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(&dir.path().join("tarn"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = one_connection();
    let sizes: [(&str, usize); 3] = [("11 B", 11), ("4 KiB", 4096), ("64 KiB", 65536)];
    rt.block_on(async {
        create_repository(&http, &url, "bench").await;
        for (_, size) in sizes {
            let resp = signed(
                &http,
                reqwest::Method::PUT,
                &format!("{url}/bench/main/o{size}"),
            )
            .body(vec![7u8; size])
            .send()
            .await
            .unwrap();
            assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
        }
    });

    println!("Small reads on one kept-alive connection, {n} sequential requests each (release binary, local block store)");
    println!(
        "goal: p99 < 5 ms for every GET; baseline: a stat (HEAD, no body) on the same connection"
    );
    let gateway = |size: usize, method: reqwest::Method| {
        let (http, url) = (http.clone(), url.clone());
        move || {
            let req = signed(&http, method.clone(), &format!("{url}/bench/main/o{size}"));
            async move {
                let resp = req.send().await.unwrap();
                assert_eq!(resp.status(), 200);
                resp.bytes().await.unwrap();
            }
        }
    };
    let api = |size: usize, stat: bool| {
        let (http, url) = (http.clone(), url.clone());
        let path = if stat { "objects/stat" } else { "objects" };
        move || {
            let req = http
                .get(format!(
                    "{url}/api/v1/repositories/bench/refs/main/{path}?path=o{size}"
                ))
                .basic_auth(KEY, Some(SECRET));
            async move {
                let resp = req.send().await.unwrap();
                assert_eq!(resp.status(), 200);
                resp.bytes().await.unwrap();
            }
        }
    };
    rt.block_on(async {
        let (g50, g99) = percentiles(n, gateway(11, reqwest::Method::HEAD)).await;
        let (a50, a99) = percentiles(n, api(11, true)).await;
        println!(
            "gateway HEAD        p50 {:>6.2} ms  p99 {:>6.2} ms (baseline)",
            ms(g50),
            ms(g99)
        );
        println!(
            "API     stat        p50 {:>6.2} ms  p99 {:>6.2} ms (baseline)",
            ms(a50),
            ms(a99)
        );
        for (label, size) in sizes {
            let (p50, p99) = percentiles(n, gateway(size, reqwest::Method::GET)).await;
            println!(
                "gateway GET {label:>6}  p50 {:>6.2} ms  p99 {:>6.2} ms ({:.1}x the stat's p99; goal p99 < 5 ms: {})",
                ms(p50),
                ms(p99),
                ms(p99) / ms(g99),
                if ms(p99) < 5.0 { "met" } else { "MISSED" }
            );
            let (p50, p99) = percentiles(n, api(size, false)).await;
            println!(
                "API     GET {label:>6}  p50 {:>6.2} ms  p99 {:>6.2} ms ({:.1}x the stat's p99; goal p99 < 5 ms: {})",
                ms(p50),
                ms(p99),
                ms(p99) / ms(a99),
                if ms(p99) < 5.0 { "met" } else { "MISSED" }
            );
        }
    });
    let _ = child.kill();
    let _ = child.wait();
}
