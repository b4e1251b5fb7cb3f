//! Engine tests: diff, merge.

use super::*;
use tarn_model::MergeStrategy;

fn diff_paths(page: &Page<DiffItem>) -> Vec<(String, DiffKind)> {
    page.items
        .iter()
        .map(|d| (d.path.clone(), d.kind))
        .collect()
}

#[tokio::test]
async fn diffs_uncommitted_two_dot_and_three_dot() {
    let f = fixture().await;
    for path in ["a/1", "a/2", "b"] {
        f.put("main", path, "v").await;
    }
    f.commit("main", "base").await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("dev", "a/1", "changed").await;
    f.put("dev", "c", "new").await;
    f.engine
        .delete_object(&f.repo, &b("dev"), &p("b"))
        .await
        .unwrap();
    f.put("dev", "a/2", "v").await; // identical: no change
    let req = DiffRequest {
        amount: 100,
        ..Default::default()
    };
    let uncommitted = f
        .engine
        .diff_branch(&f.repo, &b("dev"), &req)
        .await
        .unwrap();
    use DiffKind::*;
    let want = vec![
        ("a/1".to_owned(), Changed),
        ("b".to_owned(), Removed),
        ("c".to_owned(), Added),
    ];
    assert_eq!(diff_paths(&uncommitted), want);
    f.commit("dev", "dev work").await;
    f.put("main", "main-only", "v").await;
    f.commit("main", "main work").await;
    let two = f
        .engine
        .diff_refs(&f.repo, "main", "dev", false, &req)
        .await
        .unwrap();
    let mut want_two = want.clone();
    want_two.push(("main-only".to_owned(), Removed));
    assert_eq!(diff_paths(&two), want_two);
    let three = f
        .engine
        .diff_refs(&f.repo, "main", "dev", true, &req)
        .await
        .unwrap();
    assert_eq!(
        diff_paths(&three),
        want,
        "three-dot ignores what main did since the fork"
    );
    let collapsed = f
        .engine
        .diff_refs(
            &f.repo,
            "main",
            "dev",
            true,
            &DiffRequest {
                delimiter: Some("/".into()),
                ..req.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        diff_paths(&collapsed),
        vec![
            ("a/".to_owned(), PrefixChanged),
            ("b".to_owned(), Removed),
            ("c".to_owned(), Added)
        ]
    );
    let paged = f
        .engine
        .diff_refs(
            &f.repo,
            "main",
            "dev",
            true,
            &DiffRequest {
                amount: 2,
                ..req.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(paged.items.len(), 2);
    assert!(paged.has_more);
    let rest = f
        .engine
        .diff_refs(
            &f.repo,
            "main",
            "dev",
            true,
            &DiffRequest {
                amount: 2,
                after: Some(paged.next_offset),
                ..req
            },
        )
        .await
        .unwrap();
    assert_eq!(diff_paths(&rest), vec![("c".to_owned(), Added)]);
    assert!(!rest.has_more);
}

#[tokio::test]
async fn merge_applies_the_table_and_reports_conflicts() {
    let f = fixture().await;
    for path in ["both", "conflict", "dev-del", "main-del", "same"] {
        f.put("main", path, "base").await;
    }
    f.commit("main", "base").await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("dev", "conflict", "dev").await;
    f.put("dev", "same", "both-agree").await;
    f.put("dev", "dev-new", "dev").await;
    f.engine
        .delete_object(&f.repo, &b("dev"), &p("dev-del"))
        .await
        .unwrap();
    f.commit("dev", "dev").await;
    f.put("main", "conflict", "main").await;
    f.put("main", "same", "both-agree").await;
    f.engine
        .delete_object(&f.repo, &b("main"), &p("main-del"))
        .await
        .unwrap();
    f.commit("main", "main").await;
    let req = MergeRequest {
        committer: "m".into(),
        ..Default::default()
    };
    match f
        .engine
        .merge(&f.repo, "dev", &b("main"), req.clone())
        .await
    {
        Err(Error::Conflict { paths }) => assert_eq!(paths, [p("conflict")]),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let merged = f
        .engine
        .merge(
            &f.repo,
            "dev",
            &b("main"),
            MergeRequest {
                strategy: MergeStrategy::SourceWins,
                ..req.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(merged.parents.len(), 2);
    assert_eq!(merged.message, "Merge 'dev' into 'main'");
    assert_eq!(
        merged
            .metadata
            .get(".lakefs.merge.strategy")
            .map(String::as_str),
        Some("source-wins")
    );
    assert_eq!(
        f.list("main", "", None).await,
        ["both", "conflict", "dev-new", "same"]
    );
    assert_eq!(f.read("main", "conflict").await.as_deref(), Some("dev"));
    assert!(matches!(
        f.engine
            .merge(&f.repo, "dev", &b("main"), req.clone())
            .await,
        Err(Error::NoChanges)
    ));
    f.put("main", "dirty", "x").await;
    f.put("dev", "more", "x").await;
    f.commit("dev", "more").await;
    assert!(matches!(
        f.engine.merge(&f.repo, "dev", &b("main"), req).await,
        Err(Error::DirtyBranch)
    ));
}

#[tokio::test]
async fn merge_of_a_branch_strictly_ahead_takes_its_tree_and_squash_has_one_parent() {
    let f = fixture().await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("dev", "x", "1").await;
    let dev = f.commit("dev", "x").await;
    let req = MergeRequest {
        squash: true,
        ..Default::default()
    };
    let m = f
        .engine
        .merge(&f.repo, "dev", &b("main"), req)
        .await
        .unwrap();
    assert_eq!(m.parents.len(), 1);
    assert_eq!(m.meta_range_id, dev.meta_range_id);
    let dest_wins = f
        .engine
        .find_merge_base(&f.repo, "main", "dev")
        .await
        .unwrap();
    assert_eq!(
        dest_wins.message, "Repository created",
        "squash does not make dev an ancestor"
    );
}

#[tokio::test]
async fn revert_and_cherry_pick_apply_a_commit_s_change() {
    let f = fixture().await;
    f.put("main", "a", "1").await;
    f.commit("main", "a1").await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("main", "a", "2").await;
    f.put("main", "b", "1").await;
    let c2 = f.commit("main", "a2 b1").await;
    f.put("main", "c", "1").await;
    f.commit("main", "c1").await;
    let pick = PickRequest {
        committer: "p".into(),
        ..Default::default()
    };
    f.engine
        .revert(&f.repo, &b("main"), c2.id.as_str(), pick.clone())
        .await
        .unwrap();
    assert_eq!(f.list("main", "", None).await, ["a", "c"]);
    assert_eq!(f.read("main", "a").await.as_deref(), Some("1"));
    let picked = f
        .engine
        .cherry_pick(&f.repo, &b("dev"), c2.id.as_str(), pick.clone())
        .await
        .unwrap();
    assert_eq!(picked.message, "a2 b1");
    assert_eq!(f.list("dev", "", None).await, ["a", "b"]);
    assert_eq!(f.read("dev", "a").await.as_deref(), Some("2"));
    f.put("dev", "dirty", "1").await;
    assert!(matches!(
        f.engine.cherry_pick(&f.repo, &b("dev"), "main", pick).await,
        Err(Error::DirtyBranch)
    ));
}

#[tokio::test]
async fn reverting_a_merge_needs_a_parent_number() {
    let f = fixture().await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("dev", "x", "1").await;
    f.commit("dev", "x").await;
    f.put("main", "y", "1").await;
    f.commit("main", "y").await;
    let m = f
        .engine
        .merge(&f.repo, "dev", &b("main"), MergeRequest::default())
        .await
        .unwrap();
    let no_parent = f
        .engine
        .revert(&f.repo, &b("main"), m.id.as_str(), PickRequest::default())
        .await;
    assert!(
        matches!(
            no_parent,
            Err(Error::InvalidInput {
                field: "parent_number",
                ..
            })
        ),
        "{no_parent:?}"
    );
    let req = PickRequest {
        parent_number: Some(1),
        ..Default::default()
    };
    f.engine
        .revert(&f.repo, &b("main"), m.id.as_str(), req)
        .await
        .unwrap();
    assert_eq!(f.list("main", "", None).await, ["y"]);
}

#[tokio::test]
async fn merging_what_the_destination_already_has_still_records_the_merge() {
    let f = fixture().await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("main", "x", "same").await;
    f.commit("main", "main x").await;
    f.put("dev", "x", "same").await;
    let dev = f.commit("dev", "dev x").await;
    let m = f
        .engine
        .merge(&f.repo, "dev", &b("main"), MergeRequest::default())
        .await
        .unwrap();
    assert_eq!(m.parents[1], dev.id, "the merge is recorded");
    let base = f
        .engine
        .find_merge_base(&f.repo, "dev", "main")
        .await
        .unwrap();
    assert_eq!(base.id, dev.id, "so the next merge base moves");
    let again = f
        .engine
        .merge(&f.repo, "dev", &b("main"), MergeRequest::default())
        .await;
    assert!(matches!(again, Err(Error::NoChanges)), "{again:?}");
    let own = f
        .engine
        .merge(
            &f.repo,
            "main",
            &b("main"),
            MergeRequest {
                allow_empty: true,
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(
            own,
            Err(Error::InvalidInput {
                field: "source",
                ..
            })
        ),
        "{own:?}"
    );
}

#[tokio::test]
async fn cherry_picks_record_their_origin() {
    let f = fixture().await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("dev", "a", "1").await;
    let picked = f.commit("dev", "on dev").await;
    let c = f
        .engine
        .cherry_pick(&f.repo, &b("main"), "dev", PickRequest::default())
        .await
        .unwrap();
    assert_eq!(
        c.metadata.get("cherry-pick-origin"),
        Some(&picked.id.to_string())
    );
    assert_eq!(
        c.metadata.get("cherry-pick-committer").map(String::as_str),
        Some("tester")
    );
    assert_eq!(c.message, "on dev");
}
