//! Metadata survives a restart: every repository, branch, tag, commit,
//! staged object and multipart upload is still there when `tarn` starts again
//! on the same data directory (SQLite, quickstart's default) or the same
//! PostgreSQL database (`TARN_TEST_DATABASE=postgres`). The restart runs on
//! the default run (on SQLite) and on the PostgreSQL run; the command-line
//! cases use SQLite whatever the run, so they run once, on the default run.

use crate::support;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use support::{Run, TarnProcess};

use support::{KEY, SECRET};

/// SQLite (quickstart's default) unless the run asks for PostgreSQL.
async fn persistent_env() -> Vec<(String, String)> {
    if Run::current() == Run::POSTGRES {
        support::database_env().await
    } else {
        Vec::new()
    }
}

/// Whether a case that uses SQLite whatever the run skips this run.
fn sqlite_case_skips() -> bool {
    Run::skip_unless(
        &[Run::DEFAULT],
        "it uses SQLite whatever the run; it runs on the default run",
    )
}

fn s3(url: &str) -> aws_sdk_s3::Client {
    support::s3_client(url, SECRET)
}

async fn call(
    url: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    support::api_json(&Client::new(), url, method, path, body).await
}

async fn upload(url: &str, branch: &str, path: &str, data: &'static str) {
    let resp = Client::new()
        .post(format!(
            "{url}/api/v1/repositories/keep/branches/{branch}/objects"
        ))
        .basic_auth(KEY, Some(SECRET))
        .query(&[("path", path)])
        .body(data)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
}

