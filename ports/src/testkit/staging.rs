//! The `StagingStore` conformance suite.

use super::{awkward_names, sample_entry};
use crate::{StagingEntry, StagingStore};
use std::sync::Arc;
use tarn_model::{ObjectPath, StagedValue, StagingToken};

/// What a staging-store conformance case needs.
pub struct StagingFixture {
    /// The store under test, empty and fresh for this case.
    pub store: Arc<dyn StagingStore>,
    /// The branches `store.put_and_read_branch` reads: the same database
    /// for a store that keeps them, any empty ref store for one that does
    /// not.
    pub refs: Arc<dyn crate::RefStore>,
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
            concurrent_puts_to_one_path_leave_one_of_them,
            folders_first_entry_of_each,
            folders_after_inside_a_folder,
            folders_limit,
            folders_under_prefixes,
            folders_non_ascii,
            folders_long_delimiters,
            folders_empty_results,
            folders_agree_with_a_naive_reading,
            put_and_read_branch_stages_then_reads,
            put_and_read_branch_of_a_missing_branch_still_stages,
            acknowledged_writes_survive_concurrent_seals,
            put_many_on_branch_stages_only_under_the_current_token,
            batches_are_taken_whole_by_commits,
        );
    };
}

mod staged_writes;
pub use staged_writes::*;

pub(crate) fn path(s: &str) -> ObjectPath {
    ObjectPath::new(s).unwrap_or_else(|e| panic!("{e}"))
}

