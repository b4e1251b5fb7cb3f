//! `tarn local`: a directory mirroring a lakeFS path. Clone, change,
//! status, commit, pull, checkout; conflicts stop a command before any
//! file is touched; an interrupted operation is remembered.

use crate::support::cli::Cli;
use crate::support::{namespace, Run, TarnProcess};
use serde_json::Value;
use std::path::Path;

fn changes(v: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|c| {
            (
                c["source"].as_str().unwrap().to_owned(),
                c["kind"].as_str().unwrap().to_owned(),
                c["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn c(source: &str, kind: &str, path: &str) -> (String, String, String) {
    (source.into(), kind.into(), path.into())
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[tokio::test]
async fn clone_change_commit_pull_and_conflicts() {
    if Run::skip_unless(
        &[Run::DEFAULT],
        "the command line is an API client, the same on every backend",
    ) {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    let cli = Cli::for_server(&tarn);
    cli.run(&[
        "repo",
        "create",
        "lakefs://clilocal",
        &namespace("clilocal"),
    ])
    .await
    .ok();
    let seed = cli.home().join("seed");
    for (p, text) in [
        ("a.txt", "a"),
        ("b/b.txt", "b"),
        ("b/c.txt", "c"),
        ("outside.txt", "x"),
    ] {
        let f = seed.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    }
    cli.run(&[
        "fs",
        "upload",
        "-r",
        "-s",
        seed.to_str().unwrap(),
        "lakefs://clilocal/main/data/",
    ])
    .await
    .ok();
    cli.run(&["commit", "lakefs://clilocal/main", "-m", "seed"])
        .await
        .ok();

    let one = cli.home().join("one");
    let out = cli
        .run(&[
            "local",
            "clone",
            "lakefs://clilocal/main/data",
            one.to_str().unwrap(),
        ])
        .await
        .ok();
    assert!(out.stdout.contains("Downloaded: 4"), "{out}");
    assert_eq!(read(&one.join("b/c.txt")), "c");
    let index = read(&one.join(".lakefs_ref.yaml"));
    assert!(
        index.contains("src: lakefs://clilocal/main/data/") && index.contains("at_head:"),
        "{index}"
    );
    let status = |dir: &Path| {
        let dir = dir.to_str().unwrap().to_owned();
        let cli = &cli;
        async move { cli.json(&["local", "status", &dir]).await }
    };
    assert_eq!(changes(&status(&one).await), []);
    cli.run(&[
        "local",
        "clone",
        "lakefs://clilocal/main/data/",
        one.to_str().unwrap(),
    ])
    .await
    .fails(1);

    // Local edits: modified, removed, added; a touched file is not a change.
    std::fs::write(one.join("a.txt"), "a, edited").unwrap();
    std::fs::remove_file(one.join("b/b.txt")).unwrap();
    std::fs::write(one.join("new.txt"), "new").unwrap();
    let f = std::fs::File::options()
        .write(true)
        .open(one.join("b/c.txt"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
        .unwrap();
    drop(f);
    assert_eq!(
        changes(&status(&one).await),
        [
            c("local", "added", "new.txt"),
            c("local", "modified", "a.txt"),
            c("local", "removed", "b/b.txt")
        ]
    );
    let out = cli
        .run_in(
            &one,
            &["-o", "json", "local", "commit", "-m", "edits from one"],
            "",
        )
        .await
        .ok()
        .json();
    assert_eq!(
        (out["uploaded"].as_u64(), out["removed"].as_u64()),
        (Some(2), Some(1)),
        "{out}"
    );
    assert_eq!(out["commit"]["message"], "edits from one");
    assert_eq!(changes(&status(&one).await), []);
    assert_eq!(
        cli.run(&["fs", "cat", "lakefs://clilocal/main/data/a.txt"])
            .await
            .ok()
            .stdout,
        "a, edited"
    );
    cli.run(&["fs", "stat", "lakefs://clilocal/main/data/b/b.txt"])
        .await
        .fails(1);
    let log = cli
        .json(&["log", "lakefs://clilocal/main", "--amount", "1"])
        .await;
    assert_eq!(log[0]["message"], "edits from one");
    let out = cli
        .run_in(&one, &["local", "commit", "-m", "nothing"], "")
        .await
        .ok();
    assert!(out.stdout.contains("No changes"), "{out}");

    // A second copy, from before the edits (checked out at the seed).
    let two = cli.home().join("two");
    let seed_commit = cli.json(&["log", "lakefs://clilocal/main"]).await[1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    cli.run(&[
        "local",
        "clone",
        &format!("lakefs://clilocal/{seed_commit}/data/"),
        two.to_str().unwrap(),
    ])
    .await
    .ok();
    assert_eq!(read(&two.join("a.txt")), "a");
    // Point it at main's older state: its index says main at the seed commit.
    let idx = read(&two.join(".lakefs_ref.yaml")).replace(
        &format!("lakefs://clilocal/{seed_commit}/"),
        "lakefs://clilocal/main/",
    );
    std::fs::write(two.join(".lakefs_ref.yaml"), idx).unwrap();
    std::fs::write(two.join("a.txt"), "a, edited in two").unwrap();
    std::fs::write(two.join("b/c.txt"), "c, edited in two").unwrap();
    assert_eq!(
        changes(&status(&two).await),
        [
            c("local", "conflict", "a.txt"),
            c("local", "modified", "b/c.txt"),
            c("remote", "added", "new.txt"),
            c("remote", "removed", "b/b.txt"),
        ]
    );
    // Pull and commit both stop on the conflict and touch nothing.
    let out = cli.run_in(&two, &["local", "pull"], "").await.fails(1);
    assert!(
        out.stderr.contains("a.txt") && out.stderr.contains("Nothing was changed"),
        "{out}"
    );
    let out = cli
        .run_in(&two, &["local", "commit", "-m", "clash"], "")
        .await
        .fails(1);
    assert!(
        out.stderr.contains("Conflicts found") && out.stderr.contains("a.txt"),
        "{out}"
    );
    assert_eq!(read(&two.join("a.txt")), "a, edited in two");
    assert_eq!(read(&two.join("b/b.txt")), "b");
    assert!(!two.join("new.txt").exists());
    // Resolve by dropping two's edit of a.txt (its content back as it was,
    // even with another mtime: the checksum says it is unchanged). A plain
    // pull then goes through, and the non-conflicting edit stays.
    std::fs::write(two.join("a.txt"), "a").unwrap();
    let f = std::fs::File::options()
        .write(true)
        .open(two.join("a.txt"))
        .unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1))
        .unwrap();
    drop(f);
    let out = cli.run_in(&two, &["local", "pull"], "").await.ok();
    assert!(out.stdout.contains("Successfully synced changes!"), "{out}");
    assert_eq!(read(&two.join("a.txt")), "a, edited");
    assert_eq!(read(&two.join("new.txt")), "new");
    assert!(!two.join("b/b.txt").exists());
    assert_eq!(
        read(&two.join("b/c.txt")),
        "c, edited in two",
        "a local edit nobody else made survives a pull"
    );
    assert_eq!(
        changes(&status(&two).await),
        [c("local", "modified", "b/c.txt")]
    );
    cli.run_in(&two, &["local", "commit", "-m", "edit from two"], "")
        .await
        .ok();

    // Back in the first copy: a pull brings two's edit.
    let out = cli.run_in(&one, &["local", "pull"], "").await.ok();
    assert!(out.stdout.contains("Downloaded: 1"), "{out}");
    assert_eq!(read(&one.join("b/c.txt")), "c, edited in two");

    // A pull interrupted after bringing one of two files resumes: run
    // again, it finds that file settled and brings only the other.
    for name in ["p1.txt", "p2.txt"] {
        cli.upload_text(name, &format!("lakefs://clilocal/main/data/{name}"))
            .await;
    }
    cli.run(&["commit", "lakefs://clilocal/main", "-m", "two more"])
        .await
        .ok();
    cli.run(&[
        "fs",
        "download",
        "lakefs://clilocal/main/data/p1.txt",
        one.join("p1.txt").to_str().unwrap(),
    ])
    .await
    .ok();
    let idx = read(&one.join(".lakefs_ref.yaml"))
        .replace("active_operation: ''", "active_operation: pull");
    std::fs::write(one.join(".lakefs_ref.yaml"), idx).unwrap();
    let out = cli.run_in(&one, &["local", "pull"], "").await.ok();
    assert!(out.stdout.contains("Downloaded: 1"), "{out}");
    assert_eq!(read(&one.join("p2.txt")), "p2.txt");
    assert_eq!(changes(&status(&one).await), []);

    // The branch holds a change outside the synced path: commit refuses
    // without --force.
    let f = cli.home().join("stray");
    std::fs::write(&f, "stray").unwrap();
    cli.run(&[
        "fs",
        "upload",
        "-s",
        f.to_str().unwrap(),
        "lakefs://clilocal/main/elsewhere.txt",
    ])
    .await
    .ok();
    std::fs::write(one.join("more.txt"), "more").unwrap();
    let out = cli
        .run_in(&one, &["local", "commit", "-m", "more"], "")
        .await
        .fails(1);
    assert!(
        out.stderr
            .contains("uncommitted changes outside of local path"),
        "{out}"
    );
    // Someone else's upload under the synced path lands in this commit
    // too: the directory gets it, so it is the commit it points at.
    let theirs = cli.home().join("theirs");
    std::fs::write(&theirs, "theirs").unwrap();
    cli.run(&[
        "fs",
        "upload",
        "-s",
        theirs.to_str().unwrap(),
        "lakefs://clilocal/main/data/theirs.txt",
    ])
    .await
    .ok();
    cli.run_in(&one, &["local", "commit", "-m", "more", "--force"], "")
        .await
        .ok();
    assert_eq!(read(&one.join("theirs.txt")), "theirs");
    assert_eq!(changes(&status(&one).await), []);

    // Checkout: revert local changes, or switch to another ref.
    std::fs::write(one.join("more.txt"), "scribble").unwrap();
    std::fs::write(one.join("junk.txt"), "junk").unwrap();
    let out = cli
        .run_in(&one, &["local", "checkout", "-y"], "")
        .await
        .ok();
    assert!(out.stdout.contains("Checkout Summary"), "{out}");
    assert_eq!(read(&one.join("more.txt")), "more");
    assert!(!one.join("junk.txt").exists());
    cli.run_in(
        &one,
        &[
            "local",
            "checkout",
            "-y",
            "--ref",
            &format!("lakefs://clilocal/{seed_commit}"),
        ],
        "",
    )
    .await
    .ok();
    assert_eq!(read(&one.join("a.txt")), "a");
    assert!(!one.join("more.txt").exists());
    assert_eq!(changes(&status(&one).await), []);
    cli.run_in(
        &one,
        &["local", "checkout", "-y", "--ref", "lakefs://other/main"],
        "",
    )
    .await
    .fails(2);

    // An interrupted operation is remembered until a checkout repairs it.
    let idx = read(&one.join(".lakefs_ref.yaml"))
        .replace("active_operation: ''", "active_operation: pull");
    std::fs::write(one.join(".lakefs_ref.yaml"), idx).unwrap();
    let out = cli
        .run(&["local", "status", one.to_str().unwrap()])
        .await
        .fails(1);
    assert!(
        out.stderr.contains("Latest pull operation was interrupted"),
        "{out}"
    );
    cli.run_in(&one, &["local", "checkout", "-y"], "")
        .await
        .ok();
    // After an interrupted commit, checkout still asks before reverting an
    // edit (and with no terminal to ask on, refuses); pull needs --force.
    std::fs::write(one.join("a.txt"), "precious").unwrap();
    let idx = read(&one.join(".lakefs_ref.yaml"))
        .replace("active_operation: ''", "active_operation: commit");
    std::fs::write(one.join(".lakefs_ref.yaml"), idx).unwrap();
    let out = cli.run_in(&one, &["local", "checkout"], "").await.fails(1);
    assert!(out.stderr.contains("pass --yes"), "{out}");
    assert_eq!(read(&one.join("a.txt")), "precious");
    cli.run_in(&one, &["local", "pull"], "").await.fails(1);
    cli.run_in(&one, &["local", "checkout", "-y"], "")
        .await
        .ok();
    assert_eq!(read(&one.join("a.txt")), "a");
    cli.run(&["local", "status", one.to_str().unwrap()])
        .await
        .ok();

    let listed = cli
        .json(&["local", "list", cli.home().to_str().unwrap()])
        .await;
    let dirs: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["directory"].as_str().unwrap())
        .collect();
    assert_eq!(dirs, ["one", "two"]);
    let out = cli
        .run(&["local", "status", cli.home().to_str().unwrap()])
        .await
        .fails(1);
    assert!(
        out.stderr.contains("is not linked to a lakeFS path"),
        "{out}"
    );
    // init links without transferring; an object is not a directory.
    let three = cli.home().join("three");
    cli.run(&[
        "local",
        "init",
        "lakefs://clilocal/main/data/",
        three.to_str().unwrap(),
    ])
    .await
    .ok();
    assert!(!three.join("a.txt").exists());
    cli.run(&[
        "local",
        "init",
        "lakefs://clilocal/main/data/a.txt",
        cli.home().join("four").to_str().unwrap(),
    ])
    .await
    .fails(1);
}

/// A pull where a file became a folder of files, and a folder became a
/// file (small files move in archives, after the local removals): both
/// copies end as the branch is.
#[tokio::test]
async fn a_pull_turns_files_into_folders_and_back() {
    if Run::skip_unless(
        &[Run::DEFAULT],
        "the command line is an API client, the same on every backend",
    ) {
        return;
    }
    let (_tarn, cli) = Cli::quickstart_with_repo("shapes").await;
    let seed = cli.home().join("seed");
    for (p, text) in [("x", "a file"), ("y/inner.txt", "in a folder")] {
        let f = seed.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    }
    let src = seed.to_str().unwrap();
    cli.run(&["fs", "upload", "-r", "-s", src, "lakefs://shapes/main/d/"])
        .await
        .ok();
    cli.run(&["commit", "lakefs://shapes/main", "-m", "seed"])
        .await
        .ok();
    let copy = cli.home().join("copy");
    cli.run(&[
        "local",
        "clone",
        "lakefs://shapes/main/d/",
        copy.to_str().unwrap(),
    ])
    .await
    .ok();
    assert_eq!(read(&copy.join("x")), "a file");
    // On the branch, x becomes a folder and y a file.
    for path in ["d/x", "d/y/inner.txt"] {
        cli.run(&["fs", "rm", &format!("lakefs://shapes/main/{path}")])
            .await
            .ok();
    }
    for (path, text) in [
        ("d/x/one.txt", "one"),
        ("d/x/two.txt", "two"),
        ("d/y", "now a file"),
    ] {
        cli.upload_text(text, &format!("lakefs://shapes/main/{path}"))
            .await;
    }
    cli.run(&["commit", "lakefs://shapes/main", "-m", "shapes"])
        .await
        .ok();
    cli.run_in(&copy, &["local", "pull"], "").await.ok();
    assert_eq!(read(&copy.join("x/one.txt")), "one");
    assert_eq!(read(&copy.join("x/two.txt")), "two");
    assert_eq!(read(&copy.join("y")), "now a file");
}
