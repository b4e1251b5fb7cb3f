//! Merges of layered trees over one base: resolved from the overlays, so a
//! merge of scattered changes reads no base range where the destination
//! left the changed paths alone, and agrees with the merge table otherwise.

use super::*;
use crate::TreeLayering;
use tarn_model::MergeStrategy;

/// Layers from 10 records, never folded, in ranges of a few records.
pub(super) fn settings() -> EngineSettings {
    EngineSettings {
        layering: TreeLayering {
            min_base_records: 10,
            max_overlay_records: 1000,
            compact_records: 0,
        },
        split: SplitRule {
            raggedness: 4,
            max_bytes: 1 << 20,
        },
        ..EngineSettings::default()
    }
}

pub(super) fn key(i: usize) -> String {
    format!("k/{i:03}")
}

/// `main` with 200 committed keys (in ranges of a few each), and `dev` from it.
pub(super) async fn forked() -> Fixture {
    let f = fixture().await;
    let f = Fixture {
        engine: Engine::new(f.engine.stores.clone(), settings()),
        ..f
    };
    for i in 0..200 {
        f.put("main", &key(i), &format!("v0-{i}")).await;
    }
    f.commit("main", "base").await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f
}

/// Ten changes on `dev`, each in a range of its own, an addition and a
/// removal, then one change on `main`; each branch committed.
pub(super) async fn scatter(f: &Fixture) {
    for i in 0..10 {
        f.put("dev", &key(3 + i * 19), "dev").await;
    }
    f.put("dev", "k/new", "dev-new").await;
    f.engine
        .delete_object(&f.repo, &b("dev"), &p(&key(20)))
        .await
        .unwrap();
    f.commit("dev", "dev").await;
    f.put("main", &key(40), "main-40").await;
    f.commit("main", "main two").await;
}

fn req(strategy: MergeStrategy) -> MergeRequest {
    MergeRequest {
        committer: "m".into(),
        strategy,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_merge_of_changes_the_destination_left_alone_reads_at_most_one_range() {
    let f = forked().await;
    // Main moves first, so that the merge base, dev and main are all layers.
    f.put("main", &key(1), "main-1").await;
    f.commit("main", "main one").await;
    f.engine
        .merge(&f.repo, "main", &b("dev"), req(MergeStrategy::None))
        .await
        .unwrap();
    scatter(&f).await;
    // A fresh engine: nothing cached, so every range read is counted.
    let fresh = Engine::new(f.engine.stores.clone(), settings());
    fresh
        .merge(&f.repo, "dev", &b("main"), req(MergeStrategy::None))
        .await
        .unwrap();
    let ranges_read = ranges_read(&fresh);
    // At most the one read that tells a layer of changes from no change
    // (the merge table alone would read a range per change).
    assert!(ranges_read <= 1, "ranges read by the merge: {ranges_read}");
    for i in 0..200 {
        let want = match i {
            1 => Some("main-1".to_owned()),
            20 => None,
            i if i % 19 == 3 && i < 3 + 10 * 19 => Some("dev".to_owned()),
            40 => Some("main-40".to_owned()),
            _ => Some(format!("v0-{i}")),
        };
        assert_eq!(f.read("main", &key(i)).await, want, "{}", key(i));
    }
    assert_eq!(f.read("main", "k/new").await.as_deref(), Some("dev-new"));
}

#[tokio::test]
async fn layered_merges_resolve_conflicts_and_agreements_by_the_table() {
    let f = forked().await;
    // Both change k/010 differently, both make k/011 the same, dev removes
    // k/012 that main changes, main removes k/013 that dev leaves alone,
    // and dev changes k/014 back to what the base holds.
    f.put("dev", &key(10), "dev").await;
    f.put("dev", &key(11), "same").await;
    f.engine
        .delete_object(&f.repo, &b("dev"), &p(&key(12)))
        .await
        .unwrap();
    f.put("dev", &key(14), "tmp").await;
    f.commit("dev", "dev one").await;
    f.put("dev", &key(14), "v0-14").await;
    f.commit("dev", "dev two").await;
    f.put("main", &key(10), "main").await;
    f.put("main", &key(11), "same").await;
    f.put("main", &key(12), "main").await;
    f.engine
        .delete_object(&f.repo, &b("main"), &p(&key(13)))
        .await
        .unwrap();
    f.commit("main", "main").await;
    match f
        .engine
        .merge(&f.repo, "dev", &b("main"), req(MergeStrategy::None))
        .await
    {
        Err(Error::Conflict { paths }) => assert_eq!(paths, [p(&key(10)), p(&key(12))]),
        other => panic!("expected conflicts, got {other:?}"),
    }
    f.engine
        .merge(&f.repo, "dev", &b("main"), req(MergeStrategy::DestWins))
        .await
        .unwrap();
    let read = |i: usize| {
        let f = &f;
        async move { f.read("main", &key(i)).await }
    };
    assert_eq!(read(10).await.as_deref(), Some("main"));
    assert_eq!(read(11).await.as_deref(), Some("same"));
    assert_eq!(read(12).await.as_deref(), Some("main"));
    assert_eq!(read(13).await, None);
    assert_eq!(read(14).await.as_deref(), Some("v0-14"));
    // Source wins on a second round of the same conflicts.
    f.put("dev", &key(10), "dev-again").await;
    f.engine
        .delete_object(&f.repo, &b("dev"), &p(&key(15)))
        .await
        .unwrap();
    f.commit("dev", "dev three").await;
    f.put("main", &key(10), "main-again").await;
    f.commit("main", "main again").await;
    f.engine
        .merge(&f.repo, "dev", &b("main"), req(MergeStrategy::SourceWins))
        .await
        .unwrap();
    assert_eq!(read(10).await.as_deref(), Some("dev-again"));
    assert_eq!(read(15).await, None);
    assert_eq!(read(13).await, None, "main's removal stays");
}
