//! Garbage collection racing live writers and commits on three instances
//! over one PostgreSQL database and one store: writers on two instances
//! upload, overwrite, delete and commit on their own branches, committing
//! data staged longer ago than the one-second grace period, while runs go
//! on back to back on whichever instance claims them. Retention is a day,
//! so every commit is kept: afterwards every commit reads back as it was
//! made, and the runs did delete (the data of paths deleted before a
//! commit) while the writers wrote.

use crate::support;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Rounds per writer: each stages ten writes, lets them age past the
/// one-second grace period, then commits them while runs go on, so that
/// only the mark's order (heads, uploads, staging, heads again, later
/// commits) keeps them, not the grace period.
const ROUNDS: usize = 8;

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
/// Returns every commit it made with what each path holds in it.
async fn writer(node: Node, branch: String) -> Vec<(String, BTreeMap<String, String>)> {
    let mut expected = BTreeMap::new();
    let mut commits = Vec::new();
    for round in 0..ROUNDS {
        for i in 0..10 {
            let path = format!("p{i}");
            let content = format!(
                "{branch}-{round}-{i}-{}",
                "x".repeat((round * 10 + i) * 37 % 500)
            );
            node.upload(&branch, &path, content.clone()).await;
            expected.insert(path, content);
        }
        let gone = format!("p{}", round % 10);
        let (s, v) = node
            .call(
                Method::DELETE,
                &format!("/branches/{branch}/objects?path={gone}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        expected.remove(&gone);
        // Older than the grace period before the commit moves them.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let (s, v) = node
            .call(
                Method::POST,
                &format!("/branches/{branch}/commits"),
                Some(json!({"message": format!("{round}")})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        commits.push((v["id"].as_str().unwrap().to_owned(), expected.clone()));
    }
    commits
}

#[tokio::test]
async fn gc_racing_writers_on_three_instances_loses_no_acknowledged_write() {
    if support::Run::skip_unless(
        &[support::Run::POSTGRES],
        "three instances share one PostgreSQL; `make test` runs this on its PostgreSQL run",
    ) {
        return;
    }
    let (processes, _blocks) = support::instances_sharing_postgres(
        3,
        &[
            ("TARN_GC__GRACE_PERIOD_SECS", "1"),
            ("TARN_JOBS__POLL_INTERVAL_MS", "50"),
        ],
    )
    .await;
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
            Some(json!({"default_retention_days": 1, "branches": []})),
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
    // Every commit is a day old at most: all are kept, and each reads back
    // as it was made.
    for (n, commits) in expected.iter().enumerate() {
        for (commit, want) in commits {
            for i in 0..10 {
                let path = format!("p{i}");
                let (s, body) = nodes[(n + i) % 3].read(commit, &path).await;
                match want.get(&path) {
                    Some(content) => {
                        assert_eq!(s, StatusCode::OK, "{commit}/{path}: {body}");
                        assert_eq!(&body, content, "{commit}/{path}");
                    }
                    None => assert_eq!(s, StatusCode::NOT_FOUND, "{commit}/{path} was deleted"),
                }
            }
        }
    }
}
