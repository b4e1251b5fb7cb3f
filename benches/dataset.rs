//! Versioning a directory of small files (`make bench`), the small-files
//! issue's end-to-end figures: 10,000 and 100,000 files of 1 KiB in 100
//! folders, through `tarn` (a release server on SQLite + a local
//! directory, the command line on the same machine) against Oxen and DVC
//! (PyPI `oxenai` and `dvc`, in the bench's own virtual environment
//! `.venv-bench`, which `make bench` makes), same files, same run, each
//! tool on its own copy. Steps:
//!
//! - ingest: tarn `fs upload -r` + `commit`; Oxen init, add, commit; DVC
//!   `dvc add`, `git commit`, `dvc push` to a local remote;
//! - read back: tarn `fs download -r` into an empty directory; Oxen
//!   `restore` of its data moved aside; DVC `dvc pull` with data and cache
//!   moved aside;
//! - modify 1,000 files and commit: tarn `local clone` (timed apart), then
//!   `local commit`; Oxen add + commit; DVC add, git commit, push.
//!
//! Goals: tarn fastest on every step, and ingest + commit of 100,000 files
//! under 30 s. Without `--bench` (under `cargo test --all-targets`) it runs
//! tarn alone on 300 files, to prove the steps work, not to measure.
//! `DATASET_SIZES=10000` limits the sizes; `BENCH_VENV` overrides the
//! virtual environment.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MODIFY: usize = 1000;

fn make_tree(root: &Path, files: usize) {
    let mut buf = vec![0u8; 1024];
    for i in 0..files {
        support::fill(&mut buf, i as u64 + 11);
        let p = root.join(format!("part-{:03}/file-{i:06}.bin", i % 100));
        if i < 100 {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        }
        std::fs::write(p, &buf).unwrap();
    }
}

/// Appends a line to the first `count` files of `root`, in path order.
fn modify(root: &Path, count: usize) {
    let mut files = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    files.sort();
    for f in files.iter().take(count) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(f).unwrap();
        file.write_all(b"modified\n").unwrap();
    }
}

