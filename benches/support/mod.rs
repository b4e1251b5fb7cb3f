//! What the benchmarks share: the real binary on a free loopback port, and
//! its memory as /proc reports it.

#![allow(dead_code, clippy::unwrap_used)]

use bytes::Bytes;
use futures::{stream, StreamExt};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tarn_s3_protocol::sigv4;

/// A mebibyte.
pub const MIB: usize = 1 << 20;

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

/// Fills `buf` with cheap pseudo-random bytes (xorshift), seeded.
#[allow(dead_code)] // not every bench makes files
pub fn fill(buf: &mut [u8], mut seed: u64) {
    seed |= 1;
    for chunk in buf.chunks_mut(8) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let bytes = seed.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// The `tarn` command line against the server at `url`, as the quickstart
/// user, with `home` as its HOME (no configuration file of the machine's).
#[allow(dead_code)] // not every bench runs the command line
pub fn tarn_command(home: &std::path::Path, url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tarn"));
    cmd.env("HOME", home)
        .env("LAKECTL_SERVER_ENDPOINT_URL", url)
        .env("LAKECTL_CREDENTIALS_ACCESS_KEY_ID", KEY)
        .env("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", SECRET);
    cmd
}

/// Creates repository `name` (namespace `local://<name>`) through the API.
pub async fn create_repository(http: &reqwest::Client, url: &str, name: &str) {
    create_repository_at(http, url, name, &format!("local://{name}")).await
}

/// Creates repository `name` on namespace `ns` through the API.
pub async fn create_repository_at(http: &reqwest::Client, url: &str, name: &str, ns: &str) {
    let resp = http
        .post(format!("{url}/api/v1/repositories"))
        .basic_auth(KEY, Some(SECRET))
        .json(&serde_json::json!({"name": name, "storage_namespace": ns}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
}

/// A SigV4-signed request with an unsigned payload, as SDKs send over TLS-less links.
pub fn signed(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
) -> reqwest::RequestBuilder {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let headers = vec![("host".to_owned(), host)];
    let (date, auth) = sigv4::sign_header(
        method.as_str(),
        parsed.path(),
        parsed.query().unwrap_or(""),
        &headers,
        sigv4::UNSIGNED_PAYLOAD,
        KEY,
        SECRET,
        "us-east-1",
        now,
    );
    http.request(method, url)
        .header("x-amz-content-sha256", sigv4::UNSIGNED_PAYLOAD)
        .header("x-amz-date", date)
        .header("authorization", auth)
}

pub fn zeros(mib: usize) -> reqwest::Body {
    reqwest::Body::wrap_stream(
        stream::iter(0..mib).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![9u8; MIB]))),
    )
}

/// The fastest of `runs` runs of `f`.
pub fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

/// An s3s-fs server (a plain S3 server on a directory; it checks SigV4
/// signatures) on a free loopback port, with the quickstart key pair.
pub struct S3sFs {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl S3sFs {
    /// Starts s3s-fs on `root`; `None` if it is not installed (`make bench`
    /// installs it).
    pub fn start(root: &std::path::Path) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        std::fs::create_dir_all(root).ok()?;
        let child = Command::new("s3s-fs")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", KEY, "--secret-key", SECRET])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let ready = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        ready.then_some(server)
    }

    /// Creates `bucket`.
    pub async fn create_bucket(&self, http: &reqwest::Client, bucket: &str) {
        let resp = signed(
            http,
            reqwest::Method::PUT,
            &format!("{}/{bucket}", self.url),
        )
        .send()
        .await
        .unwrap();
        assert!(
            resp.status().is_success(),
            "s3s-fs CreateBucket: {}",
            resp.status()
        );
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
