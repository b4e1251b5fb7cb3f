//! Airflow hooks, through the binary, against a stand-in Airflow REST API
//! on loopback: the DAG run request lakeFS sends, and waiting for a DAG
//! that fails.

use crate::support::api::Api;
use crate::support::receiver::Receiver;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Airflow: triggers answer 200; a run of `etl_bad` has failed, any other
/// has succeeded.
fn airflow(method: &str, target: &str) -> (&'static str, String) {
    if method == "GET" && target.contains("/dags/etl_bad/") {
        ("200 OK", r#"{"state":"failed"}"#.into())
    } else if method == "GET" {
        ("200 OK", r#"{"state":"success"}"#.into())
    } else {
        ("200 OK", "{}".into())
    }
}

fn action(url: &str, event: &str, dag: &str, wait: bool) -> String {
    format!(
        "name: Airflow {dag}\non:\n  {event}:\n    branches: [main]\nhooks:\n  - id: trigger_{dag}\n    type: airflow\n    properties:\n      url: {url}\n      dag_id: {dag}\n      username: airflow\n      password: \"{{{{ ENV.LAKEFSACTION_AIRFLOW_PASSWORD }}}}\"\n      dag_conf:\n        table: sales\n      wait_for_dag: {wait}\n      timeout: 30s\n"
    )
}

#[tokio::test]
async fn airflow_hooks_trigger_dag_runs_and_a_failed_dag_blocks_a_commit() {
    let airflow_api = Receiver::start_with(airflow).await;
    let api = Api {
        tarn: crate::support::TarnProcess::quickstart_with(&[(
            "LAKEFSACTION_AIRFLOW_PASSWORD",
            "s3cret",
        )])
        .await,
        http: reqwest::Client::new(),
    };
    api.repo("dags").await;
    let url = &airflow_api.url;
    let resp = api
        .req(Method::POST, "/repositories/dags/branches/main/objects")
        .query(&[("path", "_lakefs_actions/etl.yaml")])
        .body(action(url, "post-commit", "etl_ok", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let commit = api.commit("dags", "main", "load sales").await;
    let commit_id = commit["id"].as_str().unwrap();
    let mut got = Vec::new();
    for _ in 0..400 {
        got = airflow_api.received();
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(got.len(), 1, "{got:?}");
    let trigger = &got[0];
    assert_eq!(trigger.method, "POST");
    assert_eq!(trigger.target, "/api/v1/dags/etl_ok/dagRuns");
    let basic = base64::engine::general_purpose::STANDARD.encode("airflow:s3cret");
    assert!(
        trigger
            .headers
            .contains(&("authorization".into(), format!("Basic {basic}"))),
        "{:?}",
        trigger.headers
    );
    let run_id = trigger.body["dag_run_id"].as_str().unwrap();
    assert!(
        run_id.starts_with("lakeFS_hook_trigger_etl_ok_"),
        "{run_id}"
    );
    let conf = &trigger.body["conf"];
    assert_eq!(conf["table"], "sales");
    let event = &conf["lakeFS_event"];
    assert_eq!(event["event_type"], "post-commit");
    assert_eq!(event["repository_id"], "dags");
    assert_eq!(event["branch_id"], "main");
    assert_eq!(event["commit_id"], commit_id);
    assert_eq!(event["commit_message"], "load sales");
    assert_eq!(event["hook_id"], "trigger_etl_ok");

    // A pre-commit hook that waits for a DAG which fails blocks the commit.
    let resp = api
        .req(Method::POST, "/repositories/dags/branches/main/objects")
        .query(&[("path", "_lakefs_actions/etl.yaml")])
        .body(action(url, "pre-commit", "etl_bad", true))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/dags/branches/main/commits",
            Some(json!({"message": "gated"})),
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("hook 'trigger_etl_bad': action failed: airflow hook DAG failed"),
        "{message}"
    );
    let polls: Vec<_> = airflow_api
        .received()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(polls.len(), 1, "{polls:?}");
    assert!(polls[0]
        .target
        .starts_with("/api/v1/dags/etl_bad/dagRuns/lakeFS_hook_trigger_etl_bad_"));
    // The password is never in the hook's log.
    let run = message.split('\'').nth(1).unwrap();
    let out = api.hook_output("dags", run, "0000_0000").await;
    assert!(out.contains("Password: *******"), "{out}");
    assert!(!out.contains("s3cret"), "{out}");
    assert!(out.contains("DAG completed with state: failed"), "{out}");
}
