//! Zero-copy import through the real binary on the S3 run: prefixes and
//! single objects from the test bucket, destination replacement, refused
//! sources, and a collection afterwards that leaves imported data alone.

use crate::support::api::Api;
use crate::support::{self, TarnProcess};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tarn_model::{BlockKey, StorageNamespace};
use tarn_ports::{BlockStore, ByteStream};

async fn wait_import(api: &Api, repo: &str, id: &str) -> Value {
    for _ in 0..300 {
        let (s, v) = api
            .json(
                Method::GET,
                &format!("/repositories/{repo}/branches/main/import?id={id}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["completed"] == true || v.get("error").is_some() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} did not end");
}

#[tokio::test]
async fn imports_from_s3_replace_the_destination_and_survive_collection() {
    let Some((settings, bucket)) = support::test_s3() else {
        support::Run::skip_unless(&[], "imports read S3 sources: the S3 run only");
        return;
    };
    let store = tarn_adapter_s3::S3BlockStore::connect(&settings)
        .await
        .unwrap();
    let prefix = tarn_adapter_s3::testing::unique_prefix("import-src");
    let src_ns = StorageNamespace::new(format!("s3://{bucket}")).unwrap();
    let files = [("a.csv", "A"), ("dir/b.csv", "BB"), ("dir/c.csv", "CCC")];
    for (k, v) in files {
        store
            .put(
                &src_ns,
                &BlockKey::new(format!("{prefix}/{k}")).unwrap(),
                ByteStream::from_bytes(v.as_bytes().to_vec()),
                Some(v.len() as u64),
            )
            .await
            .unwrap();
    }
    let api = Api {
        tarn: TarnProcess::quickstart_with(&[
            ("TARN_GC__GRACE_PERIOD_SECS", "0"),
            ("TARN_JOBS__POLL_INTERVAL_MS", "100"),
        ])
        .await,
        http: reqwest::Client::new(),
    };
    api.repo("imports").await;
    api.upload("imports", "main", "lake/old.csv", "gone after the import")
        .await;
    api.upload("imports", "main", "other.txt", "stays").await;
    api.commit("imports", "main", "before").await;
    let uri = format!("s3://{bucket}/{prefix}/");
    let (s, started) = api
        .json(
            Method::POST,
            "/repositories/imports/branches/main/import",
            Some(json!({
                "paths": [
                    {"type": "common_prefix", "path": uri, "destination": "lake/"},
                    {"type": "object", "path": format!("{uri}a.csv"), "destination": "one.csv"}
                ],
                "commit": {"message": "import", "metadata": {"source": "test"}}
            })),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    let status = wait_import(&api, "imports", started["id"].as_str().unwrap()).await;
    assert_eq!(status["completed"], true, "{status}");
    assert_eq!(status["ingested_objects"], 4);
    assert_eq!(status["commit"]["message"], "import");
    let (_, listing) = api
        .json(
            Method::GET,
            "/repositories/imports/refs/main/objects/ls?amount=100",
            None,
        )
        .await;
    let paths: Vec<&str> = listing["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![
            "lake/a.csv",
            "lake/dir/b.csv",
            "lake/dir/c.csv",
            "one.csv",
            "other.txt"
        ]
    );

    // Collect with no grace period and zero-day retention (the commit
    // before the import expires): imported data is never a candidate.
    let (s, v) = api
        .json(
            Method::PUT,
            "/repositories/imports/settings/gc_rules",
            Some(json!({"default_retention_days": 0, "branches": []})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, run) = api
        .json(
            Method::POST,
            "/repositories/imports/gc/runs",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{run}");
    let id = run["id"].as_str().unwrap().to_owned();
    loop {
        let (_, r) = api
            .json(
                Method::GET,
                &format!("/repositories/imports/gc/runs/{id}"),
                None,
            )
            .await;
        if !matches!(r["state"].as_str(), Some("pending" | "running")) {
            assert_eq!(r["state"], "succeeded", "{r}");
            assert_eq!(
                r["report"]["deleted"]["objects"], 1,
                "only lake/old.csv's data: {r}"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (k, v) in files {
        let got = api
            .req(
                Method::GET,
                &format!("/repositories/imports/refs/main/objects?path=lake/{k}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(got.text().await.unwrap(), v);
        assert!(store
            .head(&src_ns, &BlockKey::new(format!("{prefix}/{k}")).unwrap())
            .await
            .is_ok());
    }

    // Sources that cannot be read are refused when submitted.
    for path in [
        format!("s3://no-such-bucket-{}/x/", std::process::id()),
        "local://somewhere/x/".to_owned(),
        format!("{uri}missing.csv"),
    ] {
        let kind = if path.ends_with('/') {
            "common_prefix"
        } else {
            "object"
        };
        let (s, v) = api
            .json(
                Method::POST,
                "/repositories/imports/branches/main/import",
                Some(json!({
                    "paths": [{"type": kind, "path": path, "destination": "x/y"}],
                    "commit": {"message": "bad"}
                })),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {v}");
    }
}

/// `tarn import` beside the live server (the S3 run, on PostgreSQL).
#[tokio::test]
async fn the_command_line_imports_beside_a_running_server() {
    let Some((settings, bucket)) = support::test_s3() else {
        support::Run::skip_unless(&[], "imports read S3 sources: the S3 run only");
        return;
    };
    let store = tarn_adapter_s3::S3BlockStore::connect(&settings)
        .await
        .unwrap();
    let prefix = tarn_adapter_s3::testing::unique_prefix("import-cli");
    let src_ns = StorageNamespace::new(format!("s3://{bucket}")).unwrap();
    for k in ["x.parquet", "y/z.parquet"] {
        store
            .put(
                &src_ns,
                &BlockKey::new(format!("{prefix}/{k}")).unwrap(),
                ByteStream::from_bytes(k.as_bytes().to_vec()),
                Some(k.len() as u64),
            )
            .await
            .unwrap();
    }
    let mut env = support::database_env().await;
    env.extend(support::blockstore_env());
    let api = Api {
        tarn: TarnProcess::start(tempfile::tempdir().unwrap(), &env).await,
        http: reqwest::Client::new(),
    };
    api.repo("cliimport").await;
    let cli_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = api.tarn.data_dir.path().to_owned();
    let from = format!("s3://{bucket}/{prefix}/");
    let (ok, out, err) = support::run_cli(
        &[
            "admin",
            "import",
            "--quickstart",
            "--from",
            &from,
            "--to",
            "lakefs://cliimport/main/in/",
            "-m",
            "from the cli",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("imported 2 objects"), "{out}");
    for k in ["x.parquet", "y/z.parquet"] {
        let got = api
            .req(
                Method::GET,
                &format!("/repositories/cliimport/refs/main/objects?path=in/{k}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(got.text().await.unwrap(), k);
    }
    let (_, log) = api
        .json(
            Method::GET,
            "/repositories/cliimport/refs/main/commits?amount=1",
            None,
        )
        .await;
    assert_eq!(log["results"][0]["message"], "from the cli");
    let (ok, _, err) = support::run_cli(
        &[
            "admin",
            "import",
            "--quickstart",
            "--from",
            &format!("{from}nothing/"),
            "--to",
            "lakefs://cliimport/main/in/",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(!ok && err.contains("no objects"), "{err}");

    // The client: the server runs the import, the command follows it.
    let cli = crate::support::cli::Cli::for_server(&api.tarn);
    let out = cli
        .run(&[
            "import",
            "--from",
            &from,
            "--to",
            "lakefs://cliimport/main/again/",
            "-m",
            "client import",
        ])
        .await
        .ok();
    assert!(
        out.stdout
            .contains("Import of 2 object(s) into \"main\" completed."),
        "{out}"
    );
    assert_eq!(
        cli.run(&["fs", "cat", "lakefs://cliimport/main/again/y/z.parquet"])
            .await
            .ok()
            .stdout,
        "y/z.parquet"
    );
    let out = cli
        .run(&[
            "import",
            "--from",
            &format!("{from}nothing/"),
            "--to",
            "lakefs://cliimport/main/again/",
        ])
        .await
        .fails(1);
    assert!(out.stderr.contains("no objects"), "{out}");
}

/// Importing local directories: only under the allowed prefixes, never
/// through `..` or a symbolic link out of them.
#[tokio::test]
async fn local_directories_import_only_under_the_allowed_prefixes() {
    if support::test_s3().is_some() {
        support::Run::skip_unless(&[], "local directories import on the local store's runs");
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "never read").unwrap();
    let allowed = tempfile::tempdir().unwrap();
    let src = allowed.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.csv"), "a,1").unwrap();
    std::fs::write(src.join("sub/b.csv"), "b,2").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), src.join("link.txt")).unwrap();
    let allowed_path = allowed.path().display().to_string();
    let api = Api {
        tarn: TarnProcess::quickstart_with(&[
            ("TARN_BLOCKSTORE__LOCAL__IMPORT_ENABLED", "true"),
            (
                "TARN_BLOCKSTORE__LOCAL__ALLOWED_EXTERNAL_PREFIXES",
                &allowed_path,
            ),
            ("TARN_JOBS__POLL_INTERVAL_MS", "100"),
        ])
        .await,
        http: reqwest::Client::new(),
    };
    let (_, config) = api.json(Method::GET, "/config", None).await;
    assert_eq!(config["storage_config"]["import_support"], true, "{config}");
    api.repo("localimport").await;
    let start = |path: String, kind: &'static str, destination: &'static str| {
        let api = &api;
        async move {
            api.json(
                Method::POST,
                "/repositories/localimport/branches/main/import",
                Some(json!({
                    "paths": [{"type": kind, "path": path, "destination": destination}],
                    "commit": {"message": "local import"}
                })),
            )
            .await
        }
    };
    let (s, started) = start(
        format!("local://{}/", src.display()),
        "common_prefix",
        "in/",
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    let status = wait_import(&api, "localimport", started["id"].as_str().unwrap()).await;
    assert_eq!(status["completed"], true, "{status}");
    assert_eq!(
        status["ingested_objects"], 2,
        "the symbolic link is skipped: {status}"
    );
    // An import that ended cannot be canceled; an unknown one is 404.
    let id = started["id"].as_str().unwrap();
    let (s, v) = api
        .json(
            Method::DELETE,
            &format!("/repositories/localimport/branches/main/import?id={id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("already ended"),
        "{v}"
    );
    let (s, v) = api
        .json(
            Method::DELETE,
            "/repositories/localimport/branches/main/import?id=nosuchimport",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    for (path, body) in [("in/a.csv", "a,1"), ("in/sub/b.csv", "b,2")] {
        let got = api
            .req(
                Method::GET,
                &format!("/repositories/localimport/refs/main/objects?path={path}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), StatusCode::OK, "{path}");
        assert_eq!(got.text().await.unwrap(), body);
    }
    // Refused when submitted, and nothing outside is read.
    for (path, kind) in [
        (
            format!("local://{}/", outside.path().display()),
            "common_prefix",
        ),
        (format!("local://{}/../", src.display()), "common_prefix"),
        (format!("local://{}/link.txt", src.display()), "object"),
    ] {
        let (s, v) = start(path.clone(), kind, "bad/x").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {v}");
    }
}
