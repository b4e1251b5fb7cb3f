//! `tarn fs` moving data: single objects, standard input, directories both
//! ways (only what changed), an interrupted upload and download resumed,
//! presigned transfers on S3, and the `abuse` load generator.

use crate::support::cli::Cli;
use crate::support::{namespace, Run, TarnProcess};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn tree(root: &Path, files: usize) {
    for i in 0..files {
        let p = root.join(format!("d{}/f{i:04}.txt", i % 7));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, format!("content of file {i}\n").repeat(i % 13 + 1)).unwrap();
    }
}

fn same_trees(a: &Path, b: &Path) {
    let list = |root: &Path| -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<_> = walk(root)
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let (x, y) = (list(a), list(b));
    assert_eq!(x.len(), y.len(), "file counts differ");
    assert!(
        x == y,
        "contents differ between {} and {}",
        a.display(),
        b.display()
    );
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".lakefs_ref")
        {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn objects_one_by_one() {
    if Run::skip_unless(
        &[Run::DEFAULT],
        "the command line is an API client, the same on every backend",
    ) {
        return;
    }
    let (_tarn, cli) = Cli::quickstart_with_repo("clifs").await;
    let f = cli.home().join("a.csv");
    std::fs::write(&f, "a,b\n1,2\n").unwrap();
    let st = cli
        .json(&[
            "fs",
            "upload",
            "-s",
            f.to_str().unwrap(),
            "--content-type",
            "text/csv",
            "lakefs://clifs/main/t/a.csv",
        ])
        .await;
    assert_eq!(st["size_bytes"], 8);
    assert_eq!(st["content_type"], "text/csv");
    let out = cli
        .run_in(
            &cli.home(),
            &["fs", "upload", "-s", "-", "lakefs://clifs/main/t/in.txt"],
            "from stdin",
        )
        .await
        .ok();
    assert!(out.stdout.contains("Size: 10 bytes"), "{out}");
    assert_eq!(
        cli.run(&["fs", "cat", "lakefs://clifs/main/t/in.txt"])
            .await
            .ok()
            .stdout,
        "from stdin"
    );
    let out = cli
        .run(&["fs", "stat", "lakefs://clifs/main/t/a.csv"])
        .await
        .ok();
    assert!(
        out.stdout.contains("Path: t/a.csv") && out.stdout.contains("Content-Type: text/csv"),
        "{out}"
    );
    cli.run(&[
        "fs",
        "update-metadata",
        "lakefs://clifs/main/t/a.csv",
        "--metadata",
        "owner=ana,tier=gold",
    ])
    .await
    .ok();
    let st = cli
        .json(&["fs", "stat", "lakefs://clifs/main/t/a.csv"])
        .await;
    assert_eq!(st["metadata"]["owner"], "ana", "{st}");
    let listed = cli.json(&["fs", "ls", "lakefs://clifs/main/t/"]).await;
    let paths: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["t/a.csv", "t/in.txt"]);
    let out = cli.run(&["fs", "ls", "lakefs://clifs/main/"]).await.ok();
    assert!(
        out.stdout.contains("common_prefix") && out.stdout.trim_end().ends_with("t/"),
        "{out}"
    );

    let dest = cli.home().join("down");
    std::fs::create_dir(&dest).unwrap();
    let out = cli
        .run(&[
            "fs",
            "download",
            "lakefs://clifs/main/t/a.csv",
            dest.to_str().unwrap(),
        ])
        .await
        .ok();
    assert!(
        out.stdout.contains("download: lakefs://clifs/main/t/a.csv"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("a.csv")).unwrap(),
        "a,b\n1,2\n"
    );

    let out = cli
        .run(&["fs", "presign", "lakefs://clifs/main/t/a.csv"])
        .await;
    assert!(out
        .fails(1)
        .stderr
        .contains("Pre-signed URL support is currently disabled"));
    // Stage: a second path for the same data, with metadata.
    let st = cli
        .json(&["fs", "stat", "lakefs://clifs/main/t/a.csv"])
        .await;
    let staged = cli
        .json(&[
            "fs",
            "stage",
            "lakefs://clifs/main/t/same.csv",
            "--location",
            st["physical_address"].as_str().unwrap(),
            "--size",
            "8",
            "--checksum",
            st["checksum"].as_str().unwrap(),
            "--meta",
            "copied=yes",
        ])
        .await;
    assert_eq!(staged["size_bytes"], 8, "{staged}");
    let st = cli
        .json(&["fs", "stat", "lakefs://clifs/main/t/same.csv"])
        .await;
    assert_eq!(st["metadata"]["copied"], "yes", "{st}");
    assert_eq!(
        cli.run(&["fs", "cat", "lakefs://clifs/main/t/same.csv"])
            .await
            .ok()
            .stdout,
        "a,b\n1,2\n"
    );
    cli.run(&["fs", "rm", "lakefs://clifs/main/t/same.csv"])
        .await
        .ok();
    cli.run(&["fs", "rm", "lakefs://clifs/main/t/in.txt"])
        .await
        .ok();
    cli.run(&["fs", "cat", "lakefs://clifs/main/t/in.txt"])
        .await
        .fails(1);
    cli.run(&["fs", "rm", "-r", "lakefs://clifs/main/t/"])
        .await
        .ok();
    assert_eq!(
        cli.json(&["fs", "ls", "-r", "lakefs://clifs/main/"]).await,
        Value::Array(vec![])
    );
    let out = cli
        .run(&[
            "fs",
            "upload",
            "-s",
            cli.home().to_str().unwrap(),
            "lakefs://clifs/main/x",
        ])
        .await
        .fails(2);
    assert!(out.stderr.contains("use -r"), "{out}");
    cli.run(&[
        "fs",
        "upload",
        "-s",
        "/no/such/file",
        "lakefs://clifs/main/x",
    ])
    .await
    .fails(1);
    cli.run(&["fs", "stat", "lakefs://clifs/main"])
        .await
        .fails(2);
}

