//! Engine tests: objects, commits.

use super::*;
use crate::Entity;
use std::collections::BTreeMap;
use std::sync::Arc;
use tarn_model::tree::SplitRule;
use tarn_model::{RepositoryId, StorageNamespace, Timestamp};

#[tokio::test]
async fn staging_shadows_the_committed_tree_until_commit() {
    let f = fixture().await;
    f.put("main", "a", "1").await;
    f.put("main", "b", "1").await;
    assert_eq!(f.read("main", "a").await.as_deref(), Some("1"));
    assert_eq!(
        f.read("main@", "a").await,
        None,
        "committed view skips staging"
    );
    assert_eq!(f.read("main$", "a").await.as_deref(), Some("1"));
    let c1 = f.commit("main", "first").await;
    assert_eq!(c1.generation, 2);
    f.put("main", "a", "2").await;
    f.engine
        .delete_object(&f.repo, &b("main"), &p("b"))
        .await
        .unwrap();
    assert_eq!(f.read("main", "a").await.as_deref(), Some("2"));
    assert_eq!(
        f.read("main", "b").await,
        None,
        "tombstone hides the committed value"
    );
    assert_eq!(f.read("main@", "b").await.as_deref(), Some("1"));
    assert_eq!(f.list("main", "", None).await, ["a"]);
    let missing = f.engine.delete_object(&f.repo, &b("main"), &p("b")).await;
    assert!(
        matches!(
            missing,
            Err(Error::NotFound {
                entity: Entity::Object,
                ..
            })
        ),
        "{missing:?}"
    );
    f.commit("main", "second").await;
    assert_eq!(f.read("main~1", "a").await.as_deref(), Some("1"));
    assert_eq!(
        f.read(&c1.id.to_string()[..10], "b").await.as_deref(),
        Some("1"),
        "commit prefix"
    );
}

