//! The `tarn` command line's administrative families against a running
//! server: users, groups, policies and credentials; retention rules and
//! collection runs; action files and runs; refs dumps and restores.

use crate::cli::{ids, skip};
use crate::support::cli::Cli;
use crate::support::{namespace, TarnProcess};

#[tokio::test]
async fn users_groups_policies_and_credentials() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    let cli = Cli::for_server(&tarn);
    let out = cli
        .run(&["auth", "users", "create", "--id", "ana"])
        .await
        .ok();
    assert!(out.stdout.contains("User created successfully."), "{out}");
    assert!(ids(&cli.json(&["auth", "users", "list"]).await).contains(&"ana".to_owned()));
    cli.run(&["auth", "users", "create", "--id", "ana"])
        .await
        .fails(1);
    cli.run(&["auth", "groups", "create", "--id", "analysts"])
        .await
        .ok();
    cli.run(&[
        "auth", "groups", "members", "add", "--id", "analysts", "--user", "ana",
    ])
    .await
    .ok();
    assert_eq!(
        ids(&cli
            .json(&["auth", "groups", "members", "list", "--id", "analysts"])
            .await),
        ["ana"]
    );
    assert_eq!(
        ids(&cli
            .json(&["auth", "users", "groups", "list", "--id", "ana"])
            .await),
        ["analysts"]
    );
    let doc = cli.home().join("policy.json");
    std::fs::write(
        &doc,
        r#"{"statement":[{"effect":"allow","action":["fs:ReadObject","fs:ListObjects"],"resource":"arn:lakefs:fs:::repository/*"}]}"#,
    )
    .unwrap();
    let p = cli
        .json(&[
            "auth",
            "policies",
            "create",
            "--id",
            "ReadAll",
            "--statement-document",
            doc.to_str().unwrap(),
        ])
        .await;
    assert_eq!(p["id"], "ReadAll");
    cli.run(&[
        "auth", "groups", "policies", "attach", "--id", "analysts", "--policy", "ReadAll",
    ])
    .await
    .ok();
    let out = cli
        .run(&["auth", "groups", "policies", "list", "--id", "analysts"])
        .await
        .ok();
    assert!(
        out.stdout.contains("ReadAll") && out.stdout.contains("fs:ReadObject, fs:ListObjects"),
        "{out}"
    );
    let eff = cli
        .json(&[
            "auth",
            "users",
            "policies",
            "list",
            "--id",
            "ana",
            "--effective",
        ])
        .await;
    assert_eq!(ids(&eff), ["ReadAll"]);

    // Ana's own key: she can list, not create.
    let key = cli
        .json(&["auth", "users", "credentials", "create", "--id", "ana"])
        .await;
    let (id, secret) = (
        key["access_key_id"].as_str().unwrap(),
        key["secret_access_key"].as_str().unwrap(),
    );
    let listed = cli
        .json(&["auth", "users", "credentials", "list", "--id", "ana"])
        .await;
    assert_eq!(listed[0]["access_key_id"], id);
    let ana = Cli::with_env(vec![
        ("LAKECTL_SERVER_ENDPOINT_URL".into(), tarn.url.clone()),
        ("LAKECTL_CREDENTIALS_ACCESS_KEY_ID".into(), id.into()),
        (
            "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY".into(),
            secret.into(),
        ),
    ]);
    let me = ana.json(&["identity"]).await;
    assert_eq!(me["id"], "ana");
    let out = ana
        .run(&["repo", "create", "lakefs://anas", &namespace("anas")])
        .await
        .fails(1);
    assert!(out.stderr.contains("403"), "{out}");
    cli.run(&[
        "auth",
        "users",
        "credentials",
        "delete",
        "--id",
        "ana",
        "--access-key-id",
        id,
    ])
    .await
    .ok();
    let out = ana.run(&["identity"]).await.fails(1);
    assert!(out.stderr.contains("401"), "{out}");
    cli.run(&[
        "auth", "groups", "policies", "detach", "--id", "analysts", "--policy", "ReadAll",
    ])
    .await
    .ok();
    cli.run(&[
        "auth", "groups", "members", "remove", "--id", "analysts", "--user", "ana",
    ])
    .await
    .ok();
    cli.run(&["auth", "policies", "delete", "--id", "ReadAll"])
        .await
        .ok();
    cli.run(&["auth", "groups", "delete", "--id", "analysts"])
        .await
        .ok();
    cli.run(&["auth", "users", "delete", "--id", "ana"])
        .await
        .ok();
    assert!(!ids(&cli.json(&["auth", "users", "list"]).await).contains(&"ana".to_owned()));
}

