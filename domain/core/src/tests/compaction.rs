//! Compaction of layered trees: asked for by the commit that grows a layer
//! past a quarter of its bound, folded by `compact_trees`, and used by the
//! next commit, with nothing a user sees changed and garbage collection
//! keeping the folded tree.

use super::*;
use crate::{CompactionReport, CompactionRequests, GcOptions, TreeLayering, Unobserved};
use std::sync::Mutex;
use tarn_model::MetaRangeId;

/// Records the repositories compaction is asked for.
#[derive(Default)]
struct Asked(Mutex<Vec<String>>);

impl CompactionRequests for Asked {
    fn wanted(&self, repo: &RepositoryId) {
        if let Ok(mut asked) = self.0.lock() {
            asked.push(repo.to_string());
        }
    }
}

/// Trees that take layers from 10 records, want compacting from 10 and
/// fold past 40, in ranges of a few records.
fn settings() -> EngineSettings {
    EngineSettings {
        layering: TreeLayering {
            min_base_records: 10,
            max_overlay_records: 40,
            compact_records: 10,
        },
        split: SplitRule {
            raggedness: 4,
            max_bytes: 1 << 20,
        },
        ..EngineSettings::default()
    }
}

/// A fixture on [`settings`], telling the compactions it asks for.
async fn layered() -> (Fixture, Arc<Asked>) {
    let f = fixture().await;
    let asked = Arc::new(Asked::default());
    let engine = Engine::new(f.engine.stores.clone(), settings()).with_compactions(asked.clone());
    (Fixture { engine, ..f }, asked)
}

fn ns() -> StorageNamespace {
    StorageNamespace::new("mem://repo").unwrap()
}

async fn overlay_len(f: &Fixture, tree: &MetaRangeId) -> usize {
    f.engine.trees.overlay_len(&ns(), tree).await.unwrap()
}

#[tokio::test]
async fn a_large_layer_is_asked_for_folded_and_the_next_commit_starts_over() {
    let (f, asked) = layered().await;
    for i in 0..50 {
        f.put("main", &format!("k/{i:03}"), &format!("v0-{i}"))
            .await;
    }
    let base = f.commit("main", "base").await;
    assert_eq!(overlay_len(&f, &base.meta_range_id).await, 0, "plain");
    // Nine changes: a layer, too small to compact.
    for i in 0..9 {
        f.put("main", &format!("k/{:03}", i * 5), &format!("v1-{i}"))
            .await;
    }
    let small = f.commit("main", "nine").await;
    assert_eq!(overlay_len(&f, &small.meta_range_id).await, 9);
    assert!(asked.0.lock().unwrap().is_empty());
    let nothing = f
        .engine
        .compact_trees(&f.repo, &mut |_, _| true)
        .await
        .unwrap();
    assert_eq!(nothing.folded, 0);
    // Three more (one removal, one new path): twelve, worth compacting.
    f.put("main", "k/001", "v2-1").await;
    f.put("main", "k/new", "v2-new").await;
    f.engine
        .delete_object(&f.repo, &b("main"), &p("k/002"))
        .await
        .unwrap();
    let large = f.commit("main", "twelve").await;
    assert_eq!(overlay_len(&f, &large.meta_range_id).await, 12);
    assert_eq!(*asked.0.lock().unwrap(), vec!["repo".to_owned()]);

    let before = f.list("main", "", None).await;
    let mut seen = Vec::new();
    let report = f
        .engine
        .compact_trees(&f.repo, &mut |b, _| {
            seen.push(b.to_string());
            true
        })
        .await
        .unwrap();
    assert_eq!(
        report,
        CompactionReport {
            branches: 1,
            folded: 1,
            already: 0,
            records: 12
        }
    );
    assert_eq!(seen, vec!["main".to_owned()]);
    let marker = format!("_tarn/compacted/{}", large.meta_range_id);
    let files = f.engine.trees.list_files(&ns()).await.unwrap();
    assert!(files.contains(&marker), "{files:?}");
    // Nothing a user sees changed: the commit, its tree id, what it holds.
    let head = f.engine.get_commit(&f.repo, "main").await.unwrap();
    assert_eq!(head.id, large.id);
    assert_eq!(f.list("main", "", None).await, before);
    // Again: already done, nothing written.
    let again = f
        .engine
        .compact_trees(&f.repo, &mut |_, _| true)
        .await
        .unwrap();
    assert_eq!((again.folded, again.already), (0, 1));
    assert_eq!(f.engine.trees.list_files(&ns()).await.unwrap(), files);

    // The next commit layers onto the folded tree: its overlay holds its
    // own change only, not the twelve before it.
    f.put("main", "k/003", "v3-3").await;
    let next = f.commit("main", "one more").await;
    assert_eq!(overlay_len(&f, &next.meta_range_id).await, 1);
    let mut want: BTreeMap<String, Option<String>> = BTreeMap::new();
    for i in 0..50 {
        want.insert(format!("k/{i:03}"), Some(format!("v0-{i}")));
    }
    for i in 0..9 {
        want.insert(format!("k/{:03}", i * 5), Some(format!("v1-{i}")));
    }
    want.insert("k/001".into(), Some("v2-1".into()));
    want.insert("k/new".into(), Some("v2-new".into()));
    want.insert("k/002".into(), None);
    want.insert("k/003".into(), Some("v3-3".into()));
    for (path, value) in &want {
        assert_eq!(f.read("main", path).await, *value, "{path}");
    }
    let listed = f.list("main", "", None).await;
    let expected: Vec<String> = want
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(listed, expected);
    // The diff from the compacted commit is the one change.
    let diff = f
        .engine
        .diff_refs(
            &f.repo,
            large.id.as_str(),
            "main",
            false,
            &DiffRequest::default(),
        )
        .await
        .unwrap();
    let paths: Vec<&str> = diff.items.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, vec!["k/003"]);
    // With nothing cached, that diff reads the one range the change is in,
    // not every range of both bases that the fold rewrote.
    let fresh = Engine::new(f.engine.stores.clone(), settings());
    let diff = fresh
        .diff_refs(
            &f.repo,
            large.id.as_str(),
            "main",
            false,
            &DiffRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(diff.items.len(), 1);
    let ranges_read = ranges_read(&fresh);
    assert_eq!(ranges_read, 1, "ranges read by the diff");
}

