//! The engine's metrics: commits and merges by outcome, with durations and
//! the paths they changed; cache lookups (trees, commits, auth) by result.

use crate::operations::{scrape, sum};
use crate::support::api::Api;
use crate::support::Run;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn commits_merges_and_caches_are_counted() {
    if Run::skip_unless(
        &[Run::DEFAULT],
        "the engine's counters, the same on every backend",
    ) {
        return;
    }
    let api = Api::start().await;
    api.repo("counted").await;
    for path in ["a", "b", "c"] {
        api.upload("counted", "main", path, "x").await;
    }
    api.commit("counted", "main", "three paths").await;
    let body = json!({"name": "feature", "source": "main"});
    let (s, v) = api
        .json(Method::POST, "/repositories/counted/branches", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    api.upload("counted", "feature", "d", "y").await;
    api.commit("counted", "feature", "one on feature").await;
    api.upload("counted", "main", "e", "z").await;
    api.commit("counted", "main", "one on main").await;
    // Both sides moved: the trees are merged, bringing `d` to main.
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/counted/refs/feature/merge/main",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Nothing staged: refused, and counted as failed.
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/counted/branches/main/commits",
            Some(json!({"message": "empty"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    for _ in 0..2 {
        let (s, v) = api
            .json(
                Method::GET,
                "/repositories/counted/refs/main/objects/ls",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["results"].as_array().map(Vec::len), Some(5), "{v}");
    }

    let m = scrape(&api.http, &api.tarn.url).await;
    let ops = "tarn_engine_operations_total";
    let commit = [("operation", "commit")];
    let merge = [("operation", "merge")];
    assert_eq!(
        sum(&m, ops, &[("operation", "commit"), ("outcome", "ok")]),
        3.0,
        "{m:?}"
    );
    assert_eq!(
        sum(&m, ops, &[("operation", "commit"), ("outcome", "failed")]),
        1.0
    );
    assert_eq!(
        sum(&m, ops, &[("operation", "merge"), ("outcome", "ok")]),
        1.0
    );
    // Every outcome is timed; only successes count their paths.
    assert_eq!(
        sum(&m, "tarn_engine_operation_duration_seconds_count", &commit),
        4.0
    );
    assert_eq!(sum(&m, "tarn_engine_operation_entries_count", &commit), 3.0);
    assert_eq!(sum(&m, "tarn_engine_operation_entries_sum", &commit), 5.0);
    assert_eq!(sum(&m, "tarn_engine_operation_entries_sum", &merge), 1.0);
    assert_eq!(
        sum(&m, "tarn_engine_operation_duration_seconds_count", &merge),
        1.0
    );

    let lookups = "tarn_cache_lookups_total";
    for cache in ["ranges", "metaranges", "commits", "auth_keys"] {
        let hits = sum(&m, lookups, &[("cache", cache), ("result", "hit")]);
        assert!(hits >= 1.0, "no hit in the {cache} cache: {m:?}");
    }
    // The first request authenticated from the store.
    let misses = sum(&m, lookups, &[("cache", "auth_keys"), ("result", "miss")]);
    assert!(misses >= 1.0, "the first key lookup was no miss");
    // What the tree caches hold is published in bytes.
    assert!(sum(&m, "tarn_cache_bytes", &[("cache", "ranges")]) > 0.0);
    assert!(sum(&m, "tarn_cache_entries", &[("cache", "commits")]) >= 1.0);
}