#[tokio::test]
async fn directories_both_ways_and_interrupted_transfers_resume() {
    if Run::skip_unless(
        &[
            Run::DEFAULT,
            Run {
                database: "postgres",
                s3: true,
            },
        ],
        "an API client: run on the default backend, and on S3 where data moves by presigned URL",
    ) {
        return;
    }
    let (_tarn, cli) = Cli::quickstart_with_repo("clidir").await;
    let src = cli.home().join("src");
    tree(&src, 300);
    // Interrupt a recursive upload part way (one transfer at a time, one
    // request a file as against lakeFS).
    let mut child = cli
        .command(
            Path::new(env!("CARGO_BIN_EXE_tarn")),
            &[
                "fs",
                "upload",
                "-r",
                "--archive=false",
                "-p",
                "1",
                "-s",
                src.to_str().unwrap(),
                "lakefs://clidir/main/data/",
            ],
            &cli.home(),
        )
        .spawn()
        .unwrap();
    let mut staged = 0;
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        staged = cli
            .json(&["diff", "lakefs://clidir/main"])
            .await
            .as_array()
            .unwrap()
            .len();
        if staged >= 20 {
            break;
        }
    }
    child.kill().await.unwrap();
    let _ = child.wait().await;
    assert!(
        (20..300).contains(&staged),
        "stopped after {staged} of 300 uploads"
    );
    // Again: only what is missing is sent.
    let out = cli
        .run(&[
            "fs",
            "upload",
            "-r",
            "-s",
            src.to_str().unwrap(),
            "lakefs://clidir/main/data/",
        ])
        .await
        .ok();
    let uploaded: usize = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Uploaded: "))
        .unwrap_or_else(|| panic!("{out}"))
        .parse()
        .unwrap();
    assert!(
        uploaded <= 300 - staged + 1 && uploaded > 0,
        "resumed with {uploaded} uploads after {staged}: {out}"
    );
    let out = cli
        .run(&[
            "fs",
            "upload",
            "-r",
            "-s",
            src.to_str().unwrap(),
            "lakefs://clidir/main/data/",
        ])
        .await
        .ok();
    assert!(out.stdout.contains("No changes"), "{out}");
    if Run::current().s3 {
        // The server offers presigned URLs here, so the data above moved
        // directly between the command line and S3.
        let url = cli
            .run(&["fs", "presign", "lakefs://clidir/main/data/d0/f0000.txt"])
            .await
            .ok()
            .stdout;
        assert!(url.starts_with("http"), "{url}");
    }
    cli.run(&["commit", "lakefs://clidir/main", "-m", "300 files"])
        .await
        .ok();

    let dest = cli.home().join("dest");
    let out = cli
        .run(&[
            "fs",
            "download",
            "-r",
            "lakefs://clidir/main/data/",
            dest.to_str().unwrap(),
        ])
        .await
        .ok();
    assert!(out.stdout.contains("Downloaded: 300"), "{out}");
    same_trees(&src, &dest);
    // One file changed on the server, one locally: a second download fetches those two.
    std::fs::write(dest.join("d0/f0000.txt"), "local edit").unwrap();
    let f = cli.home().join("new");
    std::fs::write(&f, "new remote version").unwrap();
    cli.run(&[
        "fs",
        "upload",
        "-s",
        f.to_str().unwrap(),
        "lakefs://clidir/main/data/d1/f0001.txt",
    ])
    .await
    .ok();
    let out = cli
        .run(&[
            "fs",
            "download",
            "-r",
            "lakefs://clidir/main/data/",
            dest.to_str().unwrap(),
        ])
        .await
        .ok();
    assert!(out.stdout.contains("Downloaded: 2"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dest.join("d1/f0001.txt")).unwrap(),
        "new remote version"
    );
    cli.run(&[
        "fs",
        "download",
        "-r",
        "lakefs://clidir/main/nothing/",
        dest.to_str().unwrap(),
    ])
    .await
    .fails(1);

    // A partial download is continued, not fetched again: bytes already in
    // the partial file (marked here) are kept, the rest is fetched.
    let big = cli.home().join("big.bin");
    let content: Vec<u8> = (0..(3u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &content).unwrap();
    let st = cli
        .json(&[
            "fs",
            "upload",
            "-s",
            big.to_str().unwrap(),
            "lakefs://clidir/main/big.bin",
        ])
        .await;
    let checksum: String = st["checksum"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let target = cli.home().join("got.bin");
    let mut partial = content[..1 << 20].to_vec();
    partial[..6].copy_from_slice(b"MARKED");
    std::fs::write(
        cli.home().join(format!("got.bin.tarn-partial-{checksum}")),
        &partial,
    )
    .unwrap();
    cli.run(&[
        "fs",
        "download",
        "lakefs://clidir/main/big.bin",
        target.to_str().unwrap(),
    ])
    .await
    .ok();
    let got = std::fs::read(&target).unwrap();
    assert_eq!(got.len(), content.len());
    assert_eq!(
        &got[..6],
        b"MARKED",
        "the partial file's bytes were fetched again"
    );
    assert!(got[6..] == content[6..], "the rest of the object differs");
    assert!(!cli
        .home()
        .join(format!("got.bin.tarn-partial-{checksum}"))
        .exists());
    // The object changes: the old version's partial bytes are not continued.
    std::fs::write(
        cli.home().join(format!("new.bin.tarn-partial-{checksum}")),
        &partial,
    )
    .unwrap();
    let newer: Vec<u8> = content.iter().rev().copied().collect();
    std::fs::write(&big, &newer).unwrap();
    cli.run(&[
        "fs",
        "upload",
        "-s",
        big.to_str().unwrap(),
        "lakefs://clidir/main/big.bin",
    ])
    .await
    .ok();
    let target = cli.home().join("new.bin");
    cli.run(&[
        "fs",
        "download",
        "lakefs://clidir/main/big.bin",
        target.to_str().unwrap(),
    ])
    .await
    .ok();
    assert!(
        std::fs::read(&target).unwrap() == newer,
        "a new version continued the old one's bytes"
    );

    // Objects are never written through a symbolic link in the destination.
    let elsewhere = cli.home().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let trap = cli.home().join("trap");
    std::fs::create_dir(&trap).unwrap();
    std::os::unix::fs::symlink(&elsewhere, trap.join("d0")).unwrap();
    let out = cli
        .run(&[
            "fs",
            "download",
            "-r",
            "lakefs://clidir/main/data/",
            trap.to_str().unwrap(),
        ])
        .await
        .fails(1);
    assert!(out.stderr.contains("is a symbolic link"), "{out}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[tokio::test]
async fn abuse_loads_a_server_and_reports_percentiles() {
    if Run::skip_unless(&[Run::DEFAULT], "a load generator against any server") {
        return;
    }
    let (_tarn, cli) = Cli::quickstart_with_repo("cliload").await;
    let w = cli
        .json(&[
            "abuse",
            "random-write",
            "lakefs://cliload/main",
            "--amount",
            "60",
            "--parallelism",
            "6",
        ])
        .await;
    assert_eq!(
        (w["completed"].as_u64(), w["errors"].as_u64()),
        (Some(60), Some(0)),
        "{w}"
    );
    assert!(
        w["rate"].as_f64().unwrap() > 0.0 && w["latency_ms"]["p99"].as_f64().unwrap() > 0.0,
        "{w}"
    );
    let staged = cli.json(&["diff", "lakefs://cliload/main"]).await;
    assert_eq!(staged.as_array().unwrap().len(), 60);
    let w = cli
        .json(&[
            "abuse",
            "random-write",
            "lakefs://cliload/main",
            "--prefix",
            "up/",
            "--size",
            "1024",
            "--amount",
            "20",
            "--parallelism",
            "4",
        ])
        .await;
    assert_eq!(w["errors"], 0, "{w}");
    let st = cli
        .json(&["fs", "stat", "lakefs://cliload/main/up/file-3"])
        .await;
    assert_eq!(st["size_bytes"], 1024);
    let r = cli
        .json(&[
            "abuse",
            "random-read",
            "lakefs://cliload/main",
            "--prefix",
            "abuse/",
            "--amount",
            "100",
            "--parallelism",
            "10",
        ])
        .await;
    assert_eq!(
        (r["completed"].as_u64(), r["errors"].as_u64()),
        (Some(100), Some(0)),
        "{r}"
    );
    let b = cli
        .json(&[
            "abuse",
            "create-branches",
            "lakefs://cliload/main",
            "--amount",
            "5",
            "--parallelism",
            "2",
        ])
        .await;
    assert_eq!(b["completed"], 5, "{b}");
    assert_eq!(
        cli.json(&["branch", "list", "lakefs://cliload"])
            .await
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let c = cli
        .json(&[
            "abuse",
            "commit",
            "lakefs://cliload/main",
            "--amount",
            "2",
            "--gap",
            "10ms",
        ])
        .await;
    assert_eq!(c["completed"], 2, "{c}");
    let l = cli
        .json(&[
            "abuse",
            "link-same-object",
            "lakefs://cliload/main",
            "--amount",
            "10",
            "--parallelism",
            "2",
        ])
        .await;
    assert_eq!(l["errors"], 0, "{l}");
    // Text output: counts, rate and the histogram.
    let out = cli
        .run(&[
            "abuse",
            "list",
            "lakefs://cliload/main",
            "--amount",
            "10",
            "--parallelism",
            "2",
        ])
        .await
        .ok();
    assert!(
        out.stdout.contains("completed: 10, errors: 0")
            && out.stdout.contains("p50")
            && out.stdout.contains("Histogram (ms):"),
        "{out}"
    );
    let out = cli
        .run(&[
            "abuse",
            "random-read",
            "lakefs://cliload/main",
            "--prefix",
            "none/",
            "--amount",
            "1",
        ])
        .await
        .fails(1);
    assert!(out.stderr.contains("no keys to read"), "{out}");
}

/// Small files in archives (the server is Tarn): an interrupted recursive
/// upload leaves whole batches staged, never part of one, and a second run
/// sends exactly the rest; downloads in archives and one object a request
/// give the same tree, with the files' mtimes.
#[tokio::test]
async fn archived_transfers_stage_whole_batches_and_resume() {
    if Run::skip_unless(
        &[Run::DEFAULT],
        "an API client: the server's backends are covered by the archive API tests",
    ) {
        return;
    }
    const FILES: usize = 4500;
    let tarn = TarnProcess::quickstart().await;
    let cli = Cli::for_server(&tarn);
    cli.run(&[
        "repo",
        "create",
        "lakefs://archived",
        &namespace("archived"),
    ])
    .await
    .ok();
    let src = cli.home().join("src");
    tree(&src, FILES);
    let mut child = cli
        .command(
            Path::new(env!("CARGO_BIN_EXE_tarn")),
            &[
                "fs",
                "upload",
                "-r",
                "-p",
                "1",
                "-s",
                src.to_str().unwrap(),
                "lakefs://archived/main/data/",
            ],
            &cli.home(),
        )
        .spawn()
        .unwrap();
    // Batches of 1,000 files: every count seen is a whole number of them.
    let whole = |n: usize| n.is_multiple_of(1000) || n == FILES;
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let staged = cli
            .json(&["diff", "lakefs://archived/main"])
            .await
            .as_array()
            .unwrap()
            .len();
        assert!(whole(staged), "{staged} files staged: part of a batch");
        if staged >= 1000 {
            break;
        }
    }
    child.kill().await.unwrap();
    let _ = child.wait().await;
    // An archive fully sent before the kill may still be staged by the
    // server: wait until the count holds still.
    let count = || async {
        cli.json(&["diff", "lakefs://archived/main"])
            .await
            .as_array()
            .unwrap()
            .len()
    };
    let mut staged = count().await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = count().await;
        assert!(whole(now), "{now} files staged: part of a batch");
        if now == staged {
            break;
        }
        staged = now;
    }
    assert!(whole(staged) && staged >= 1000, "{staged} staged");
    eprintln!("{staged} of {FILES} files staged when the upload was stopped");
    let out = cli
        .run(&[
            "fs",
            "upload",
            "-r",
            "-s",
            src.to_str().unwrap(),
            "lakefs://archived/main/data/",
        ])
        .await
        .ok();
    if staged < FILES {
        assert!(
            out.stdout
                .contains(&format!("Uploaded: {}", FILES - staged)),
            "resumed after {staged}: {out}"
        );
    } else {
        assert!(out.stdout.contains("No changes"), "{out}");
    }
    let all = cli.json(&["diff", "lakefs://archived/main"]).await;
    assert_eq!(all.as_array().unwrap().len(), FILES);

    // Which way the downloads went, from the server's request counts.
    let http = reqwest::Client::new();
    let requests = |op: &'static str| {
        let (http, url) = (http.clone(), tarn.url.clone());
        async move {
            let samples = crate::operations::scrape(&http, &url).await;
            crate::operations::sum(&samples, "tarn_http_requests_total", &[("operation", op)])
        }
    };
    for (archive, dir, archives) in [("true", "by-archive", 5.0), ("false", "one-by-one", 0.0)] {
        let before = (
            requests("getObjectArchive").await,
            requests("getObject").await,
        );
        let dest = cli.home().join(dir);
        let out = cli
            .run(&[
                "fs",
                "download",
                "-r",
                &format!("--archive={archive}"),
                "lakefs://archived/main/data/",
                dest.to_str().unwrap(),
            ])
            .await
            .ok();
        assert!(
            out.stdout.contains(&format!("Downloaded: {FILES}")),
            "{out}"
        );
        same_trees(&src, &dest);
        let mtime = |root: &Path| {
            std::fs::metadata(root.join("d3/f0010.txt"))
                .unwrap()
                .modified()
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        assert_eq!(mtime(&dest), mtime(&src), "{dir}: mtime");
        let after = (
            requests("getObjectArchive").await,
            requests("getObject").await,
        );
        assert_eq!(after.0 - before.0, archives, "{dir}: archives of 1,000");
        let singles = if archives > 0.0 { 0.0 } else { FILES as f64 };
        assert_eq!(after.1 - before.1, singles, "{dir}: one request a file");
    }
}
