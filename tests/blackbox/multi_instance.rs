//! Three `tarn` processes on one PostgreSQL database and one block store,
//! driven concurrently: writes, commits and merges on the same branches
//! through all three. Runs on the PostgreSQL run only
//! (`TARN_TEST_DATABASE=postgres` and `TARN_TEST_POSTGRES_URL`, which `make
//! test` sets), and skips on the others.
//!
//! Checked afterwards:
//! - every acknowledged write is in exactly one commit of its branch (or still
//!   staged), and main serves its bytes after the final merges;
//! - every commit and merge that answered success is on its branch's
//!   first-parent chain (no lost compare-and-set), and the chain is unbroken;
//! - right after an instance moved a branch, the others serve that head or a
//!   descendant of it (no stale reads).

use crate::support;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::Mutex;

use support::{KEY, SECRET};
const BRANCHES: [&str; 2] = ["ingest-a", "ingest-b"];
const WRITES_PER_WRITER: usize = 40;

#[derive(Clone)]
struct Node {
    url: String,
    http: Client,
}

impl Node {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let path = format!("/repositories/shared{path}");
        support::api_json(&self.http, &self.url, method, &path, body).await
    }

    async fn head(&self, branch: &str) -> String {
        let (s, v) = self
            .call(Method::GET, &format!("/branches/{branch}"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["commit_id"].as_str().unwrap().to_owned()
    }

    /// The first-parent chain from `reference`, newest first, as (id, parents).
    async fn log(&self, reference: &str) -> Vec<(String, Vec<String>)> {
        let (s, v) = self
            .call(
                Method::GET,
                &format!("/refs/{reference}/commits?amount=1000&first_parent=true"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["pagination"]["has_more"], false);
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let parents = c["parents"].as_array().unwrap();
                let parents = parents.iter().map(|p| p.as_str().unwrap().to_owned());
                (c["id"].as_str().unwrap().to_owned(), parents.collect())
            })
            .collect()
    }

    /// Paths added between two refs (two-dot diff), all pages.
    async fn added(&self, left: &str, right: &str) -> Vec<String> {
        self.diff_paths(&format!("/refs/{left}/diff/{right}")).await
    }

    async fn diff_paths(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let (s, v) = self
                .call(
                    Method::GET,
                    &format!("{path}{sep}amount=1000&after={after}"),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            for d in v["results"].as_array().unwrap() {
                assert_eq!(d["type"], "added", "{d}");
                out.push(d["path"].as_str().unwrap().to_owned());
            }
            if v["pagination"]["has_more"] != true {
                return out;
            }
            after = v["pagination"]["next_offset"].as_str().unwrap().to_owned();
        }
    }
}

/// What the clients were told.
#[derive(Default)]
struct Acknowledged {
    writes: BTreeMap<String, (String, String)>, // path -> (branch, body)
    moves: Vec<(String, String)>,               // (branch, commit id)
}

