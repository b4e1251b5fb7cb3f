//! Garbage collection through the real binary, on every backend: a run
//! started over the API deletes the files of overwritten data and of an
//! expired commit from the store itself, keeps what the branch shows, and
//! reads of collected data answer 410 (API) and `NoSuchVersion` (gateway);
//! `tarn gc run` does the same from the command line beside the server.

use crate::support::api::Api;
use crate::support::{self, run_cli, Run, TarnProcess, KEY, SECRET};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tarn_model::{BlockKey, StorageNamespace};
use tarn_ports::{BlockStore, ErrorKind};

/// Grace period 0 (collect at once) and a quick job runner.
const ENV: [(&str, &str); 2] = [
    ("TARN_GC__GRACE_PERIOD_SECS", "0"),
    ("TARN_JOBS__POLL_INTERVAL_MS", "100"),
];

async fn api() -> Api {
    Api {
        tarn: TarnProcess::quickstart_with(&ENV).await,
        http: reqwest::Client::new(),
    }
}

/// The block store the server writes to, opened by the test itself.
async fn store_of(tarn: &TarnProcess) -> Arc<dyn BlockStore> {
    match support::test_s3() {
        Some((s3, _)) => Arc::new(tarn_adapter_s3::S3BlockStore::connect(&s3).await.unwrap()),
        None => Arc::new(
            tarn_adapter_local::LocalBlockStore::open(tarn.data_dir.path().join("block"))
                .await
                .unwrap(),
        ),
    }
}

/// Whether the file of `address` (a full URI) is in the store.
async fn exists(store: &Arc<dyn BlockStore>, address: &str) -> bool {
    let at = address.rfind("/data/").expect("a data address");
    let ns = StorageNamespace::new(&address[..at]).unwrap();
    let key = BlockKey::new(&address[at + 1..]).unwrap();
    match store.head(&ns, &key).await {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => panic!("head {address}: {e}"),
    }
}