#[tokio::test]
async fn retention_collection_actions_and_refs_dumps() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart_with(&[("TARN_JOBS__POLL_INTERVAL_MS", "100")]).await;
    let cli = Cli::for_server(&tarn);
    cli.run(&["repo", "create", "lakefs://clijobs", &namespace("clijobs")])
        .await
        .ok();
    let rules = cli.home().join("rules.json");
    std::fs::write(&rules, r#"{"default_retention_days": 7, "branches": [{"branch_id": "main", "retention_days": 30}]}"#).unwrap();
    cli.run(&[
        "gc",
        "set-config",
        "lakefs://clijobs",
        "-f",
        rules.to_str().unwrap(),
    ])
    .await
    .ok();
    let out = cli
        .run(&["gc", "get-config", "lakefs://clijobs"])
        .await
        .ok();
    assert!(
        out.stdout.contains("Default Retention Days: 7")
            && out.stdout.contains("Retention Days: 30"),
        "{out}"
    );
    let run = cli
        .json(&["gc", "run", "lakefs://clijobs", "--dry-run"])
        .await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["mode"], "dry_run");
    let runs = cli.json(&["gc", "runs", "list", "lakefs://clijobs"]).await;
    assert_eq!(runs[0]["id"], run["id"]);
    // Tree compactions: a run followed to its end, its listing and report.
    let out = cli
        .run(&["compact", "run", "lakefs://clijobs", "--no-progress"])
        .await
        .ok();
    assert!(
        out.stdout.contains("State: succeeded") && out.stdout.contains("Branches looked at: 1"),
        "{out}"
    );
    let compactions = cli.json(&["compact", "list", "lakefs://clijobs"]).await;
    let id = compactions[0]["id"]
        .as_str()
        .expect("a compaction")
        .to_owned();
    let shown = cli
        .json(&["compact", "show", "lakefs://clijobs", &id])
        .await;
    assert_eq!(
        shown["report"]["folded"], 0,
        "a plain tree needs no fold: {shown}"
    );
    let out = cli
        .run(&["compact", "cancel", "lakefs://clijobs", &id])
        .await
        .fails(1);
    assert!(out.stderr.contains("already ended"), "{out}");
    cli.run(&["gc", "delete-config", "lakefs://clijobs"])
        .await
        .ok();
    cli.run(&["gc", "get-config", "lakefs://clijobs"])
        .await
        .fails(1);

    // An action file, validated locally, then run by a commit.
    let action = cli.home().join("a.yaml");
    std::fs::write(
        &action,
        "name: Quiet\non:\n  pre-commit:\nhooks:\n  - id: nothing\n    type: lua\n    properties:\n      script: 'x = 1'\n",
    )
    .unwrap();
    let out = cli
        .run(&["actions", "validate", action.to_str().unwrap()])
        .await
        .ok();
    assert!(out.stdout.contains("valid action \"Quiet\""), "{out}");
    cli.run(&["actions", "validate", "/nonexistent.yaml"])
        .await
        .fails(1);
    cli.run(&[
        "fs",
        "upload",
        "-s",
        action.to_str().unwrap(),
        "lakefs://clijobs/main/_lakefs_actions/a.yaml",
    ])
    .await
    .ok();
    cli.run(&["commit", "lakefs://clijobs/main", "-m", "with an action"])
        .await
        .ok();
    let runs = cli
        .json(&["actions", "runs", "list", "lakefs://clijobs"])
        .await;
    let run_id = runs[0]["run_id"].as_str().unwrap().to_owned();
    assert_eq!(runs[0]["status"], "completed", "{runs}");
    let described = cli
        .json(&["actions", "runs", "describe", "lakefs://clijobs", &run_id])
        .await;
    assert_eq!(described["hooks"][0]["hook_id"], "nothing", "{described}");
    cli.run(&[
        "actions",
        "runs",
        "list",
        "lakefs://clijobs",
        "--branch",
        "main",
        "--commit",
        "x",
    ])
    .await
    .fails(2);

    // Dump the refs, restore them into a bare repository.
    let manifest = cli
        .run(&["refs-dump", "lakefs://clijobs"])
        .await
        .ok()
        .json();
    assert!(manifest["commits_meta_range_id"].is_string(), "{manifest}");
    let repos = cli.json(&["repo", "list"]).await;
    let ns = repos[0]["storage_namespace"].as_str().unwrap().to_owned();
    cli.run(&["repo", "delete", "lakefs://clijobs", "-y"])
        .await
        .ok();
    cli.run(&["repo", "create-bare", "lakefs://clijobs", &ns])
        .await
        .ok();
    cli.run(&["log", "lakefs://clijobs/main"]).await.fails(1);
    let out = cli
        .run_in(
            &cli.home(),
            &["refs-restore", "lakefs://clijobs", "--manifest", "-"],
            &manifest.to_string(),
        )
        .await
        .ok();
    assert!(
        out.stdout.contains("All references restored successfully!"),
        "{out}"
    );
    let restored = cli
        .json(&["log", "lakefs://clijobs/main", "--amount", "1"])
        .await;
    assert_eq!(restored[0]["message"], "with an action");
}
