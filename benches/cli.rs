//! The command line moving data (`make bench`): recursive upload and
//! download through `tarn fs` versus the AWS CLI (`aws s3 cp --recursive`
//! through the S3 gateway) against the same release server, same files,
//! same run: 10,000 files of 10 KiB in 100 folders, and 4 files of 256 MiB.
//! Goals: >= 1.5x the AWS CLI's rate for the small files, >= 1x for the
//! large. Then the API figures of `tarn abuse`: 1 KiB uploads and stats,
//! 32 in flight, with latency percentiles.
//!
//! Without `--bench` (under `cargo test --all-targets`) it runs on 200
//! small files and 2 of 4 MiB, to prove it works, not to measure.
//!
//! The AWS CLI is the one `make bench` installs in `.venv` (AWS_CLI
//! overrides); both tools run with their defaults (tarn: 25 transfers at
//! once; the AWS CLI: 10).

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SMALL_SIZE: usize = 10 << 10;

fn make_tree(root: &Path, files: usize, size: usize, folders: usize) {
    let mut buf = vec![0u8; size];
    for i in 0..files {
        support::fill(&mut buf, i as u64 + 7);
        let p = root.join(format!("part-{:03}/file-{i:05}.bin", i % folders));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &buf).unwrap();
    }
}

struct Tools {
    url: String,
    aws: PathBuf,
    home: tempfile::TempDir,
}

impl Tools {
    fn tarn(&self, args: &[&str]) -> (Duration, String) {
        let t = Instant::now();
        let out = support::tarn_command(self.home.path(), &self.url)
            .args(args)
            .output()
            .unwrap();
        let took = t.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "tarn {args:?}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (took, stdout)
    }

    fn aws(&self, args: &[&str]) -> Duration {
        let t = Instant::now();
        let out = Command::new(&self.aws)
            .args(["--endpoint-url", &self.url, "s3"])
            .args(args)
            .args(["--only-show-errors", "--no-progress"])
            .env("HOME", self.home.path())
            .env("AWS_ACCESS_KEY_ID", support::KEY)
            .env("AWS_SECRET_ACCESS_KEY", support::SECRET)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", self.home.path().join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.home.path().join("none"))
            .output()
            .unwrap();
        let took = t.elapsed();
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        took
    }
}

fn dir_bytes(root: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                files += 1;
                bytes += m.len();
            }
        }
    }
    (files, bytes)
}

/// Upload then download one tree with both tools, in alternation; prints
/// the rates and the ratios.
fn compare(
    tools: &Tools,
    work: &Path,
    name: &str,
    files: usize,
    size: usize,
    folders: usize,
    goal: f64,
) {
    let src = work.join(format!("{name}-src"));
    make_tree(&src, files, size, folders);
    let total = (files * size) as f64;
    let src_s = src.to_str().unwrap();
    let (tarn_up, _) = tools.tarn(&[
        "fs",
        "upload",
        "-r",
        "-s",
        src_s,
        &format!("lakefs://clibench/main/tarn-{name}/"),
    ]);
    let aws_up = tools.aws(&[
        "cp",
        "--recursive",
        src_s,
        &format!("s3://clibench/main/aws-{name}/"),
    ]);
    let down_tarn = work.join(format!("{name}-tarn"));
    let down_aws = work.join(format!("{name}-aws"));
    let (tarn_down, _) = tools.tarn(&[
        "fs",
        "download",
        "-r",
        &format!("lakefs://clibench/main/tarn-{name}/"),
        down_tarn.to_str().unwrap(),
    ]);
    let aws_down = tools.aws(&[
        "cp",
        "--recursive",
        &format!("s3://clibench/main/aws-{name}/"),
        down_aws.to_str().unwrap(),
    ]);
    for d in [&down_tarn, &down_aws] {
        assert_eq!(
            dir_bytes(d),
            (files, total as u64),
            "{} is incomplete",
            d.display()
        );
    }
    let mbps = |d: Duration| total / d.as_secs_f64() / 1e6;
    let fps = |d: Duration| files as f64 / d.as_secs_f64();
    for (what, t, a) in [
        ("upload", tarn_up, aws_up),
        ("download", tarn_down, aws_down),
    ] {
        let ratio = a.as_secs_f64() / t.as_secs_f64();
        println!(
            "{files:>6} x {:>9}: {what:<8} tarn fs {:>7.1} MB/s {:>7.0} files/s ({:>6.2}s); aws s3 cp {:>7.1} MB/s {:>7.0} files/s ({:>6.2}s); tarn/aws {ratio:.2}x (goal >= {goal}x){}",
            human(size),
            mbps(t),
            fps(t),
            t.as_secs_f64(),
            mbps(a),
            fps(a),
            a.as_secs_f64(),
            if ratio >= goal { "" } else { "  BELOW GOAL" },
        );
    }
    for d in [&src, &down_tarn, &down_aws] {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn human(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{} KiB", n >> 10)
    }
}

fn abuse(tools: &Tools, args: &[&str]) -> Value {
    let mut all = vec!["-o", "json", "abuse"];
    all.extend_from_slice(args);
    let (_, out) = tools.tarn(&all);
    serde_json::from_str(&out).unwrap()
}

fn main() {
    let aws = std::env::var_os("AWS_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/aws"));
    assert!(
        aws.exists(),
        "the AWS CLI is not at {} (make bench installs it; AWS_CLI overrides)",
        aws.display()
    );
    let data = tempfile::tempdir().unwrap();
    let (mut server, url) = support::start(data.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(support::create_repository(
        &reqwest::Client::new(),
        &url,
        "clibench",
    ));
    let tools = Tools {
        url,
        aws,
        home: tempfile::tempdir().unwrap(),
    };
    let work = tempfile::tempdir().unwrap();
    let full = std::env::args().any(|a| a == "--bench");
    let (small_files, large_files, large_size) = if full {
        (10_000, 4, 256 << 20)
    } else {
        (200, 2, 4 << 20)
    };
    println!(
        "tarn fs vs aws s3 cp --recursive (release server, SQLite + local, same files, same run)"
    );
    compare(
        &tools,
        work.path(),
        "small",
        small_files,
        SMALL_SIZE,
        100,
        1.5,
    );
    compare(
        &tools,
        work.path(),
        "large",
        large_files,
        large_size,
        1,
        1.0,
    );
    let (writes, reads) = if full {
        ("3000", "20000")
    } else {
        ("100", "300")
    };

    println!("API figures from `tarn abuse` (32 in flight):");
    let w = abuse(
        &tools,
        &[
            "random-write",
            "lakefs://clibench/main",
            "--prefix",
            "abuse/",
            "--size",
            "1024",
            "--amount",
            writes,
            "--parallelism",
            "32",
        ],
    );
    let r = abuse(
        &tools,
        &[
            "random-read",
            "lakefs://clibench/main",
            "--prefix",
            "abuse/",
            "--amount",
            reads,
            "--parallelism",
            "32",
        ],
    );
    for (what, v) in [("1 KiB uploads", &w), ("stats", &r)] {
        assert_eq!(v["errors"], 0, "{what}: {v}");
        println!(
            "  {what:<14} {:>7.0}/s  p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms",
            v["rate"].as_f64().unwrap(),
            v["latency_ms"]["p50"].as_f64().unwrap(),
            v["latency_ms"]["p90"].as_f64().unwrap(),
            v["latency_ms"]["p99"].as_f64().unwrap(),
        );
    }
    let _ = server.kill();
}
