//! The `tarn` command line against a running server: each command family's
//! success and failure paths, JSON output parsed, exit codes (0 ok, 1
//! error, 2 usage), lakectl's configuration, and a terminal's view.

use crate::support::cli::Cli;
use crate::support::{namespace, Run, TarnProcess};
use serde_json::Value;

/// The command line is a client: the server's backend does not change it.
pub(crate) fn skip() -> bool {
    Run::skip_unless(
        &[Run::DEFAULT],
        "the command line is an API client, the same on every backend",
    )
}

pub(crate) fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn repositories_branches_tags_commits_and_merges() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    let cli = Cli::for_server(&tarn);
    let ns = namespace("clirefs");
    let out = cli
        .run(&["repo", "create", "lakefs://clirefs", &ns])
        .await
        .ok();
    assert!(
        out.stdout.contains("Repository 'clirefs' created:"),
        "{out}"
    );
    assert!(ids(&cli.json(&["repo", "list"]).await).contains(&"clirefs".to_owned()));
    // Pipes get tab-separated rows and no header.
    let out = cli.run(&["repo", "list"]).await.ok();
    assert!(
        out.stdout.lines().any(|l| l.starts_with("clirefs\t")),
        "{out}"
    );
    assert!(!out.stdout.contains("REPOSITORY"), "{out}");

    let out = cli
        .run(&[
            "branch",
            "create",
            "lakefs://clirefs/dev",
            "--source",
            "lakefs://clirefs/main",
        ])
        .await
        .ok();
    assert!(out.stdout.contains("created branch 'dev'"), "{out}");
    let branches = cli.json(&["branch", "list", "lakefs://clirefs"]).await;
    assert_eq!(ids(&branches), ["dev", "main"]);
    let one = cli
        .json(&["branch", "list", "lakefs://clirefs", "--amount", "1"])
        .await;
    assert_eq!(ids(&one), ["dev"]);

    let data = cli.home().join("x.txt");
    std::fs::write(&data, "one").unwrap();
    cli.run(&[
        "fs",
        "upload",
        "-s",
        data.to_str().unwrap(),
        "lakefs://clirefs/dev/x.txt",
    ])
    .await
    .ok();
    let diff = cli.json(&["diff", "lakefs://clirefs/dev"]).await;
    assert_eq!(diff[0]["path"], "x.txt");
    assert_eq!(diff[0]["type"], "added");
    let out = cli.run(&["diff", "lakefs://clirefs/dev"]).await.ok();
    assert!(out.stdout.contains("+ added x.txt"), "{out}");

    // A commit needs a message (usage error, exit 2), takes metadata.
    let out = cli.run(&["commit", "lakefs://clirefs/dev"]).await.fails(2);
    assert!(out.stderr.contains("--allow-empty-message"), "{out}");
    let c = cli
        .json(&[
            "commit",
            "lakefs://clirefs/dev",
            "-m",
            "first",
            "--meta",
            "team=data,run=7",
        ])
        .await;
    assert_eq!(c["message"], "first");
    assert_eq!(c["metadata"]["team"], "data");
    assert_eq!(c["metadata"]["run"], "7");
    let first = c["id"].as_str().unwrap().to_owned();
    let shown = cli
        .json(&["show", "commit", &format!("lakefs://clirefs/{first}")])
        .await;
    assert_eq!(shown["id"], first.as_str());
    let out = cli
        .run(&["show", "commit", &format!("lakefs://clirefs/{first}")])
        .await
        .ok();
    assert!(out.stdout.contains("team               = data"), "{out}");

    std::fs::write(&data, "two").unwrap();
    cli.run(&[
        "fs",
        "upload",
        "-s",
        data.to_str().unwrap(),
        "lakefs://clirefs/dev/y.txt",
    ])
    .await
    .ok();
    cli.run(&["commit", "lakefs://clirefs/dev", "-m", "second"])
        .await
        .ok();
    let log = cli.json(&["log", "lakefs://clirefs/dev"]).await;
    let messages: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["second", "first", "Repository created"]);
    let log = cli
        .json(&["log", "lakefs://clirefs/dev", "--objects", "x.txt"])
        .await;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log[0]["message"], "first");
    let log = cli
        .json(&["log", "lakefs://clirefs/dev", "--amount", "1"])
        .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    let out = cli
        .run(&["log", "lakefs://clirefs/dev", "--oneline"])
        .await
        .ok();
    assert_eq!(out.stdout.lines().count(), 3, "{out}");
    assert!(
        out.stdout.lines().next().unwrap().ends_with(" second"),
        "{out}"
    );
    cli.run(&["log", "lakefs://clirefs/dev", "--since", "yesterday"])
        .await
        .fails(2);

    let two = cli
        .json(&["diff", "lakefs://clirefs/main", "lakefs://clirefs/dev"])
        .await;
    assert_eq!(two.as_array().unwrap().len(), 2, "{two}");
    let base = cli
        .json(&[
            "find-merge-base",
            "lakefs://clirefs/dev",
            "lakefs://clirefs/main",
        ])
        .await;
    assert!(
        base["base_commit_id"]
            .as_str()
            .is_some_and(|b| !b.is_empty()),
        "{base}"
    );
    let out = cli
        .run(&["merge", "lakefs://clirefs/dev", "lakefs://clirefs/main"])
        .await
        .ok();
    assert!(out.stdout.contains("Merged \"dev\" into \"main\""), "{out}");

    // Tags.
    let t = cli
        .json(&[
            "tag",
            "create",
            "lakefs://clirefs/v1",
            &format!("lakefs://clirefs/{first}"),
        ])
        .await;
    assert_eq!(t["commit_id"], first.as_str());
    assert_eq!(
        ids(&cli.json(&["tag", "list", "lakefs://clirefs"]).await),
        ["v1"]
    );
    let out = cli.run(&["tag", "show", "lakefs://clirefs/v1"]).await.ok();
    assert_eq!(out.stdout.trim(), format!("v1 {first}"));
    cli.run(&[
        "tag",
        "create",
        "lakefs://clirefs/v1",
        "lakefs://clirefs/main",
    ])
    .await
    .fails(1);
    cli.run(&[
        "tag",
        "create",
        "lakefs://clirefs/v1",
        "lakefs://clirefs/main",
        "--force",
    ])
    .await
    .ok();
    cli.run(&["tag", "delete", "lakefs://clirefs/v1", "-y"])
        .await
        .ok();
    assert!(ids(&cli.json(&["tag", "list", "lakefs://clirefs"]).await).is_empty());

    // Revert, cherry-pick, reset.
    let out = cli
        .run(&["branch", "revert", "lakefs://clirefs/main", &first, "-y"])
        .await
        .ok();
    assert!(
        out.stdout
            .contains(&format!("commit {first} successfully reverted")),
        "{out}"
    );
    cli.run(&["fs", "stat", "lakefs://clirefs/main/x.txt"])
        .await
        .fails(1);
    let picked = cli
        .json(&[
            "cherry-pick",
            &format!("lakefs://clirefs/{first}"),
            "lakefs://clirefs/main",
        ])
        .await;
    assert!(picked["id"].is_string(), "{picked}");
    cli.run(&["fs", "stat", "lakefs://clirefs/main/x.txt"])
        .await
        .ok();
    cli.run(&[
        "fs",
        "upload",
        "-s",
        data.to_str().unwrap(),
        "lakefs://clirefs/main/z.txt",
    ])
    .await
    .ok();
    cli.run(&[
        "branch",
        "reset",
        "lakefs://clirefs/main",
        "--object",
        "z.txt",
        "-y",
    ])
    .await
    .ok();
    assert_eq!(
        cli.json(&["diff", "lakefs://clirefs/main"]).await,
        Value::Array(vec![])
    );

    // Protection rules.
    cli.run(&["branch-protect", "add", "lakefs://clirefs", "main"])
        .await
        .ok();
    let out = cli
        .run(&["branch-protect", "list", "lakefs://clirefs"])
        .await
        .ok();
    assert_eq!(out.stdout.trim(), "main");
    let out = cli
        .run(&[
            "commit",
            "lakefs://clirefs/main",
            "-m",
            "x",
            "--allow-empty-commit",
        ])
        .await
        .fails(1);
    assert!(out.stderr.contains("403"), "{out}");
    cli.run(&["branch-protect", "delete", "lakefs://clirefs", "main"])
        .await
        .ok();
    cli.run(&["branch-protect", "delete", "lakefs://clirefs", "main"])
        .await
        .fails(1);

    // Failure paths: the server's message and status; bad URIs are usage errors.
    let out = cli
        .run(&["branch", "show", "lakefs://clirefs/nope"])
        .await
        .fails(1);
    assert!(
        out.stderr.contains("not found") && out.stderr.contains("404 Not Found"),
        "{out}"
    );
    let out = cli
        .run(&["branch", "show", "lakefs://Clirefs/main"])
        .await
        .fails(2);
    assert!(out.stderr.contains("invalid repository name"), "{out}");
    let out = cli
        .run(&["branch", "show", "s3://clirefs/main"])
        .await
        .fails(2);
    assert!(out.stderr.contains("malformed lakefs URI"), "{out}");
    cli.run(&["branch", "frobnicate"]).await.fails(2);
    cli.run(&["no-such-command"]).await.fails(2);
    cli.run(&["branch", "delete", "lakefs://clirefs/dev"])
        .await
        .fails(1);
    cli.run(&["branch", "delete", "lakefs://clirefs/dev", "-y"])
        .await
        .ok();
    let out = cli
        .run(&["repo", "delete", "lakefs://clirefs", "--yes"])
        .await
        .ok();
    assert!(out.stdout.contains("Repository 'clirefs' deleted"), "{out}");
}

