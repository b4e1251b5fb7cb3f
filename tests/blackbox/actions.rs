//! Actions and hooks, through the binary.

use crate::support::api::Api;
use crate::support::receiver::Receiver;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

/// `tarn actions validate <args>` with `stdin`: success, stdout, stderr.
fn validate(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .args(["actions", "validate"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_validates_action_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("gate.yaml");
    std::fs::write(
        &good,
        "name: Gate\non:\n  pre-merge:\n    branches: [main]\nhooks:\n  - id: check\n    type: webhook\n    properties:\n      url: http://127.0.0.1:9/\n",
    )
    .unwrap();
    let (ok, out, err) = validate(&[good.to_str().unwrap()], "");
    assert!(ok, "{err}");
    assert!(
        out.contains("valid action \"Gate\": 1 hook(s) on pre-merge (main)"),
        "{out}"
    );

    let (ok, _, err) = validate(&["-"], "name: Gate\non:\n  pre-push:\n");
    assert!(!ok);
    assert!(
        err.contains("event 'pre-push' is not supported: invalid action"),
        "{err}"
    );

    let (ok, _, err) = validate(&[dir.path().join("missing.yaml").to_str().unwrap()], "");
    assert!(!ok);
    assert!(err.contains("cannot read"), "{err}");
}

/// One request a receiver got.
async fn put_action(api: &Api, repo: &str, name: &str, yaml: String) {
    let resp = api
        .req(
            Method::POST,
            &format!("/repositories/{repo}/branches/main/objects"),
        )
        .query(&[("path", format!("_lakefs_actions/{name}"))])
        .body(yaml)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn webhooks_see_the_event_and_a_failing_pre_commit_hook_blocks_the_commit() {
    let receiver = Receiver::start().await;
    let api = Api::start().await;
    api.repo("hooks").await;
    let url = &receiver.url;
    put_action(
        &api,
        "hooks",
        "check.yaml",
        format!(
            "name: Check commits\non:\n  pre-commit:\n    branches: [main]\nhooks:\n  - id: notify\n    type: webhook\n    properties:\n      url: {url}/ok\n      query_params:\n        tables: [a, b]\n      headers:\n        x-team: data\n"
        ),
    )
    .await;
    api.upload("hooks", "main", "data/a.csv", "a,1").await;
    let (s, commit) = api
        .json(
            Method::POST,
            "/repositories/hooks/branches/main/commits",
            Some(json!({"message": "first", "metadata": {"owner": "qa"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{commit}");
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let hook = &got[0];
    assert_eq!(hook.target, "/ok?tables=a&tables=b");
    assert!(
        hook.headers.contains(&("x-team".into(), "data".into())),
        "{:?}",
        hook.headers
    );
    assert!(hook
        .headers
        .contains(&("content-type".into(), "application/json".into())));
    let body = hook.body.as_object().unwrap();
    let event_time = body["event_time"].as_str().unwrap();
    assert!(
        event_time.ends_with('Z') && event_time.len() == 20,
        "{event_time}"
    );
    let expected = json!({
        "event_type": "pre-commit",
        "event_time": event_time,
        "action_name": "Check commits",
        "hook_id": "notify",
        "repository_id": "hooks",
        "branch_id": "main",
        "source_ref": "main",
        "commit_message": "first",
        "committer": "quickstart",
        "commit_metadata": {"owner": "qa"},
    });
    assert_eq!(hook.body, expected, "the exact body lakeFS sends");

    // The run, through the API.
    let (s, runs) = api
        .json(Method::GET, "/repositories/hooks/actions/runs", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{runs}");
    let run = &runs["results"][0];
    assert_eq!(run["event_type"], "pre-commit");
    assert_eq!(run["status"], "completed");
    assert_eq!(run["branch"], "main");
    let run_id = run["run_id"].as_str().unwrap().to_owned();
    assert_eq!(run_id.len(), 20);
    // The pre-commit run learns its commit once the commit lands.
    let mut commit_id = String::new();
    for _ in 0..100 {
        let (_, r) = api
            .json(
                Method::GET,
                &format!("/repositories/hooks/actions/runs/{run_id}"),
                None,
            )
            .await;
        commit_id = r["commit_id"].as_str().unwrap_or("").to_owned();
        if !commit_id.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(commit_id, commit["id"].as_str().unwrap());
    let (_, hooks) = api
        .json(
            Method::GET,
            &format!("/repositories/hooks/actions/runs/{run_id}/hooks"),
            None,
        )
        .await;
    assert_eq!(hooks["results"][0]["hook_run_id"], "0000_0000");
    assert_eq!(hooks["results"][0]["status"], "completed");
    assert_eq!(hooks["results"][0]["action"], "Check commits");
    let log = api
        .req(
            Method::GET,
            &format!("/repositories/hooks/actions/runs/{run_id}/hooks/0000_0000/output"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), StatusCode::OK);
    let log = log.text().await.unwrap();
    assert!(log.contains(&format!("POST {url}/ok")), "{log}");
    assert!(log.contains("200 OK") && log.contains("handled"), "{log}");

    // A failing hook: 412 naming the action and hook, and nothing changes.
    put_action(
        &api,
        "hooks",
        "gate.yaml",
        format!(
            "name: Gate\non:\n  pre-commit:\nhooks:\n  - id: refuse\n    type: webhook\n    properties:\n      url: {url}/fail\n  - id: cleanup\n    type: webhook\n    if: failure()\n    properties:\n      url: {url}/ok/cleanup\n  - id: never\n    type: webhook\n    properties:\n      url: {url}/ok/never\n"
        ),
    )
    .await;
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/hooks/branches/main/commits",
            Some(json!({"message": "second"})),
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with("pre-commit hook aborted, run id '"),
        "{message}"
    );
    assert!(
        message.contains("failed on action 'Gate' hook 'refuse': action failed: webhook request failed (status code: 500)"),
        "{message}"
    );
    let (_, branch) = api
        .json(Method::GET, "/repositories/hooks/branches/main", None)
        .await;
    assert_eq!(branch["commit_id"], commit["id"], "the branch did not move");
    let targets: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert!(
        targets.contains(&"/ok/cleanup".to_owned()),
        "if: failure() ran: {targets:?}"
    );
    assert!(
        !targets.contains(&"/ok/never".to_owned()),
        "a hook after a failure is skipped: {targets:?}"
    );
    let (_, runs) = api
        .json(
            Method::GET,
            "/repositories/hooks/actions/runs?branch=main",
            None,
        )
        .await;
    let failed = runs["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "failed")
        .expect("the failed run is listed");
    let (_, hooks) = api
        .json(
            Method::GET,
            &format!(
                "/repositories/hooks/actions/runs/{}/hooks",
                failed["run_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    let statuses: Vec<(&str, &str)> = hooks["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["hook_id"].as_str().unwrap(),
                h["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(statuses.contains(&("refuse", "failed")), "{statuses:?}");
    assert!(statuses.contains(&("cleanup", "completed")), "{statuses:?}");
    assert!(statuses.contains(&("never", "skipped")), "{statuses:?}");
}

#[tokio::test]
async fn hooks_time_out_and_guard_branches_and_tags() {
    let receiver = Receiver::start().await;
    let api = Api::start().await;
    api.repo("events").await;
    let url = &receiver.url;
    put_action(
        &api,
        "events",
        "slow.yaml",
        format!(
            "name: Slow check\non:\n  pre-commit:\nhooks:\n  - id: slow\n    type: webhook\n    properties:\n      url: {url}/slow\n      timeout: 500ms\n"
        ),
    )
    .await;
    let started = std::time::Instant::now();
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/events/branches/main/commits",
            Some(json!({"message": "too slow"})),
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("timed out after 500ms"),
        "{v}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "the timeout cut the 3 s answer short"
    );

    // Branch and tag events: a refusing pre-create-branch keeps the branch
    // from being made; tag events run and are recorded.
    let (s, _) = api
        .req(Method::DELETE, "/repositories/events/branches/main/objects")
        .query(&[("path", "_lakefs_actions/slow.yaml")])
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/events/branches",
            Some(json!({"name": "blocked-0", "source": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}: made before the action");
    put_action(
        &api,
        "events",
        "refs.yaml",
        format!(
            "name: Refs\non:\n  pre-create-branch:\n    branches: ['blocked-*']\n  post-create-tag:\nhooks:\n  - id: tell\n    type: webhook\n    properties:\n      url: {url}/fail/refs\n"
        ),
    )
    .await;
    api.commit("events", "main", "the refs action").await;
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/events/branches",
            Some(json!({"name": "blocked-1", "source": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("pre-create-branch hook aborted"),
        "{v}"
    );
    let (s, _) = api
        .json(Method::GET, "/repositories/events/branches/blocked-1", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "the branch was not made");
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/events/branches",
            Some(json!({"name": "open-1", "source": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}: the pattern does not match");
    // An existing name is refused (409) before any hook runs.
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/events/branches",
            Some(json!({"name": "blocked-0", "source": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}: not the hook's 412");
    // A post hook's failure is recorded; the tag is made all the same.
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/events/tags",
            Some(json!({"id": "v1", "ref": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mut post = None;
    for _ in 0..100 {
        let (_, runs) = api
            .json(Method::GET, "/repositories/events/actions/runs", None)
            .await;
        post = runs["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["event_type"] == "post-create-tag")
            .cloned();
        if post.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let post = post.expect("the post-create-tag run is recorded");
    assert_eq!(post["status"], "failed");
    assert_eq!(post["branch"], "");
    let tag_body = receiver
        .received()
        .into_iter()
        .find(|r| r.body["event_type"] == "post-create-tag")
        .expect("the tag hook was called");
    assert_eq!(tag_body.body["tag_id"], "v1");
    assert!(
        tag_body.body.get("branch_id").is_none(),
        "{:?}",
        tag_body.body
    );
}

#[tokio::test]
async fn actions_enabled_false_runs_nothing() {
    let receiver = Receiver::start().await;
    let api = Api {
        tarn: crate::support::TarnProcess::quickstart_with(&[("TARN_ACTIONS__ENABLED", "false")])
            .await,
        http: reqwest::Client::new(),
    };
    api.repo("quiet").await;
    put_action(
        &api,
        "quiet",
        "gate.yaml",
        format!(
            "name: Gate\non:\n  pre-commit:\nhooks:\n  - id: refuse\n    type: webhook\n    properties:\n      url: {}/fail\n",
            receiver.url
        ),
    )
    .await;
    api.commit("quiet", "main", "no hooks here").await;
    assert!(receiver.received().is_empty());
    let (_, runs) = api
        .json(Method::GET, "/repositories/quiet/actions/runs", None)
        .await;
    assert_eq!(runs["results"], json!([]));
}

#[tokio::test]
async fn an_invalid_action_file_fails_the_run_and_names_the_file() {
    let api = Api::start().await;
    api.repo("broken").await;
    put_action(&api, "broken", "bad.yaml", "name: Bad\nhooks: []\n".into()).await;
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/broken/branches/main/commits",
            Some(json!({"message": "with a bad action"})),
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with("prepare-commit hook aborted"),
        "{message}"
    );
    assert!(
        message.contains("parsing file _lakefs_actions/bad.yaml: 'on' is required: invalid action"),
        "{message}"
    );
    let (_, runs) = api
        .json(Method::GET, "/repositories/broken/actions/runs", None)
        .await;
    assert_eq!(runs["results"][0]["status"], "failed", "{runs}");
    assert_eq!(runs["results"][0]["event_type"], "prepare-commit");
    // The runs go with their repository.
    let (s, _) = api.json(Method::DELETE, "/repositories/broken", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // Its namespace keeps its data: the new one is elsewhere.
    let ns = format!("{}-again", crate::support::namespace("broken"));
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories",
            Some(json!({"name": "broken", "storage_namespace": ns})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, runs) = api
        .json(Method::GET, "/repositories/broken/actions/runs", None)
        .await;
    assert_eq!(
        runs["results"],
        json!([]),
        "a new repository of the name has no runs"
    );
}

#[tokio::test]
async fn the_command_line_lists_and_describes_runs() {
    use crate::support::{self, run_cli, Run, TarnProcess};
    if Run::skip_unless(
        &[Run::SQLITE, Run::POSTGRES],
        "the command line needs a database it shares with the server",
    ) {
        return;
    }
    let receiver = Receiver::start().await;
    let mut env = support::database_env().await;
    env.extend(support::blockstore_env());
    let api = Api {
        tarn: TarnProcess::start(tempfile::tempdir().unwrap(), &env).await,
        http: reqwest::Client::new(),
    };
    api.repo("clirun").await;
    put_action(
        &api,
        "clirun",
        "gate.yaml",
        format!(
            "name: Gate\non:\n  pre-commit:\nhooks:\n  - id: tell\n    type: webhook\n    properties:\n      url: {}/ok/cli\n",
            receiver.url
        ),
    )
    .await;
    api.commit("clirun", "main", "with a hook").await;
    let cli_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = api.tarn.data_dir.path().to_owned();
    let (ok, out, err) = run_cli(
        &[
            "admin",
            "actions-runs",
            "list",
            "lakefs://clirun",
            "--quickstart",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(ok, "{err}");
    let line = out
        .lines()
        .find(|l| l.contains("pre-commit"))
        .unwrap_or_else(|| panic!("no pre-commit run in:\n{out}"));
    assert!(
        line.contains("completed") && line.contains("main"),
        "{line}"
    );
    let run_id = line.split_whitespace().next().unwrap();
    let (ok, out, err) = run_cli(
        &[
            "admin",
            "actions-runs",
            "describe",
            "lakefs://clirun",
            run_id,
            "--quickstart",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("Run ID: {run_id}")), "{out}");
    assert!(
        out.contains("Hook run 0000_0000 (action \"Gate\", hook \"tell\"): completed"),
        "{out}"
    );
    assert!(
        out.contains(&format!("POST {}/ok/cli", receiver.url)),
        "the hook's log: {out}"
    );
    let (ok, _, err) = run_cli(
        &[
            "admin",
            "actions-runs",
            "describe",
            "lakefs://clirun",
            "nosuchrun",
            "--quickstart",
        ],
        &dir,
        "",
        &cli_env,
    )
    .await;
    assert!(!ok);
    assert!(err.contains("not found"), "{err}");
}

#[tokio::test]
async fn a_refusing_pre_commit_hook_fails_an_import() {
    if crate::support::test_s3().is_some() {
        crate::support::Run::skip_unless(&[], "imports a local directory: the local runs");
        return;
    }
    let receiver = Receiver::start().await;
    let allowed = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(allowed.path().join("src")).unwrap();
    std::fs::write(allowed.path().join("src/a.csv"), "a,1").unwrap();
    let prefixes = allowed.path().display().to_string();
    let api = Api {
        tarn: crate::support::TarnProcess::quickstart_with(&[
            ("TARN_BLOCKSTORE__LOCAL__IMPORT_ENABLED", "true"),
            (
                "TARN_BLOCKSTORE__LOCAL__ALLOWED_EXTERNAL_PREFIXES",
                &prefixes,
            ),
            ("TARN_JOBS__POLL_INTERVAL_MS", "50"),
        ])
        .await,
        http: reqwest::Client::new(),
    };
    api.repo("gatedimport").await;
    put_action(
        &api,
        "gatedimport",
        "gate.yaml",
        format!(
            "name: Gate\non:\n  pre-commit:\nhooks:\n  - id: refuse\n    type: webhook\n    properties:\n      url: {}/fail/import\n",
            receiver.url
        ),
    )
    .await;
    let (_, before) = api
        .json(Method::GET, "/repositories/gatedimport/branches/main", None)
        .await;
    let (s, started) = api
        .json(
            Method::POST,
            "/repositories/gatedimport/branches/main/import",
            Some(json!({
                "paths": [{"type": "common_prefix", "path": format!("local://{}/src/", allowed.path().display()), "destination": "in/"}],
                "commit": {"message": "gated import"}
            })),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    let id = started["id"].as_str().unwrap();
    let mut status = json!(null);
    for _ in 0..200 {
        let (_, v) = api
            .json(
                Method::GET,
                &format!("/repositories/gatedimport/branches/main/import?id={id}"),
                None,
            )
            .await;
        status = v;
        if status["completed"] == true || !status["error"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let error = status["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("pre-commit hook aborted"), "{status}");
    let (_, after) = api
        .json(Method::GET, "/repositories/gatedimport/branches/main", None)
        .await;
    assert_eq!(after["commit_id"], before["commit_id"], "nothing imported");
    assert!(receiver
        .received()
        .iter()
        .any(|r| r.target == "/fail/import" && r.body["event_type"] == "pre-commit"));
}

/// Hooks cannot reach blocked addresses, named by number or by a host
/// name that resolves there; nothing is sent.
#[tokio::test]
async fn hooks_cannot_reach_blocked_addresses() {
    let receiver = Receiver::start().await;
    let api = Api {
        tarn: crate::support::TarnProcess::quickstart_with(&[(
            "TARN_ACTIONS__NETWORK__BLOCKED_ADDRESSES",
            "127.0.0.0/8,::1",
        )])
        .await,
        http: reqwest::Client::new(),
    };
    api.repo("fenced").await;
    let port = receiver.url.rsplit(':').next().unwrap().to_owned();
    for (url, expect) in [
        (receiver.url.clone(), "address 127.0.0.1 is blocked"),
        (
            format!("http://localhost:{port}"),
            "resolves only to blocked addresses",
        ),
    ] {
        put_action(
            &api,
            "fenced",
            "gate.yaml",
            format!(
                "name: Gate\non:\n  pre-commit:\nhooks:\n  - id: out\n    type: webhook\n    properties:\n      url: {url}/ok\n"
            ),
        )
        .await;
        let (s, v) = api
            .json(
                Method::POST,
                "/repositories/fenced/branches/main/commits",
                Some(json!({"message": "fenced"})),
            )
            .await;
        assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{url}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(expect), "{url}: {message}");
    }
    assert!(receiver.received().is_empty(), "nothing was sent");
}
