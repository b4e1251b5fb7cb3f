//! Base values of layered trees: written in the background after commits
//! and merges, a diff of described layers reads no base range, and answers
//! as the diff that reads the base does.

use super::layered_merge::{forked, key, scatter, settings};
use super::*;
use crate::diff::DiffItem;
use crate::DiffRequest;

/// Scattered changes on `dev` (each in a range of its own, with an added
/// and a removed path) and one on `main`, both layers over one base.
async fn scattered() -> Fixture {
    changes_on(forked().await).await
}

async fn changes_on(f: Fixture) -> Fixture {
    scatter(&f).await;
    f
}

/// The two- and three-dot diffs from `main` to `dev` on a fresh engine
/// (nothing cached), with the ranges it read.
async fn diffs(f: &Fixture) -> (Vec<Vec<DiffItem>>, u64) {
    let fresh = Engine::new(f.engine.stores.clone(), settings()).describing_on_request_only();
    let req = DiffRequest {
        amount: 1000,
        ..Default::default()
    };
    let mut out = Vec::new();
    for three_dot in [false, true] {
        let page = fresh
            .diff_refs(&f.repo, "main", "dev", three_dot, &req)
            .await
            .unwrap();
        out.push(page.items);
    }
    (out, ranges_read(&fresh))
}

fn ns() -> StorageNamespace {
    StorageNamespace::new("mem://repo").unwrap()
}

async fn tree_of(f: &Fixture, branch: &str) -> tarn_model::MetaRangeId {
    f.engine
        .get_commit(&f.repo, branch)
        .await
        .unwrap()
        .meta_range_id
}

#[tokio::test]
async fn a_diff_of_described_layers_reads_no_range_and_answers_the_same() {
    let f = scattered().await;
    // The commits asked for their trees' base values; wait for them.
    f.engine.layers_described().await;
    let blocks = f.engine.stores.blocks.clone();
    let (main, dev) = (tree_of(&f, "main").await, tree_of(&f, "dev").await);
    for tree in [&main, &dev] {
        let key = crate::trees::base_values_key(tree).unwrap();
        assert!(
            blocks.head(&ns(), &key).await.is_ok(),
            "the background wrote {key}"
        );
    }
    // Written already: asking again writes nothing.
    assert!(!f.engine.describe_tree(&f.repo, "dev").await.unwrap());
    let (described, read) = diffs(&f).await;
    assert_eq!(read, 0, "ranges read by the diffs of described layers");
    // The same diffs where no base values exist read the base.
    for tree in [&main, &dev] {
        let key = crate::trees::base_values_key(tree).unwrap();
        blocks.delete(&ns(), &key).await.unwrap();
    }
    let (undescribed, read) = diffs(&f).await;
    assert!(read >= 10, "ranges read without base values: {read}");
    assert_eq!(described, undescribed);
    // Two-dot: dev's ten changes, its addition and removal, and main's
    // change seen from dev (which holds the base's record there).
    let kinds = |items: &[DiffItem]| -> Vec<(String, DiffKind)> {
        items.iter().map(|d| (d.path.clone(), d.kind)).collect()
    };
    let two_dot = kinds(&described[0]);
    assert_eq!(two_dot.len(), 13, "{two_dot:?}");
    assert!(two_dot.contains(&("k/new".to_owned(), DiffKind::Added)));
    assert!(two_dot.contains(&(key(20), DiffKind::Removed)));
    assert!(two_dot.contains(&(key(3), DiffKind::Changed)));
    assert!(two_dot.contains(&(key(40), DiffKind::Changed)));
    // Three-dot: main's own change is not dev's.
    let three_dot = kinds(&described[1]);
    assert_eq!(three_dot.len(), 12, "{three_dot:?}");
    assert!(!three_dot.iter().any(|(p, _)| *p == key(40)));
}

