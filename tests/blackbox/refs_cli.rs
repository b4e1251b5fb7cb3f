//! `tarn refs-dump` and `tarn refs-restore` beside a running server: dump,
//! delete the repository, create a bare one on the same namespace, restore;
//! every branch, tag and commit log reads back as it was.

use crate::support::api::Api;
use crate::support::{self, run_cli, Run, TarnProcess};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn log(api: &Api, reference: &str) -> Vec<String> {
    let (s, v) = api
        .json(
            Method::GET,
            &format!("/repositories/refscli/refs/{reference}/commits"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn refs_dump_and_restore_from_the_command_line() {
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
    let api = Api {
        tarn: TarnProcess::start(tempfile::tempdir().unwrap(), &env).await,
        http: reqwest::Client::new(),
    };
    api.repo("refscli").await;
    api.upload("refscli", "main", "a.txt", "one").await;
    api.commit("refscli", "main", "first").await;
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/refscli/tags",
            Some(json!({"id": "v1", "ref": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/refscli/branches",
            Some(json!({"name": "dev", "source": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    api.upload("refscli", "dev", "b.txt", "two").await;
    api.commit("refscli", "dev", "second").await;
    let before: Vec<Vec<String>> = vec![
        log(&api, "main").await,
        log(&api, "dev").await,
        log(&api, "v1").await,
    ];

    let cli_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = api.tarn.data_dir.path().to_owned();
    let (ok, manifest, err) = run_cli(
        &[
            "admin",
            "refs-dump",
            "--quickstart",
            "--repository",
            "refscli",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(ok, "{manifest}\n{err}");
    let parsed: Value = serde_json::from_str(&manifest).unwrap();
    assert!(parsed["commits_meta_range_id"].is_string(), "{manifest}");

    let (_, repo) = api.json(Method::GET, "/repositories/refscli", None).await;
    let ns = repo["storage_namespace"].as_str().unwrap().to_owned();
    let (s, _) = api
        .json(Method::DELETE, "/repositories/refscli", None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories?bare=true",
            Some(json!({"name": "refscli", "storage_namespace": ns})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (ok, out, err) = run_cli(
        &[
            "admin",
            "refs-restore",
            "--quickstart",
            "--repository",
            "refscli",
            "--manifest",
            "-",
        ],
        &dir,
        &manifest,
        &cli_env,
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let after: Vec<Vec<String>> = vec![
        log(&api, "main").await,
        log(&api, "dev").await,
        log(&api, "v1").await,
    ];
    assert_eq!(after, before);
    let got = api
        .req(
            Method::GET,
            "/repositories/refscli/refs/dev/objects?path=b.txt",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(got.text().await.unwrap(), "two");
    // Again: the repository is no longer bare.
    let (ok, _, err) = run_cli(
        &[
            "admin",
            "refs-restore",
            "--quickstart",
            "--repository",
            "refscli",
            "--manifest",
            "-",
        ],
        &dir,
        &manifest,
        &cli_env,
    )
    .await;
    assert!(!ok && err.contains("bare"), "{err}");
}
