//! What the benchmarks share: the real binary on a free loopback port, and
//! its memory as /proc reports it.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The quickstart access key id.
pub const KEY: &str = "AKIAIOSFOLQUICKSTART";
/// The quickstart secret.
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// The resident memory of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Samples the peak RSS of `pid` until stopped.
pub fn sampler(
    pid: u32,
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            peak.fetch_max(rss_kib(pid), Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

/// Starts `tarn run --quickstart` on a free loopback port with its data
/// under `dir`; returns the process and its URL once it listens.
pub fn start(dir: &std::path::Path) -> (Child, String) {
    start_with(dir, &[])
}

/// Like [`start`], with extra environment variables (e.g. the database).
pub fn start_with(dir: &std::path::Path, env: &[(&str, String)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .args([
            "run",
            "--quickstart",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    let url = loop {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "tarn exited: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        if let Some(line) = seen
            .lines()
            .find_map(|l| l.strip_prefix("Tarn listening on "))
        {
            if seen.ends_with('\n') {
                break line.trim().to_owned();
            }
        }
    };
    std::thread::spawn(move || while out.read(&mut buf).map(|n| n > 0).unwrap_or(false) {});
    (child, url)
}

/// Creates repository `name` (namespace `local://<name>`) through the API.
pub async fn create_repository(http: &reqwest::Client, url: &str, name: &str) {
    let resp = http
        .post(format!("{url}/api/v1/repositories"))
        .basic_auth(KEY, Some(SECRET))
        .json(&serde_json::json!({"name": name, "storage_namespace": format!("local://{name}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}