#[tokio::test]
async fn a_merge_is_described_too() {
    let f = scattered().await;
    f.engine.layers_described().await;
    f.engine
        .merge(
            &f.repo,
            "dev",
            &b("main"),
            MergeRequest {
                committer: "m".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    f.engine.layers_described().await;
    let merged = tree_of(&f, "main").await;
    let values = crate::trees::base_values_key(&merged).unwrap();
    assert!(f.engine.stores.blocks.head(&ns(), &values).await.is_ok());
    // Main after the merge against dev: only the merge's own paths differ
    // from dev's, and the diff of them reads nothing.
    let (items, read) = diffs(&f).await;
    assert_eq!(read, 0, "ranges read");
    let paths: Vec<&str> = items[0].iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, [key(40)], "two-dot");
    assert!(items[1].is_empty(), "three-dot: {:?}", items[1]);
}

#[tokio::test]
async fn garbage_collection_deletes_base_values_with_their_tree() {
    let f = forked().await;
    for i in 0..5 {
        f.put("dev", &key(i * 30), "dev").await;
    }
    f.commit("dev", "dev").await;
    f.engine.layers_described().await;
    let blocks = f.engine.stores.blocks.clone();
    let kept = crate::trees::base_values_key(&tree_of(&f, "dev").await).unwrap();
    // A layered tree nothing refers to (a failed commit's), described.
    let orphan = tarn_model::MetaRangeId::new("c".repeat(64)).unwrap();
    for key in [
        crate::trees::metarange_key(&orphan).unwrap(),
        crate::trees::base_values_key(&orphan).unwrap(),
    ] {
        let body = tarn_ports::ByteStream::from_bytes(b"old".to_vec());
        blocks.put(&ns(), &key, body, Some(3)).await.unwrap();
    }
    // Past the grace period, one collection moves the tree to the trash,
    // a later one purges it, and its base values with it.
    for run in ["one", "two", "three"] {
        f.clock.advance(2 * 3_600_000_000);
        f.engine
            .gc_mark(
                &f.repo,
                run,
                &crate::GcOptions::default(),
                &crate::Unobserved,
            )
            .await
            .unwrap();
        f.engine
            .gc_sweep(&f.repo, run, &crate::Unobserved)
            .await
            .unwrap();
    }
    let present = |key: tarn_model::BlockKey| {
        let blocks = blocks.clone();
        async move {
            match blocks.head(&ns(), &key).await {
                Ok(_) => true,
                Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => false,
                Err(e) => panic!("{e}"),
            }
        }
    };
    let trashed = format!("_tarn/trash/metarange/{orphan}");
    assert!(
        !present(tarn_model::BlockKey::new(trashed).unwrap()).await,
        "purged"
    );
    let values = crate::trees::base_values_key(&orphan).unwrap();
    assert!(
        !present(values).await,
        "the base values went with their tree"
    );
    assert!(present(kept).await, "a kept tree's base values stay");
}

#[tokio::test]
async fn a_diff_asks_for_the_base_values_its_layers_lack() {
    // Layers made where no base values were written (as before them).
    let f = forked().await;
    let quiet = Engine::new(f.engine.stores.clone(), settings()).describing_on_request_only();
    let f = changes_on(Fixture { engine: quiet, ..f }).await;
    let (main, dev) = (tree_of(&f, "main").await, tree_of(&f, "dev").await);
    let blocks = f.engine.stores.blocks.clone();
    for tree in [&main, &dev] {
        let key = crate::trees::base_values_key(tree).unwrap();
        assert!(blocks.head(&ns(), &key).await.is_err(), "none yet");
    }
    // A diff on an engine that describes reads the base, then asks.
    let engine = Engine::new(f.engine.stores.clone(), settings());
    let req = DiffRequest {
        amount: 1000,
        ..Default::default()
    };
    let first = engine
        .diff_refs(&f.repo, "main", "dev", false, &req)
        .await
        .unwrap();
    engine.layers_described().await;
    for tree in [&main, &dev] {
        let key = crate::trees::base_values_key(tree).unwrap();
        assert!(blocks.head(&ns(), &key).await.is_ok(), "{key} written");
    }
    let (again, read) = diffs(&f).await;
    assert_eq!(read, 0, "ranges read once described");
    assert_eq!(again[0], first.items);
}

#[tokio::test]
async fn damaged_base_values_cost_speed_not_answers() {
    let f = scattered().await;
    f.engine.layers_described().await;
    let (good, read) = diffs(&f).await;
    assert_eq!(read, 0);
    let key = crate::trees::base_values_key(&tree_of(&f, "dev").await).unwrap();
    let body = tarn_ports::ByteStream::from_bytes(b"garbage".to_vec());
    f.engine
        .stores
        .blocks
        .put(&ns(), &key, body, Some(7))
        .await
        .unwrap();
    // The diff reads the base instead, and answers the same.
    let (damaged, read) = diffs(&f).await;
    assert_eq!(damaged, good);
    assert!(read > 0, "the base was read");
    // Describing again writes the file anew.
    assert!(f.engine.describe_tree(&f.repo, "dev").await.unwrap());
    let (again, read) = diffs(&f).await;
    assert_eq!(again, good);
    assert_eq!(read, 0);
}