/// After `mover` moved `branch` to `commit`, every other node must serve it
/// or a descendant.
async fn check_not_stale(nodes: &[Node], mover: usize, branch: &str, commit: &str) {
    for (i, node) in nodes.iter().enumerate() {
        if i == mover {
            continue;
        }
        let head = node.head(branch).await;
        let log = node.log(&head).await;
        assert!(
            log.iter().any(|(id, _)| id == commit),
            "node {i} serves {branch} at {head}, which does not contain {commit} set by node {mover}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_share_one_database_without_losing_anything() {
    if support::Run::skip_unless(
        &[support::Run::POSTGRES],
        "three instances share one PostgreSQL; `make test` runs this on its PostgreSQL run",
    ) {
        return;
    }
    let (processes, _blocks) = support::instances_sharing_postgres(3, &[]).await;
    let nodes: Vec<Node> = processes
        .iter()
        .map(|p| Node {
            url: p.url.clone(),
            http: Client::new(),
        })
        .collect();

    let repo = json!({"name": "shared", "storage_namespace": "local://shared"});
    let resp = nodes[0]
        .http
        .post(format!("{}/api/v1/repositories", nodes[0].url))
        .basic_auth(KEY, Some(SECRET))
        .json(&repo)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    for (i, b) in BRANCHES.iter().enumerate() {
        let (s, v) = nodes[i + 1]
            .call(
                Method::POST,
                "/branches",
                Some(json!({"name": b, "source": "main"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let writers_done = Arc::new(tokio::sync::Notify::new());
    let mut writers = Vec::new();
    // Two writers per node, each writing to both ingest branches.
    for w in 0..6 {
        let node = nodes[w % 3].clone();
        let acked = acked.clone();
        writers.push(tokio::spawn(async move {
            for j in 0..WRITES_PER_WRITER {
                let branch = BRANCHES[j % 2];
                let path = format!("w{w}/{j:03}.txt");
                let body = format!("writer {w} object {j}");
                let resp = node
                    .http
                    .post(format!(
                        "{}/api/v1/repositories/shared/branches/{branch}/objects",
                        node.url
                    ))
                    .basic_auth(KEY, Some(SECRET))
                    .query(&[("path", path.as_str())])
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), StatusCode::CREATED);
                acked
                    .lock()
                    .await
                    .writes
                    .insert(path, (branch.to_owned(), body));
            }
        }));
    }
    // One committer and one merger per node, until the writers finish.
    let mut movers = Vec::new();
    for n in 0..3 {
        let nodes = nodes.clone();
        let acked = acked.clone();
        let done = writers_done.clone();
        movers.push(tokio::spawn(async move {
            let stop = done.notified();
            tokio::pin!(stop);
            let mut round = 0;
            loop {
                let branch = BRANCHES[(n + round) % 2];
                round += 1;
                let (s, v) = nodes[n]
                    .call(
                        Method::POST,
                        &format!("/branches/{branch}/commits"),
                        Some(json!({"message": format!("node {n} round {round}")})),
                    )
                    .await;
                if s == StatusCode::CREATED {
                    let id = v["id"].as_str().unwrap().to_owned();
                    check_not_stale(&nodes, n, branch, &id).await;
                    acked.lock().await.moves.push((branch.to_owned(), id));
                } else {
                    // Nothing staged, or the branch moved under us too often.
                    assert!(
                        s == StatusCode::BAD_REQUEST
                            || s == StatusCode::TOO_MANY_REQUESTS
                            || s == StatusCode::CONFLICT,
                        "commit: {s} {v}"
                    );
                }
                let (s, v) = nodes[n]
                    .call(
                        Method::POST,
                        &format!("/refs/{branch}/merge/main"),
                        Some(json!({})),
                    )
                    .await;
                if s == StatusCode::OK {
                    let id = v["reference"].as_str().unwrap().to_owned();
                    check_not_stale(&nodes, n, "main", &id).await;
                    acked.lock().await.moves.push(("main".to_owned(), id));
                }
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
                }
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    writers_done.notify_waiters();
    for m in movers {
        m.await.unwrap();
    }

    // Final commits and merges, through different nodes.
    let mut acked = Arc::try_unwrap(acked).ok().unwrap().into_inner();
    for (i, b) in BRANCHES.iter().enumerate() {
        let (s, v) = nodes[i]
            .call(
                Method::POST,
                &format!("/branches/{b}/commits"),
                Some(json!({"message": "final", "allow_empty": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        acked
            .moves
            .push(((*b).to_owned(), v["id"].as_str().unwrap().to_owned()));
        let (s, v) = nodes[2 - i]
            .call(
                Method::POST,
                &format!("/refs/{b}/merge/main"),
                Some(json!({"allow_empty": true})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        acked.moves.push((
            "main".to_owned(),
            v["reference"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(acked.writes.len(), 6 * WRITES_PER_WRITER);
    let concurrent = acked.moves.len() - 4;
    eprintln!("{concurrent} commits and merges succeeded while the writers ran");
    assert!(
        concurrent > 0,
        "no branch moved while writes were in flight"
    );

    // Every acknowledged move is on its branch's first-parent chain, which is unbroken.
    for branch in ["main", BRANCHES[0], BRANCHES[1]] {
        let log = nodes[1].log(branch).await;
        for pair in log.windows(2) {
            assert_eq!(
                pair[0].1.first(),
                Some(&pair[1].0),
                "{branch}: chain broken"
            );
        }
        let on_chain: BTreeSet<&str> = log.iter().map(|(id, _)| id.as_str()).collect();
        for (b, id) in acked.moves.iter().filter(|(b, _)| b == branch) {
            assert!(
                on_chain.contains(id.as_str()),
                "{b}: acknowledged {id} was lost"
            );
        }
        if branch == "main" {
            continue;
        }
        // Each write is added by exactly one commit of its branch.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (id, parents) in &log {
            if let Some(parent) = parents.first() {
                for path in nodes[0].added(parent, id).await {
                    *seen.entry(path).or_default() += 1;
                }
            }
        }
        let staged = nodes[2]
            .diff_paths(&format!("/branches/{branch}/diff"))
            .await;
        assert!(
            staged.is_empty(),
            "{branch}: still staged after the final commit: {staged:?}"
        );
        let expected: BTreeMap<String, usize> = acked
            .writes
            .iter()
            .filter(|(_, (b, _))| b == branch)
            .map(|(p, _)| (p.clone(), 1))
            .collect();
        assert_eq!(seen, expected, "{branch}: writes per commit");
    }
    // Main serves every acknowledged write, through every node.
    for (i, (path, (_, body))) in acked.writes.iter().enumerate() {
        let node = &nodes[i % 3];
        let resp = node
            .http
            .get(format!(
                "{}/api/v1/repositories/shared/refs/main/objects",
                node.url
            ))
            .basic_auth(KEY, Some(SECRET))
            .query(&[("path", path.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(&resp.text().await.unwrap(), body);
    }
}