async fn read(url: &str, reference: &str, path: &str) -> (StatusCode, String) {
    let resp = Client::new()
        .get(format!(
            "{url}/api/v1/repositories/keep/refs/{reference}/objects"
        ))
        .basic_auth(KEY, Some(SECRET))
        .query(&[("path", path)])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_restart_keeps_every_ref_commit_staged_object_and_upload() {
    use reqwest::Method;
    if Run::skip_unless(
        &[Run::DEFAULT, Run::POSTGRES],
        "the restart is checked on SQLite (the default run) and on PostgreSQL (the PostgreSQL run)",
    ) {
        return;
    }
    let env = persistent_env().await;
    let mut tarn = TarnProcess::start(tempfile::tempdir().unwrap(), &env).await;
    let url = tarn.url.clone();
    let (s, v) = call(
        &url,
        Method::POST,
        "/repositories",
        Some(json!({"name": "keep", "storage_namespace": "local://keep"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    upload(&url, "main", "committed.txt", "committed bytes").await;
    let (s, commit) = call(
        &url,
        Method::POST,
        "/repositories/keep/branches/main/commits",
        Some(json!({"message": "first", "metadata": {"k": "v"}})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{commit}");
    let (s, _) = call(
        &url,
        Method::POST,
        "/repositories/keep/branches",
        Some(json!({"name": "dev", "source": "main"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = call(
        &url,
        Method::POST,
        "/repositories/keep/tags",
        Some(json!({"id": "v1", "ref": "main"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    upload(&url, "dev", "staged.txt", "staged bytes").await;
    let (s, v) = call(
        &url,
        Method::PUT,
        "/repositories/keep/settings/branch_protection",
        Some(json!([{"pattern": "prot-*"}])),
    )
    .await;
    assert!(s.is_success(), "{s} {v}");
    let client = s3(&url);
    let started = client
        .create_multipart_upload()
        .bucket("keep")
        .key("main/big.bin")
        .send()
        .await
        .unwrap();
    let upload_id = started.upload_id().unwrap().to_owned();
    let part = client
        .upload_part()
        .bucket("keep")
        .key("main/big.bin")
        .upload_id(&upload_id)
        .part_number(1)
        .body(ByteStream::from_static(b"part one"))
        .send()
        .await
        .unwrap();

    assert!(tarn.terminate().await.success());
    let dir = std::mem::replace(&mut tarn.data_dir, tempfile::tempdir().unwrap());
    let tarn = TarnProcess::start(dir, &env).await;
    let url = tarn.url.clone();

    let (s, v) = call(&url, Method::GET, "/repositories/keep/branches/main", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["commit_id"], commit["id"]);
    let (_, v) = call(&url, Method::GET, "/repositories/keep/tags/v1", None).await;
    assert_eq!(v["commit_id"], commit["id"]);
    let (_, v) = call(
        &url,
        Method::GET,
        "/repositories/keep/refs/main/commits",
        None,
    )
    .await;
    let messages: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["first", "Repository created"]);
    assert_eq!(v["results"][0]["metadata"]["k"], "v");
    assert_eq!(
        read(&url, "dev", "staged.txt").await,
        (StatusCode::OK, "staged bytes".into())
    );
    assert_eq!(
        read(&url, "v1", "committed.txt").await,
        (StatusCode::OK, "committed bytes".into())
    );
    let (_, v) = call(
        &url,
        Method::GET,
        "/repositories/keep/branches/dev/diff",
        None,
    )
    .await;
    assert_eq!(v["results"][0]["path"], "staged.txt", "{v}");
    let (_, v) = call(
        &url,
        Method::GET,
        "/repositories/keep/settings/branch_protection",
        None,
    )
    .await;
    assert_eq!(v[0]["pattern"], "prot-*", "{v}");

    let client = s3(&url);
    let uploads = client
        .list_multipart_uploads()
        .bucket("keep")
        .send()
        .await
        .unwrap();
    assert_eq!(uploads.uploads()[0].upload_id(), Some(upload_id.as_str()));
    let parts = client
        .list_parts()
        .bucket("keep")
        .key("main/big.bin")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.parts()[0].e_tag(), part.e_tag());
    let done = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag(part.e_tag().unwrap())
                .build(),
        )
        .build();
    client
        .complete_multipart_upload()
        .bucket("keep")
        .key("main/big.bin")
        .upload_id(&upload_id)
        .multipart_upload(done)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read(&url, "main", "big.bin").await,
        (StatusCode::OK, "part one".into())
    );
}

#[tokio::test]
async fn migrate_applies_the_schema_once() {
    if sqlite_case_skips() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = || async {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tarn"))
            .args(["migrate", "--data-dir"])
            .arg(dir.path())
            .env("TARN_DATABASE__TYPE", "sqlite")
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run().await.contains("applied migrations"));
    assert!(dir.path().join("tarn.db").is_file());
    assert!(run().await.contains("up to date"));
}

/// `tarn <args> --data-dir <dir>` on SQLite with this suite's key.
async fn tarn_cli(
    args: &[&str],
    dir: &std::path::Path,
    stdin: Option<&str>,
) -> (bool, String, String) {
    support::run_cli(
        args,
        dir,
        stdin.unwrap_or(""),
        &[
            ("TARN_DATABASE__TYPE", "sqlite"),
            ("TARN_AUTH__ENCRYPT__SECRET_KEY", "persistence-test-key"),
        ],
    )
    .await
}

fn printed(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {out}"))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn setup_from_the_command_line_and_users_survive_a_restart() {
    if sqlite_case_skips() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = tarn_cli(&["setup", "--user-name", "root"], dir.path(), None).await;
    assert!(ok, "{err}");
    let key = printed(&out, "access key id:");
    let secret = printed(&out, "secret access key:");
    assert_eq!((key.len(), secret.len()), (20, 40));
    let (ok, _, err) = tarn_cli(&["setup", "--user-name", "other"], dir.path(), None).await;
    assert!(!ok && err.contains("already set up"), "{err}");
    let db = std::fs::read(dir.path().join("tarn.db")).unwrap();
    assert!(
        !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is encrypted at rest"
    );

    let (ok, out, err) = tarn_cli(
        &["set-password", "--user-name", "root"],
        dir.path(),
        Some("correct horse battery\n"),
    )
    .await;
    assert!(ok && out.contains("password set"), "{err}");

    let env = [(
        "TARN_AUTH__ENCRYPT__SECRET_KEY".to_owned(),
        "persistence-test-key".to_owned(),
    )];
    let sqlite = vec![(
        "TARN_DATABASE__SQLITE__PATH".to_owned(),
        dir.path().join("tarn.db").display().to_string(),
    )];
    let all: Vec<_> = env.iter().chain(&sqlite).cloned().collect();
    let mut tarn = TarnProcess::start(tempfile::tempdir().unwrap(), &all).await;
    assert!(
        tarn.banner.contains("set up with its own users"),
        "{}",
        tarn.banner
    );
    assert!(!tarn.banner.contains(SECRET), "{}", tarn.banner);
    let http = Client::new();
    let me = |url: String, k: String, s: String| {
        let http = http.clone();
        async move {
            let r = http
                .get(format!("{url}/api/v1/user"))
                .basic_auth(k, Some(s))
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = me(tarn.url.clone(), key.clone(), secret.clone()).await;
    assert_eq!(
        (s, v["user"]["id"].as_str()),
        (StatusCode::OK, Some("root"))
    );
    let (s, _) = me(tarn.url.clone(), KEY.into(), SECRET.into()).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "quickstart does not add its user to a set-up server"
    );
    // The password logs in.
    let login = http
        .post(format!("{}/api/v1/auth/login", tarn.url))
        .json(&json!({"access_key_id": "root", "secret_access_key": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    // A user, a group membership and a key made now survive a restart.
    let admin = |m: reqwest::Method, p: &str| {
        http.request(m, format!("{}/api/v1{p}", tarn.url))
            .basic_auth(&key, Some(&secret))
    };
    let r = admin(reqwest::Method::POST, "/auth/users")
        .json(&json!({"id": "ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = admin(reqwest::Method::PUT, "/auth/groups/Viewers/members/ann")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let creds: Value = admin(reqwest::Method::POST, "/auth/users/ann/credentials")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (ann_key, ann_secret) = (
        creds["access_key_id"].as_str().unwrap().to_owned(),
        creds["secret_access_key"].as_str().unwrap().to_owned(),
    );
    assert!(tarn.terminate().await.success());
    let tarn = TarnProcess::start(tempfile::tempdir().unwrap(), &all).await;
    let (s, v) = me(tarn.url.clone(), ann_key.clone(), ann_secret.clone()).await;
    assert_eq!((s, v["user"]["id"].as_str()), (StatusCode::OK, Some("ann")));
    let r = http
        .get(format!("{}/api/v1/auth/users", tarn.url))
        .basic_auth(&ann_key, Some(&ann_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "ann is a Viewer");
}
