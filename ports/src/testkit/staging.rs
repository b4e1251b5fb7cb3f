//! The `StagingStore` conformance suite.

use super::{awkward_names, sample_entry};
use crate::{StagingEntry, StagingStore};
use std::sync::Arc;
use tarn_model::{ObjectPath, StagedValue, StagingToken};

/// What a staging-store conformance case needs.
pub struct StagingFixture {
    /// The store under test, empty and fresh for this case.
    pub store: Arc<dyn StagingStore>,
    /// Keeps temporary resources alive for the case.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// Runs the whole `StagingStore` suite against `$factory`, an async fn
/// returning a fresh [`StagingFixture`].
#[macro_export]
macro_rules! staging_store_conformance {
    ($factory:expr) => {
        $crate::__conformance_cases!(staging_store_conformance, staging, $factory;
            put_get_and_overwrite,
            tombstones_are_stored_and_scanned,
            unknown_token_is_empty,
            scan_filters_prefix_and_after_in_byte_order,
            scan_pages_visit_thousands_exactly_once,
            awkward_paths_round_trip_in_byte_order,
            like_wildcards_in_prefix_are_literal,
            delete_removes_one_path,
            drop_prefix_and_drop_token,
            tokens_are_isolated,
            put_many_equals_puts,
            concurrent_puts_all_land,
        );
    };
}

fn path(s: &str) -> ObjectPath {
    ObjectPath::new(s).unwrap_or_else(|e| panic!("{e}"))
}

fn token(s: &str) -> StagingToken {
    StagingToken::new(s).unwrap_or_else(|e| panic!("{e}"))
}

fn entry(n: u64) -> StagedValue {
    StagedValue::Entry(sample_entry(n))
}

async fn scan_all(
    store: &dyn StagingStore,
    t: &StagingToken,
    prefix: &str,
    page: usize,
) -> Vec<StagingEntry> {
    let mut out: Vec<StagingEntry> = Vec::new();
    loop {
        let after = out.last().map(|(p, _)| p.clone());
        let got = store
            .scan(t, prefix, after.as_ref(), page)
            .await
            .unwrap_or_else(|e| panic!("scan: {e}"));
        assert!(got.len() <= page, "scan returned more than the limit");
        let done = got.len() < page;
        out.extend(got);
        if done {
            return out;
        }
    }
}

fn paths(entries: &[StagingEntry]) -> Vec<&str> {
    entries.iter().map(|(p, _)| p.as_str()).collect()
}

pub async fn put_get_and_overwrite(f: StagingFixture) {
    let t = token("t1");
    let p = path("a/b.txt");
    f.store.put(&t, &p, &entry(1)).await.unwrap();
    assert_eq!(f.store.get(&t, &p).await.unwrap(), Some(entry(1)));
    f.store.put(&t, &p, &entry(2)).await.unwrap();
    assert_eq!(f.store.get(&t, &p).await.unwrap(), Some(entry(2)));
    assert_eq!(f.store.get(&t, &path("a/c.txt")).await.unwrap(), None);
    assert_eq!(scan_all(&*f.store, &t, "", 10).await.len(), 1);
}

pub async fn tombstones_are_stored_and_scanned(f: StagingFixture) {
    let t = token("t1");
    f.store.put(&t, &path("x"), &entry(1)).await.unwrap();
    f.store
        .put(&t, &path("x"), &StagedValue::Tombstone)
        .await
        .unwrap();
    f.store
        .put(&t, &path("y"), &StagedValue::Tombstone)
        .await
        .unwrap();
    assert_eq!(
        f.store.get(&t, &path("x")).await.unwrap(),
        Some(StagedValue::Tombstone)
    );
    let all = scan_all(&*f.store, &t, "", 10).await;
    assert_eq!(
        all,
        vec![
            (path("x"), StagedValue::Tombstone),
            (path("y"), StagedValue::Tombstone)
        ]
    );
}

pub async fn unknown_token_is_empty(f: StagingFixture) {
    let t = token("never-used");
    assert_eq!(f.store.get(&t, &path("a")).await.unwrap(), None);
    assert!(f.store.scan(&t, "", None, 10).await.unwrap().is_empty());
    f.store.drop_token(&t).await.unwrap();
    f.store.delete(&t, &path("a")).await.unwrap();
}

pub async fn scan_filters_prefix_and_after_in_byte_order(f: StagingFixture) {
    let t = token("t1");
    for (i, p) in ["b/2", "a", "b/1", "b-", "b/10", "c", "b"]
        .iter()
        .enumerate()
    {
        f.store.put(&t, &path(p), &entry(i as u64)).await.unwrap();
    }
    assert_eq!(
        paths(&scan_all(&*f.store, &t, "", 3).await),
        ["a", "b", "b-", "b/1", "b/10", "b/2", "c"]
    );
    assert_eq!(
        paths(&scan_all(&*f.store, &t, "b/", 100).await),
        ["b/1", "b/10", "b/2"]
    );
    let after = path("b/1");
    let got = f.store.scan(&t, "b/", Some(&after), 1).await.unwrap();
    assert_eq!(paths(&got), ["b/10"]);
    let got = f.store.scan(&t, "", Some(&path("a0")), 2).await.unwrap();
    assert_eq!(paths(&got), ["b", "b-"], "after need not be a stored path");
    assert!(f
        .store
        .scan(&t, "b/", Some(&path("b/3")), 5)
        .await
        .unwrap()
        .is_empty());
    assert!(
        f.store.scan(&t, "", None, 0).await.unwrap().is_empty(),
        "limit 0"
    );
}

pub async fn scan_pages_visit_thousands_exactly_once(f: StagingFixture) {
    let t = token("big");
    let mut expected = Vec::new();
    let mut batch = Vec::new();
    for i in 0..5000u64 {
        let p = path(&format!("dir{}/file-{:05}", i % 7, (i * 7919) % 5000));
        expected.push(p.as_str().to_owned());
        batch.push((p, entry(i)));
    }
    f.store.put_many(&t, &batch).await.unwrap();
    expected.sort();
    let got = scan_all(&*f.store, &t, "", 1000).await;
    assert_eq!(
        paths(&got),
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let dir3 = scan_all(&*f.store, &t, "dir3/", 333).await;
    assert!(dir3.iter().all(|(p, _)| p.as_str().starts_with("dir3/")));
    assert_eq!(
        dir3.len(),
        expected.iter().filter(|p| p.starts_with("dir3/")).count()
    );
}

pub async fn awkward_paths_round_trip_in_byte_order(f: StagingFixture) {
    let t = token("awk");
    let mut names = awkward_names();
    for (i, n) in names.iter().enumerate() {
        f.store.put(&t, &path(n), &entry(i as u64)).await.unwrap();
    }
    for (i, n) in names.iter().enumerate() {
        assert_eq!(
            f.store.get(&t, &path(n)).await.unwrap(),
            Some(entry(i as u64)),
            "{n:?}"
        );
    }
    names.sort();
    let got = scan_all(&*f.store, &t, "", 4).await;
    assert_eq!(
        paths(&got),
        names.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let uni = scan_all(&*f.store, &t, "unicode/日本", 10).await;
    assert_eq!(paths(&uni), ["unicode/日本語/ファイル✓.txt"]);
}

pub async fn like_wildcards_in_prefix_are_literal(f: StagingFixture) {
    let t = token("like");
    for p in ["a%b", "axb", "a_c", "ayc", "a\\d", "a\\\\d"] {
        f.store.put(&t, &path(p), &entry(1)).await.unwrap();
    }
    assert_eq!(paths(&scan_all(&*f.store, &t, "a%", 10).await), ["a%b"]);
    assert_eq!(paths(&scan_all(&*f.store, &t, "a_", 10).await), ["a_c"]);
    assert_eq!(
        paths(&scan_all(&*f.store, &t, "a\\", 10).await),
        ["a\\\\d", "a\\d"]
    );
    f.store.drop_prefix(&t, "a_").await.unwrap();
    assert_eq!(
        scan_all(&*f.store, &t, "", 10).await.len(),
        5,
        "drop_prefix with '_' is literal"
    );
}

pub async fn delete_removes_one_path(f: StagingFixture) {
    let t = token("t1");
    f.store.put(&t, &path("keep"), &entry(1)).await.unwrap();
    f.store.put(&t, &path("remove"), &entry(2)).await.unwrap();
    f.store.delete(&t, &path("remove")).await.unwrap();
    f.store.delete(&t, &path("remove")).await.unwrap();
    assert_eq!(f.store.get(&t, &path("remove")).await.unwrap(), None);
    assert_eq!(paths(&scan_all(&*f.store, &t, "", 10).await), ["keep"]);
}

pub async fn drop_prefix_and_drop_token(f: StagingFixture) {
    let t = token("t1");
    for p in ["logs/1", "logs/2", "logs-old", "data/1"] {
        f.store.put(&t, &path(p), &entry(1)).await.unwrap();
    }
    f.store.drop_prefix(&t, "logs/").await.unwrap();
    assert_eq!(
        paths(&scan_all(&*f.store, &t, "", 10).await),
        ["data/1", "logs-old"]
    );
    f.store.drop_token(&t).await.unwrap();
    assert!(scan_all(&*f.store, &t, "", 10).await.is_empty());
    f.store.put(&t, &path("again"), &entry(3)).await.unwrap();
    assert_eq!(
        f.store.get(&t, &path("again")).await.unwrap(),
        Some(entry(3)),
        "a dropped token is reusable"
    );
}

pub async fn tokens_are_isolated(f: StagingFixture) {
    let (a, b) = (token("repo-main:aaa"), token("repo-main:aab"));
    f.store.put(&a, &path("p"), &entry(1)).await.unwrap();
    f.store.put(&b, &path("p"), &entry(2)).await.unwrap();
    f.store.put(&b, &path("q"), &entry(3)).await.unwrap();
    assert_eq!(f.store.get(&a, &path("p")).await.unwrap(), Some(entry(1)));
    assert_eq!(scan_all(&*f.store, &a, "", 10).await.len(), 1);
    f.store.drop_token(&b).await.unwrap();
    assert_eq!(f.store.get(&a, &path("p")).await.unwrap(), Some(entry(1)));
    assert!(scan_all(&*f.store, &b, "", 10).await.is_empty());
}

pub async fn put_many_equals_puts(f: StagingFixture) {
    let t = token("many");
    let batch: Vec<StagingEntry> = vec![
        (path("b"), entry(1)),
        (path("a"), StagedValue::Tombstone),
        (path("b"), entry(2)),
    ];
    f.store.put_many(&t, &batch).await.unwrap();
    let got = scan_all(&*f.store, &t, "", 10).await;
    assert_eq!(
        got,
        vec![(path("a"), StagedValue::Tombstone), (path("b"), entry(2))],
        "later entries win"
    );
    f.store.put_many(&t, &[]).await.unwrap();
}

pub async fn concurrent_puts_all_land(f: StagingFixture) {
    let t = token("concurrent");
    let mut tasks = Vec::new();
    for w in 0..8u64 {
        let (store, t) = (f.store.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..100u64 {
                store
                    .put(&t, &path(&format!("w{w}/{i:03}")), &entry(w * 1000 + i))
                    .await?;
            }
            Ok::<_, crate::PortError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let all = scan_all(&*f.store, &t, "", 250).await;
    assert_eq!(all.len(), 800);
}
