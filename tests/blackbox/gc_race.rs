//! Garbage collection racing live writers and commits on three instances
//! over one PostgreSQL database and one store: writers on two instances
//! upload, overwrite, delete and commit on their own branches while runs
//! (with a one-second grace period and zero-day retention, so that
//! overwritten and expired data is collected during the race) run on
//! whichever instance claims them. Afterwards every acknowledged write that
//! is still its path's value reads back byte-exact, and the runs did
//! delete things while the writers wrote.

use crate::support::{self, TarnProcess};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Writes per writer, a few milliseconds apart: the race lasts a few
/// seconds, longer than the grace period, so runs meet collectable data.
const WRITES: usize = 150;

#[derive(Clone)]
struct Node {
    url: String,
    http: Client,
}

impl Node {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        support::api_json(
            &self.http,
            &self.url,
            method,
            &format!("/repositories/race{path}"),
            body,
        )
        .await
    }

    async fn upload(&self, branch: &str, path: &str, content: String) {
        let resp = self
            .http
            .post(format!(
                "{}/api/v1/repositories/race/branches/{branch}/objects",
                self.url
            ))
            .query(&[("path", path)])
            .basic_auth(support::KEY, Some(support::SECRET))
            .body(content)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }

    async fn read(&self, branch: &str, path: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!(
                "{}/api/v1/repositories/race/refs/{branch}/objects",
                self.url
            ))
            .query(&[("path", path)])
            .basic_auth(support::KEY, Some(support::SECRET))
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }
}

/// One writer: its own branch, ten paths, overwrites, deletes and commits.
/// Returns what each path should hold at the end.
async fn writer(node: Node, branch: String) -> BTreeMap<String, String> {
    let mut expected = BTreeMap::new();
    for i in 0..WRITES {
        let path = format!("p{}", i % 10);
        let content = format!("{branch}-{i}-{}", "x".repeat(i * 37 % 500));
        node.upload(&branch, &path, content.clone()).await;
        expected.insert(path, content);
        tokio::time::sleep(Duration::from_millis(15)).await;
        if i % 11 == 10 {
            let gone = format!("p{}", (i + 3) % 10);
            let (s, v) = node
                .call(
                    Method::DELETE,
                    &format!("/branches/{branch}/objects?path={gone}"),
                    None,
                )
                .await;
            assert!(
                s == StatusCode::NO_CONTENT || s == StatusCode::NOT_FOUND,
                "{v}"
            );
            expected.remove(&gone);
        }
        if i % 7 == 6 {
            let (s, v) = node
                .call(
                    Method::POST,
                    &format!("/branches/{branch}/commits"),
                    Some(json!({"message": format!("{i}")})),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }
    }
    expected
}

#[tokio::test]
async fn gc_racing_writers_on_three_instances_loses_no_acknowledged_write() {
    if support::Run::skip_unless(
        &[support::Run::POSTGRES],
        "three instances share one PostgreSQL; `make test` runs this on its PostgreSQL run",
    ) {
        return;
    }
    let db = support::fresh_postgres().await;
    let blocks = tempfile::tempdir().unwrap();
    let env = vec![
        ("TARN_DATABASE__TYPE".to_owned(), "postgres".to_owned()),
        ("TARN_DATABASE__POSTGRES__CONNECTION_STRING".to_owned(), db),
        (
            "TARN_BLOCKSTORE__LOCAL__PATH".to_owned(),
            blocks.path().display().to_string(),
        ),
        ("TARN_GC__GRACE_PERIOD_SECS".to_owned(), "1".to_owned()),
        ("TARN_JOBS__POLL_INTERVAL_MS".to_owned(), "50".to_owned()),
    ];
    let mut processes = Vec::new();
    for _ in 0..3 {
        processes.push(TarnProcess::start(tempfile::tempdir().unwrap(), &env).await);
    }
    let nodes: Vec<Node> = processes
        .iter()
        .map(|p| Node {
            url: p.url.clone(),
            http: Client::new(),
        })
        .collect();
    let (s, v) = support::api_json(
        &nodes[0].http,
        &nodes[0].url,
        Method::POST,
        "/repositories",
        Some(json!({"name": "race", "storage_namespace": "local://race"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = nodes[0]
        .call(
            Method::PUT,
            "/settings/gc_rules",
            Some(json!({"default_retention_days": 0, "branches": []})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    for b in ["w0", "w1"] {
        let (s, v) = nodes[0]
            .call(
                Method::POST,
                "/branches",
                Some(json!({"name": b, "source": "main"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    let writing = Arc::new(AtomicBool::new(true));
    let collector = {
        let nodes = nodes.clone();
        let writing = writing.clone();
        tokio::spawn(async move {
            let mut runs = Vec::new();
            let mut n = 0;
            while writing.load(Ordering::SeqCst) || runs.len() < 2 {
                let node = &nodes[n % 3];
                n += 1;
                let (s, started) = node.call(Method::POST, "/gc/runs", Some(json!({}))).await;
                assert_eq!(s, StatusCode::ACCEPTED, "{started}");
                let id = started["id"].as_str().unwrap().to_owned();
                let run = loop {
                    let (s, run) = node
                        .call(Method::GET, &format!("/gc/runs/{id}"), None)
                        .await;
                    assert_eq!(s, StatusCode::OK, "{run}");
                    if !matches!(run["state"].as_str(), Some("pending" | "running")) {
                        break run;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                assert_eq!(run["state"], "succeeded", "{run}");
                runs.push(run);
                // Let data age past the grace period between runs.
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            runs
        })
    };
    let writers: Vec<_> = ["w0", "w1"]
        .iter()
        .enumerate()
        .map(|(i, b)| tokio::spawn(writer(nodes[i].clone(), (*b).to_owned())))
        .collect();
    let mut expected = Vec::new();
    for w in writers {
        expected.push(w.await.unwrap());
    }
    writing.store(false, Ordering::SeqCst);
    // One more run after the data aged, then check.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let runs = collector.await.unwrap();
    let deleted: u64 = runs
        .iter()
        .map(|r| r["report"]["deleted"]["objects"].as_u64().unwrap())
        .sum();
    assert!(runs.len() >= 2, "{runs:?}");
    assert!(
        deleted > 0,
        "the runs collected nothing during the race: {runs:?}"
    );

    let (s, final_run) = nodes[2]
        .call(Method::POST, "/gc/runs", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{final_run}");
    let id = final_run["id"].as_str().unwrap().to_owned();
    loop {
        let (_, run) = nodes[2]
            .call(Method::GET, &format!("/gc/runs/{id}"), None)
            .await;
        if !matches!(run["state"].as_str(), Some("pending" | "running")) {
            assert_eq!(run["state"], "succeeded", "{run}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (branch, want) in ["w0", "w1"].iter().zip(&expected) {
        for i in 0..10 {
            let path = format!("p{i}");
            let (s, body) = nodes[i % 3].read(branch, &path).await;
            match want.get(&path) {
                Some(content) => {
                    assert_eq!(s, StatusCode::OK, "{branch}/{path}: {body}");
                    assert_eq!(&body, content, "{branch}/{path}");
                }
                None => assert_eq!(s, StatusCode::NOT_FOUND, "{branch}/{path} was deleted"),
            }
        }
    }
}
