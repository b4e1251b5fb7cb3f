//! Actions and hooks (`make bench`): commit latency on a running `tarn`
//! (SQLite, local store) for a repository without action files against one
//! with an action file whose events never match its commits (goal: within
//! 10%), and for one with a no-op Lua pre-commit hook (the overhead of a
//! hook run: a fresh sandboxed Lua state, the run recorded, its log and
//! manifest written), commits interleaved so that all see the same
//! machine. Each commit changes one object; only the commit request is
//! timed.
//! Without `--bench` (under `cargo test --all-targets`) it runs 20 commits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Instant;
use support::{KEY, SECRET};

const NOOP_LUA: &str = "name: No-op\non:\n  pre-commit:\nhooks:\n  - id: noop\n    type: lua\n    properties:\n      script: 'local ok = true'\n";

const ACTION: &str = "name: Release gate\non:\n  pre-merge:\n    branches: ['release-*']\nhooks:\n  - id: notify\n    type: webhook\n    properties:\n      url: http://127.0.0.1:9/never\n";

async fn upload(http: &reqwest::Client, url: &str, repo: &str, path: &str, body: String) {
    let resp = http
        .post(format!(
            "{url}/api/v1/repositories/{repo}/branches/main/objects"
        ))
        .query(&[("path", path)])
        .basic_auth(KEY, Some(SECRET))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}

/// One commit of a changed object; its milliseconds.
async fn commit(http: &reqwest::Client, url: &str, repo: &str, i: usize) -> f64 {
    upload(
        http,
        url,
        repo,
        &format!("data/f{}.csv", i % 50),
        format!("row {i}\n"),
    )
    .await;
    let t = Instant::now();
    let resp = http
        .post(format!(
            "{url}/api/v1/repositories/{repo}/branches/main/commits"
        ))
        .basic_auth(KEY, Some(SECRET))
        .json(&serde_json::json!({"message": format!("c{i}")}))
        .send()
        .await
        .unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    ms
}

/// The server, killed when dropped (a panic included).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 400 } else { 20 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (child, url) = support::start(dir.path());
        let _server = Server(child);
        let http = reqwest::Client::new();
        for repo in ["plain", "gated", "lua"] {
            support::create_repository(&http, &url, repo).await;
        }
        upload(&http, &url, "gated", "_lakefs_actions/release.yaml", ACTION.into()).await;
        upload(&http, &url, "lua", "_lakefs_actions/noop.yaml", NOOP_LUA.into()).await;
        // Warm both up.
        for i in 0..5 {
            commit(&http, &url, "plain", 1_000_000 + i).await;
            commit(&http, &url, "gated", 1_000_000 + i).await;
            commit(&http, &url, "lua", 1_000_000 + i).await;
        }
        let (mut plain, mut gated, mut lua) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for i in 0..n {
            // Rotating the order spreads any drift over all three.
            for k in 0..3 {
                match (i + k) % 3 {
                    0 => plain.push(commit(&http, &url, "plain", i).await),
                    1 => gated.push(commit(&http, &url, "gated", i).await),
                    _ => lua.push(commit(&http, &url, "lua", i).await),
                }
            }
        }
        plain.sort_by(f64::total_cmp);
        gated.sort_by(f64::total_cmp);
        lua.sort_by(f64::total_cmp);
        let (p50, g50) = (quantile(&plain, 0.5), quantile(&gated, 0.5));
        let (p90, g90) = (quantile(&plain, 0.9), quantile(&gated, 0.9));
        println!(
            "commit latency over {n} commits each: no action files p50 {p50:.2} ms p90 {p90:.2} ms; \
             an action file whose events do not match p50 {g50:.2} ms ({:.2}x) p90 {g90:.2} ms ({:.2}x) (goal: within 1.10x)",
            g50 / p50,
            g90 / p90
        );
        let (l50, l90) = (quantile(&lua, 0.5), quantile(&lua, 0.9));
        println!(
            "commit latency with a no-op Lua pre-commit hook: p50 {l50:.2} ms ({:.2}x, +{:.2} ms) p90 {l90:.2} ms ({:.2}x)",
            l50 / p50,
            l50 - p50,
            l90 / p90
        );
    });
}