fn token(s: &str) -> StagingToken {
    StagingToken::new(s).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn entry(n: u64) -> StagedValue {
    StagedValue::Entry(sample_entry(n))
}

pub(crate) async fn scan_all(
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

/// Writers racing on the same paths (and on other tokens): each path ends
/// with one of the values written to it, each written value is read back by
/// its writer once its `put` returned unless another writer overwrote it,
/// and the other tokens are untouched.
pub async fn concurrent_puts_to_one_path_leave_one_of_them(f: StagingFixture) {
    let (t, other) = (token("race"), token("race-other"));
    let mut tasks = Vec::new();
    for w in 0..16u64 {
        let (store, t, other) = (f.store.clone(), t.clone(), other.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..20u64 {
                let p = path(&format!("p{}", i % 4));
                let v = if (w + i).is_multiple_of(5) {
                    StagedValue::Tombstone
                } else {
                    entry(w * 1000 + i)
                };
                store.put(&t, &p, &v).await?;
                store
                    .put(&other, &path(&format!("w{w}/{i}")), &entry(i))
                    .await?;
                // This writer's own path: nobody else writes it.
                let own = path(&format!("own/{w}"));
                store.put(&t, &own, &entry(w * 1000 + i)).await?;
                assert_eq!(store.get(&t, &own).await?, Some(entry(w * 1000 + i)));
            }
            Ok::<_, crate::PortError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let all = scan_all(&*f.store, &t, "", 100).await;
    assert_eq!(all.len(), 4 + 16, "four shared paths and one per writer");
    for (p, v) in &all {
        if let Some(n) = p.as_str().strip_prefix('p') {
            let i: u64 = n.parse().unwrap();
            let written = |w: u64, j: u64| {
                if (w + j).is_multiple_of(5) {
                    StagedValue::Tombstone
                } else {
                    entry(w * 1000 + j)
                }
            };
            let possible = (0..16u64)
                .flat_map(|w| (0..20u64).filter(move |j| j % 4 == i).map(move |j| (w, j)))
                .any(|(w, j)| &written(w, j) == v);
            assert!(possible, "{p}: {v:?} was never written there");
        } else {
            let w: u64 = p.as_str().trim_start_matches("own/").parse().unwrap();
            assert_eq!(
                v,
                &entry(w * 1000 + 19),
                "{p} holds its writer's last value"
            );
        }
    }
    assert_eq!(scan_all(&*f.store, &other, "", 1000).await.len(), 16 * 20);
}

/// Stages `paths` under `t`; a path ending in `!` is staged as a tombstone
/// (without the `!`).
async fn stage_all(store: &dyn StagingStore, t: &StagingToken, paths: &[&str]) {
    let batch: Vec<StagingEntry> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| match p.strip_suffix('!') {
            Some(p) => (path(p), StagedValue::Tombstone),
            None => (path(p), entry(i as u64)),
        })
        .collect();
    store.put_many(t, &batch).await.unwrap();
}

async fn folders(
    store: &dyn StagingStore,
    t: &StagingToken,
    prefix: &str,
    delimiter: &str,
    after: Option<&str>,
    limit: usize,
) -> Vec<StagingEntry> {
    let after = after.map(path);
    let got = store
        .scan_folders(t, prefix, delimiter, after.as_ref(), limit)
        .await
        .unwrap_or_else(|e| panic!("scan_folders {prefix:?} {delimiter:?} {after:?}: {e}"));
    assert!(
        got.len() <= limit,
        "scan_folders returned more than the limit"
    );
    got
}

/// Paths of `scan_folders`, for assertions.
async fn folder_paths(
    store: &dyn StagingStore,
    t: &StagingToken,
    prefix: &str,
    delimiter: &str,
    after: Option<&str>,
    limit: usize,
) -> Vec<String> {
    folders(store, t, prefix, delimiter, after, limit)
        .await
        .into_iter()
        .map(|(p, _)| p.into_string())
        .collect()
}

/// A level with folders, files beside them (`b-` and `b0` sort around `b/`),
/// a folder whose first entry is its own name (`c/`), a folder that starts
/// with a tombstone and a nested folder.
const LEVEL: [&str; 11] = [
    "a", "b-", "b/1", "b/2", "b/3/x", "b0", "c/", "c/1", "d/1!", "d/2", "e",
];

pub async fn folders_first_entry_of_each(f: StagingFixture) {
    let t = token("folders");
    stage_all(&*f.store, &t, &LEVEL).await;
    let got = folders(&*f.store, &t, "", "/", None, 100).await;
    assert_eq!(
        paths(&got),
        ["a", "b-", "b/1", "b0", "c/", "d/1", "e"],
        "one entry per folder, every file of the level"
    );
    assert_eq!(got[5].1, StagedValue::Tombstone, "tombstones count");
    assert_eq!(got[2].1, entry(2), "values are the entries'");
}

pub async fn folders_after_inside_a_folder(f: StagingFixture) {
    let t = token("folders");
    stage_all(&*f.store, &t, &LEVEL).await;
    let s = &*f.store;
    let cases: [(&str, &[&str]); 7] = [
        ("b/1", &["b/2", "b0", "c/", "d/1", "e"]),
        ("b/", &["b/1", "b0", "c/", "d/1", "e"]),
        ("b/3/x", &["b0", "c/", "d/1", "e"]),
        ("a0", &["b-", "b/1", "b0", "c/", "d/1", "e"]),
        ("c/", &["c/1", "d/1", "e"]),
        ("d/1", &["d/2", "e"]),
        ("e", &[]),
    ];
    for (after, want) in cases {
        assert_eq!(
            folder_paths(s, &t, "", "/", Some(after), 100).await,
            want,
            "after {after:?}"
        );
    }
}

pub async fn folders_limit(f: StagingFixture) {
    let t = token("folders");
    stage_all(&*f.store, &t, &LEVEL).await;
    let s = &*f.store;
    assert_eq!(
        folder_paths(s, &t, "", "/", None, 3).await,
        ["a", "b-", "b/1"]
    );
    assert_eq!(folder_paths(s, &t, "", "/", Some("b/1"), 1).await, ["b/2"]);
    assert_eq!(
        folder_paths(s, &t, "", "/", Some("b-"), 2).await,
        ["b/1", "b0"]
    );
    assert!(folder_paths(s, &t, "", "/", None, 0).await.is_empty());
    assert_eq!(folder_paths(s, &t, "", "/", None, 7).await.len(), 7);
}

pub async fn folders_under_prefixes(f: StagingFixture) {
    let t = token("folders");
    stage_all(&*f.store, &t, &LEVEL).await;
    let s = &*f.store;
    let cases: [(&str, Option<&str>, &[&str]); 7] = [
        ("b", None, &["b-", "b/1", "b0"]),
        ("b/", None, &["b/1", "b/2", "b/3/x"]),
        ("b/", Some("a"), &["b/1", "b/2", "b/3/x"]),
        ("b/", Some("b/2"), &["b/3/x"]),
        ("b/3/", None, &["b/3/x"]),
        ("c/", None, &["c/", "c/1"]),
        ("d", Some("d/1"), &["d/2"]),
    ];
    for (prefix, after, want) in cases {
        assert_eq!(
            folder_paths(s, &t, prefix, "/", after, 100).await,
            want,
            "prefix {prefix:?} after {after:?}"
        );
    }
}

pub async fn folders_non_ascii(f: StagingFixture) {
    let t = token("unicode");
    let staged = [
        "z",
        "é/1",
        "é/2",
        "ée",
        "日本/a",
        "日本/b",
        "日本語/x",
        "日本語/y",
        "😀/1",
        "😀/2",
        "😀a",
    ];
    stage_all(&*f.store, &t, &staged).await;
    let s = &*f.store;
    let cases: [(&str, &str, Option<&str>, &[&str]); 8] = [
        (
            "",
            "/",
            None,
            &["z", "é/1", "ée", "日本/a", "日本語/x", "😀/1", "😀a"],
        ),
        ("日本", "/", None, &["日本/a", "日本語/x"]),
        ("é", "/", None, &["é/1", "ée"]),
        (
            "",
            "/",
            Some("日本/a"),
            &["日本/b", "日本語/x", "😀/1", "😀a"],
        ),
        // A delimiter of one multi-byte character.
        (
            "",
            "本",
            None,
            &["z", "é/1", "é/2", "ée", "日本/a", "😀/1", "😀/2", "😀a"],
        ),
        (
            "",
            "😀",
            None,
            &[
                "z",
                "é/1",
                "é/2",
                "ée",
                "日本/a",
                "日本/b",
                "日本語/x",
                "日本語/y",
                "😀/1",
            ],
        ),
        (
            "",
            "é",
            Some("z"),
            &[
                "é/1",
                "日本/a",
                "日本/b",
                "日本語/x",
                "日本語/y",
                "😀/1",
                "😀/2",
                "😀a",
            ],
        ),
        ("日本", "語/", None, &["日本/a", "日本/b", "日本語/x"]),
    ];
    for (prefix, delimiter, after, want) in cases {
        assert_eq!(
            folder_paths(s, &t, prefix, delimiter, after, 100).await,
            want,
            "prefix {prefix:?} delimiter {delimiter:?} after {after:?}"
        );
    }
}

pub async fn folders_long_delimiters(f: StagingFixture) {
    let t = token("long");
    let staged = [
        "x-",
        "x--1",
        "x--2",
        "x--3--4",
        "x-y",
        "xaaa/1",
        "xaab",
        "y--",
        "a→b",
        "a→→c",
        "ab",
        "m\u{10FFFF}1",
        "m\u{10FFFF}2",
        "m\u{10FFFF}\u{10FFFF}",
        "n",
    ];
    stage_all(&*f.store, &t, &staged).await;
    let s = &*f.store;
    let cases: [(&str, &str, &[&str]); 6] = [
        ("x", "--", &["x-", "x--1", "x-y", "xaaa/1", "xaab"]),
        ("x--", "--", &["x--1", "x--2", "x--3--4"]),
        // Overlapping occurrences: the first one counts.
        (
            "x",
            "aa",
            &["x-", "x--1", "x--2", "x--3--4", "x-y", "xaaa/1"],
        ),
        ("a", "→", &["ab", "a→b"]),
        (
            "",
            "→",
            &[
                "ab",
                "a→b",
                "m\u{10FFFF}1",
                "m\u{10FFFF}2",
                "m\u{10FFFF}\u{10FFFF}",
                "n",
                "x-",
            ],
        ),
        // A delimiter whose last character has no successor.
        ("m", "\u{10FFFF}", &["m\u{10FFFF}1"]),
    ];
    for (prefix, delimiter, want) in cases {
        let got = folder_paths(s, &t, prefix, delimiter, None, 7).await;
        assert_eq!(got, want, "prefix {prefix:?} delimiter {delimiter:?}");
    }
    assert_eq!(
        folder_paths(s, &t, "", "\u{10FFFF}", Some("m"), 3).await,
        ["m\u{10FFFF}1", "n", "x-"]
    );
}

pub async fn folders_empty_results(f: StagingFixture) {
    let t = token("folders");
    let s = &*f.store;
    assert!(
        folder_paths(s, &t, "", "/", None, 10).await.is_empty(),
        "empty token"
    );
    stage_all(s, &t, &LEVEL).await;
    assert!(
        folder_paths(s, &t, "q", "/", None, 10).await.is_empty(),
        "no such prefix"
    );
    assert!(
        folder_paths(s, &t, "", "/", Some("f"), 10).await.is_empty(),
        "past the end"
    );
    assert!(folder_paths(s, &t, "b/", "/", Some("b/3/x"), 10)
        .await
        .is_empty());
    assert!(folder_paths(&*f.store, &token("other"), "", "/", None, 10)
        .await
        .is_empty());
    assert_eq!(
        folders(s, &t, "", "", Some("b/1"), 4).await,
        s.scan(&t, "", Some(&path("b/1")), 4).await.unwrap(),
        "an empty delimiter reads as scan"
    );
}

/// What `scan_folders` must return, read off every entry of the token.
fn naive_folders<'a>(
    all: &'a [StagingEntry],
    prefix: &str,
    delimiter: &str,
    after: Option<&str>,
    limit: usize,
) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut folder: Option<&str> = None;
    for (p, _) in all {
        let p = p.as_str();
        let skipped = folder.is_some_and(|f| p.starts_with(f));
        if !p.starts_with(prefix) || after.is_some_and(|a| p <= a) || skipped {
            continue;
        }
        if out.len() == limit {
            break;
        }
        out.push(p);
        let rest = &p[prefix.len()..];
        folder = match rest.find(delimiter) {
            Some(i) if !delimiter.is_empty() => Some(&p[..prefix.len() + i + delimiter.len()]),
            _ => None,
        };
    }
    out
}

pub async fn folders_agree_with_a_naive_reading(f: StagingFixture) {
    let t = token("many");
    let tops = ["d0", "d1", "dé", "d日", "d日本"];
    let seconds = ["x", "y/", "z--", "é/", "w/v/"];
    let mut batch = Vec::new();
    for i in 0..3000u64 {
        let p = format!(
            "{}/{}{:04}",
            tops[(i % 5) as usize],
            seconds[(i / 5 % 5) as usize],
            (i * 7919) % 3000
        );
        let value = if i % 11 == 0 {
            StagedValue::Tombstone
        } else {
            entry(i)
        };
        batch.push((path(&p), value));
    }
    f.store.put_many(&t, &batch).await.unwrap();
    let all = scan_all(&*f.store, &t, "", 1000).await;
    let afters = [
        None,
        Some("d1/"),
        Some("d1/y/0005"),
        Some("dé/é/2"),
        Some("d日/z--"),
    ];
    for prefix in ["", "d", "d1/", "dé/", "d日", "d日/y/"] {
        for delimiter in ["/", "--", "é", "日", "y/", "0"] {
            for after in afters {
                for limit in [1, 3, 1000] {
                    let got = folder_paths(&*f.store, &t, prefix, delimiter, after, limit).await;
                    let want = naive_folders(&all, prefix, delimiter, after, limit);
                    assert_eq!(
                        got, want,
                        "prefix {prefix:?} delimiter {delimiter:?} after {after:?} limit {limit}"
                    );
                }
            }
        }
    }
}