async fn stat_address(api: &Api, repo: &str, reference: &str, path: &str) -> String {
    let (s, v) = api
        .json(
            Method::GET,
            &format!("/repositories/{repo}/refs/{reference}/objects/stat?path={path}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["physical_address"].as_str().unwrap().to_owned()
}

/// Starts a run and waits for it to end; the run as the API shows it.
async fn run_gc(api: &Api, repo: &str, body: Value) -> Value {
    let (s, started) = api
        .json(
            Method::POST,
            &format!("/repositories/{repo}/gc/runs"),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    let id = started["id"].as_str().unwrap().to_owned();
    for _ in 0..300 {
        let (s, run) = api
            .json(
                Method::GET,
                &format!("/repositories/{repo}/gc/runs/{id}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{run}");
        match run["state"].as_str().unwrap() {
            "pending" | "running" => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => return run,
        }
    }
    panic!("gc run {id} did not end within 30 s");
}

#[tokio::test]
async fn a_run_deletes_garbage_from_the_store_and_collected_reads_are_gone() {
    let api = api().await;
    let store = store_of(&api.tarn).await;
    let repo = "gcfiles";
    api.repo(repo).await;
    api.upload(repo, "main", "a.txt", "version one").await;
    let first = api.commit(repo, "main", "one").await;
    let v1 = stat_address(&api, repo, "main", "a.txt").await;
    api.upload(repo, "main", "a.txt", "version two").await;
    api.commit(repo, "main", "two").await;
    let v2 = stat_address(&api, repo, "main", "a.txt").await;
    // Staged and then overwritten before any commit.
    api.upload(repo, "main", "b.txt", "draft").await;
    let draft = stat_address(&api, repo, "main", "b.txt").await;
    api.upload(repo, "main", "b.txt", "final").await;
    let fin = stat_address(&api, repo, "main", "b.txt").await;
    for a in [&v1, &v2, &draft, &fin] {
        assert!(exists(&store, a).await, "{a} was written");
    }

    // A dry run reports, deletes nothing and cannot be swept.
    let dry = run_gc(&api, repo, json!({"mode": "dry_run"})).await;
    assert_eq!(dry["state"], "succeeded", "{dry}");
    assert_eq!(dry["report"]["garbage"]["objects"], 1, "{dry}");
    assert!(exists(&store, &draft).await);
    let (s, v) = api
        .json(
            Method::POST,
            &format!("/repositories/{repo}/gc/runs"),
            Some(json!({"mode": "sweep", "sweep_run": dry["id"]})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // No rules: commits are kept; only the overwritten draft goes.
    let run = run_gc(&api, repo, json!({})).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["report"]["deleted"]["objects"], 1, "{run}");
    assert!(!exists(&store, &draft).await, "the draft's file is gone");
    assert!(exists(&store, &v1).await && exists(&store, &v2).await);

    // Zero days: only the head is kept; the first commit's data goes.
    let (s, v) = api
        .json(
            Method::PUT,
            &format!("/repositories/{repo}/settings/gc_rules"),
            Some(json!({"default_retention_days": 0, "branches": []})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let marked = run_gc(&api, repo, json!({"mode": "mark_only"})).await;
    assert_eq!(marked["report"]["garbage"]["objects"], 1, "{marked}");
    assert!(exists(&store, &v1).await, "mark-only deletes nothing");
    let swept = run_gc(
        &api,
        repo,
        json!({"mode": "sweep", "sweep_run": marked["id"]}),
    )
    .await;
    assert_eq!(swept["state"], "succeeded", "{swept}");
    assert!(
        !exists(&store, &v1).await,
        "the expired commit's file is gone"
    );
    for a in [&v2, &fin] {
        assert!(exists(&store, a).await, "{a} is live");
    }

    // What the branch shows reads back; the expired commit's data is gone.
    let read = |reference: String| {
        api.req(
            Method::GET,
            &format!("/repositories/{repo}/refs/{reference}/objects?path=a.txt"),
        )
        .send()
    };
    let now = read("main".into()).await.unwrap();
    assert_eq!(now.status(), StatusCode::OK);
    assert_eq!(now.text().await.unwrap(), "version two");
    let old_commit = first["id"].as_str().unwrap().to_owned();
    let gone = read(old_commit.clone()).await.unwrap();
    assert_eq!(gone.status(), StatusCode::GONE);
    let body: Value = gone.json().await.unwrap();
    assert!(body["message"].as_str().is_some(), "{body}");
    let s3 = support::s3_client(&api.tarn.url, SECRET);
    let err = s3
        .get_object()
        .bucket(repo)
        .key(format!("{old_commit}/a.txt"))
        .send()
        .await
        .expect_err("collected data is not served");
    let code = err.into_service_error().meta().code().map(str::to_owned);
    assert_eq!(code.as_deref(), Some("NoSuchVersion"));

    // Runs are listed, newest last, with their modes.
    let (s, runs) = api
        .json(Method::GET, &format!("/repositories/{repo}/gc/runs"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let modes: Vec<&str> = runs["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, vec!["dry_run", "full", "mark_only", "sweep"]);
    let _ = KEY;
}

#[tokio::test]
async fn bad_run_requests_are_refused() {
    let api = api().await;
    api.repo("gcbad").await;
    for (body, want) in [
        (json!({"mode": "tidy"}), StatusCode::BAD_REQUEST),
        (json!({"mode": "sweep"}), StatusCode::BAD_REQUEST),
        (
            json!({"mode": "full", "sweep_run": "x"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"as_of": "yesterday"}), StatusCode::BAD_REQUEST),
        (
            json!({"mode": "sweep", "sweep_run": "nosuchrun"}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, v) = api
            .json(
                Method::POST,
                "/repositories/gcbad/gc/runs",
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, want, "{body}: {v}");
        assert!(v["message"].is_string(), "{v}");
    }
    let (s, _) = api
        .json(
            Method::POST,
            "/repositories/nosuchrepo/gc/runs",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .json(Method::GET, "/repositories/gcbad/gc/runs/nosuchrun", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// `tarn gc run` beside the live server, on the same database and store.
#[tokio::test]
async fn the_command_line_collects_beside_a_running_server() {
    if Run::skip_unless(
        &[
            Run::SQLITE,
            Run::POSTGRES,
            Run {
                database: "postgres",
                s3: true,
            },
        ],
        "the command line needs a database it shares with the server",
    ) {
        return;
    }
    let mut env = support::database_env().await;
    env.extend(support::blockstore_env());
    env.extend(ENV.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let tarn = TarnProcess::start(tempfile::tempdir().unwrap(), &env).await;
    let api = Api {
        tarn,
        http: reqwest::Client::new(),
    };
    let store = store_of(&api.tarn).await;
    api.repo("gccli").await;
    api.upload("gccli", "main", "x", "old").await;
    let old = stat_address(&api, "gccli", "main", "x").await;
    api.upload("gccli", "main", "x", "new").await;
    let cli_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = api.tarn.data_dir.path().to_owned();
    let (ok, out, err) = run_cli(
        &[
            "admin",
            "gc",
            "run",
            "--quickstart",
            "--repository",
            "gccli",
            "--dry-run",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("garbage") && out.contains("dry run"), "{out}");
    assert!(exists(&store, &old).await);
    let (ok, out, err) = run_cli(
        &[
            "admin",
            "gc",
            "run",
            "--quickstart",
            "--repository",
            "gccli",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("deleted"), "{out}");
    assert!(
        !exists(&store, &old).await,
        "the CLI's run deleted the file"
    );
    let (ok, _, err) = run_cli(
        &[
            "admin",
            "gc",
            "run",
            "--quickstart",
            "--repository",
            "gccli",
            "--as-of",
            "soon",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(!ok && err.contains("RFC 3339"), "{err}");
}

/// `gc.schedule`: runs start by themselves and collect.
#[tokio::test]
async fn a_schedule_starts_runs_by_itself() {
    let mut env: Vec<(&str, &str)> = ENV.to_vec();
    env.push(("TARN_GC__SCHEDULE", "1s"));
    let api = Api {
        tarn: TarnProcess::quickstart_with(&env).await,
        http: reqwest::Client::new(),
    };
    api.repo("gcsched").await;
    api.upload("gcsched", "main", "x", "first").await;
    let first = stat_address(&api, "gcsched", "main", "x").await;
    api.upload("gcsched", "main", "x", "second").await;
    let store = store_of(&api.tarn).await;
    for _ in 0..300 {
        if !exists(&store, &first).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !exists(&store, &first).await,
        "a scheduled run collected it"
    );
    let (s, runs) = api
        .json(Method::GET, "/repositories/gcsched/gc/runs", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let runs = runs["results"].as_array().unwrap();
    assert!(
        !runs.is_empty() && runs.iter().all(|r| r["mode"] == "full"),
        "{runs:?}"
    );
}