#[tokio::test]
async fn commit_without_changes_is_refused_unless_allowed() {
    let f = fixture().await;
    let req = CommitRequest {
        message: "m".into(),
        ..Default::default()
    };
    assert!(matches!(
        f.engine.commit(&f.repo, &b("main"), req.clone()).await,
        Err(Error::NoChanges)
    ));
    let empty = f
        .engine
        .commit(
            &f.repo,
            &b("main"),
            CommitRequest {
                allow_empty: true,
                ..req.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(empty.generation, 2);
    // Re-staging identical content is no change either, and leaves the branch clean.
    f.put("main", "a", "1").await;
    f.commit("main", "a").await;
    f.put("main", "a", "1").await;
    assert!(matches!(
        f.engine.commit(&f.repo, &b("main"), req).await,
        Err(Error::NoChanges)
    ));
    let diff = f
        .engine
        .diff_branch(
            &f.repo,
            &b("main"),
            &DiffRequest {
                amount: 10,
                ..Default::default()
            },
        )
        .await;
    assert!(diff.unwrap().items.is_empty());
}

#[tokio::test]
async fn commit_ids_are_content_addressed_and_metadata_is_kept() {
    let f = fixture().await;
    f.put("main", "a", "1").await;
    let mut metadata = BTreeMap::new();
    metadata.insert("k".to_owned(), "v".to_owned());
    let date = Timestamp::from_unix_seconds(1_600_000_000);
    let req = CommitRequest {
        message: "m".into(),
        committer: "c".into(),
        metadata,
        date: Some(date),
        allow_empty: false,
    };
    let c = f
        .engine
        .commit(&f.repo, &b("main"), req.clone())
        .await
        .unwrap();
    assert_eq!(c.creation_date, date);
    assert_eq!(c.metadata.get("k").map(String::as_str), Some("v"));
    let expected =
        tarn_model::commit_id("c", "m", &c.meta_range_id, date, &req.metadata, &c.parents);
    assert_eq!(c.id, expected);
    assert_eq!(
        f.engine.get_commit(&f.repo, c.id.as_str()).await.unwrap(),
        c
    );
}

#[tokio::test]
async fn listing_merges_staging_and_collapses_common_prefixes() {
    let f = fixture().await;
    for path in ["a/1", "a/2", "b", "c/d/e", "c/f"] {
        f.put("main", path, path).await;
    }
    f.commit("main", "tree").await;
    f.put("main", "a/0", "new").await;
    f.put("main", "c/z", "new").await;
    f.engine
        .delete_object(&f.repo, &b("main"), &p("b"))
        .await
        .unwrap();
    assert_eq!(
        f.list("main", "", None).await,
        ["a/0", "a/1", "a/2", "c/d/e", "c/f", "c/z"]
    );
    assert_eq!(f.list("main", "", Some("/")).await, ["a/", "c/"]);
    assert_eq!(
        f.list("main", "c/", Some("/")).await,
        ["c/d/", "c/f", "c/z"]
    );
    assert_eq!(f.list("main@", "", Some("/")).await, ["a/", "b", "c/"]);
    assert_eq!(f.list("main", "a/", None).await, ["a/0", "a/1", "a/2"]);
    assert!(f.list("main", "zzz", None).await.is_empty());
}

#[tokio::test]
async fn a_commit_rewrites_only_the_ranges_it_touches() {
    let split = SplitRule {
        raggedness: 16,
        max_bytes: 1 << 20,
    };
    let f = fixture_with(split).await;
    let paths: Vec<String> = (0..2000).map(|i| format!("data/{i:05}")).collect();
    for path in &paths {
        f.put("main", path, "v1").await;
    }
    let c1 = f.commit("main", "bulk").await;
    let ns = StorageNamespace::new("mem://repo").unwrap();
    let ranges1 = f
        .engine
        .trees
        .metarange(&ns, &c1.meta_range_id)
        .await
        .unwrap();
    assert!(ranges1.len() > 50, "{} ranges", ranges1.len());
    f.put("main", "data/01000", "v2").await;
    let c2 = f.commit("main", "one change").await;
    let ranges2 = f
        .engine
        .trees
        .metarange(&ns, &c2.meta_range_id)
        .await
        .unwrap();
    let old: std::collections::HashSet<_> = ranges1.iter().map(|r| r.id.clone()).collect();
    let new_ranges = ranges2.iter().filter(|r| !old.contains(&r.id)).count();
    assert_eq!(new_ranges, 1, "one change rewrites one range");
    assert_eq!(ranges2.len(), ranges1.len());
    let files = f.engine.trees.list_files(&ns).await.unwrap();
    assert!(files.iter().any(|k| k.starts_with("_tarn/range/")));
    assert_eq!(f.read("main", "data/01000").await.as_deref(), Some("v2"));
    assert_eq!(f.read("main", "data/01999").await.as_deref(), Some("v1"));
    assert_eq!(f.list("main", "data/0199", None).await.len(), 10);
}

/// 8 writers stage while 2 committers commit the same branch: every
/// acknowledged write ends in exactly one commit's change or is still staged.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_and_commits_lose_nothing() {
    let f = Arc::new(fixture().await);
    let mut writers = Vec::new();
    for w in 0..8 {
        let f = f.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..40 {
                f.put("main", &format!("w{w}/{i:03}"), &format!("{w}-{i}"))
                    .await;
                tokio::task::yield_now().await;
            }
        }));
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut committers = Vec::new();
    for c in 0..2 {
        let f = f.clone();
        let done = done.clone();
        committers.push(tokio::spawn(async move {
            let mut made = 0;
            // Until the writers are done, then once more for what is left.
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let req = CommitRequest {
                    message: format!("c{c}"),
                    ..Default::default()
                };
                match f.engine.commit(&f.repo, &b("main"), req).await {
                    Ok(_) => made += 1,
                    Err(Error::NoChanges) | Err(Error::TooManyAttempts(_)) => {}
                    Err(e) => panic!("commit failed: {e}"),
                }
                if finished {
                    break;
                }
                tokio::task::yield_now().await;
            }
            made
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut commits = 0;
    for c in committers {
        commits += c.await.unwrap();
    }
    assert!(commits > 0);
    // Every write is visible on the branch (committed or staged)...
    let listed = f.list("main", "", None).await;
    assert_eq!(listed.len(), 8 * 40);
    // ...and each was added by exactly one commit or is still staged.
    let log = f
        .engine
        .log(
            &f.repo,
            "main",
            &LogRequest {
                amount: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut added: BTreeMap<String, usize> = BTreeMap::new();
    for c in &log.items {
        let Some(parent) = c.parents.first() else {
            continue;
        };
        let req = DiffRequest {
            amount: 1000,
            ..Default::default()
        };
        let d = f
            .engine
            .diff_refs(&f.repo, parent.as_str(), c.id.as_str(), false, &req)
            .await
            .unwrap();
        for item in d.items {
            assert_eq!(item.kind, DiffKind::Added);
            *added.entry(item.path).or_default() += 1;
        }
    }
    let staged = f
        .engine
        .diff_branch(
            &f.repo,
            &b("main"),
            &DiffRequest {
                amount: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for item in staged.items {
        *added.entry(item.path).or_default() += 1;
    }
    assert_eq!(added.len(), 8 * 40);
    assert!(
        added.values().all(|&n| n == 1),
        "a write counted twice: {added:?}"
    );
}

/// Trees live in the block store, not in an instance: a second engine with a
/// cold cache over the same stores (here a local directory) reads them.
#[tokio::test]
async fn committed_trees_are_files_that_another_engine_reads() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(tarn_adapter_memory::FixedClock::new(
        Timestamp::from_unix_seconds(1),
    ));
    let stores = Stores {
        blocks: Arc::new(
            tarn_adapter_local::LocalBlockStore::open(dir.path())
                .await
                .unwrap(),
        ),
        refs: Arc::new(tarn_adapter_memory::MemoryRefStore::new()),
        staging: Arc::new(tarn_adapter_memory::MemoryStagingStore::new()),
        multipart: Arc::new(tarn_adapter_memory::MemoryMultipartStore::new()),
        clock,
        ids: Arc::new(tarn_adapter_memory::UniqueIds::new()),
    };
    let split = SplitRule {
        raggedness: 8,
        max_bytes: 1 << 20,
    };
    let settings = EngineSettings {
        split,
        ..EngineSettings::default()
    };
    let first = Engine::new(stores.clone(), settings);
    let repo = RepositoryId::new("local-repo").unwrap();
    let ns = StorageNamespace::new("local://repos/one").unwrap();
    first
        .create_repository(repo.clone(), ns, b("main"))
        .await
        .unwrap();
    for i in 0..200 {
        let path = p(&format!("k/{i:03}"));
        first
            .stage_object(&repo, &b("main"), &path, entry(&i.to_string()))
            .await
            .unwrap();
    }
    let req = CommitRequest {
        message: "m".into(),
        ..Default::default()
    };
    first.commit(&repo, &b("main"), req).await.unwrap();
    assert!(dir.path().join("repos/one").is_dir());
    let second = Engine::new(stores, settings);
    let got = second
        .stat_object(&repo, "main", &p("k/123"))
        .await
        .unwrap();
    assert_eq!(got.checksum, tarn_ports::md5_hex(b"123"));
    let req = ListRequest {
        prefix: "k/1".into(),
        amount: 1000,
        ..Default::default()
    };
    let listed = second.list_objects(&repo, "main", &req).await.unwrap();
    assert_eq!(listed.items.len(), 100);
}

/// Readers racing commits always see every acknowledged write, although a
/// commit drops the staging tokens it sealed as soon as it has moved the branch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_during_commits_never_miss_acknowledged_writes() {
    let f = Arc::new(fixture().await);
    let paths: Vec<String> = (0..50).map(|i| format!("r/{i:02}")).collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for p in paths.iter().take(25) {
        f.put("main", p, "v").await;
    }
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (f, paths, stop, started) = (f.clone(), paths.clone(), stop.clone(), started.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0u32;
            started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // At least one full pass, however the tasks are scheduled.
            loop {
                // Only paths written before the readers started are read.
                for p in paths.iter().take(25) {
                    assert!(
                        f.read("main", p).await.is_some(),
                        "{p} vanished during a commit"
                    );
                    reads += 1;
                }
                let listed = f.list("main", "r/", None).await;
                assert!(
                    listed.len() >= 25,
                    "a listing lost entries: {}",
                    listed.len()
                );
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
            }
            reads
        }));
    }
    // Commit only once every reader is reading, so that they overlap.
    while started.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        tokio::task::yield_now().await;
    }
    for (i, p) in paths.iter().enumerate().skip(25) {
        f.put("main", p, "v").await;
        f.commit("main", &format!("c{i}")).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for r in readers {
        assert!(r.await.unwrap() > 0);
    }
}