#[tokio::test]
async fn garbage_collection_keeps_the_folded_tree_and_its_marker() {
    let (f, _) = layered().await;
    for i in 0..30 {
        f.put("main", &format!("k/{i:03}"), &format!("v0-{i}"))
            .await;
    }
    f.commit("main", "base").await;
    for i in 0..15 {
        f.put("main", &format!("k/{:03}", i * 2), &format!("v1-{i}"))
            .await;
    }
    let layer = f.commit("main", "layer").await;
    let report = f
        .engine
        .compact_trees(&f.repo, &mut |_, _| true)
        .await
        .unwrap();
    assert_eq!(report.folded, 1);
    let plain = f
        .engine
        .trees
        .compacted(&ns(), &layer.meta_range_id)
        .await
        .unwrap()
        .expect("a marker");
    let before = f.engine.trees.list_files(&ns()).await.unwrap();
    assert!(before.contains(&format!("_tarn/metarange/{plain}")));
    // Long after: nothing young protects the folded tree's files.
    f.clock.advance(48 * 3_600_000_000);
    for run in ["one", "two"] {
        f.engine
            .gc_mark(&f.repo, run, &GcOptions::default(), &Unobserved)
            .await
            .unwrap();
        f.engine.gc_sweep(&f.repo, run, &Unobserved).await.unwrap();
        f.clock.advance(48 * 3_600_000_000);
    }
    let after = f.engine.trees.list_files(&ns()).await.unwrap();
    let trees = |files: &[String]| -> Vec<String> {
        files
            .iter()
            .filter(|k| {
                ["_tarn/range/", "_tarn/metarange/", "_tarn/compacted/"]
                    .iter()
                    .any(|kind| k.starts_with(kind))
            })
            .cloned()
            .collect()
    };
    assert_eq!(trees(&after), trees(&before), "nothing of the trees went");
    // A fresh engine commits onto the folded tree, reading its files.
    let engine = Engine::new(f.engine.stores.clone(), settings());
    let f = Fixture { engine, ..f };
    f.put("main", "k/999", "late").await;
    let next = f.commit("main", "late").await;
    assert_eq!(overlay_len(&f, &next.meta_range_id).await, 1);
    assert_eq!(f.read("main", "k/000").await.as_deref(), Some("v1-0"));
    assert_eq!(f.read("main", "k/001").await.as_deref(), Some("v0-1"));
}