#[tokio::test]
async fn merge_conflicts_and_strategies() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    let cli = Cli::for_server(&tarn);
    cli.run(&[
        "repo",
        "create",
        "lakefs://climerge",
        &namespace("climerge"),
    ])
    .await
    .ok();
    cli.run(&[
        "branch",
        "create",
        "lakefs://climerge/dev",
        "-s",
        "lakefs://climerge/main",
    ])
    .await
    .ok();
    let f = cli.home().join("f");
    for (branch, text) in [("main", "main's"), ("dev", "dev's")] {
        std::fs::write(&f, text).unwrap();
        cli.run(&[
            "fs",
            "upload",
            "-s",
            f.to_str().unwrap(),
            &format!("lakefs://climerge/{branch}/same"),
        ])
        .await
        .ok();
        cli.run(&["commit", &format!("lakefs://climerge/{branch}"), "-m", text])
            .await
            .ok();
    }
    let out = cli
        .run(&["merge", "lakefs://climerge/dev", "lakefs://climerge/main"])
        .await
        .fails(1);
    assert!(out.stderr.contains("Conflict found."), "{out}");
    cli.run(&[
        "merge",
        "lakefs://climerge/dev",
        "lakefs://climerge/main",
        "--strategy",
        "best",
    ])
    .await
    .fails(2);
    cli.run(&[
        "merge",
        "lakefs://climerge/dev",
        "lakefs://climerge/main",
        "--strategy",
        "source-wins",
        "--squash",
    ])
    .await
    .ok();
    let out = cli
        .run(&["fs", "cat", "lakefs://climerge/main/same"])
        .await
        .ok();
    assert_eq!(out.stdout, "dev's");
    let head = cli
        .json(&["log", "lakefs://climerge/main", "--amount", "1"])
        .await;
    assert_eq!(
        head[0]["parents"].as_array().unwrap().len(),
        1,
        "a squash merge has one parent: {head}"
    );
}