fn count_files(root: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

/// The CPU time (user + system) a process has used.
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

struct Tarn {
    url: String,
    home: tempfile::TempDir,
}

impl Tarn {
    /// Runs a command (transfers without progress bars); how long it took.
    fn run(&self, args: &[&str]) -> Duration {
        let t = Instant::now();
        let mut cmd = support::tarn_command(self.home.path(), &self.url);
        cmd.args(args);
        if matches!(args.first(), Some(&"fs") | Some(&"local")) {
            cmd.arg("--no-progress");
        }
        let out = cmd.output().unwrap();
        let took = t.elapsed();
        assert!(
            out.status.success(),
            "tarn {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        took
    }
}

/// Seconds of each step, by tool.
struct Steps {
    ingest: f64,
    read_back: f64,
    modify_commit: f64,
}

fn tarn_steps(tarn: &Tarn, server_pid: u32, work: &Path, src: &Path, files: usize) -> Steps {
    let repo = format!("ds{files}");
    tarn.run(&[
        "repo",
        "create",
        &format!("lakefs://{repo}"),
        &format!("local://{repo}"),
    ]);
    let cpu0 = cpu(server_pid);
    let up = tarn.run(&[
        "fs",
        "upload",
        "-r",
        "-s",
        src.to_str().unwrap(),
        &format!("lakefs://{repo}/main/data/"),
    ]);
    let commit = tarn.run(&["commit", &format!("lakefs://{repo}/main"), "-m", "ingest"]);
    let server_cpu = cpu(server_pid) - cpu0;
    let down_dir = work.join(format!("tarn-down-{files}"));
    let down = tarn.run(&[
        "fs",
        "download",
        "-r",
        &format!("lakefs://{repo}/main/data/"),
        down_dir.to_str().unwrap(),
    ]);
    assert_eq!(count_files(&down_dir), files, "download incomplete");
    let clone_dir = work.join(format!("tarn-clone-{files}"));
    let clone = tarn.run(&[
        "local",
        "clone",
        &format!("lakefs://{repo}/main/data/"),
        clone_dir.to_str().unwrap(),
    ]);
    assert_eq!(count_files(&clone_dir), files, "clone incomplete");
    let modified = MODIFY.min(files);
    modify(&clone_dir, modified);
    let local_commit = tarn.run(&[
        "local",
        "commit",
        clone_dir.to_str().unwrap(),
        "-m",
        "modify",
    ]);
    println!(
        "  tarn  {files:>6} files: upload -r {:.2}s + commit {:.2}s (server CPU {:.2}s, {:.0} us a file); download -r {:.2}s; local clone {:.2}s; modify {modified} + local commit {:.2}s",
        up.as_secs_f64(),
        commit.as_secs_f64(),
        server_cpu.as_secs_f64(),
        server_cpu.as_secs_f64() * 1e6 / files as f64,
        down.as_secs_f64(),
        clone.as_secs_f64(),
        local_commit.as_secs_f64(),
    );
    Steps {
        ingest: (up + commit).as_secs_f64(),
        read_back: down.as_secs_f64(),
        modify_commit: local_commit.as_secs_f64(),
    }
}

/// Oxen's or DVC's steps, from `dataset_tools.py` in the bench venv.
fn other_steps(
    python: &Path,
    tool: &str,
    (work, src): (&Path, &Path),
    files: usize,
    home: &Path,
) -> Steps {
    let dir = work.join(format!("{tool}-{files}"));
    std::fs::create_dir_all(&dir).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/dataset_tools.py");
    let out = Command::new(python)
        .arg(script)
        .args([tool, dir.to_str().unwrap(), src.to_str().unwrap()])
        .arg(MODIFY.to_string())
        .env("HOME", home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{tool}: {e}: {stdout}"));
    let s = |k: &str| v[k].as_f64().unwrap();
    println!(
        "  {tool:<5} ingest {:.2}s; read back {:.2}s; modify {MODIFY} + commit {:.2}s",
        s("ingest"),
        s("restore"),
        s("modify_commit"),
    );
    Steps {
        ingest: s("ingest"),
        read_back: s("restore"),
        modify_commit: s("modify_commit"),
    }
}

/// Waits for the file system to forget files deleted before the run
/// (`sync`, then `TARN_BENCH_SETTLE_SECS`, 65 by default). On ext4 without
/// a journal, as on the machine these figures come from, every file
/// created within a minute of many deletions costs several times more
/// (the inode allocator skips recently deleted inodes). Nothing is
/// deleted during the run either: every directory stays until the end,
/// and Oxen's and DVC's read-back steps move their data aside, not away.
fn settle() {
    let secs = std::env::var("TARN_BENCH_SETTLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(65);
    let _ = Command::new("sync").status();
    println!("(settling the file system for {secs} s)");
    std::thread::sleep(Duration::from_secs(secs));
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = match std::env::var("DATASET_SIZES") {
        Ok(v) => v.split(',').map(|s| s.trim().parse().unwrap()).collect(),
        Err(_) if full => vec![10_000, 100_000],
        Err(_) => vec![300],
    };
    let venv = std::env::var_os("BENCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-bench"));
    let python = venv.join("bin/python");
    let others = full && {
        assert!(
            python.exists(),
            "no {} (make bench makes it with oxenai and dvc; BENCH_VENV overrides)",
            python.display()
        );
        true
    };
    if full {
        settle();
    }
    let data = tempfile::tempdir().unwrap();
    let (mut server, url) = support::start(data.path());
    let tarn = Tarn {
        url,
        home: tempfile::tempdir().unwrap(),
    };
    let work = tempfile::tempdir().unwrap();
    println!(
        "versioning a directory of 1 KiB files in 100 folders: tarn (release server, SQLite + local) vs Oxen and DVC, same files, same run"
    );
    for files in sizes {
        let src = work.path().join(format!("src-{files}"));
        make_tree(&src, files);
        let t = tarn_steps(&tarn, server.id(), work.path(), &src, files);
        if !others {
            continue;
        }
        for tool in ["oxen", "dvc"] {
            let o = other_steps(&python, tool, (work.path(), &src), files, tarn.home.path());
            for (step, tarn_s, other_s) in [
                ("ingest + commit", t.ingest, o.ingest),
                ("read back", t.read_back, o.read_back),
                ("modify + commit", t.modify_commit, o.modify_commit),
            ] {
                let ratio = other_s / tarn_s;
                println!(
                    "    {files:>6} files, {step:<16} tarn {tarn_s:>7.2}s  {tool} {other_s:>7.2}s  {tool}/tarn {ratio:>6.1}x (goal > 1x){}",
                    if ratio > 1.0 { "" } else { "  BELOW GOAL" }
                );
            }
        }
        println!(
            "    {files:>6} files, ingest + commit {:.2}s (goal for 100,000: < 30 s){}",
            t.ingest,
            if files >= 100_000 && t.ingest >= 30.0 {
                "  BELOW GOAL"
            } else {
                ""
            }
        );
    }
    let _ = server.kill();
}
