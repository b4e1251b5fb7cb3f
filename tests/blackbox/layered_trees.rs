//! Scattered changes onto a tree large enough to take commits as layers
//! (`trees.layer_min_records` set low), with layers folded along the way
//! (`trees.layer_max_records`): after every commit, every path reads back as
//! a naive model says, the listing holds exactly the model's paths, and the
//! diff from the previous commit is exactly what changed. And a layer that
//! reaches `trees.layer_compact_records` is folded by a `trees.compact` job,
//! after which the next commit layers onto the folded tree. Runs on every
//! backend.

use crate::support::api::Api;
use crate::support::TarnProcess;
use reqwest::{Method, StatusCode};
use std::collections::BTreeMap;

async fn put(api: &Api, path: &str, content: String) {
    let resp = api
        .req(Method::POST, "/repositories/layers/branches/main/objects")
        .query(&[("path", path)])
        .body(content)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED, "upload {path}");
}

async fn remove(api: &Api, path: &str) {
    let resp = api
        .req(Method::DELETE, "/repositories/layers/branches/main/objects")
        .query(&[("path", path)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "delete {path}");
}

async fn read(api: &Api, reference: &str, path: &str) -> (StatusCode, String) {
    let resp = api
        .req(
            Method::GET,
            &format!("/repositories/layers/refs/{reference}/objects"),
        )
        .query(&[("path", path)])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Every path of `reference`, through pages of 7.
async fn listing(api: &Api, reference: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let (s, v) = api
            .json(
                Method::GET,
                &format!("/repositories/layers/refs/{reference}/objects/ls?amount=7&after={after}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        for o in v["results"].as_array().unwrap() {
            out.push(o["path"].as_str().unwrap().to_owned());
        }
        if !v["pagination"]["has_more"].as_bool().unwrap() {
            return out;
        }
        after = v["pagination"]["next_offset"].as_str().unwrap().to_owned();
    }
}

/// The diff between two commits, as (path, type).
async fn diff(api: &Api, left: &str, right: &str) -> Vec<(String, String)> {
    let (s, v) = api
        .json(
            Method::GET,
            &format!("/repositories/layers/refs/{left}/diff/{right}?amount=1000&type=two_dot"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_owned(),
                d["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The bytes of commit `id`'s tree file.
async fn tree_file(api: &Api, id: &str) -> Vec<u8> {
    let (s, c) = api
        .json(
            Method::GET,
            &format!("/repositories/layers/commits/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let tree = c["meta_range_id"].as_str().unwrap();
    let resp = api
        .req(
            Method::GET,
            &format!("/repositories/layers/metadata/object/meta_range/{tree}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.bytes().await.unwrap().to_vec()
}

/// Whether commit `id`'s tree file is a layer (else a plain metarange).
async fn layered(api: &Api, id: &str) -> bool {
    tree_file(api, id).await.starts_with(b"TARNLYR1")
}

fn path(i: u64) -> String {
    format!("d{:02}/part-{i:04}.csv", i % 17)
}

#[tokio::test]
async fn scattered_changes_onto_layers_read_back_exactly() {
    let api = Api {
        tarn: TarnProcess::quickstart_with(&[
            ("TARN_TREES__LAYER_MIN_RECORDS", "40"),
            ("TARN_TREES__LAYER_MAX_RECORDS", "25"),
        ])
        .await,
        http: reqwest::Client::new(),
    };
    api.repo("layers").await;
    let mut model: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..120 {
        let content = format!("v0 {i}");
        put(&api, &path(i), content.clone()).await;
        model.insert(path(i), content);
    }
    let mut previous = api.commit("layers", "main", "base").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A xorshift: the same scattered choices every run.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    // Commits that changed something under d03/, oldest first.
    let mut touching = vec!["base".to_owned()];
    let mut kinds = Vec::new();
    for round in 1..=8 {
        let before = model.clone();
        for _ in 0..6 {
            // Overwrites, new paths and removals, over the whole key space.
            let i = next(200);
            match next(3) {
                0 | 1 => {
                    let content = format!("v{round} {i}");
                    put(&api, &path(i), content.clone()).await;
                    model.insert(path(i), content);
                }
                _ => {
                    if model.remove(&path(i)).is_some() {
                        remove(&api, &path(i)).await;
                    }
                }
            }
        }
        if model == before {
            continue;
        }
        let message = format!("round {round}");
        let id = api.commit("layers", "main", &message).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        kinds.push(layered(&api, &id).await);
        let under = |m: &BTreeMap<String, String>| {
            m.iter()
                .filter(|(p, _)| p.starts_with("d03/"))
                .map(|(p, v)| (p.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        if under(&before) != under(&model) {
            touching.push(message);
        }
        assert_eq!(
            listing(&api, &id).await,
            model.keys().cloned().collect::<Vec<_>>(),
            "round {round}: the listing"
        );
        for i in 0..200 {
            let (s, body) = read(&api, &id, &path(i)).await;
            match model.get(&path(i)) {
                Some(want) => {
                    assert_eq!(
                        (s, &body),
                        (StatusCode::OK, want),
                        "round {round}: {}",
                        path(i)
                    )
                }
                None => assert_eq!(s, StatusCode::NOT_FOUND, "round {round}: {}", path(i)),
            }
        }
        let mut want: Vec<(String, String)> = Vec::new();
        for p in before.keys().chain(model.keys()) {
            let kind = match (before.get(p), model.get(p)) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                (Some(a), Some(b)) if a != b => "changed",
                _ => continue,
            };
            want.push((p.clone(), kind.to_owned()));
        }
        want.sort();
        want.dedup();
        assert_eq!(
            diff(&api, &previous, &id).await,
            want,
            "round {round}: the diff"
        );
        previous = id;
    }
    // The log filtered by a folder finds the commits that changed it.
    let (s, v) = api
        .json(
            Method::GET,
            "/repositories/layers/refs/main/commits?prefixes=d03/&amount=100",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let messages: Vec<String> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap().to_owned())
        .collect();
    touching.reverse();
    assert_eq!(messages, touching);
    // Both kinds of tree were made: layers, and a fold after one.
    assert_eq!(
        kinds.first(),
        Some(&true),
        "the first round is a layer: {kinds:?}"
    );
    let folded_after_layer = kinds.windows(2).any(|w| w[0] && !w[1]);
    assert!(folded_after_layer, "a layer was folded: {kinds:?}");
}

/// The base a layer file of commit `id` lies over and how many records it
/// holds (`None` for a plain tree). The layout: the magic, the base's id
/// (a length, then 64 hex digits), the record count as a varint.
async fn layer_of(api: &Api, id: &str) -> Option<(String, u64)> {
    let bytes = tree_file(api, id).await;
    if !bytes.starts_with(b"TARNLYR1") {
        return None;
    }
    assert_eq!(bytes[8], 64, "a base id's length");
    let base = String::from_utf8(bytes[9..73].to_vec()).unwrap();
    let (mut count, mut shift) = (0u64, 0);
    for b in &bytes[73..] {
        count |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if *b < 0x80 {
            break;
        }
    }
    Some((base, count))
}

#[tokio::test]
async fn a_compaction_job_folds_a_large_layer_and_the_next_commit_starts_over() {
    let api = Api {
        tarn: TarnProcess::quickstart_with(&[
            ("TARN_TREES__LAYER_MIN_RECORDS", "40"),
            ("TARN_TREES__LAYER_MAX_RECORDS", "1000"),
            ("TARN_TREES__LAYER_COMPACT_RECORDS", "10"),
            ("TARN_JOBS__POLL_INTERVAL_MS", "100"),
        ])
        .await,
        http: reqwest::Client::new(),
    };
    api.repo("layers").await;
    let mut model: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..120 {
        put(&api, &path(i), format!("v0 {i}")).await;
        model.insert(path(i), format!("v0 {i}"));
    }
    let base = api.commit("layers", "main", "base").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(layer_of(&api, &base).await, None, "the first tree is plain");
    let finished = || async {
        let samples = crate::operations::scrape(&api.http, &api.tarn.url).await;
        crate::operations::sum(
            &samples,
            "tarn_jobs_finished_total",
            &[("kind", "trees.compact"), ("outcome", "succeeded")],
        )
    };
    // Nine changes: a layer too small to compact.
    for i in 0..9 {
        put(&api, &path(i * 13), format!("v1 {i}")).await;
        model.insert(path(i * 13), format!("v1 {i}"));
    }
    let small = api.commit("layers", "main", "nine").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (first_base, records) = layer_of(&api, &small).await.expect("a layer");
    assert_eq!(records, 9);
    // Three more, one a removal: twelve, enough to start a job.
    put(&api, &path(5), "v2 5".into()).await;
    model.insert(path(5), "v2 5".into());
    put(&api, &path(150), "v2 150".into()).await;
    model.insert(path(150), "v2 150".into());
    remove(&api, &path(7)).await;
    model.remove(&path(7));
    let large = api.commit("layers", "main", "twelve").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(layer_of(&api, &large).await, Some((first_base.clone(), 12)));
    // The commit started a compaction: the API lists it until it succeeds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let done = loop {
        let (status, page) = api
            .json(Method::GET, "/repositories/layers/trees/compactions", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let runs = page["results"].as_array().cloned().unwrap_or_default();
        assert!(runs.len() <= 1, "one compaction at a time: {page}");
        if let Some(run) = runs.first().filter(|r| r["state"] == "succeeded") {
            break run.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no trees.compact job succeeded: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(done["report"]["folded"], 1, "{done}");
    assert_eq!(done["report"]["records"], 12, "{done}");
    assert_eq!(done["report"]["branches"], 1, "{done}");
    assert_eq!(finished().await, 1.0, "the job's metrics agree");
    // The next commit layers onto the folded tree: a new base, and a layer
    // of its own change only.
    put(&api, &path(60), "v3 60".into()).await;
    model.insert(path(60), "v3 60".into());
    let next = api.commit("layers", "main", "after").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (folded_base, records) = layer_of(&api, &next).await.expect("a layer");
    assert_ne!(folded_base, first_base, "layered onto the folded tree");
    assert_eq!(records, 1);
    for id in [&large, &next] {
        let mut want = model.clone();
        if id == &large {
            want.remove(&path(60));
            want.insert(path(60), "v0 60".into());
        }
        assert_eq!(
            listing(&api, id).await,
            want.keys().cloned().collect::<Vec<_>>()
        );
        for i in 0..200 {
            let (s, body) = read(&api, id, &path(i)).await;
            match want.get(&path(i)) {
                Some(v) => assert_eq!((s, &body), (StatusCode::OK, v), "{}", path(i)),
                None => assert_eq!(s, StatusCode::NOT_FOUND, "{}", path(i)),
            }
        }
    }
    assert_eq!(
        diff(&api, &large, &next).await,
        vec![(path(60), "changed".to_owned())]
    );
}

#[tokio::test]
async fn compactions_are_started_listed_read_and_cancelled_through_the_api() {
    // A runner that looks for work once, at its start: a compaction started
    // afterwards waits, so it can be read and cancelled while pending.
    let api = Api {
        tarn: TarnProcess::quickstart_with(&[("TARN_JOBS__POLL_INTERVAL_MS", "600000")]).await,
        http: reqwest::Client::new(),
    };
    api.repo("maint").await;
    api.repo("other").await;
    let list = |repo: &'static str| {
        let api = &api;
        async move {
            let path = format!("/repositories/{repo}/trees/compactions");
            let (status, page) = api.json(Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            page["results"].as_array().cloned().unwrap_or_default()
        }
    };
    assert!(list("maint").await.is_empty(), "no compaction yet");
    let base = "/repositories/maint/trees/compactions";
    let (status, started) = api.json(Method::POST, base, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert_eq!(started["state"], "pending", "{started}");
    let id = started["id"].as_str().expect("an id").to_owned();
    let (status, again) = api.json(Method::POST, base, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(
        again["id"], started["id"],
        "a waiting compaction is not doubled"
    );
    let listed = list("maint").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], started["id"]);
    assert!(
        list("other").await.is_empty(),
        "another repository's are its own"
    );
    let one = format!("{base}/{id}");
    let (status, got) = api.json(Method::GET, &one, None).await;
    assert_eq!((status, &got["state"]), (StatusCode::OK, &"pending".into()));
    let (status, gone) = api
        .json(
            Method::GET,
            &format!("/repositories/other/trees/compactions/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    assert!(gone["message"]
        .as_str()
        .unwrap_or_default()
        .contains("not found"));
    let (status, cancelled) = api.json(Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{cancelled}");
    assert_eq!(cancelled["state"], "canceled", "{cancelled}");
    let (status, ended) = api.json(Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{ended}");
    assert!(ended["message"]
        .as_str()
        .unwrap_or_default()
        .contains("already ended"));
    // A new one may start once none waits.
    let (status, next) = api.json(Method::POST, base, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{next}");
    assert_ne!(next["id"], started["id"]);
    for (method, path) in [
        (Method::GET, format!("{base}/not-a-job")),
        (
            Method::POST,
            "/repositories/missing/trees/compactions".to_owned(),
        ),
        (
            Method::GET,
            "/repositories/missing/trees/compactions".to_owned(),
        ),
    ] {
        let (status, body) = api.json(method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert!(body["message"].is_string(), "{body}");
    }
}