#[tokio::test]
async fn configuration_doctor_completion_and_the_lakectl_name() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    // No configuration at all: the error names the fix.
    let bare = Cli::with_env(vec![]);
    let out = bare.run(&["repo", "list"]).await.fails(1);
    assert!(
        out.stderr.contains("no credentials: run `tarn config`"),
        "{out}"
    );
    assert!(
        out.stderr.contains("LAKECTL_CREDENTIALS_ACCESS_KEY_ID"),
        "{out}"
    );
    // `tarn config` writes ~/.lakectl.yaml (owner-only), read from then on.
    let input = format!(
        "{}\n{}\n{}\n",
        crate::support::KEY,
        crate::support::SECRET,
        tarn.url
    );
    bare.run_in(&bare.home(), &["config"], &input).await.ok();
    let file = bare.home().join(".lakectl.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("access_key_id: AKIAIOSFOLQUICKSTART") && text.contains(&tarn.url),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    bare.run(&["repo", "list"]).await.ok();
    let out = bare.run(&["doctor"]).await.ok();
    assert!(
        out.stdout.contains("credentials valid") && out.stdout.contains("Valid configuration"),
        "{out}"
    );
    // An unknown key is refused, as lakectl does.
    std::fs::write(&file, format!("{text}metastore:\n  type: glue\n")).unwrap();
    let out = bare.run(&["repo", "list"]).await.fails(1);
    assert!(out.stderr.contains("unknown key 'metastore.type'"), "{out}");

    // The doctor says what is wrong.
    let wrong = |key: &str, secret: &str, url: &str| {
        Cli::with_env(vec![
            ("LAKECTL_SERVER_ENDPOINT_URL".into(), url.into()),
            ("LAKECTL_CREDENTIALS_ACCESS_KEY_ID".into(), key.into()),
            (
                "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY".into(),
                secret.into(),
            ),
        ])
    };
    let out = wrong(crate::support::KEY, "not-the-secret", &tarn.url)
        .run(&["doctor"])
        .await
        .fails(1);
    assert!(
        out.stdout
            .contains("`access_key_id` or `secret_access_key` you supplied are wrong"),
        "{out}"
    );
    let out = wrong(
        crate::support::KEY,
        crate::support::SECRET,
        "http://127.0.0.1:9",
    )
    .run(&["doctor"])
    .await
    .fails(1);
    assert!(out.stdout.contains("cannot reach"), "{out}");
    // TLS spoken to a plain HTTP port fails the handshake: named as TLS.
    let https = tarn.url.replace("http://", "https://");
    let out = wrong(crate::support::KEY, crate::support::SECRET, &https)
        .run(&["doctor"])
        .await
        .fails(1);
    assert!(out.stdout.contains("TLS to"), "{out}");
    let ui = format!("{}/ui", tarn.url);
    let out = wrong(crate::support::KEY, crate::support::SECRET, &ui)
        .run(&["doctor"])
        .await
        .fails(1);
    assert!(out.stdout.contains("endpoint url is wrong"), "{out}");
    assert!(
        out.stdout.contains("clock") || out.stdout.contains("not a lakeFS API"),
        "{out}"
    );

    // Completion scripts.
    let cli = Cli::for_server(&tarn);
    for shell in ["bash", "zsh", "fish"] {
        let out = cli.run(&["completion", shell]).await.ok();
        assert!(
            out.stdout.contains("tarn") && out.stdout.contains("branch"),
            "{shell}: {out}"
        );
    }
    cli.run(&["completion", "powershell"]).await.fails(2);

    // As `lakectl` (a symlink): lakectl's commands, not the server's.
    let link = cli.home().join("lakectl");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tarn"), &link).unwrap();
    let out = cli
        .run_as(&link, &cli.home(), &["repo", "list"], "")
        .await
        .ok();
    assert_eq!(out.code, 0);
    let out = cli
        .run_as(&link, &cli.home(), &["run", "--quickstart"], "")
        .await
        .fails(2);
    assert!(out.stderr.contains("lakectl"), "{out}");
    let out = cli.run_as(&link, &cli.home(), &["--help"], "").await.ok();
    assert!(out.stdout.contains("Usage: lakectl"), "{out}");
}

/// Runs `tarn <args>` in a pseudo-terminal (util-linux `script`): what the
/// terminal showed.
async fn in_terminal(cli: &Cli, args: &[&str]) -> String {
    let mut line = vec![env!("CARGO_BIN_EXE_tarn").to_owned()];
    line.extend(args.iter().map(|a| format!("'{a}'")));
    let out = cli
        .command(
            std::path::Path::new("script"),
            &["-qfec", &line.join(" "), "/dev/null"],
            &cli.home(),
        )
        .env("TERM", "xterm-256color")
        .env("COLUMNS", "120")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_terminal_gets_progress_bars_tables_and_colours_and_a_pipe_none() {
    if skip() {
        return;
    }
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("util-linux `script` is needed to run the command line in a pseudo-terminal");
    }
    let (_tarn, cli) = Cli::quickstart_with_repo("clitty").await;
    cli.run(&[
        "branch",
        "create",
        "lakefs://clitty/dev",
        "-s",
        "lakefs://clitty/main",
    ])
    .await
    .ok();
    let big = cli.home().join("big.bin");
    std::fs::write(&big, vec![7u8; 48 << 20]).unwrap();
    let args = [
        "fs",
        "upload",
        "-s",
        big.to_str().unwrap(),
        "lakefs://clitty/main/big.bin",
    ];
    let shown = in_terminal(&cli, &args).await;
    assert!(
        shown.contains("Uploading") && shown.contains("ETA") && shown.contains("/s"),
        "no progress bar in:\n{shown}"
    );
    let piped = cli.run(&args).await.ok();
    assert!(
        !piped.stdout.contains("ETA") && !piped.stderr.contains("ETA"),
        "{piped}"
    );
    assert!(!piped.stderr.contains('\r'), "{piped}");

    let shown = in_terminal(&cli, &["repo", "list"]).await;
    assert!(
        shown.contains("| REPOSITORY") && shown.contains("+-"),
        "no table in:\n{shown}"
    );
    cli.run(&["commit", "lakefs://clitty/main", "-m", "big"])
        .await
        .ok();
    let shown = in_terminal(
        &cli,
        &[
            "diff",
            "lakefs://clitty/dev",
            "lakefs://clitty/main",
            "--two-way",
        ],
    )
    .await;
    assert!(
        shown.contains("\u{1b}[32m+ added big.bin"),
        "no green diff in:\n{shown:?}"
    );
    let piped = cli
        .run(&[
            "diff",
            "lakefs://clitty/dev",
            "lakefs://clitty/main",
            "--two-way",
        ])
        .await
        .ok();
    assert!(
        piped.stdout.contains("+ added big.bin") && !piped.stdout.contains('\u{1b}'),
        "{piped}"
    );
}
